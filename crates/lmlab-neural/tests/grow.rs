//! Function-preserving growth: the grown model's log-probabilities equal the original's to 1e-5
//! (deeper, wider, both; LayerNorm/GELU/learned positions/tied head and RMSNorm/SwiGLU/RoPE/untied),
//! the refusals, and training going on from the grown run with `--resume`.

mod common;

use lmlab_core::LanguageModel;
use lmlab_neural::config::{Mlp, Norm, Positions, RunConfig};
use lmlab_neural::grow::{grow_params, grow_run, grown_config};
use lmlab_neural::merge::load_run;
use lmlab_neural::model::params::{init_params, param_specs};
use lmlab_neural::TransformerModel;
use std::path::{Path, PathBuf};

const TEXT: &str = "First Citizen: Before we proceed any further, hear me speak.";

fn member() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/merge/members/a")
}

fn log_probs(config: &RunConfig, params: Vec<f32>) -> Vec<f64> {
    let (_, tokenizer) = load_run(&member()).unwrap();
    let ids = tokenizer.encode(TEXT);
    let model = TransformerModel::from_parts(config.clone(), params, tokenizer, 0).unwrap();
    model.log_probs(&ids)
}

fn assert_preserved(config: &RunConfig, params: &[f32], n_layer: usize, n_embd: usize) {
    let before = log_probs(config, params.to_vec());
    let grown = grown_config(config, n_layer, n_embd).unwrap();
    let new_params = grow_params(config, params, &grown);
    assert_eq!(
        new_params.len(),
        param_specs(&grown.model)
            .last()
            .map_or(0, |s| s.span.off + s.span.len)
    );
    let after = log_probs(&grown, new_params);
    let worst = before
        .iter()
        .zip(&after)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst <= 1e-5,
        "{n_layer}×{n_embd} from {}×{}: log-probs differ by {worst}",
        config.model.n_layer,
        config.model.n_embd
    );
}

#[test]
fn a_trained_layernorm_gelu_tied_model_grows_deeper_and_wider_keeping_its_log_probs() {
    let ck = load_run(&member()).unwrap().0.checkpoint;
    for (l, d) in [(2, 16), (3, 16), (2, 32), (4, 48)] {
        assert_preserved(&ck.config, &ck.params, l, d);
    }
}

#[test]
fn an_rmsnorm_swiglu_rope_untied_model_grows_keeping_its_log_probs() {
    let mut config = load_run(&member()).unwrap().0.checkpoint.config;
    config.model.norm = Norm::RmsNorm;
    config.model.mlp = Mlp::SwiGlu;
    config.model.positions = Positions::Rope;
    config.model.tied_head = false;
    config.model.bias = false;
    let params: Vec<f32> = init_params(&param_specs(&config.model), 3);
    for (l, d) in [(3, 16), (2, 32), (3, 48)] {
        assert_preserved(&config, &params, l, d);
    }
}

#[test]
fn smaller_or_non_multiple_sizes_are_refused() {
    let config = load_run(&member()).unwrap().0.checkpoint.config;
    let e = grown_config(&config, 1, 16).unwrap_err().to_string();
    assert!(e.contains("growing to a smaller size"), "{e}");
    let e = grown_config(&config, 2, 8).unwrap_err().to_string();
    assert!(e.contains("growing to a smaller size"), "{e}");
    let e = grown_config(&config, 2, 24).unwrap_err().to_string();
    assert!(e.contains("not a multiple of the run's width 16"), "{e}");
}

#[test]
fn training_continues_from_the_grown_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("grown");
    let grown = grow_run(&member(), 3, 32, &out).unwrap();
    assert_eq!(grown.n_head, (2, 4));
    let e = grow_run(&member(), 3, 32, &out).unwrap_err().to_string();
    assert!(e.contains("not an empty directory"), "{e}");
    let config =
        RunConfig::parse(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    let report = common::run(&config, &out, |o| {
        o.resume = true;
        o.stop_after = Some(3);
    })
    .unwrap();
    assert_eq!(report.steps, 3);
    assert!(report.train_loss.is_finite() && report.val_loss.is_finite());
}
