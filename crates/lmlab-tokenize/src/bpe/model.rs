//! The byte-level BPE tokenizer (kinds `bpe` and `scaffold-bpe`): encoding, decoding, id layout.

use super::byte_level::{byte_base_ids, bytes_to_string};
use super::hash::FastMap;
use super::pretokenize::PreTokenizerPattern;
use crate::scaffold_bpe::demolition_table;
use lmlab_core::vocab::{BOS, EOS};
use lmlab_core::{Error, Result, Specials, TokenId, Tokenizer, Vocab};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Mutex, MutexGuard};

/// Number of base symbols: one per byte.
pub const BYTE_ALPHABET: usize = 256;

/// A trained byte-level BPE tokenizer, plain or Scaffold-BPE.
///
/// **Id layout.** Learned tokens first, then the special tokens:
/// * plain BPE: ids `0..256` are the 256 bytes in the order of their ByteLevel characters (`!` = 0,
///   as Hugging Face orders its initial alphabet), then one id per merged token in the order the
///   merges were learned — the ids of a Hugging Face tokenizer trained the same way;
/// * Scaffold-BPE: the same expanded ids with the scaffold tokens left out, renumbered compactly
///   (ids `0..N` are the N normal tokens in expanded order);
/// * then `<s>` = V, `</s>` = V + 1, then the user-given special tokens in their order (V = the
///   learned vocabulary size).
///
/// Token strings are ByteLevel strings (`Ġthe`); special tokens are their own strings. Text is
/// encoded line by line (each line keeps its `\n`), each line pre-tokenized by the pattern and
/// each piece merged by rank; special-token strings in text are ordinary text unless
/// [`BpeTokenizer::set_allow_special`] is on. `</s>` decodes to a newline; `<s>` and the other
/// special tokens decode to nothing.
#[derive(Debug)]
pub struct BpeTokenizer {
    pub(crate) pattern: PreTokenizerPattern,
    pub(crate) scaffold_kind: bool,
    /// Bytes of every expanded token.
    pub(crate) token_bytes: Vec<Vec<u8>>,
    /// Merges (left, right, result) in expanded ids, in rank order.
    pub(crate) merges: Vec<(u32, u32, u32)>,
    /// Which expanded tokens are scaffold tokens.
    pub(crate) scaffold: Vec<bool>,
    /// User-given special tokens (after `<s>` and `</s>`).
    pub(crate) user_specials: Vec<String>,
    ranks: FastMap<u64, (u32, u32)>,
    /// Compact ids each expanded token encodes to (one for normal tokens; its demolition for
    /// scaffold tokens).
    expanded_to_ids: Vec<Vec<u32>>,
    /// Expanded id of each compact learned id.
    compact_to_expanded: Vec<u32>,
    n_learned: u32,
    vocab: Vocab,
    allow_special: bool,
    cache: EncodeCache,
}

impl Clone for BpeTokenizer {
    fn clone(&self) -> Self {
        let mut copy = BpeTokenizer::from_parts(
            self.pattern,
            self.scaffold_kind,
            self.token_bytes.clone(),
            self.merges.clone(),
            self.scaffold.clone(),
            self.user_specials.clone(),
        )
        .expect("a valid tokenizer clones");
        copy.allow_special = self.allow_special;
        copy
    }
}

