//! He & Su's law of equi-learning ("A Law of Next-Token Prediction in Large Language Models",
//! 2024): each layer's contextual embeddings, fitted by least squares (with an intercept) to the
//! one-hot next token, leave a prediction residual PR_l = ‖Y − X̂B‖²_F / ‖Y − Ȳ‖²_F (1 − R² of the
//! multivariate fit); the law says PR_l ≈ PR_1 · ρ^(l−1), the same factor ρ < 1 per layer. Here on
//! the fixed batch of a learning-dynamics checkpoint: the block outputs (transformer `resid`,
//! LSTM `h`) against `batch.targets`.

use super::capture::{AnalysisCheckpoint, TARGETS};
use crate::config::Arch;
use lmlab_core::{Error, Result};
use nalgebra::DMatrix;
use serde::Serialize;

/// The law at one step.
#[derive(Clone, Debug, Serialize)]
pub struct LawFit {
    /// The step.
    pub step: usize,
    /// PR per layer, first layer first.
    pub residuals: Vec<f64>,
    /// ρ = exp(slope) of the least-squares line through (l, ln PR_l).
    pub ratio: f64,
    /// R² of that line in log space (1: the law holds exactly).
    pub r_squared: f64,
    /// The layer-to-layer ratios PR_(l+1) / PR_l.
    pub layer_ratios: Vec<f64>,
    /// Their sample standard deviation (0 with fewer than two).
    pub ratio_sd: f64,
}

/// PR of one layer: the least-squares residual of `x` (tokens × features) predicting the one-hot
/// `targets` over `vocab` classes, relative to the targets' total variation.
pub fn prediction_residual(x: &DMatrix<f64>, targets: &[u32], vocab: usize) -> Result<f64> {
    let n = x.nrows();
    if targets.len() != n || n < 2 {
        return Err(Error::Mismatch(format!(
            "{n} embedding rows for {} targets: the fixed batch's activations and targets disagree",
            targets.len()
        )));
    }
    let mut y = DMatrix::<f64>::zeros(n, vocab);
    for (i, &t) in targets.iter().enumerate() {
        let t = t as usize;
        if t >= vocab {
            return Err(Error::Mismatch(format!(
                "target token {t} outside the vocabulary of {vocab}"
            )));
        }
        y[(i, t)] = 1.0;
    }
    // Centring both sides is the intercept.
    let centre = |m: &mut DMatrix<f64>| {
        for mut col in m.column_iter_mut() {
            let mean = col.mean();
            col.add_scalar_mut(-mean);
        }
    };
    let mut xc = x.clone();
    centre(&mut xc);
    centre(&mut y);
    let total = y.norm_squared();
    if total == 0.0 {
        return Ok(f64::NAN);
    }
    let svd = xc.clone().svd(true, true);
    let cutoff = svd.singular_values.max() * n.max(x.ncols()) as f64 * f64::EPSILON;
    let b = svd
        .solve(&y, cutoff)
        .map_err(|e| Error::invalid(format!("least squares: {e}")))?;
    Ok((y - xc * b).norm_squared() / total)
}

/// The law at the step of `ck`.
pub fn fit(ck: &AnalysisCheckpoint) -> Result<LawFit> {
    if ck.targets.is_empty() {
        return Err(Error::Mismatch(format!(
            "the learning-dynamics checkpoint of step {} has no {TARGETS} (written by an older lmlab); train again for --law",
            ck.step
        )));
    }
    let c = &ck.config.model;
    let residuals = (0..c.n_layer)
        .map(|l| {
            let name = match c.arch {
                Arch::Transformer => format!("activations.h.{l}.resid"),
                Arch::Lstm => format!("activations.lstm.{l}.h"),
            };
            let t = ck
                .tensors
                .get(&name)
                .ok_or_else(|| Error::Mismatch(format!("step {}: no tensor {name}", ck.step)))?;
            let cols = t.shape[1];
            let x = DMatrix::from_row_iterator(
                t.data.len() / cols,
                cols,
                t.data.iter().map(|&v| f64::from(v)),
            );
            prediction_residual(&x, &ck.targets, c.vocab_size)
        })
        .collect::<Result<Vec<f64>>>()?;
    let logs: Vec<f64> = residuals.iter().map(|r| r.ln()).collect();
    let (slope, r_squared) = line(&logs);
    let layer_ratios: Vec<f64> = residuals.windows(2).map(|w| w[1] / w[0]).collect();
    Ok(LawFit {
        step: ck.step,
        ratio: slope.exp(),
        r_squared,
        ratio_sd: sample_sd(&layer_ratios),
        layer_ratios,
        residuals,
    })
}

/// Slope and R² of the least-squares line through (i, yᵢ); NaN slope with fewer than two points.
fn line(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    if y.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let mx = (n - 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = y
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64 - mx) * (v - my))
        .sum();
    let sxx: f64 = (0..y.len()).map(|i| (i as f64 - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|v| (v - my).powi(2)).sum();
    let slope = sxy / sxx;
    let r2 = if syy == 0.0 {
        1.0
    } else {
        sxy * sxy / (sxx * syy)
    };
    (slope, r2)
}

fn sample_sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}
