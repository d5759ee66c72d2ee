//! One skip pattern's table: its counts by history row, its discounts, one record per row (its
//! denominator, γ, where its entry slots are and its history words side by side, so that reading
//! a row is one cache miss), an open-addressing index from history words to rows whose slots carry
//! a tag of the hash (a probe reads only the record of a row whose tag matches), and (built on
//! first use by a grouped query) each row's entries as a small open-addressing table of its own,
//! (word, count) per slot, so that an entry is one more miss and needs no row check. (Hand-written
//! rather than `HashMap`s: the keys are slices of one flat history array, which a map would copy
//! one by one, and the grouped query needs each probe split into "find the home slot, prefetch it"
//! and "read it" steps.)

use super::count::PatternCounts;
use super::pattern::Mask;
use crate::discount::Discount;
use lmlab_core::cache::prefetch;
use lmlab_core::compute::huge_page_vec;
use rustc_hash::FxHasher;
use std::hash::Hasher;
use std::sync::OnceLock;

/// An empty row-index slot.
const EMPTY: u64 = u64::MAX;
/// An empty entry slot.
const EMPTY_ENTRY: u64 = u64::MAX;
/// A row record's head in u32s: Σ_w count(h w) as f64 bits (2), γ(h) as f64 bits (2), where the
/// row's entry slots start (56 bits) and log2 of their number (8 bits) (2); the k kept history
/// words follow.
const ROW_HEAD: usize = 6;

/// Where a row lookup starts: the home slot in the row index, and the tag a matching row's slot
/// carries.
#[derive(Clone, Copy, Default)]
pub(crate) struct RowProbe {
    slot: usize,
    tag: u32,
}

/// One pattern's counts and what the estimator derives from them.
pub(crate) struct PatternTable {
    pub mask: Mask,
    /// Kept history words per row.
    pub kept: usize,
    pub discount: Discount,
    pub counts: PatternCounts,
    /// One record of [`ROW_HEAD`] + `kept` u32s per row, rows in order: Σ_w count(h w), γ(h) =
    /// (D1·N1(h•) + D2·N2(h•) + D3+·N3+(h•)) / Σ_w count(h w), where its entry slots are, and its
    /// history words (everything a query reads of a row, in one place).
    records: Vec<u32>,
    /// Row index, linear probing, a power of two ≥ 2 × the rows long; each slot the row (low 32
    /// bits) and a tag of its history's hash (high 32 bits).
    index: Vec<u64>,
    /// Every row's entries in a region of its own of a power-of-two number of slots (see
    /// [`region_log2`]), regions in row order, linear probing within
    /// the region from the word's hash, at most the region's size; each slot a word (low 32 bits)
    /// and its count (high 32 bits). Built by the first grouped query (a binary search in the row
    /// needs no such table but cannot be prefetched).
    entry_slots: OnceLock<Vec<u64>>,
}

impl PatternTable {
    /// The table of `counts` with discounts `discount`.
    pub fn new(mask: Mask, counts: PatternCounts, discount: Discount) -> PatternTable {
        let kept = mask.count_ones() as usize;
        let rows = counts.row_start.len() - 1;
        let mut records = huge_page_vec(rows * (ROW_HEAD + kept));
        let mut base = 0u64;
        for r in 0..rows {
            let (start, end) = (counts.row_start[r], counts.row_start[r + 1]);
            let (mut total, mut mass) = (0u64, 0f64);
            for &c in &counts.counts[start as usize..end as usize] {
                total += u64::from(c);
                mass += discount.get(c.into());
            }
            let total = total as f64;
            let log2 = region_log2(end - start);
            let region = base | u64::from(log2) << 56;
            base += 1 << log2;
            for value in [total.to_bits(), (mass / total).to_bits(), region] {
                records.extend([value as u32, (value >> 32) as u32]);
            }
            records.extend_from_slice(&counts.histories[r * kept..(r + 1) * kept]);
        }
        let size = (rows * 2).next_power_of_two().max(2);
        let mut table = PatternTable {
            mask,
            kept,
            discount,
            counts,
            records,
            index: huge_page_vec(size),
            entry_slots: OnceLock::new(),
        };
        table.index.resize(size, EMPTY);
        for r in 0..rows {
            let probe = table.home_slot(table.history(r));
            let mut slot = probe.slot;
            while table.index[slot] != EMPTY {
                slot = (slot + 1) & (size - 1);
            }
            table.index[slot] = r as u64 | u64::from(probe.tag) << 32;
        }
        table
    }

    /// Number of (history, word) entries.
    pub fn entries(&self) -> usize {
        self.counts.words.len()
    }

    /// Row `r`'s record (see [`PatternTable::records`]).
    #[inline]
    fn record(&self, r: usize) -> &[u32] {
        let stride = ROW_HEAD + self.kept;
        &self.records[r * stride..(r + 1) * stride]
    }

    /// The f64 stored in `record[at..at + 2]`.
    #[inline]
    fn value(record: &[u32], at: usize) -> f64 {
        f64::from_bits(u64::from(record[at]) | (u64::from(record[at + 1]) << 32))
    }

    /// Row `r`'s history words.
    fn history(&self, r: usize) -> &[u32] {
        &self.record(r)[ROW_HEAD..]
    }

    /// The row of history `words` (the kept words, oldest first), if seen.
    pub fn row(&self, words: &[u32]) -> Option<usize> {
        self.row_from(self.home_slot(words), words)
    }

