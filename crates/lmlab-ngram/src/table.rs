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
    /// Hash index: slot → rank (or `EMPTY`); about 1.3 times as many slots as keys.
    index: Vec<u32>,
}

/// The home slot of `key` in an index of `size` slots (multiplicative hash, then range reduction).
#[inline]
fn slot_of(key: u64, size: usize) -> usize {
    let hash = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (key >> 29);
    ((hash as u128 * size as u128) >> 64) as usize
}

/// The number of index slots for `keys` keys (always at least one empty slot; 0 for none).
pub(crate) fn index_size(keys: usize) -> usize {
    if keys == 0 {
        0
    } else {
        keys + keys / 3 + 1
    }
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
        let size = index_size(self.keys.len());
        let mut index = vec![EMPTY; size];
        for (rank, &key) in self.keys.iter().enumerate() {
            let mut slot = slot_of(key, size);
            while index[slot] != EMPTY {
                slot += 1;
                if slot == size {
                    slot = 0;
                }
            }
            index[slot] = rank as u32;
        }
        self.index = index;
    }

    /// A table whose hash index was stored (a model file); checks that the index can be trusted
    /// not to panic or loop: every slot empty or a valid rank, each rank once, one empty slot.
    pub(crate) fn with_index(
        keys: Vec<u64>,
        log_prob: Vec<f32>,
        log_bow: Vec<f32>,
        index: Vec<u32>,
    ) -> Result<OrderTable, String> {
        if keys.is_empty() {
            if !index.is_empty() {
                return Err("an index without keys".into());
            }
        } else {
            if index.len() != index_size(keys.len()) {
                return Err(format!(
                    "an index of {} slots for {} keys",
                    index.len(),
                    keys.len()
                ));
            }
            let mut seen = vec![false; keys.len()];
            for &rank in &index {
                if rank != EMPTY {
                    let r = rank as usize;
                    if r >= keys.len() || std::mem::replace(&mut seen[r], true) {
                        return Err("an index entry out of range or repeated".into());
                    }
                }
            }
            if seen.iter().any(|&s| !s) {
                return Err("an index missing some n-grams".into());
            }
        }
        Ok(OrderTable {
            keys,
            log_prob,
            log_bow,
            index,
        })
    }

    /// The hash index (slot → rank, `u32::MAX` for empty).
    pub(crate) fn index(&self) -> &[u32] {
        &self.index
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
        let size = self.index.len();
        let mut slot = slot_of(key, size);
        loop {
            let rank = self.index[slot];
            if rank == EMPTY {
                return None;
            }
            if self.keys[rank as usize] == key {
                return Some(rank);
            }
            slot += 1;
            if slot == size {
                slot = 0;
            }
        }
    }

    /// The backoff of rank `rank` (0 at the highest order).
    #[inline]
    pub fn bow(&self, rank: u32) -> f32 {
        self.log_bow.get(rank as usize).copied().unwrap_or(0.0)
    }
}
