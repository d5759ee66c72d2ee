//! Counting one skip pattern over the token stream. Each occurrence becomes a fixed-width record
//! (kept history words oldest first, the predicted word, the word before the pattern's first word)
//! and the records are sorted; a run of equal patterns gives the raw count (its length) and the
//! continuation count N1+(• pattern) (its distinct left words). The count a pattern uses is its
//! raw count at the top pattern (the full history) and for occurrences that start with `<s>`
//! (nothing precedes them), its continuation count otherwise, as lmplz's adjusted counts.

use super::budget::Budget;
use super::options::MAX_ORDER;
use super::pattern::{full, is_contiguous, kept_words, span, Mask};
use super::sort::sort_bounded;
use crate::discount::CountsOfCounts;
use crate::spill::{Column, Plain, SpillDir, Stored};
use lmlab_core::{Result, TokenId};

/// Kept history words, the predicted word, the left word.
const WIDTH: usize = MAX_ORDER + 1;
type Record = [u32; WIDTH];
impl Plain for Record {}

/// The left word of an occurrence that uses its raw count.
const NO_LEFT: u32 = u32::MAX;

/// One pattern's counts, grouped by history (rows), histories and words ascending.
pub(crate) struct PatternCounts {
    /// The kept history words of each row, `k` per row (k = the pattern's kept words).
    pub histories: Vec<u32>,
    /// Row r's words are `words[row_start[r]..row_start[r + 1]]`.
    pub row_start: Vec<u32>,
    /// The predicted words, ascending within a row.
    pub words: Vec<u32>,
    /// The count each (history, word) uses.
    pub counts: Vec<u32>,
}

/// [`PatternCounts`] as counting leaves them: each array in memory or, under a memory bound, in a
/// temporary file.
pub(crate) struct StoredCounts {
    pub histories: Stored<u32>,
    pub row_start: Stored<u32>,
    pub words: Stored<u32>,
    pub counts: Stored<u32>,
    /// Counts-of-counts of the used counts (lmplz's for contiguous patterns, see [`count_pattern`]).
    pub stats: CountsOfCounts,
}

impl StoredCounts {
    /// The counts in memory (read back from their files if spilled).
    pub fn into_memory(self) -> Result<PatternCounts> {
        Ok(PatternCounts {
            histories: self.histories.into_vec()?,
            row_start: self.row_start.into_vec()?,
            words: self.words.into_vec()?,
            counts: self.counts.into_vec()?,
        })
    }
}

/// Counts pattern `mask` over `ids` (`<s>` then each sequence), `top` when it is the model's full
/// history. For a contiguous pattern below the top, the counts-of-counts take the occurrence ending
/// lmplz's last window (`window`, most recent word first: [`crate::count::last_window`]) with its
/// raw count instead of its continuation count, as lmplz does (see `crate::stats`), so that
/// `--skips none` reproduces lmplz's discounts exactly. With a `budget` (and its spill directory
/// `dir`), a pattern too large for it is sorted in spilled runs and its counts go to files
/// ([`super::budget`]); the counts are the same.
pub(crate) fn count_pattern(
    ids: &[TokenId],
    vocab_size: usize,
    bos: TokenId,
    mask: Mask,
    top: bool,
    window: &[TokenId],
    bound: Option<(&Budget, &SpillDir)>,
) -> Result<StoredCounts> {
    let k = mask.count_ones() as usize;
    let last = last_occurrence(window, bos, mask, top);
    // Ids (and the left-word marker, `vocab_size`) packed into one integer when they fit: sorting
    // 16-byte integers is about twice as fast as sorting 36-byte records, and 8-byte ones about
    // twice as fast again (at order 5 with a 10k vocabulary, 11 of the 16 patterns fit in 8 bytes).
    let bits = usize::BITS - vocab_size.leading_zeros();
    let codec = Codec {
        bits,
        k,
        marker: vocab_size as u32,
    };
    let fields = (k + 2) * bits as usize;
    // Ids are u32, so real vocabularies always fit the marker in a u32 (and `bits` ≤ 32).
    let packable = vocab_size <= u32::MAX as usize;
    if packable && fields <= 64 {
        count_packed::<u64>(ids, bos, mask, top, &codec, last.as_deref(), bound)
    } else if packable && fields <= 128 {
        count_packed::<u128>(ids, bos, mask, top, &codec, last.as_deref(), bound)
    } else {
        let runs = Runs {
            same_key: |a: &Record, b: &Record| a[..=k] == b[..=k],
            same_history: |a: &Record, b: &Record| a[..k] == b[..k],
            left: |r: &Record| r[k + 1],
            record: |r: &Record| *r,
        };
        let occurrences = occurrences(ids, bos, mask, top);
        count_sorted(occurrences, ids.len(), k, &runs, last.as_deref(), bound)
    }
}

