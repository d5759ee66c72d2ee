#!/usr/bin/env bash
# Memory-based LMs on PTB with a 4-token window: TiMBL 6.5 (the peer, Debian package `timbl`) and
# lmlab-memory side by side, run alternately, same data: OLIFANT-style instances for TiMBL
# (../shared/tools/timbl_instances.py), the same text in stream mode for lmlab (</s> after every line).
#   - IGTree training  (timbl -f train -a1 +D -I ibase    | memory_bench train, igtree)
#   - IGTree testing   (timbl -a1 -i ibase -t test         | memory_bench test on all of ptb.test)
#   - TRIBL2 training  (timbl -f train -a4 +D -I ibase    | memory_bench train, tribl2)
#   - TRIBL2 testing   on the first TRIBL2_LINES lines of ptb.test (default 400: 8,890 instances;
#                      TRIBL2_LINES=all for the whole test set, several minutes per TiMBL run)
# Each timing is a whole process (read input, build or load, write output): wall seconds and peak RSS;
# for testing also the classification rate each tool reports itself. Prints medians and ratios, the
# accuracies and the model sizes (TiMBL's ibase vs lmlab's model file, unpruned and pruned).
# Usage: bench/memory_vs_timbl.sh [RUNS]   (needs ../shared/data/ptb; installs timbl with apt if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
tribl2_lines=${TRIBL2_LINES:-400}
ptb=../shared/data/ptb
tools=../shared/tools
[ -d "$ptb" ] || { echo "missing $ptb"; exit 1; }
if ! command -v timbl >/dev/null; then
  echo "timbl not found; installing the Debian package"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq timbl >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq timbl >/dev/null; fi
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package: time)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p lmlab-memory --example memory_bench
bench=${CARGO_TARGET_DIR:-target}/release/examples/memory_bench

python3 "$tools/timbl_instances.py" "$ptb/ptb.train.txt" 4 > "$work/train.l4r0"
python3 "$tools/timbl_instances.py" "$ptb/ptb.test.txt" 4 > "$work/test.l4r0"
if [ "$tribl2_lines" = all ]; then cp "$ptb/ptb.test.txt" "$work/subset.txt"
else head -n "$tribl2_lines" "$ptb/ptb.test.txt" > "$work/subset.txt"; fi
python3 "$tools/timbl_instances.py" "$work/subset.txt" 4 > "$work/subset.l4r0"

