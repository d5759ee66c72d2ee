#!/usr/bin/env bash
# The GLM on the ~41M-token scale corpus at order 4 under `--memory 4G`, beside lmlab's modified
# Kneser-Ney (`lmlab train ngram`) of the same order and memory setting, in one run: CPU-s (user +
# sys of the whole process, /usr/bin/time), wall seconds, peak RSS, model file bytes and entries,
# and the ratios GLM / MKN. The GLM also runs at a second, tighter setting (LOW, default 1G),
# where its sorts and counts spill to --temp, to show the bound holding (same model file: cmp).
# Both use the words tokenizer learned from the training text and --discount-fallback.
# Corpus: SCALE=FILE, the training text of ../shared/tools/make-scale-corpus.sh with its NUL bytes
# stripped (`tr -d '\0'`), e.g.
#   ../shared/tools/make-scale-corpus.sh /tmp/scale && tr -d '\000' < /tmp/scale.train.txt > /tmp/scale.txt
# Usage: SCALE=/tmp/scale.txt bench/glm_scale.sh   (ORDER=4, MEMORY=4G, LOW=1G; WORK=DIR for the
# models and temporary files, default a fresh dir under /tmp; about 15 CPU-minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${SCALE:?set SCALE to the scale training text (see the header)}
order=${ORDER:-4}
memory=${MEMORY:-4G}
low=${LOW:-1G}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 1; }
cargo build --release -q -p lmlab-cli
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
work=${WORK:-$(mktemp -d /tmp/glm-scale.XXXXXX)}
mkdir -p "$work/temp"
trap 'rm -rf "$work"' EXIT
echo "lmlab $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), memory $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "corpus: $corpus, $(wc -l < "$corpus") lines, $(wc -w < "$corpus") words"
"$lmlab" tokenizer train --kind words --input "$corpus" -o "$work/tok.json" > /dev/null
# Trains family $1 under memory $2 into $3; prints "cpu-s wall-s peak-MiB entries file-bytes".
build() {
  /usr/bin/time -f "%U %S %e %M" -o "$work/time.txt" "$lmlab" train "$1" --order "$order" \
    --input "$corpus" -o "$3" --tokenizer-file "$work/tok.json" --discount-fallback \
    --memory "$2" --temp "$work/temp" --json > "$work/out.json"
  local entries
  entries=$(sed -n 's/.*"parameters": *\([0-9]*\).*/\1/p' "$work/out.json" | head -1)
  awk -v e="$entries" -v b="$(stat -c %s "$3")" '{ printf "%.2f %.2f %.0f %s %s", $1 + $2, $3, $4 / 1024, e, b }' "$work/time.txt"
}
printf "%-22s %9s %9s %9s %12s %14s\n" build CPU-s wall-s "peak MiB" entries "file bytes"
row() { printf "%-22s %9.2f %9.2f %9d %12d %14d\n" "$1" $2; }
mkn=$(build ngram "$memory" "$work/mkn.lmlab"); row "MKN --memory $memory" "$mkn"
rm -f "$work/mkn.lmlab"
glm=$(build glm "$memory" "$work/glm.lmlab"); row "GLM --memory $memory" "$glm"
tight=$(build glm "$low" "$work/glm-low.lmlab"); row "GLM --memory $low" "$tight"
cmp -s "$work/glm.lmlab" "$work/glm-low.lmlab" && same=yes || same=NO
echo "GLM at $low writes the same model file as at $memory: $same"
read -r kc kw km _ <<< "$mkn"
read -r gc gw gm _ <<< "$glm"
awk -v kc="$kc" -v gc="$gc" -v kw="$kw" -v gw="$gw" -v km="$km" -v gm="$gm" 'BEGIN {
  printf "GLM / MKN at the same setting: CPU %.2fx, wall %.2fx, peak RSS %.2fx\n", gc / kc, gw / kw, gm / km }'
