//! The string → id index of a [`Vocab`](super::Vocab), written by hand because word tokenization
//! spends much of its time here (a fifth of `lmlab eval`'s CPU with a general hash map): an
//! open-addressing table (linear probing, at most half full) of u64 slots `(upper half of the hash
//! << 32) | (id + 1)` (0: empty), so a probe compares hashes inside the table and reads a token's
//! bytes only on a hash match, from one contiguous buffer instead of a separate allocation per
//! token.
//!
//! Tokens of at most 16 bytes (nearly every word) are hashed and compared as two 8-byte words read
//! in place and masked to the token's length ([`Short`]): no loop over the bytes and no branch on
//! the length, whose changes from word to word no predictor guesses.

use super::TokenId;
use crate::corpus::{ascii_word_bounds, whitespace_words};
use std::cell::RefCell;
use std::hash::BuildHasher;

/// The longest token taken as a [`Short`].
const SHORT: usize = 16;

/// `LOW[n]`: the mask of the low `n` bytes of a little-endian u64 (n ≤ 8).
const LOW: [u64; 9] = {
    let mut masks = [u64::MAX; 9];
    let mut n = 0;
    while n < 8 {
        masks[n] = (1 << (8 * n)) - 1;
        n += 1;
    }
    masks
};

/// A token of at most [`SHORT`] bytes as two little-endian words, zero past its end, and its
/// length (the true length for longer tokens, which then never equal a short one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Short {
    low: u64,
    high: u64,
    len: usize,
}

impl Short {
    /// The `len` bytes at `at` of `bytes`, which holds at least 16 bytes from `at`.
    #[inline]
    fn read(bytes: &[u8], at: usize, len: usize) -> Short {
        let word =
            |from: usize| u64::from_le_bytes(bytes[from..from + 8].try_into().expect("8 bytes"));
        Short {
            low: word(at) & LOW[len.min(8)],
            high: word(at + 8) & LOW[len.saturating_sub(8).min(8)],
            len,
        }
    }

    /// A token of at most [`SHORT`] bytes, anywhere.
    fn of(token: &[u8]) -> Short {
        let mut padded = [0u8; SHORT];
        padded[..token.len()].copy_from_slice(token);
        Short::read(&padded, 0, token.len())
    }

    /// The high and low halves of one 128-bit product, folded (a multiply mixes every input bit
    /// into the middle bits; folding brings them to both ends).
    #[inline]
    fn hash(self) -> u64 {
        let a = self.low ^ 0x243F_6A88_85A3_08D3;
        let b = self.high ^ 0x1319_8A2E_0370_7344 ^ self.len as u64;
        let product = a as u128 * b as u128;
        product as u64 ^ (product >> 64) as u64
    }
}

