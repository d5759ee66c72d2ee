#!/usr/bin/env bash
# Training throughput, lmlab-neural vs PyTorch eager on the same byte-level pre-LN GPT (GELU tanh, tied
# embeddings, biases, AdamW), same thread count, run alternately; prints medians and the ratio.
# The PyTorch side is ../shared/tools/torch_reference_gpt.py (SDPA=1: scaled_dot_product_attention, its
# faster eager setting; SDPA=0: explicit attention); the lmlab side is the `throughput` example, which
# builds the same model and optimizer on lmlab's engine.
# Configs: the issue's two (d128 L2 H4 T128 B16; d256 L4 H8 T256 B16) and nanoGPT's shakespeare-char CPU
# recipe shape (L4 d128 H4 T64 B12; bytes here instead of chars).
# Usage: bench/neural_vs_torch.sh [RUNS] [THREADS]
#   PYTHON: an interpreter with torch (default: bench/.venv-torch/bin/python; without torch only the
#   lmlab side runs — PyPI serves the CUDA build of torch, a multi-GB install).
#   DATA: the text to train on (default ../shared/data/shakespeare/input.txt).
#   CONFIGS: "L D H T B STEPS" triples separated by commas (default: the three below).
#   EAGER=0 skips PyTorch's explicit-attention run (SDPA, its faster setting, always runs).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
threads=${2:-2}
data=${DATA:-../shared/data/shakespeare/input.txt}
py=${PYTHON:-bench/.venv-torch/bin/python}
torch_script=../shared/tools/torch_reference_gpt.py
[ -f "$data" ] || { echo "missing $data"; exit 1; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p lmlab-neural --example throughput
lmlab="$target/release/examples/throughput"
have_torch=0
if [ -x "$py" ] && "$py" -c 'import torch' 2>/dev/null && [ -f "$torch_script" ]; then
  have_torch=1
  echo "torch $("$py" -c 'import torch; print(torch.__version__)'), threads $threads"
else
  echo "torch not found at $py: lmlab only"
fi
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# run NAME CMD...: prints "tokens/s peak_rss_kib"
run() {
  local out rss
  out=$( { /usr/bin/time -f 'RSS %M' "$@" 2>&1; } )
  rss=$(sed -n 's/^RSS //p' <<<"$out" | tail -1)
  echo "$(sed -n 's/^TRAIN tokens\/s \([0-9.]*\).*/\1/p' <<<"$out") $rss"
}

printf '%-26s %12s %10s %14s %10s %14s %8s\n' config lmlab_tok/s lmlab_MiB torch_sdpa_tok/s torch_MiB torch_eager_tok/s ratio
IFS=, read -r -a configs <<<"${CONFIGS:-2 128 4 128 16 120,4 256 8 256 16 40,4 128 4 64 12 200}"
for cfg in "${configs[@]}"; do
  read -r L D H T B S <<<"$cfg"
  : >"$tmp/l"; : >"$tmp/s"; : >"$tmp/e"
  for _ in $(seq "$runs"); do
    run env RAYON_NUM_THREADS="$threads" "$lmlab" "$data" "$L" "$D" "$H" "$T" "$B" "$S" >>$tmp/l
    if [ $have_torch = 1 ]; then
      run env THREADS="$threads" SDPA=1 "$py" "$torch_script" "$data" "$L" "$D" "$H" "$T" "$B" "$S" >>$tmp/s
      if [ "${EAGER:-1}" != 0 ]; then
        run env THREADS="$threads" SDPA=0 "$py" "$torch_script" "$data" "$L" "$D" "$H" "$T" "$B" "$S" >>$tmp/e
      fi
    fi
  done
  l=$(cut -d' ' -f1 $tmp/l | median); lm=$(( $(cut -d' ' -f2 $tmp/l | median | cut -d. -f1) / 1024 ))
  if [ $have_torch = 1 ]; then
    s=$(cut -d' ' -f1 $tmp/s | median); sm=$(( $(cut -d' ' -f2 $tmp/s | median | cut -d. -f1) / 1024 ))
    e=-; [ -s "$tmp/e" ] && e=$(cut -d' ' -f1 "$tmp/e" | median)
    ratio=$(awk -v a="$l" -v b="$s" 'BEGIN {printf "%.2f", a / b}')
  else
    s=-; sm=-; e=-; ratio=-
  fi
  printf '%-26s %12.0f %10s %14s %10s %14s %8s\n' "L$L d$D H$H T$T B$B ($S st)" "$l" "$lm" "$s" "$sm" "$e" "$ratio"
done
