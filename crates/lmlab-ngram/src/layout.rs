//! Stage 5: layout. Estimation works in rank space (sorted keys whose suffix part is the rank of
//! the suffix in the order below); the stored model uses hash tables whose slot numbers are the
//! ids. This stage moves one order into its hash table, inserting in rank order and rewriting
//! suffix ranks as ids; pruned n-grams are left out.

use crate::count::{key_first, key_suffix, make_key, OrderCounts};
use crate::table::{OrderTable, BOS_LOG10};
use lmlab_core::{Result, TokenId};

/// How many keys ahead the home slot is prefetched.
const PREFETCH_AHEAD: usize = 16;

/// Marks a pruned n-gram, which has no id.
const NO_ID: u32 = u32::MAX;

/// The unigram table from unigram log10 probabilities and backoffs (`None`: all 0, a unigram
/// model); `<s>` gets [`BOS_LOG10`].
pub(crate) fn unigram_table(
    log_probs: &[f32],
    log_bows: Option<&[f32]>,
    bos: TokenId,
) -> OrderTable {
    OrderTable::unigrams(log_probs.iter().enumerate().map(|(w, &p)| {
        let prob = if w == bos as usize { BOS_LOG10 } else { p };
        (prob, log_bows.map_or(0.0, |b| b[w]))
    }))
}

/// The hash table of order `oc` from its log10 probabilities and backoffs (`None` at the top order);
/// `lower_ids` maps the order below's ranks to ids (`None` below bigrams: unigram ids are token
/// ids). Returns the table and this order's ids by rank.
pub(crate) fn hash_order(
    oc: &OrderCounts,
    log_probs: &[f32],
    log_bows: Option<&[f32]>,
    lower_ids: Option<&[u32]>,
) -> Result<(OrderTable, Vec<u32>)> {
    let pruned = |rank: usize| oc.pruned.get(rank).copied().unwrap_or(false);
    let kept = oc.len() - oc.pruned.iter().filter(|&&p| p).count();
    let mut table = OrderTable::hashed(kept);
    // The top order's ids are never needed.
    let mut ids = if log_bows.is_some() {
        vec![NO_ID; oc.len()]
    } else {
        Vec::new()
    };
    // The key with its suffix rank rewritten as the suffix's id.
    let id_key = |key: u64| {
        let suffix = key_suffix(key);
        let suffix = lower_ids.map_or(suffix, |m| m[suffix as usize]);
        make_key(suffix, key_first(key))
    };
    let mut rank = 0;
    oc.keys.for_each_chunk(|keys| {
        for (i, &key) in keys.iter().enumerate() {
            // Inserts land at random slots: fetch the home slot of a later key meanwhile.
            if let Some(&ahead) = keys.get(i + PREFETCH_AHEAD) {
                table.prefetch(id_key(ahead));
            }
            if !pruned(rank) {
                let bow = log_bows.map_or(0.0, |b| b[rank]);
                let id = table
                    .insert(id_key(key), log_probs[rank], bow)
                    .expect("rank-space keys are distinct");
                if let Some(slot) = ids.get_mut(rank) {
                    *slot = id;
                }
            }
            rank += 1;
        }
    })?;
    Ok((table, ids))
}