/// The hash of a token's bytes: [`Short::hash`] up to [`SHORT`] bytes, FxHash beyond.
fn token_hash(token: &[u8]) -> u64 {
    if token.len() <= SHORT {
        Short::of(token).hash()
    } else {
        rustc_hash::FxBuildHasher.hash_one(token)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct TokenIndex {
    slots: Vec<u64>,
    /// Every token's bytes, one after another, then [`SHORT`] zero bytes (so that a [`Short`]
    /// can be read at any token); token `id` is `bytes[ends[id-1]..ends[id]]`.
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

thread_local! {
    /// The word bounds of [`TokenIndex::word_ids`], kept between calls.
    static BOUNDS: RefCell<(Vec<u32>, Vec<u32>)> = RefCell::default();
}

impl TokenIndex {
    pub(super) fn new(tokens: &[String]) -> TokenIndex {
        let size = (tokens.len() * 2).next_power_of_two().max(2);
        let mut index = TokenIndex {
            slots: vec![0; size],
            bytes: Vec::with_capacity(tokens.iter().map(String::len).sum::<usize>() + SHORT),
            ends: Vec::with_capacity(tokens.len()),
        };
        for token in tokens {
            index.bytes.extend_from_slice(token.as_bytes());
            index.ends.push(index.bytes.len() as u32);
        }
        index.bytes.extend_from_slice(&[0; SHORT]);
        for (id, token) in tokens.iter().enumerate() {
            let hash = token_hash(token.as_bytes());
            let (slot, found) =
                index.probe(hash, |other| index.token_bytes(other) == token.as_bytes());
            // Duplicate strings keep their first id.
            if found.is_none() {
                index.slots[slot] = (hash >> 32) << 32 | (id as u64 + 1);
            }
        }
        index
    }

    /// Where token `id` starts in `bytes`, and its length.
    #[inline]
    fn token_span(&self, id: usize) -> (usize, usize) {
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        (start, self.ends[id] as usize - start)
    }

    /// The bytes of token `id`.
    fn token_bytes(&self, id: usize) -> &[u8] {
        let (start, len) = self.token_span(id);
        &self.bytes[start..start + len]
    }

    /// Token `id` as a [`Short`] (its first 16 bytes, with its true length).
    #[inline]
    fn token_short(&self, id: usize) -> Short {
        let (start, len) = self.token_span(id);
        Short::read(&self.bytes, start, len)
    }

    /// The slot holding the token with hash `hash` for which `is_it(id)` holds (with its id), or
    /// the empty slot where it would go.
    #[inline]
    fn probe(&self, hash: u64, is_it: impl Fn(usize) -> bool) -> (usize, Option<TokenId>) {
        let mask = self.slots.len() - 1;
        let tag = hash >> 32;
        let mut slot = hash as usize & mask;
        loop {
            let value = self.slots[slot];
            if value == 0 {
                return (slot, None);
            }
            let id = (value & 0xffff_ffff) as usize - 1;
            if value >> 32 == tag && is_it(id) {
                return (slot, Some(id as TokenId));
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The id of a token of at most [`SHORT`] bytes.
    #[inline]
    fn get_short(&self, token: Short) -> Option<TokenId> {
        if self.slots.is_empty() {
            return None;
        }
        self.probe(token.hash(), |id| self.token_short(id) == token)
            .1
    }

    /// The id of `token`, if present.
    #[inline]
    pub(super) fn get(&self, token: &[u8]) -> Option<TokenId> {
        if token.len() <= SHORT {
            return self.get_short(Short::of(token));
        }
        if self.slots.is_empty() {
            return None;
        }
        let hash = token_hash(token);
        self.probe(hash, |id| self.token_bytes(id) == token).1
    }

    /// [`super::Vocab::word_ids`]. ASCII text: the words' bounds found in one pass
    /// ([`ascii_word_bounds`]), each word of at most 16 bytes read in place as a [`Short`] when
    /// 16 bytes of the text follow its start (all but the last few of a line).
    pub(super) fn word_ids(&self, text: &str, mut each: impl FnMut(Option<TokenId>)) {
        if !text.is_ascii() {
            whitespace_words(text).for_each(|word| each(self.get(word.as_bytes())));
            return;
        }
        let bytes = text.as_bytes();
        let mut scan = |(starts, ends): &mut (Vec<u32>, Vec<u32>)| {
            let words = ascii_word_bounds(bytes, starts, ends);
            for (&start, &end) in starts[..words].iter().zip(&ends[..words]) {
                let (start, len) = (start as usize, (end - start) as usize);
                let id = if len <= SHORT && start + SHORT <= bytes.len() {
                    self.get_short(Short::read(bytes, start, len))
                } else {
                    self.get(&bytes[start..start + len])
                };
                each(id);
            }
        };
        BOUNDS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut bounds) => scan(&mut bounds),
            // `each` itself splits words on this thread.
            Err(_) => scan(&mut Default::default()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorts_read_in_place_equal_shorts_of_the_token_alone() {
        let text: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        for at in 0..32 {
            for len in 0..=SHORT {
                let token = &text[at..at + len];
                assert_eq!(Short::read(&text, at, len), Short::of(token), "{at} {len}");
                // Any byte of the token changes it; bytes after it do not.
                for i in 0..len {
                    let mut other = token.to_vec();
                    other[i] ^= 1;
                    assert_ne!(Short::of(&other), Short::of(token), "{len} bytes, at {i}");
                }
                if len < SHORT {
                    assert_ne!(Short::of(&text[at..at + len + 1]), Short::of(token));
                }
            }
        }
    }

    #[test]
    fn word_ids_are_the_ids_of_split_whitespace_words() {
        let tokens: Vec<String> = ["a", "bb", "exactly16bytes!!", "seventeen-bytes!!", "é", ""]
            .iter()
            .map(|t| t.to_string())
            .chain((0..300).map(|i| format!("w{i}")))
            .collect();
        let index = TokenIndex::new(&tokens);
        let texts = [
            "a bb exactly16bytes!! seventeen-bytes!! w1 w299 w300 x",
            "  w7\tw8\r\nbb  ",
            "w12",
            "exactly16bytes!!",
            "seventeen-bytes!! a",
            "é a bb",
            "",
            "   ",
        ];
        for text in texts {
            let mut ours = Vec::new();
            index.word_ids(text, |id| ours.push(id));
            let expected: Vec<Option<TokenId>> = text
                .split_whitespace()
                .map(|word| {
                    tokens
                        .iter()
                        .position(|t| t == word)
                        .map(|id| id as TokenId)
                })
                .collect();
            assert_eq!(ours, expected, "{text:?}");
        }
    }
}
