#!/usr/bin/env bash
# Issue 16: does the addition start's recipe give the state RL needs — the easy problems solved,
# ~0% of the hardest — on sorting and Countdown too? The same 2-layer, 4-head, 64-wide character
# transformer as bench/grpo_start.sh (lr 1e-2, seed 1), trained SFT_BUDGET CPU-s on the balanced,
# 25%-hinted worked solutions of the easier part of each task file, then greedy test pass@1 by
# difficulty: sorting lists of 2-8 numbers, trained on 2-5; Countdown with 2-4 numbers, trained
# on 2-3 (8000 problems each, seed 1).
# Usage: bench/grpo_start_tasks.sh [SFT_BUDGET] (default 180). Output in $OUT (default
#        /tmp/grpo-start-tasks); LMLAB=BINARY skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
sft_budget=${1:-180}
out=${OUT:-/tmp/grpo-start-tasks}
. bench/grpo_common.sh sorting.jsonl sorting 8
$lmlab tasks make countdown --n 8000 --max-difficulty 4 --seed 1 -o "$out/countdown.jsonl"

run() { # kind hardest-difficulty-trained-on
  for split in train valid; do
    $lmlab tasks sft "$out/$1.jsonl" --split $split --max-difficulty "$2" --balance --hinted 0.25 \
      -o "$out/$1-$split.txt" > /dev/null
  done
  sft_config "$out/$1.toml" 1e-2 learned 1 0
  $lmlab train transformer --config "$out/$1.toml" --train "$out/$1-train.txt" \
    --valid "$out/$1-valid.txt" -o "$out/$1" --budget "$sft_budget" > "$out/$1.log" 2>&1
  $lmlab rl eval "$out/$1" --task "$out/$1.jsonl" --json > "$out/$1.eval.json"
}
run sorting 5 &
run countdown 3 &
wait

python3 - "$out" <<'PY' | tee "$out/summary.txt"
import json, sys
out = sys.argv[1]
print("task       trained on  steps  val loss  test pass@1 by difficulty (solved/problems)")
for kind, trained in (("sorting", "2-5"), ("countdown", "2-3")):
    report = json.load(open(f"{out}/{kind}/report.json"))
    scores = json.load(open(f"{out}/{kind}.eval.json"))
    cells = "  ".join(f"d={s['difficulty']} {s['pass_at_1']:.3f} ({s['solved']}/{s['problems']})" for s in scores)
    print(f"{kind:<10} {trained:<10}  {report.get('steps', '?'):>5}  {report.get('val_loss', float('nan')):.4f}  {cells}")
PY
