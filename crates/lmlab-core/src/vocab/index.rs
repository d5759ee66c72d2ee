//! The string → id index of a [`Vocab`](super::Vocab), written by hand because word tokenization
//! spends much of its time here (a fifth of `lmlab eval`'s CPU with a general hash map): an
//! open-addressing table (linear probing, at most half full) whose slots hold a token's first 16
//! bytes, its length and its id ([`Slot`]), so that a word of at most 16 bytes (nearly every word)
//! is found by reading one slot: the token's bytes are not fetched from elsewhere.
//!
//! Such words are hashed and compared as two 8-byte words read in place and masked to the word's
//! length ([`Short`]): no loop over the bytes and no branch on the length, whose changes from word
//! to word no predictor guesses. [`TokenIndex::word_ids`] hashes the words of a text first and
//! prefetches their slots, then reads them, so that the slots' cache misses overlap.

use super::TokenId;
use crate::cache::prefetch;
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

/// A token's first [`SHORT`] bytes as two little-endian words, zero past its end, and its length:
/// the whole token when it has at most [`SHORT`] bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Short {
    low: u64,
    high: u64,
    len: usize,
}

impl Short {
    /// The `len` bytes (at most [`SHORT`]) at `at` of `bytes`, which holds at least 16 bytes
    /// from `at`.
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

    /// Any token, anywhere.
    fn of(token: &[u8]) -> Short {
        let mut padded = [0u8; SHORT];
        let head = token.len().min(SHORT);
        padded[..head].copy_from_slice(&token[..head]);
        Short {
            len: token.len(),
            ..Short::read(&padded, 0, head)
        }
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

/// One slot of the index: a token's [`Short`] (its first 16 bytes and length) and id; `id ==
/// u32::MAX` marks an empty slot. 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    low: u64,
    high: u64,
    len: u32,
    id: u32,
}

impl Slot {
    const EMPTY: Slot = Slot {
        low: 0,
        high: 0,
        len: 0,
        id: u32::MAX,
    };

