//! `analyze` over a tiny run's learning-dynamics checkpoints: the values per step, layer and
//! component, the OV circuit as pico-analyze builds it, and the bad inputs with their messages.

use lmlab_neural::config::RunConfig;
use lmlab_neural::dynamics::analyze::{analyze, Analysis, AnalyzeOptions};
use lmlab_neural::dynamics::capture::{self, AnalysisCheckpoint};
use lmlab_neural::dynamics::components::layer_components;
use lmlab_neural::dynamics::{metrics, DataKind, Metric};
use std::path::Path;

mod common;
use common::{run, CONFIG};

fn trained(dir: &Path) {
    let config = RunConfig::parse(&format!("{CONFIG}analysis = {{ every = 4 }}\n")).unwrap();
    run(&config, dir, |_| {}).unwrap();
}

fn value(
    a: &Analysis,
    step: usize,
    metric: &str,
    data: &str,
    layer: usize,
    component: &str,
) -> f64 {
    let s = a.steps.iter().find(|s| s.step == step).unwrap();
    s.values
        .iter()
        .find(|r| {
            r.metric == metric && r.data == data && r.layer == layer && r.component == component
        })
        .unwrap_or_else(|| panic!("no {metric} {data} {layer} {component}"))
        .value
        .0
}

#[test]
fn every_metric_per_step_layer_and_component() {
    let dir = tempfile::tempdir().unwrap();
    trained(dir.path());
    let a = analyze(dir.path(), &AnalyzeOptions::default()).unwrap();
    assert_eq!(a.compare_to, 8);
    assert_eq!(a.layers, vec![0, 1]);
    assert_eq!(
        a.steps.iter().map(|s| s.step).collect::<Vec<_>>(),
        vec![0, 4, 8]
    );
    // Per layer: weights and gradients have 4 tensors + the OV circuit + 2 heads (7 components)
    // under 7 metrics (not CKA/PWCCA); activations 4 sites + 3 OV under 8 (not PER).
    assert_eq!(a.steps[0].values.len(), 2 * (2 * 7 * 7 + 7 * 8));
    for layer in 0..2 {
        for c in ["attn.v", "resid", "ov", "ov.head1"] {
            // Against itself, the target step is identical.
            assert!((value(&a, 8, "cka", "activations", layer, c) - 1.0).abs() < 1e-9);
            if c == "resid" {
                // (Value activations are a LayerNorm's output times W_V: rank d − 1; the OV
                // circuit's have rank ≤ head_dim per head. Their covariance is singular up to
                // rounding, and PWCCA through its pseudo-inverse is not 1 even against itself,
                // in pico-analyze's code as here.)
                let pwcca = value(&a, 8, "pwcca", "activations", layer, c);
                assert!((pwcca - 1.0).abs() < 1e-6, "{c}: PWCCA {pwcca}");
            }
            let early = value(&a, 0, "cka", "activations", layer, c);
            assert!(early.is_finite() && early < 1.0, "{c}: CKA at init {early}");
        }
    }
    // The JSON names non-finite values instead of dropping them.
    let json = serde_json::to_value(&a).unwrap();
    assert!(json["steps"][0]["values"].as_array().unwrap().len() > 100);

    // Values are the library metrics of the saved matrices.
    let ck = AnalysisCheckpoint::load(&capture::checkpoint_path(dir.path(), 4)).unwrap();
    let comps = layer_components(&ck, 1, DataKind::Weights).unwrap();
    let fc = comps.iter().find(|c| c.name == "mlp.c_fc").unwrap();
    assert_eq!(
        value(&a, 4, "per", "weights", 1, "mlp.c_fc"),
        metrics::proportional_effective_rank(&fc.matrix)
    );
    assert_eq!((fc.matrix.nrows(), fc.matrix.ncols()), (64, 16));
}

