# Sourced by bench/speculative.sh and bench/cdlm.sh: the byte-level TinyStories transformer config of
# issue 14's figures (4 heads, lr 2e-3 → 2e-4), `$steps` steps; CONTEXT bytes of context (default 128) and
# BATCH sequences a step (default 16).
neural_config() { # LAYERS EMBD
  cat <<TOML
tokenizer = "bytes"
sequences = "stream"
[model]
n_layer = $1
n_head = 4
n_embd = $2
block_size = ${CONTEXT:-128}
norm = "layernorm"
mlp = "gelu"
positions = "learned"
tied_head = true
bias = false
[train]
batch_size = ${BATCH:-16}
max_steps = $steps
learning_rate = 2e-3
min_lr = 2e-4
warmup_steps = 30
beta1 = 0.9
beta2 = 0.99
weight_decay = 0.1
grad_clip = 1.0
seed = 1337
eval_interval = $steps
eval_iters = 10
checkpoint_interval = $steps
TOML
}
