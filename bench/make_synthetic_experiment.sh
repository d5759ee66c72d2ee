#!/usr/bin/env bash
# Writes a synthetic experiment folder of N finished runs (experiment.json, runs/<id>/run.json with
# made-up numbers, results.sqlite rebuilt from them), for timing the commands that read an
# experiment on a large store (lmlab results, lmlab report).
# Usage: bench/make_synthetic_experiment.sh DIR N
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DIR N" >&2; exit 2; }
dir=$1
n=$2
[ ! -e "$dir" ] || { echo "$dir exists: give a new folder" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
cargo run --profile "$profile" -q -p lmlab-lab --example synthetic_experiment -- "$dir" "$n"
