//! Teachers for distillation (issue 15 §3): `[train] distill.teacher` loaded through the registry
//! (any model file or neural run directory), and several teachers as one [`MixtureModel`] whose
//! weights are given or fitted by EM on the validation text (`lmlab ensemble`'s EM,
//! [`lmlab_core::ensemble::fit_weights`], on the members' token probabilities).

use lmlab_core::ensemble::fit_weights;
use lmlab_core::evaluate::score_sequences;
use lmlab_core::model::encode_corpus;
use lmlab_core::{Error, LanguageModel, Result, SequenceMode, Stepper, TokenId, Tokenizer};
use lmlab_neural::distill::{DistillConfig, Teacher};
use std::path::Path;
use std::sync::Arc;

/// Most EM iterations and the relative gain it stops at (`lmlab ensemble`'s defaults).
const EM_ITERATIONS: usize = 1000;
const EM_TOLERANCE: f64 = 1e-10;

/// Loads the teacher `config` names; several become their mixture, weighted by
/// `config.weights` or by EM on `valid_text` (cut into sequences by `mode`).
pub fn load_teacher(
    config: &DistillConfig,
    valid_text: &str,
    mode: SequenceMode,
) -> Result<Teacher> {
    config.validate()?;
    let members = config
        .teacher
        .iter()
        .map(|path| load_one(path))
        .collect::<Result<Vec<_>>>()?;
    if members.len() == 1 {
        let model = members.into_iter().next().expect("one member");
        return Ok(Teacher(Arc::from(model)));
    }
    for (path, member) in config.teacher.iter().zip(&members).skip(1) {
        if member.tokenizer().fingerprint() != members[0].tokenizer().fingerprint() {
            return Err(Error::Mismatch(format!(
                "distill.teacher: {} has another tokenizer than {}: the members of a mixture \
                 share one",
                path.display(),
                config.teacher[0].display()
            )));
        }
    }
    let weights = match &config.weights {
        Some(w) => w.clone(),
        None => em_weights(&members, valid_text, mode)?,
    };
    Ok(Teacher(Arc::new(MixtureModel::new(members, weights))))
}

/// One teacher through the registry; the error names the field and the path.
fn load_one(path: &Path) -> Result<Box<dyn LanguageModel>> {
    crate::registry::load_model(path).map_err(|e| {
        Error::invalid(format!(
            "distill.teacher {}: not a model lmlab can load ({e})",
            path.display()
        ))
    })
}

/// EM weights of `members` on the tokens of `text`.
fn em_weights(
    members: &[Box<dyn LanguageModel>],
    text: &str,
    mode: SequenceMode,
) -> Result<Vec<f64>> {
    let sequences = encode_corpus(members[0].tokenizer(), text, mode);
    let ids: Vec<&[TokenId]> = sequences.iter().map(|s| &s.ids[..]).collect();
    let probs: Vec<Vec<f64>> = members
        .iter()
        .map(|m| {
            score_sequences(m.as_ref(), &ids)
                .into_iter()
                .flatten()
                .map(f64::exp)
                .collect()
        })
        .collect();
    let refs: Vec<&[f64]> = probs.iter().map(|p| &p[..]).collect();
    Ok(fit_weights(&refs, EM_ITERATIONS, EM_TOLERANCE)?.weights)
}

/// Σᵢ wᵢ·pᵢ over models sharing a tokenizer (weights normalised to sum to 1).
pub struct MixtureModel {
    members: Vec<Box<dyn LanguageModel>>,
    weights: Vec<f64>,
}

impl MixtureModel {
    /// The mixture of `members` with `weights` (non-negative, positive sum: the caller checks).
    pub fn new(members: Vec<Box<dyn LanguageModel>>, weights: Vec<f64>) -> MixtureModel {
        let sum: f64 = weights.iter().sum();
        let weights = weights.iter().map(|w| w / sum).collect();
        MixtureModel { members, weights }
    }

