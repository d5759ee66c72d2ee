#!/usr/bin/env bash
# Speculative decoding (issue 14): a byte-level transformer target (4 blocks × 256, 128-byte context)
# trained briefly on the TinyStories train slice, and four drafts over the same bytes tokenizer:
# trained on the same text, a modified-KN 4-gram, an IGTree with a 4-byte context and a 1-block
# transformer (1 × 128); and `igd5`, an IGTree with 5 bytes of context trained on the target's own
# samples instead.
# In one run: each draft at K = 2..8 against target-only generation of the same samples (seeds
# 0..N−1, MAX tokens each after "Once upon a time", no stop at the end token) at temperature 1 and
# greedy, paired sample by sample in one process (examples/speculative_pairs, the library calls
# `lmlab generate` makes; models loaded before the clock); prints tokens/s of both, the median over
# ROUNDS (default 3) of their ratio, the acceptance rate, target calls per token and CPU-s per
# wall-s (target-only/speculative), and the GFLOP/s the best target-only rate implies. Pairs of
# separate `lmlab generate` processes, as before, moved by ±20% from one rerun to the next on a
# shared VM; in-process pairs move by a few percent.
# Generation runs on one rayon thread for every side (THREADS=2: the KV steps' products split with a
# helper thread on both sides).
# WORK=DIR keeps the trained models there and reuses them on the next run; LMLAB=BINARY skips the
# CLI's build (it trains the models), PAIRS=BINARY the example's.
# Usage: bench/speculative.sh [STEPS] [SAMPLES] [MAX_TOKENS]   (defaults 200 4 256)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-200}
samples=${2:-4}
max_tokens=${3:-256}
threads=${THREADS:-1}
rounds=${ROUNDS:-3}
data=../shared/data/tinystories
[ -d "$data" ] || { echo "missing $data"; exit 1; }
work=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
lmlab=${LMLAB:-${CARGO_TARGET_DIR:-target}/release/lmlab}
[ -n "${LMLAB:-}" ] || cargo build --release -q -p lmlab-cli
train=$data/train-slice.txt
head -c 100000 "$data/valid-slice.txt" > "$work/valid.txt"

source bench/tinystories_target.sh # neural_config LAYERS EMBD (uses $steps)
neural_config 4 256 > "$work/target.toml"
neural_config 1 128 > "$work/draft.toml"
start=$(date +%s)
[ -f "$work/target/checkpoint.safetensors" ] || "$lmlab" train transformer --config "$work/target.toml" \
  --train "$train" --valid "$work/valid.txt" -o "$work/target" > "$work/target.log"
[ -f "$work/t1/checkpoint.safetensors" ] || "$lmlab" train transformer --config "$work/draft.toml" \
  --train "$train" --valid "$work/valid.txt" -o "$work/t1" > "$work/t1.log"
[ -f "$work/kn4.lmlab" ] || "$lmlab" train ngram --order 4 --tokenizer bytes --sequences stream \
  --discount-fallback --input "$train" -o "$work/kn4.lmlab" > /dev/null
[ -f "$work/ig4.lmlab" ] || "$lmlab" train memory --algorithm igtree --context 4 --tokenizer bytes \
  --sequences stream --input "$train" -o "$work/ig4.lmlab" > /dev/null
# A distilled draft (DistillSpec's on-policy data, Zhou et al. 2023): an IGTree with 5 bytes of
# context trained only on the target's own samples, DISTILL (default 10,000) × 256 tokens at
# temperature 1 from the bench's prompt, seeds from 1,000,000 (the bench's samples use seeds
# 0..N−1), with generation on all cores.
distill=${DISTILL:-10000}
if [ ! -f "$work/igd5.lmlab" ]; then
  : > "$work/distill.txt"
  for (( from = 0; from < distill; from += 4000 )); do # `generate` takes up to 10,000 samples a call
    "$lmlab" generate "$work/target" --num-samples $(( distill - from < 4000 ? distill - from : 4000 )) \
      --max-tokens 256 --ignore-eos --prompt "Once upon a time" --seed $(( 1000000 + from )) --json \
      > "$work/distill.json"
    python3 -c 'import json, sys; print("\n".join(s["text"] for s in json.load(open(sys.argv[1]))["samples"]))' \
      "$work/distill.json" >> "$work/distill.txt"
  done
  "$lmlab" train memory --algorithm igtree --context 5 --tokenizer bytes --sequences stream \
    --input "$work/distill.txt" -o "$work/igd5.lmlab" > /dev/null
fi
echo "models trained in $(( $(date +%s) - start )) s (target: $steps steps of 16 × 128 bytes)"
for m in target t1; do
  echo "$m: $(tail -n 1 "$work/$m.log")"
done

# The pairs: `speculative_pairs` (crates/lmlab-lab/examples) loads the target and a draft once and,
# for each seed, generates the target-only sample and the speculative one back to back (the first
# alternating), so both sides of every pair meet the same machine; ROUNDS passes over the seeds, the
# ratio of their times per round, its median shown. Under greedy decoding it also checks that every
# speculative sample is the target's own, token for token.
pairs=${PAIRS:-${CARGO_TARGET_DIR:-target}/release/examples/speculative_pairs}
[ -n "${PAIRS:-}" ] || cargo build --release -q -p lmlab-lab --example speculative_pairs

# Physics: a target token costs about 2 FLOP per parameter (a multiply-add per weight of its
# products; the position table, 1% of them, is only read); printed at the best target-only rate, to
# hold against examples/peak_flops.
params=$(grep -o '[0-9]* parameters' "$work/target.log" | tail -n 1 | cut -d' ' -f1)
best_base=0

for mode in sample greedy; do
  echo
  echo "== $mode"
  printf '%-6s %2s %10s %10s %7s %10s %12s %9s\n' draft K target-only tokens/s ratio acceptance calls/token cpu/wall
  for draft in kn4.lmlab ig4.lmlab t1 igd5.lmlab; do
    for k in 2 3 4 5 6 7 8; do
      read -r base tps ratio acc calls cpu <<< "$(RAYON_NUM_THREADS=$threads "$pairs" "$work/target" \
        "$work/$draft" "$k" "$mode" "$samples" "$max_tokens" "$rounds")"
      best_base=$(python3 -c "print(max($best_base, $base))")
      printf '%-6s %2d %10s %10s %7.2f %10s %12s %9s\n' "${draft%.lmlab}" "$k" "$base" "$tps" "$ratio" "$acc" "$calls" "$cpu"
    done
  done
done
echo
python3 -c "print(f'best target-only rate {$best_base:.0f} tokens/s x 2 x $params FLOP = {2 * $params * $best_base / 1e9:.1f} GFLOP/s on $threads thread(s) (one core peak: examples/peak_flops)')"
