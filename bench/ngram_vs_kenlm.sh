#!/usr/bin/env bash
# N-gram LMs: lmlab (`lmlab train ngram`, `lmlab eval`) against KenLM (`lmplz`, `build_binary`,
# `query`), RUNS times, alternated in each run (the order flips every other run); prints medians
# and the ratios lmlab / KenLM.
#   Build: order 5, interpolated modified Kneser-Ney, at the same memory setting (lmplz -S MEMORY,
#     lmlab --memory MEMORY), CPU seconds (user + sys, all threads) and peak RSS of the whole process
#     (/usr/bin/time), on PTB (ptb.train with `<unk>` rewritten to `<oov>`, as
#     ../shared/fixtures/README.md) and on the ~41M-token scale corpus (NUL bytes stripped). Each
#     side writes its own output: lmplz an ARPA file, lmlab its binary model file.
#   Query: the PTB test set (same rewrite) repeated to ~10M tokens; KenLM's probing binary
#     (`build_binary probing` of lmplz's PTB ARPA, `query -v summary`) against `lmlab eval` of
#     lmlab's PTB model and of lmplz's PTB ARPA imported (`lmlab ngram import-arpa`), tokens
#     (</s> included) per CPU-second of the whole process (loading included); file sizes;
#     perplexities.
# Usage: bench/ngram_vs_kenlm.sh [RUNS]   (default 3)
#   LMPLZ=/path/to/lmplz (required); KENLM_BIN=dir with query and build_binary (default: LMPLZ's dir).
#   MEMORY=1G (the -S / --memory setting). SCALE=FILE: the scale training text (default: the first
#   of /work/scale/scale.train.txt, /tmp/lmlab-scale/scale.train.txt that exists, else
#   ../shared/tools/make-scale-corpus.sh builds /tmp/lmlab-scale/scale.train.txt). NO_SCALE=1 skips
#   the scale corpus. WORK=DIR for temporary files (default: a fresh dir under /tmp; needs ~5 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
memory=${MEMORY:-1G}

if [ -z "${LMPLZ:-}" ] || [ ! -x "${LMPLZ}" ]; then
  echo "LMPLZ is not set to an lmplz executable (KenLM built from source); nothing to compare against." >&2
  exit 0
fi
kbin=${KENLM_BIN:-$(dirname "$LMPLZ")}
for tool in query build_binary; do
  if [ ! -x "$kbin/$tool" ]; then
    echo "KENLM_BIN ($kbin) has no $tool executable; set KENLM_BIN to KenLM's bin directory." >&2
    exit 0
  fi
done
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 1; }

shared=$(cd ../shared && pwd)
ptb=$shared/data/ptb
cargo build --release -q -p lmlab-cli
lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab

work=${WORK:-$(mktemp -d /tmp/ngram-bench.XXXXXX)}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# Corpora.
sed 's/<unk>/<oov>/g' "$ptb/ptb.train.txt" > "$work/ptb.train.txt"
sed 's/<unk>/<oov>/g' "$ptb/ptb.test.txt" > "$work/ptb.test.txt"
corpora=(ptb)
if [ -z "${NO_SCALE:-}" ]; then
  scale=${SCALE:-}
  if [ -z "$scale" ]; then
    for s in /work/scale/scale.train.txt /tmp/lmlab-scale/scale.train.txt; do
      [ -f "$s" ] && { scale=$s; break; }
    done
  fi
  if [ -z "$scale" ]; then
    mkdir -p /tmp/lmlab-scale
    bash "$shared/tools/make-scale-corpus.sh" /tmp/lmlab-scale/scale
    scale=/tmp/lmlab-scale/scale.train.txt
  fi
  # The scale corpus has a few NUL bytes (lmlab refuses them as invalid text; lmplz reads them).
  tr -d '\000' < "$scale" > "$work/scale.train.txt"
  corpora+=(scale)
fi
tokens_ptb=$(wc -w < "$work/ptb.train.txt")
echo "lmlab $("$lmlab" --version | awk '{print $2}'), KenLM $(git -C "$(dirname "$LMPLZ")/../.." rev-parse --short HEAD 2>/dev/null || echo '(unknown commit)')"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg); memory setting $memory; $runs runs"
for c in "${corpora[@]}"; do
  echo "corpus $c: $(wc -l < "$work/$c.train.txt") lines, $(wc -w < "$work/$c.train.txt") words"
done

# One measured command: appends "label cpu_seconds peak_kib" to $work/results.
measure() {
  local label=$1; shift
  /usr/bin/time -f "%U %S %M" -o "$work/time.txt" "$@" > "$work/out.txt" 2> "$work/err.txt" || {
    echo "FAILED: $*" >&2; cat "$work/err.txt" >&2; exit 1; }
  read -r user sys kib < <(tail -1 "$work/time.txt")
  echo "$label $(echo "$user + $sys" | bc -l) $kib" >> "$work/results"
  printf '  %-14s %8.2f CPU-s %8.0f MiB\n' "$label" "$(echo "$user + $sys" | bc -l)" "$(echo "$kib / 1024" | bc -l)"
}

build_kenlm() {
  measure "kenlm_$1" "$LMPLZ" -o 5 -S "$memory" -T "$work/" --text "$work/$1.train.txt" --arpa "$work/$1.arpa"
}
build_lmlab() {
  measure "lmlab_$1" "$lmlab" train ngram --order 5 --memory "$memory" --temp "$work" \
    --input "$work/$1.train.txt" -o "$work/$1.lmlab"
}