impl BpeTokenizer {
    /// Builds a tokenizer from learned parts (expanded ids), checking them.
    pub(crate) fn from_parts(
        pattern: PreTokenizerPattern,
        scaffold_kind: bool,
        token_bytes: Vec<Vec<u8>>,
        merges: Vec<(u32, u32, u32)>,
        scaffold: Vec<bool>,
        user_specials: Vec<String>,
    ) -> Result<BpeTokenizer> {
        let n = token_bytes.len();
        if n < BYTE_ALPHABET || scaffold.len() != n {
            return Err(Error::invalid("BPE tokenizer: inconsistent token tables"));
        }
        let mut ranks = FastMap::default();
        for (rank, &(a, b, t)) in merges.iter().enumerate() {
            if a as usize >= n || b as usize >= n || t as usize >= n {
                return Err(Error::invalid(format!(
                    "BPE tokenizer: merge {rank} uses an unknown token id"
                )));
            }
            ranks.entry(pair_key(a, b)).or_insert((rank as u32, t));
        }
        if scaffold[..BYTE_ALPHABET].iter().any(|&s| s) {
            return Err(Error::invalid(
                "BPE tokenizer: a byte symbol cannot be a scaffold token",
            ));
        }
        let parents: FastMap<u32, (u32, u32)> =
            merges.iter().rev().map(|&(a, b, t)| (t, (a, b))).collect();
        let (expanded_to_ids, compact_to_expanded) = demolition_table(&scaffold, &parents)?;
        let n_learned = compact_to_expanded.len() as u32;
        check_specials(&user_specials)?;
        let mut tokens: Vec<String> = compact_to_expanded
            .iter()
            .map(|&e| bytes_to_string(&token_bytes[e as usize]))
            .collect();
        let learned: std::collections::HashSet<&str> = tokens.iter().map(String::as_str).collect();
        for special in [BOS, EOS]
            .into_iter()
            .chain(user_specials.iter().map(String::as_str))
        {
            if learned.contains(special) {
                return Err(Error::invalid(format!(
                    "special token '{special}' collides with a learned token of the same string; \
                     choose another string for it"
                )));
            }
        }
        tokens.push(BOS.to_string());
        tokens.push(EOS.to_string());
        tokens.extend(user_specials.iter().cloned());
        Ok(BpeTokenizer {
            pattern,
            scaffold_kind,
            token_bytes,
            merges,
            scaffold,
            user_specials,
            ranks,
            expanded_to_ids,
            compact_to_expanded,
            n_learned,
            vocab: Vocab::new(tokens),
            allow_special: false,
            cache: EncodeCache::default(),
        })
    }

    /// The pre-tokenization pattern.
    pub fn pattern(&self) -> PreTokenizerPattern {
        self.pattern
    }

    /// True for a Scaffold-BPE tokenizer.
    pub fn is_scaffold(&self) -> bool {
        self.scaffold_kind
    }

    /// Number of learned tokens (bytes + normal merged tokens), specials not counted.
    pub fn learned_size(&self) -> usize {
        self.n_learned as usize
    }

    /// The merges in rank order, as pairs of ByteLevel token strings (Hugging Face's `merges`).
    pub fn merges(&self) -> Vec<(String, String)> {
        self.merges
            .iter()
            .map(|&(a, b, _)| {
                (
                    bytes_to_string(&self.token_bytes[a as usize]),
                    bytes_to_string(&self.token_bytes[b as usize]),
                )
            })
            .collect()
    }

    /// The ByteLevel strings of the scaffold tokens (expanded vocabulary), in expanded-id order.
    pub fn scaffold_tokens(&self) -> Vec<String> {
        (0..self.token_bytes.len())
            .filter(|&i| self.scaffold[i])
            .map(|i| bytes_to_string(&self.token_bytes[i]))
            .collect()
    }

    /// The expanded vocabulary (normal and scaffold tokens) as ByteLevel strings, in expanded ids.
    pub fn expanded_tokens(&self) -> Vec<String> {
        self.token_bytes
            .iter()
            .map(|b| bytes_to_string(b))
            .collect()
    }

    /// Id of `<s>`.
    pub fn bos_id(&self) -> TokenId {
        self.n_learned
    }

    /// Id of `</s>`.
    pub fn eos_id(&self) -> TokenId {
        self.n_learned + 1
    }

    /// Whether special-token strings in text are encoded as their special ids (default: no, they
    /// are ordinary text).
    pub fn allow_special(&self) -> bool {
        self.allow_special
    }

    /// Turns recognition of special-token strings in text on or off.
    pub fn set_allow_special(&mut self, allow: bool) {
        self.allow_special = allow;
    }

