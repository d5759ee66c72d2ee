#!/usr/bin/env bash
# Issue 15's figures on the TinyStories slice with a 2-block character transformer (n_embd 64,
# 4 heads, context 64), each against its plain counterpart, per seed:
#  1. soup: a parent trained PARENT CPU-s, 4 fine-tunes of it (FT CPU-s each, each on its own
#     quarter of the training text, so data differ), their uniform soup and greedy soup against
#     the best fine-tune;
#  2. pruning: the parent pruned by global magnitude and by MLP neurons at 0-90% sparsity, without
#     recovery and with RECOVER CPU-s of recovery training (--resume, zeros kept);
#  3. growth: the parent grown from 2 to 4 blocks and trained GROW CPU-s more, against a 4-block
#     model trained from scratch for PARENT+GROW CPU-s; CPU-s each needs to first reach the
#     scratch model's final validation loss (the grown run counts its parent's CPU-s).
# Validation (training curves, greedy selection) on the first half of data/tinystories-valid.txt,
# bits/byte reported on the second half. Budgets are CPU seconds (lmlab's --budget).
# Usage: bench/model_arithmetic.sh ["SEEDS"] [PARENT] [FT] [RECOVER] [GROW]  (defaults "1 2" 30 10 5 30)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1-1 2}
parent_b=${2:-30}
ft_b=${3:-10}
recover_b=${4:-5}
grow_b=${5:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p lmlab-cli
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
echo "budgets (CPU-s): parent $parent_b, fine-tune $ft_b, recovery $recover_b, growth $grow_b"

train=data/tinystories-train.txt
lines=$(wc -l < data/tinystories-valid.txt)
head -n $((lines / 2)) data/tinystories-valid.txt > "$work/dev.txt"
tail -n +$((lines / 2 + 1)) data/tinystories-valid.txt > "$work/test.txt"
total=$(wc -l < "$train")
for i in 1 2 3 4; do
  sed -n "$(((i - 1) * total / 4 + 1)),$((i * total / 4))p" "$train" > "$work/part$i.txt"
done

source bench/char_transformer_config.sh # config N_LAYER SEED
bpb() { "$lmlab" eval "$1" --input "$work/test.txt" --json | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["bits_per_byte"])'; }
fit() { # run text budget [--resume]
  local run=$1 text=$2 budget=$3; shift 3
  "$lmlab" train transformer --config "$run/config.json" --train "$text" --valid "$work/dev.txt" \
    -o "$run" --budget "$budget" "$@" > /dev/null 2>&1
}

for seed in $seeds; do
  s=$work/s$seed
  mkdir -p "$s"
  config 2 "$seed" > "$s/c2.toml"
  config 4 "$seed" > "$s/c4.toml"
  "$lmlab" train transformer --config "$s/c2.toml" --train "$train" --valid "$work/dev.txt" \
    -o "$s/parent" --budget "$parent_b" > /dev/null 2>&1
  echo "== seed $seed: parent (2 blocks) $(bpb "$s/parent") bits/byte"

  yaml="merge_method: linear
models:"
  gyaml="merge_method: greedy_soup
models:"
  ft_line="fine-tunes:"
  best=9
  for i in 1 2 3 4; do
    "$lmlab" grow "$s/parent" --n-layer 2 --n-embd 64 -o "$s/ft$i" > /dev/null
    fit "$s/ft$i" "$work/part$i.txt" "$ft_b" --resume
    b=$(bpb "$s/ft$i")
    ft_line="$ft_line $b"
    best=$(python3 -c "print(min($best, $b))")
    yaml="$yaml
  - model: $s/ft$i
    parameters: {weight: 1}"
    gyaml="$gyaml
  - model: $s/ft$i"
  done
  echo "$yaml" > "$s/soup.yaml"
  printf '%s\nparameters: {validation: %s}\n' "$gyaml" "$work/dev.txt" > "$s/greedy.yaml"
  "$lmlab" merge "$s/soup.yaml" -o "$s/soup" > /dev/null
  "$lmlab" merge "$s/greedy.yaml" -o "$s/greedy" > "$s/greedy.log"
  soup=$(bpb "$s/soup")
  greedy=$(bpb "$s/greedy")
  echo "$ft_line (best $best)"
  echo "uniform soup $soup (soup - best $(python3 -c "print('%+.4f' % ($soup - $best))")); greedy soup $greedy ($(grep -c '^joined' "$s/greedy.log") of 4 joined)"

  echo "sparsity magnitude magnitude+recovery neurons neurons+recovery"
  for sp in 0 0.1 0.3 0.5 0.7 0.9; do
    row="$sp"
    for method in magnitude neurons; do
      out=$s/prune-$method-$sp
      "$lmlab" prune "$s/parent" -o "$out" --method "$method" --sparsity "$sp" > /dev/null
      row="$row $(bpb "$out")"
      fit "$out" "$train" "$recover_b" --resume
      row="$row $(bpb "$out")"
    done
    echo "$row"
  done

  "$lmlab" grow "$s/parent" --n-layer 4 --n-embd 64 -o "$s/grown" > /dev/null
  fit "$s/grown" "$train" "$grow_b" --resume
  "$lmlab" train transformer --config "$s/c4.toml" --train "$train" --valid "$work/dev.txt" \
    -o "$s/scratch4" --budget $((parent_b + grow_b)) > /dev/null 2>&1
  parent_cpu=$(python3 -c "import json,glob,sys; print(max(json.loads(l).get('cpu_seconds',0) for l in open('$s/parent/metrics.jsonl')))")
  python3 - "$s" "$parent_cpu" <<'PY'
import json, sys
s, parent_cpu = sys.argv[1], float(sys.argv[2])
def evals(run, offset):
    return [(m["cpu_seconds"] + offset, m["val_loss"]) for m in map(json.loads, open(f"{s}/{run}/metrics.jsonl")) if m["event"] == "eval"]
grown, scratch = evals("grown", parent_cpu), evals("scratch4", 0.0)
target = scratch[-1][1]
def reach(curve):
    return next(("%.1f" % c for c, v in curve if v <= target), "not reached")
print(f"growth: scratch 4-block final val loss {target:.4f} at {scratch[-1][0]:.1f} CPU-s; grown (parent {parent_cpu:.1f} CPU-s + growth) final {grown[-1][1]:.4f} at {grown[-1][0]:.1f} CPU-s")
print(f"CPU-s to reach {target:.4f}: scratch {reach(scratch)}, grown {reach(grown)}")
PY
  echo "bits/byte on test half: grown $(bpb "$s/grown"), scratch 4-block $(bpb "$s/scratch4")"
done