/// [`count_pattern`] with each occurrence packed into one `P` by `codec`.
fn count_packed<P: Packed>(
    ids: &[TokenId],
    bos: TokenId,
    mask: Mask,
    top: bool,
    codec: &Codec,
    last: Option<&[u32]>,
    bound: Option<(&Budget, &SpillDir)>,
) -> Result<StoredCounts> {
    let bits = codec.bits;
    let field = (1u64 << bits) - 1;
    let runs = Runs {
        same_key: |a: &P, b: &P| a.shr(bits) == b.shr(bits),
        same_history: |a: &P, b: &P| a.shr(2 * bits) == b.shr(2 * bits),
        left: |p: &P| (p.low_u64() & field) as u32,
        record: |p: &P| codec.unpack(p.to_u128()),
    };
    let packed = packed_occurrences::<P>(ids, bos, mask, top, codec);
    count_sorted(packed, ids.len(), codec.k, &runs, last, bound)
}

/// An unsigned integer holding a packed occurrence (fields of `bits` bits, first field highest).
trait Packed: Plain + Ord {
    fn from_u32(v: u32) -> Self;
    /// `(self << bits) | v`.
    fn push(self, bits: u32, v: u32) -> Self;
    fn shr(self, bits: u32) -> Self;
    fn low_u64(self) -> u64;
    fn to_u128(self) -> u128;
}

macro_rules! packed {
    ($t:ty) => {
        impl Packed for $t {
            #[inline]
            fn from_u32(v: u32) -> Self {
                v as $t
            }
            #[inline]
            fn push(self, bits: u32, v: u32) -> Self {
                (self << bits) | v as $t
            }
            #[inline]
            fn shr(self, bits: u32) -> Self {
                self >> bits
            }
            #[inline]
            fn low_u64(self) -> u64 {
                self as u64
            }
            #[inline]
            fn to_u128(self) -> u128 {
                self as u128
            }
        }
    };
}
packed!(u64);
packed!(u128);

/// Sorts the occurrences (at most `positions` of them; in runs spilled to `bound`'s directory when
/// they and their counts do not fit its budget) and groups them into counts.
fn count_sorted<T, S, H, L, R>(
    occurrences: impl Iterator<Item = T>,
    positions: usize,
    k: usize,
    runs: &Runs<S, H, L, R>,
    last: Option<&[u32]>,
    bound: Option<(&Budget, &SpillDir)>,
) -> Result<StoredCounts>
where
    T: Plain + Ord,
    S: Fn(&T, &T) -> bool,
    H: Fn(&T, &T) -> bool,
    L: Fn(&T) -> u32,
    R: Fn(&T) -> Record,
{
    let item = std::mem::size_of::<T>();
    let (capacity, dir) = match bound {
        Some((budget, dir)) if !budget.fits(positions, item, k) => {
            (budget.run_capacity(item), Some(dir))
        }
        _ => (usize::MAX, None),
    };
    let mut sorted = sort_bounded(occurrences, capacity.min(positions), dir)?;
    let counts = group(&mut sorted, runs, k, last, dir)?;
    sorted.finish()?;
    Ok(counts)
}

/// How [`group`] reads sorted items of one representation: whether two have the same pattern
/// (all but the left word) and the same history (all but the word and the left word), an item's
/// left word (any value, only compared), and the item as a record.
struct Runs<S, H, L, R> {
    same_key: S,
    same_history: H,
    left: L,
    record: R,
}

