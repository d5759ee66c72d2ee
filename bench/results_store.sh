#!/usr/bin/env bash
# `lmlab results` on a store of N synthetic runs (default 10,000; target: under 2 s): builds the
# store with bench/make_synthetic_experiment.sh (timing its reindex), then times the whole
# `lmlab results DIR --format table` and `--format json` process, RUNS times each (default 5),
# and prints the medians against the target.
# Usage: [PROFILE=release|test] bench/results_store.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
runs=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
profile=${PROFILE:-release}   # PROFILE=test: the test profile's build (opt-level 2), already there after cargo test
cargo build --profile "$profile" -q -p lmlab-cli
[ "$profile" = release ] && out=release || out=debug
lmlab=${CARGO_TARGET_DIR:-target}/$out/lmlab
exp="$work/exp"
start=$(date +%s.%N)
bench/make_synthetic_experiment.sh "$exp" "$n"
end=$(date +%s.%N)
echo "synthesized $n run.json files and reindexed: $(awk "BEGIN {print $end - $start}") s"
rm "$exp/results.sqlite"
start=$(date +%s.%N)
"$lmlab" experiment reindex "$exp" >/dev/null
end=$(date +%s.%N)
echo "lmlab experiment reindex ($n runs): $(awk "BEGIN {print $end - $start}") s"
echo "store: $(du -h "$exp/results.sqlite" | cut -f1)"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for format in table json; do
  times=()
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    "$lmlab" results "$exp" --format "$format" >"$work/out.$format"
    end=$(date +%s.%N)
    times+=("$(awk "BEGIN {print $end - $start}")")
  done
  m=$(printf '%s\n' "${times[@]}" | median)
  verdict=$(awk "BEGIN {print ($m < 2) ? \"under the 2 s target\" : \"OVER the 2 s target\"}")
  echo "lmlab results --format $format ($n runs, $(wc -l <"$work/out.$format") lines out): median of $runs: $m s ($verdict); all: ${times[*]}"
done
