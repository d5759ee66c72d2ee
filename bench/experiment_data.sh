# Sourced by the experiment benchmarks (experiment_overhead.sh, slurm_vs_local.sh).

# split_shakespeare DIR: data/tiny-shakespeare.txt split by lines 90/5/5 into DIR/{train,valid,test}.txt.
split_shakespeare() {
  local text=data/tiny-shakespeare.txt lines
  lines=$(wc -l < "$text")
  sed -n "1,$((lines * 90 / 100))p" "$text" > "$1/train.txt"
  sed -n "$((lines * 90 / 100 + 1)),$((lines * 95 / 100))p" "$text" > "$1/valid.txt"
  sed -n "$((lines * 95 / 100 + 1)),\$p" "$text" > "$1/test.txt"
}

# count_based_arms: the TOML of 10 count-based arms (byte n-grams of orders 2–6, char n-grams of
# orders 2–4, a bigram baseline, uniform).
count_based_arms() {
  cat <<'TOML'
[[arm]]
name = "bytes"
recipe = { model = { family = "ngram", discount_fallback = [0.5, 1.0, 1.5] }, tokenizer = { kind = "bytes" } }
sweep = { "model.order" = [2, 3, 4, 5, 6] }

[[arm]]
name = "chars"
recipe = { model = { family = "ngram", discount_fallback = [0.5, 1.0, 1.5] }, tokenizer = { kind = "chars" } }
sweep = { "model.order" = [2, 3, 4] }

[[arm]]
name = "bigram"
recipe = { model = { family = "baseline" }, tokenizer = { kind = "bytes" } }

[[arm]]
name = "uniform"
recipe = { model = { family = "uniform" }, tokenizer = { kind = "bytes" } }
TOML
}

# experiment_tail STEPS: the [data] table of the split above, the count-based arms, and a 1-layer
# d 32 byte transformer arm stopped at STEPS steps (or its budget).
experiment_tail() {
  printf '\n[data]\ntrain = "train.txt"\nvalid = "valid.txt"\ntest = "test.txt"\n\n'
  count_based_arms
  cat <<TOML

[[arm]]
name = "tiny"
[arm.recipe]
tokenizer = { kind = "bytes" }
model = { family = "transformer", n_layer = 1, n_head = 2, n_embd = 32, block_size = 32 }
train = { batch_size = 8, max_steps = $1, learning_rate = 3e-3, min_lr = 3e-4, eval_iters = 2 }
TOML
}
