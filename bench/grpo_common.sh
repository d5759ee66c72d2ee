# Sourced by bench/grpo_start.sh and bench/grpo_scaffolds.sh (from the repository root, with $out
# set): a fresh $out, the lmlab binary in $lmlab (LMLAB=BINARY skips the build), the date, CPU and
# load in $out/machine.txt, and issue 16's addition task file (1-5 digit operands, 8000 problems)
# as $out/$1 (or 8000 problems of task kind $2 up to difficulty $3).
rm -rf "$out"
mkdir -p "$out"
if [ -z "${LMLAB:-}" ]; then
  cargo build --release -q -p lmlab-cli
  LMLAB=${CARGO_TARGET_DIR:-target}/release/lmlab
fi
lmlab=$LMLAB
echo "$(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p') load $(cut -d' ' -f1-3 /proc/loadavg)" > "$out/machine.txt"
$lmlab tasks make "${2:-addition}" --n 8000 --max-difficulty "${3:-5}" --seed 1 -o "$out/$1"

# sft_config FILE LR POSITIONS SEED CHECKPOINT_INTERVAL: the supervised start's config, a 2-layer,
# 4-head, 64-wide character transformer over lines (context $BLOCK, default 64), the learning
# rate decaying to a tenth.
sft_config() {
  cat > "$1" <<TOML
tokenizer = "chars"
sequences = "line"
[model]
n_layer = 2
n_head = 4
n_embd = 64
block_size = ${BLOCK:-64}
positions = "$3"
[train]
batch_size = 24
max_steps = 1000000
learning_rate = $2
min_lr = $(python3 -c "print($2 / 10)")
warmup_steps = 50
seed = $4
eval_iters = 5
eval_interval = 0
checkpoint_interval = $5
TOML
}
