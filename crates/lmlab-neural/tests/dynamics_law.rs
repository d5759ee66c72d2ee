//! He & Su's prediction residual and the equi-learning fit on known cases and on a tiny run.

use lmlab_neural::config::RunConfig;
use lmlab_neural::dynamics::capture::{self, AnalysisCheckpoint};
use lmlab_neural::dynamics::law::{fit, prediction_residual};
use nalgebra::DMatrix;

mod common;
use common::{run, CONFIG};

#[test]
fn prediction_residual_of_known_cases() {
    let targets = [0u32, 1, 2, 1, 0, 2, 2, 1];
    // Features that are the one-hot targets themselves predict them exactly.
    let onehot = DMatrix::from_fn(8, 3, |i, j| f64::from(u8::from(targets[i] as usize == j)));
    assert!(prediction_residual(&onehot, &targets, 3).unwrap() < 1e-20);
    // Two classes and one feature: each centred one-hot column is fitted with R² = corr(x, y)²,
    // so PR = 1 − corr².
    let two = [0u32, 1, 1, 0, 1, 0];
    let x = [0.3, 1.2, 0.9, -0.4, 0.2, 0.1];
    let y: Vec<f64> = two.iter().map(|&t| f64::from(t)).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mx, my) = (mean(&x), mean(&y));
    let sxy: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    let expected = 1.0 - sxy * sxy / (sxx * syy);
    let pr = prediction_residual(&DMatrix::from_column_slice(6, 1, &x), &two, 2).unwrap();
    assert!((pr - expected).abs() < 1e-12, "{pr} vs {expected}");
    // A constant feature explains nothing.
    assert!(
        (prediction_residual(&DMatrix::from_element(6, 1, 2.0), &two, 2).unwrap() - 1.0).abs()
            < 1e-12
    );
    let err = prediction_residual(&onehot, &targets[..5], 3)
        .unwrap_err()
        .to_string();
    assert!(err.contains("8 embedding rows for 5 targets"), "{err}");
}

#[test]
fn the_law_is_fitted_per_step_for_both_families() {
    for arch in ["transformer", "lstm"] {
        let text = if arch == "lstm" {
            CONFIG
                .replace("[model]\n", "[model]\narch = \"lstm\"\n")
                .replace("n_head = 2\n", "")
        } else {
            CONFIG.to_string()
        };
        let config = RunConfig::parse(&format!("{text}analysis = {{ every = 8 }}\n")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        run(&config, dir.path(), |_| {}).unwrap();
        let ck = AnalysisCheckpoint::load(&capture::checkpoint_path(dir.path(), 8)).unwrap();
        assert_eq!(ck.targets.len(), 64);
        let law = fit(&ck).unwrap();
        assert_eq!(law.residuals.len(), 2, "{arch}");
        assert!(
            law.residuals.iter().all(|r| *r > 0.0 && *r <= 1.0),
            "{arch}: {:?}",
            law.residuals
        );
        assert!(
            (law.ratio - law.residuals[1] / law.residuals[0]).abs() < 1e-12,
            "two layers: ρ is their ratio"
        );
        assert!(
            (law.r_squared - 1.0).abs() < 1e-12,
            "two points lie on their line"
        );
    }
}
