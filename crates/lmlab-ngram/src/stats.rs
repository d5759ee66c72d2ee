//! Counts-of-counts exactly as lmplz collects them for its discounts. lmplz streams the n-grams of
//! each order in suffix order and adds each to the statistics as it leaves; the last n-gram of each
//! lower order (the suffixes of the last N-gram window, up to a `<s>`) is added at the end with its
//! raw count instead of its adjusted count. Probabilities still use adjusted counts. Reproducing
//! this keeps the discounts — and so every probability — equal to lmplz's.
//!
//! Counting follows that window up the orders as a chain: the window's n-gram of order n is the
//! one with the chain's rank at order n-1 as suffix and the window's n-th word first.

use crate::count::make_key;
use crate::discount::CountsOfCounts;
use lmlab_core::TokenId;

/// The last window's n-grams, order by order, as counting reaches them.
pub(crate) struct WindowChain {
    /// The window, most recent word first.
    window: Vec<TokenId>,
    bos: TokenId,
    /// The order the link belongs to.
    order: usize,
    /// Rank and raw count of the window's n-gram at `order`; `None` once the chain has ended
    /// (a `<s>`, or an n-gram that does not exist).
    link: Option<(u32, u32)>,
}

impl WindowChain {
    /// The chain at unigrams, from the raw unigram counts.
    pub fn start(window: Vec<TokenId>, bos: TokenId, raw_unigrams: &[u32]) -> WindowChain {
        let first = window[0];
        let link = (first != bos).then(|| (first, raw_unigrams[first as usize]));
        WindowChain {
            window,
            bos,
            order: 1,
            link,
        }
    }

    /// The key of the window's n-gram of order `n` (the order after the link's), if the chain
    /// goes on.
    pub fn target(&self, n: usize) -> Option<u64> {
        debug_assert_eq!(n, self.order + 1);
        let (rank, _) = self.link?;
        let first = *self.window.get(n - 1)?;
        (first != self.bos).then(|| make_key(rank, first))
    }

    /// Moves to the next order: `found` is the rank and raw count of [`WindowChain::target`] if
    /// counting met it.
    pub fn advance(&mut self, found: Option<(u32, u32)>) {
        self.order += 1;
        self.link = found;
    }

    /// Corrects the counts-of-counts `t` of the link's order, whose adjusted counts are
    /// `adjusted`: its n-gram counts with its raw count instead.
    pub fn correct(&self, t: &mut CountsOfCounts, adjusted: &[u32]) {
        let Some((rank, raw)) = self.link else {
            return;
        };
        let adjusted_count = adjusted[rank as usize];
        if (1..5).contains(&adjusted_count) {
            t[adjusted_count as usize] -= 1;
        }
        if (1..5).contains(&raw) {
            t[raw as usize] += 1;
        }
    }
}
