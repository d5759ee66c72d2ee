//! Distillation (issue 15 §3): a student trained on the teacher's full next-token distribution at
//! every position, mixed with the usual cross-entropy (`[train] distill = { teacher, temperature,
//! weight }`, `lmlab train transformer --teacher`).
//!
//! The teacher is any [`LanguageModel`] with the student's tokenizer (an n-gram, a memory-based
//! model, a neural run, a mixture of several); whoever calls [`crate::train`] loads it from
//! [`DistillConfig::teacher`] (`lmlab_lab::run` does, through its registry) and hands it over in
//! [`crate::TrainOptions::teacher`]. `loss` is the mixed loss and its logit gradient, `teacher` the
//! teacher's distributions over a batch of windows.

pub mod loss;
pub mod teacher;

use crate::model::Net;
use lmlab_core::{Error, LanguageModel, Result, Tokenizer};
use loss::{distill_loss_backward, Mix};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// The default temperature τ (Hinton et al. and DistilBERT train at 2).
pub const DEFAULT_TEMPERATURE: f64 = 2.0;
/// The default weight α of the KL term (half KL, half cross-entropy).
pub const DEFAULT_WEIGHT: f64 = 0.5;

/// `[train] distill`: what the student learns from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistillConfig {
    /// The teacher: a model file or run directory; with several, their mixture (`weights`, or
    /// weights fitted by EM on the validation text). A string or a list of strings.
    #[serde(deserialize_with = "one_or_many")]
    pub teacher: Vec<PathBuf>,
    /// Fixed mixture weights of several teachers (one per teacher, summing to a positive number;
    /// normalised); absent: fitted by EM on the validation text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
    /// τ > 0: the temperature both distributions are softened by.
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    /// α ∈ [0, 1]: the share of `τ²·KL`; the cross-entropy gets `1 − α`.
    #[serde(default = "default_weight")]
    pub weight: f64,
}

fn default_temperature() -> f64 {
    DEFAULT_TEMPERATURE
}

fn default_weight() -> f64 {
    DEFAULT_WEIGHT
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(p) => vec![p],
        OneOrMany::Many(v) => v,
    })
}

impl DistillConfig {
    /// A config distilling from `teacher` at the default temperature and weight.
    pub fn new(teacher: Vec<PathBuf>) -> DistillConfig {
        DistillConfig {
            teacher,
            weights: None,
            temperature: DEFAULT_TEMPERATURE,
            weight: DEFAULT_WEIGHT,
        }
    }

    /// Checks τ, α, the teacher list and the weights; the message names the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(format!("train config: distill.{m}")));
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return bad(format!(
                "temperature must be a finite number > 0, got {}",
                self.temperature
            ));
        }
        if !(0.0..=1.0).contains(&self.weight) {
            return bad(format!("weight must be in [0, 1], got {}", self.weight));
        }
        if self.teacher.is_empty() {
            return bad("teacher names no model".into());
        }
        if let Some(w) = &self.weights {
            if w.len() != self.teacher.len() {
                return bad(format!(
                    "weights has {} values for {} teachers",
                    w.len(),
                    self.teacher.len()
                ));
            }
            if w.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || w.iter().sum::<f64>() <= 0.0 {
                return bad(format!(
                    "weights must be finite, ≥ 0 and sum to a positive number, got {w:?}"
                ));
            }
        }
        Ok(())
    }

    fn mix(&self) -> Mix {
        Mix {
            temperature: self.temperature,
            weight: self.weight,
        }
    }
}

/// A loaded teacher, handed to the training loop in [`crate::TrainOptions::teacher`].
#[derive(Clone)]
pub struct Teacher(pub Arc<dyn LanguageModel>);

impl std::fmt::Debug for Teacher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Teacher({})", self.0.describe())
    }
}

/// Refuses a teacher whose tokenizer is not `student`'s, naming both.
pub fn check_tokenizer(teacher: &dyn LanguageModel, student: &dyn Tokenizer) -> Result<()> {
    let (a, b) = (teacher.tokenizer().fingerprint(), student.fingerprint());
    if a != b {
        return Err(Error::Mismatch(format!(
            "the teacher ({}) has another tokenizer than the student (tokenizer fingerprint {a} \
             vs {b}): distillation needs the same tokenizer (train the teacher with the \
             student's tokenizer file, or the student with the teacher's)",
            teacher.describe()
        )));
    }
    Ok(())
}

/// The training loop's side of distillation: the teacher, the mix and a buffer of its
/// distributions for one micro-batch.
pub(crate) struct Distiller {
    teacher: Arc<dyn LanguageModel>,
    mix: Mix,
    dists: Vec<f64>,
    /// `dists` and the targets in the model's row order, when it is not the windows' order.
    reordered: (Vec<f64>, Vec<u32>),
}

impl Distiller {
    /// The distiller a run's `[train] distill` asks for, with the teacher its caller loaded;
    /// `None` without distillation. A config without a teacher, a teacher without a config, and a
    /// teacher with another tokenizer are refused.
    pub(crate) fn new(
        config: Option<&DistillConfig>,
        teacher: Option<&Teacher>,
        student: &dyn Tokenizer,
    ) -> Result<Option<Distiller>> {
        match (config, teacher) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(Error::invalid(
                "a teacher was given but the run config has no [train] distill section",
            )),
            (Some(c), None) => Err(Error::invalid(format!(
                "train config: distill names the teacher {:?}, but it was not loaded (the caller \
                 of lmlab_neural::train loads it: lmlab_lab::run does)",
                c.teacher
            ))),
            (Some(c), Some(t)) => {
                c.validate()?;
                check_tokenizer(t.0.as_ref(), student)?;
                Ok(Some(Distiller {
                    teacher: t.0.clone(),
                    mix: c.mix(),
                    dists: Vec::new(),
                    reordered: (Vec::new(), Vec::new()),
                }))
            }
        }
    }

    /// After `model`'s forward pass over `x` with targets `y` (windows of `t` tokens): replaces the
    /// cross-entropy's gradient by the mixed loss's, adds `scale · ∂loss/∂θ` into `grads`, and
    /// returns the mixed loss summed over the scored rows.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn backward<N: Net>(
        &mut self,
        model: &N,
        ws: &mut N::Ws,
        grads: &mut [f32],
        x: &[u32],
        y: &[u32],
        t: usize,
        bos: u32,
        scale: f32,
    ) -> f64 {
        let v = self.teacher.tokenizer().vocab().len();
        self.dists.resize(x.len() * v, 0.0);
        teacher::teacher_distributions(self.teacher.as_ref(), x, t, bos, &mut self.dists);
        let (dists, targets) = if N::TIME_MAJOR_ROWS {
            // Row `bi·t + ti` of the windows is the model's row `ti·b + bi`.
            let b = x.len() / t;
            let (rd, ry) = &mut self.reordered;
            rd.resize(self.dists.len(), 0.0);
            ry.resize(y.len(), 0);
            for (row, &target) in y.iter().enumerate() {
                let to = (row % t) * b + row / t;
                ry[to] = target;
                rd[to * v..(to + 1) * v].copy_from_slice(&self.dists[row * v..(row + 1) * v]);
            }
            (&rd[..], &ry[..])
        } else {
            (&self.dists[..], y)
        };
        let probs = model.probs_mut(ws);
        let sums = distill_loss_backward(probs, dists, targets, Some(bos), v, self.mix, scale);
        model.backward_from_logit_grads(ws, grads, x);
        sums.mixed(self.mix)
    }
}
