#!/usr/bin/env bash
# `lmlab report` on a store of 10,000 synthetic runs (issue 11 §4: "under 2 s").
#
# usage: bench/report_synthetic.sh TEMPLATE_DIR [RUNS] [REPEATS]
#   TEMPLATE_DIR: a finished experiment folder (lmlab experiment run ... --out DIR) with at least one
#   budgeted (neural) run and one count-based run; its experiment.json and run.json files are the
#   templates. RUNS synthetic run.json files (default 10000) are written to a scratch folder: 20 arms
#   × 10 budgets × seeds, with made-up scores on a power law and learning curves, and no probability
#   files, so the report says the bootstrap needs them and skips it. The report is timed REPEATS
#   times (default 5) with the release binary; the median is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
template=${1:?usage: bench/report_synthetic.sh TEMPLATE_DIR [RUNS] [REPEATS]}
runs=${2:-10000}
repeats=${3:-5}
cargo build --release -p lmlab-cli --quiet
lmlab=$PWD/target/release/lmlab
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$template" "$work/exp" "$runs" <<'PY'
import json, os, random, sys, glob, copy
template, out, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
state = json.load(open(os.path.join(template, "experiment.json")))
# Data paths recorded relative (an experiment run from its own folder) are taken relative to the
# template folder's parent, so that the report reads the texts and reaches the probability files.
base = os.path.dirname(os.path.abspath(template))
for split, path in state["spec"]["data"].items():
    if not os.path.isabs(path):
        state["spec"]["data"][split] = os.path.join(base, path)
entries = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(template, "runs", "*", "run.json")))]
neural = next(e for e in entries if e["record"]["recipe"].get("budget_cpu_seconds"))
counted = [e for e in entries if not e["record"]["recipe"].get("budget_cpu_seconds")]
os.makedirs(os.path.join(out, "runs"))
json.dump(state, open(os.path.join(out, "experiment.json"), "w"))
rng = random.Random(11)
arms, budgets = 20, [2.0 ** k for k in range(10)]
seeds = max(1, -(-(total - len(counted)) // (arms * len(budgets))))
n = 0
def write(entry):
    global n
    entry["id"] = "%016x" % n
    entry["record"]["artifacts"] = {}
    d = os.path.join(out, "runs", entry["id"])
    os.makedirs(d)
    json.dump(entry, open(os.path.join(d, "run.json"), "w"))
    n += 1
for e in counted:  # the template's count-based arms, so that its claim still names real arms
    write(copy.deepcopy(e))
for a in range(arms):
    e_, A, alpha = 1.5 + 0.05 * a, 2.0 + 0.1 * a, 0.3 + 0.01 * a
    for b in budgets:
        for s in range(seeds):
            if n >= total:
                break
            e = copy.deepcopy(neural)
            e["arm"] = "synthetic-%02d" % a
            r = e["record"]
            r["recipe"]["budget_cpu_seconds"] = b
            r["recipe"]["seed"] = s
            bpb = e_ + A * b ** -alpha + rng.gauss(0, 0.01)
            for split in r["eval"].values():
                split["bits_per_byte"] = bpb
            r["compute"]["cpu_seconds"] = b * (1 + rng.uniform(0, 0.05))
            r["curve"] = [dict(r["curve"][0] if r["curve"] else {"step": 0, "tokens_seen": 0, "val_loss": 0.0},
                               cpu_seconds=b * f, val_bits_per_byte=e_ + A * (b * f) ** -alpha)
                          for f in (0.25, 0.5, 0.75, 1.0)]
            write(e)
print(f"{n} synthetic runs in {out}", file=sys.stderr)
PY
times=()
for _ in $(seq "$repeats"); do
  start=$(date +%s.%N)
  "$lmlab" report "$work/exp" -o "$work/report.html" 2>/dev/null >/dev/null
  end=$(date +%s.%N)
  times+=("$(echo "$end - $start" | bc)")
done
grep -o 'Verdict: <strong>[^<]*' "$work/report.html" | head -1
echo "report: $(du -h "$work/report.html" | cut -f1), times (s): ${times[*]}"
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print "median wall s:", a[int((NR+1)/2)]}'
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
