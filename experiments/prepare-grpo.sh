#!/bin/sh
# Makes Experiment 6's data (issue 16) in experiments/data/grpo/ (git-ignored), as
# bench/grpo_scaffolds.sh makes it: 8,000 additions of 1-5 digit operands (seed 1) in add.jsonl,
# and the supervised start's worked solutions of the 1-3 digit problems (difficulties balanced, a
# quarter of them hinted) for the train / valid / test splits.
# Usage: experiments/prepare-grpo.sh [LMLAB_BINARY]   (default: a release build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lmlab=${1:-}
if [ -z "$lmlab" ]; then
  (cd "$here/.." && cargo build --release -q -p lmlab-cli)
  lmlab="$here/../target/release/lmlab"
fi
out="$here/data/grpo"
mkdir -p "$out"
"$lmlab" tasks make addition --n 8000 --max-difficulty 5 --seed 1 -o "$out/add.jsonl"
for split in train valid test; do
  "$lmlab" tasks sft "$out/add.jsonl" --split $split --max-difficulty 3 --balance --hinted 0.25 \
    -o "$out/$split.txt"
done