/// Where pattern occurrences reaching `reach` words back end in `ids` (`<s>` = `bos`, then each
/// sequence), in stream order: the predicted word's position, the word, and the word before the
/// occurrence's first word (`None` where the occurrence uses its raw count: at the top pattern
/// (`top`) or where nothing precedes it).
fn ends(
    ids: &[TokenId],
    bos: TokenId,
    reach: usize,
    top: bool,
) -> impl Iterator<Item = (usize, u32, Option<u32>)> + '_ {
    let mut start = 0;
    ids.iter().enumerate().filter_map(move |(t, &w)| {
        if w == bos {
            start = t;
            return None;
        }
        if t - start < reach {
            return None;
        }
        let first = t - reach;
        let left = (!top && first != start).then(|| ids[first - 1]);
        Some((t, w, left))
    })
}

/// Every occurrence of pattern `mask` in `ids` as a record, in stream order.
fn occurrences(
    ids: &[TokenId],
    bos: TokenId,
    mask: Mask,
    top: bool,
) -> impl Iterator<Item = Record> + '_ {
    let k = mask.count_ones() as usize;
    ends(ids, bos, span(mask), top).map(move |(t, w, left)| {
        let mut kept = [0u32; 8];
        let n = kept_words(mask, &ids[..t], &mut kept);
        let mut record = [0u32; WIDTH];
        record[..n].copy_from_slice(&kept[..n]);
        record[k] = w;
        record[k + 1] = left.unwrap_or(NO_LEFT);
        record
    })
}

/// Every occurrence of pattern `mask` in `ids` packed by `codec`, in stream order: the fields of
/// [`occurrences`]' records (kept history words oldest first, the word, the left word or
/// `codec.marker` for [`NO_LEFT`]), read straight from `ids` at the pattern's offsets.
fn packed_occurrences<'a, P: Packed>(
    ids: &'a [TokenId],
    bos: TokenId,
    mask: Mask,
    top: bool,
    codec: &'a Codec,
) -> impl Iterator<Item = P> + 'a {
    let reach = span(mask);
    // How far back of the predicted word each kept history word lies, oldest first.
    let mut back = [0usize; 8];
    let mut k = 0;
    for bit in (0..reach).rev() {
        if mask & (1 << bit) != 0 {
            back[k] = bit + 1;
            k += 1;
        }
    }
    let bits = codec.bits;
    ends(ids, bos, reach, top).map(move |(t, w, left)| {
        let mut p = P::from_u32(0);
        for &b in &back[..k] {
            p = p.push(bits, ids[t - b]);
        }
        p.push(bits, w).push(bits, left.unwrap_or(codec.marker))
    })
}

/// Packs the k + 2 used fields of a record into a u128, `bits` per field, first field highest (so
/// integer order is record order); [`NO_LEFT`] becomes `marker`.
struct Codec {
    bits: u32,
    k: usize,
    marker: u32,
}

impl Codec {
    #[cfg(test)]
    fn pack(&self, r: &Record) -> u128 {
        let mut p = 0u128;
        for (i, &v) in r[..self.k + 2].iter().enumerate() {
            let v = if i == self.k + 1 && v == NO_LEFT {
                self.marker
            } else {
                v
            };
            p = (p << self.bits) | u128::from(v);
        }
        p
    }

    fn unpack(&self, mut p: u128) -> Record {
        let mut r = [0u32; WIDTH];
        let field = (1u128 << self.bits) - 1;
        for i in (0..self.k + 2).rev() {
            r[i] = (p & field) as u32;
            p >>= self.bits;
        }
        if r[self.k + 1] == self.marker {
            r[self.k + 1] = NO_LEFT;
        }
        r
    }
}

