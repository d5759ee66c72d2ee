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
# The digests the experiments in EXPERIMENTS.md were run on.
( cd "$out" && sha256sum -c - ) <<'SUMS'
c56cfd24fb1c542b141a396184b822a4db3672abdb4c49c6aa843171c5e822a5  train.txt
6e8f9e681e46e5416af6a83b5e9c818b58be598317cbba106cc97c4a35e2efb3  valid.txt
67e00874f724770ce8a800c5be5a12628297a13a85c1b790d57524dcf59b1b99  test.txt
SUMS
