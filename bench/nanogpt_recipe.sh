#!/usr/bin/env bash
# nanoGPT's shakespeare-char CPU recipe (README: n_layer=4, n_head=4, n_embd=128, block 64, batch 12,
# 2000 iterations, lr 1e-3 → 1e-4 cosine after 100 warmup, beta2 0.99, weight decay 0.1, dropout 0),
# lmlab against nanoGPT itself, both judged on the same validation windows.
#
# lmlab: `--example shakespeare_char` (configs/shakespeare_char.toml) for each seed, then
# `--example eval_run`, which scores every non-overlapping 64-character window of the valid split.
# nanoGPT (only when NANOGPT points at a checkout of github.com/karpathy/nanoGPT and PYTHON has torch;
# nothing of it is in this repository): its train.py with the README's CPU command on a copy of the
# same input.txt, then its final checkpoint scored on the same non-overlapping windows. nanoGPT's own
# printed estimate (20 random batches, `--eval_iters=20`) is shown too: it is the README's "1.88".
#
# Usage: bench/nanogpt_recipe.sh [SEEDS...]   (default seed 1337; nanoGPT's seed is fixed at 1337)
#   NANOGPT=/path/to/nanoGPT PYTHON=/path/to/python-with-torch  THREADS=1 (both sides)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1337)
threads=${THREADS:-1}
input=$(cd ../shared/data/shakespeare && pwd)/input.txt
[ -f "$input" ] || { echo "missing $input (../shared)"; exit 1; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p lmlab-neural --example shakespeare_char --example eval_run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); threads $threads"

printf '%-22s %8s %22s %26s\n' run seed "own estimate" "non-overlapping windows"
for seed in "${seeds[@]}"; do
  out=$(RAYON_NUM_THREADS=$threads "$target/release/examples/shakespeare_char" "$input" "$tmp/run$seed" 2000 "$seed")
  own=$(sed -n 's/^done in .* val loss \([0-9.]*\),.*/\1/p' <<<"$out")
  win=$(RAYON_NUM_THREADS=$threads "$target/release/examples/eval_run" "$tmp/run$seed" "$input" |
    sed -n 's/^consecutive windows: \([0-9.]*\) nats.*(\([0-9]*\) windows.*/\1 (\2)/p')
  printf '%-22s %8s %22s %26s\n' lmlab "$seed" "$own (200 batches)" "$win"
done

py=${PYTHON:-python3}
if [ -n "${NANOGPT:-}" ] && [ -f "$NANOGPT/train.py" ] && "$py" -c 'import torch, numpy' 2>/dev/null; then
  cp -r "$NANOGPT" "$tmp/nanogpt"
  cd "$tmp/nanogpt"
  cp "$input" data/shakespeare_char/input.txt
  # prepare.py downloads only when input.txt is missing; its `import requests` is not needed here.
  sed -i 's/^import requests/# import requests/' data/shakespeare_char/prepare.py
  "$py" data/shakespeare_char/prepare.py >/dev/null
  OMP_NUM_THREADS=$threads "$py" train.py config/train_shakespeare_char.py --device=cpu --compile=False \
    --eval_iters=20 --log_interval=100 --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 \
    --n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0 >train.log 2>&1
  own=$(sed -n 's/^step 2000: .*val loss \([0-9.]*\)$/\1/p' train.log)
  win=$(OMP_NUM_THREADS=$threads "$py" - <<'EOF'
import numpy as np, torch
from model import GPT, GPTConfig
ck = torch.load("out-shakespeare-char/ckpt.pt", map_location="cpu")
m = GPT(GPTConfig(**ck["model_args"]))
m.load_state_dict({k.removeprefix("_orig_mod."): v for k, v in ck["model"].items()})
m.eval()
val = np.memmap("data/shakespeare_char/val.bin", dtype=np.uint16, mode="r").astype(np.int64)
T = ck["model_args"]["block_size"]
starts = list(range(0, len(val) - T - 1, T))
total = 0.0
with torch.no_grad():
    for k in range(0, len(starts), 64):
        ix = starts[k:k + 64]
        x = torch.stack([torch.from_numpy(val[i:i + T]) for i in ix])
        y = torch.stack([torch.from_numpy(val[i + 1:i + T + 1]) for i in ix])
        total += m(x, y)[1].item() * len(ix)
print(f"{total / len(starts):.4f} ({len(starts)})")
EOF
  )
  win=$(tail -1 <<<"$win") # model.py prints its parameter count first
  printf '%-22s %8s %22s %26s\n' "nanoGPT $(git -C "$NANOGPT" rev-parse --short HEAD 2>/dev/null || echo)" 1337 "$own (20 batches)" "$win"
  echo "torch $("$py" -c 'import torch; print(torch.__version__)')"
else
  echo "nanoGPT side skipped: set NANOGPT to a nanoGPT checkout and PYTHON to a python with torch and numpy"
fi
