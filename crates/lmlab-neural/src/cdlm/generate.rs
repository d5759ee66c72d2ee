//! Chunk-distilled generation: at each step the target runs once (over whatever tokens are
//! pending), and when a stored chunk entered by the last token has an entry state with cosine ≥ S to
//! the target's current one (the best such), the chunk's tokens are emitted without the target
//! predicting them; otherwise the target samples one token. Not lossless: the output is not the
//! target's distribution unless no chunk is taken.

use super::{check_similarity, ChunkStore};
use crate::lm::TransformerModel;
use lmlab_core::sampling::{Guard, Sampler, SamplingOptions};
use lmlab_core::{LanguageModel, Result, Stepper, TokenId};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a CD-LM generation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct CdlmStats {
    /// Tokens generated.
    pub tokens: u64,
    /// Of those, tokens that came from chunks.
    pub chunk_tokens: u64,
    /// Chunks emitted.
    pub chunks: u64,
    /// The target's forward passes: one per step (a sampled token, or a chunk after the pass that
    /// gave its entry state).
    pub target_calls: u64,
}

impl CdlmStats {
    /// The share of generated tokens that came from chunks.
    pub fn chunk_fraction(&self) -> f64 {
        self.chunk_tokens as f64 / self.tokens.max(1) as f64
    }

    /// Target forward passes per generated token (1 without chunks).
    pub fn target_calls_per_token(&self) -> f64 {
        self.target_calls as f64 / self.tokens.max(1) as f64
    }

    fn add(&mut self, other: &CdlmStats) {
        self.tokens += other.tokens;
        self.chunk_tokens += other.chunk_tokens;
        self.chunks += other.chunks;
        self.target_calls += other.target_calls;
    }
}

/// Continues `prompt` with `model`, taking chunks from `store` at similarity threshold
/// `similarity` (S = 1: never, which is [`lmlab_core::sampling::generate`] token for token). Tokens
/// the model samples follow `options` (temperature, top-k, top-p, the text guard) as that function
/// does; a chunk is cut at `max_tokens` and, with `stop_at_eos`, at its end token.
pub fn generate(
    model: &TransformerModel,
    store: &ChunkStore,
    similarity: f64,
    prompt: &[TokenId],
    options: &SamplingOptions,
) -> Result<(Vec<TokenId>, CdlmStats)> {
    options.validate()?;
    check_similarity(similarity)?;
    let specials = model.tokenizer().specials();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut guard = Guard::new(model, prompt, options);
    let mut scorer = model.kv_scorer();
    scorer.reserve(prompt.len() + options.max_tokens + 1);
    prompt.iter().for_each(|&t| scorer.push(t));
    let mut sampler = Sampler::default();
    let mut distribution = vec![0.0; scorer.vocab_len()];
    let mut chunk = Vec::new();
    let mut stats = CdlmStats::default();
    let mut generated = Vec::with_capacity(options.max_tokens);
    while generated.len() < options.max_tokens {
        stats.target_calls += 1;
        let last = generated
            .last()
            .or(prompt.last())
            .copied()
            .unwrap_or(specials.bos);
        let found = if similarity < 1.0 {
            store.best_match(last, scorer.hidden_state())
        } else {
            None
        };
        if let Some((_, o)) = found.filter(|&(s, _)| s >= similarity) {
            store.chunk_into(o, &mut chunk);
            chunk.truncate(options.max_tokens - generated.len());
            let end = options
                .stop_at_eos
                .then(|| chunk.iter().position(|&t| t == specials.eos))
                .flatten();
            chunk.truncate(end.unwrap_or(chunk.len()));
            for &t in &chunk {
                scorer.push(t);
                generated.push(t);
                guard.push(t, generated.len());
            }
            stats.chunks += 1;
            stats.chunk_tokens += chunk.len() as u64;
            if end.is_some() {
                break;
            }
            continue;
        }
        scorer.distribution_into(&mut distribution);
        if !guard.mask(&mut distribution) {
            break;
        }
        let next = sampler.sample(&distribution, options, &mut rng);
        if next == specials.eos && options.stop_at_eos {
            break;
        }
        scorer.push(next);
        generated.push(next);
        guard.push(next, generated.len());
    }
    guard.finish(&mut generated);
    stats.tokens = generated.len() as u64;
    stats.chunk_tokens = stats.chunk_tokens.min(stats.tokens);
    Ok((generated, stats))
}

/// `count` samples, sample `i` with seed `options.seed + i` (as
/// [`lmlab_core::sampling::generate_samples`]), and their summed stats.
pub fn generate_samples(
    model: &TransformerModel,
    store: &ChunkStore,
    similarity: f64,
    prompt: &[TokenId],
    options: &SamplingOptions,
    count: usize,
) -> Result<(Vec<Vec<TokenId>>, CdlmStats)> {
    let mut total = CdlmStats::default();
    let mut samples = Vec::with_capacity(count);
    for i in 0..count as u64 {
        let one = SamplingOptions {
            seed: options.seed.wrapping_add(i),
            ..*options
        };
        let (ids, stats) = generate(model, store, similarity, prompt, &one)?;
        total.add(&stats);
        samples.push(ids);
    }
    Ok((samples, total))
}
