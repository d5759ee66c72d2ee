//! The tiny model, text and training call shared by the neural tests.
#![allow(dead_code)]

use lmlab_neural::config::RunConfig;
use lmlab_neural::train::{train, TrainOptions};
use std::path::Path;

/// A two-layer, 16-wide transformer over characters: trains in well under a second.
pub const CONFIG: &str = r#"
tokenizer = "chars"
[model]
n_layer = 2
n_head = 2
n_embd = 16
block_size = 16
[train]
batch_size = 4
max_steps = 8
learning_rate = 1e-2
min_lr = 1e-3
warmup_steps = 2
weight_decay = 0.1
grad_clip = 1.0
seed = 7
eval_iters = 2
eval_interval = 4
checkpoint_interval = 3
"#;

pub fn text() -> (String, String) {
    let full = include_str!("../../../../data/tiny-shakespeare.txt");
    (full[..20_000].to_string(), full[20_000..24_000].to_string())
}

pub fn run(
    config: &RunConfig,
    dir: &Path,
    f: impl FnOnce(&mut TrainOptions),
) -> lmlab_core::Result<lmlab_neural::TrainReport> {
    let (tr, va) = text();
    let mut o = TrainOptions::new(dir);
    f(&mut o);
    train(config, &tr, &va, &o, &mut |_| {})
}
