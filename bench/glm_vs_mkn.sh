#!/usr/bin/env bash
# The generalized language model (`lmlab train glm`, Pickhardt et al. 2014) against lmlab's own
# modified Kneser-Ney (`lmlab train ngram`) of the same order, side by side in one run:
#   - test perplexity (`lmlab eval`, OOVs included as `<unk>`) at orders 3, 4, 5, trained on the
#     first 1%, 10% and 100% of the lines of PTB train (test: the whole PTB test), and on the
#     TinyStories slice (test: its valid slice);
#   - build CPU seconds (user + sys of the whole `lmlab train` process, /usr/bin/time) and their
#     ratio GLM / MKN;
#   - query speed: `lmlab eval` of PTB test repeated REPEATS times (default 10: ~0.8M tokens, </s> included) with
#     the full-PTB order-5 models, tokens per CPU-second of the whole process (loading included);
#     and the GLM's two query paths on the same tokens in one process (the `glm_query` example:
#     token by token through `prob`, and grouped through `log_probs_batch`), loading excluded;
#   - the EM ensemble of the two order-5 PTB models (weights on PTB valid, perplexity on PTB test).
# Both sides use --discount-fallback (the 1% slice has patterns whose closed-form discounts are
# out of range) and one words tokenizer per corpus, learned from its whole training text (PTB's
# 10k vocabulary for every fraction), so the perplexities of the fractions share one vocabulary.
# Usage: bench/glm_vs_mkn.sh   ORDERS="3 4 5", FRACTIONS="1 10 100" to narrow it; REPEATS=N; WORK=DIR for
# temporary files (default: a fresh dir under /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${ORDERS:-3 4 5}
fractions=${FRACTIONS:-1 10 100}
repeats=${REPEATS:-10}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 1; }
shared=$(cd ../shared && pwd)
ptb=$shared/data/ptb
stories=$shared/data/tinystories
cargo build --release -q -p lmlab-cli
cargo build --release -q -p lmlab-ngram --example glm_query
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
work=${WORK:-$(mktemp -d /tmp/glm-bench.XXXXXX)}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

echo "lmlab $("$lmlab" --version | awk '{print $2}'), $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"

# Runs a command under /usr/bin/time; prints its CPU seconds (user + sys).
cpu() {
  /usr/bin/time -f "%U %S" -o "$work/time.txt" "$@" > "$work/out.txt" 2> "$work/err.txt" || {
    echo "FAILED: $*" >&2; cat "$work/err.txt" >&2; exit 1; }
  awk '{printf "%.3f", $1 + $2}' "$work/time.txt"
}
ppl() { "$lmlab" eval "$1" --input "$2" --json 2>/dev/null | sed -n 's/.*"perplexity": *\([0-9.]*\).*/\1/p' | head -1; }

# One comparison: corpus label, training text, test text, order, tokenizer file.
compare() {
  local label=$1 train=$2 test=$3 n=$4 tok=$5
  local kn=$work/kn.lmlab glm=$work/glm.lmlab
  local kn_cpu glm_cpu kn_ppl glm_ppl
  kn_cpu=$(cpu "$lmlab" train ngram --order "$n" --input "$train" -o "$kn" --tokenizer-file "$tok" --discount-fallback)
  glm_cpu=$(cpu "$lmlab" train glm --order "$n" --input "$train" -o "$glm" --tokenizer-file "$tok" --discount-fallback)
  kn_ppl=$(ppl "$kn" "$test")
  glm_ppl=$(ppl "$glm" "$test")
  awk -v l="$label" -v n="$n" -v kp="$kn_ppl" -v gp="$glm_ppl" -v kc="$kn_cpu" -v gc="$glm_cpu" 'BEGIN {
    printf "%-16s %5d %10.2f %10.2f %+8.2f%% %9.2f %9.2f %7.2fx\n", l, n, kp, gp, 100 * (gp - kp) / kp, kc, gc, gc / kc }'
}

printf "%-16s %5s %10s %10s %9s %9s %9s %8s\n" corpus order "MKN ppl" "GLM ppl" "GLM-MKN" "MKN CPU-s" "GLM CPU-s" "CPU x"
lines=$(wc -l < "$ptb/ptb.train.txt")
"$lmlab" tokenizer train --kind words --input "$ptb/ptb.train.txt" -o "$work/ptb.tok.json" > /dev/null
"$lmlab" tokenizer train --kind words --input "$stories/train-slice.txt" -o "$work/stories.tok.json" > /dev/null
for f in $fractions; do
  head -n $((lines * f / 100)) "$ptb/ptb.train.txt" > "$work/train.txt"
  for n in $orders; do
    compare "PTB ${f}%" "$work/train.txt" "$ptb/ptb.test.txt" "$n" "$work/ptb.tok.json"
  done
done
for n in $orders; do
  compare "TinyStories" "$stories/train-slice.txt" "$stories/valid-slice.txt" "$n" "$work/stories.tok.json"
done

# Query speed and the ensemble, order 5 on full PTB.
"$lmlab" train ngram --order 5 --input "$ptb/ptb.train.txt" -o "$work/kn5.lmlab" --tokenizer words > /dev/null 2>&1
"$lmlab" train glm --order 5 --input "$ptb/ptb.train.txt" -o "$work/glm5.lmlab" --tokenizer words > /dev/null 2>&1
for i in $(seq "$repeats"); do cat "$ptb/ptb.test.txt"; done > "$work/test-repeated.txt"
tokens=$(( $(wc -w < "$work/test-repeated.txt") + $(wc -l < "$work/test-repeated.txt") ))
for m in kn5 glm5; do
  c=$(cpu "$lmlab" eval "$work/$m.lmlab" --input "$work/test-repeated.txt")
  awk -v m="$m" -v t="$tokens" -v c="$c" 'BEGIN { printf "query %-5s %d tokens in %.2f CPU-s: %.3f M tokens/CPU-s\n", m, t, c, t / c / 1e6 }'
done
"${CARGO_TARGET_DIR:-target}/release/examples/glm_query" "$work/glm5.lmlab" "$ptb/ptb.test.txt" "$repeats"
for m in kn5 glm5; do
  "$lmlab" eval "$work/$m.lmlab" --input "$ptb/ptb.valid.txt" --probs "$work/$m.valid.tsv" > /dev/null 2>&1
  "$lmlab" eval "$work/$m.lmlab" --input "$ptb/ptb.test.txt" --probs "$work/$m.test.tsv" > /dev/null 2>&1
done
echo "EM ensemble of the order-5 PTB models (weights fitted on PTB valid):"
"$lmlab" ensemble --dev "$work/kn5.valid.tsv" "$work/glm5.valid.tsv" --test "$work/kn5.test.tsv" "$work/glm5.test.tsv"