#[test]
fn the_ov_circuit_is_built_as_pico_analyze_builds_it() {
    let dir = tempfile::tempdir().unwrap();
    trained(dir.path());
    let ck = AnalysisCheckpoint::load(&capture::checkpoint_path(dir.path(), 8)).unwrap();
    let (d, hd) = (16, 8);
    let w = |name: &str| &ck.tensors[name].data;
    let (qkv, proj) = (
        w("weights.h.0.attn.c_attn.weight"),
        w("weights.h.0.attn.c_proj.weight"),
    );
    let (gqkv, gproj) = (
        w("gradients.h.0.attn.c_attn.weight"),
        w("gradients.h.0.attn.c_proj.weight"),
    );
    let v = w("activations.h.0.attn.v");
    let find = |kind, name: &str| {
        layer_components(&ck, 0, kind)
            .unwrap()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap()
            .matrix
    };
    let head = 1;
    // Weights: W_V[head rows, :] (hd × d, rows 2d.. of c_attn) · W_O[:, head cols] (d × hd).
    let ov_w = find(DataKind::Weights, "ov.head1");
    assert_eq!((ov_w.nrows(), ov_w.ncols()), (hd, hd));
    for i in 0..hd {
        for j in 0..hd {
            let sum: f64 = (0..d)
                .map(|k| {
                    f64::from(qkv[(2 * d + head * hd + i) * d + k])
                        * f64::from(proj[k * d + head * hd + j])
                })
                .sum();
            assert!((ov_w[(i, j)] - sum).abs() < 1e-9);
        }
    }
    // Gradients: W_O[:, head] · ∂W_V[head, :] + ∂W_O[:, head] · W_V[head, :] (d × d).
    let ov_g = find(DataKind::Gradients, "ov.head1");
    assert_eq!((ov_g.nrows(), ov_g.ncols()), (d, d));
    let (i, j) = (3, 11);
    let sum: f64 = (0..hd)
        .map(|k| {
            let c = head * hd + k;
            f64::from(proj[i * d + c]) * f64::from(gqkv[(2 * d + c) * d + j])
                + f64::from(gproj[i * d + c]) * f64::from(qkv[(2 * d + c) * d + j])
        })
        .sum();
    assert!((ov_g[(i, j)] - sum).abs() < 1e-9);
    // Activations: V[:, head] (tokens × hd) · W_O[:, head]ᵀ (hd × d); all heads side by side.
    let ov_a = find(DataKind::Activations, "ov");
    assert_eq!((ov_a.nrows(), ov_a.ncols()), (64, 2 * d));
    let (row, col) = (5, 7);
    let sum: f64 = (0..hd)
        .map(|k| f64::from(v[row * d + head * hd + k]) * f64::from(proj[col * d + head * hd + k]))
        .sum();
    assert!((ov_a[(row, d + col)] - sum).abs() < 1e-9);
}

#[test]
fn bad_inputs_are_named() {
    let plain = tempfile::tempdir().unwrap();
    run(&RunConfig::parse(CONFIG).unwrap(), plain.path(), |_| {}).unwrap();
    let err = analyze(plain.path(), &AnalyzeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no learning-dynamics checkpoints") && err.contains("analysis = { every = N"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    trained(dir.path());
    let options = |layers: Vec<usize>, compare_to| AnalyzeOptions {
        metrics: vec![Metric::Gini, Metric::Cka],
        layers,
        compare_to,
    };
    let err = analyze(dir.path(), &options(vec![2], None))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer 2 does not exist; the model has 2 layers (0 to 1)"),
        "{err}"
    );
    let err = analyze(dir.path(), &options(vec![], Some(5)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("step 5 was not saved; saved steps: 0, 4, 8"),
        "{err}"
    );
    let a = analyze(dir.path(), &options(vec![1], Some(4))).unwrap();
    assert_eq!(a.compare_to, 4);
    assert!(a
        .steps
        .iter()
        .all(|s| s.values.iter().all(|r| r.layer == 1)));
    assert!((value(&a, 4, "cka", "activations", 1, "resid") - 1.0).abs() < 1e-9);
}
