//! Stage 5: layout. Estimation works in rank space (sorted keys whose suffix part is the rank of
//! the suffix in the order below); the stored model uses hash tables whose slot numbers are the
//! ids. This stage moves each order into its hash table, rewriting suffix ranks as ids.

use crate::count::{key_first, key_suffix, make_key};
use crate::table::OrderTable;

/// One order in rank space: sorted distinct keys (none for unigrams, indexed by token id) with
/// log10 probabilities and backoffs (backoffs empty at the top order).
#[derive(Default)]
pub(crate) struct RankTable {
    pub keys: Vec<u64>,
    pub log_prob: Vec<f32>,
    pub log_bow: Vec<f32>,
}

impl RankTable {
    /// Number of n-grams.
    pub fn len(&self) -> usize {
        self.log_prob.len()
    }

    fn bow(&self, rank: usize) -> f32 {
        self.log_bow.get(rank).copied().unwrap_or(0.0)
    }
}

/// How many keys ahead the home slot is prefetched.
const PREFETCH_AHEAD: usize = 16;

/// Builds the stored tables from rank-space tables (consumed order by order).
pub(crate) fn layout(tables: Vec<RankTable>) -> Vec<OrderTable> {
    let mut out = Vec::with_capacity(tables.len());
    let mut lower_ids: Option<Vec<u32>> = None;
    for (i, table) in tables.into_iter().enumerate() {
        if i == 0 {
            out.push(OrderTable::unigrams(
                (0..table.len()).map(|w| (table.log_prob[w], table.bow(w))),
            ));
            continue;
        }
        let mut hashed = OrderTable::hashed(table.len());
        let mut ids = Vec::with_capacity(table.len());
        // The key with its suffix rank rewritten as the suffix's id.
        let id_key = |key: u64| {
            let suffix = key_suffix(key);
            let suffix = lower_ids.as_ref().map_or(suffix, |m| m[suffix as usize]);
            make_key(suffix, key_first(key))
        };
        for (rank, &key) in table.keys.iter().enumerate() {
            // Inserts land at random slots: fetch the home slot of a later key meanwhile.
            if let Some(&ahead) = table.keys.get(rank + PREFETCH_AHEAD) {
                hashed.prefetch(id_key(ahead));
            }
            let id = hashed
                .insert(id_key(key), table.log_prob[rank], table.bow(rank))
                .expect("rank-space keys are distinct");
            ids.push(id);
        }
        out.push(hashed);
        lower_ids = Some(ids);
    }
    out
}
