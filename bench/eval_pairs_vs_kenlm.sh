#!/usr/bin/env bash
# Minimal pairs (BLiMP, 67 paradigms x 1,000 pairs) with the PTB Kneser-Ney 5-gram: `lmlab eval-pairs`
# against KenLM's Python module scoring the same sentences from the ARPA that lmlab exports (the
# "simple LM method": whole sentence with <s> and </s>, a pair right when the good sentence scores
# higher), alternating, whole processes; prints the median seconds of each, the ratio, and whether
# the two agree on every decision. Target from issue #12: lmlab under 5 s.
# Usage: bench/eval_pairs_vs_kenlm.sh [RUNS]   (needs ../shared/data/{ptb,blimp}, pip access for kenlm)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
data=../shared/data
[ -d "$data/blimp" ] && [ -d "$data/ptb" ] || { echo "missing $data/blimp or $data/ptb"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p lmlab-cli
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
venv=bench/.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import kenlm' 2>/dev/null || "$venv/bin/pip" install -q kenlm
py="$venv/bin/python"
"$lmlab" train ngram --order 5 --input "$data/ptb/ptb.train.txt" -o "$work/kn5.lmlab" >/dev/null
"$lmlab" ngram export-arpa "$work/kn5.lmlab" -o "$work/kn5.arpa" >/dev/null
cat > "$work/pairs.py" <<'PY'
import glob, json, sys, time, kenlm
start = time.perf_counter()
model = kenlm.Model(sys.argv[1])
right = total = 0
for path in sorted(glob.glob(sys.argv[2] + "/*.jsonl")):
    for line in open(path):
        pair = json.loads(line)
        total += 1
        right += model.score(pair["sentence_good"]) > model.score(pair["sentence_bad"])
print(time.perf_counter() - start, right, total)
PY
ours=(); theirs=()
for ((i = 0; i < runs; i++)); do
  s=$(date +%s.%N); "$lmlab" eval-pairs "$work/kn5.lmlab" --input "$data/blimp" --json > "$work/ours.json"
  ours+=("$(echo "$(date +%s.%N) - $s" | bc)")
  s=$(date +%s.%N); "$py" "$work/pairs.py" "$work/kn5.arpa" "$data/blimp" > "$work/theirs.txt"
  theirs+=("$(echo "$(date +%s.%N) - $s" | bc)")
done
"$py" - "$work/ours.json" "$work/theirs.txt" "${ours[*]}" "${theirs[*]}" <<'PY'
import json, statistics, sys
ours = json.load(open(sys.argv[1]))
_, right, total = open(sys.argv[2]).read().split()
a = statistics.median(map(float, sys.argv[3].split()))
b = statistics.median(map(float, sys.argv[4].split()))
print(f"lmlab eval-pairs: {a:.2f} s (median, whole process, model load included); "
      f"accuracy {ours['overall']['accuracy']:.4f} over {ours['overall']['pairs']} pairs")
print(f"KenLM Python module: {b:.2f} s (median, whole process incl. ARPA load); "
      f"accuracy {int(right) / int(total):.4f} over {total} pairs")
print(f"ratio KenLM / lmlab: {b / a:.2f}x; lmlab under the 5 s target: {a < 5}")
PY
