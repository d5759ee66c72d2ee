#!/usr/bin/env bash
# How much the GLM's skipped patterns multiply the tables: `lmlab train glm` against
# `lmlab train ngram` (modified Kneser-Ney) at orders 3, 4, 5 on PTB train (words tokenizer, the
# text as shipped), in one run: stored entries (the model's parameter count: n-grams for MKN,
# (history, word) entries over the 2^(N-1) skip patterns for the GLM), model file bytes, and the
# whole build's CPU-s (user + sys of the process) and peak RSS (/usr/bin/time). Prints the GLM / MKN
# ratio of each (the CPU ratio at order 5 is issue 13's "build CPU <= 3x MKN" figure).
# Usage: bench/glm_tables.sh   ORDERS="3 4 5" to narrow it; WORK=DIR for temporary files.
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${ORDERS:-3 4 5}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 1; }
ptb=$(cd ../shared && pwd)/data/ptb/ptb.train.txt
cargo build --release -q -p lmlab-cli
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
work=${WORK:-$(mktemp -d /tmp/glm-tables.XXXXXX)}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
echo "lmlab $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
# Trains family $1 at order $2; prints "entries file-bytes cpu-s peak-MiB".
build() {
  local model=$work/$1$2.lmlab
  /usr/bin/time -f "%U %S %M" -o "$work/time.txt" "$lmlab" train "$1" --order "$2" --input "$ptb" \
    -o "$model" --tokenizer words --json > "$work/out.json"
  local entries
  entries=$(sed -n 's/.*"parameters": *\([0-9]*\).*/\1/p' "$work/out.json" | head -1)
  awk -v e="$entries" -v b="$(stat -c %s "$model")" '{ printf "%s %s %.3f %.1f", e, b, $1 + $2, $3 / 1024 }' "$work/time.txt"
}
printf "%5s %12s %12s %7s %11s %11s %7s %9s %9s %7s %8s %8s %7s\n" order "MKN entries" "GLM entries" ratio \
  "MKN bytes" "GLM bytes" ratio "MKN CPU-s" "GLM CPU-s" ratio "MKN MiB" "GLM MiB" ratio
for n in $orders; do
  read -r ke kb kc km <<< "$(build ngram "$n")"
  read -r ge gb gc gm <<< "$(build glm "$n")"
  awk -v n="$n" -v ke="$ke" -v ge="$ge" -v kb="$kb" -v gb="$gb" -v kc="$kc" -v gc="$gc" -v km="$km" -v gm="$gm" 'BEGIN {
    printf "%5d %12d %12d %6.2fx %11d %11d %6.2fx %9.2f %9.2f %6.2fx %8.1f %8.1f %6.2fx\n", n, ke, ge, ge / ke, kb, gb, gb / kb, kc, gc, gc / kc, km, gm, gm / km }'
done
