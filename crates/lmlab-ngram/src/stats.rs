//! Counts-of-counts exactly as lmplz collects them for its discounts. lmplz streams the n-grams of
//! each order in suffix order and adds each to the statistics as it leaves; the last n-gram of each
//! lower order (the suffixes of the last N-gram window, up to a `<s>`) is added at the end with its
//! raw count instead of its adjusted count. Probabilities still use adjusted counts. Reproducing
//! this keeps the discounts — and so every probability — equal to lmplz's.

use crate::count::{make_key, Counts};
use crate::discount::{counts_of_counts, CountsOfCounts};
use lmlab_core::TokenId;

/// Counts-of-counts of every order (index n-1), lmplz's way.
pub(crate) fn lmplz_counts_of_counts(
    counts: &Counts,
    adjusted: &[Vec<u32>],
    bos: TokenId,
) -> Vec<CountsOfCounts> {
    let mut stats: Vec<CountsOfCounts> = adjusted.iter().map(|a| counts_of_counts(a)).collect();
    let order = adjusted.len();
    let window = &counts.last_window;
    let mut rank = 0u32;
    for n in 1..order {
        let first = window[n - 1];
        if first == bos {
            break; // `<s>`-started n-grams keep raw counts anyway; longer ones do not exist.
        }
        let raw = if n == 1 {
            rank = first;
            counts.unigrams[first as usize]
        } else {
            let table = &counts.higher[n - 2];
            match table.keys.binary_search(&make_key(rank, first)) {
                Ok(r) => {
                    rank = r as u32;
                    table.raw[r]
                }
                Err(_) => break,
            }
        };
        let adjusted_count = adjusted[n - 1][rank as usize];
        let t = &mut stats[n - 1];
        if (1..5).contains(&adjusted_count) {
            t[adjusted_count as usize] -= 1;
        }
        if (1..5).contains(&raw) {
            t[raw as usize] += 1;
        }
    }
    stats
}
