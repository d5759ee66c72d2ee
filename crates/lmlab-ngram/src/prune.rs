//! Count-threshold pruning with lmplz's meaning: `thresholds[k-1]` applies to order k (the last
//! value to every higher order); an n-gram of order k ≥ 2 whose raw count is at most the threshold
//! is dropped. Thresholds must not decrease, so every kept n-gram keeps its prefix and suffix; the
//! unigram threshold must be 0. Discount statistics still see every n-gram; the pruned mass goes to
//! the backoffs (see [`crate::interpolate`]), and the tables are filtered at the end.

use crate::count::{key_first, key_suffix, make_key, Counts};
use crate::layout::RankTable;
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

/// Which n-grams of each order ≥ 2 are pruned (index n-2; empty when none of that order are).
pub(crate) fn pruned_flags(counts: &Counts, thresholds: &[u64]) -> Vec<Vec<bool>> {
    counts
        .higher
        .iter()
        .enumerate()
        .map(|(i, oc)| {
            let t = thresholds[i + 1];
            if t == 0 {
                Vec::new()
            } else {
                oc.raw.iter().map(|&c| u64::from(c) <= t).collect()
            }
        })
        .collect()
}

/// Drops the pruned n-grams from the tables, renumbering the suffix ranks inside the keys.
pub(crate) fn filter_tables(tables: Vec<RankTable>, pruned: &[Vec<bool>]) -> Vec<RankTable> {
    if pruned.iter().all(Vec::is_empty) {
        return tables;
    }
    let mut out: Vec<RankTable> = Vec::with_capacity(tables.len());
    // new_rank[old] for the previous order (None = identity).
    let mut renumber: Option<Vec<u32>> = None;
    for (i, table) in tables.into_iter().enumerate() {
        if i == 0 {
            out.push(table);
            continue;
        }
        let flags = &pruned[i - 1];
        let keep = |rank: usize| flags.is_empty() || !flags[rank];
        let mut next_renumber = vec![u32::MAX; table.len()];
        let mut keys = Vec::new();
        let mut log_prob = Vec::new();
        let mut log_bow = Vec::new();
        for (rank, new_rank) in next_renumber.iter_mut().enumerate() {
            if !keep(rank) {
                continue;
            }
            let key = table.keys[rank];
            let suffix = match &renumber {
                Some(map) => map[key_suffix(key) as usize],
                None => key_suffix(key),
            };
            if suffix == u32::MAX {
                continue; // cannot happen with non-decreasing thresholds
            }
            *new_rank = keys.len() as u32;
            keys.push(make_key(suffix, key_first(key)));
            log_prob.push(table.log_prob[rank]);
            if !table.log_bow.is_empty() {
                log_bow.push(table.log_bow[rank]);
            }
        }
        out.push(RankTable {
            keys,
            log_prob,
            log_bow,
        });
        renumber = Some(next_renumber);
    }
    out
}
