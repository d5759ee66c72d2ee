//! Sampling text from any [`LanguageModel`] with a seeded, portable random generator.

use crate::error::{Error, Result};
use crate::model::LanguageModel;
use crate::vocab::TokenId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How to sample.
#[derive(Clone, Copy, Debug)]
pub struct SamplingOptions {
    /// Random seed: the same seed, model and prompt give the same text.
    pub seed: u64,
    /// Most tokens to generate (generation also stops at the end token).
    pub max_tokens: usize,
    /// Softmax temperature, > 0.
    pub temperature: f64,
    /// Keep only the k most likely tokens (0 = all).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = all).
    pub top_p: f64,
    /// Stop at the end token. Models trained on a stream (where `</s>` ends a line, not the text)
    /// leave this off and generate across lines.
    pub stop_at_eos: bool,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        SamplingOptions {
            seed: 0,
            max_tokens: 50,
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            stop_at_eos: true,
        }
    }
}

impl SamplingOptions {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(Error::invalid(format!(
                "temperature must be a positive number, got {}",
                self.temperature
            )));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(Error::invalid(format!(
                "top-p must lie in (0, 1], got {}",
                self.top_p
            )));
        }
        Ok(())
    }
}

/// Draws one token from `probs` after temperature, top-k and top-p (ties broken by lower id).
pub fn sample_from(probs: &[f64], options: &SamplingOptions, rng: &mut impl Rng) -> TokenId {
    let mut candidates: Vec<(TokenId, f64)> = probs
        .iter()
        .enumerate()
        .filter(|(_, &p)| p > 0.0)
        .map(|(i, &p)| (i as TokenId, p.ln() / options.temperature))
        .collect();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if options.top_k > 0 {
        candidates.truncate(options.top_k);
    }
    let Some(&(_, max)) = candidates.first() else {
        return 0;
    };
    let mut weights: Vec<f64> = candidates.iter().map(|c| (c.1 - max).exp()).collect();
    if options.top_p < 1.0 {
        let total: f64 = weights.iter().sum();
        let mut mass = 0.0;
        let keep = weights
            .iter()
            .position(|w| {
                mass += w / total;
                mass >= options.top_p
            })
            .map_or(weights.len(), |i| i + 1);
        weights.truncate(keep);
    }
    let total: f64 = weights.iter().sum();
    let mut target = rng.gen::<f64>() * total;
    for (c, w) in candidates.iter().zip(&weights) {
        target -= w;
        if target <= 0.0 {
            return c.0;
        }
    }
    candidates[weights.len() - 1].0
}

/// Continues `prompt` (ids after `<s>`) for up to `max_tokens` tokens (stopping at the end token
/// when asked); returns the new ids without a final end token. Uses the model's stepper when it
/// has one, so the cost per token does not grow with the context.
pub fn generate(
    model: &dyn LanguageModel,
    prompt: &[TokenId],
    options: &SamplingOptions,
) -> Result<Vec<TokenId>> {
    options.validate()?;
    let eos = model.tokenizer().specials().eos;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut stepper = model.next_token_stepper();
    let mut context = prompt.to_vec();
    if let Some(stepper) = stepper.as_mut() {
        prompt.iter().for_each(|&t| stepper.push(t));
    }
    let mut generated = Vec::new();
    for _ in 0..options.max_tokens {
        let distribution = match stepper.as_mut() {
            Some(stepper) => stepper.distribution(),
            None => model.next_distribution(&context),
        };
        let next = sample_from(&distribution, options, &mut rng);
        if next == eos && options.stop_at_eos {
            break;
        }
        match stepper.as_mut() {
            Some(stepper) => stepper.push(next),
            None => context.push(next),
        }
        generated.push(next);
    }
    Ok(generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_one_is_greedy_and_sampling_follows_the_distribution() {
        let probs = [0.1, 0.6, 0.3];
        let opts = SamplingOptions {
            top_k: 1,
            ..SamplingOptions::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        assert_eq!(sample_from(&probs, &opts, &mut rng), 1);
        let all = SamplingOptions { top_k: 0, ..opts };
        let mut counts = [0usize; 3];
        for _ in 0..20_000 {
            counts[sample_from(&probs, &all, &mut rng) as usize] += 1;
        }
        let freq = counts[1] as f64 / 20_000.0;
        assert!((freq - 0.6).abs() < 0.02, "{counts:?}");
        let zero = SamplingOptions {
            temperature: 0.0,
            ..opts
        };
        assert!(zero
            .validate()
            .unwrap_err()
            .to_string()
            .contains("temperature"));
    }
}
