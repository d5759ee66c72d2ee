//! One skip pattern's table: its counts by history row, the row's denominator and γ, its
//! discounts, and an open-addressing index from history words to rows. (Hand-written rather than a
//! `HashMap`: the keys are slices of one flat history array, which a map would copy one by one.)

use super::count::PatternCounts;
use super::pattern::Mask;
use crate::discount::Discount;
use rustc_hash::FxHasher;
use std::hash::Hasher;

/// An empty index slot.
const EMPTY: u32 = u32::MAX;

/// One pattern's counts and what the estimator derives from them.
pub(crate) struct PatternTable {
    pub mask: Mask,
    /// Kept history words per row.
    pub kept: usize,
    pub discount: Discount,
    pub counts: PatternCounts,
    /// Σ_w count(h w) of each row.
    denominators: Vec<f64>,
    /// γ(h) = (D1·N1(h•) + D2·N2(h•) + D3+·N3+(h•)) / Σ_w count(h w) of each row.
    gammas: Vec<f64>,
    /// Row index + slot probing; length a power of two.
    index: Vec<u32>,
}

impl PatternTable {
    /// The table of `counts` with discounts `discount`.
    pub fn new(mask: Mask, counts: PatternCounts, discount: Discount) -> PatternTable {
        let kept = mask.count_ones() as usize;
        let rows = counts.row_start.len() - 1;
        let mut denominators = Vec::with_capacity(rows);
        let mut gammas = Vec::with_capacity(rows);
        for r in 0..rows {
            let range = counts.row_start[r] as usize..counts.row_start[r + 1] as usize;
            let (mut total, mut mass) = (0u64, 0f64);
            for &c in &counts.counts[range] {
                total += u64::from(c);
                mass += discount.get(c.into());
            }
            denominators.push(total as f64);
            gammas.push(mass / total as f64);
        }
        let mut table = PatternTable {
            mask,
            kept,
            discount,
            counts,
            denominators,
            gammas,
            index: Vec::new(),
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
        // The high bits of Fx's product are the well-mixed ones.
        (hasher.finish().rotate_left(26) as usize) & (self.index.len() - 1)
    }

    fn history(&self, row: usize) -> &[u32] {
        &self.counts.histories[row * self.kept..(row + 1) * self.kept]
    }

    /// The row of history `words` (the kept words, oldest first), if seen.
    pub fn row(&self, words: &[u32]) -> Option<usize> {
        let mask = self.index.len() - 1;
        let mut slot = self.slot_of(words);
        loop {
            let r = self.index[slot];
            if r == EMPTY {
                return None;
            }
            if self.history(r as usize) == words {
                return Some(r as usize);
            }
            slot = (slot + 1) & mask;
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
        self.gammas[r]
    }

    /// max(c − D(c), 0) / Σ_x c(hx) for a count `c` in row `r`.
    pub fn discounted(&self, r: usize, count: u32) -> f64 {
        (count as f64 - self.discount.get(count.into())).max(0.0) / self.denominators[r]
    }

    /// The count of `word` in row `r` (0 if unseen).
    pub fn count(&self, r: usize, word: u32) -> u32 {
        let (words, counts) = self.row_entries(r);
        words.binary_search(&word).map_or(0, |i| counts[i])
    }
}