: > "$work/results"
for c in "${corpora[@]}"; do
  for ((r = 1; r <= runs; r++)); do
    echo "build $c, run $r"
    if ((r % 2)); then build_kenlm "$c"; build_lmlab "$c"; else build_lmlab "$c"; build_kenlm "$c"; fi
    if [ "$c" != ptb ]; then
      sizes_scale="$(stat -c %s "$work/$c.arpa") $(stat -c %s "$work/$c.lmlab")"
      rm -f "$work/$c.arpa" "$work/$c.lmlab"
    fi
  done
done

# Query throughput on the PTB test set repeated to ~10M tokens (</s> counted as a token).
per=$(( $(wc -w < "$work/ptb.test.txt") + $(wc -l < "$work/ptb.test.txt") ))
reps=$(( (10000000 + per - 1) / per ))
for ((i = 0; i < reps; i++)); do cat "$work/ptb.test.txt"; done > "$work/query.txt"
qtokens=$((per * reps))
"$kbin/build_binary" probing "$work/ptb.arpa" "$work/ptb.probing" > /dev/null 2>&1
"$lmlab" ngram import-arpa "$work/ptb.arpa" -o "$work/ptb.arpa.lmlab" > /dev/null
echo "query: $qtokens tokens ($reps copies of ptb.test)"
for ((r = 1; r <= runs; r++)); do
  q_kenlm() {
    measure query_kenlm "$kbin/query" -v summary "$work/ptb.probing" < "$work/query.txt"
    ppl_kenlm=$(grep -i 'Perplexity including OOVs' "$work/out.txt" | awk '{print $NF}')
  }
  q_lmlab() {
    measure query_lmlab "$lmlab" eval "$work/ptb.lmlab" --input "$work/query.txt"
    ppl_lmlab=$(grep -i -m1 'perplexity' "$work/out.txt" | tr -s ' ' | sed 's/.*perplexity[: ]*//I' | awk '{print $1}')
  }
  q_arpa() {
    measure query_arpa "$lmlab" eval "$work/ptb.arpa.lmlab" --input "$work/query.txt"
    ppl_arpa=$(grep -i -m1 'perplexity' "$work/out.txt" | tr -s ' ' | sed 's/.*perplexity[: ]*//I' | awk '{print $1}')
  }
  if ((r % 2)); then q_kenlm; q_lmlab; q_arpa; else q_arpa; q_lmlab; q_kenlm; fi
done

median() { # label column
  awk -v l="$1" -v c="$2" '$1 == l {print $c}' "$work/results" | sort -g |
    awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
echo
echo "== medians of $runs runs (memory setting $memory) =="
printf '%-22s %12s %12s %10s\n' "" "KenLM" "lmlab" "lmlab/KenLM"
for c in "${corpora[@]}"; do
  kc=$(median "kenlm_$c" 2); lc=$(median "lmlab_$c" 2)
  km=$(median "kenlm_$c" 3); lm=$(median "lmlab_$c" 3)
  printf '%-22s %12.2f %12.2f %10.2f\n' "build $c CPU-s" "$kc" "$lc" "$(echo "$lc / $kc" | bc -l)"
  printf '%-22s %12.0f %12.0f %10.2f\n' "build $c peak MiB" "$(echo "$km / 1024" | bc -l)" "$(echo "$lm / 1024" | bc -l)" "$(echo "$lm / $km" | bc -l)"
done
kq=$(median query_kenlm 2); lq=$(median query_lmlab 2)
ktps=$(echo "$qtokens / $kq / 1000000" | bc -l); ltps=$(echo "$qtokens / $lq / 1000000" | bc -l)
printf '%-22s %12.2f %12.2f %10.2f\n' "query M tokens/CPU-s" "$ktps" "$ltps" "$(echo "$ltps / $ktps" | bc -l)"
printf '%-22s %12.0f %12.0f %10.2f\n' "query peak MiB" "$(echo "$(median query_kenlm 3) / 1024" | bc -l)" "$(echo "$(median query_lmlab 3) / 1024" | bc -l)" \
  "$(echo "$(median query_lmlab 3) / $(median query_kenlm 3)" | bc -l)"
aq=$(median query_arpa 2); atps=$(echo "$qtokens / $aq / 1000000" | bc -l)
printf '%-22s %12.2f %12.2f %10.2f\n' "ARPA-import M tok/CPU-s" "$ktps" "$atps" "$(echo "$atps / $ktps" | bc -l)"
printf '%-22s %12.0f %12.0f %10.2f\n' "ARPA-import peak MiB" "$(echo "$(median query_kenlm 3) / 1024" | bc -l)" "$(echo "$(median query_arpa 3) / 1024" | bc -l)" \
  "$(echo "$(median query_arpa 3) / $(median query_kenlm 3)" | bc -l)"
ks=$(stat -c %s "$work/ptb.probing"); ls_=$(stat -c %s "$work/ptb.lmlab")
printf '%-22s %12.1f %12.1f %10.2f\n' "PTB model file MB" "$(echo "$ks / 1000000" | bc -l)" "$(echo "$ls_ / 1000000" | bc -l)" "$(echo "$ls_ / $ks" | bc -l)"
if [ -n "${sizes_scale:-}" ]; then
  read -r sa sl <<< "$sizes_scale"
  printf '%-22s %12.1f %12.1f %10s\n' "scale ARPA / model MB" "$(echo "$sa / 1000000" | bc -l)" "$(echo "$sl / 1000000" | bc -l)" "-"
fi
echo "perplexity on the repeated test set: KenLM ${ppl_kenlm:-?}, lmlab ${ppl_lmlab:-?}, lmlab on the imported ARPA ${ppl_arpa:-?}"
