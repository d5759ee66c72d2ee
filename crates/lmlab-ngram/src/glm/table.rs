//! One skip pattern's table: its counts by history row, the row's denominator and γ, its
//! discounts, an open-addressing index from history words to rows, and (built on first use by a
//! grouped query) one from (row, word) to the entry. (Hand-written rather than `HashMap`s: the
//! keys are slices of one flat history array, which a map would copy one by one, and the grouped
//! query needs each probe split into "find the home slot, prefetch it" and "read it" steps.)

use super::count::PatternCounts;
use super::pattern::Mask;
use crate::discount::Discount;
use crate::table::prefetch;
use rustc_hash::FxHasher;
use std::hash::Hasher;
use std::sync::OnceLock;

/// An empty index slot.
const EMPTY: u32 = u32::MAX;

/// One pattern's counts and what the estimator derives from them.
pub(crate) struct PatternTable {
    pub mask: Mask,
    /// Kept history words per row.
    pub kept: usize,
    pub discount: Discount,
    pub counts: PatternCounts,
    /// Of each row: Σ_w count(h w), and γ(h) = (D1·N1(h•) + D2·N2(h•) + D3+·N3+(h•)) / Σ_w count(h w)
    /// (side by side: a query reads both).
    weights: Vec<[f64; 2]>,
    /// Row index + slot probing; length a power of two.
    index: Vec<u32>,
    /// Entry position by (row, word), linear probing; length a power of two. Built by the first
    /// grouped query (a binary search in the row needs no index but cannot be prefetched).
    entry_index: OnceLock<Vec<u32>>,
}

impl PatternTable {
    /// The table of `counts` with discounts `discount`.
    pub fn new(mask: Mask, counts: PatternCounts, discount: Discount) -> PatternTable {
        let kept = mask.count_ones() as usize;
        let rows = counts.row_start.len() - 1;
        let mut weights = Vec::with_capacity(rows);
        for r in 0..rows {
            let range = counts.row_start[r] as usize..counts.row_start[r + 1] as usize;
            let (mut total, mut mass) = (0u64, 0f64);
            for &c in &counts.counts[range] {
                total += u64::from(c);
                mass += discount.get(c.into());
            }
            weights.push([total as f64, mass / total as f64]);
        }
        let mut table = PatternTable {
            mask,
            kept,
            discount,
            counts,
            weights,
            index: Vec::new(),
            entry_index: OnceLock::new(),
        };
        table.build_index(rows);
        table
    }

    /// Number of (history, word) entries.
    pub fn entries(&self) -> usize {
        self.counts.words.len()
    }

    fn build_index(&mut self, rows: usize) {
        let size = (rows * 2).next_power_of_two().max(2);
        self.index = vec![EMPTY; size];
        for r in 0..rows {
            let mut slot = self.slot_of(self.history(r));
            while self.index[slot] != EMPTY {
                slot = (slot + 1) & (size - 1);
            }
            self.index[slot] = r as u32;
        }
    }

    fn slot_of(&self, words: &[u32]) -> usize {
        let mut hasher = FxHasher::default();
        for &w in words {
            hasher.write_u32(w);
        }
        mixed_slot(hasher.finish(), self.index.len())
    }

    fn history(&self, row: usize) -> &[u32] {
        &self.counts.histories[row * self.kept..(row + 1) * self.kept]
    }

    /// The row of history `words` (the kept words, oldest first), if seen.
    pub fn row(&self, words: &[u32]) -> Option<usize> {
        self.row_from(self.home_slot(words), words)
    }

    /// Where the probe for history `words` starts in the row index.
    #[inline]
    pub fn home_slot(&self, words: &[u32]) -> usize {
        self.slot_of(words)
    }

    /// Asks for the index slot `slot` to be brought into cache.
    #[inline]
    pub fn prefetch_slot(&self, slot: usize) {
        prefetch(&self.index[slot]);
    }

    /// Asks for the data of the row in index slot `slot` (if any) to be brought into cache: its
    /// history words, its start, denominator and γ.
    #[inline]
    pub fn prefetch_row_at(&self, slot: usize) {
        let r = self.index[slot];
        if r != EMPTY {
            let r = r as usize;
            if let Some(first) = self.counts.histories.get(r * self.kept) {
                prefetch(first);
            }
            prefetch(&self.counts.row_start[r]);
            prefetch(&self.weights[r]);
        }
    }

