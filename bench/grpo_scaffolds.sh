#!/usr/bin/env bash
# Issue 16's figure: test pass@1 by difficulty against CPU-seconds on addition (1-5 digits), from a
# supervised start trained on the worked solutions of the 1-3 digit problems only (so it solves
# the easy problems and none of the 4-5 digit ones), for supervised-only (the start's run resumed
# on the same text at the same compute), GRPO, Scaf-GRPO and decaying hints (RL prompts: the
# training split, every difficulty, no worked solutions), and the fraction of GRPO groups whose
# advantages are all zero over training.
# Usage: bench/grpo_scaffolds.sh [RL_BUDGET] [POINTS] ["SEEDS"] [SFT_BUDGET] [MAX_STEPS]
#        (defaults 60 6 "1 2" 180 1000; a 90 CPU-s start solves 1-2 digits in about half of the
#        seeds, a 180 CPU-s one in all four tried, EXPERIMENTS.md): each arm gets RL_BUDGET CPU-s,
#        evaluated at POINTS equal fractions of it (a run resumed with a larger budget each time); MAX_STEPS sets where the
#        decay schedule and Scaf-GRPO's warm-up (15%) sit. Output in $OUT (default /tmp/grpo-exp);
#        LMLAB=BINARY skips the build. TASK=KIND MAX_DIFFICULTY=D SFT_MAX_DIFFICULTY=S BLOCK=B run
#        it on another task kind (defaults addition 5 3, block 64; sorting's hinted prompts of 8
#        numbers need BLOCK=96).
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-60}
points=${2:-6}
seeds=${3-1 2}
sft_budget=${4:-180}
max_steps=${5:-1000}
out=${OUT:-/tmp/grpo-exp}
. bench/grpo_common.sh task.jsonl "${TASK:-addition}" "${MAX_DIFFICULTY:-5}"
for split in train valid; do
  $lmlab tasks sft "$out/task.jsonl" --split $split --max-difficulty "${SFT_MAX_DIFFICULTY:-3}" \
    --balance --hinted 0.25 \
    -o "$out/$split.txt"
done
sft_config "$out/sft.toml" 1e-2 learned 1 100
$lmlab train transformer --config "$out/sft.toml" --train "$out/train.txt" --valid "$out/valid.txt" \
  -o "$out/sft" --budget "$sft_budget" > /dev/null
sft_cpu=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['cpu_seconds'])" "$out/sft/compute.json")

mkdir -p "$out/evals"
record() { # arm seed cpu: appends the eval JSON on stdin to $out/evals/ARM-SEED.jsonl
  python3 -c '
import json, sys
arm, seed, cpu, path = sys.argv[1:5]
scores = json.load(sys.stdin)
with open(path, "a") as f:
    f.write(json.dumps({"arm": arm, "seed": int(seed), "cpu": float(cpu), "scores": scores}) + "\n")
' "$1" "$2" "$3" "$out/evals/$1-$2.jsonl"
}
$lmlab rl eval "$out/sft" --task "$out/task.jsonl" --json | record start 0 0

# Supervised only: the start's run resumed for the same CPU-seconds (deterministic: one seed).
supervised() {
  cp -r "$out/sft" "$out/sup"
  for k in $(seq 1 "$points"); do
    b=$(python3 -c "print($budget * $k / $points)")
    $lmlab train transformer --config "$out/sft.toml" --train "$out/train.txt" --valid "$out/valid.txt" \
      -o "$out/sup" --resume --budget "$(python3 -c "print($sft_cpu + $b)")" > /dev/null
    $lmlab rl eval "$out/sup" --task "$out/task.jsonl" --json | record supervised 0 "$b"
  done
}

grpo() { # arm seed
  local run="$out/$1-$2"
  for k in $(seq 1 "$points"); do
    b=$(python3 -c "print($budget * $k / $points)")
    resume=$([ "$k" -gt 1 ] && echo --resume || true)
    $lmlab rl grpo "$out/sft" --task "$out/task.jsonl" -o "$run" --scaffold "$1" --seed "$2" \
      --group 8 --prompts 8 --lr 3e-4 --beta 0.04 --max-steps "$max_steps" --budget "$b" $resume \
      2> "$run.k$k.log" > /dev/null
    $lmlab rl eval "$run" --task "$out/task.jsonl" --json | record "$1" "$2" "$b"
  done
}

# Every arm and seed at once (budgets are each process's own CPU-seconds).
supervised &
for seed in $seeds; do
  for arm in none scaf-grpo decay; do
    grpo "$arm" "$seed" &
  done
done
wait
cat "$out"/evals/*.jsonl > "$out/evals.jsonl"

python3 - "$out" <<'PY' | tee "$out/summary.txt"
import json, sys, collections
out = sys.argv[1]
rows = [json.loads(l) for l in open(f"{out}/evals.jsonl")]
diffs = sorted({s["difficulty"] for r in rows for s in r["scores"]})
print("arm         seed  RL CPU-s  " + "  ".join(f"d={d} pass@1" for d in diffs))
for r in rows:
    p = {s["difficulty"]: s["pass_at_1"] for s in r["scores"]}
    print(f"{r['arm']:<11} {r['seed']:>4}  {r['cpu']:>8.1f}  " + "  ".join(f"{p.get(d, float('nan')):>10.3f}" for d in diffs))
print()
print("GRPO training logs: share of groups with all advantages zero (after hints) and with no correct")
print("unguided sample, mean over the steps in each RL CPU-s interval; rescued groups, hinted samples")
import glob, os
edges = sorted({r["cpu"] for r in rows if r["arm"] != "start"})
for log in sorted(glob.glob(f"{out}/*-[0-9]*/grpo_log.jsonl")):
    ev = [json.loads(l) for l in open(log)]
    name = os.path.basename(os.path.dirname(log))
    cells = []
    lo = 0.0
    for hi in edges:
        xs = [e for e in ev if lo < e["cpu_seconds"] <= hi]
        cells.append(f"{sum(e['zero_advantage_groups'] for e in xs) / len(xs):.2f}/{sum(e['all_failed_groups'] for e in xs) / len(xs):.2f}" if xs else "  -  ")
        lo = hi
    print(f"{name:<13} steps {len(ev):>4}  " + " ".join(cells)
          + f"  kl(last) {ev[-1]['kl']:.4f}  rescued {sum(e['rescued_groups'] for e in ev)}  hinted {sum(e['hinted_samples'] for e in ev)}")
PY
