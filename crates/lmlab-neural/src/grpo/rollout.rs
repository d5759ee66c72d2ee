//! Sampled completions through the KV cache: one forward step per token, so a completion costs its
//! length in steps rather than re-encoding the prefix.

use crate::model::{KvCache, Transformer};
use lmlab_core::sampling::most_likely;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Samples a completion of `context` (which starts with `<s>`): at most `max_new` tokens, ending
/// at the first `eos` (included) or when the context window is full. `temperature` 0 is greedy
/// (the first most likely token); otherwise tokens are drawn from the temperature-scaled
/// distribution with a ChaCha8 stream seeded by `seed`. `<s>` is never drawn. The cache is cleared
/// first. Panics when `context` does not fit the window with room for one token.
pub fn sample_completion(
    model: &Transformer<f32>,
    cache: &mut KvCache<f32>,
    context: &[u32],
    max_new: usize,
    (bos, eos): (u32, u32),
    temperature: f64,
    seed: u64,
) -> Vec<u32> {
    let window = model.config.block_size;
    assert!(
        !context.is_empty() && context.len() <= window,
        "context of {} tokens for a window of {window}",
        context.len()
    );
    cache.clear();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut probs: Vec<f64> = Vec::new();
    for &tok in &context[..context.len() - 1] {
        model.step(cache, tok);
    }
    let mut next = context[context.len() - 1];
    let mut out = Vec::new();
    while out.len() < max_new {
        let p = model.step(cache, next);
        probs.clear();
        probs.extend(p.iter().map(|&x| x as f64));
        probs[bos as usize] = 0.0;
        next = if temperature == 0.0 {
            most_likely(&probs)
        } else {
            draw(&mut probs, temperature, rng.gen::<f64>())
        };
        out.push(next);
        if next == eos || cache.len() == window {
            break;
        }
    }
    out
}

/// The token where the cumulative tempered distribution passes `u · total`.
fn draw(p: &mut [f64], temperature: f64, u: f64) -> u32 {
    if temperature != 1.0 {
        for x in p.iter_mut() {
            *x = x.powf(1.0 / temperature);
        }
    }
    let total: f64 = p.iter().sum();
    let mut target = u * total;
    for (i, &x) in p.iter().enumerate() {
        if target < x {
            return i as u32;
        }
        target -= x;
    }
    // Rounding at the very end: the last token with mass.
    p.iter().rposition(|&x| x > 0.0).unwrap_or(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_seeded_and_respect_the_window() {
        let c = crate::grpo::test_config(6, 8);
        let m = Transformer::<f32>::new(&c, 2).unwrap();
        let mut cache = m.new_cache();
        let a = sample_completion(&m, &mut cache, &[0, 3, 4], 100, (0, 1), 1.0, 9);
        let b = sample_completion(&m, &mut cache, &[0, 3, 4], 100, (0, 1), 1.0, 9);
        assert_eq!(a, b);
        assert!(!a.contains(&0));
        // The window holds <s>, the prompt and all of the completion but its last token.
        assert!(3 + a.len() <= 8 + 1);
        assert!(a.last() == Some(&1) || 3 + a.len() == 9);
        let g = sample_completion(&m, &mut cache, &[0, 3, 4], 2, (0, 1), 0.0, 1);
        assert!(g.len() <= 2);
    }
}