    /// Where the probe for history `words` starts in the row index, and its tag.
    #[inline]
    pub fn home_slot(&self, words: &[u32]) -> RowProbe {
        let mut hasher = FxHasher::default();
        for &w in words {
            hasher.write_u32(w);
        }
        let hash = hasher.finish();
        RowProbe {
            slot: mixed_slot(hash, self.index.len()),
            // The low bits, which the slot (the high bits) does not use.
            tag: hash as u32,
        }
    }

    /// Asks for the probe's home slot to be brought into cache.
    #[inline]
    pub fn prefetch_slot(&self, probe: RowProbe) {
        prefetch(&self.index[probe.slot]);
    }

    /// Asks for the record of the first row whose tag the probe matches (if any, among the slots
    /// up to the first empty one, at most 8: a cache line) to be brought into cache (both its
    /// ends: a record may straddle two cache lines).
    #[inline]
    pub fn prefetch_row_at(&self, probe: RowProbe) {
        let mask = self.index.len() - 1;
        for i in 0..8 {
            let v = self.index[(probe.slot + i) & mask];
            if v == EMPTY {
                return;
            }
            if (v >> 32) as u32 == probe.tag {
                let record = self.record(v as u32 as usize);
                prefetch(&record[0]);
                prefetch(&record[record.len() - 1]);
                return;
            }
        }
    }

    /// [`PatternTable::row`] through the probe of [`PatternTable::home_slot`] of `words`.
    #[inline]
    pub fn row_from(&self, probe: RowProbe, words: &[u32]) -> Option<usize> {
        let mask = self.index.len() - 1;
        let mut slot = probe.slot;
        loop {
            let v = self.index[slot];
            if v == EMPTY {
                return None;
            }
            if (v >> 32) as u32 == probe.tag {
                let r = v as u32 as usize;
                // An inline compare: the histories are a few words, too short for a memcmp call.
                if self.history(r).iter().zip(words).all(|(a, b)| a == b) {
                    return Some(r);
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The entry region of a row `record`: its first slot and its number of slots.
    #[inline]
    fn region(record: &[u32]) -> (usize, usize) {
        let at = u64::from(record[4]) | u64::from(record[5]) << 32;
        ((at & ((1 << 56) - 1)) as usize, 1 << (at >> 56))
    }

    /// The rows' entry regions (built on first use).
    fn entry_slots(&self) -> &[u64] {
        self.entry_slots.get_or_init(|| {
            let rows = self.counts.row_start.len() - 1;
            // The regions follow each other in row order: the last one ends them.
            let total = rows.checked_sub(1).map_or(0, |last| {
                let (base, size) = Self::region(self.record(last));
                base + size
            });
            let mut slots: Vec<u64> = huge_page_vec(total);
            slots.resize(total, EMPTY_ENTRY);
            // Rows in order: records and counts read sequentially.
            for row in 0..rows {
                let (base, size) = Self::region(self.record(row));
                let (words, counts) = self.row_entries(row);
                for (&word, &count) in words.iter().zip(counts) {
                    let mut i = word_slot(word, size);
                    while slots[base + i] != EMPTY_ENTRY {
                        i = (i + 1) & (size - 1);
                    }
                    slots[base + i] = u64::from(word) | u64::from(count) << 32;
                }
            }
            slots
        })
    }

    /// Where the probe for `word` in row `r` starts among the entry slots; asks for that slot to
    /// be brought into cache.
    #[inline]
    pub fn entry_home(&self, r: usize, word: u32) -> usize {
        let slots = self.entry_slots();
        let (base, size) = Self::region(self.record(r));
        let slot = base + word_slot(word, size);
        prefetch(&slots[slot]);
        slot
    }

    /// [`PatternTable::count`] through row `r`'s entry region, the probe starting at `slot`
    /// ([`PatternTable::entry_home`] of `r` and `word`); `None` where the row has no entry for
    /// `word`.
    #[inline]
    pub fn count_from(&self, r: usize, word: u32, slot: usize) -> Option<u32> {
        let slots = self.entry_slots();
        let (base, size) = Self::region(self.record(r));
        let mut i = slot - base;
        for _ in 0..size {
            let v = slots[base + i];
            if v == EMPTY_ENTRY {
                return None;
            }
            if v as u32 == word {
                return Some((v >> 32) as u32);
            }
            i = (i + 1) & (size - 1);
        }
        None
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
    #[inline]
    pub fn gamma(&self, r: usize) -> f64 {
        Self::value(self.record(r), 2)
    }

    /// max(c − D(c), 0) / Σ_x c(hx) for a count `c` in row `r`.
    #[inline]
    pub fn discounted(&self, r: usize, count: u32) -> f64 {
        (count as f64 - self.discount.get(count.into())).max(0.0) / Self::value(self.record(r), 0)
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

/// log2 of the number of entry slots of a row of `entries` entries: the least power of two ≥ the
/// entries up to 8 of them (a probe reads at most 8 slots, one cache line, so the region may be
/// full), else the least ≥ 1.5 × the entries.
fn region_log2(entries: u32) -> u8 {
    let entries = u64::from(entries);
    let room = if entries <= 8 {
        entries
    } else {
        entries + entries / 2
    };
    room.next_power_of_two().trailing_zeros() as u8
}

/// The home slot of `word` in an entry region of `size` slots (a power of two): Fibonacci hashing,
/// the bits right below the top 32 of the word times 2^64/φ.
#[inline]
fn word_slot(word: u32, size: usize) -> usize {
    ((u64::from(word).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize) & (size - 1)
}
