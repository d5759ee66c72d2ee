//! Stage 2: adjusted counts. The highest order keeps raw counts; a lower-order n-gram's adjusted
//! count is the number of distinct words that precede it (its continuation count), except n-grams
//! starting with `<s>`, which keep their raw counts. The unigram `<s>` has adjusted count 0.
//!
//! Counting order n+1 visits the left extensions of each n-gram together (see [`crate::count`]),
//! so the adjusted counts of order n are set in place there, from its raw counts.

/// Turns the raw count of an n-gram into its adjusted count, given its number of distinct left
/// extensions. An n-gram without any starts with `<s>` (every other occurrence has a word before
/// it) or never occurs (unseen unigrams, `<s>` itself, whose raw count is 0): it keeps its count.
#[inline]
pub(crate) fn adjust_from_extensions(count: &mut u32, extensions: u32) {
    if extensions > 0 {
        *count = extensions;
    }
}
