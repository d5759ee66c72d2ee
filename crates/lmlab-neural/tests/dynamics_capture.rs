//! Learning-dynamics checkpoints (issue 17 §1) on the tiny model: where and when they are written,
//! what they hold, and that they change nothing about the run.

use lmlab_neural::checkpoint::{Checkpoint, FILE_NAME};
use lmlab_neural::config::RunConfig;
use lmlab_neural::dynamics::capture::{self, AnalysisCheckpoint};
use std::path::Path;

mod common;
use common::{run, CONFIG};

fn config_with_analysis(extra: &str) -> RunConfig {
    RunConfig::parse(&format!(
        "{CONFIG}analysis = {{ every = 3, batch = \"valid\" {extra}}}\n"
    ))
    .unwrap()
}

fn files(dir: &Path) -> Vec<(usize, Vec<u8>)> {
    capture::list(dir)
        .unwrap()
        .into_iter()
        .map(|(step, path)| (step, std::fs::read(path).unwrap()))
        .collect()
}

#[test]
fn analysis_checkpoints_are_written_at_their_steps_and_leave_training_unchanged() {
    let plain = tempfile::tempdir().unwrap();
    run(&RunConfig::parse(CONFIG).unwrap(), plain.path(), |_| {}).unwrap();
    assert!(capture::list(plain.path()).unwrap().is_empty());

    let dir = tempfile::tempdir().unwrap();
    let config = config_with_analysis("");
    run(&config, dir.path(), |_| {}).unwrap();
    let saved = files(dir.path());
    let steps: Vec<usize> = saved.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        steps,
        vec![0, 3, 6, 8],
        "every 3 steps, the initialization and the last step"
    );
    // Measuring the dynamics does not disturb the run: the same weights, optimizer state and
    // validation history (the checkpoints differ only in the recorded config).
    let ckpt = Checkpoint::load(&dir.path().join(FILE_NAME)).unwrap();
    let plain_ckpt = Checkpoint::load(&plain.path().join(FILE_NAME)).unwrap();
    assert!(ckpt.params == plain_ckpt.params && ckpt.adam_v == plain_ckpt.adam_v);
    assert_eq!(ckpt.val_history, plain_ckpt.val_history);
    // Same seed and inputs, same bytes.
    let again = tempfile::tempdir().unwrap();
    run(&config, again.path(), |_| {}).unwrap();
    assert!(
        files(again.path()) == saved,
        "a second run wrote other bytes"
    );

    let last = AnalysisCheckpoint::load(&capture::checkpoint_path(dir.path(), 8)).unwrap();
    assert_eq!(last.step, 8);
    let weights: Vec<f32> = last
        .tensors
        .iter()
        .filter(|(name, _)| name.starts_with("weights."))
        .flat_map(|(_, t)| t.data.clone())
        .collect();
    let mut stored = weights.clone();
    let mut expected = ckpt.params.clone();
    stored.sort_by(f32::total_cmp);
    expected.sort_by(f32::total_cmp);
    assert_eq!(
        stored, expected,
        "the weights of the last step are the checkpoint's"
    );
    // Put back in place, they are the checkpoint's parameters buffer, element for element.
    assert!(last.params().unwrap() == ckpt.params);
    let mut broken = last.clone();
    broken
        .tensors
        .get_mut("weights.h.0.attn.c_proj.weight")
        .unwrap()
        .shape = vec![1, 256];
    let err = broken.params().unwrap_err().to_string();
    assert!(
        err.contains(
            "weights.h.0.attn.c_proj.weight has shape [1, 256], the config gives [16, 16]"
        ),
        "{err}"
    );

    let (n, d) = (4 * 16, 16); // batch_size × block_size tokens, n_embd features
    for layer in 0..2 {
        for site in ["attn.v", "attn.c_proj", "mlp.c_proj", "resid"] {
            let t = &last.tensors[&format!("activations.h.{layer}.{site}")];
            assert_eq!(t.shape, vec![n, d], "{site}");
        }
        let g = &last.tensors[&format!("gradients.h.{layer}.attn.c_proj.weight")];
        assert_eq!(g.shape, vec![d, d]);
        assert!(g.data.iter().any(|v| *v != 0.0) && g.data.iter().all(|v| v.is_finite()));
    }
    // The sites are where they say: block 1's residual stream is block 0's plus the attention
    // and MLP outputs of block 1 (to f32 rounding).
    let act = |name: &str| &last.tensors[&format!("activations.h.{name}")].data;
    let (r0, a1, m1, r1) = (
        act("0.resid"),
        act("1.attn.c_proj"),
        act("1.mlp.c_proj"),
        act("1.resid"),
    );
    for i in 0..n * d {
        let sum = r0[i] + a1[i] + m1[i];
        assert!(
            (sum - r1[i]).abs() <= 1e-4 * (1.0 + r1[i].abs()),
            "element {i}: {sum} vs {}",
            r1[i]
        );
    }
}

