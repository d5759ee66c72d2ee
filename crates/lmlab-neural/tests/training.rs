//! Training, resumption, the LanguageModel contract and bad inputs, on a tiny model (seconds).

use lmlab_core::sampling::{generate, SamplingOptions};
use lmlab_core::{LanguageModel, Stepper};
use lmlab_neural::checkpoint::{Checkpoint, FILE_NAME};
use lmlab_neural::config::RunConfig;
use lmlab_neural::ledger::{self, ComputeLedger};
use lmlab_neural::train::{files, train, StopReason, TrainOptions};
use lmlab_neural::TransformerModel;
use std::path::Path;

mod common;
use common::{run, text, CONFIG};

#[test]
fn training_learns_and_the_model_keeps_the_language_model_contract() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = RunConfig::parse(CONFIG).unwrap();
    config.train.max_steps = 30;
    let report = run(&config, dir.path(), |_| {}).unwrap();
    assert_eq!(report.stop, StopReason::Finished);
    let first = report.val_history.first().unwrap().1;
    assert!(report.val_loss < first, "{:?}", report.val_history);
    assert!(report.val_loss < 4.2, "val loss {}", report.val_loss); // uniform over ~60 chars = 4.1+

    let model = TransformerModel::load(dir.path()).unwrap();
    let tok = model.tokenizer();
    let mut ids = tok.encode("First Citizen:\nBefore we proceed any further, hear me speak.");
    ids.push(tok.specials().eos);
    let whole = model.log_probs(&ids);
    // The KV-cache scorer agrees with whole-sequence scoring past the context length (both slide by
    // half a window).
    assert!(
        !model.scores_by_steps(),
        "evaluation should take the batched windows"
    );
    // Within one window the stepper's distributions, going back, forks and one-pass proposals
    // agree with whole-context forward passes to f32 rounding.
    lmlab_core::test_support::check_stepper(&model, &ids[..12], 1e-5);
    let mut scorer = model.kv_scorer();
    scorer.reset();
    for (i, &t) in ids.iter().enumerate() {
        let lp = scorer.score_next(t);
        assert!(
            (lp - whole[i]).abs() < 1e-4,
            "token {i}: {lp} vs {}",
            whole[i]
        );
    }
    // Batched scoring: sequences of different lengths (the first past block_size 16) in one call get
    // each sequence's own numbers, bit for bit, whatever shares their forward passes; every position
    // of the first window agrees with a forward pass of its prefix alone (next_distribution) to f32
    // rounding.
    let batch = model
        .log_probs_batch(&[&ids, &ids[..7], &[], &ids[..1], &ids[1..2], &ids[3..10]])
        .unwrap();
    assert_eq!(batch[0], whole);
    assert_eq!(batch[1], model.log_probs(&ids[..7]));
    assert!(batch[2].is_empty());
    assert_eq!(batch[3], model.log_probs(&ids[..1]));
    assert_eq!(batch[4], model.log_probs(&ids[1..2]));
    assert_eq!(batch[5], model.log_probs(&ids[3..10]));
    for i in 0..16 {
        let p = model.next_distribution(&ids[..i])[ids[i] as usize];
        assert!((p.ln() - whole[i]).abs() < 1e-5, "token {i}");
    }
    // next_distribution sums to one, gives <s> nothing, and agrees with log_probs.
    let dist = model.next_distribution(&ids[..5]);
    assert!((dist.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(dist[tok.specials().bos as usize], 0.0);
    assert!((dist[ids[5] as usize].ln() - whole[5]).abs() < 1e-4);
    assert!(whole.iter().all(|lp| lp.is_finite() && *lp < 0.0));
    // Generation from an empty prompt starts at <s> and is seeded.
    let o = SamplingOptions {
        seed: 3,
        max_tokens: 40,
        stop_at_eos: false,
        ..Default::default()
    };
    let a = generate(&model, &[], &o).unwrap();
    assert_eq!(model.stepper().context_len(), 0);
    assert_eq!(a.len(), 40);
    assert_eq!(a, generate(&model, &[], &o).unwrap());
}

#[test]
fn same_seed_same_bytes_and_resume_equals_an_uninterrupted_run() {
    let config = RunConfig::parse(CONFIG).unwrap();
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    run(&config, a.path(), |_| {}).unwrap();
    run(&config, b.path(), |_| {}).unwrap();
    // Same seed, same inputs: the same bytes in every file that holds the model.
    for file in [FILE_NAME, files::CONFIG, files::TOKENIZER] {
        let bytes = |d: &Path| std::fs::read(d.join(file)).unwrap();
        assert!(bytes(a.path()) == bytes(b.path()), "{file} differs");
    }
    let load = |d: &Path| Checkpoint::load(&d.join(FILE_NAME)).unwrap();
    let cb = load(b.path());

    // Interrupted after 5 steps (checkpoint at 5), then resumed to the end.
    let paused = run(&config, c.path(), |o| o.stop_after = Some(5)).unwrap();
    assert_eq!((paused.stop, paused.steps), (StopReason::Paused, 5));
    let resumed = run(&config, c.path(), |o| o.resume = true).unwrap();
    assert_eq!(resumed.steps, 8);
    let cc = load(c.path());
    assert_eq!(
        cc.params, cb.params,
        "resumed run differs from the uninterrupted one"
    );
    assert_eq!(cc.adam_m, cb.adam_m);
    assert_eq!(cc.rng, cb.rng);
    assert_eq!(cc.val_history, cb.val_history);
    // The CPU spent by both sessions is in the run's ledger, beside the checkpoint.
    let ledger = ComputeLedger::load(c.path()).unwrap();
    assert_eq!(ledger.step, 8);
    assert!(
        ledger.cpu_seconds >= paused.compute.cpu_seconds
            && ledger.cpu_seconds <= resumed.compute.cpu_seconds,
        "{ledger:?}"
    );
    std::fs::write(c.path().join(ledger::FILE_NAME), "{").unwrap();
    let err = run(&config, c.path(), |o| o.resume = true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("compute ledger"), "{err}");

    // A changed config is refused, naming the field.
    let mut changed = config.clone();
    changed.train.learning_rate = 5e-3;
    let err = run(&changed, c.path(), |o| o.resume = true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("train.learning_rate"), "{err}");
}

#[test]
fn bad_inputs_are_refused_with_clear_messages() {
    let config = RunConfig::parse(CONFIG).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A budget of zero.
    let err = run(&config, dir.path(), |o| o.budget_cpu_seconds = Some(0.0)).unwrap_err();
    assert!(err.to_string().contains("budget"), "{err}");
    // A training text shorter than one context window.
    let err = train(
        &config,
        "short text",
        "also short but fine? no",
        &TrainOptions::new(dir.path()),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("fewer than one context window"), "{err}");
    // A tiny budget stops cleanly.
    let report = run(&config, dir.path(), |o| o.budget_cpu_seconds = Some(1e-9)).unwrap();
    assert_eq!(report.stop, StopReason::Budget);

    // Truncated and foreign checkpoints.
    let ck = dir.path().join(FILE_NAME);
    let bytes = std::fs::read(&ck).unwrap();
    std::fs::write(&ck, &bytes[..bytes.len() / 2]).unwrap();
    let err = TransformerModel::load(dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("truncated or foreign"), "{err}");
    std::fs::write(&ck, b"PK\x03\x04 definitely not safetensors").unwrap();
    assert!(TransformerModel::load(dir.path()).is_err());
    let foreign = safetensors::serialize(
        [(
            "w",
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &[0u8; 4])
                .unwrap(),
        )],
        &None,
    )
    .unwrap();
    std::fs::write(&ck, foreign).unwrap();
    let err = TransformerModel::load(dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("not an lmlab-neural checkpoint"), "{err}");
    std::fs::write(&ck, &bytes).unwrap();
    TransformerModel::load(dir.path()).unwrap();

    // A tokenizer whose vocabulary does not match the checkpoint.
    let other = lmlab_tokenize::BytesTokenizer::new();
    let json = serde_json::to_string(&lmlab_core::Tokenizer::to_json(&other)).unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), json).unwrap();
    let err = TransformerModel::load(dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("vocabulary"), "{err}");

    // A config vocabulary that disagrees with the tokenizer.
    let mut wrong = config.clone();
    wrong.model.vocab_size = 5;
    let d2 = tempfile::tempdir().unwrap();
    let err = run(&wrong, d2.path(), |_| {}).unwrap_err().to_string();
    assert!(err.contains("vocab_size"), "{err}");
}

