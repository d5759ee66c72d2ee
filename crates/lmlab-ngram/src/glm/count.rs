//! Counting one skip pattern over the token stream. Each occurrence becomes a fixed-width record
//! (kept history words oldest first, the predicted word, the word before the pattern's first word)
//! and the records are sorted; a run of equal patterns gives the raw count (its length) and the
//! continuation count N1+(• pattern) (its distinct left words). The count a pattern uses is its
//! raw count at the top pattern (the full history) and for occurrences that start with `<s>`
//! (nothing precedes them), its continuation count otherwise, as lmplz's adjusted counts.

use super::options::MAX_ORDER;
use super::pattern::{full, is_contiguous, kept_words, span, Mask};
use crate::discount::CountsOfCounts;
use lmlab_core::TokenId;

/// Kept history words, the predicted word, the left word.
const WIDTH: usize = MAX_ORDER + 1;
type Record = [u32; WIDTH];
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
    /// Counts-of-counts of the used counts (lmplz's for contiguous patterns, see [`count_pattern`]).
    pub stats: CountsOfCounts,
}

/// Counts pattern `mask` over `ids` (`<s>` then each sequence), `top` when it is the model's full
/// history. For a contiguous pattern below the top, the counts-of-counts take the occurrence ending
/// lmplz's last window (`window`, most recent word first: [`crate::count::last_window`]) with its
/// raw count instead of its continuation count, as lmplz does (see `crate::stats`), so that
/// `--skips none` reproduces lmplz's discounts exactly.
pub(crate) fn count_pattern(
    ids: &[TokenId],
    vocab_size: usize,
    bos: TokenId,
    mask: Mask,
    top: bool,
    window: &[TokenId],
) -> PatternCounts {
    let k = mask.count_ones() as usize;
    let last = last_occurrence(window, bos, mask, top);
    let occurrences = occurrences(ids, bos, mask, top);
    // Ids (and the left-word marker, `vocab_size`) packed into one u128 when they fit: sorting
    // 16-byte integers is about twice as fast as sorting 32-byte records.
    let bits = usize::BITS - vocab_size.leading_zeros();
    if (k + 2) * bits as usize <= 128 {
        let codec = Codec {
            bits,
            k,
            marker: vocab_size as u32,
        };
        let mut packed: Vec<u128> = occurrences.map(|r| codec.pack(&r)).collect();
        packed.sort_unstable();
        let field = (1u128 << bits) - 1;
        let runs = Runs {
            same_key: |a: &u128, b: &u128| a >> bits == b >> bits,
            left: |p: &u128| (p & field) as u32,
            record: |p: &u128| codec.unpack(*p),
        };
        group(&packed, &runs, k, last.as_deref())
    } else {
        let mut records: Vec<Record> = occurrences.collect();
        records.sort_unstable();
        let runs = Runs {
            same_key: |a: &Record, b: &Record| a[..=k] == b[..=k],
            left: |r: &Record| r[k + 1],
            record: |r: &Record| *r,
        };
        group(&records, &runs, k, last.as_deref())
    }
}

/// How [`group`] reads sorted items of one representation: whether two have the same pattern
/// (all but the left word), an item's left word (any value, only compared), and the item as a
/// record.
struct Runs<S, L, R> {
    same_key: S,
    left: L,
    record: R,
}

/// Every occurrence of pattern `mask` in `ids` as a record, in stream order.
fn occurrences(
    ids: &[TokenId],
    bos: TokenId,
    mask: Mask,
    top: bool,
) -> impl Iterator<Item = Record> + '_ {
    let reach = span(mask);
    let k = mask.count_ones() as usize;
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
        let left = if top || first == start {
            NO_LEFT
        } else {
            ids[first - 1]
        };
        let mut kept = [0u32; 8];
        let n = kept_words(mask, &ids[..t], &mut kept);
        let mut record = [0u32; WIDTH];
        record[..n].copy_from_slice(&kept[..n]);
        record[k] = w;
        record[k + 1] = left;
        Some(record)
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