#[test]
fn a_resumed_run_writes_the_same_analysis_checkpoints() {
    let config = config_with_analysis("");
    let whole = tempfile::tempdir().unwrap();
    run(&config, whole.path(), |_| {}).unwrap();
    let parts = tempfile::tempdir().unwrap();
    run(&config, parts.path(), |o| o.stop_after = Some(4)).unwrap();
    run(&config, parts.path(), |o| o.resume = true).unwrap();
    assert!(
        files(parts.path()) == files(whole.path()),
        "a resumed run wrote other bytes"
    );
}

#[test]
fn the_lstm_saves_its_layer_outputs() {
    let text = CONFIG
        .replace("[model]\n", "[model]\narch = \"lstm\"\n")
        .replace("n_head = 2\n", "");
    let config = RunConfig::parse(&format!(
        "{text}analysis = {{ every = 4, batch = \"train\" }}\n"
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    run(&config, dir.path(), |_| {}).unwrap();
    let steps: Vec<usize> = capture::list(dir.path())
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(steps, vec![0, 4, 8]);
    let ck = AnalysisCheckpoint::load(&capture::checkpoint_path(dir.path(), 4)).unwrap();
    assert_eq!(ck.tensors["activations.lstm.1.h"].shape, vec![64, 16]);
    assert!(ck.tensors.contains_key("gradients.lstm.0.weight_ih"));
}

#[test]
fn a_zero_interval_and_unknown_fields_are_refused() {
    let bad = RunConfig::parse(&format!("{CONFIG}analysis = {{ every = 0 }}\n"));
    let err = bad
        .map(|c| c.train.validate())
        .unwrap_or_else(Err)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("train.analysis.every must be a positive number"),
        "{err}"
    );
    let err = RunConfig::parse(&format!(
        "{CONFIG}analysis = {{ every = 3, batch = \"test\" }}\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("test"), "{err}");
}

/// Issue 17's "bounded size": one learning-dynamics checkpoint of nanoGPT's shakespeare-char CPU
/// shape (configs/shakespeare_char.toml, 65 characters) is weights and gradients (4 bytes each per
/// parameter), four sites per block on the 12 × 64-token batch, and the targets: 12.2 MiB.
#[test]
fn a_nanogpt_shape_analysis_checkpoint_is_12_mib() {
    use lmlab_neural::model::{Net, Transformer};
    let text = include_str!("../configs/shakespeare_char.toml");
    let mut config = RunConfig::parse(text).unwrap();
    config.model.vocab_size = 65;
    let model = <Transformer<f32> as Net>::init(&config.model, 1).unwrap();
    let (b, t) = (12, 64);
    let mut ws = model.workspace(b, t);
    let stream: Vec<u32> = (0..5000u32).map(|i| (i * 7 + i / 13) % 65).collect();
    let (x, y) = capture::fixed_batch(&stream, b, t);
    let dir = tempfile::tempdir().unwrap();
    let bytes = capture::save(dir.path(), 0, &config, &model, &mut ws, (&x, &y), 0).unwrap();
    let params = model.params().len() as u64;
    let payload = 4 * (2 * params + 4 * 4 * (b * t * 128) as u64 + (b * t) as u64);
    assert!(
        bytes >= payload && bytes < payload + 64 * 1024,
        "{bytes} bytes for {payload} of tensors"
    );
    let mib = bytes as f64 / (1024.0 * 1024.0);
    assert!(
        (12.0..12.5).contains(&mib),
        "{mib:.2} MiB ({params} parameters)"
    );
}
