//! CD-LM's perplexity: the likelihood of a text under the chunk/token mixture, every way of
//! segmenting it into retrieved chunks and target tokens summed (the authors' `compute_ppl.py`).
//!
//! At each position j (token x_j after context x_<j), retrieval with the entry x_{j−1} and the
//! target's state there gives the best chunk c_j with cosine s_j; with a similarity threshold S,
//! the chunk is taken with probability q_j = min(s_j, 1 − 10⁻¹²) clamped at 0 when s_j ≥ S (their
//! `identity` map), q_j = 0 otherwise (and always when S = 1). Taking it emits c_j (cut at the
//! text's end, as theirs) deterministically; otherwise the target emits one token. So, with
//! β(n + 1) = 1 for a text x_1..x_n,
//!
//! β(j) = (1 − q_j) · p(x_j | x_<j) · β(j + 1) + q_j · [c_j = x_j..x_{j+|c_j|−1}] · β(j + |c_j|),
//!
//! and P(x) = β(1), computed in logs. With no chunk retrieved, P(x) is the target's own likelihood.

use super::{check_similarity, ChunkStore};
use crate::lm::{renormalized_log_prob, TransformerModel};
use lmlab_core::{LanguageModel, Result, TokenId};
use rayon::prelude::*;

/// Totals of one similarity threshold over a corpus.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct CdlmEval {
    /// The similarity threshold S.
    pub similarity: f64,
    /// Tokens scored (end tokens included).
    pub tokens: u64,
    /// ln P of every sequence under the mixture, summed.
    pub log_prob_sum: f64,
    /// ln P under the target alone, summed.
    pub target_log_prob_sum: f64,
    /// Positions where a chunk was retrieved (s ≥ S).
    pub retrieved: u64,
    /// Of those, positions whose chunk is the text that follows.
    pub retrieved_matching: u64,
}

impl CdlmEval {
    /// exp(−ln P / tokens) under the mixture.
    pub fn perplexity(&self) -> f64 {
        (-self.log_prob_sum / self.tokens.max(1) as f64).exp()
    }

    /// The target's own perplexity on the same tokens.
    pub fn target_perplexity(&self) -> f64 {
        (-self.target_log_prob_sum / self.tokens.max(1) as f64).exp()
    }

    fn add(&mut self, other: &CdlmEval) {
        self.tokens += other.tokens;
        self.log_prob_sum += other.log_prob_sum;
        self.target_log_prob_sum += other.target_log_prob_sum;
        self.retrieved += other.retrieved;
        self.retrieved_matching += other.retrieved_matching;
    }
}

/// What retrieval found before one token.
#[derive(Clone, Copy, Debug)]
pub struct Retrieval {
    /// The best cosine similarity (−∞ when the entry token has no chunk).
    pub similarity: f64,
    /// The chunk's length when it is the text that follows (cut at the text's end), else 0.
    pub matching_len: usize,
}

/// ln P(x) of one text under the mixture, given the target's ln p of each token and what retrieval
/// found before it (see the module doc).
pub fn sequence_log_prob(log_probs: &[f64], retrieved: &[Retrieval], similarity: f64) -> f64 {
    let n = log_probs.len();
    let mut beta = vec![0.0f64; n + 1];
    for j in (0..n).rev() {
        let r = retrieved[j];
        let q = if similarity < 1.0 && r.similarity >= similarity {
            r.similarity.clamp(0.0, 1.0 - 1e-12)
        } else {
            0.0
        };
        let token = log_probs[j] + beta[j + 1];
        beta[j] = if q > 0.0 {
            let own = (1.0 - q).ln() + token;
            if r.matching_len > 0 {
                log_add_exp(own, q.ln() + beta[j + r.matching_len])
            } else {
                own
            }
        } else {
            token
        };
    }
    beta[0]
}

