#!/bin/sh
# Derives the experiments' TinyStories splits from ../shared, deterministically, into
# experiments/data/ (git-ignored). The shared corpus has a train slice and a validation slice but
# no test split, so the validation slice is cut in two at blank lines (paragraph boundaries):
#   train.txt = all of tinystories/train-slice.txt              (944,426 bytes, 10,426 lines)
#   valid.txt = lines    1-1000 of tinystories/valid-slice.txt  (~105 KB)
#   test.txt  = lines 1001-3000 of tinystories/valid-slice.txt  (~171 KB)
# PTB is used as it is, from ../shared/data/ptb.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../shared/data/tinystories"
out="$here/data/tinystories"
mkdir -p "$out"
cp "$src/train-slice.txt" "$out/train.txt"
sed -n '1,1000p' "$src/valid-slice.txt" > "$out/valid.txt"
sed -n '1001,3000p' "$src/valid-slice.txt" > "$out/test.txt"
( cd "$out" && sha256sum train.txt valid.txt test.txt )
