//! Distillation in the training loop: α = 0 trains exactly as without a teacher, distilling lowers
//! the KL to the teacher, a resumed distilled run continues to the same weights, and the refusals.

mod common;

use lmlab_core::LanguageModel;
use lmlab_neural::checkpoint::Checkpoint;
use lmlab_neural::distill::teacher::teacher_distributions;
use lmlab_neural::distill::{DistillConfig, Teacher};
use lmlab_neural::RunConfig;
use std::path::Path;
use std::sync::Arc;

fn config() -> RunConfig {
    RunConfig::parse(common::CONFIG).unwrap()
}

/// A teacher: the tiny transformer trained longer with another seed.
fn teacher(dir: &Path) -> Teacher {
    let mut c = config();
    c.train.seed = 99;
    c.train.max_steps = 30;
    common::run(&c, dir, |_| {}).unwrap();
    let model: Arc<dyn LanguageModel> = Arc::from(model_at(dir));
    Teacher(model)
}

fn model_at(dir: &Path) -> Box<dyn LanguageModel> {
    lmlab_neural::load_model(dir).unwrap()
}

fn distilled(temperature: f64, weight: f64) -> RunConfig {
    let mut c = config();
    c.train.distill = Some(DistillConfig {
        temperature,
        weight,
        ..DistillConfig::new(vec!["teacher".into()])
    });
    c
}

fn params(run: &Path) -> Vec<u32> {
    Checkpoint::load(&run.join("checkpoint.safetensors"))
        .unwrap()
        .params
        .iter()
        .map(|x| x.to_bits())
        .collect()
}

/// Mean KL(teacher ‖ student) in nats over the validation text's first windows.
fn kl_to(teacher: &dyn LanguageModel, student: &dyn LanguageModel) -> f64 {
    let (_, valid) = common::text();
    let tok = student.tokenizer();
    let bos = tok.specials().bos;
    let ids = lmlab_neural::data::token_stream(tok, &valid, lmlab_core::SequenceMode::Line);
    let (t, v) = (16, tok.vocab().len());
    let x = &ids[..8 * t];
    let (mut p, mut q) = (vec![0.0; x.len() * v], vec![0.0; x.len() * v]);
    teacher_distributions(teacher, x, t, bos, &mut p);
    teacher_distributions(student, x, t, bos, &mut q);
    let kl: f64 = p
        .iter()
        .zip(&q)
        .filter(|(a, _)| **a > 0.0)
        .map(|(a, b)| a * (a / b).ln())
        .sum();
    kl / x.len() as f64
}

#[test]
fn weight_zero_trains_exactly_as_without_a_teacher_and_distilling_lowers_the_kl() {
    let tmp = tempfile::tempdir().unwrap();
    let teacher = teacher(&tmp.path().join("teacher"));
    let plain = common::run(&config(), &tmp.path().join("plain"), |_| {}).unwrap();
    let zero = common::run(&distilled(2.0, 0.0), &tmp.path().join("zero"), |o| {
        o.teacher = Some(teacher.clone())
    })
    .unwrap();
    assert_eq!(
        params(&tmp.path().join("plain")),
        params(&tmp.path().join("zero"))
    );
    assert_eq!(plain.val_history, zero.val_history);
    assert_eq!(plain.train_loss.to_bits(), zero.train_loss.to_bits());

    common::run(&distilled(1.0, 1.0), &tmp.path().join("full"), |o| {
        o.teacher = Some(teacher.clone())
    })
    .unwrap();
    let load = |name: &str| lmlab_neural::load_model(&tmp.path().join(name)).unwrap();
    let (plain, full) = (load("plain"), load("full"));
    let (kl_plain, kl_full) = (
        kl_to(teacher.0.as_ref(), plain.as_ref()),
        kl_to(teacher.0.as_ref(), full.as_ref()),
    );
    eprintln!("KL to the teacher: plain {kl_plain:.4}, distilled {kl_full:.4} nats/token");
    assert!(kl_full < 0.9 * kl_plain, "{kl_full} vs {kl_plain}");
}

#[test]
fn a_resumed_distilled_run_ends_with_the_uninterrupted_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let teacher = teacher(&tmp.path().join("teacher"));
    let c = distilled(2.0, 0.5);
    let with = |o: &mut lmlab_neural::TrainOptions| o.teacher = Some(teacher.clone());
    common::run(&c, &tmp.path().join("once"), with).unwrap();
    let two = tmp.path().join("two");
    common::run(&c, &two, |o| {
        with(o);
        o.stop_after = Some(3);
    })
    .unwrap();
    common::run(&c, &two, |o| {
        with(o);
        o.resume = true;
    })
    .unwrap();
    assert_eq!(params(&tmp.path().join("once")), params(&two));
}

#[test]
fn refusals_name_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    // A teacher with another tokenizer (bytes, the student has characters).
    let mut other = config();
    other.tokenizer = lmlab_neural::config::TokenizerSpec::Bytes;
    other.train.max_steps = 1;
    let bytes_run = tmp.path().join("bytes");
    common::run(&other, &bytes_run, |_| {}).unwrap();
    let bytes: Arc<dyn LanguageModel> = Arc::from(model_at(&bytes_run));
    let err = common::run(&distilled(2.0, 0.5), &tmp.path().join("s"), |o| {
        o.teacher = Some(Teacher(bytes.clone()))
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("another tokenizer than the student"), "{err}");

    // The config names a teacher nobody loaded; a teacher without the config.
    let err = common::run(&distilled(2.0, 0.5), &tmp.path().join("s"), |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("it was not loaded"), "{err}");
    let err = common::run(&config(), &tmp.path().join("s"), |o| {
        o.teacher = Some(Teacher(bytes.clone()))
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("no [train] distill section"), "{err}");

    // τ ≤ 0, α outside [0, 1], no teacher, in the config file.
    for (field, want) in [
        (
            "temperature = 0.0",
            "distill.temperature must be a finite number > 0, got 0",
        ),
        (
            "temperature = -1.0",
            "distill.temperature must be a finite number > 0, got -1",
        ),
        ("weight = 1.5", "distill.weight must be in [0, 1], got 1.5"),
        (
            "weight = -0.1",
            "distill.weight must be in [0, 1], got -0.1",
        ),
    ] {
        let text = format!(
            "{}distill = {{ teacher = \"t\", {field} }}\n",
            common::CONFIG
        );
        let err = RunConfig::parse(&text).unwrap_err().to_string();
        assert!(err.contains(want), "{field}: {err}");
    }
    let text = format!("{}distill = {{ teacher = [] }}\n", common::CONFIG);
    let err = RunConfig::parse(&text).unwrap_err().to_string();
    assert!(err.contains("distill.teacher names no model"), "{err}");
}
