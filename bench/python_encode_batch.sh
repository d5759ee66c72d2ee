#!/usr/bin/env bash
# The Python package's `Tokenizer.encode_batch` against Hugging Face tokenizers' `encode_batch`
# (0.23.3), both on 2 threads, on 100 MB of text split into lines, with the same tokenizer: a
# byte-level BPE of vocabulary 8,000 learned by lmlab on ../shared/data/tinystories/train-slice.txt,
# loaded by lmlab from its own file and by HF from the tokenizer.json that
# `lmlab tokenizer export-hf` writes of it (the ids of the first 2,000 lines are checked equal).
# The 100 MB are ../shared/data/tinystories/{train,valid}-slice.txt repeated (SCALE=FILE uses the
# first 100 MB of FILE instead, e.g. bench/tokenizers_vs_hf.sh's scale corpus). Both sides get
# the same list of str in batches of 10,000 lines (HF with add_special_tokens=False; each batch's
# result is dropped once counted, as a pipeline would); wall MB/s and MB per CPU-second of the
# encoding, medians of RUNS runs alternated between the two; prints the ratios lmlab / HF.
# Usage: bench/python_encode_batch.sh [RUNS]   (default 3)
#   PYTHON=a Python with lmlab and tokenizers==0.23.3 (default bindings/python/.venv/bin/python)
#   LMLAB=the lmlab binary for the export (default: built by `cargo build --release -p lmlab-cli`)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
source bench/python_common.sh
require_python 'import lmlab, tokenizers; assert tokenizers.__version__ == "0.23.3"' tokenizers==0.23.3
lmlab_binary
shared=$(cd ../shared && pwd)
work=$(mktemp -d /tmp/python-encode-batch.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$python" -c '
import sys, lmlab
text = open(sys.argv[1], encoding="utf-8").read()
lmlab.Tokenizer.train("bpe", [text], vocab_size=8000).save(sys.argv[2])
' "$shared/data/tinystories/train-slice.txt" "$work/lmlab.json"
"$lmlab" tokenizer export-hf "$work/lmlab.json" -o "$work/tokenizer.json" >/dev/null
if [ -n "${SCALE:-}" ]; then
  head -c 100000000 "$SCALE" | sed '$d' > "$work/text.txt"
else
  slices=("$shared/data/tinystories/train-slice.txt" "$shared/data/tinystories/valid-slice.txt")
  while [ "$(stat -c %s "$work/text.txt" 2>/dev/null || echo 0)" -lt 100000000 ]; do
    cat "${slices[@]}" >> "$work/text.txt"
  done
  head -c 100000000 "$work/text.txt" | sed '$d' > "$work/text100.txt" && mv "$work/text100.txt" "$work/text.txt"
fi

RAYON_NUM_THREADS=2 TOKENIZERS_PARALLELISM=true "$python" - "$work" "$runs" <<'PY'
import os, statistics, sys, time
import lmlab
from tokenizers import Tokenizer

work, runs = sys.argv[1], int(sys.argv[2])
ours = lmlab.Tokenizer.load(os.path.join(work, "lmlab.json"))
theirs = Tokenizer.from_file(os.path.join(work, "tokenizer.json"))
raw = open(os.path.join(work, "text.txt"), "rb").read()
lines = raw.decode("utf-8").split("\n")
megabytes = len(raw) / 1e6
batch = 10000
sample = lines[:2000]
assert ours.encode_batch(sample) == [e.ids for e in theirs.encode_batch(sample, add_special_tokens=False)], \
    "lmlab and HF give different ids"

def lmlab_all():
    return sum(sum(map(len, ours.encode_batch(lines[i:i + batch]))) for i in range(0, len(lines), batch))

def hf_all():
    return sum(sum(len(e.ids) for e in theirs.encode_batch(lines[i:i + batch], add_special_tokens=False))
               for i in range(0, len(lines), batch))

cases = [("lmlab Tokenizer.encode_batch", lmlab_all), ("HF Tokenizer.encode_batch", hf_all)]
rows = {name: [] for name, _ in cases}
tokens = {}
for run in range(runs):
    for name, fn in (cases if run % 2 == 0 else cases[::-1]):
        wall, cpu = time.perf_counter(), time.process_time()
        tokens[name] = fn()
        rows[name].append((megabytes / (time.perf_counter() - wall), megabytes / (time.process_time() - cpu)))
print(f"{megabytes:.1f} MB in {len(lines):,} lines, batches of {batch:,}; RAYON_NUM_THREADS=2; {runs} runs; medians")
print(f"  {'':32s} {'MB/s wall':>10s} {'MB/CPU-s':>10s} {'tokens':>12s}")
med = {}
for name, r in rows.items():
    med[name] = (statistics.median(w for w, _ in r), statistics.median(c for _, c in r))
    print(f"  {name:32s} {med[name][0]:10.2f} {med[name][1]:10.2f} {tokens[name]:12,}")
a, b = med["lmlab Tokenizer.encode_batch"], med["HF Tokenizer.encode_batch"]
print(f"  ratio lmlab / HF: wall {a[0] / b[0]:.2f}, per CPU-second {a[1] / b[1]:.2f}")
PY