# timed NAME CMD...: appends "wall rss_kb" to $work/NAME.times; the command's output goes to $work/NAME.log.
# (timbl exits with status 1 after training without a test file, so the status is not checked here;
# the outputs are checked after each step instead.)
timed() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time.tmp" "$@" > "$work/$name.log" 2>&1 || true
  tail -n 1 "$work/time.tmp" >> "$work/$name.times"
}
need() { [ -s "$1" ] || { echo "missing $1; see the logs:"; tail -n 5 "$work"/*.log; exit 1; }; }
rate_timbl() { sed -n 's/^Seconds taken: .*(\([0-9.]*\) p\/s)$/\1/p' "$work/$1.log" >> "$work/$1.rates"; }
rate_lmlab() { sed -n 's/.*instances in .* s (\([0-9]*\)\/s).*/\1/p' "$work/$1.log" >> "$work/$1.rates"; }

for ((i = 0; i < runs; i++)); do
  echo "run $((i + 1)) of $runs" >&2
  timed timbl_igtree_train timbl -f "$work/train.l4r0" -a1 +D -I "$work/igtree.ibase"
  timed lmlab_igtree_train "$bench" train --train "$ptb/ptb.train.txt" --context 4 --algorithm igtree \
    --model "$work/igtree.lmlab"
  need "$work/igtree.ibase"; need "$work/igtree.lmlab"
  timed timbl_igtree_test timbl -a1 -i "$work/igtree.ibase" -t "$work/test.l4r0" -o "$work/igtree.out"
  need "$work/igtree.out"; rate_timbl timbl_igtree_test
  timed lmlab_igtree_test "$bench" test --model "$work/igtree.lmlab" --test "$ptb/ptb.test.txt" \
    --out "$work/igtree.lmlab.out"
  rate_lmlab lmlab_igtree_test
  timed timbl_tribl2_train timbl -f "$work/train.l4r0" -a4 +D -I "$work/tribl2.ibase"
  timed lmlab_tribl2_train "$bench" train --train "$ptb/ptb.train.txt" --context 4 --algorithm tribl2 \
    --model "$work/tribl2.lmlab"
  need "$work/tribl2.ibase"; need "$work/tribl2.lmlab"
  timed timbl_tribl2_test timbl -a4 -i "$work/tribl2.ibase" -t "$work/subset.l4r0" -o "$work/tribl2.out"
  need "$work/tribl2.out"; rate_timbl timbl_tribl2_test
  timed lmlab_tribl2_test "$bench" test --model "$work/tribl2.lmlab" --test "$work/subset.txt" \
    --out "$work/tribl2.lmlab.out"
  rate_lmlab lmlab_tribl2_test
done
"$bench" train --train "$ptb/ptb.train.txt" --context 4 --algorithm igtree --prune \
  --model "$work/igtree.pruned.lmlab" > "$work/pruned.log"
"$bench" test --model "$work/tribl2.lmlab" --test "$ptb/ptb.test.txt" > "$work/lmlab_tribl2_full.log"

python3 - "$work" "$runs" <<'PY'
import os, re, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
def times(name):
    rows = [l.split() for l in open(f"{work}/{name}.times")]
    return statistics.median(float(r[0]) for r in rows), statistics.median(int(r[1]) for r in rows) / 1024
def rate(name):
    return statistics.median(float(x) for x in open(f"{work}/{name}.rates").read().split())
def acc(pattern, log):
    m = re.search(pattern, open(f"{work}/{log}.log").read())
    return m.group(1) if m else "?"
print(f"PTB, 4-token window, 929,589 training instances; medians of {runs} alternated runs")
print(f"{'':28} {'TiMBL':>16} {'lmlab':>16} {'TiMBL/lmlab':>12}")
for what, t, l in [("IGTree training", "timbl_igtree_train", "lmlab_igtree_train"),
                   ("IGTree testing (82,430)", "timbl_igtree_test", "lmlab_igtree_test"),
                   ("TRIBL2 training", "timbl_tribl2_train", "lmlab_tribl2_train"),
                   ("TRIBL2 testing (subset)", "timbl_tribl2_test", "lmlab_tribl2_test")]:
    (tw, tm), (lw, lm) = times(t), times(l)
    print(f"{what + ' wall s':28} {tw:16.2f} {lw:16.2f} {tw / lw:12.1f}")
    print(f"{what + ' peak MB':28} {tm:16.0f} {lm:16.0f} {tm / lm:12.1f}")
    if "testing" in what:
        tr, lr = rate(t), rate(l)
        print(f"{what + ' inst/s':28} {tr:16.0f} {lr:16.0f} {lr / tr:12.1f} (lmlab/TiMBL)")
n_subset = sum(1 for _ in open(f"{work}/subset.l4r0"))
print(f"TRIBL2 subset: {n_subset} instances (first lines of ptb.test)")
print("IGTree accuracy: TiMBL", acc(r"overall accuracy:\s+(\S+)", "timbl_igtree_test"),
      " lmlab", acc(r"accuracy (\S+)", "lmlab_igtree_test"))
print("TRIBL2 accuracy on the subset: TiMBL", acc(r"overall accuracy:\s+(\S+)", "timbl_tribl2_test"),
      " lmlab", acc(r"accuracy (\S+)", "lmlab_tribl2_test"),
      "; lmlab on all of ptb.test:", acc(r"accuracy (\S+)", "lmlab_tribl2_full"),
      "at", acc(r"\((\d+)/s\)", "lmlab_tribl2_full"), "inst/s")
same = sum(a.split()[-1].replace("<eos>", "</s>") == b.strip()
           for a, b in zip(open(f"{work}/igtree.out"), open(f"{work}/igtree.lmlab.out")))
total = sum(1 for _ in open(f"{work}/igtree.out"))
print(f"IGTree per-instance agreement with TiMBL: {same} / {total}")
mb = lambda p: os.path.getsize(f"{work}/{p}") / 1e6
print(f"model size MB: TiMBL IGTree ibase {mb('igtree.ibase'):.1f}, lmlab IGTree {mb('igtree.lmlab'):.1f}, "
      f"lmlab IGTree pruned {mb('igtree.pruned.lmlab'):.1f}; TiMBL TRIBL2 ibase {mb('tribl2.ibase'):.1f}, "
      f"lmlab TRIBL2 {mb('tribl2.lmlab'):.1f}")
PY
