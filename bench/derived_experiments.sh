#!/usr/bin/env bash
# Issue 15's experiment files (experiments/model-soup.toml, pruning.toml, growth.toml,
# distillation.toml) run side by side with the experiment runner, then their tables
# (bench/derived_experiments.py) with the machine, load, date and commit.
# Usage: bench/derived_experiments.sh [OUT]   (default experiments/out; finished runs are kept)
# Data: experiments/prepare.sh. LMLAB: the lmlab binary (default: a release build of this tree).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-experiments/out}
if [ -z "${LMLAB:-}" ]; then
  cargo build --release -q -p lmlab-cli
  LMLAB=${CARGO_TARGET_DIR:-target}/release/lmlab
fi
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); commit $(git rev-parse --short HEAD)"
mkdir -p "$out"
start=$(date +%s)
pids=()
for e in growth:1 distillation:1 model-soup:1 pruning:2; do
  name=${e%%:*} jobs=${e##*:}
  "$LMLAB" experiment run "experiments/$name.toml" --out "$out/$name" --jobs "$jobs" \
    > "$out/$name.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
echo "wall: $(( $(date +%s) - start )) s; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
for e in model-soup pruning growth distillation; do
  echo; echo "## $e"
  python3 bench/derived_experiments.py "${e%-*}" "$out/$e" || status=1
done
# CPU seconds of every run (own, not charged twice).
python3 - "$out" <<'PY'
import glob, json, sys
total = sum(json.load(open(p))["record"]["compute"]["cpu_seconds"]
            for p in glob.glob(sys.argv[1] + "/*/runs/*/run.json"))
print(f"\nCPU seconds of all runs' training (each run's own): {total:.0f}")
PY
exit $status
