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
        Ok(())
    }
}

/// Draws one token from `probs` after temperature and top-k.
pub fn sample_from(probs: &[f64], options: &SamplingOptions, rng: &mut impl Rng) -> TokenId {
    let mut candidates: Vec<(TokenId, f64)> = probs
        .iter()
        .enumerate()
        .filter(|(_, &p)| p > 0.0)
        .map(|(i, &p)| (i as TokenId, p.ln() / options.temperature))
        .collect();
    if options.top_k > 0 && candidates.len() > options.top_k {
        candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        candidates.truncate(options.top_k);
    }
    let max = candidates
        .iter()
        .map(|c| c.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = candidates.iter().map(|c| (c.1 - max).exp()).sum();
    let mut target = rng.gen::<f64>() * total;
    for &(id, logit) in &candidates {
        target -= (logit - max).exp();
        if target <= 0.0 {
            return id;
        }
    }
    candidates.last().map_or(0, |c| c.0)
}

/// Continues `prompt` (ids after `<s>`) until the end token or `max_tokens`; returns the new ids
/// (without the end token).
pub fn generate(
    model: &dyn LanguageModel,
    prompt: &[TokenId],
    options: &SamplingOptions,
) -> Result<Vec<TokenId>> {
    options.validate()?;
    let eos = model.tokenizer().specials().eos;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut context = prompt.to_vec();
    let mut generated = Vec::new();
    for _ in 0..options.max_tokens {
        let next = sample_from(&model.next_distribution(&context), options, &mut rng);
        if next == eos {
            break;
        }
        context.push(next);
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
            seed: 1,
            max_tokens: 1,
            temperature: 1.0,
            top_k: 1,
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
