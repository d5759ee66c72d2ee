# Sourced by bench/model_arithmetic.sh and bench/distillation.sh: the character transformer config
# of issue 15's figures (4 heads, n_embd 64, context 64, batch 16, lr 3e-3 → 3e-4).
config() { # n_layer seed
  cat <<TOML
tokenizer = "chars"
[model]
n_layer = $1
n_head = 4
n_embd = 64
block_size = 64
[train]
batch_size = 16
max_steps = 100000
learning_rate = 3e-3
min_lr = 3e-4
warmup_steps = 20
eval_iters = 10
eval_interval = 50
seed = $2
TOML
}
