#!/usr/bin/env bash
# Training throughput, lmlab-neural vs PyTorch eager on the same models, same thread count, run
# alternately; prints medians, the ratio, and for each side the achieved GFLOP/s, its % of this CPU's
# measured peak and the CPU seconds per wall second (so the number of cores used is measured, not assumed).
# Rates are given per wall second and per CPU-second: on a machine other work shares, the wall rate of
# both sides falls with the load, while the CPU-second rate is the work one core-second buys, which is
# what the peak (also per CPU-second) bounds; the ratio lmlab / PyTorch is given both ways.
# - Transformer: byte-level pre-LN GPT (GELU tanh, tied embeddings, biases, AdamW); the PyTorch side is
#   ../shared/tools/torch_reference_gpt.py with SDPA=1 (scaled_dot_product_attention, its faster eager
#   setting) and, unless EAGER=0, SDPA=0 (explicit attention).
# - LSTM: byte embedding, nn.LSTM layers, head tied to the embedding (bench/torch_reference_lstm.py).
# The lmlab side is the `throughput` example (ARCH=transformer|lstm), which builds the same model and
# optimizer on lmlab's engine.
# FLOPs per training token (printed by the example, applied to both sides): 6 per matrix-multiply parameter
# (tied head counted; embedding lookup, biases, element-wise work not) + 12·n_layer·seq·d for attention
# (the full square, PaLM's convention). The peak is the `peak_flops` probe's fp32 FMA rate for the widest
# vector ISA this CPU has, per CPU-second of one thread.
# CPU-s/wall-s: over the timed steps on both sides (lmlab's example prints it; for PyTorch,
# bench/torch_cpu_clock.py notes the process CPU time at the script's own timer calls).
# Configs: the issue's two (d128 L2 H4 T128 B16; d256 L4 H8 T256 B16), nanoGPT's shakespeare-char CPU
# recipe shape (L4 d128 H4 T64 B12; bytes here instead of chars) and an LSTM (L2 d256 T128 B16).
# Usage: bench/neural_vs_torch.sh [RUNS] [THREADS]
#   PYTHON: an interpreter with torch (default: bench/.venv-torch/bin/python; without torch only the
#   lmlab side runs — PyPI serves the CUDA build of torch, a multi-GB install).
#   DATA: the text to train on (default ../shared/data/shakespeare/input.txt).
#   CONFIGS: "ARCH L D H T B STEPS" entries separated by commas (default: the four below).
#   EAGER=0 skips PyTorch's explicit-attention run (SDPA, its faster setting, always runs).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
threads=${2:-2}
data=${DATA:-../shared/data/shakespeare/input.txt}
py=${PYTHON:-bench/.venv-torch/bin/python}
[ -f "$data" ] || { echo "missing $data"; exit 1; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p lmlab-neural --example throughput --example peak_flops
lmlab="$target/release/examples/throughput"
have_torch=0
if [ -x "$py" ] && "$py" -c 'import torch' 2>/dev/null && [ -f ../shared/tools/torch_reference_gpt.py ]; then
  have_torch=1
  echo "torch $("$py" -c 'import torch; print(torch.__version__)'), threads $threads"
else
  echo "torch not found at $py: lmlab only"
fi
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); vector flags:" \
  "$(grep -m1 -o -w -E 'avx2|fma|avx512[a-z0-9_]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
probe=$("$target/release/examples/peak_flops")
echo "$probe" | grep -v '^PEAK'
peak=$(sed -n 's/.*PEAK_FP32_PER_CPU_S=\([0-9.]*\).*/\1/p' <<<"$probe")
echo "peak used for %: $peak GFLOP per CPU-second, fp32, one thread"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# run CMD...: prints "tokens/s peak_rss_kib cpu_per_wall tokens/CPU-s" over the timed steps
run() {
  local out
  out=$( { /usr/bin/time -f 'TIME %M' "$@" 2>&1; } )
  awk '/^TRAIN tokens\/s/ {tps = $3} /CPU-s\/wall-s/ {cw = $NF} /^TIME / {rss = $2}
       END {if (tps == "" || cw == "") exit 1; printf "%s %s %.3f %.0f\n", tps, rss, cw, tps / cw}' <<<"$out"
}
# cols FILE FLOP: "tokens/s tokens/CPU-s MiB GFLOP/CPU-s %peak cpu/wall" from a side's runs (medians)
cols() {
  local t m c u
  t=$(cut -d' ' -f1 "$1" | median); m=$(( $(cut -d' ' -f2 "$1" | median | cut -d. -f1) / 1024 ))
  c=$(cut -d' ' -f3 "$1" | median); u=$(cut -d' ' -f4 "$1" | median)
  awk -v t="$t" -v u="$u" -v m="$m" -v c="$c" -v f="$2" -v p="$peak" \
    'BEGIN {printf "%8.0f %8.0f %5d %6.1f %5.1f%% %5.2f", t, u, m, u * f / 1e9, 100 * u * f / 1e9 / p, c}'
}

printf '%-28s | %8s %8s %5s %6s %6s %5s | %8s %8s %5s %6s %6s %5s | %5s %5s | %s\n' config \
  tok/s tok/CPUs MiB GF/CPUs %peak cpu/w tok/s tok/CPUs MiB GF/CPUs %peak cpu/w wall CPU-s \
  torch_eager_tok/s
echo "(lmlab on the left, PyTorch SDPA on the right; ratios lmlab / PyTorch per wall second and per CPU-second)"
IFS=, read -r -a configs <<<"${CONFIGS:-transformer 2 128 4 128 16 120,transformer 4 256 8 256 16 40,transformer 4 128 4 64 12 200,lstm 2 256 1 128 16 40}"
for cfg in "${configs[@]}"; do
  read -r A L D H T B S <<<"$cfg"
  case $A in
    transformer) torch_script=../shared/tools/torch_reference_gpt.py; name="L$L d$D H$H T$T B$B ($S)" ;;
    lstm) torch_script=bench/torch_reference_lstm.py; name="LSTM L$L d$D T$T B$B ($S)" ;;
    *) echo "unknown arch $A in CONFIGS"; exit 1 ;;
  esac
  : >"$tmp/l"; : >"$tmp/s"; : >"$tmp/e"
  for _ in $(seq "$runs"); do
    run env ARCH="$A" RAYON_NUM_THREADS="$threads" "$lmlab" "$data" "$L" "$D" "$H" "$T" "$B" "$S" >>$tmp/l
    if [ $have_torch = 1 ]; then
      run env THREADS="$threads" SDPA=1 "$py" bench/torch_cpu_clock.py "$torch_script" "$data" "$L" "$D" "$H" "$T" "$B" "$S" >>$tmp/s
      if [ "${EAGER:-1}" != 0 ] && [ "$A" = transformer ]; then
        run env THREADS="$threads" SDPA=0 "$py" bench/torch_cpu_clock.py "$torch_script" "$data" "$L" "$D" "$H" "$T" "$B" "$S" >>$tmp/e
      fi
    fi
  done
  flop=$(ARCH="$A" "$lmlab" "$data" "$L" "$D" "$H" "$T" "$B" 1 | sed -n 's/^FLOP\/token \([0-9]*\).*/\1/p')
  l=$(cols "$tmp/l" "$flop")
  if [ $have_torch = 1 ]; then
    s=$(cols "$tmp/s" "$flop")
    e=-; [ -s "$tmp/e" ] && e=$(cut -d' ' -f1 "$tmp/e" | median)
    ratio=$(awk -v a="$(cut -d' ' -f1 "$tmp/l" | median)" -v b="$(cut -d' ' -f1 "$tmp/s" | median)" \
      -v x="$(cut -d' ' -f4 "$tmp/l" | median)" -v y="$(cut -d' ' -f4 "$tmp/s" | median)" \
      'BEGIN {printf "%5.2f %5.2f", a / b, x / y}')
  else
    s=$(printf '%8s %8s %5s %6s %6s %5s' - - - - - -); e=-; ratio="    -     -"
  fi
  printf '%-28s | %s | %s | %s | %s\n' "$name" "$l" "$s" "$ratio" "$e"
done
echo "FLOP/token: 6 per matmul parameter + 12·L·T·d attention; GF/CPUs: GFLOP per CPU-second; %peak of $peak"
