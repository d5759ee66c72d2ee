#!/usr/bin/env bash
# Byte-level BPE at vocab 32k on a ~100 MB corpus: lmlab against Hugging Face `tokenizers` 0.23.3
# (the peer) and sentencepiece BPE (an extra reference), RUNS times, alternated in each run (the order
# flips every other run); prints medians and the ratios lmlab / HF.
#   Training: CPU seconds (user + sys, all threads) and peak RSS of each trainer's whole process
#     (/usr/bin/time), and whether lmlab's merges equal HF's, in order.
#     lmlab: `bpe_merges` example, GPT-2 pattern, no specials. HF: BpeTrainer(vocab_size=32000,
#     min_frequency=0, special_tokens=[], initial_alphabet=ByteLevel.alphabet()) with
#     ByteLevel(add_prefix_space=False, use_regex=True), as ../shared/fixtures/README.md.
#     sentencepiece: model_type=bpe, vocab_size=32000, num_threads=$(nproc), defaults otherwise.
#   Encoding: 30 MB held out (the last 30 MB of the scale corpus; training uses its first 100 MB),
#     split into lines, with each side's own 32k tokenizer from the same run, in a fresh process:
#     single thread, MB per CPU-second over the encoding only (lmlab `encode_into` line by line; HF
#     `encode_batch` in batches of 10,000 lines with TOKENIZERS_PARALLELISM=false and
#     RAYON_NUM_THREADS=1); and lmlab `encode_batch` on all lines with 1 and 2 threads (wall MB/s).
# Usage: bench/tokenizers_vs_hf.sh [RUNS]   (default 3)
#   SCALE=PREFIX uses PREFIX.100mb.txt / PREFIX.encode.txt / PREFIX.train.txt; otherwise the first of
#   /tmp/lmlab-scale/scale and /tmp/scale/scale that has them, else ../shared/tools/make-scale-corpus.sh
#   builds /tmp/lmlab-scale/scale.train.txt (root, apt; a few minutes). NO_SPM=1 skips sentencepiece.
#   Needs pip access for the venv bench/.venv (tokenizers==0.23.3, sentencepiece).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
vocab=32000
shared=$(cd ../shared && pwd)

# Corpus: reuse what exists, build only what is missing.
prefix=${SCALE:-}
if [ -z "$prefix" ]; then
  for p in /tmp/lmlab-scale/scale /tmp/scale/scale; do
    if [ -f "$p.100mb.txt" ] && [ -f "$p.encode.txt" ] || [ -f "$p.train.txt" ]; then prefix=$p; break; fi
  done
fi
prefix=${prefix:-/tmp/lmlab-scale/scale}
corpus=$prefix.100mb.txt
heldout=$prefix.encode.txt
if [ ! -f "$corpus" ] || [ ! -f "$heldout" ]; then
  mkdir -p "$(dirname "$prefix")"
  [ -f "$prefix.train.txt" ] || bash "$shared/tools/make-scale-corpus.sh" "$prefix"
  [ -f "$corpus" ] || { head -c 100000000 "$prefix.train.txt" | sed '$d' > "$corpus.tmp" && mv "$corpus.tmp" "$corpus"; }
  [ -f "$heldout" ] || { tail -c 30000000 "$prefix.train.txt" | sed '1d' > "$heldout.tmp" && mv "$heldout.tmp" "$heldout"; }
fi

venv=bench/.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import tokenizers, sentencepiece; assert tokenizers.__version__ == "0.23.3"' 2>/dev/null ||
  "$venv/bin/pip" install -q tokenizers==0.23.3 sentencepiece
py=$venv/bin/python

