//! Stage 2: adjusted counts. The highest order keeps raw counts; a lower-order n-gram's adjusted
//! count is the number of distinct words that precede it (its continuation count), except n-grams
//! starting with `<s>`, which keep their raw counts. The unigram `<s>` has adjusted count 0.

use crate::count::{key_first, key_suffix, Counts};
use lmlab_core::TokenId;

/// Adjusted counts: `[0]` unigrams by token id, `[n-1]` order n by rank.
pub(crate) fn adjust_counts(counts: &Counts, bos: TokenId) -> Vec<Vec<u32>> {
    let order = counts.higher.len() + 1;
    let mut adjusted = Vec::with_capacity(order);
    for n in 1..=order {
        let raw: &[u32] = if n == 1 {
            &counts.unigrams
        } else {
            &counts.higher[n - 2].raw
        };
        if n == order {
            adjusted.push(raw.to_vec());
            continue;
        }
        // Continuation counts: each distinct (n+1)-gram is one left extension of its suffix.
        let mut continuation = vec![0u32; raw.len()];
        for &key in &counts.higher[n - 1].keys {
            continuation[key_suffix(key) as usize] += 1;
        }
        if n == 1 {
            continuation[bos as usize] = 0;
        } else {
            for (rank, &key) in counts.higher[n - 2].keys.iter().enumerate() {
                if key_first(key) == bos {
                    continuation[rank] = raw[rank];
                }
            }
        }
        adjusted.push(continuation);
    }
    if order == 1 {
        adjusted[0][bos as usize] = 0;
    }
    adjusted
}
