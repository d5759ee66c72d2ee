//! Pruning: magnitude (global and per matrix) with its zeros kept through training, heads zeroed,
//! neurons removed into a smaller model that computes what the model computes without them, and the
//! refusals.

mod common;

use lmlab_neural::checkpoint::Checkpoint;
use lmlab_neural::merge::{load_run, write_derived_run};
use lmlab_neural::model::params::{param_specs, Layout};
use lmlab_neural::prune::{prune_run, PruneMethod, PruneScope};
use lmlab_neural::RunConfig;
use std::path::{Path, PathBuf};

fn member() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/merge/members/a")
}

fn checkpoint(run: &Path) -> Checkpoint {
    Checkpoint::load(&run.join("checkpoint.safetensors")).unwrap()
}

fn zeros_of_block_matrices(ck: &Checkpoint) -> Vec<usize> {
    param_specs(&ck.config.model)
        .iter()
        .filter(|s| s.name.starts_with("h.") && s.shape.len() == 2)
        .flat_map(|s| (s.span.off..s.span.off + s.span.len).filter(|&i| ck.params[i] == 0.0))
        .collect()
}

fn train_on(run: &Path, steps: usize) {
    let config =
        RunConfig::parse(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    common::run(&config, run, |o| {
        o.resume = true;
        o.stop_after = Some(steps);
    })
    .unwrap();
}

#[test]
fn magnitude_pruning_zeros_the_fraction_and_training_keeps_them_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pruned");
    let pruned = prune_run(
        &member(),
        &out,
        PruneMethod::Magnitude,
        PruneScope::Global,
        0.6,
    )
    .unwrap();
    let ck = checkpoint(&out);
    let matrices: usize = param_specs(&ck.config.model)
        .iter()
        .filter(|s| s.name.starts_with("h.") && s.shape.len() == 2)
        .map(|s| s.span.len)
        .sum();
    let zeros = zeros_of_block_matrices(&ck);
    assert_eq!(zeros.len(), pruned.zeros);
    assert!(zeros.len() >= (0.6 * matrices as f64) as usize);
    // The kept entries are the largest: every zeroed entry was no larger than any kept one.
    let original = checkpoint(&member());
    let largest_zeroed = zeros
        .iter()
        .map(|&i| original.params[i].abs())
        .fold(0.0, f32::max);
    let smallest_kept = param_specs(&ck.config.model)
        .iter()
        .filter(|s| s.name.starts_with("h.") && s.shape.len() == 2)
        .flat_map(|s| {
            s.span
                .of(&ck.params)
                .iter()
                .filter(|x| **x != 0.0)
                .map(|x| x.abs())
                .collect::<Vec<_>>()
        })
        .fold(f32::INFINITY, f32::min);
    assert!(largest_zeroed <= smallest_kept);

    train_on(&out, 3);
    let trained = checkpoint(&out);
    assert_eq!(trained.step, 3);
    assert_ne!(trained.params, ck.params);
    assert_eq!(zeros_of_block_matrices(&trained), zeros);
}

#[test]
fn layer_scope_prunes_each_matrix_to_the_fraction() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pruned");
    prune_run(
        &member(),
        &out,
        PruneMethod::Magnitude,
        PruneScope::Layer,
        0.3,
    )
    .unwrap();
    let ck = checkpoint(&out);
    for s in param_specs(&ck.config.model)
        .iter()
        .filter(|s| s.name.starts_with("h.") && s.shape.len() == 2)
    {
        let zeros = s.span.of(&ck.params).iter().filter(|x| **x == 0.0).count();
        assert_eq!(zeros, (0.3 * s.span.len as f64) as usize, "{}", s.name);
    }
}

#[test]
fn head_pruning_zeros_whole_heads_and_keeps_them_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pruned");
    prune_run(&member(), &out, PruneMethod::Heads, PruneScope::Global, 0.5).unwrap();
    let ck = checkpoint(&out);
    let m = &ck.config.model;
    let (d, hd) = (m.n_embd, m.head_dim());
    let layout = Layout::new(m);
    let zero_heads = |ck: &Checkpoint| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (l, b) in layout.blocks.iter().enumerate() {
            for h in 0..m.n_head {
                let proj = b.proj.0.of(&ck.params);
                if (0..d).all(|r| {
                    proj[r * d + h * hd..r * d + (h + 1) * hd]
                        .iter()
                        .all(|x| *x == 0.0)
                }) {
                    let qkv = b.qkv.0.of(&ck.params);
                    assert!((0..hd).all(|i| qkv[(h * hd + i) * d..(h * hd + i + 1) * d]
                        .iter()
                        .all(|x| *x == 0.0)));
                    out.push((l, h));
                }
            }
        }
        out
    };
    let before = zero_heads(&ck);
    assert_eq!(before.len(), 2, "{before:?}");
    train_on(&out, 2);
    assert_eq!(zero_heads(&checkpoint(&out)), before);
}

#[test]
fn neuron_pruning_writes_a_smaller_model_computing_the_same_without_those_units() {
    let tmp = tempfile::tempdir().unwrap();
    // Units 0, 2, 4, ... of every block silenced (output columns zero): their weight norm is zero,
    // so pruning half the units removes exactly them and the function stays.
    let (run, tokenizer) = load_run(&member()).unwrap();
    let mut ck = run.checkpoint;
    let layout = Layout::new(&ck.config.model);
    let (d, ff) = (ck.config.model.n_embd, ck.config.model.ff());
    for b in &layout.blocks {
        let fc2 = b.fc2.0.of_mut(&mut ck.params);
        for r in 0..d {
            for u in (0..ff).step_by(2) {
                fc2[r * ff + u] = 0.0;
            }
        }
    }
    let silenced = tmp.path().join("silenced");
    write_derived_run(
        &silenced,
        ck.config.clone(),
        ck.params.clone(),
        tokenizer.as_ref(),
    )
    .unwrap();
    let out = tmp.path().join("pruned");
    let pruned = prune_run(
        &silenced,
        &out,
        PruneMethod::Neurons,
        PruneScope::Global,
        0.5,
    )
    .unwrap();
    assert!(pruned.parameters.1 < pruned.parameters.0);
    assert_eq!(checkpoint(&out).config.model.d_ff, ff / 2);
    let a = lmlab_neural::load_model(&silenced).unwrap();
    let b = lmlab_neural::load_model(&out).unwrap();
    let ids = a
        .tokenizer()
        .encode("First Citizen: Before we proceed any further, hear me speak.");
    let (la, lb) = (a.log_probs(&ids), b.log_probs(&ids));
    let worst = la
        .iter()
        .zip(&lb)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-5, "log-probs differ by {worst}");
}

#[test]
fn sparsity_outside_0_1_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for s in [1.0, -0.1, 1.5] {
        let e = prune_run(
            &member(),
            &tmp.path().join("o"),
            PruneMethod::Magnitude,
            PruneScope::Global,
            s,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("must be in [0, 1)"), "{e}");
    }
}
