//! The GRPO policy loss over a batch of sampled sequences and its gradient through the transformer:
//! a per-token weighted log-probability loss. One forward pass gives each position's next-token
//! distribution `p`; a token's loss term depends on the network only through `logp = ln p[target]`,
//! so its logit gradient is `∂term/∂logp · (onehot(target) − p)`, which
//! [`Transformer::backward_from_logit_grads`] carries back to the parameters.

use super::objective::{token_objective, ObjectiveParams};
use crate::float::Float;
use crate::model::{Transformer, Workspace};
use rayon::prelude::*;

/// Sampled sequences laid out as `b` rows of `t` positions (shorter ones padded).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyBatch {
    /// Sequences.
    pub b: usize,
    /// Positions per sequence.
    pub t: usize,
    /// Inputs, `b·t`: `<s>`, the prompt, the completion but its last token, padding.
    pub tokens: Vec<u32>,
    /// The next token at each input position, `b·t`.
    pub targets: Vec<u32>,
    /// Each position's weight in the loss, `b·t`: `1 / (sequences · completion length)` at a
    /// completion token (GRPO's per-sequence mean, then the mean over sequences), 0 at prompt and
    /// padding positions.
    pub weights: Vec<f64>,
    /// Each sequence's advantage, `b`.
    pub advantages: Vec<f64>,
    /// `ln p(target)` under the policy that sampled the batch, `b·t`.
    pub logp_old: Vec<f64>,
    /// `ln p(target)` under the frozen reference, `b·t`.
    pub logp_ref: Vec<f64>,
}

/// What one loss evaluation saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PolicyStats {
    /// The loss.
    pub loss: f64,
    /// Mean k3 KL estimate over completion tokens.
    pub kl: f64,
    /// Fraction of completion tokens on the clipped side.
    pub clip_fraction: f64,
    /// Completion tokens scored.
    pub tokens: usize,
}

/// `ln p(target)` at every position of `tokens` (`ws.b × ws.t`) under `model`, evaluation mode.
pub fn token_log_probs<F: Float>(
    model: &Transformer<F>,
    ws: &mut Workspace<F>,
    tokens: &[u32],
    targets: &[u32],
) -> Vec<f64> {
    model.forward(ws, tokens, None, None);
    let v = model.config.vocab_size;
    ws.logits[..targets.len() * v]
        .chunks_exact(v)
        .zip(targets)
        .map(|(row, &t)| row[t as usize].to_f64().max(f64::MIN_POSITIVE).ln())
        .collect()
}

/// The loss of `batch` under `model` (forward only), as [`policy_step`] computes it.
pub fn policy_loss<F: Float>(
    model: &Transformer<F>,
    ws: &mut Workspace<F>,
    batch: &PolicyBatch,
    params: ObjectiveParams,
) -> PolicyStats {
    let logp = token_log_probs(model, ws, &batch.tokens, &batch.targets);
    terms(batch, &logp, params).0
}

/// The per-position loss terms: the statistics and each position's `∂loss/∂logp`.
fn terms(batch: &PolicyBatch, logp: &[f64], params: ObjectiveParams) -> (PolicyStats, Vec<f64>) {
    let mut stats = PolicyStats::default();
    let mut dlogp = vec![0.0; logp.len()];
    let (mut kl_sum, mut clipped) = (0.0, 0usize);
    for (i, d) in dlogp.iter_mut().enumerate() {
        let w = batch.weights[i];
        if w == 0.0 {
            continue;
        }
        let adv = batch.advantages[i / batch.t];
        let term = token_objective(logp[i], batch.logp_old[i], batch.logp_ref[i], adv, params);
        stats.loss += w * term.loss;
        *d = w * term.dlogp;
        kl_sum += term.kl;
        clipped += term.clipped as usize;
        stats.tokens += 1;
    }
    let n = stats.tokens.max(1) as f64;
    stats.kl = kl_sum / n;
    stats.clip_fraction = clipped as f64 / n;
    (stats, dlogp)
}

