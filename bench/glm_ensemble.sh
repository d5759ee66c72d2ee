#!/usr/bin/env bash
# Issue #13's ensemble figure: the EM mixture of an order-5 GLM, an order-5 modified Kneser-Ney model
# and a small transformer on PTB, against each member. All three share one words tokenizer learned
# from ptb.train (so their probability files cover the same token stream, which `lmlab ensemble`
# checks); every model scores ptb.valid (EM weights) and ptb.test (reported) one line per sequence.
# The transformer is nanoGPT's shakespeare-char CPU shape (4 layers, 4 heads, width 128, context 64)
# over the 10k-word vocabulary, trained for BUDGET CPU-seconds (default 600).
# Usage: bench/glm_ensemble.sh   (needs ../shared/data/ptb; BUDGET=N to change the transformer's)
set -euo pipefail
cd "$(dirname "$0")/.."
ptb=$(cd ../shared/data/ptb && pwd)
budget=${BUDGET:-600}
cargo build --release -q -p lmlab-cli
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
work=${WORK:-$(mktemp -d /tmp/glm-ensemble.XXXXXX)}
mkdir -p "$work"
echo "lmlab $("$lmlab" --version | awk '{print $2}'), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
"$lmlab" tokenizer train --kind words --input "$ptb/ptb.train.txt" -o "$work/tok.json" > /dev/null
"$lmlab" train ngram --order 5 --input "$ptb/ptb.train.txt" --tokenizer-file "$work/tok.json" \
  -o "$work/mkn.lmlab" > /dev/null
"$lmlab" train glm --order 5 --input "$ptb/ptb.train.txt" --tokenizer-file "$work/tok.json" \
  -o "$work/glm.lmlab" > /dev/null
sed -e "s|^tokenizer = \"chars\"|tokenizer = { file = \"$work/tok.json\" }|" \
  -e 's|^sequences = "stream"|sequences = "line"|' -e 's|^max_steps = .*|max_steps = 1000000|' \
  -e 's|^lr_decay_steps = .*|lr_decay_steps = 20000|' \
  crates/lmlab-neural/configs/shakespeare_char.toml > "$work/transformer.toml"
"$lmlab" train transformer --config "$work/transformer.toml" --train "$ptb/ptb.train.txt" \
  --valid "$ptb/ptb.valid.txt" --budget "$budget" -o "$work/transformer" --force > "$work/train.log" 2>&1
echo "transformer: $(grep -E 'stop|val loss' "$work/train.log" | tail -2 | tr '\n' ' ')"
for m in mkn.lmlab glm.lmlab transformer; do
  for split in valid test; do
    "$lmlab" eval "$work/$m" --input "$ptb/ptb.$split.txt" --sequences line \
      --probs "$work/$m.$split.probs.tsv" > /dev/null
  done
done
"$lmlab" ensemble --dev "$work"/{mkn.lmlab,glm.lmlab,transformer}.valid.probs.tsv \
  --test "$work"/{mkn.lmlab,glm.lmlab,transformer}.test.probs.tsv
for pair in "mkn.lmlab glm.lmlab" "mkn.lmlab transformer"; do
  set -- $pair
  echo "-- $1 + $2"
  "$lmlab" ensemble --dev "$work/$1.valid.probs.tsv" "$work/$2.valid.probs.tsv" \
    --test "$work/$1.test.probs.tsv" "$work/$2.test.probs.tsv"
done
