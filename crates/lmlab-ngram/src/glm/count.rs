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
    bos: TokenId,
    mask: Mask,
    top: bool,
    window: &[TokenId],
) -> PatternCounts {
    let reach = span(mask);
    let k = mask.count_ones() as usize;
    let mut records: Vec<Record> = Vec::with_capacity(ids.len());
    let mut start = 0;
    let mut kept = [0u32; 8];
    for (t, &w) in ids.iter().enumerate() {
        if w == bos {
            start = t;
            continue;
        }
        if t - start < reach {
            continue;
        }
        let first = t - reach;
        let left = if top || first == start {
            NO_LEFT
        } else {
            ids[first - 1]
        };
        let n = kept_words(mask, &ids[..t], &mut kept);
        let mut record = [0u32; WIDTH];
        record[..n].copy_from_slice(&kept[..n]);
        record[k] = w;
        record[k + 1] = left;
        records.push(record);
    }
    records.sort_unstable();
    let last = last_occurrence(window, bos, mask, top);
    group(&records, k, last.as_deref())
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

/// Groups sorted records into rows with used counts and counts-of-counts.
fn group(records: &[Record], k: usize, last: Option<&[u32]>) -> PatternCounts {
    let mut out = PatternCounts {
        histories: Vec::new(),
        row_start: Vec::new(),
        words: Vec::new(),
        counts: Vec::new(),
        stats: [0; 5],
    };
    let mut i = 0;
    while i < records.len() {
        let key = &records[i][..=k];
        let mut j = i;
        let mut distinct = 0u32;
        let mut previous_left = None;
        while j < records.len() && records[j][..=k] == *key {
            let left = records[j][k + 1];
            if previous_left != Some(left) {
                distinct += 1;
                previous_left = Some(left);
            }
            j += 1;
        }
        let raw = (j - i) as u32;
        let used = if records[i][k + 1] == NO_LEFT {
            raw
        } else {
            distinct
        };
        let new_row =
            out.row_start.is_empty() || out.histories[out.histories.len() - k..] != key[..k];
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
        i = j;
    }
    out.row_start.push(out.words.len() as u32);
    out
}

/// The top pattern of an order-`order` model.
pub(crate) fn top_pattern(order: usize) -> Mask {
    full(order - 1)
}
