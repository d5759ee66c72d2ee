//! Dropout: off by default and then bit-identical to a run without the field; on, it changes training
//! but never evaluation, and resumed runs still equal uninterrupted ones.

use lmlab_core::LanguageModel;
use lmlab_neural::checkpoint::{Checkpoint, FILE_NAME};
use lmlab_neural::config::RunConfig;
use lmlab_neural::data::token_stream;
use lmlab_neural::model::Transformer;
use lmlab_neural::train::{evaluate, load_run_tokenizer, StopReason};
use std::path::Path;

mod common;
use common::{run, text, CONFIG};

/// The shared tiny config with gradient accumulation, so resumption is checked across micro-batches.
fn config_text() -> String {
    CONFIG.replace("batch_size = 4\n", "batch_size = 4\ngrad_accum = 2\n")
}

fn with_dropout(p: f64) -> RunConfig {
    RunConfig::parse(&config_text().replace(
        "block_size = 16",
        &format!("block_size = 16\ndropout = {p}"),
    ))
    .unwrap()
}

fn load(d: &Path) -> Checkpoint {
    Checkpoint::load(&d.join(FILE_NAME)).unwrap()
}

#[test]
fn dropout_zero_is_the_run_without_dropout_bit_for_bit() {
    let plain = RunConfig::parse(&config_text()).unwrap();
    let zero = with_dropout(0.0);
    assert_eq!(plain, zero);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ra = run(&plain, a.path(), |_| {}).unwrap();
    let rb = run(&zero, b.path(), |_| {}).unwrap();
    assert_eq!(ra.train_loss.to_bits(), rb.train_loss.to_bits());
    assert_eq!(ra.val_history, rb.val_history);
    let (ca, cb) = (load(a.path()), load(b.path()));
    assert_eq!(ca.params, cb.params);
    assert_eq!((ca.adam_m, ca.adam_v), (cb.adam_m, cb.adam_v));
    // Dropout 0 stays out of the recorded config: old runs' config.json and checkpoints are unchanged.
    let recorded = std::fs::read_to_string(b.path().join("config.json")).unwrap();
    assert!(!recorded.contains("dropout"), "{recorded}");
}

#[test]
fn dropout_changes_training_but_not_evaluation_and_resume_stays_exact() {
    let plain = RunConfig::parse(&config_text()).unwrap();
    let config = with_dropout(0.2);
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let r0 = run(&plain, a.path(), |_| {}).unwrap();
    let r1 = run(&config, b.path(), |_| {}).unwrap();
    assert!(r1.train_loss.is_finite() && r1.val_loss.is_finite());
    assert_ne!(
        r0.train_loss, r1.train_loss,
        "dropout did not change training"
    );
    let recorded = std::fs::read_to_string(b.path().join("config.json")).unwrap();
    assert!(recorded.contains("\"dropout\": 0.2"), "{recorded}");

    // Evaluation never drops: the report's validation loss (measured on the workspace that just
    // trained with dropout) equals a fresh evaluation of the saved weights with dropout switched off.
    let ck = load(b.path());
    let (_, va) = text();
    let tok = load_run_tokenizer(b.path()).unwrap();
    let mode = ck.config.sequence_mode();
    let valid = token_stream(tok.as_ref(), &va, mode);
    let bos = tok.specials().bos;
    let (bs, t) = (ck.config.train.batch_size, ck.config.model.block_size);
    let eval = |dropout: f64| {
        let mut mc = ck.config.model.clone();
        mc.dropout = dropout;
        let mut m = Transformer::<f32>::zeros(&mc).unwrap();
        m.params = ck.params.clone();
        let mut ws = lmlab_neural::model::Workspace::new(&mc, bs, t);
        evaluate(&m, &mut ws, &valid, bs, t, &ck.config.train, bos)
    };
    assert_eq!(eval(0.0).to_bits(), r1.val_loss.to_bits());
    assert_eq!(eval(0.2).to_bits(), r1.val_loss.to_bits());
    let model = lmlab_neural::TransformerModel::load(b.path()).unwrap();
    let ids = model
        .tokenizer()
        .encode("First Citizen:\nBefore we proceed");
    assert_eq!(model.log_probs(&ids), model.log_probs(&ids));

    // Same seed, same weights; paused after 5 steps and resumed, the same weights again.
    let again = run(&config, c.path(), |o| o.stop_after = Some(5)).unwrap();
    assert_eq!((again.stop, again.steps), (StopReason::Paused, 5));
    let resumed = run(&config, c.path(), |o| o.resume = true).unwrap();
    assert_eq!(resumed.steps, 8);
    let cc = load(c.path());
    assert_eq!(cc.params, ck.params, "resumed dropout run differs");
    assert_eq!((cc.adam_m, cc.adam_v), (ck.adam_m, ck.adam_v));
    assert_eq!(cc.val_history, ck.val_history);
    // Changing the dropout is a config change: refused on resume, naming the field.
    let err = run(&with_dropout(0.3), c.path(), |o| o.resume = true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("model.dropout"), "{err}");
}

#[test]
fn bad_dropout_values_are_refused() {
    for p in ["1.0", "-0.1", "1.5", "nan"] {
        let text = config_text().replace(
            "block_size = 16",
            &format!("block_size = 16\ndropout = {p}"),
        );
        let err = RunConfig::parse(&text).unwrap_err().to_string();
        assert!(err.contains("dropout must be in [0, 1)"), "{p}: {err}");
    }
}

#[test]
fn an_lstm_trains_with_dropout_and_resumes_exactly() {
    let lstm = |p: f64| {
        let text = config_text().replace(
            "block_size = 16",
            &format!("block_size = 16\narch = \"lstm\"\ndropout = {p}"),
        );
        RunConfig::parse(&text).unwrap()
    };
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    run(&lstm(0.0), a.path(), |_| {}).unwrap();
    run(&lstm(0.2), b.path(), |_| {}).unwrap();
    assert_ne!(
        load(a.path()).params,
        load(b.path()).params,
        "dropout changed nothing"
    );
    run(&lstm(0.2), c.path(), |o| o.stop_after = Some(4)).unwrap();
    run(&lstm(0.2), c.path(), |o| o.resume = true).unwrap();
    assert_eq!(
        load(c.path()).params,
        load(b.path()).params,
        "resumed dropout run differs"
    );
}
