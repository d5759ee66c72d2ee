//! Helpers shared by the CLI tests.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The `lmlab` binary.
pub fn lmlab() -> Command {
    Command::cargo_bin("lmlab").unwrap()
}

/// Runs `lmlab args...`, expecting success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = lmlab().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "lmlab {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `lmlab args...`, expecting a clean failure (exit code 1 or 2, no panic); returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = lmlab().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "lmlab {args:?} succeeded");
    assert!(
        matches!(out.status.code(), Some(1) | Some(2)),
        "exit {:?}: {stderr}",
        out.status
    );
    assert!(
        !stderr.contains("panicked"),
        "lmlab {args:?} panicked: {stderr}"
    );
    stderr
}

/// A small training and test text in `dir`.
pub fn texts(dir: &Path) -> (PathBuf, PathBuf) {
    let train = dir.join("train.txt");
    let test = dir.join("test.txt");
    let mut body = String::new();
    for i in 0..200 {
        body.push_str(&format!("the cat number {} sat on the mat\n", i % 17));
        body.push_str("a dog ran after the cat\n");
    }
    std::fs::write(&train, body).unwrap();
    std::fs::write(&test, "the cat sat on the dog\na zebra ran\n").unwrap();
    (train, test)
}

/// Checks a model trained on [`texts`]: `predict` puts "mat" first after "the cat number 3 sat on
/// the", and `generate` continues a prompt.
pub fn predicts_mat_and_generates(model: &Path) {
    let top: serde_json::Value = serde_json::from_str(&ok(&[
        "predict",
        s(model),
        "--context",
        "the cat number 3 sat on the",
        "--top-k",
        "3",
        "--json",
    ]))
    .unwrap();
    assert_eq!(top[0]["token"], "mat");
    let text = ok(&["generate", s(model), "--seed", "4", "--prompt", "a dog"]);
    assert!(text.starts_with("a dog"), "{text}");
}

/// 1,500 lines of cats and mats in `dir`: train.txt, and its first 4,000 bytes as valid.txt, the
/// next 4,000 as test.txt.
pub fn cat_splits(dir: &Path) {
    let mut train = String::new();
    for i in 0..1500 {
        train.push_str(&format!(
            "the {} cat sat on the {} mat number {}\n",
            ["red", "big", "old"][i % 3],
            ["blue", "flat", "new", "warm"][i % 4],
            i % 37
        ));
    }
    std::fs::write(dir.join("train.txt"), &train).unwrap();
    std::fs::write(dir.join("valid.txt"), &train[..4000]).unwrap();
    std::fs::write(dir.join("test.txt"), &train[4000..8000]).unwrap();
}

/// Path as &str.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The texts of [`texts`] and a Witten-Bell words baseline trained on the first, as `m.lmlab`.
pub fn trained(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (train, test) = texts(dir);
    let model = dir.join("m.lmlab");
    ok(&["train", "baseline", "--input", s(&train), "-o", s(&model)]);
    (train, test, model)
}

/// A tiny neural run config (bytes tokenizer, line sequences, learned positions, LayerNorm, GELU).
pub struct TinyNet {
    pub arch: &'static str,
    pub n_layer: usize,
    pub n_head: usize,
    pub n_embd: usize,
    pub block_size: usize,
    pub batch_size: usize,
    pub max_steps: usize,
    pub eval_interval: usize,
    pub eval_iters: usize,
    pub checkpoint_interval: usize,
}

impl TinyNet {
    /// Writes the config as TOML to `path` and returns the path.
    pub fn write(&self, path: PathBuf) -> PathBuf {
        let TinyNet {
            arch,
            n_layer,
            n_head,
            n_embd,
            block_size,
            batch_size,
            max_steps,
            eval_interval,
            eval_iters,
            checkpoint_interval,
        } = self;
        std::fs::write(
            &path,
            format!(
                r#"tokenizer = "bytes"
sequences = "line"
[model]
arch = "{arch}"
n_layer = {n_layer}
n_head = {n_head}
n_embd = {n_embd}
block_size = {block_size}
norm = "layernorm"
mlp = "gelu"
positions = "learned"
tied_head = true
bias = false
[train]
batch_size = {batch_size}
max_steps = {max_steps}
learning_rate = 3e-3
min_lr = 3e-4
warmup_steps = 2
lr_decay_steps = {max_steps}
beta1 = 0.9
beta2 = 0.99
weight_decay = 0.1
grad_clip = 1.0
seed = 5
eval_interval = {eval_interval}
eval_iters = {eval_iters}
checkpoint_interval = {checkpoint_interval}
"#
            ),
        )
        .unwrap();
        path
    }
}

/// `../shared/REL` next to the workspace, or `None` (with a message: the test then skips) when
/// the shared data are not here.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    if path.exists() {
        Some(path)
    } else {
        lmlab_core::test_support::report_skip(&format!(
            "{} not found (the shared data are not here)",
            path.display()
        ));
        None
    }
}

/// A tiny byte-level run config for `lmlab train ARCH` (12 steps, a validation and a checkpoint
/// every 6) written in `dir` as `ARCH.toml`.
pub fn neural_config(dir: &Path, arch: &'static str, heads: usize) -> PathBuf {
    TinyNet {
        arch,
        n_layer: 1,
        n_head: heads,
        n_embd: 16,
        block_size: 16,
        batch_size: 4,
        max_steps: 12,
        eval_interval: 6,
        eval_iters: 2,
        checkpoint_interval: 6,
    }
    .write(dir.join(format!("{arch}.toml")))
}

/// The arguments of `lmlab train transformer --config CONFIG` on the texts of [`texts`] (written
/// in `dir`) into `out`.
pub fn transformer_args(dir: &Path, config: &Path, out: &Path) -> Vec<String> {
    let (train, test) = texts(dir);
    [
        "train",
        "transformer",
        "--config",
        s(config),
        "--train",
        s(&train),
        "--valid",
        s(&test),
        "-o",
        s(out),
    ]
    .map(String::from)
    .to_vec()
}

/// `lmlab train transformer --config CONFIG` on the texts of [`texts`] into `dir/NAME`.
pub fn train_transformer(dir: &Path, config: &Path, name: &str) -> PathBuf {
    let run = dir.join(name);
    let args = transformer_args(dir, config, &run);
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    run
}

/// The texts of [`texts`] and a modified Kneser-Ney trigram trained on the first (with the fallback
/// discounts: the text is small), as `kn.lmlab`.
pub fn trained_trigram(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (train, test) = texts(dir);
    let model = dir.join("kn.lmlab");
    ok(&[
        "train",
        "ngram",
        "--order",
        "3",
        "--input",
        s(&train),
        "-o",
        s(&model),
        "--discount-fallback",
    ]);
    (train, test, model)
}
