//! The stored form of a model order. Unigrams: one entry per token id. Order n ≥ 2: an
//! open-addressing hash table (linear probing, about 1.33 slots per n-gram) whose slots hold the
//! n-gram key with its values, so a lookup touches one cache line; an n-gram's id is its slot, and
//! keys refer to their suffix (n-1)-gram by that id.

use crate::storage::Entries;
use lmlab_core::cache::prefetch;

/// log10 probability written for `<s>`, which is context only and never predicted.
pub const BOS_LOG10: f32 = -99.0;

/// The key of an empty slot (no n-gram has it: ids and words are below 2^32 - 1).
pub const EMPTY: u64 = u64::MAX;

/// One n-gram: key `(suffix id << 32) | first word` (the word itself for unigrams), log10 p and
/// log10 backoff (0 when it is no context, and at the top order).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Entry {
    /// `(suffix id << 32) | first word`, or [`EMPTY`].
    pub key: u64,
    /// log10 p(w | h), interpolated.
    pub prob: f32,
    /// log10 γ of the n-gram as a context.
    pub bow: f32,
}

/// One order of a model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderTable {
    entries: Entries,
    count: usize,
    hashed: bool,
}

/// The home slot of `key` in a table of `size` slots (multiplicative hash, then range reduction).
#[inline]
fn slot_of(key: u64, size: usize) -> usize {
    let hash = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (key >> 29);
    ((hash as u128 * size as u128) >> 64) as usize
}

/// The number of slots for `count` n-grams (always at least one empty slot).
pub(crate) fn table_size(count: usize) -> usize {
    count + count / 3 + 1
}

impl OrderTable {
    /// The unigram table: `values[w]` = (log10 p, log10 backoff) of token `w`.
    pub(crate) fn unigrams(values: impl IntoIterator<Item = (f32, f32)>) -> OrderTable {
        let entries: Vec<Entry> = values
            .into_iter()
            .enumerate()
            .map(|(w, (prob, bow))| Entry {
                key: w as u64,
                prob,
                bow,
            })
            .collect();
        OrderTable {
            count: entries.len(),
            entries: Entries::owned(entries),
            hashed: false,
        }
    }

    /// An empty hash table with room for `count` n-grams.
    pub(crate) fn hashed(count: usize) -> OrderTable {
        let empty = Entry {
            key: EMPTY,
            prob: 0.0,
            bow: 0.0,
        };
        OrderTable {
            entries: Entries::owned(vec![empty; table_size(count)]),
            count: 0,
            hashed: true,
        }
    }

    /// Inserts an n-gram (n ≥ 2) and returns its id, or `Err(id)` of the entry already holding
    /// `key`. The table must have been made with room for it.
    pub(crate) fn insert(&mut self, key: u64, prob: f32, bow: f32) -> Result<u32, u32> {
        debug_assert!(self.hashed && key != EMPTY);
        let size = self.entries.len();
        assert!(self.count + 1 < size, "hash table full");
        let entries = self
            .entries
            .as_mut_slice()
            .expect("only tables being built are modified");
        let mut slot = slot_of(key, size);
        loop {
            let entry = &mut entries[slot];
            if entry.key == EMPTY {
                *entry = Entry { key, prob, bow };
                self.count += 1;
                return Ok(slot as u32);
            }
            if entry.key == key {
                return Err(slot as u32);
            }
            slot += 1;
            if slot == size {
                slot = 0;
            }
        }
    }

