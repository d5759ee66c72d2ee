#!/usr/bin/env bash
# The Python package against KenLM's Python module: PTB test (`<unk>` rewritten to `<oov>`, as
# ../shared/fixtures/README.md) scored sentence by sentence 10 times through the same Python loop,
# with KenLM's lmplz PTB 5-gram (../shared/fixtures/kenlm/ptb.o5.arpa.xz) loaded by each module:
#   kenlm.Model(arpa).score / .full_scores  against  lmlab.kenlm.Model(arpa).score / .full_scores,
#   and lmlab.load(lmlab file).score (natural-log probabilities as a numpy array, and the tokens);
# plus `lmlab eval` of the same text ×10 as one file (the whole process, loading included).
# Tokens (</s> included) per CPU-second of the loop (time.process_time), median of RUNS runs
# alternated between the modules; prints the ratios lmlab / KenLM.
# Usage: bench/python_kenlm.sh [RUNS]   (default 3)
#   PYTHON=a Python with lmlab and kenlm installed (default bindings/python/.venv/bin/python:
#   `pip install ./bindings/python kenlm` into it).
#   LMLAB=a release lmlab binary (default: built by `cargo build --release -p lmlab-cli`).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
source bench/python_common.sh
require_python 'import lmlab, kenlm' kenlm
shared=$(cd ../shared && pwd)
work=$(mktemp -d /tmp/python-kenlm.XXXXXX)
trap 'rm -rf "$work"' EXIT
xz -dc "$shared/fixtures/kenlm/ptb.o5.arpa.xz" > "$work/ptb.arpa"
sed 's/<unk>/<oov>/g' "$shared/data/ptb/ptb.test.txt" > "$work/test.txt"
lmlab_binary
"$lmlab" ngram import-arpa "$work/ptb.arpa" -o "$work/ptb.ngram" >/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$work/test.txt"; done > "$work/test10.txt"

"$python" - "$work" "$runs" "$lmlab" <<'PY'
import json, os, resource, statistics, subprocess, sys, time
import kenlm
import lmlab, lmlab.kenlm

work, runs, cli = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sentences = open(os.path.join(work, "test.txt"), encoding="utf-8").read().splitlines()
tokens = 10 * sum(len(s.split()) + 1 for s in sentences)
arpa, model_file = os.path.join(work, "ptb.arpa"), os.path.join(work, "ptb.ngram")
models = {
    "kenlm": kenlm.Model(arpa),
    "lmlab.kenlm": lmlab.kenlm.Model(arpa),
    "lmlab.load": lmlab.load(model_file),
}

def score_loop(model):
    total = 0.0
    for _ in range(10):
        for s in sentences:
            total += model.score(s)
    return total

def full_scores_loop(model):
    total = 0.0
    for _ in range(10):
        for s in sentences:
            for p, _, _ in model.full_scores(s):
                total += p
    return total

def load_score_loop(model):
    total = 0.0
    for _ in range(10):
        for s in sentences:
            total += float(model.score(s)[0].sum())
    return total

def cli_eval():
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([cli, "eval", model_file, "--input", os.path.join(work, "test10.txt"), "--json"],
                         check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, json.loads(out)["tokens"]

cases = [
    ("kenlm.Model.score", lambda: score_loop(models["kenlm"])),
    ("lmlab.kenlm.Model.score", lambda: score_loop(models["lmlab.kenlm"])),
    ("kenlm.Model.full_scores", lambda: full_scores_loop(models["kenlm"])),
    ("lmlab.kenlm.Model.full_scores", lambda: full_scores_loop(models["lmlab.kenlm"])),
    ("lmlab.load(file).score", lambda: load_score_loop(models["lmlab.load"])),
]
rates = {name: [] for name, _ in cases}
rates["lmlab eval (CLI, whole process)"] = []
totals = {}
for run in range(runs):
    order = cases if run % 2 == 0 else cases[::-1]
    for name, fn in order:
        start = time.process_time()
        totals[name] = fn()
        rates[name].append(tokens / (time.process_time() - start))
    cpu, cli_tokens = cli_eval()
    rates["lmlab eval (CLI, whole process)"].append(cli_tokens / cpu)

print(f"PTB test x10: {tokens} tokens; {runs} runs; medians, tokens per CPU-second")
med = {name: statistics.median(r) for name, r in rates.items()}
for name, rate in med.items():
    print(f"  {name:34s} {rate:12,.0f}")
print(f"  ratio lmlab.kenlm / kenlm, score:       {med['lmlab.kenlm.Model.score'] / med['kenlm.Model.score']:.2f}")
print(f"  ratio lmlab.kenlm / kenlm, full_scores: {med['lmlab.kenlm.Model.full_scores'] / med['kenlm.Model.full_scores']:.2f}")
print(f"  ratio lmlab.kenlm score / lmlab eval:   {med['lmlab.kenlm.Model.score'] / med['lmlab eval (CLI, whole process)']:.2f}")
print(f"  ratio lmlab.load score / lmlab eval:    {med['lmlab.load(file).score'] / med['lmlab eval (CLI, whole process)']:.2f}")
print(f"  log10 totals: kenlm {totals['kenlm.Model.score']:.4f}, lmlab.kenlm {totals['lmlab.kenlm.Model.score']:.4f}")
PY