    /// The bytes of a learned token id (`None` for specials and ids outside the vocabulary).
    pub fn token_bytes(&self, id: TokenId) -> Option<&[u8]> {
        self.compact_to_expanded
            .get(id as usize)
            .map(|&e| self.token_bytes[e as usize].as_slice())
    }

    /// BPE of one piece in expanded ids (all merges, no demolition), appended to `out`.
    fn bpe_piece(&self, piece: &[u8], out: &mut Vec<u32>) {
        if piece.len() > LONG_PIECE {
            self.bpe_piece_long(piece, out)
        } else {
            self.bpe_piece_short(piece, out)
        }
    }

    /// BPE of a short piece: repeatedly merge every occurrence (left to right) of the
    /// lowest-ranked adjacent pair. Quadratic in the piece length.
    fn bpe_piece_short(&self, piece: &[u8], out: &mut Vec<u32>) {
        let base = byte_base_ids();
        let start = out.len();
        out.extend(piece.iter().map(|&b| base[b as usize]));
        let syms = &mut out[start..];
        let mut len = syms.len();
        while len > 1 {
            let mut best: Option<(u32, u32)> = None;
            for i in 0..len - 1 {
                if let Some(&(rank, t)) = self.ranks.get(&pair_key(syms[i], syms[i + 1])) {
                    match best {
                        Some((r, _)) if r <= rank => {}
                        _ => best = Some((rank, t)),
                    }
                }
            }
            let Some((rank, t)) = best else { break };
            let (a, b, _) = self.merges[rank as usize];
            let (mut r, mut w) = (0, 0);
            while r < len {
                if r + 1 < len && syms[r] == a && syms[r + 1] == b {
                    syms[w] = t;
                    r += 2;
                } else {
                    syms[w] = syms[r];
                    r += 1;
                }
                w += 1;
            }
            len = w;
        }
        out.truncate(start + len);
    }