cargo build --release -q -p lmlab-tokenize --examples
bin=${CARGO_TARGET_DIR:-target}/release/examples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/hf_train.py" <<'PY'
import sys
from tokenizers import Tokenizer, models, trainers, pre_tokenizers
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
tok.train([sys.argv[1]], trainers.BpeTrainer(vocab_size=int(sys.argv[2]), min_frequency=0,
          special_tokens=[], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
tok.save(sys.argv[3])
PY
cat > "$work/spm_train.py" <<'PY'
import os, sys
import sentencepiece as spm
spm.SentencePieceTrainer.train(input=sys.argv[1], model_prefix=sys.argv[3], model_type="bpe",
                               vocab_size=int(sys.argv[2]), num_threads=os.cpu_count(),
                               minloglevel=2)
PY
cat > "$work/hf_encode.py" <<'PY'
import os, sys, time
assert os.environ.get("TOKENIZERS_PARALLELISM") == "false" and os.environ.get("RAYON_NUM_THREADS") == "1"
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1])
data = open(sys.argv[2], "rb").read()
lines = data.decode("utf-8").split("\n")
wall, cpu = time.perf_counter(), time.process_time()
tokens = 0
for i in range(0, len(lines), 10000):
    tokens += sum(len(e.ids) for e in tok.encode_batch(lines[i:i + 10000], add_special_tokens=False))
print(f"bytes={len(data)} tokens={tokens} cpu_s={time.process_time() - cpu:.4f} "
      f"wall_s={time.perf_counter() - wall:.4f}")
PY
cat > "$work/same_merges.py" <<'PY'
import json, sys
hf = [list(m) if isinstance(m, list) else m.split(" ") for m in json.load(open(sys.argv[1]))["model"]["merges"]]
ours = json.load(open(sys.argv[2]))
same = len(hf) == len(ours) and all(a == b for a, b in zip(hf, ours))
first = next((i for i, (a, b) in enumerate(zip(hf, ours)) if a != b), None)
print(f"merges={len(ours)} hf_merges={len(hf)} identical={same} first_difference={first}")
PY

results=$work/results.tsv   # run, what, key=value...
timed() {  # timed RUN NAME OUT CMD...: CPU-s and peak RSS of CMD's whole process, its stdout to OUT
  local run=$1 name=$2 out=$3; shift 3
  /usr/bin/time -f "cpu_s=%U+%S rss_kb=%M wall_s=%e" -o "$work/time" "$@" > "$out"
  echo -e "$run\t$name\t$(tail -n 1 "$work/time")" | tee -a "$results"
}
train_lmlab() { timed "$1" train.lmlab "$work/lmlab_merges.$1.json" "$bin/bpe_merges" "$corpus" "$vocab" gpt2 --save "$work/lmlab.$1.json"; }
train_hf() { timed "$1" train.hf /dev/null "$py" "$work/hf_train.py" "$corpus" "$vocab" "$work/hf.$1.json"; }
train_spm() { [ -n "${NO_SPM:-}" ] || timed "$1" train.spm /dev/null "$py" "$work/spm_train.py" "$corpus" "$vocab" "$work/spm.$1"; }
encode_lmlab() { echo -e "$1\tencode.lmlab\t$("$bin/bpe_encode" "$work/lmlab.$1.json" "$heldout" single)" | tee -a "$results"; }
encode_hf() {
  echo -e "$1\tencode.hf\t$(TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 "$py" "$work/hf_encode.py" "$work/hf.$1.json" "$heldout")" | tee -a "$results"
}
batch() { echo -e "$1\tbatch$2.lmlab\t$("$bin/bpe_encode" "$work/lmlab.$1.json" "$heldout" batch "$2")" | tee -a "$results"; }

echo "corpus $corpus ($(wc -c < "$corpus") bytes), held out $heldout ($(wc -c < "$heldout") bytes), vocab $vocab, $runs runs"
echo "lmlab $(git rev-parse --short HEAD), $(rustc --version), sched_autogroup $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo n/a), $("$py" --version), tokenizers $("$py" -c 'import tokenizers; print(tokenizers.__version__)'), sentencepiece $("$py" -c 'import sentencepiece; print(sentencepiece.__version__)'), $(nproc) cores, $(date -u '+%F %H:%M UTC')"
for ((i = 0; i < runs; i++)); do
  echo "run $((i + 1)) (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  if ((i % 2 == 0)); then
    train_lmlab "$i"; train_hf "$i"; train_spm "$i"
    encode_lmlab "$i"; encode_hf "$i"; batch "$i" 1; batch "$i" 2
  else
    train_spm "$i"; train_hf "$i"; train_lmlab "$i"
    batch "$i" 2; batch "$i" 1; encode_hf "$i"; encode_lmlab "$i"
  fi
  echo -e "$i\tmerges\t$("$py" "$work/same_merges.py" "$work/hf.$i.json" "$work/lmlab_merges.$i.json")" | tee -a "$results"
