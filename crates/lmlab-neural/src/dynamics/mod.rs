//! Learning dynamics (issue 17): checkpoints of weights, gradients and activations during training
//! ([`capture`]), the matrices per layer they hold ([`components`], with the OV circuit),
//! pico-analyze's metrics over them ([`metrics`], [`similarity`]), and the analysis of a run
//! ([`analyze`]) by the [`Metric`] names the command line takes.

pub mod analyze;
pub mod capture;
pub mod components;
pub mod law;
pub mod metrics;
pub mod similarity;

use lmlab_core::{Error, Result};
use nalgebra::DMatrix;

/// One of pico-analyze's metrics, by the name `lmlab analyze --metrics` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Linear CKA against the target checkpoint (activations only, as pico).
    Cka,
    /// PWCCA against the target checkpoint (activations only, as pico).
    Pwcca,
    /// Proportional effective rank (weights and gradients, as pico).
    Per,
    /// Largest over smallest singular value; infinite for a singular matrix.
    ConditionNumber,
    /// Gini sparsity of the absolute entries.
    Gini,
    /// Hoyer sparsity.
    Hoyer,
    /// Frobenius norm.
    Frobenius,
    /// Nuclear norm.
    Nuclear,
    /// Largest absolute entry (pico's "inf" norm).
    Inf,
}

/// What a matrix of the analysis holds; some metrics apply only to some (pico's `validate_component`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataKind {
    /// Parameters.
    Weights,
    /// Gradients of the fixed batch's loss.
    Gradients,
    /// Activations on the fixed batch (rows are token positions).
    Activations,
}

impl DataKind {
    /// Every kind, in output order.
    pub const ALL: [DataKind; 3] = [
        DataKind::Weights,
        DataKind::Gradients,
        DataKind::Activations,
    ];

    /// The name used in files and output.
    pub fn name(self) -> &'static str {
        match self {
            DataKind::Weights => "weights",
            DataKind::Gradients => "gradients",
            DataKind::Activations => "activations",
        }
    }
}

impl Metric {
    /// Every metric, in output order.
    pub const ALL: [Metric; 9] = [
        Metric::Cka,
        Metric::Pwcca,
        Metric::Per,
        Metric::ConditionNumber,
        Metric::Gini,
        Metric::Hoyer,
        Metric::Frobenius,
        Metric::Nuclear,
        Metric::Inf,
    ];

    /// The metric's name on the command line and in output.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Cka => "cka",
            Metric::Pwcca => "pwcca",
            Metric::Per => "per",
            Metric::ConditionNumber => "condition_number",
            Metric::Gini => "gini",
            Metric::Hoyer => "hoyer",
            Metric::Frobenius => "frobenius",
            Metric::Nuclear => "nuclear",
            Metric::Inf => "inf",
        }
    }

    /// The metric called `name`, or an error listing the known ones.
    pub fn parse(name: &str) -> Result<Metric> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                Error::InvalidArgument(format!(
                    "unknown metric '{name}'; known metrics: {}",
                    known.join(", ")
                ))
            })
    }

    /// Whether the metric compares a checkpoint with a target checkpoint.
    pub fn is_comparative(self) -> bool {
        matches!(self, Metric::Cka | Metric::Pwcca)
    }

    /// Whether pico-analyze computes the metric on data of this kind (CKA and PWCCA on
    /// activations, PER on weights and gradients, the rest on anything).
    pub fn applies_to(self, kind: DataKind) -> bool {
        match self {
            Metric::Cka | Metric::Pwcca => kind == DataKind::Activations,
            Metric::Per => kind != DataKind::Activations,
            _ => true,
        }
    }

    /// The metric of one matrix; `target` is the same matrix at the target checkpoint, needed
    /// by the comparative metrics only.
    pub fn compute(self, m: &DMatrix<f64>, target: Option<&DMatrix<f64>>) -> Result<f64> {
        let need_target = || {
            target.ok_or_else(|| {
                Error::InvalidArgument(format!("{} needs a target checkpoint", self.name()))
            })
        };
        Ok(match self {
            Metric::Cka => similarity::cka(m, need_target()?)?,
            Metric::Pwcca => similarity::pwcca(m, need_target()?)?,
            Metric::Per => metrics::proportional_effective_rank(m),
            Metric::ConditionNumber => metrics::condition_number(m),
            Metric::Gini => metrics::gini(m),
            Metric::Hoyer => metrics::hoyer(m),
            Metric::Frobenius => metrics::frobenius_norm(m),
            Metric::Nuclear => metrics::nuclear_norm(m),
            Metric::Inf => metrics::infinity_norm(m),
        })
    }
}
