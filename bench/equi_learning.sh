#!/usr/bin/env bash
# Issue 17 §3 and §4 at equal compute: transformers with 2, 4 and 6 blocks and a 3-layer LSTM (width
# 96, context 64, batch 12, character tokens) trained on Shakespeare for the same CPU-second budget
# each (BUDGET, one thread), with learning-dynamics checkpoints every EVERY steps; then, per run,
# He & Su's equi-learning law at every saved step (`lmlab analyze RUN --law`) and the agreement
# with a modified Kneser-Ney character 5-gram (fallback discounts: 65 characters leave MKN too few
# singleton counts to estimate them) over the run's tokenizer on held-out lines
# (`lmlab analyze RUN --agree-with kn5.lmlab --input heldout.txt`). Prints one summary table per
# question (bench/equi_learning_summary.py) and copies each run's law and agreement plots to
# OUT/plots/ (default target/equi_learning).
#
# Figures: EXPERIMENTS.md, "Experiment 7".
#
# Usage: bench/equi_learning.sh [BUDGET]   (default 20 CPU-s per run; EVERY=100; LINES=300)
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-20}
every=${EVERY:-100}
heldout_lines=${LINES:-300}
input=$(cd ../shared/data/shakespeare && pwd)/input.txt
[ -f "$input" ] || { echo "missing $input (../shared)"; exit 1; }
target=${CARGO_TARGET_DIR:-target}
out=${OUT:-$target/equi_learning}
cargo build --release -q -p lmlab-cli
lmlab="$target/release/lmlab"
rm -rf "$out"
mkdir -p "$out/plots"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); lmlab $(git rev-parse --short HEAD); budget $budget CPU-s per run, analysis every $every steps"
lines=$(wc -l <"$input")
head -n $((lines * 9 / 10)) "$input" >"$out/train.txt"
tail -n +$((lines * 9 / 10 + 1)) "$input" >"$out/valid.txt"
# Held-out lines for the agreement: the validation text's first non-empty lines.
awk -v n="$heldout_lines" 'NF && k < n { print; k++ }' "$out/valid.txt" >"$out/heldout.txt"
config() { # ARCH N_LAYER
  cat <<TOML
tokenizer = "chars"
sequences = "stream"
[model]
arch = "$1"
n_layer = $2
n_head = 4
n_embd = 96
block_size = 64
[train]
batch_size = 12
max_steps = 100000
learning_rate = 1e-3
min_lr = 1e-4
warmup_steps = 50
beta2 = 0.99
weight_decay = 0.1
grad_clip = 1.0
seed = 1337
eval_interval = 100000
eval_iters = 20
analysis = { every = $every, batch = "valid" }
TOML
}
runs=(tf2:transformer:2 tf4:transformer:4 tf6:transformer:6 lstm3:lstm:3)
for spec in "${runs[@]}"; do
  IFS=: read -r name arch layers <<<"$spec"
  config "$arch" "$layers" >"$out/$name.toml"
  RAYON_NUM_THREADS=1 "$lmlab" train "$arch" --config "$out/$name.toml" --train "$out/train.txt" \
    --valid "$out/valid.txt" -o "$out/$name" --budget "$budget" >/dev/null
  echo "  trained $name: $(ls "$out/$name/analysis" | grep -c '^step-') analysis checkpoints"
done
# Every run's character tokenizer is learned from the same text: one file serves the 5-gram.
for spec in "${runs[@]}"; do
  cmp -s "$out/tf2/tokenizer.json" "$out/${spec%%:*}/tokenizer.json" || {
    echo "the runs' tokenizers differ"
    exit 1
  }
done
"$lmlab" train ngram --order 5 --input "$out/train.txt" --tokenizer-file "$out/tf2/tokenizer.json" \
  -o "$out/kn5.lmlab" --discount-fallback >/dev/null
for spec in "${runs[@]}"; do
  name=${spec%%:*}
  "$lmlab" analyze "$out/$name" --law >/dev/null
  "$lmlab" analyze "$out/$name" --agree-with "$out/kn5.lmlab" --input "$out/heldout.txt" >/dev/null
  for plot in law agreement-context agreement-step kl-context; do
    cp "$out/$name/analysis/plots/$plot.svg" "$out/plots/$name-$plot.svg"
  done
done
python3 bench/equi_learning_summary.py "$out" "${runs[@]%%:*}"
