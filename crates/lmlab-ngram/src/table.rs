//! The stored form of a model order: sorted n-gram keys with log10 probabilities and backoffs.

/// log10 probability written for `<s>`, which is context only and never predicted.
pub const BOS_LOG10: f32 = -99.0;

/// One order of a model. Unigrams are indexed by token id (no keys); order n ≥ 2 by the rank of
/// the n-gram's key (see [`crate::count`]); the highest order has no backoffs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderTable {
    /// Sorted distinct keys `(suffix rank << 32) | first word` (empty for unigrams).
    pub keys: Vec<u64>,
    /// log10 p(w | h) of each n-gram, interpolated.
    pub log_prob: Vec<f32>,
    /// log10 backoff γ of each n-gram as a context (0 when it is no context; empty at the top order).
    pub log_bow: Vec<f32>,
}

impl OrderTable {
    /// Number of n-grams of this order.
    pub fn len(&self) -> usize {
        self.log_prob.len()
    }

    /// True when the order has no n-grams.
    pub fn is_empty(&self) -> bool {
        self.log_prob.is_empty()
    }

    /// The rank of the n-gram whose suffix has rank `suffix` and whose first word is `first`.
    #[inline]
    pub fn find(&self, suffix: u32, first: u32) -> Option<u32> {
        let key = ((suffix as u64) << 32) | first as u64;
        self.keys.binary_search(&key).ok().map(|r| r as u32)
    }

    /// The backoff of rank `rank` (0 at the highest order).
    #[inline]
    pub fn bow(&self, rank: u32) -> f32 {
        self.log_bow.get(rank as usize).copied().unwrap_or(0.0)
    }
}
