//! The stored form of a model order: sorted n-gram keys with log10 probabilities and backoffs, plus
//! an open-addressing hash index over the keys so a lookup costs about one probe.

/// log10 probability written for `<s>`, which is context only and never predicted.
pub const BOS_LOG10: f32 = -99.0;

/// Marks an empty slot of the hash index.
const EMPTY: u32 = u32::MAX;

/// One order of a model. Unigrams are indexed by token id (no keys); order n ≥ 2 by the rank of
/// the n-gram's key (see the crate's counting stage); the highest order has no backoffs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderTable {
    /// Sorted distinct keys `(suffix rank << 32) | first word` (empty for unigrams).
    pub keys: Vec<u64>,
    /// log10 p(w | h) of each n-gram, interpolated.
    pub log_prob: Vec<f32>,
    /// log10 backoff γ of each n-gram as a context (0 when it is no context; empty at the top order).
    pub log_bow: Vec<f32>,
    /// Hash index: slot → rank (or `EMPTY`); a power of two at least 1.5 times the keys.
    index: Vec<u32>,
}

#[inline]
fn slot_of(key: u64, mask: usize) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask
}

impl OrderTable {
    /// A table from sorted distinct keys (empty for unigrams) and its values; builds the index.
    pub fn new(keys: Vec<u64>, log_prob: Vec<f32>, log_bow: Vec<f32>) -> OrderTable {
        let mut table = OrderTable {
            keys,
            log_prob,
            log_bow,
            index: Vec::new(),
        };
        table.build_index();
        table
    }

    fn build_index(&mut self) {
        if self.keys.is_empty() {
            self.index.clear();
            return;
        }
        let size = (self.keys.len() * 3 / 2 + 1).next_power_of_two();
        let mask = size - 1;
        let mut index = vec![EMPTY; size];
        for (rank, &key) in self.keys.iter().enumerate() {
            let mut slot = slot_of(key, mask);
            while index[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            index[slot] = rank as u32;
        }
        self.index = index;
    }

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
        if self.index.is_empty() {
            return None;
        }
        let key = ((suffix as u64) << 32) | first as u64;
        let mask = self.index.len() - 1;
        let mut slot = slot_of(key, mask);
        loop {
            let rank = self.index[slot];
            if rank == EMPTY {
                return None;
            }
            if self.keys[rank as usize] == key {
                return Some(rank);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The backoff of rank `rank` (0 at the highest order).
    #[inline]
    pub fn bow(&self, rank: u32) -> f32 {
        self.log_bow.get(rank as usize).copied().unwrap_or(0.0)
    }
}
