#!/usr/bin/env bash
# Chunk-distilled generation (CD-LM, issue 14 §3): the byte-level TinyStories transformer target of
# bench/speculative.sh (4 blocks × 256, 128-byte context, STEPS steps of 16 × 128 bytes), chunks built
# on the first CHUNK_BYTES of its training text (threshold 0.3, ≥ 2 tokens after the entry), then
# against the similarity threshold S ∈ {0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1 (off)}:
# - generation: SAMPLES samples × MAX_TOKENS tokens from "Once upon a time" (temperature 1,
#   --ignore-eos, one rayon thread), wall tokens/s from `lmlab generate --json` (generation time
#   only), each S paired with a target-only run just before it (the ratio is within the pair), the
#   fraction of tokens from chunks and target calls per token;
# - perplexity: `lmlab eval --chunks` on the first EVAL_BYTES of the validation slice (held out), all
#   S in one pass, beside the target's own perplexity.
# Writes WORK/points.json and the SVGs (FIGURES, default bench/figures) through the cdlm_plot example.
# WORK=DIR keeps the trained target there and reuses it (WORK=/tmp/spec_bench shares
# bench/speculative.sh's); LMLAB=BINARY skips the build.
# Usage: bench/cdlm.sh [STEPS] [SAMPLES] [MAX_TOKENS] [CHUNK_BYTES] [EVAL_BYTES]
#        (defaults 200 4 200 50000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-200}
samples=${2:-4}
max_tokens=${3:-200}
chunk_bytes=${4:-50000}
eval_bytes=${5:-10000}
threads=${THREADS:-1}
figures=${FIGURES:-bench/figures}
data=../shared/data/tinystories
[ -d "$data" ] || { echo "missing $data"; exit 1; }
work=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
lmlab=${LMLAB:-${CARGO_TARGET_DIR:-target}/release/lmlab}
[ -n "${LMLAB:-}" ] || cargo build --release -q -p lmlab-cli
cargo build --release -q -p lmlab-lab --example cdlm_plot
plot=${CARGO_TARGET_DIR:-target}/release/examples/cdlm_plot
train=$data/train-slice.txt
[ -f "$work/valid.txt" ] || head -c 100000 "$data/valid-slice.txt" > "$work/valid.txt"
head -c "$chunk_bytes" "$train" > "$work/chunk-text.txt"
head -c "$eval_bytes" "$data/valid-slice.txt" > "$work/heldout.txt"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"

source bench/tinystories_target.sh # neural_config LAYERS EMBD (uses $steps)
start=$(date +%s)
if [ ! -f "$work/target/checkpoint.safetensors" ]; then
  neural_config 4 256 > "$work/target.toml"
  "$lmlab" train transformer --config "$work/target.toml" --train "$train" --valid "$work/valid.txt" \
    -o "$work/target" > "$work/target.log"
fi
echo "target: $(grep -m1 Finished "$work/target.log") (trained here in $(( $(date +%s) - start )) s; 0 = reused)"

start=$(date +%s)
"$lmlab" chunks build "$work/target" --input "$work/chunk-text.txt" -o "$work/chunks.lmlab" --json \
  > "$work/build.json"
python3 - "$work/build.json" "$(( $(date +%s) - start ))" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
i = r["info"]
print(f'chunks: {i["occurrences"]} occurrences, {i["distinct_chunks"]} distinct, '
      f'{r["mean_chunk_tokens"]:.2f} tokens each, from {r["tokens"]} tokens in {sys.argv[2]} s')
PY

sims="0.5 0.7 0.8 0.9 0.95 0.99 1"
start=$(date +%s)
RAYON_NUM_THREADS=$threads "$lmlab" eval "$work/target" --input "$work/heldout.txt" \
  --chunks "$work/chunks.lmlab" --similarity "${sims// /,}" --json > "$work/eval.json"
echo "perplexity of $(wc -c < "$work/heldout.txt") held-out bytes, all S: $(( $(date +%s) - start )) s"

# gen ARGS...: one generate call; prints tokens/s, chunk fraction, target calls per token.
gen() {
  RAYON_NUM_THREADS=$threads "$lmlab" generate "$work/target" --num-samples "$samples" \
    --max-tokens "$max_tokens" --ignore-eos --prompt "Once upon a time" --json "$@" > "$work/out.json"
  python3 - "$work/out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r.get("cdlm") or {}
print(f'{r["tokens_per_second"]:.1f} {c.get("chunk_fraction", 0.0):.3f} '
      f'{c.get("target_calls_per_token", 1.0):.3f}')
PY
}

: > "$work/gen.txt"
for s in $sims; do
  read -r base _ _ <<< "$(gen)"
  read -r tps frac calls <<< "$(gen --chunks "$work/chunks.lmlab" --similarity "$s")"
  echo "$s $base $tps $frac $calls" >> "$work/gen.txt"
done

python3 - "$work/eval.json" "$work/gen.txt" "$work/points.json" <<'PY'
import json, sys
ev = {round(row["similarity"], 6): row for row in json.load(open(sys.argv[1]))["cdlm"]}
points = []
print(f'{"S":>5} {"target tok/s":>12} {"CD-LM tok/s":>11} {"ratio":>6} {"from chunks":>11} '
      f'{"calls/token":>11} {"CD-LM ppl":>9} {"target ppl":>10} {"retrieved":>9} {"right":>6}')
for line in open(sys.argv[2]):
    s, base, tps, frac, calls = line.split()
    e = ev[round(float(s), 6)]
    t = e["totals"]
    print(f'{float(s):>5} {float(base):>12.1f} {float(tps):>11.1f} {float(tps) / float(base):>6.2f} '
          f'{float(frac):>11.3f} {float(calls):>11.3f} {e["perplexity"]:>9.3f} '
          f'{e["target_perplexity"]:>10.3f} {e["retrieved_fraction"]:>9.3f} '
          f'{e["retrieved_matching_fraction"]:>6.3f}')
    points.append({"similarity": float(s), "tokens_per_second": float(tps),
                   "target_tokens_per_second": float(base), "perplexity": e["perplexity"],
                   "target_perplexity": e["target_perplexity"]})
json.dump(points, open(sys.argv[3], "w"), indent=1)
PY
"$plot" "$work/points.json" "$figures"