    /// A table read from a model file, checked so that lookups can neither panic nor loop:
    /// `words` bounds first words, `lower` the suffix ids (occupied ids of the order below).
    pub(crate) fn from_entries(
        entries: Entries,
        hashed: bool,
        words: usize,
        lower: Option<&OrderTable>,
    ) -> Result<OrderTable, String> {
        if !hashed {
            return Ok(OrderTable {
                count: entries.len(),
                entries,
                hashed,
            });
        }
        let size = entries.len();
        let lower = lower.ok_or("a hashed table without a lower order")?;
        // The lower order's ids, one bit each: small enough to stay in cache, where reading the
        // suffixes' entries themselves missed it at random.
        let mut ids = vec![0u64; lower.entries.len().div_ceil(64)];
        for (id, entry) in lower.entries.iter().enumerate() {
            ids[id / 64] |= u64::from(entry.key != EMPTY) << (id % 64);
        }
        let is_id = |id: usize| {
            ids.get(id / 64)
                .is_some_and(|bits| bits >> (id % 64) & 1 == 1)
        };
        let mut count = 0;
        for (slot, entry) in entries.iter().enumerate() {
            if entry.key == EMPTY {
                continue;
            }
            count += 1;
            let (suffix, first) = ((entry.key >> 32) as usize, entry.key & 0xffff_ffff);
            if first >= words as u64 || !is_id(suffix) {
                return Err(format!("slot {slot} holds a key out of range"));
            }
            // Reachable from its home slot without crossing an empty slot.
            let mut at = slot_of(entry.key, size);
            while at != slot {
                if entries[at].key == EMPTY {
                    return Err(format!("slot {slot} is not reachable from its hash"));
                }
                at = if at + 1 == size { 0 } else { at + 1 };
            }
        }
        if size == 0 || count >= size {
            return Err("a hash table without an empty slot".into());
        }
        Ok(OrderTable {
            entries,
            count,
            hashed,
        })
    }

    /// Number of n-grams of this order.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the order has no n-grams.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every slot (empty ones have key [`EMPTY`]); unigrams are indexed by token id.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// True when the slots are used in place from a memory-mapped model file.
    pub fn is_mapped(&self) -> bool {
        self.entries.is_mapped()
    }

    /// True for a hash table (orders ≥ 2).
    pub fn is_hashed(&self) -> bool {
        self.hashed
    }

    /// The ids of the stored n-grams, in slot order.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.key != EMPTY)
            .map(|(id, _)| id as u32)
    }

    /// Hints the CPU to fetch the home slot of `key` (building: the insert that follows does not
    /// wait for memory). No effect on results.
    #[inline]
    pub(crate) fn prefetch(&self, key: u64) {
        let size = self.entries.len();
        if size > 0 {
            prefetch(&self.entries[slot_of(key, size)]);
        }
    }

    /// [`OrderTable::prefetch`], and the slot three after the home slot too (queries: a probe that
    /// walks past the home slot's cache line finds the next one coming; a fifth of the lookups
    /// of a PTB 5-gram take more than one probe, most misses more than three).
    #[inline]
    pub(crate) fn prefetch_probe(&self, key: u64) {
        let size = self.entries.len();
        if size > 0 {
            let slot = slot_of(key, size);
            prefetch(&self.entries[slot]);
            prefetch(&self.entries[(slot + 3).min(size - 1)]);
        }
    }

    /// The id of the n-gram whose suffix has id `suffix` and whose first word is `first`.
    #[inline]
    pub fn find(&self, suffix: u32, first: u32) -> Option<u32> {
        let key = ((suffix as u64) << 32) | first as u64;
        let size = self.entries.len();
        if size == 0 {
            return None;
        }
        let mut slot = slot_of(key, size);
        loop {
            let found = self.entries[slot].key;
            if found == key {
                return Some(slot as u32);
            }
            if found == EMPTY {
                return None;
            }
            slot += 1;
            if slot == size {
                slot = 0;
            }
        }
    }

    /// The entry of id `id`.
    #[inline]
    pub fn entry(&self, id: u32) -> &Entry {
        &self.entries[id as usize]
    }

    /// log10 probability of id `id`.
    #[inline]
    pub fn prob(&self, id: u32) -> f32 {
        self.entries[id as usize].prob
    }

    /// log10 backoff of id `id` (0 when it is no context and at the top order).
    #[inline]
    pub fn bow(&self, id: u32) -> f32 {
        self.entries[id as usize].bow
    }
}