/// The occurrence of a contiguous pattern below the top that ends lmplz's last window, in text
/// order, when it does not reach back to a `<s>`: the one lmplz counts with its raw count in the
/// counts-of-counts.
fn last_occurrence(window: &[TokenId], bos: TokenId, mask: Mask, top: bool) -> Option<Vec<u32>> {
    if top || !is_contiguous(mask) {
        return None;
    }
    let words = window.get(..span(mask) + 1)?;
    (!words.contains(&bos)).then(|| words.iter().rev().copied().collect())
}

/// Groups sorted items into rows with used counts and counts-of-counts, written to `dir`'s files
/// when given.
fn group<T, S, H, L, R>(
    items: &mut impl Iterator<Item = T>,
    runs: &Runs<S, H, L, R>,
    k: usize,
    last: Option<&[u32]>,
    dir: Option<&SpillDir>,
) -> Result<StoredCounts>
where
    S: Fn(&T, &T) -> bool,
    H: Fn(&T, &T) -> bool,
    L: Fn(&T) -> u32,
    R: Fn(&T) -> Record,
{
    let mut out = Columns::new(k, dir)?;
    let Some(mut first) = items.next() else {
        return out.finish();
    };
    let (mut raw, mut distinct) = (1u32, 1u32);
    let mut left = (runs.left)(&first);
    let mut new_row = true;
    for item in items {
        if (runs.same_key)(&first, &item) {
            raw += 1;
            let l = (runs.left)(&item);
            if l != left {
                distinct += 1;
                left = l;
            }
        } else {
            out.emit(&(runs.record)(&first), new_row, (raw, distinct), last)?;
            new_row = !(runs.same_history)(&first, &item);
            (raw, distinct, left) = (1, 1, (runs.left)(&item));
            first = item;
        }
    }
    out.emit(&(runs.record)(&first), new_row, (raw, distinct), last)?;
    out.finish()
}

/// The arrays of one pattern's counts as they are made.
struct Columns {
    k: usize,
    histories: Column<u32>,
    row_start: Column<u32>,
    words: Column<u32>,
    counts: Column<u32>,
    stats: CountsOfCounts,
    /// Entries so far.
    entries: u32,
}

impl Columns {
    fn new(k: usize, dir: Option<&SpillDir>) -> Result<Columns> {
        Ok(Columns {
            k,
            histories: Column::new(dir)?,
            row_start: Column::new(dir)?,
            words: Column::new(dir)?,
            counts: Column::new(dir)?,
            stats: [0; 5],
            entries: 0,
        })
    }

