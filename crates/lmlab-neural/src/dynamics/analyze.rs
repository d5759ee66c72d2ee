//! `lmlab analyze RUN`: pico-analyze's metrics over a run's learning-dynamics checkpoints, per
//! step, layer, data kind and component, with CKA and PWCCA against a target step.

use super::capture::{self, AnalysisCheckpoint};
use super::components::{layer_components, Component};
use super::{DataKind, Metric};
use lmlab_core::{Error, Result};
use rayon::prelude::*;
use serde::{Serialize, Serializer};
use std::path::{Path, PathBuf};

/// What to compute.
#[derive(Clone, Debug, Default)]
pub struct AnalyzeOptions {
    /// The metrics (empty: all of them).
    pub metrics: Vec<Metric>,
    /// The layers (empty: all of them).
    pub layers: Vec<usize>,
    /// The target step of CKA and PWCCA (none: the last saved step).
    pub compare_to: Option<usize>,
}

/// A metric's value: a number, or "inf" / "nan" in JSON (a singular matrix's condition number
/// is infinite).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricValue(pub f64);

impl Serialize for MetricValue {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            v if v.is_finite() => s.serialize_f64(v),
            v if v.is_nan() => s.serialize_str("nan"),
            v if v > 0.0 => s.serialize_str("inf"),
            _ => s.serialize_str("-inf"),
        }
    }
}

/// One value: a metric of one component of one layer, on one kind of data.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The metric's name.
    pub metric: &'static str,
    /// `weights`, `gradients` or `activations`.
    pub data: &'static str,
    /// The layer (block) index.
    pub layer: usize,
    /// The component within the layer.
    pub component: String,
    /// The value.
    pub value: MetricValue,
}

/// The values of one saved step.
#[derive(Clone, Debug, Serialize)]
pub struct StepValues {
    /// The step (0: the initialization).
    pub step: usize,
    /// Its values, in a fixed order.
    pub values: Vec<Row>,
}

/// The analysis of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// The run directory.
    pub run: PathBuf,
    /// The target step of CKA and PWCCA.
    pub compare_to: usize,
    /// The metrics computed.
    pub metrics: Vec<&'static str>,
    /// The layers analysed.
    pub layers: Vec<usize>,
    /// Per saved step.
    pub steps: Vec<StepValues>,
}

/// Analyses the learning-dynamics checkpoints of `run_dir`. Errors name what is missing: a run
/// without them (and how to turn them on), a layer the model lacks, an unsaved target step.
pub fn analyze(run_dir: &Path, options: &AnalyzeOptions) -> Result<Analysis> {
    let saved = capture::list(run_dir)?;
    if saved.is_empty() {
        return Err(Error::Mismatch(format!(
            "{} has no learning-dynamics checkpoints ({}/step-*.safetensors); train it with \
             `analysis = {{ every = N, batch = \"valid\" }}` in the recipe's [train] table",
            run_dir.display(),
            capture::DIR
        )));
    }
    let steps: Vec<usize> = saved.iter().map(|(s, _)| *s).collect();
    let compare_to = options
        .compare_to
        .unwrap_or(*steps.last().expect("non-empty"));
    let target_path = match saved.iter().find(|(s, _)| *s == compare_to) {
        Some((_, p)) => p,
        None => {
            let list: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
            return Err(Error::InvalidArgument(format!(
                "--compare-to {compare_to}: step {compare_to} was not saved; saved steps: {}",
                list.join(", ")
            )));
        }
    };
    let target = AnalysisCheckpoint::load(target_path)?;
    let n_layer = target.config.model.n_layer;
    let layers = if options.layers.is_empty() {
        (0..n_layer).collect()
    } else {
        if let Some(bad) = options.layers.iter().find(|l| **l >= n_layer) {
            return Err(Error::InvalidArgument(format!(
                "--layers: layer {bad} does not exist; the model has {n_layer} layers (0 to {})",
                n_layer - 1
            )));
        }
        options.layers.clone()
    };
    let metrics = if options.metrics.is_empty() {
        Metric::ALL.to_vec()
    } else {
        options.metrics.clone()
    };
    let comparative = metrics.iter().any(|m| m.is_comparative());
    let target_acts: Vec<Vec<Component>> = if comparative {
        layers
            .iter()
            .map(|&l| layer_components(&target, l, DataKind::Activations))
            .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    let per_step: Vec<StepValues> = saved
        .par_iter()
        .map(|(step, path)| {
            let ck = if *step == compare_to {
                target.clone()
            } else {
                AnalysisCheckpoint::load(path)?
            };
            step_values(&ck, &layers, &metrics, &target_acts)
        })
        .collect::<Result<_>>()?;
    Ok(Analysis {
        run: run_dir.to_path_buf(),
        compare_to,
        metrics: metrics.iter().map(|m| m.name()).collect(),
        layers,
        steps: per_step,
    })
}

fn step_values(
    ck: &AnalysisCheckpoint,
    layers: &[usize],
    metrics: &[Metric],
    target_acts: &[Vec<Component>],
) -> Result<StepValues> {
    let mut values = Vec::new();
    for kind in DataKind::ALL {
        let wanted: Vec<Metric> = metrics
            .iter()
            .copied()
            .filter(|m| m.applies_to(kind))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        for (i, &layer) in layers.iter().enumerate() {
            let components = layer_components(ck, layer, kind)?;
            for (j, c) in components.iter().enumerate() {
                for &metric in &wanted {
                    let target = metric.is_comparative().then(|| &target_acts[i][j].matrix);
                    let value = metric.compute(&c.matrix, target).map_err(|e| {
                        Error::Mismatch(format!("step {}, layer {layer}, {}: {e}", ck.step, c.name))
                    })?;
                    values.push(Row {
                        metric: metric.name(),
                        data: kind.name(),
                        layer,
                        component: c.name.clone(),
                        value: MetricValue(value),
                    });
                }
            }
        }
    }
    Ok(StepValues {
        step: ck.step,
        values,
    })
}
