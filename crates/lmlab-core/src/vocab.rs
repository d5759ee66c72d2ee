//! Token ids and vocabularies.

use std::hash::BuildHasher;

/// A token id: an index into a [`Vocab`].
pub type TokenId = u32;

/// The special tokens every tokenizer defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Specials {
    /// Start of sequence: context only, never predicted.
    pub bos: TokenId,
    /// End of sequence: predicted and counted.
    pub eos: TokenId,
    /// The unknown token, for tokenizers with a closed vocabulary.
    pub unk: Option<TokenId>,
}

/// The literal strings of the special tokens.
pub const BOS: &str = "<s>";
/// End-of-sequence token string.
pub const EOS: &str = "</s>";
/// Unknown-token string.
pub const UNK: &str = "<unk>";

/// A bidirectional map between token strings and ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vocab {
    tokens: Vec<String>,
    index: TokenIndex,
}

/// The string → id index of a [`Vocab`], written by hand because word tokenization spends much of
/// its time here (a fifth of `lmlab eval`'s CPU with a general hash map): an open-addressing table
/// (linear probing, at most half full) of u64 slots `(upper half of the hash << 32) | (id + 1)`
/// (0: empty), so a probe compares hashes inside the table and reads a token's bytes only on a
/// hash match, from one contiguous buffer instead of a separate allocation per token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct TokenIndex {
    slots: Vec<u64>,
    /// Every token's bytes, one after another; token `id` is `bytes[ends[id-1]..ends[id]]`.
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

/// The hash of a token's bytes (FxHash: token strings are short, and SipHash's cost showed in word
/// tokenization).
#[inline]
fn token_hash(token: &[u8]) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(token)
}

/// `a == b`, without a call to `memcmp` for tokens of at most 16 bytes (most words): such calls
/// were 4.6% of `lmlab eval`'s CPU on PTB. Two overlapping loads cover the bytes (the first and
/// the last 8, or 4), read in place: copying a token into a padded buffer first stalled on the
/// loads that followed the copy.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let u64_at = |s: &[u8], i: usize| u64::from_ne_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |s: &[u8], i: usize| u32::from_ne_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    match n {
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => u32_at(a, 0) == u32_at(b, 0) && u32_at(a, n - 4) == u32_at(b, n - 4),
        8..=16 => u64_at(a, 0) == u64_at(b, 0) && u64_at(a, n - 8) == u64_at(b, n - 8),
        _ => a == b,
    }
}

impl TokenIndex {
    fn new(tokens: &[String]) -> TokenIndex {
        let size = (tokens.len() * 2).next_power_of_two().max(2);
        let mut index = TokenIndex {
            slots: vec![0; size],
            bytes: Vec::with_capacity(tokens.iter().map(String::len).sum()),
            ends: Vec::with_capacity(tokens.len()),
        };
        for (id, token) in tokens.iter().enumerate() {
            index.bytes.extend_from_slice(token.as_bytes());
            index.ends.push(index.bytes.len() as u32);
            let hash = token_hash(token.as_bytes());
            let (slot, found) = index.probe(token.as_bytes(), hash);
            // Duplicate strings keep their first id.
            if found.is_none() {
                index.slots[slot] = (hash >> 32) << 32 | (id as u64 + 1);
            }
        }
        index
    }

    /// The bytes of token `id`.
    #[inline]
    fn token_bytes(&self, id: usize) -> &[u8] {
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        &self.bytes[start..self.ends[id] as usize]
    }

    /// The slot holding `token` (with its id) or the empty slot where it would go.
    #[inline]
    fn probe(&self, token: &[u8], hash: u64) -> (usize, Option<TokenId>) {
        let mask = self.slots.len() - 1;
        let tag = hash >> 32;
        let mut slot = hash as usize & mask;
        loop {
            let value = self.slots[slot];
            if value == 0 {
                return (slot, None);
            }
            let id = (value & 0xffff_ffff) as usize - 1;
            if value >> 32 == tag && same_bytes(self.token_bytes(id), token) {
                return (slot, Some(id as TokenId));
            }
            slot = (slot + 1) & mask;
        }
    }

    #[inline]
    fn get(&self, token: &str) -> Option<TokenId> {
        if self.slots.is_empty() {
            return None;
        }
        self.probe(token.as_bytes(), token_hash(token.as_bytes())).1
    }
}

impl Vocab {
    /// A vocabulary of `tokens` in id order. Duplicate strings keep their first id.
    pub fn new(tokens: Vec<String>) -> Vocab {
        let index = TokenIndex::new(&tokens);
        Vocab { tokens, index }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when the vocabulary has no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of `token`, if present.
    #[inline]
    pub fn id(&self, token: &str) -> Option<TokenId> {
        self.index.get(token)
    }

    /// The string of `id` (panics on an id outside the vocabulary: ids come from this vocabulary).
    pub fn token(&self, id: TokenId) -> &str {
        &self.tokens[id as usize]
    }

    /// All token strings in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
}

/// Makes a token string safe for one tab-separated field: backslash, tab, newline and carriage return
/// are escaped (`\\`, `\t`, `\n`, `\r`), and a space is written `\s` so fields never gain or lose blanks.
pub fn escape_token(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for c in token.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ' ' => out.push_str("\\s"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_bytes_is_slice_equality_at_every_length_and_difference() {
        for n in 0..=24 {
            let a: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
            assert!(super::same_bytes(&a, &a.clone()), "{n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 1;
                assert!(!super::same_bytes(&a, &b), "{n} bytes, differing at {at}");
            }
            assert!(!super::same_bytes(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    use super::*;

    #[test]
    fn index_finds_every_token_keeps_first_duplicates_and_misses_others() {
        let tokens: Vec<String> = (0..5000)
            .map(|i| format!("w{i}"))
            .chain(["w7".to_string(), String::new(), "é".to_string()])
            .collect();
        let vocab = Vocab::new(tokens);
        for i in 0..5000 {
            assert_eq!(vocab.id(&format!("w{i}")), Some(i));
        }
        assert_eq!(vocab.id("w7"), Some(7), "a duplicate keeps its first id");
        assert_eq!(vocab.id(""), Some(5001));
        assert_eq!(vocab.id("é"), Some(5002));
        for missing in ["w5000", "w", "x", "w07", "é "] {
            assert_eq!(vocab.id(missing), None, "{missing}");
        }
        assert_eq!(Vocab::default().id("a"), None);
        assert_eq!(Vocab::new(Vec::new()).id(""), None);
    }

    #[test]
    fn ids_and_strings_round_trip() {
        let vocab = Vocab::new(vec!["<unk>".into(), "a".into(), "b".into()]);
        assert_eq!(vocab.id("b"), Some(2));
        assert_eq!(vocab.token(1), "a");
        assert_eq!(vocab.id("c"), None);
        assert_eq!(vocab.len(), 3);
    }

    #[test]
    fn escaping_keeps_fields_whitespace_free() {
        assert_eq!(escape_token("a b\t\\\n"), "a\\sb\\t\\\\\\n");
    }
}
