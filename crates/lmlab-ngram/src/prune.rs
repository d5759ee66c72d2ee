//! Count-threshold pruning with lmplz's meaning: `thresholds[k-1]` applies to order k (the last
//! value to every higher order); an n-gram of order k ≥ 2 whose raw count is at most the threshold
//! is dropped. Thresholds must not decrease, so every kept n-gram keeps its prefix and suffix; the
//! unigram threshold must be 0. Discount statistics still see every n-gram; the pruned mass goes to
//! the backoffs (see [`crate::interpolate`]); counting flags the pruned n-grams and layout leaves them
//! out of the stored tables.

use lmlab_core::{Error, Result};

/// The per-order thresholds for a model of `order` from the user's list (empty = no pruning).
pub(crate) fn thresholds(prune: &[u64], order: usize) -> Result<Vec<u64>> {
    if prune.is_empty() {
        return Ok(vec![0; order]);
    }
    if prune.len() > order {
        return Err(Error::invalid(format!(
            "--prune gives thresholds for orders 1 through {} but the model has order {order}",
            prune.len()
        )));
    }
    if prune[0] != 0 {
        return Err(Error::invalid(format!(
            "--prune: the first threshold is for unigrams, which are never pruned, so it must be 0 \
             (got {}); e.g. --prune 0 0 1 prunes singleton trigrams and above",
            prune[0]
        )));
    }
    if let Some(w) = prune.windows(2).find(|w| w[1] < w[0]) {
        return Err(Error::invalid(format!(
            "--prune thresholds must not decrease ({} then {}): otherwise a kept n-gram could \
             lose its prefix or suffix",
            w[0], w[1]
        )));
    }
    let mut all = prune.to_vec();
    all.resize(order, *prune.last().expect("non-empty"));
    Ok(all)
}
