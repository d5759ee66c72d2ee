#!/usr/bin/env bash
# EM ensemble weights on the published PTB probability files (Herel & Mikolov's sota_lm, 3 models,
# 73,759 dev / 82,429 test tokens): lmlab vs a NumPy implementation of the same EM (the peer: the
# sota_lm repository fits its weights with a Python script), both fitting weights to the same relative
# tolerance, run alternately; prints the median EM time of each and the ratio.
# Usage: bench/ensemble_em.sh [RUNS]   (needs ../shared/fixtures/sota_lm, and pip access for numpy)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
fixtures=../shared/fixtures/sota_lm/ptb
[ -d "$fixtures" ] || { echo "missing $fixtures"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p lmlab-cli
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
venv=bench/.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import numpy' 2>/dev/null || "$venv/bin/pip" install -q numpy
py="$venv/bin/python"
models=(KneserNey-5gram AWD-LSTM-MOS QRNN)
for split in valid test; do
  for m in "${models[@]}"; do
    "$lmlab" probs import --words "$fixtures/words_$split.txt" --probs "$fixtures/$split/$m.txt" \
      -o "$work/$m.$split.probs.tsv" >/dev/null
  done
done
cat > "$work/em.py" <<'PY'
import sys, time, numpy as np
p = np.array([np.loadtxt(f) for f in sys.argv[1:]])          # models x tokens
start = time.perf_counter()
w = np.full(p.shape[0], 1.0 / p.shape[0]); prev = None
for it in range(1001):
    mix = w @ p
    ll = np.log(mix).sum()
    if prev is not None and ll - prev <= 1e-10 * abs(prev):
        break
    prev = ll
    w = (w[:, None] * p / mix).mean(axis=1)
print(time.perf_counter() - start, it, *(f"{x:.6f}" for x in w))
PY
rust=(); numpy=()
for ((i = 0; i < runs; i++)); do
  "$lmlab" ensemble --json --dev "$work"/{KneserNey-5gram,AWD-LSTM-MOS,QRNN}.valid.probs.tsv \
    --test "$work"/{KneserNey-5gram,AWD-LSTM-MOS,QRNN}.test.probs.tsv > "$work/out.json"
  rust+=("$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["fit_seconds"])' "$work/out.json")")
  peer=$("$py" "$work/em.py" "$fixtures"/valid/{KneserNey-5gram,AWD-LSTM-MOS,QRNN}.txt)
  numpy+=("${peer%% *}")
done
"$py" - "$work/out.json" "$peer" "${rust[*]}" "${numpy[*]}" <<'PY'
import json, statistics, sys
report = json.load(open(sys.argv[1]))
peer = sys.argv[2].split()
rust = statistics.median(map(float, sys.argv[3].split()))
numpy = statistics.median(map(float, sys.argv[4].split()))
weights = " ".join(f"{m['weight']:.6f}" for m in report["members"])
print(f"lmlab weights {weights}  ({len(report['em']['log_likelihood']) - 1} iterations), "
      f"dev ppl {report['dev']['perplexity']:.3f}, test ppl {report['test']['perplexity']:.3f}")
print(f"numpy weights {' '.join(peer[2:])}  ({peer[1]} iterations)")
print(f"EM fit, median of {len(sys.argv[3].split())} runs: lmlab {rust*1e3:.2f} ms, numpy {numpy*1e3:.2f} ms, "
      f"lmlab/numpy time ratio {rust/numpy:.3f}")
PY
