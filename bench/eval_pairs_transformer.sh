#!/usr/bin/env bash
# Minimal pairs (BLiMP, 67 paradigms x 1,000 pairs) with a nanoGPT-shape transformer (4 layers, 4 heads,
# width 128, context 64; nanoGPT's shakespeare-char CPU shape), once with characters and once with a
# 4,096-entry byte-level BPE: `lmlab eval-pairs` over all 67,000 pairs, whole process. Prints tokens
# scored, CPU seconds (user + sys, so the thread count shows), wall seconds, tokens per CPU-second, the
# GFLOP/s that implies beside one core's peak (measured by the `peak_flops` example, and the ISA's
# figure: two 8-lane FMA pipes at the clock /proc/cpuinfo gives), and CPU-s / 2 (the wall time two
# idle cores would need). Issue #12's target: under 60 s on 2 cores. The models train for 50 steps
# only: the shape sets the cost, not the quality.
# FLOPs per token: 2 x 12 L d^2 (the blocks' products) + 2 d V (the tied output head) + 4 L d r
# (attention scores and mixing at position r, r = the mean position of a scored token).
# Usage: bench/eval_pairs_transformer.sh   (needs ../shared/data/{blimp,shakespeare,tinystories})
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data
for d in blimp shakespeare tinystories; do [ -d "$data/$d" ] || { echo "missing $data/$d"; exit 1; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p lmlab-cli
cargo build --release -q -p lmlab-neural --example peak_flops
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
config=crates/lmlab-neural/configs/shakespeare_char.toml
head -c 1000000 "$data/shakespeare/input.txt" > "$work/shk-train.txt"
tail -c 100000 "$data/shakespeare/input.txt" > "$work/shk-valid.txt"
"$lmlab" train transformer --config "$config" --max-steps 50 --train "$work/shk-train.txt" \
  --valid "$work/shk-valid.txt" -o "$work/chars" > /dev/null
"$lmlab" tokenizer train --kind bpe --vocab-size 4096 --input "$data/tinystories/train-slice.txt" \
  -o "$work/bpe.json" > /dev/null
sed "s|^tokenizer = \"chars\"|tokenizer = { file = \"$work/bpe.json\" }|" "$config" > "$work/bpe.toml"
"$lmlab" train transformer --config "$work/bpe.toml" --max-steps 50 \
  --train "$data/tinystories/train-slice.txt" --valid "$data/tinystories/valid-slice.txt" \
  -o "$work/bpe" > /dev/null
mhz=$(awk -F: '/cpu MHz/ {print $2; exit}' /proc/cpuinfo)
measured=$("${CARGO_TARGET_DIR:-target}/release/examples/peak_flops" | sed -n 's/^PEAK_FP32_1T=\([0-9.]*\).*/\1/p')
echo "machine: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) CPUs, ${mhz} MHz, load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in chars bpe; do
  /usr/bin/time -f "%U %S %e" -o "$work/time" "$lmlab" eval-pairs "$work/$run" --input "$data/blimp" --json > "$work/$run.json"
  vocab=$("$lmlab" info "$work/$run" | awk '/^arch/ {print $NF}')
  python3 - "$run" "$work/$run.json" "$work/time" "$mhz" "$vocab" "$measured" <<'PY'
import json, sys
run, report, timing, mhz, vocab = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
measured = float(sys.argv[6])
overall = json.load(open(report))["overall"]
user, sys_, wall = map(float, open(timing).read().split())
cpu = user + sys_
L, d = 4, 128
sentences = 2 * overall["pairs"]
mean_len = overall["tokens"] / sentences
flops = 2 * 12 * L * d * d + 2 * d * vocab + 4 * L * d * (mean_len - 1) / 2
rate = overall["tokens"] / cpu
peak = 2 * 8 * 2 * mhz / 1000  # two 8-lane FMA pipes, 2 FLOPs each, per cycle
print(f"{run:5}: {overall['pairs']} pairs, {overall['tokens']} tokens ({mean_len:.1f}/sentence), "
      f"accuracy {overall['accuracy']:.4f}; {cpu:.1f} CPU-s ({user:.1f} user + {sys_:.1f} sys), "
      f"{wall:.1f} s wall ({cpu / wall:.2f} CPUs busy); {rate:,.0f} tokens/CPU-s = "
      f"{rate * flops / 1e9:.1f} GFLOP/s per CPU-second ({flops / 1e6:.2f} MFLOP/token; one core's "
      f"peak {measured:.0f} measured, {peak:.0f} by the ISA); CPU-s / 2 = {cpu / 2:.1f} s -> "
      f"{'meets' if cpu / 2 < 60 else 'misses'} the 60 s target on 2 idle cores")
PY
done