#[test]
fn a_diverging_run_stops_and_keeps_the_last_good_checkpoint() {
    let mut config = RunConfig::parse(CONFIG).unwrap();
    config.train.learning_rate = 1e30;
    config.train.min_lr = 1e30;
    config.train.warmup_steps = 0;
    config.train.grad_clip = 0.0;
    config.train.checkpoint_interval = 1;
    config.train.max_steps = 50;
    let dir = tempfile::tempdir().unwrap();
    let err = run(&config, dir.path(), |_| {}).unwrap_err().to_string();
    assert!(err.contains("diverged"), "{err}");
    assert!(err.contains("last good checkpoint"), "{err}");
    let ck = Checkpoint::load(&dir.path().join(FILE_NAME)).unwrap();
    assert!(ck.params.iter().all(|p| p.is_finite()));
}

#[test]
fn an_lstm_trains_and_keeps_the_language_model_contract() {
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        RunConfig::parse(&CONFIG.replace("n_head = 2\n", "arch = \"lstm\"\n")).unwrap();
    config.train.max_steps = 30;
    let report = run(&config, dir.path(), |_| {}).unwrap();
    let first = report.val_history.first().unwrap().1;
    assert!(report.val_loss < first, "{:?}", report.val_history);
    let model = lmlab_neural::load_model(dir.path()).unwrap();
    assert_eq!(model.kind(), "lstm");
    let tok = model.tokenizer();
    let mut ids = tok.encode("First Citizen:\nSpeak, speak.");
    ids.push(tok.specials().eos);
    let whole = model.log_probs(&ids);
    let mut scorer = model.stepper();
    scorer.reset();
    for (i, &t) in ids.iter().enumerate() {
        assert!((scorer.score_next(t) - whole[i]).abs() < 1e-9);
    }
    lmlab_core::test_support::check_stepper(model.as_ref(), &ids, 1e-9);
    let dist = model.next_distribution(&ids[..4]);
    assert!((dist.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!((dist[ids[4] as usize].ln() - whole[4]).abs() < 1e-5);
    let o = SamplingOptions {
        seed: 1,
        max_tokens: 20,
        stop_at_eos: false,
        ..Default::default()
    };
    assert_eq!(generate(model.as_ref(), &[], &o).unwrap().len(), 20);
    // Resuming an LSTM run with a transformer config is refused, naming the field.
    let mut other = config.clone();
    other.model.arch = lmlab_neural::config::Arch::Transformer;
    other.model.n_head = 2;
    let err = run(&other, dir.path(), |o| o.resume = true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("model."), "{err}");
}

#[test]
fn gradient_accumulation_equals_the_larger_batch() {
    let mut big = RunConfig::parse(CONFIG).unwrap();
    big.train.max_steps = 2;
    big.train.checkpoint_interval = 0;
    let mut accum = big.clone();
    big.train.batch_size = 4;
    accum.train.batch_size = 2;
    accum.train.grad_accum = 2;
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(&big, a.path(), |_| {}).unwrap();
    run(&accum, b.path(), |_| {}).unwrap();
    let pa = Checkpoint::load(&a.path().join(FILE_NAME)).unwrap().params;
    let pb = Checkpoint::load(&b.path().join(FILE_NAME)).unwrap().params;
    let worst = pa
        .iter()
        .zip(&pb)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-5, "max parameter difference {worst}");
}

#[test]
fn a_run_killed_after_a_periodic_checkpoint_resumes_to_the_same_weights() {
    // Keep the copy of the run directory as it was on disk right after the step-3 checkpoint: a process
    // killed anywhere between steps 3 and 6 leaves exactly that behind (checkpoints are atomic).
    let config = RunConfig::parse(CONFIG).unwrap();
    let (full, killed) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (tr, va) = text();
    let snapshot = killed.path().to_path_buf();
    let full_dir = full.path().to_path_buf();
    train(
        &config,
        &tr,
        &va,
        &TrainOptions::new(full.path()),
        &mut |e| {
            if let lmlab_neural::TrainEvent::Checkpoint { step: 3, .. } = e {
                for name in ["config.json", "tokenizer.json", FILE_NAME] {
                    std::fs::copy(full_dir.join(name), snapshot.join(name)).unwrap();
                }
            }
        },
    )
    .unwrap();
    assert_eq!(
        Checkpoint::load(&killed.path().join(FILE_NAME))
            .unwrap()
            .step,
        3
    );
    let resumed = run(&config, killed.path(), |o| o.resume = true).unwrap();
    assert_eq!(resumed.steps, 8);
    let a = Checkpoint::load(&full.path().join(FILE_NAME)).unwrap();
    let b = Checkpoint::load(&killed.path().join(FILE_NAME)).unwrap();
    assert_eq!(a.params, b.params);
    assert_eq!((a.adam_m, a.adam_v, a.rng), (b.adam_m, b.adam_v, b.rng));
}

#[test]
fn a_format_1_checkpoint_with_separate_metadata_entries_still_loads() {
    use safetensors::SafeTensors;
    use std::collections::HashMap;
    let dir = tempfile::tempdir().unwrap();
    let config = RunConfig::parse(CONFIG).unwrap();
    run(&config, dir.path(), |_| {}).unwrap();
    let path = dir.path().join(FILE_NAME);
    let bytes = std::fs::read(&path).unwrap();
    let current = Checkpoint::load(&path).unwrap();

    // Rewrite it as format 1 wrote it: every field its own metadata entry, CPU seconds included.
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    let mut flat: HashMap<String, String> =
        serde_json::from_str(&meta[lmlab_neural::checkpoint::METADATA_KEY]).unwrap();
    flat.insert("version".into(), "1".into());
    flat.insert("cpu_seconds".into(), "1.5".into());
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors.tensors();
    let old = safetensors::serialize(views, &Some(flat)).unwrap();
    std::fs::write(&path, old).unwrap();
    assert_eq!(Checkpoint::load(&path).unwrap(), current);
}
