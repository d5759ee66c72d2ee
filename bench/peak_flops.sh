#!/usr/bin/env bash
# This CPU's peak floating-point rate, measured (the `peak_flops` example: independent FMA chains in
# registers for every vector instruction set the CPU has, 1 thread and all cores, best of three), with
# the CPU model and its vector flags. Benchmarks quote it beside their achieved GFLOP/s.
# Usage: bench/peak_flops.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p lmlab-neural --example peak_flops
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; vector flags:" \
  "$(grep -m1 -o -w -E 'avx2|fma|avx512[a-z0-9_]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
"${CARGO_TARGET_DIR:-target}/release/examples/peak_flops"