    /// [`PatternTable::row`] with the probe starting at `slot`, [`PatternTable::home_slot`] of `words`.
    #[inline]
    pub fn row_from(&self, mut slot: usize, words: &[u32]) -> Option<usize> {
        let mask = self.index.len() - 1;
        loop {
            let r = self.index[slot];
            if r == EMPTY {
                return None;
            }
            // An inline compare: the histories are a few words, too short for a memcmp call.
            let history = self.history(r as usize);
            if history.iter().zip(words).all(|(a, b)| a == b) {
                return Some(r as usize);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The entry index (built on first use).
    fn entry_index(&self) -> &[u32] {
        self.entry_index.get_or_init(|| {
            let entries = self.entries();
            let size = (entries + entries / 2).next_power_of_two().max(2);
            let mut index = vec![EMPTY; size];
            let rows = self.counts.row_start.len() - 1;
            for r in 0..rows {
                let start = self.counts.row_start[r] as usize;
                let end = self.counts.row_start[r + 1] as usize;
                for (e, &word) in self.counts.words[start..end].iter().enumerate() {
                    let mut slot = entry_slot(r, word, size);
                    while index[slot] != EMPTY {
                        slot = (slot + 1) & (size - 1);
                    }
                    index[slot] = (start + e) as u32;
                }
            }
            index
        })
    }

    /// Where the probe for `word` in row `r` starts in the entry index; asks for that slot to be
    /// brought into cache.
    #[inline]
    pub fn entry_home(&self, r: usize, word: u32) -> usize {
        let index = self.entry_index();
        let slot = entry_slot(r, word, index.len());
        prefetch(&index[slot]);
        slot
    }

    /// Asks for the entry in entry-index slot `slot` (if any) to be brought into cache.
    #[inline]
    pub fn prefetch_entry_at(&self, slot: usize) {
        let e = self.entry_index()[slot];
        if e != EMPTY {
            prefetch(&self.counts.words[e as usize]);
            prefetch(&self.counts.counts[e as usize]);
        }
    }

    /// [`PatternTable::count`] through the entry index, the probe starting at `slot`
    /// ([`PatternTable::entry_home`] of `r` and `word`).
    #[inline]
    pub fn count_from(&self, r: usize, word: u32, mut slot: usize) -> u32 {
        let index = self.entry_index();
        let range = self.counts.row_start[r]..self.counts.row_start[r + 1];
        loop {
            let e = index[slot];
            if e == EMPTY {
                return 0;
            }
            if self.counts.words[e as usize] == word && range.contains(&e) {
                return self.counts.counts[e as usize];
            }
            slot = (slot + 1) & (index.len() - 1);
        }
    }

    /// The estimate of this pattern: `max(c − D(c), 0)/Σc + γ·lower` for a seen history (row and
    /// count), `lower` alone for an unseen one.
    #[inline]
    pub fn estimate(&self, seen: Option<(usize, u32)>, lower: f64) -> f64 {
        match seen {
            Some((r, count)) => self.discounted(r, count) + self.gamma(r) * lower,
            None => lower,
        }
    }

    /// The words and counts of row `r`.
    pub fn row_entries(&self, r: usize) -> (&[u32], &[u32]) {
        let range = self.counts.row_start[r] as usize..self.counts.row_start[r + 1] as usize;
        (
            &self.counts.words[range.clone()],
            &self.counts.counts[range],
        )
    }

    /// γ of row `r`.
    pub fn gamma(&self, r: usize) -> f64 {
        self.weights[r][1]
    }

    /// max(c − D(c), 0) / Σ_x c(hx) for a count `c` in row `r`.
    pub fn discounted(&self, r: usize, count: u32) -> f64 {
        (count as f64 - self.discount.get(count.into())).max(0.0) / self.weights[r][0]
    }

    /// The count of `word` in row `r` (0 if unseen).
    pub fn count(&self, r: usize, word: u32) -> u32 {
        let (words, counts) = self.row_entries(r);
        words.binary_search(&word).map_or(0, |i| counts[i])
    }
}

/// The slot of a 64-bit Fx hash in a table of `size` (a power of two): the high bits of Fx's
/// product are the well-mixed ones.
#[inline]
fn mixed_slot(hash: u64, size: usize) -> usize {
    (hash.rotate_left(26) as usize) & (size - 1)
}

/// The home slot of (row `r`, `word`) in an entry index of `size` (a power of two): Fibonacci
/// hashing, the top bits of the key times 2^64/φ. (Not Fx: rows share words, and Fx's product
/// rotated into the low bits keeps too little of the row for tables of millions of entries.)
#[inline]
fn entry_slot(r: usize, word: u32, size: usize) -> usize {
    let key = ((r as u64) << 32) | u64::from(word);
    let mixed = (key ^ (key >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> (64 - size.trailing_zeros())) as usize
}
