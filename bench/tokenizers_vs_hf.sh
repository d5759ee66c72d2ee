#!/bin/bash
# BPE training and encoding: lmlab against Hugging Face `tokenizers` on a ~100 MB corpus, vocab 32k.
# Usage: crates/lmlab-tokenize/bench/tokenizer_bench.sh [CORPUS_PREFIX]
#   CORPUS_PREFIX.train.txt is built with shared/tools/make-scale-corpus.sh when missing (root, apt).
#   The Hugging Face side needs `python3 -m pip install tokenizers`; it is skipped without it.
# Prints CPU seconds, peak RSS, whether the merges are identical, and encoding MB per CPU-second.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
shared=$(cd "$root/../shared" && pwd)
prefix=${1:-/tmp/lmlab-scale/scale}
vocab=${VOCAB:-32000}
mkdir -p "$(dirname "$prefix")"
[ -f "$prefix.train.txt" ] || bash "$shared/tools/make-scale-corpus.sh" "$prefix"
corpus=$prefix.100mb.txt
[ -f "$corpus" ] || head -c 100000000 "$prefix.train.txt" | sed '$d' > "$corpus"
tail -c 30000000 "$prefix.train.txt" | sed '1d' > "$prefix.encode.txt"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build -q --release -p lmlab-tokenize --examples)
bin=$CARGO_TARGET_DIR/release/examples
out=$(mktemp -d)
echo "corpus: $(wc -c < "$corpus") bytes, vocab $vocab"
/usr/bin/time -f "lmlab bpe train: %U user + %S sys CPU-s, %M KB peak RSS" \
  "$bin/bpe_merges" "$corpus" "$vocab" gpt2 > "$out/lmlab.json"
/usr/bin/time -f "lmlab scaffold-bpe train: %U user + %S sys CPU-s, %M KB peak RSS" \
  "$bin/bpe_merges" "$corpus" "$vocab" gpt2 scaffold > /dev/null
"$bin/bpe_bench" "$corpus" "$vocab" "$prefix.encode.txt" | grep -v "^train"
if python3 -c "import tokenizers" 2>/dev/null; then
  /usr/bin/time -f "HF tokenizers train: %U user + %S sys CPU-s, %M KB peak RSS" python3 - "$corpus" "$vocab" "$out/hf.json" <<'PY'
import sys
from tokenizers import Tokenizer, models, trainers, pre_tokenizers
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
tok.train([sys.argv[1]], trainers.BpeTrainer(vocab_size=int(sys.argv[2]), min_frequency=0,
          special_tokens=[], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
tok.save(sys.argv[3])
PY
  python3 - "$out/hf.json" "$out/lmlab.json" <<'PY'
import json, sys
hf = [list(m) if isinstance(m, list) else m.split(" ") for m in json.load(open(sys.argv[1]))["model"]["merges"]]
ours = json.load(open(sys.argv[2]))
diff = next((i for i, (a, b) in enumerate(zip(hf, ours)) if a != b), None)
print(f"merges: HF {len(hf)}, lmlab {len(ours)}, identical in order: {diff is None and len(hf) == len(ours)}")
PY
else
  echo "python3 tokenizers not installed: Hugging Face side skipped"
fi
rm -rf "$out"
