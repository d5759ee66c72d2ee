//! "Where to Begin": a student initialised from a subnetwork of a larger run (blocks and MLP units
//! chosen by weight norm with `prune`), then distilled from that run.

mod common;

use lmlab_core::LanguageModel;
use lmlab_neural::checkpoint::Checkpoint;
use lmlab_neural::distill::{DistillConfig, Teacher};
use lmlab_neural::model::params::param_specs;
use lmlab_neural::prune::{prune_run, PruneMethod, PruneScope};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn parent() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/merge/members/a")
}

fn checkpoint(run: &Path) -> Checkpoint {
    Checkpoint::load(&run.join("checkpoint.safetensors")).unwrap()
}

fn tensor<'a>(ck: &'a Checkpoint, name: &str) -> &'a [f32] {
    let spec = param_specs(&ck.config.model)
        .into_iter()
        .find(|s| s.name == name)
        .unwrap();
    &ck.params[spec.span.off..spec.span.off + spec.span.len]
}

#[test]
fn the_subnetwork_with_every_unit_kept_is_the_parent() {
    let tmp = tempfile::tempdir().unwrap();
    let (layers, all) = (tmp.path().join("layers"), tmp.path().join("all"));
    prune_run(
        &parent(),
        &layers,
        PruneMethod::Layers,
        PruneScope::Global,
        0.0,
    )
    .unwrap();
    prune_run(&layers, &all, PruneMethod::Neurons, PruneScope::Global, 0.0).unwrap();
    let (p, s) = (checkpoint(&parent()), checkpoint(&all));
    // Neurons pruning writes the width out (`d_ff` 0 means 4 · n_embd).
    let mut parent_model = p.config.model.clone();
    parent_model.d_ff = parent_model.ff();
    assert_eq!(parent_model, s.config.model);
    assert_eq!(
        p.params.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        s.params.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn half_the_layers_keep_the_stronger_block_and_everything_outside_the_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("half");
    let pruned = prune_run(
        &parent(),
        &out,
        PruneMethod::Layers,
        PruneScope::Global,
        0.5,
    )
    .unwrap();
    let (p, s) = (checkpoint(&parent()), checkpoint(&out));
    assert_eq!(s.config.model.n_layer, 1);
    assert!(pruned.parameters.1 < pruned.parameters.0);
    let norm = |l: usize| -> f64 {
        ["attn.c_proj.weight", "mlp.c_proj.weight"]
            .iter()
            .flat_map(|t| tensor(&p, &format!("h.{l}.{t}")).to_vec())
            .map(|x| (x as f64).powi(2))
            .sum()
    };
    let kept = if norm(1) > norm(0) { 1 } else { 0 };
    for spec in param_specs(&s.config.model) {
        let source = spec.name.replace("h.0.", &format!("h.{kept}."));
        assert_eq!(tensor(&s, &spec.name), tensor(&p, &source), "{}", spec.name);
    }
    let most = prune_run(
        &parent(),
        &tmp.path().join("most"),
        PruneMethod::Layers,
        PruneScope::Global,
        0.99,
    )
    .unwrap();
    assert_eq!(
        most.parameters, pruned.parameters,
        "at least one block is kept"
    );
}

#[test]
fn a_subnetwork_trains_on_with_its_parent_as_teacher() {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("sub");
    prune_run(
        &parent(),
        &sub,
        PruneMethod::Layers,
        PruneScope::Global,
        0.5,
    )
    .unwrap();
    let parent_model: Box<dyn LanguageModel> = lmlab_neural::load_model(&parent()).unwrap();
    let mut config = checkpoint(&sub).config;
    let changed = config.clone();
    config.train.distill = Some(DistillConfig::new(vec![parent()]));
    let teacher = Teacher(Arc::from(parent_model));
    let report = common::run(&config, &sub, |o| {
        o.resume = true;
        o.stop_after = Some(3);
        o.teacher = Some(teacher.clone());
    })
    .unwrap();
    assert_eq!(report.steps, 3);
    assert!(checkpoint(&sub).config.train.distill.is_some());
    // Past step 0 the recorded config is the run's again: any change is refused.
    let err = common::run(&changed, &sub, |o| o.resume = true)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("differs from the run's recorded config in `train.distill`"),
        "{err}"
    );
}