fn log_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// The target's ln p of each token of `ids` and what retrieval found before it, in one pass of the
/// target over the text (the sliding windows of its own evaluation).
pub fn retrieve_along(
    model: &TransformerModel,
    store: &ChunkStore,
    ids: &[TokenId],
) -> (Vec<f64>, Vec<Retrieval>) {
    let bos = model.tokenizer().specials().bos;
    let inputs: Vec<TokenId> = std::iter::once(bos).chain(ids.iter().copied()).collect();
    let mut log_probs = Vec::with_capacity(ids.len());
    let mut retrieved = Vec::with_capacity(ids.len());
    let mut chunk = Vec::new();
    let mut scorer = model.kv_scorer();
    scorer.push_with_rows(ids, |i, probs, hidden| {
        let Some(&next) = inputs.get(i + 1) else {
            return;
        };
        log_probs.push(renormalized_log_prob(probs, next, bos));
        let found = store.best_match(inputs[i], hidden);
        retrieved.push(match found {
            Some((similarity, o)) => {
                store.chunk_into(o, &mut chunk);
                let rest = &inputs[i + 1..];
                let len = chunk.len().min(rest.len());
                let matches = chunk[..len] == rest[..len];
                Retrieval {
                    similarity,
                    matching_len: if matches { len } else { 0 },
                }
            }
            None => Retrieval {
                similarity: f64::NEG_INFINITY,
                matching_len: 0,
            },
        });
    });
    (log_probs, retrieved)
}

/// CD-LM's totals on `sequences` (ids without `<s>`, end tokens included) for each threshold in
/// `similarities`; retrieval runs once per position for all of them. Sequences in parallel, sums in
/// their order (same bytes on every run).
pub fn evaluate_sequences(
    model: &TransformerModel,
    store: &ChunkStore,
    sequences: &[Vec<TokenId>],
    similarities: &[f64],
) -> Result<Vec<CdlmEval>> {
    for &s in similarities {
        check_similarity(s)?;
    }
    let per_sequence: Vec<Vec<CdlmEval>> = sequences
        .par_iter()
        .map(|ids| {
            let (log_probs, retrieved) = retrieve_along(model, store, ids);
            let target: f64 = log_probs.iter().sum();
            similarities
                .iter()
                .map(|&s| {
                    let on = |r: &&Retrieval| s < 1.0 && r.similarity >= s;
                    CdlmEval {
                        similarity: s,
                        tokens: ids.len() as u64,
                        log_prob_sum: sequence_log_prob(&log_probs, &retrieved, s),
                        target_log_prob_sum: target,
                        retrieved: retrieved.iter().filter(on).count() as u64,
                        retrieved_matching: retrieved
                            .iter()
                            .filter(on)
                            .filter(|r| r.matching_len > 0)
                            .count() as u64,
                    }
                })
                .collect()
        })
        .collect();
    let mut totals: Vec<CdlmEval> = similarities
        .iter()
        .map(|&similarity| CdlmEval {
            similarity,
            ..CdlmEval::default()
        })
        .collect();
    for one in &per_sequence {
        for (t, e) in totals.iter_mut().zip(one) {
            t.add(e);
        }
    }
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(similarity: f64, matching_len: usize) -> Retrieval {
        Retrieval {
            similarity,
            matching_len,
        }
    }

    #[test]
    fn the_mixture_sums_every_segmentation() {
        let lp = [0.5f64.ln(), 0.25f64.ln(), 0.8f64.ln()];
        let none = [r(f64::NEG_INFINITY, 0); 3];
        let target: f64 = lp.iter().sum();
        assert!((sequence_log_prob(&lp, &none, 0.5) - target).abs() < 1e-12);
        // A chunk of the last two tokens retrieved before token 2 with s = 0.9, taken at S = 0.8:
        // P = 0.5 · (0.1 · 0.25 · 0.8 + 0.9 · 1).
        let found = [r(0.1, 0), r(0.9, 2), r(f64::NEG_INFINITY, 0)];
        let want = (0.5f64 * (0.1 * 0.25 * 0.8 + 0.9)).ln();
        assert!((sequence_log_prob(&lp, &found, 0.8) - want).abs() < 1e-12);
        // A wrong chunk costs its probability: P = 0.5 · 0.1 · 0.25 · 0.8.
        let wrong = [r(0.1, 0), r(0.9, 0), r(f64::NEG_INFINITY, 0)];
        let want = (0.5 * 0.1 * 0.25 * 0.8f64).ln();
        assert!((sequence_log_prob(&lp, &wrong, 0.8) - want).abs() < 1e-12);
        // A threshold above the similarity, and S = 1 (off): the target alone.
        assert!((sequence_log_prob(&lp, &found, 0.95) - target).abs() < 1e-12);
        assert!((sequence_log_prob(&lp, &found, 1.0) - target).abs() < 1e-12);
    }
}