    /// The same as [`Self::bpe_piece_short`] in O(n log n) for long pieces (long runs of white space or
    /// digits): a linked list of symbols and a heap of (rank, position) candidates; the lowest
    /// rank merges first, leftmost first on ties, as in the quadratic loop.
    fn bpe_piece_long(&self, piece: &[u8], out: &mut Vec<u32>) {
        const NONE: usize = usize::MAX;
        let base = byte_base_ids();
        let n = piece.len();
        let mut sym: Vec<u32> = piece.iter().map(|&b| base[b as usize]).collect();
        let mut next: Vec<usize> = (1..=n).map(|i| if i == n { NONE } else { i }).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| if i == 0 { NONE } else { i - 1 }).collect();
        let mut alive = vec![true; n];
        let mut heap = BinaryHeap::new();
        let candidate = |a: u32, b: u32| self.ranks.get(&pair_key(a, b)).map(|&(r, _)| r);
        for i in 0..n.saturating_sub(1) {
            if let Some(rank) = candidate(sym[i], sym[i + 1]) {
                heap.push(Reverse((rank, i, i + 1)));
            }
        }
        while let Some(Reverse((rank, i, j))) = heap.pop() {
            let (a, b, t) = self.merges[rank as usize];
            if !alive[i] || !alive[j] || next[i] != j || sym[i] != a || sym[j] != b {
                continue;
            }
            sym[i] = t;
            alive[j] = false;
            let k = next[j];
            next[i] = k;
            if k != NONE {
                prev[k] = i;
                if let Some(rank) = candidate(t, sym[k]) {
                    heap.push(Reverse((rank, i, k)));
                }
            }
            let p = prev[i];
            if p != NONE {
                if let Some(rank) = candidate(sym[p], t) {
                    heap.push(Reverse((rank, p, i)));
                }
            }
        }
        let mut i = 0;
        while i != NONE {
            out.push(sym[i]);
            i = next[i];
        }
    }

    /// Encodes one piece into compact ids, through the cache when one is held.
    #[inline]
    fn encode_piece(
        &self,
        piece: &str,
        cache: &mut Option<MutexGuard<'_, PieceCache>>,
        scratch: &mut Vec<u32>,
        out: &mut Vec<TokenId>,
    ) {
        let bytes = piece.as_bytes();
        if let Some(cache) = cache {
            if let Some(ids) = cache.map.get(bytes) {
                out.extend_from_slice(ids);
                return;
            }
        }
        scratch.clear();
        self.bpe_piece(bytes, scratch);
        let start = out.len();
        for &e in scratch.iter() {
            out.extend_from_slice(&self.expanded_to_ids[e as usize]);
        }
        if let Some(cache) = cache.as_mut().filter(|_| bytes.len() <= LONG_PIECE) {
            if cache.map.len() >= CACHE_CAPACITY {
                cache.map.clear();
            }
            cache.map.insert(bytes.into(), out[start..].into());
        }
    }

    /// Calls `f` on each pre-tokenized piece of ordinary text and on each special-token match
    /// (only when special tokens are allowed), in order.
    fn for_each_piece<'a>(&self, text: &'a str, mut f: impl FnMut(Piece<'a>)) {
        let pattern = self.pattern;
        let ordinary = |chunk: &'a str, f: &mut dyn FnMut(Piece<'a>)| {
            for line in chunk.split_inclusive('\n') {
                pattern.split(line, |p| f(Piece::Text(p)));
            }
        };
        if self.allow_special {
            let names: Vec<&str> = self.vocab.tokens()[self.n_learned as usize..]
                .iter()
                .map(String::as_str)
                .collect();
            split_specials(text, &names, |chunk, which| match which {
                Some(k) => f(Piece::Special(self.n_learned + k as u32)),
                None => ordinary(chunk, &mut f),
            });
        } else {
            ordinary(text, &mut f);
        }
    }

    /// Expanded ids of `text` before demolition (all merges applied; for Scaffold-BPE analysis).
    pub fn encode_expanded(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        self.for_each_piece(text, |piece| {
            if let Piece::Text(p) = piece {
                self.bpe_piece(p.as_bytes(), &mut out);
            }
        });
        out
    }
}

/// A pre-tokenized piece of ordinary text, or a special token found in text.
enum Piece<'a> {
    Text(&'a str),
    Special(TokenId),
}

/// The pieces of `text` between matches of `specials` (leftmost match, longest on ties), each
/// given to `f` with the index of the special it is, or `None` for ordinary text.
pub(crate) fn split_specials<'a>(
    text: &'a str,
    specials: &[&str],
    mut f: impl FnMut(&'a str, Option<usize>),
) {
    let mut next: Vec<Option<usize>> = specials
        .iter()
        .map(|s| if s.is_empty() { None } else { text.find(s) })
        .collect();
    let mut pos = 0;
    loop {
        let mut best: Option<(usize, usize)> = None;
        for (k, found) in next.iter_mut().enumerate() {
            if let Some(at) = *found {
                if at < pos {
                    *found = text[pos..].find(specials[k]).map(|o| o + pos);
                }
            }
            if let Some(at) = *found {
                let better = match best {
                    None => true,
                    Some((b_at, b_k)) => {
                        at < b_at || (at == b_at && specials[k].len() > specials[b_k].len())
                    }
                };
                if better {
                    best = Some((at, k));
                }
            }
        }
        match best {
            None => {
                if pos < text.len() {
                    f(&text[pos..], None);
                }
                return;
            }
            Some((at, k)) => {
                if at > pos {
                    f(&text[pos..at], None);
                }
                let end = at + specials[k].len();
                f(&text[at..end], Some(k));
                pos = end;
            }
        }
    }
}

/// Special tokens must be non-empty, free of newlines, distinct and not `<s>`/`</s>` again.
pub(crate) fn check_specials(user_specials: &[String]) -> Result<()> {
    let mut seen: std::collections::HashSet<&str> = [BOS, EOS].into_iter().collect();
    for s in user_specials {
        if s.is_empty() || s.contains('\n') {
            return Err(Error::invalid(format!(
                "special token {s:?} must be non-empty and contain no newline"
            )));
        }
        if !seen.insert(s) {
            return Err(Error::invalid(format!(
                "special token '{s}' is given twice (<s> and </s> are always present)"
            )));
        }
    }
    Ok(())
}

