//! Builds a [`ChunkStore`] by running the target over encoded sequences.

use super::extract::RunExtractor;
use super::store::StoreBuilder;
use super::{ChunkOptions, ChunkStore};
use crate::lm::{renormalized_prob, TransformerModel};
use lmlab_core::{Error, LanguageModel, Result, TokenId};
use rayon::prelude::*;

/// An occurrence found in one sequence: entry token, chunk tokens, entry state.
type Found = (TokenId, Vec<TokenId>, Vec<f32>);

/// Runs `model` over each sequence (ids without `<s>`, end tokens included, each from `<s>` with
/// the sliding windows of the model's own evaluation) and keeps the chunks `options` cut. Sequences
/// are read in parallel and stored in their order, so the store is the same whatever the threads.
/// Refuses an empty corpus and invalid options.
pub fn build_chunks(
    model: &TransformerModel,
    sequences: &[Vec<TokenId>],
    options: &ChunkOptions,
) -> Result<ChunkStore> {
    options.validate()?;
    if sequences.iter().all(Vec::is_empty) {
        return Err(Error::invalid(
            "an empty corpus: no tokens for the target to read, so no chunks",
        ));
    }
    let dim = model.config().model.n_embd;
    let found: Vec<Vec<Found>> = sequences
        .par_iter()
        .map(|ids| sequence_chunks(model, ids, options))
        .collect();
    let mut builder = StoreBuilder::new(dim, model.tokenizer().vocab().len());
    for (entry, tokens, state) in found.iter().flatten() {
        builder.add(*entry, tokens, state);
    }
    Ok(builder.finish())
}

/// The chunk occurrences of one sequence, in order.
fn sequence_chunks(
    model: &TransformerModel,
    ids: &[TokenId],
    options: &ChunkOptions,
) -> Vec<Found> {
    let bos = model.tokenizer().specials().bos;
    let inputs: Vec<TokenId> = std::iter::once(bos).chain(ids.iter().copied()).collect();
    let mut extractor = RunExtractor::new(*options, model.config().model.n_embd);
    let mut found = Vec::new();
    let mut scorer = model.kv_scorer();
    scorer.push_with_rows(ids, |i, probs, hidden| {
        let next = inputs.get(i + 1).map(|&t| renormalized_prob(probs, t, bos));
        extractor.row(&inputs, i, hidden, next, |o| {
            found.push((o.entry, o.tokens.to_vec(), o.state.to_vec()))
        });
    });
    found
}
