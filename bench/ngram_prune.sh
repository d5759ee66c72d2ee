#!/usr/bin/env bash
# Pruning a finished n-gram model: size against perplexity. Trains lmlab's 5-gram (interpolated
# modified Kneser-Ney) on PTB train, then prunes it with `lmlab ngram prune`:
#   - by relative entropy (Stolcke 1998, SRILM's -prune) at the thresholds ENTROPY (default
#     "1e-8 1e-7 1e-6");
#   - by counts (lmplz's --prune thresholds, counted again from PTB train) at COUNTS (default
#     "0 0 1;0 1 1;0 1 2;0 2 3", ';' between settings);
#   - and, beside them, lmlab's build-time count pruning (`train ngram --prune`, lmplz's) at the
#     same COUNTS settings.
# For each model: n-grams per order, total n-grams, model file bytes, perplexity on PTB test
# (`lmlab eval`, `<unk>` rewritten to `<oov>` in both texts as bench/ngram_vs_kenlm.sh does).
# Usage: bench/ngram_prune.sh   (WORK=DIR for the models, default a fresh dir under /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=$(cd ../shared && pwd)
ptb=$shared/data/ptb
[ -f "$ptb/ptb.train.txt" ] || { echo "no PTB under $ptb; nothing to measure" >&2; exit 0; }
cargo build --release -q -p lmlab-cli
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
work=${WORK:-$(mktemp -d /tmp/ngram-prune.XXXXXX)}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
sed 's/<unk>/<oov>/g' "$ptb/ptb.train.txt" > "$work/train.txt"
sed 's/<unk>/<oov>/g' "$ptb/ptb.test.txt" > "$work/test.txt"
entropy=${ENTROPY:-1e-8 1e-7 1e-6}
counts=${COUNTS:-0 0 1;0 1 1;0 1 2;0 2 3}

echo "lmlab $("$lmlab" --version | awk '{print $2}'); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores"
"$lmlab" train ngram --order 5 --input "$work/train.txt" -o "$work/full.lmlab" > /dev/null

# One row: label, then the model's n-grams, bytes and test perplexity.
row() {
  local label=$1 model=$2
  local json ppl ngrams
  json=$("$lmlab" eval "$model" --input "$work/test.txt" --json)
  ppl=$(echo "$json" | sed -n 's/.*"perplexity": *\([0-9.]*\).*/\1/p' | head -1)
  ngrams=$("$lmlab" info "$model" | grep -o '[0-9]* n-grams: [0-9/]*' | head -1)
  printf '%-34s %-44s %10d %10.2f\n' "$label" "$ngrams" "$(stat -c %s "$model")" "$ppl"
}

printf '%-34s %-44s %10s %10s\n' "model" "n-grams (per order)" "bytes" "test PPL"
row "unpruned" "$work/full.lmlab"
for t in $entropy; do
  /usr/bin/time -f "%U %S" -o "$work/time.txt" \
    "$lmlab" ngram prune "$work/full.lmlab" -o "$work/entropy.lmlab" --entropy "$t" > /dev/null
  row "entropy $t ($(awk '{printf "%.1f", $1 + $2}' "$work/time.txt") CPU-s)" "$work/entropy.lmlab"
done
IFS=';' read -r -a settings <<< "$counts"
for c in "${settings[@]}"; do
  # shellcheck disable=SC2086 # the thresholds are separate arguments
  "$lmlab" ngram prune "$work/full.lmlab" -o "$work/count.lmlab" --count $c --input "$work/train.txt" > /dev/null
  row "count $c (post-hoc)" "$work/count.lmlab"
  # shellcheck disable=SC2086
  "$lmlab" train ngram --order 5 --prune $c --input "$work/train.txt" -o "$work/built.lmlab" > /dev/null
  row "count $c (build-time, lmplz's)" "$work/built.lmlab"
done
