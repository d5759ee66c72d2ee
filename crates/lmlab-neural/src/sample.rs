//! Text generation with the KV cache: temperature, top-k, top-p (nucleus), seeded.

use crate::lm::{distribution, NeuralLm};
use lmlab_core::{Error, Result, TokenId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How to sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GenerateOptions {
    /// Random seed: the same seed, model and prompt give the same tokens.
    pub seed: u64,
    /// Tokens to generate at most.
    pub max_tokens: usize,
    /// Softmax temperature, > 0.
    pub temperature: f64,
    /// Keep the k most likely tokens (0 = all).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = all).
    pub top_p: f64,
    /// Stop at the end token (`</s>`); in stream-mode runs `</s>` is a newline, so leave this off there.
    pub stop_at_eos: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            seed: 0,
            max_tokens: 200,
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            stop_at_eos: false,
        }
    }
}

/// Generates up to `max_tokens` after `<s>` + `prompt` (an empty prompt starts from `<s>` alone).
pub fn generate(
    model: &dyn NeuralLm,
    prompt: &[TokenId],
    o: &GenerateOptions,
) -> Result<Vec<TokenId>> {
    if !(o.temperature.is_finite() && o.temperature > 0.0) {
        return Err(Error::invalid(format!(
            "temperature must be a positive number, got {}",
            o.temperature
        )));
    }
    if !(o.top_p > 0.0 && o.top_p <= 1.0) {
        return Err(Error::invalid(format!(
            "top-p must be in (0, 1], got {}",
            o.top_p
        )));
    }
    let tok = model.tokenizer();
    let (bos, eos) = (tok.specials().bos, tok.specials().eos);
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let mut scorer = model.stepper();
    for &t in prompt {
        scorer.push(t);
    }
    let mut out = Vec::new();
    for _ in 0..o.max_tokens {
        let next = pick(&distribution(scorer.probs(), bos), o, &mut rng);
        if o.stop_at_eos && next == eos {
            break;
        }
        out.push(next);
        scorer.push(next);
    }
    Ok(out)
}

fn pick(probs: &[f64], o: &GenerateOptions, rng: &mut impl Rng) -> TokenId {
    let mut cand: Vec<(TokenId, f64)> = probs
        .iter()
        .enumerate()
        .filter(|(_, &p)| p > 0.0)
        .map(|(i, &p)| (i as TokenId, p.ln() / o.temperature))
        .collect();
    cand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if o.top_k > 0 {
        cand.truncate(o.top_k.max(1));
    }
    let max = cand[0].1;
    let mut weights: Vec<f64> = cand.iter().map(|c| (c.1 - max).exp()).collect();
    let total: f64 = weights.iter().sum();
    if o.top_p < 1.0 {
        let mut acc = 0.0;
        let mut keep = weights.len();
        for (i, w) in weights.iter().enumerate() {
            acc += w / total;
            if acc >= o.top_p {
                keep = i + 1;
                break;
            }
        }
        weights.truncate(keep);
    }
    let total: f64 = weights.iter().sum();
    let mut target = rng.gen::<f64>() * total;
    for (c, w) in cand.iter().zip(&weights) {
        target -= w;
        if target <= 0.0 {
            return c.0;
        }
    }
    cand[weights.len() - 1].0
}
