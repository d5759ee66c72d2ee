#!/usr/bin/env bash
# Speculative decoding (issue 14): a byte-level transformer target (4 blocks × 256, 128-byte context)
# trained briefly on the TinyStories train slice, and three drafts over the same bytes tokenizer
# trained on the same text: a modified-KN 4-gram, an IGTree with a 4-byte context, and a 1-block
# transformer (1 × 128). In one run: each draft at K = 2..8, each paired with a target-only run just
# before it, every one the same samples (seeds SEED..SEED+N−1, MAX tokens each, no stop at the end
# token) at temperature 1 and greedy; prints wall tokens/s of both, the ratio within the pair, the
# acceptance rate, target calls per token and CPU-s per wall-s (target-only/speculative), from
# `lmlab generate --json` (generation time only, models loaded before the clock), and the GFLOP/s
# the best target-only rate implies.
# Generation runs on one rayon thread for every side (THREADS=2: the KV steps' products split with a
# helper thread on both sides). REPEATS=N runs each pair N times, alternated, and shows the pair with
# the median ratio (single pairs move by ±20% on a shared VM).
# WORK=DIR keeps the trained models there and reuses them on the next run; LMLAB=BINARY skips the build.
# Usage: bench/speculative.sh [STEPS] [SAMPLES] [MAX_TOKENS]   (defaults 200 4 256)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-200}
samples=${2:-4}
max_tokens=${3:-256}
threads=${THREADS:-1}
repeats=${REPEATS:-1}
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
echo "models trained in $(( $(date +%s) - start )) s (target: $steps steps of 16 × 128 bytes)"
for m in target t1; do
  echo "$m: $(tail -n 1 "$work/$m.log")"
done

# run NAME ARGS...: one generate call; prints tokens/s, acceptance, calls/token, CPU-s per wall-s.
run() {
  RAYON_NUM_THREADS=$threads "$lmlab" generate "$work/target" --num-samples "$samples" --max-tokens "$max_tokens" --ignore-eos \
    --prompt "Once upon a time" --json "$@" > "$work/out.json"
  python3 - "$work/out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["speculative"] or {}
print(f'{r["tokens_per_second"]:.1f} {s.get("acceptance_rate", float("nan")):.3f} '
      f'{s.get("target_calls_per_token", 1.0):.3f} {r["cpu_seconds"] / r["seconds"]:.2f}')
PY
}

# Physics: a target token costs about 2 FLOP per parameter (a multiply-add per weight of its
# products; the position table, 1% of them, is only read); printed at the best target-only rate, to
# hold against examples/peak_flops.
params=$(grep -o '[0-9]* parameters' "$work/target.log" | tail -n 1 | cut -d' ' -f1)
best_base=0

# Each draft run is paired with a target-only run just before it (the ratio is within the pair), so a
# change of load on the shared machine between pairs does not enter the ratios.
for mode in sample greedy; do
  flags=()
  [ "$mode" = greedy ] && flags=(--greedy)
  echo
  echo "== $mode"
  printf '%-6s %2s %10s %10s %7s %10s %12s %9s\n' draft K target-only tokens/s ratio acceptance calls/token cpu/wall
  for draft in kn4.lmlab ig4.lmlab t1; do
    for k in 2 3 4 5 6 7 8; do
      # REPEATS pairs, alternated; the cell shows the pair with the median ratio.
      pairs=()
      for _ in $(seq "$repeats"); do
        read -r base _ _ base_cpu <<< "$(run "${flags[@]}")"
        read -r tps acc calls cpu <<< "$(run "${flags[@]}" --draft "$work/$draft" --draft-tokens "$k")"
        pairs+=("$(python3 -c "print(f'{$tps / $base:.2f}')") $base $tps $base_cpu $cpu")
      done
      read -r ratio base tps base_cpu cpu <<< "$(printf '%s\n' "${pairs[@]}" | sort -n | sed -n "$(( (repeats + 1) / 2 ))p")"
      best_base=$(python3 -c "print(max($best_base, $base))")
      printf '%-6s %2d %10s %10s %7s %10s %12s %4s/%-4s\n' "${draft%.lmlab}" "$k" "$base" "$tps" "$ratio" "$acc" "$calls" "$base_cpu" "$cpu"
    done
  done
done
echo
python3 -c "print(f'best target-only rate {$best_base:.0f} tokens/s x 2 x $params FLOP = {2 * $params * $best_base / 1e9:.1f} GFLOP/s on $threads thread(s) (one core peak: examples/peak_flops)')"