/// Forward and backward of the policy loss of `batch`: adds `∂loss/∂θ` into `grads` and returns
/// what the loss saw. `ws` must be shaped `batch.b × batch.t`.
pub fn policy_step<F: Float>(
    model: &Transformer<F>,
    ws: &mut Workspace<F>,
    batch: &PolicyBatch,
    params: ObjectiveParams,
    grads: &mut [F],
) -> PolicyStats {
    let logp = token_log_probs(model, ws, &batch.tokens, &batch.targets);
    let (stats, dlogp) = terms(batch, &logp, params);
    let v = model.config.vocab_size;
    // ∂loss/∂logits = ∂loss/∂logp · (onehot − p) = (−∂loss/∂logp) · (p − onehot).
    ws.logits[..batch.targets.len() * v]
        .par_chunks_mut(v)
        .zip(batch.targets.par_iter())
        .zip(dlogp.par_iter())
        .for_each(|((row, &t), &d)| {
            if d == 0.0 {
                row.fill(F::ZERO);
                return;
            }
            row[t as usize] -= F::ONE;
            let scale = F::from_f64(-d);
            for p in row.iter_mut() {
                *p *= scale;
            }
        });
    model.backward_from_logit_grads(ws, grads, &batch.tokens);
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check, rand_vec};

    fn tiny() -> crate::config::ModelConfig {
        crate::grpo::test_config(7, 6)
    }

    /// Two sequences of 5 positions: the first two of each are prompt, the rest completion, with
    /// old and reference log-probabilities near the model's so that some tokens are clipped and
    /// some are not.
    fn batch(model: &Transformer<f64>) -> PolicyBatch {
        let (b, t) = (2, 5);
        let tokens = vec![0u32, 3, 4, 1, 2, 0, 5, 6, 2, 2];
        let targets = vec![3u32, 4, 1, 2, 1, 5, 6, 2, 2, 1];
        let mut ws = Workspace::new(&model.config, b, t);
        let logp = token_log_probs(model, &mut ws, &tokens, &targets);
        let noise = rand_vec(b * t, 5);
        let noise2 = rand_vec(b * t, 6);
        let weights: Vec<f64> = (0..b * t)
            .map(|i| if i % t >= 2 { 1.0 / (2.0 * 3.0) } else { 0.0 })
            .collect();
        PolicyBatch {
            b,
            t,
            tokens,
            targets,
            weights,
            advantages: vec![1.0, -0.7],
            logp_old: logp.iter().zip(&noise).map(|(l, n)| l + 0.5 * n).collect(),
            logp_ref: logp.iter().zip(&noise2).map(|(l, n)| l + n).collect(),
        }
    }

    #[test]
    fn whole_loss_gradient_matches_finite_differences() {
        let model = Transformer::<f64>::new(&tiny(), 4).unwrap();
        let batch = batch(&model);
        let params = ObjectiveParams {
            clip_eps: 0.2,
            kl_beta: 0.1,
        };
        let mut ws = Workspace::new(&model.config, batch.b, batch.t);
        let mut grads = vec![0.0; model.params.len()];
        let stats = policy_step(&model, &mut ws, &batch, params, &mut grads);
        assert!(stats.clip_fraction > 0.0 && stats.clip_fraction < 1.0);
        assert_eq!(stats.tokens, 6);
        let loss = |p: &[f64]| {
            let mut m = model.clone();
            m.params.copy_from_slice(p);
            let mut ws = Workspace::new(&m.config, batch.b, batch.t);
            policy_loss(&m, &mut ws, &batch, params).loss
        };
        check("GRPO policy loss", &model.params, &grads, loss);
    }

    #[test]
    fn kl_is_zero_when_policy_is_reference() {
        let model = Transformer::<f64>::new(&tiny(), 4).unwrap();
        let mut batch = batch(&model);
        let mut ws = Workspace::new(&model.config, batch.b, batch.t);
        batch.logp_ref = token_log_probs(&model, &mut ws, &batch.tokens, &batch.targets);
        let stats = policy_loss(&model, &mut ws, &batch, ObjectiveParams::default());
        assert_eq!(stats.kl, 0.0);
    }
}
