#!/usr/bin/env bash
# The Slurm executor against the local one (issue 19), on a one-node Slurm cluster on this machine
# (bench/slurm_local.sh; needs root and Debian's slurmctld, slurmd, slurm-client and munge), with
# one 20-run experiment on data/tiny-shakespeare.txt split 90/5/5: byte n-grams of orders 2–6, char
# n-grams of orders 2–4, a bigram baseline, uniform, and a tiny byte transformer stopped at 200
# steps for seeds 1–10 (every run deterministic, so both executors must give the same bytes).
#
# 1. Wall time: `--jobs 2` locally against `--executor slurm` on a cluster of 2 CPUs (one CPU per
#    task, so 2 tasks at a time), with the same results: every model and probability file the same
#    bytes, the same final numbers in results.sqlite.
# 2. Overhead per run, submission to record ingested: both executors again one run at a time
#    (`--jobs 1`; a cluster of 1 CPU), and per run (command wall − the runs' own work) / runs, as
#    bench/experiment_overhead.sh counts it: a run's work is its training (the record's
#    compute.wall_seconds) plus its evaluation (end of training to the write of run.json).
# The Slurm runs use the default --poll-seconds (the coordinator looks at the cluster every 2 s);
# the one-at-a-time Slurm run is repeated with --poll-seconds 0.2 (`slurm1fast`) to show how much
# of the overhead is that wait.
# Usage: sudo bench/slurm_vs_local.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/lmlab-slurm-bench.XXXXXX)
cluster="$work/cluster"
trap 'bench/slurm_local.sh stop "$cluster" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cargo build --release -q -p lmlab-cli
lmlab=$(pwd)/${CARGO_TARGET_DIR:-target}/release/lmlab

source bench/experiment_data.sh
split_shakespeare "$work"
cat > "$work/exp.toml" <<'TOML'
name = "slurm-bench"
hypothesis = "higher-order byte n-grams beat a bigram"
budgets = [120]
seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

TOML
experiment_tail 200 >> "$work/exp.toml"

# timed NAME ARGS...: runs `lmlab experiment run` into $work/NAME, prints its wall seconds.
timed() {
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$lmlab" experiment run "$work/exp.toml" --out "$work/$name" "$@" > "$work/$name.log" 2>&1 ||
    { cat "$work/$name.log" >&2; exit 1; }
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.2f}')"
}

start_cluster() { # start_cluster CPUS
  SLURM_LOCAL_CPUS=$1 SLURM_LOCAL_PORT=${SLURM_LOCAL_PORT:-6817} \
    bench/slurm_local.sh start "$cluster" > /dev/null
  export SLURM_CONF="$cluster/slurm.conf"
}

start_cluster 2
local2=$(timed local2 --jobs 2)
slurm2=$(timed slurm2 --executor slurm)
bench/slurm_local.sh stop "$cluster"
start_cluster 1
local1=$(timed local1 --jobs 1)
slurm1=$(timed slurm1 --executor slurm)
slurm1fast=$(timed slurm1fast --executor slurm --poll-seconds 0.2)

python3 - "$work" "$local2" "$slurm2" "$local1" "$slurm1" "$slurm1fast" <<'PY'
import hashlib, os, sqlite3, sys
sys.path.insert(0, "bench")
from runs_work import runs_work
work = sys.argv[1]
local2, slurm2, local1, slurm1, slurm1fast = map(float, sys.argv[2:])
TIMINGS = {"run.json", "compute.json", "metrics.jsonl", "report.json"}

def files(out):
    digests = {}
    for root, _, names in os.walk(os.path.join(out, "runs")):
        for name in names:
            if name not in TIMINGS:
                path = os.path.join(root, name)
                digests[os.path.relpath(path, out)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return digests

def numbers(out):
    db = sqlite3.connect(os.path.join(out, "results.sqlite"))
    return db.execute("SELECT run_id, split, metric, value FROM metrics WHERE step IS NULL "
                      "ORDER BY run_id, split, metric").fetchall()

def work_seconds(out):
    rows = runs_work(out)
    return sum(r[1] + r[2] for r in rows), len(rows)

same = True
for a, b in [("local2", "slurm2"), ("local1", "slurm1"), ("local1", "slurm1fast"),
             ("local2", "local1")]:
    fa, fb = files(os.path.join(work, a)), files(os.path.join(work, b))
    na, nb = numbers(os.path.join(work, a)), numbers(os.path.join(work, b))
    ok = fa == fb and na == nb and len(fa) > 0
    same &= ok
    print(f"{a} vs {b}: {len(fa)} files, {len(na)} final numbers: {'identical' if ok else 'DIFFERENT'}")
runs = work_seconds(os.path.join(work, "slurm2"))[1]
print(f"{runs} runs, 2 at a time: local --jobs 2 {local2:.2f} s, Slurm (2 CPUs) {slurm2:.2f} s, "
      f"ratio Slurm / local {slurm2 / local2:.2f}")
for name, wall in [("local1", local1), ("slurm1", slurm1), ("slurm1fast", slurm1fast)]:
    w, n = work_seconds(os.path.join(work, name))
    print(f"{name}: one at a time, wall {wall:.2f} s, runs' work {w:.2f} s, "
          f"overhead per run {(wall - w) / n:.3f} s")
sys.exit(0 if same else 1)
PY