#[inline]
pub(crate) fn pair_key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

impl Tokenizer for BpeTokenizer {
    fn kind(&self) -> &str {
        if self.scaffold_kind {
            "scaffold-bpe"
        } else {
            "bpe"
        }
    }

    fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    fn specials(&self) -> Specials {
        Specials {
            bos: self.bos_id(),
            eos: self.eos_id(),
            unk: None,
        }
    }

    fn encode_into(&self, text: &str, out: &mut Vec<TokenId>) -> usize {
        let mut cache = self.cache.acquire();
        let mut scratch = Vec::new();
        self.for_each_piece(text, |piece| match piece {
            Piece::Text(p) => self.encode_piece(p, &mut cache, &mut scratch, out),
            Piece::Special(id) => out.push(id),
        });
        0
    }

    fn decode(&self, ids: &[TokenId]) -> String {
        let bytes = self.decode_bytes(ids);
        String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
    }

    /// The bytes of the learned tokens of `ids`; `</s>` is a newline, other specials nothing.
    fn decode_bytes(&self, ids: &[TokenId]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for &id in ids {
            if id < self.n_learned {
                let e = self.compact_to_expanded[id as usize];
                bytes.extend_from_slice(&self.token_bytes[e as usize]);
            } else if id == self.eos_id() {
                bytes.push(b'\n');
            }
            // `<s>` and the user-given special tokens are left out, as the trait asks.
        }
        bytes
    }

    fn to_json(&self) -> serde_json::Value {
        self.serialize()
    }
}

/// Pieces longer than this (in bytes) are merged by the heap algorithm.
const LONG_PIECE: usize = 96;

/// Entries one cache shard keeps before it is emptied.
const CACHE_CAPACITY: usize = 1 << 18;

#[derive(Debug, Default)]
pub(crate) struct PieceCache {
    map: FastMap<Box<[u8]>, Box<[u32]>>,
}

/// Piece → ids caches, several so that threads encoding at once each get their own.
#[derive(Debug)]
struct EncodeCache {
    shards: Vec<Mutex<PieceCache>>,
}

impl Default for EncodeCache {
    fn default() -> Self {
        let n = std::thread::available_parallelism()
            .map_or(4, |n| n.get())
            .clamp(1, 64);
        EncodeCache {
            shards: (0..n).map(|_| Mutex::new(PieceCache::default())).collect(),
        }
    }
}

impl EncodeCache {
    /// A free shard, or `None` when every shard is busy (encoding then goes uncached).
    fn acquire(&self) -> Option<MutexGuard<'_, PieceCache>> {
        self.shards.iter().find_map(|s| match s.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpe::BpeTrainer;

    #[test]
    fn long_piece_algorithm_equals_the_short_one() {
        let text = "aaaa bbb aaab abab  ababab    \n\n   1111 2222 11 aa ab ba ".repeat(40);
        let tok = BpeTrainer {
            vocab_size: 300,
            ..BpeTrainer::default()
        }
        .train(&[&text])
        .unwrap();
        let mut seed = 7u64;
        for len in [2usize, 3, 10, 97, 500] {
            for _ in 0..50 {
                let piece: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                        b"ab 1\n"[(seed >> 33) as usize % 5]
                    })
                    .collect();
                let (mut short, mut long) = (Vec::new(), Vec::new());
                tok.bpe_piece_short(&piece, &mut short);
                tok.bpe_piece_long(&piece, &mut long);
                assert_eq!(short, long, "{:?}", String::from_utf8_lossy(&piece));
            }
        }
        let spaces = " ".repeat(1_000_000);
        assert_eq!(tok.decode(&tok.encode(&spaces)), spaces);
    }
}
