#!/usr/bin/env bash
# Issue 17's figures: the nanoGPT-shape transformer (shakespeare-char CPU recipe: 4 layers, 4 heads,
# width 128, context 64, batch 12) trained for STEPS steps, twice without and twice with learning-dynamics
# checkpoints every 250 steps (`analysis = { every = 250, batch = "valid" }`), both in one run of
# this script: the CPU-seconds of each (report.json), the ratio, the disk per analysis checkpoint;
# then `lmlab analyze` over all of it (every metric, every layer), timed.
#
# Figures: BENCHMARKS.md, "Learning-dynamics checkpoints" (overhead and analyze time).
#
# Usage: bench/dynamics_overhead.sh [STEPS]   (default 2000, nanoGPT's recipe; THREADS=1 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-2000}
threads=${THREADS:-1}
input=$(cd ../shared/data/shakespeare && pwd)/input.txt
[ -f "$input" ] || { echo "missing $input (../shared)"; exit 1; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p lmlab-cli
lmlab="$target/release/lmlab"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); threads $threads; lmlab $(git rev-parse --short HEAD)"
lines=$(wc -l <"$input")
head -n $((lines * 9 / 10)) "$input" >"$tmp/train.txt"
tail -n +$((lines * 9 / 10 + 1)) "$input" >"$tmp/valid.txt"
config() {
  cat <<TOML
tokenizer = "chars"
sequences = "stream"
[model]
n_layer = 4
n_head = 4
n_embd = 128
block_size = 64
[train]
batch_size = 12
max_steps = $steps
learning_rate = 1e-3
min_lr = 1e-4
warmup_steps = 100
beta2 = 0.99
weight_decay = 0.1
grad_clip = 1.0
seed = 1337
eval_interval = 250
eval_iters = 20
$1
TOML
}
config "" >"$tmp/plain.toml"
config 'analysis = { every = 250, batch = "valid" }' >"$tmp/dynamics.toml"
cpu() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['compute']['cpu_seconds'])" "$1/report.json"; }
# Four trainings in the order plain, analysis, analysis, plain (ABBA), so that a drift over the run
# (the first training was the slower one both times the script ran in a fixed order) cancels.
for run in plain:1 dynamics:1 dynamics:2 plain:2; do
  arm=${run%%:*}
  RAYON_NUM_THREADS=$threads "$lmlab" train transformer --config "$tmp/$arm.toml" --train "$tmp/train.txt" \
    --valid "$tmp/valid.txt" -o "$tmp/$arm-${run##*:}" >/dev/null
  echo "  $arm (#${run##*:}): $(cpu "$tmp/$arm-${run##*:}") CPU-s"
done
plain=$(python3 -c "print($(cpu "$tmp/plain-1") + $(cpu "$tmp/plain-2"))")
dyn=$(python3 -c "print($(cpu "$tmp/dynamics-1") + $(cpu "$tmp/dynamics-2"))")
mv "$tmp/dynamics-1" "$tmp/dynamics"
n=$(ls "$tmp/dynamics/analysis" | grep -c '^step-')
bytes=$(du -cb "$tmp"/dynamics/analysis/step-*.safetensors | tail -1 | cut -f1)
ckpt=$(stat -c %s "$tmp/dynamics/checkpoint.safetensors")
printf 'training CPU-s, two runs each: without analysis %.1f, with %.1f: overhead %.2f%%\n' "$plain" "$dyn" \
  "$(python3 -c "print(($dyn / $plain - 1) * 100)")"
printf 'analysis checkpoints: %d, %.2f MiB each, %.1f MiB in all (the run checkpoint: %.2f MiB)\n' "$n" \
  "$(python3 -c "print($bytes / $n / 2**20)")" "$(python3 -c "print($bytes / 2**20)")" \
  "$(python3 -c "print($ckpt / 2**20)")"
start=$(date +%s.%N)
RAYON_NUM_THREADS=$(nproc) "$lmlab" analyze "$tmp/dynamics"
end=$(date +%s.%N)
printf 'lmlab analyze, all metrics and layers, %d steps: %.1f s wall (%s threads)\n' "$n" \
  "$(python3 -c "print($end - $start)")" "$(nproc)"