    /// Adds one pattern (its first record, whether it starts a row, its raw count and distinct
    /// left words).
    fn emit(
        &mut self,
        first: &Record,
        new_row: bool,
        (raw, distinct): (u32, u32),
        last: Option<&[u32]>,
    ) -> Result<()> {
        let k = self.k;
        let key = &first[..=k];
        let used = if first[k + 1] == NO_LEFT {
            raw
        } else {
            distinct
        };
        if new_row {
            self.row_start.push(self.entries)?;
            self.histories.extend(&key[..k])?;
        }
        self.words.push(key[k])?;
        self.counts.push(used)?;
        self.entries += 1;
        let stat = if last == Some(key) { raw } else { used };
        if (1..5).contains(&stat) {
            self.stats[stat as usize] += 1;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<StoredCounts> {
        self.row_start.push(self.entries)?;
        Ok(StoredCounts {
            histories: self.histories.finish()?,
            row_start: self.row_start.finish()?,
            words: self.words.finish()?,
            counts: self.counts.finish()?,
            stats: self.stats,
        })
    }
}

/// The top pattern of an order-`order` model.
pub(crate) fn top_pattern(order: usize) -> Mask {
    full(order - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// <s> = 1, </s> = 2, words 3..=5: "a b c", "a b a", "c b c".
    const IDS: [u32; 15] = [1, 3, 4, 5, 2, 1, 3, 4, 3, 2, 1, 5, 4, 5, 2];
    const WINDOW: [u32; 4] = [2, 5, 4, 5];

    fn count(
        vocab: usize,
        mask: Mask,
        bound: Option<(&Budget, &SpillDir)>,
    ) -> (PatternCounts, CountsOfCounts) {
        let counts = count_pattern(&IDS, vocab, 1, mask, mask == 0b111, &WINDOW, bound).unwrap();
        let stats = counts.stats;
        (counts.into_memory().unwrap(), stats)
    }

    fn assert_same(
        a: &(PatternCounts, CountsOfCounts),
        b: &(PatternCounts, CountsOfCounts),
        what: &str,
    ) {
        let ((a, a_stats), (b, b_stats)) = (a, b);
        assert_eq!(a_stats, b_stats, "{what}");
        assert_eq!(a.histories, b.histories, "{what}");
        assert_eq!(a.row_start, b.row_start, "{what}");
        assert_eq!(a.words, b.words, "{what}");
        assert_eq!(a.counts, b.counts, "{what}");
        assert!(!a.words.is_empty(), "{what}");
    }

    #[test]
    fn packed_and_plain_records_count_the_same() {
        for mask in [0, 1, 0b10, 0b11, 0b101, 0b111] {
            // A vocabulary of 6 packs into u64; one of 2^20 ids into u64 up to one kept word
            // (3 × 21 bits) and u128 beyond; one of 2^40 ids into neither (3 × 41 bits > 128).
            let plain = count(1 << 40, mask, None);
            assert_same(&count(6, mask, None), &plain, &format!("{mask}, u64"));
            assert_same(
                &count(1 << 20, mask, None),
                &plain,
                &format!("{mask}, 2^20"),
            );
        }
        // "b" after "a": twice, both with the left word <s>: continuation count 1.
        let (bigrams, _) = count(6, 1, None);
        let row = bigrams.histories.iter().position(|&h| h == 3).unwrap();
        let range = bigrams.row_start[row] as usize..bigrams.row_start[row + 1] as usize;
        // After "a": </s> (2, in "a b a </s>"), b (4), c (5, none): sorted by id.
        assert_eq!(bigrams.words[range.clone()], [2, 4]);
        assert_eq!(bigrams.counts[range], [1, 1]);
    }

    #[test]
    fn occurrences_packed_in_place_equal_packed_records() {
        for vocab in [6usize, 1 << 20] {
            let bits = usize::BITS - vocab.leading_zeros();
            for mask in [0u32, 1, 0b10, 0b11, 0b101, 0b111] {
                for top in [false, true] {
                    let codec = Codec {
                        bits,
                        k: mask.count_ones() as usize,
                        marker: vocab as u32,
                    };
                    let records: Vec<u128> = occurrences(&IDS, 1, mask, top)
                        .map(|r| codec.pack(&r))
                        .collect();
                    let wide: Vec<u128> = packed_occurrences(&IDS, 1, mask, top, &codec).collect();
                    assert_eq!(wide, records, "{vocab} {mask} {top}");
                    assert!(!records.is_empty());
                    if (codec.k + 2) * bits as usize <= 64 {
                        let narrow: Vec<u64> =
                            packed_occurrences(&IDS, 1, mask, top, &codec).collect();
                        assert_eq!(
                            narrow.iter().map(|&p| p as u128).collect::<Vec<_>>(),
                            records
                        );
                    }
                    for p in records {
                        assert_eq!(codec.pack(&codec.unpack(p)), p);
                    }
                }
            }
        }
    }

    #[test]
    fn counts_sorted_in_spilled_runs_equal_counts_sorted_in_memory() {
        let temp = tempfile::tempdir().unwrap();
        let dir = SpillDir::new(temp.path()).unwrap();
        // 16 bytes of working space: runs of one occurrence; 64: of 4 packed or 2 plain ones.
        for working in [16, 64] {
            let budget = Budget::with_working(working);
            assert!(!budget.fits(IDS.len(), 16, 0));
            for mask in [0, 1, 0b10, 0b11, 0b101, 0b111] {
                for vocab in [6, 1 << 20, 1 << 40] {
                    let what = format!("{working} bytes, mask {mask}, vocabulary {vocab}");
                    let spilled = count(vocab, mask, Some((&budget, &dir)));
                    assert_same(&spilled, &count(vocab, mask, None), &what);
                }
            }
        }
    }
}