/// Groups sorted items into rows with used counts and counts-of-counts.
fn group<T, S, L, R>(
    items: &[T],
    runs: &Runs<S, L, R>,
    k: usize,
    last: Option<&[u32]>,
) -> PatternCounts
where
    S: Fn(&T, &T) -> bool,
    L: Fn(&T) -> u32,
    R: Fn(&T) -> Record,
{
    let mut out = PatternCounts {
        histories: Vec::new(),
        row_start: Vec::new(),
        words: Vec::new(),
        counts: Vec::new(),
        stats: [0; 5],
    };
    let mut i = 0;
    while i < items.len() {
        let (mut raw, mut distinct) = (1u32, 1u32);
        let mut left = (runs.left)(&items[i]);
        let mut j = i + 1;
        while j < items.len() && (runs.same_key)(&items[i], &items[j]) {
            raw += 1;
            let l = (runs.left)(&items[j]);
            if l != left {
                distinct += 1;
                left = l;
            }
            j += 1;
        }
        emit(
            &mut out,
            ((runs.record)(&items[i]), raw, distinct, left),
            k,
            last,
        );
        i = j;
    }
    out.row_start.push(out.words.len() as u32);
    out
}

/// Adds one pattern (first record, raw count, distinct left words) to `out`.
fn emit(out: &mut PatternCounts, run: (Record, u32, u32, u32), k: usize, last: Option<&[u32]>) {
    let (first, raw, distinct, _) = run;
    let key = &first[..=k];
    let used = if first[k + 1] == NO_LEFT {
        raw
    } else {
        distinct
    };
    let new_row = out.row_start.is_empty() || out.histories[out.histories.len() - k..] != key[..k];
    if new_row {
        out.row_start.push(out.words.len() as u32);
        out.histories.extend_from_slice(&key[..k]);
    }
    out.words.push(key[k]);
    out.counts.push(used);
    let stat = if last == Some(key) { raw } else { used };
    if (1..5).contains(&stat) {
        out.stats[stat as usize] += 1;
    }
}

/// The top pattern of an order-`order` model.
pub(crate) fn top_pattern(order: usize) -> Mask {
    full(order - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_and_plain_records_count_the_same() {
        // <s> = 1, </s> = 2, words 3..=5: "a b c", "a b a", "c b c".
        let ids = [1, 3, 4, 5, 2, 1, 3, 4, 3, 2, 1, 5, 4, 5, 2];
        let window = [2, 5, 4, 5];
        for mask in [0, 1, 0b10, 0b11, 0b101, 0b111] {
            let top = mask == 0b111;
            // A vocabulary of 6 packs into u128; one of 2^40 ids cannot (3 × 41 bits > 128).
            let packed = count_pattern(&ids, 6, 1, mask, top, &window);
            let plain = count_pattern(&ids, 1 << 40, 1, mask, top, &window);
            assert_eq!(packed.histories, plain.histories, "{mask}");
            assert_eq!(packed.row_start, plain.row_start, "{mask}");
            assert_eq!(packed.words, plain.words, "{mask}");
            assert_eq!(packed.counts, plain.counts, "{mask}");
            assert_eq!(packed.stats, plain.stats, "{mask}");
            assert!(!packed.words.is_empty());
        }
        // "b" after "a": twice, both with the left word <s>: continuation count 1.
        let bigrams = count_pattern(&ids, 6, 1, 1, false, &window);
        let row = bigrams.histories.iter().position(|&h| h == 3).unwrap();
        let range = bigrams.row_start[row] as usize..bigrams.row_start[row + 1] as usize;
        // After "a": </s> (2, in "a b a </s>"), b (4), c (5, none): sorted by id.
        assert_eq!(bigrams.words[range.clone()], [2, 4]);
        assert_eq!(bigrams.counts[range], [1, 1]);
    }
}
