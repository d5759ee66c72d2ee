//! Skip patterns. A pattern is a bit mask over the history: bit i set keeps the word i + 1
//! positions before the predicted word, a clear bit below the highest set one is a wildcard, and
//! everything above the highest set bit is gone. The skip operator ∂ clears one set bit; clearing
//! the highest one deletes the first word (and any wildcards right after it), so the path that only
//! ever clears the highest bit is modified Kneser-Ney's back-off.

use super::options::Skips;

/// A skip pattern (see the module doc).
pub(crate) type Mask = u32;

/// Number of history positions a pattern spans (highest set bit + 1; 0 for the unigram pattern).
pub(crate) fn span(mask: Mask) -> usize {
    (Mask::BITS - mask.leading_zeros()) as usize
}

/// The full history of `len` words.
pub(crate) fn full(len: usize) -> Mask {
    (1 << len) - 1
}

/// Whether `mask` is contiguous (no wildcard): a modified Kneser-Ney order.
pub(crate) fn is_contiguous(mask: Mask) -> bool {
    mask == full(span(mask))
}

/// Every pattern an order-`order` model uses, ascending (so each comes after its children).
pub(crate) fn patterns(order: usize, skips: Skips) -> Vec<Mask> {
    match skips {
        Skips::All => (0..full(order - 1) + 1).collect(),
        Skips::None => (0..order).map(full).collect(),
    }
}

/// The patterns one skip below `mask`: ∂_j for every kept word j (only the first word with
/// [`Skips::None`]). Returned in a fixed buffer with its length.
pub(crate) fn children(mask: Mask, skips: Skips) -> ([Mask; 8], usize) {
    let mut out = [0; 8];
    let mut n = 0;
    match skips {
        Skips::All => {
            let mut rest = mask;
            while rest != 0 {
                let bit = rest & rest.wrapping_neg();
                out[n] = mask & !bit;
                n += 1;
                rest &= !bit;
            }
        }
        Skips::None => {
            if mask != 0 {
                out[0] = mask & !(1 << (span(mask) - 1));
                n = 1;
            }
        }
    }
    (out, n)
}

/// The words `mask` keeps of `history` (its last word right before the predicted one), oldest
/// first, into `out`; returns how many. `history` must hold at least [`span`] words.
pub(crate) fn kept_words(mask: Mask, history: &[u32], out: &mut [u32; 8]) -> usize {
    let mut n = 0;
    for bit in (0..span(mask)).rev() {
        if mask & (1 << bit) != 0 {
            out[n] = history[history.len() - 1 - bit];
            n += 1;
        }
    }
    n
}

/// A readable name: kept words `x`, wildcards `_`, the predicted word `w` (e.g. `x_xw`).
pub fn pattern_name(mask: u32) -> String {
    let mut name: String = (0..span(mask))
        .rev()
        .map(|bit| if mask & (1 << bit) != 0 { 'x' } else { '_' })
        .collect();
    name.push('w');
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_skip_one_word_and_first_word_deletes() {
        let (c, n) = children(0b101, Skips::All);
        assert_eq!(&c[..n], &[0b100, 0b001]);
        let (c, n) = children(0b111, Skips::None);
        assert_eq!(&c[..n], &[0b011]);
        assert_eq!(children(0, Skips::All).1, 0);
        assert_eq!(pattern_name(0b101), "x_xw");
        assert_eq!(pattern_name(0), "w");
        assert_eq!(patterns(3, Skips::None), vec![0, 1, 3]);
        assert_eq!(patterns(3, Skips::All), vec![0, 1, 2, 3]);
        let mut out = [0; 8];
        let n = kept_words(0b101, &[9, 7, 8, 6], &mut out);
        assert_eq!(&out[..n], &[7, 6]);
    }
}