done

"$py" - "$results" "$(wc -c < "$corpus")" <<'PY'
import collections, os, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    run, what, fields = line.rstrip("\n").split("\t")
    kv = dict(f.split("=", 1) for f in fields.split())
    rows[what].append(kv)
def med(what, key, f=float):
    vals = [f(r[key]) for r in rows[what]]
    return statistics.median(vals) if vals else None
cpu = lambda s: sum(map(float, s.split("+")))
n = len(rows["train.lmlab"])
print(f"\nmedians of {n} runs")
print(f"training, {sys.argv[2]} bytes, vocab 32k   CPU-s   peak RSS MiB   wall s")
train = {}
for what, label in [("train.lmlab", "lmlab bpe"), ("train.hf", "HF BpeTrainer"), ("train.spm", "sentencepiece bpe")]:
    if rows[what]:
        train[what] = (med(what, "cpu_s", cpu), med(what, "rss_kb") / 1024, med(what, "wall_s"))
        print(f"  {label:<28} {train[what][0]:7.2f} {train[what][1]:10.0f} {train[what][2]:10.2f}")
same = {r["identical"] for r in rows["merges"]}
print(f"  lmlab merges identical to HF's, in order: {'yes' if same == {'True'} else 'NO'} "
      f"({rows['merges'][0]['merges']} merges; every run: {[r['identical'] for r in rows['merges']]})")
print(f"encoding, {rows['encode.lmlab'][0]['bytes']} bytes held out   MB per CPU-s   MB/s wall   tokens")
enc = {}
for what, label in [("encode.lmlab", "lmlab encode_into, 1 thread"), ("encode.hf", "HF encode_batch, 1 thread"),
                    ("batch1.lmlab", "lmlab encode_batch, 1 thread"), ("batch2.lmlab", "lmlab encode_batch, 2 threads")]:
    b = float(rows[what][0]["bytes"]) / 1e6
    rate = statistics.median(b / float(r["cpu_s"]) for r in rows[what])
    wall = statistics.median(b / float(r["wall_s"]) for r in rows[what])
    enc[what] = (rate, wall)
    print(f"  {label:<30} {rate:10.1f} {wall:11.1f}   {rows[what][0]['tokens']}")
print(f"  token counts lmlab == HF: {rows['encode.lmlab'][0]['tokens'] == rows['encode.hf'][0]['tokens']}")
l, h = train["train.lmlab"], train["train.hf"]
print(f"ratios lmlab / HF: training CPU time {l[0] / h[0]:.3f}, training peak RSS {l[1] / h[1]:.3f}, "
      f"single-thread encode rate {enc['encode.lmlab'][0] / enc['encode.hf'][0]:.1f}x")
if "train.spm" in train:
    s = train["train.spm"]
    print(f"ratios lmlab / sentencepiece: training CPU time {l[0] / s[0]:.3f}, peak RSS {l[1] / s[1]:.3f}")
ups = [float(a["wall_s"]) / float(b["wall_s"]) for a, b in zip(rows["batch1.lmlab"], rows["batch2.lmlab"])]
cpus = [float(b["cpu_s"]) / float(a["cpu_s"]) for a, b in zip(rows["batch1.lmlab"], rows["batch2.lmlab"])]
print(f"lmlab encode_batch, 2 threads vs 1: wall speed-up median {statistics.median(ups):.2f}x "
      f"(per run {' '.join(f'{u:.2f}' for u in ups)}); CPU-s 2 threads / 1 thread median "
      f"{statistics.median(cpus):.2f} (per run {' '.join(f'{c:.2f}' for c in cpus)})")
print(f"CPU pressure now: {open('/proc/pressure/cpu').readline().strip() if os.path.exists('/proc/pressure/cpu') else 'n/a'}")
PY