    /// The normalised weights, one per member.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

impl LanguageModel for MixtureModel {
    fn kind(&self) -> &str {
        "mixture"
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .members
            .iter()
            .zip(&self.weights)
            .map(|(m, w)| format!("{w:.4}·{}", m.describe()))
            .collect();
        format!("mixture of {}", parts.join(" + "))
    }

    fn tokenizer(&self) -> &dyn Tokenizer {
        self.members[0].tokenizer()
    }

    fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
        let each: Vec<Vec<f64>> = self.members.iter().map(|m| m.log_probs(tokens)).collect();
        (0..tokens.len())
            .map(|i| {
                let p: f64 = each
                    .iter()
                    .zip(&self.weights)
                    .map(|(lp, w)| w * lp[i].exp())
                    .sum();
                p.ln()
            })
            .collect()
    }

    fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
        let mut out = vec![0.0; self.tokenizer().vocab().len()];
        for (m, w) in self.members.iter().zip(&self.weights) {
            for (o, p) in out.iter_mut().zip(m.next_distribution(context)) {
                *o += w * p;
            }
        }
        out
    }

    fn stepper(&self) -> Box<dyn Stepper<'_> + '_> {
        Box::new(MixtureStepper {
            steppers: self.members.iter().map(|m| m.stepper()).collect(),
            weights: &self.weights,
            scratch: Vec::new(),
        })
    }

    fn parameter_count(&self) -> u64 {
        self.members.iter().map(|m| m.parameter_count()).sum()
    }
}

/// The members' steppers side by side; distributions mixed.
struct MixtureStepper<'m> {
    steppers: Vec<Box<dyn Stepper<'m> + 'm>>,
    weights: &'m [f64],
    scratch: Vec<f64>,
}

impl MixtureStepper<'_> {
    /// `out = Σ wᵢ · (what `each` writes for member i)`.
    fn mix(&mut self, out: &mut [f64], mut each: impl FnMut(&mut dyn Stepper<'_>, &mut [f64])) {
        out.fill(0.0);
        self.scratch.resize(out.len(), 0.0);
        for (s, &w) in self.steppers.iter_mut().zip(self.weights) {
            each(s.as_mut(), &mut self.scratch);
            for (o, p) in out.iter_mut().zip(&self.scratch) {
                *o += w * p;
            }
        }
    }
}

impl<'m> Stepper<'m> for MixtureStepper<'m> {
    fn vocab_len(&self) -> usize {
        self.steppers[0].vocab_len()
    }

    fn context_len(&self) -> usize {
        self.steppers[0].context_len()
    }

    fn push(&mut self, token: TokenId) {
        self.steppers.iter_mut().for_each(|s| s.push(token));
    }

    fn distribution_into(&mut self, out: &mut [f64]) {
        self.mix(out, |s, buf| s.distribution_into(buf));
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        let p: f64 = self
            .steppers
            .iter_mut()
            .zip(self.weights)
            .map(|(s, w)| w * s.score_next(token).exp())
            .sum();
        p.ln()
    }

    fn truncate(&mut self, len: usize) {
        self.steppers.iter_mut().for_each(|s| s.truncate(len));
    }

    fn fork(&self) -> Box<dyn Stepper<'m> + 'm> {
        Box::new(MixtureStepper {
            steppers: self.steppers.iter().map(|s| s.fork()).collect(),
            weights: self.weights,
            scratch: Vec::new(),
        })
    }

    fn reset(&mut self) {
        self.steppers.iter_mut().for_each(|s| s.reset());
    }

    fn reserve(&mut self, additional: usize) {
        self.steppers.iter_mut().for_each(|s| s.reserve(additional));
    }

    fn score_proposed(&mut self, proposed: &[TokenId], out: &mut [f64]) {
        self.mix(out, |s, buf| s.score_proposed(proposed, buf));
    }
}