    /// True when the slot holds a token that starts as `short` (and is `short` itself when
    /// that has at most [`SHORT`] bytes).
    #[inline]
    fn starts_as(&self, short: &Short) -> bool {
        (self.low == short.low) & (self.high == short.high) & (self.len as usize == short.len)
    }
}

/// The hash of a token: [`Short::hash`] up to [`SHORT`] bytes, FxHash beyond.
fn token_hash(token: &[u8], short: &Short) -> u64 {
    if token.len() <= SHORT {
        short.hash()
    } else {
        rustc_hash::FxBuildHasher.hash_one(token)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct TokenIndex {
    slots: Vec<Slot>,
    /// Every token's bytes, one after another; token `id` is `bytes[ends[id-1]..ends[id]]` (read
    /// for tokens longer than [`SHORT`]).
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

/// Scratch of [`TokenIndex::word_ids`], kept between calls: word starts and ends, and each word's
/// [`Short`] with its hash.
type WordScratch = (Vec<u32>, Vec<u32>, Vec<(Short, u64)>);

thread_local! {
    static SCRATCH: RefCell<WordScratch> = RefCell::default();
}

impl TokenIndex {
    pub(super) fn new(tokens: &[String]) -> TokenIndex {
        let size = (tokens.len() * 2).next_power_of_two().max(2);
        let mut index = TokenIndex {
            slots: vec![Slot::EMPTY; size],
            bytes: Vec::with_capacity(tokens.iter().map(String::len).sum::<usize>()),
            ends: Vec::with_capacity(tokens.len()),
        };
        for token in tokens {
            index.bytes.extend_from_slice(token.as_bytes());
            index.ends.push(index.bytes.len() as u32);
        }
        for (id, token) in tokens.iter().enumerate() {
            let token = token.as_bytes();
            let short = Short::of(token);
            let hash = token_hash(token, &short);
            let (slot, found) = index.probe(hash, |slot| index.is(slot, token, &short));
            // Duplicate strings keep their first id.
            if found.is_none() {
                index.slots[slot] = Slot {
                    low: short.low,
                    high: short.high,
                    len: token.len() as u32,
                    id: id as u32,
                };
            }
        }
        index
    }

    /// The bytes of token `id`.
    fn token_bytes(&self, id: usize) -> &[u8] {
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        &self.bytes[start..self.ends[id] as usize]
    }

    /// True when `slot` holds `token` (whose [`Short`] is `short`).
    #[inline]
    fn is(&self, slot: &Slot, token: &[u8], short: &Short) -> bool {
        slot.starts_as(short)
            && (token.len() <= SHORT || self.token_bytes(slot.id as usize) == token)
    }

    /// The slot holding the token with hash `hash` for which `is_it` holds (with its id), or the
    /// empty slot where it would go.
    #[inline]
    fn probe(&self, hash: u64, is_it: impl Fn(&Slot) -> bool) -> (usize, Option<TokenId>) {
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let slot = &self.slots[at];
            if slot.id == u32::MAX {
                return (at, None);
            }
            if is_it(slot) {
                return (at, Some(slot.id));
            }
            at = (at + 1) & mask;
        }
    }

    /// The id of a token of at most [`SHORT`] bytes, given as its [`Short`] and hash.
    #[inline]
    fn get_short(&self, short: &Short, hash: u64) -> Option<TokenId> {
        self.probe(hash, |slot| slot.starts_as(short)).1
    }

    /// The id of `token`, if present.
    #[inline]
    pub(super) fn get(&self, token: &[u8]) -> Option<TokenId> {
        if self.slots.is_empty() {
            return None;
        }
        let short = Short::of(token);
        let hash = token_hash(token, &short);
        self.probe(hash, |slot| self.is(slot, token, &short)).1
    }

    /// [`super::Vocab::word_ids`]. ASCII text: the words' bounds found in one pass
    /// ([`ascii_word_bounds`]); then each word's [`Short`] (read in place when 16 bytes of the
    /// text follow its start: all but the last few words of a line) and hash, its slot
    /// prefetched; then the slots are read.
    pub(super) fn word_ids(&self, text: &str, mut each: impl FnMut(Option<TokenId>)) {
        if !text.is_ascii() || self.slots.is_empty() {
            whitespace_words(text).for_each(|word| each(self.get(word.as_bytes())));
            return;
        }
        let bytes = text.as_bytes();
        let mask = self.slots.len() - 1;
        let mut scan = |(starts, ends, words): &mut WordScratch| {
            let count = ascii_word_bounds(bytes, starts, ends);
            words.clear();
            for (&start, &end) in starts[..count].iter().zip(&ends[..count]) {
                let (start, len) = (start as usize, (end - start) as usize);
                let word = &bytes[start..start + len];
                let short = if len <= SHORT && start + SHORT <= bytes.len() {
                    Short::read(bytes, start, len)
                } else {
                    Short::of(word)
                };
                let hash = token_hash(word, &short);
                prefetch(&self.slots[hash as usize & mask]);
                words.push((short, hash));
            }
            for (i, (short, hash)) in words.iter().enumerate() {
                each(if short.len <= SHORT {
                    self.get_short(short, *hash)
                } else {
                    let word = &bytes[starts[i] as usize..ends[i] as usize];
                    self.probe(*hash, |slot| self.is(slot, word, short)).1
                });
            }
        };
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => scan(&mut scratch),
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
                assert_ne!(Short::of(&text[at..at + len + 1]), Short::of(token));
            }
        }
    }

    #[test]
    fn word_ids_are_the_ids_of_split_whitespace_words() {
        // Two long tokens alike in their first 16 bytes and their length.
        let tokens: Vec<String> = ["a", "bb", "exactly16bytes!!", "seventeen-bytes!!", "é", ""]
            .iter()
            .chain(&["seventeen-bytes!?", "a-much-longer-token-than-sixteen"])
            .map(|t| t.to_string())
            .chain((0..300).map(|i| format!("w{i}")))
            // Long tokens alike in all but their last bytes: probes pass through their slots.
            .chain((0..300).map(|i| format!("0123456789abcdef{i:03}")))
            .collect();
        let index = TokenIndex::new(&tokens);
        let long = |i: usize| format!("0123456789abcdef{i:03}");
        for i in 0..600 {
            let expected = (i < 300).then_some(308 + i as TokenId);
            assert_eq!(index.get(long(i).as_bytes()), expected, "{}", long(i));
        }
        let texts = [
            "a bb exactly16bytes!! seventeen-bytes!! w1 w299 w300 x",
            "seventeen-bytes!? seventeen-bytes!x a-much-longer-token-than-sixteen w3",
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
