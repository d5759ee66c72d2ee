#!/usr/bin/env bash
# Issue 15 §3's figures on the TinyStories slice: a 2-block character transformer (n_embd 64,
# 4 heads, context 64) distilled from (a) a KN 5-gram, (b) a larger transformer (4 blocks, trained
# TEACHER CPU-s once), (c) their EM mixture (weights fitted on dev), and (d) initialised from the
# larger run's 2 strongest blocks ("Where to Begin": lmlab prune --method layers) and distilled
# from it; against the same student on the data alone. Every student gets the same STUDENT CPU-s
# budget, and the teacher's queries run inside the student's process, so their CPU seconds are in
# the student's budget; the teachers' own training is not (it is paid once, before).
# Also: heads pruning of the plain student (zeroed heads by weight norm, no recovery).
# Validation (curves, EM weights) on the first half of data/tinystories-valid.txt, bits/byte on the
# second half. τ = 2, α = 0.5 (the library's defaults). The subnetwork student starts from the
# teacher's weights and resumes the teacher's recorded seed, so its two "seeds" are one run twice.
# Usage: bench/distillation.sh ["SEEDS"] [STUDENT] [TEACHER]  (defaults "1 2" 8 25)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1-1 2}
student_b=${2:-8}
teacher_b=${3:-25}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p lmlab-cli
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
echo "budgets (CPU-s): student $student_b, larger transformer teacher $teacher_b"

train=data/tinystories-train.txt
lines=$(wc -l < data/tinystories-valid.txt)
head -n $((lines / 2)) data/tinystories-valid.txt > "$work/dev.txt"
tail -n +$((lines / 2 + 1)) data/tinystories-valid.txt > "$work/test.txt"

source bench/char_transformer_config.sh # config N_LAYER SEED
bpb() { "$lmlab" eval "$1" --input "$work/test.txt" --json | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["bits_per_byte"])'; }
steps() { python3 -c "import json; r=json.load(open('$1/report.json')); print(r['steps'], '%.1f' % r['compute']['cpu_seconds'])"; }
student() { # run config [extra args]
  local run=$1 conf=$2; shift 2
  "$lmlab" train transformer --config "$conf" --train "$train" --valid "$work/dev.txt" \
    -o "$run" --budget "$student_b" "$@" > "$run.log" 2>&1
}

config 4 1 > "$work/c4.toml"
"$lmlab" train transformer --config "$work/c4.toml" --train "$train" --valid "$work/dev.txt" \
  -o "$work/big" --budget "$teacher_b" > /dev/null 2>&1
"$lmlab" train ngram --input "$train" --order 5 --tokenizer-file "$work/big/tokenizer.json" \
  --discount-fallback -o "$work/kn5.lm" > /dev/null
echo "teachers on test: KN 5-gram $(bpb "$work/kn5.lm") bits/byte; 4-block transformer $(bpb "$work/big") ($(steps "$work/big") steps CPU-s)"

echo "seed student bits/byte steps CPU-s"
for seed in $seeds; do
  s=$work/s$seed
  mkdir -p "$s"
  config 2 "$seed" > "$s/c2.toml"
  student "$s/plain" "$s/c2.toml"
  student "$s/kn5" "$s/c2.toml" --teacher "$work/kn5.lm"
  student "$s/big" "$s/c2.toml" --teacher "$work/big"
  student "$s/mix" "$s/c2.toml" --teacher "$work/kn5.lm" --teacher "$work/big"
  "$lmlab" prune "$work/big" -o "$s/sub" --method layers --sparsity 0.5 > /dev/null
  student "$s/sub" "$s/sub/config.json" --teacher "$work/big" --resume
  for arm in plain kn5 big mix sub; do
    echo "$seed $arm $(bpb "$s/$arm") $(steps "$s/$arm")"
  done
  row="heads pruning of the plain student (sparsity:bits/byte):"
  for sp in 0 0.25 0.5 0.75; do
    "$lmlab" prune "$s/plain" -o "$s/heads-$sp" --method heads --sparsity "$sp" > /dev/null
    row="$row $sp:$(bpb "$s/heads-$sp")"
  done
  echo "$row"
done
