//! Stage 1: counting (with stage 2, adjusted counts, and the discount statistics, which come out
//! of the same pass). Every sequence becomes `<s> w1 … wk` (wk = `</s>`); every n-gram of order
//! 1..=N inside one sequence is counted. N-grams are stored per order as sorted, distinct u64 keys
//! `(rank of the suffix (n-1)-gram << 32) | first word`: a left-extension trie level, so the n-grams
//! sharing a suffix are contiguous (what continuation counts and queries need) and every order,
//! whatever N, is sorted as plain integers.
//!
//! Order n is counted from the positions where n-grams start, in buckets by the rank of the
//! (n-1)-gram that follows them; each bucket is sorted by first word. So a bucket's distinct first
//! words are its suffix's left extensions, whose number is the suffix's adjusted count, and the
//! sorted buckets hold the n-grams' occurrences rank after rank. Shifted back by one position,
//! those runs are the buckets of order n+1 (a sequential pass); only the bigrams' buckets come
//! from a counting sort by the next token. The context of an n-gram (its first n-1 words) is read
//! from the ranks of order n-1 by position, overwritten in place order by order. Memory: the
//! token stream, the ranks by position and the bucketed positions, 12 bytes per token; each
//! finished order goes to a [`Stored`] array (a temporary file when memory is bounded).

use crate::adjust::adjust_from_extensions;
use crate::discount::{counts_of_counts, CountsOfCounts};
use crate::spill::{Column, SpillDir, Stored};
use crate::stats::WindowChain;
use lmlab_core::cache::prefetch;
use lmlab_core::model::TokenSequence;
use lmlab_core::{Error, Result, Specials, TokenId};
use std::path::PathBuf;

/// Positions and ranks are u32 below this bound (u32::MAX is kept free as a marker, e.g. for
/// pruned n-grams' ids).
const LIMIT: u32 = u32::MAX;

/// Builds an n-gram key from the rank of its suffix and its first word.
pub(crate) fn make_key(suffix_rank: u32, first: TokenId) -> u64 {
    ((suffix_rank as u64) << 32) | first as u64
}

/// The rank of a key's suffix (n-1)-gram.
pub(crate) fn key_suffix(key: u64) -> u32 {
    (key >> 32) as u32
}

/// The first word of a key's n-gram.
pub(crate) fn key_first(key: u64) -> TokenId {
    key as u32
}

/// The training corpus as one array of token ids: `<s>` then the ids of each sequence (its end
/// token last). Built sequence by sequence, each one checked, so a corpus can be encoded straight
/// into it without a list of per-sequence vectors.
pub struct TokenStream {
    tokens: Vec<TokenId>,
    specials: Specials,
    vocab_size: usize,
    sequences: usize,
}

impl TokenStream {
    /// An empty stream over a vocabulary of `vocab_size` ids with these special tokens.
    pub fn new(specials: Specials, vocab_size: usize) -> TokenStream {
        TokenStream {
            tokens: Vec::new(),
            specials,
            vocab_size,
            sequences: 0,
        }
    }

    /// The stream of `sequences` (each ending with the end token, none holding `<s>`).
    pub fn from_sequences(
        sequences: &[TokenSequence],
        specials: Specials,
        vocab_size: usize,
    ) -> Result<TokenStream> {
        let mut stream = TokenStream::new(specials, vocab_size);
        stream
            .tokens
            .reserve(sequences.iter().map(|s| s.ids.len() + 1).sum());
        for seq in sequences {
            stream.push_sequence(&seq.ids)?;
        }
        Ok(stream)
    }

    /// Appends one sequence's ids (ending with the end token).
    pub fn push_sequence(&mut self, ids: &[TokenId]) -> Result<()> {
        self.push_sequence_with(|out| out.extend_from_slice(ids))
    }

    /// Appends one sequence whose ids `fill` appends to the vector it is given (an encoder writing
    /// in place); the new ids are then checked: they end with the end token, hold no `<s>` and lie
    /// inside the vocabulary.
    pub fn push_sequence_with(&mut self, fill: impl FnOnce(&mut Vec<TokenId>)) -> Result<()> {
        let index = self.sequences;
        self.tokens.push(self.specials.bos);
        let start = self.tokens.len();
        fill(&mut self.tokens);
        self.sequences += 1;
        if self.tokens.len() >= LIMIT as usize {
            return Err(Error::invalid(format!(
                "the corpus has more than {} tokens (with one <s> per sequence); in-memory \
                 counting holds fewer than 2^32",
                self.tokens.len()
            )));
        }
        check_sequence(&self.tokens[start..], index, self.specials, self.vocab_size)
    }

    /// The ids: `<s>` then each sequence's ids.
    pub(crate) fn ids(&self) -> &[TokenId] {
        &self.tokens
    }

    /// Number of positions (`<s>` included).
    pub(crate) fn positions(&self) -> usize {
        self.tokens.len()
    }

    /// Number of sequences.
    pub fn sequences(&self) -> usize {
        self.sequences
    }

    /// Number of ids, end tokens included and `<s>` not (the tokens a model is trained on).
    pub fn tokens_seen(&self) -> u64 {
        (self.tokens.len() - self.sequences) as u64
    }

    /// The specials the stream was built with.
    pub(crate) fn specials(&self) -> Specials {
        self.specials
    }

    /// The vocabulary size the stream was checked against.
    pub(crate) fn vocab_size(&self) -> usize {
        self.vocab_size
    }
}

/// Checks the ids of sequence `index`: the end token last, no `<s>`, every id in the vocabulary.
fn check_sequence(
    ids: &[TokenId],
    index: usize,
    specials: Specials,
    vocab_size: usize,
) -> Result<()> {
    if ids.last() != Some(&specials.eos) {
        return Err(Error::invalid(format!(
            "sequence {} (line {} in line mode) does not end with the end token </s>",
            index,
            index + 1
        )));
    }
    if let Some(pos) = ids.iter().position(|&id| id == specials.bos) {
        return Err(Error::invalid(format!(
            "sequence {} (line {} in line mode) contains the start token <s> at token {}; \
             <s> is context only",
            index,
            index + 1,
            pos + 1
        )));
    }
    if let Some(&id) = ids.iter().find(|&&id| id as usize >= vocab_size) {
        return Err(Error::invalid(format!(
            "sequence {index} contains token id {id}, outside the vocabulary of {vocab_size}"
        )));
    }
    Ok(())
}

/// One order n ≥ 2 in rank space, as the later stages read it.
pub(crate) struct OrderCounts {
    /// Sorted distinct keys; an n-gram's rank is its index here.
    pub keys: Stored<u64>,
    /// Rank of each n-gram's context (its first n-1 words) in order n-1.
    pub context: Stored<u32>,
    /// Adjusted count of each n-gram (raw counts at the top order).
    pub adjusted: Stored<u32>,
    /// Which n-grams are pruned (empty when none of this order can be).
    pub pruned: Vec<bool>,
}

impl OrderCounts {
    /// Number of n-grams.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Everything estimation needs from the corpus.
pub(crate) struct Counts {
    /// Adjusted unigram counts by token id (`<s>` has 0).
    pub unigrams: Vec<u32>,
    /// Orders 2..=N.
    pub higher: Vec<OrderCounts>,
    /// Number of tokens counted (end tokens included, `<s>` not).
    pub tokens: u64,
    /// Counts-of-counts of every order (index n-1), as lmplz collects them ([`crate::stats`]).
    pub stats: Vec<CountsOfCounts>,
}

/// Counts every n-gram of orders 1..=`order`, with adjusted counts, lmplz's counts-of-counts and
/// pruned flags (an n-gram of order n is pruned when its raw count is at most `thresholds[n-1]`).
/// With `dir`, finished orders go to temporary files there.
pub(crate) fn count_ngrams(
    stream: &TokenStream,
    order: usize,
    thresholds: &[u64],
    dir: Option<&SpillDir>,
) -> Result<Counts> {
    if stream.sequences == 0 {
        return Err(Error::invalid(
            "the training corpus is empty: there are no sequences to count",
        ));
    }
    let (specials, vocab_size) = (stream.specials, stream.vocab_size);
    let tokens = &stream.tokens;
    let mut unigrams = vec![0u32; vocab_size];
    for &t in tokens {
        unigrams[t as usize] += 1;
    }
    unigrams[specials.bos as usize] = 0;
    let window = last_window(stream, specials, vocab_size, order);
    let mut chain = WindowChain::start(window, specials.bos, &unigrams);
    let mut lower = Some(Lower {
        counts: unigrams,
        bos_first: BitSet::with_bit(vocab_size, specials.bos as usize),
        pending: None,
    });
    let mut counts = Counts {
        unigrams: Vec::new(),
        higher: Vec::with_capacity(order.saturating_sub(1)),
        tokens: stream.tokens_seen(),
        stats: Vec::with_capacity(order),
    };
    // node[p]: rank of the n-gram of the last order counted that starts at p (only read where an
    // n-gram of the order being counted starts, which has been written then).
    let mut node: Vec<u32> = Vec::new();
    // The starts of order n's n-grams, in buckets by suffix rank, in the order of the buckets.
    let mut positions: Vec<u32> = Vec::new();
    for n in 2..=order {
        let top = n == order;
        let below = lower
            .as_mut()
            .expect("every order but the top one becomes the lower");
        if n == 2 {
            bucket_by_next_token(tokens, specials.bos, below, &mut positions);
            if !top {
                node = vec![0; tokens.len()];
            }
        } else {
            shift_runs(below, &mut positions);
        }
        let threshold = thresholds[n - 1];
        let mut out = OrderWriter::new(dir, top, threshold, specials.bos, chain.target(n))?;
        let walk = Walk {
            tokens,
            context_from_node: n > 2,
            write_ranks: !top,
        };
        walk.run(below, &mut positions, &mut node, &mut out)?;
        let (emitted, found) = out.finish()?;
        let below = lower.take().expect("taken above");
        let (t, done) = below.finish(Some(&chain), dir)?;
        counts.keep(t, done);
        match emitted {
            Emitted::Lower(next) => lower = Some(next),
            Emitted::Top(t, order) => counts.keep(t, Finished::Order(order)),
        }
        chain.advance(found);
        crate::phases::mark(&format!("count order {n}"));
    }
    drop(positions);
    drop(node);
    if let Some(unigrams) = lower {
        // A unigram model: the unigrams are the top order.
        let (t, done) = unigrams.finish(None, dir)?;
        counts.keep(t, done);
    }
    Ok(counts)
}

impl Counts {
    /// Takes a finished order with its counts-of-counts (orders arrive lowest first).
    fn keep(&mut self, t: CountsOfCounts, done: Finished) {
        self.stats.push(t);
        match done {
            Finished::Unigrams(u) => self.unigrams = u,
            Finished::Order(o) => self.higher.push(o),
        }
    }
}

/// A set of bits by index.
struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    fn new() -> BitSet {
        BitSet { words: Vec::new() }
    }

    /// `len` bits, only `bit` set.
    fn with_bit(len: usize, bit: usize) -> BitSet {
        let mut set = BitSet {
            words: vec![0; len.div_ceil(64)],
        };
        set.words[bit / 64] |= 1 << (bit % 64);
        set
    }

    /// Sets bit `i`, growing the set as needed.
    fn set(&mut self, i: usize) {
        if i / 64 >= self.words.len() {
            self.words.resize(i / 64 + 1, 0);
        }
        self.words[i / 64] |= 1 << (i % 64);
    }

    fn get(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| (w >> (i % 64)) & 1 == 1)
    }
}

/// The order below the one being counted.
struct Lower {
    /// Raw counts by rank; each becomes its adjusted count while the order above is counted.
    counts: Vec<u32>,
    /// Which n-grams start with `<s>` (they have no left extension).
    bos_first: BitSet,
    /// Keys, contexts and pruned flags of an order ≥ 2 (none for unigrams).
    pending: Option<(Stored<u64>, Stored<u32>, Vec<bool>)>,
}

/// A finished order.
enum Finished {
    Unigrams(Vec<u32>),
    Order(OrderCounts),
}

impl Lower {
    /// The order's counts-of-counts (corrected lmplz's way along `chain`, below the top order)
    /// and its finished arrays.
    fn finish(
        self,
        chain: Option<&WindowChain>,
        dir: Option<&SpillDir>,
    ) -> Result<(CountsOfCounts, Finished)> {
        let mut t = counts_of_counts(&self.counts);
        if let Some(chain) = chain {
            chain.correct(&mut t, &self.counts);
        }
        let done = match self.pending {
            None => Finished::Unigrams(self.counts),
            Some((keys, context, pruned)) => Finished::Order(OrderCounts {
                keys,
                context,
                adjusted: Stored::new(self.counts, dir)?,
                pruned,
            }),
        };
        Ok((t, done))
    }
}

/// The bigram starts bucketed by the token after them (the bucket sizes are the raw unigram
/// counts), in position order within a bucket.
fn bucket_by_next_token(
    tokens: &[TokenId],
    bos: TokenId,
    unigrams: &Lower,
    positions: &mut Vec<u32>,
) {
    // Every token but `<s>` follows one bigram start.
    let mut cursor = Vec::with_capacity(unigrams.counts.len());
    let mut total = 0u32;
    for (w, &c) in unigrams.counts.iter().enumerate() {
        cursor.push(total);
        if !unigrams.bos_first.get(w) {
            total += c;
        }
    }
    positions.clear();
    positions.resize(total as usize, 0);
    for (p, &next) in tokens.iter().enumerate().skip(1) {
        if next != bos {
            let at = &mut cursor[next as usize];
            positions[*at as usize] = (p - 1) as u32;
            *at += 1;
        }
    }
}

/// Turns the occurrences of order n-1 (`positions` after counting it: the starts of each
/// (n-1)-gram, rank after rank) into the buckets of order n: the n-gram starting one position
/// earlier has that (n-1)-gram as suffix, so each rank's run, shifted back by one, is its bucket.
/// The runs of (n-1)-grams that start with `<s>` (no word before them) are dropped. Sequential:
/// no scatter.
fn shift_runs(lower: &Lower, positions: &mut Vec<u32>) {
    let (mut read, mut write) = (0usize, 0usize);
    for (s, &c) in lower.counts.iter().enumerate() {
        let c = c as usize;
        if !lower.bos_first.get(s) {
            for i in read..read + c {
                positions[write] = positions[i] - 1;
                write += 1;
            }
        }
        read += c;
    }
    debug_assert_eq!(read, positions.len());
    positions.truncate(write);
    // Each order has fewer occurrences (one fewer per sequence): give the tail back.
    positions.shrink_to_fit();
}

/// How many positions ahead counting prefetches what it will read and write.
const PREFETCH_AHEAD: usize = 16;

/// The walk over the buckets of one order: sorts each bucket by first word (leaving it sorted in
/// `positions`, so that the runs of equal n-grams follow in rank order) and emits its distinct
/// n-grams.
struct Walk<'a> {
    tokens: &'a [TokenId],
    /// The context rank is `node[p]` (order n-1's rank at p); for bigrams it is the token.
    context_from_node: bool,
    /// Store each n-gram's rank at its positions in `node` (not needed at the top order).
    write_ranks: bool,
}

impl Walk<'_> {
    /// Emits every n-gram in key order into `out`, turning the `lower` counts into adjusted
    /// counts. Bucket s (suffix rank s) holds as many positions as the (n-1)-gram s occurs
    /// without `<s>` first: its raw count, or none.
    fn run(
        &self,
        lower: &mut Lower,
        positions: &mut [u32],
        node: &mut [u32],
        out: &mut OrderWriter,
    ) -> Result<()> {
        let mut bucket: Vec<u64> = Vec::new();
        let mut start = 0usize;
        for s in 0..lower.counts.len() {
            if lower.bos_first.get(s) || lower.counts[s] == 0 {
                continue;
            }
            let end = start + lower.counts[s] as usize;
            self.gather(start, end, positions, node, &mut bucket);
            for (slot, &x) in positions[start..end].iter_mut().zip(&bucket) {
                *slot = x as u32;
            }
            let extensions = self.emit_bucket(s as u32, &bucket, node, out)?;
            adjust_from_extensions(&mut lower.counts[s], extensions);
            start = end;
        }
        debug_assert_eq!(start, positions.len());
        Ok(())
    }

    /// The bucket's occurrences as `(first word << 32) | position`, sorted.
    fn gather(
        &self,
        start: usize,
        end: usize,
        positions: &[u32],
        node: &[u32],
        bucket: &mut Vec<u64>,
    ) {
        bucket.clear();
        for i in start..end {
            if let Some(&ahead) = positions.get(i + PREFETCH_AHEAD) {
                prefetch(&self.tokens[ahead as usize]);
                if self.context_from_node || self.write_ranks {
                    prefetch(&node[ahead as usize]);
                }
            }
            let p = positions[i];
            bucket.push((u64::from(self.tokens[p as usize]) << 32) | u64::from(p));
        }
        if bucket.len() > 1 {
            bucket.sort_unstable();
        }
    }

    /// Emits the distinct n-grams of one sorted bucket (suffix rank `s`); returns how many.
    fn emit_bucket(
        &self,
        s: u32,
        bucket: &[u64],
        node: &mut [u32],
        out: &mut OrderWriter,
    ) -> Result<u32> {
        let mut distinct = 0;
        for run in bucket.chunk_by(|a, b| a >> 32 == b >> 32) {
            let word = (run[0] >> 32) as TokenId;
            let context = if self.context_from_node {
                node[run[0] as u32 as usize]
            } else {
                word
            };
            let rank = out.emit(make_key(s, word), run.len() as u32, context)?;
            if self.write_ranks {
                for &x in run {
                    node[x as u32 as usize] = rank;
                }
            }
            distinct += 1;
        }
        Ok(distinct)
    }
}

/// Gathers the distinct n-grams of one order as they are emitted in key order.
struct OrderWriter {
    keys: Column<u64>,
    context: Column<u32>,
    /// Raw counts: in memory below the top order (they become the next order's lower counts),
    /// with the other columns at the top (they are its adjusted counts).
    raw: Column<u32>,
    /// At the top order, the counts-of-counts of the raw counts.
    top: Option<CountsOfCounts>,
    len: usize,
    bos_first: BitSet,
    pruned: Vec<bool>,
    threshold: u64,
    bos: TokenId,
    /// The key of the last-window chain at this order, and its rank and raw count once seen.
    target: Option<u64>,
    found: Option<(u32, u32)>,
}

/// A counted order: the lower order of the next, or the finished top order with its
/// counts-of-counts.
enum Emitted {
    Lower(Lower),
    Top(CountsOfCounts, OrderCounts),
}

impl OrderWriter {
    fn new(
        dir: Option<&SpillDir>,
        top: bool,
        threshold: u64,
        bos: TokenId,
        target: Option<u64>,
    ) -> Result<OrderWriter> {
        Ok(OrderWriter {
            keys: Column::new(dir)?,
            context: Column::new(dir)?,
            raw: Column::new(if top { dir } else { None })?,
            top: top.then_some([0; 5]),
            len: 0,
            bos_first: BitSet::new(),
            pruned: Vec::new(),
            threshold,
            bos,
            target,
            found: None,
        })
    }

    /// Appends one n-gram; returns its rank.
    #[inline]
    fn emit(&mut self, key: u64, raw: u32, context: u32) -> Result<u32> {
        if self.len >= LIMIT as usize {
            return Err(Error::invalid(
                "more than 2^32 distinct n-grams of one order: too many for one model",
            ));
        }
        let rank = self.len as u32;
        self.len += 1;
        self.keys.push(key)?;
        self.context.push(context)?;
        self.raw.push(raw)?;
        if let Some(t) = &mut self.top {
            if (1..5).contains(&raw) {
                t[raw as usize] += 1;
            }
        }
        if key_first(key) == self.bos {
            self.bos_first.set(rank as usize);
        }
        if self.threshold > 0 {
            self.pruned.push(u64::from(raw) <= self.threshold);
        }
        if self.target == Some(key) {
            self.found = Some((rank, raw));
        }
        Ok(rank)
    }

    /// The counted order, and the chain's link at this order.
    fn finish(self) -> Result<(Emitted, Option<(u32, u32)>)> {
        let (keys, context, raw) = (
            self.keys.finish()?,
            self.context.finish()?,
            self.raw.finish()?,
        );
        let emitted = match self.top {
            Some(t) => Emitted::Top(
                t,
                OrderCounts {
                    keys,
                    context,
                    adjusted: raw,
                    pruned: self.pruned,
                },
            ),
            None => Emitted::Lower(Lower {
                counts: raw.into_vec()?,
                bos_first: self.bos_first,
                pending: Some((keys, context, self.pruned)),
            }),
        };
        Ok((emitted, self.found))
    }
}

/// Bounded counting memory: with a memory setting too small for the counts of every order next to
/// the counting arrays, each finished order goes to temporary files under `dir`.
#[derive(Clone, Debug)]
pub(crate) struct Spill {
    /// Bytes of memory allowed (KenLM's `-S`).
    pub memory: u64,
    /// Where the temporary directory is created.
    pub dir: PathBuf,
}

/// Bytes per token position while counting: the token, the rank by position, the bucketed
/// position.
const COUNTING_BYTES_PER_TOKEN: u64 = 12;

/// Bytes per n-gram of a finished order: key, context, adjusted count.
const BYTES_PER_NGRAM: u64 = 16;

impl Spill {
    /// True when the finished orders must leave memory: the counting arrays plus the counts of
    /// every order ≥ 2 at their largest (one distinct n-gram per position and order) could exceed
    /// the memory setting.
    pub fn needed(&self, positions: usize, order: usize) -> bool {
        let per_position = COUNTING_BYTES_PER_TOKEN
            .saturating_add(BYTES_PER_NGRAM.saturating_mul(order.saturating_sub(1) as u64));
        (positions as u64).saturating_mul(per_position) > self.memory
    }
}

/// The N-word window (most recent word first) that is last in lmplz's suffix order, where words
/// compare by lmplz's vocabulary ids: `<unk>` 0, `<s>` 1, `</s>` 2, then order of first appearance.
/// Every token position ends one window; positions before a sequence start read as `<s>`.
pub(crate) fn last_window(
    stream: &TokenStream,
    specials: Specials,
    vocab_size: usize,
    order: usize,
) -> Vec<TokenId> {
    const UNSEEN: u32 = u32::MAX;
    let mut lmplz_id = vec![UNSEEN; vocab_size];
    if let Some(unk) = specials.unk {
        lmplz_id[unk as usize] = 0;
    }
    lmplz_id[specials.bos as usize] = 1;
    lmplz_id[specials.eos as usize] = 2;
    let mut next = 3;
    for &t in &stream.tokens {
        if lmplz_id[t as usize] == UNSEEN {
            lmplz_id[t as usize] = next;
            next += 1;
        }
    }
    let word_at = |p: usize, back: usize| -> TokenId {
        // Walk back `back` words from p without leaving p's sequence (its `<s>` repeats).
        let mut q = p;
        for _ in 0..back {
            if stream.tokens[q] == specials.bos {
                return specials.bos;
            }
            q -= 1;
        }
        stream.tokens[q]
    };
    // The last word first: every token but `<s>`, keeping only the positions of the best word.
    let best_last = stream
        .tokens
        .iter()
        .filter(|&&t| t != specials.bos)
        .map(|&t| lmplz_id[t as usize])
        .max()
        .expect("every sequence has an end token");
    let mut candidates: Vec<usize> = (0..stream.tokens.len())
        .filter(|&p| {
            stream.tokens[p] != specials.bos && lmplz_id[stream.tokens[p] as usize] == best_last
        })
        .collect();
    let mut window = Vec::with_capacity(order);
    for back in 0..order {
        let best = candidates
            .iter()
            .map(|&p| lmplz_id[word_at(p, back) as usize])
            .max()
            .expect("a non-empty corpus has tokens");
        candidates.retain(|&p| lmplz_id[word_at(p, back) as usize] == best);
        window.push(word_at(candidates[0], back));
    }
    window
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(ids: &[u32]) -> TokenSequence {
        TokenSequence {
            ids: ids.to_vec(),
            ..TokenSequence::default()
        }
    }

    const SPECIALS: Specials = Specials {
        bos: 1,
        eos: 2,
        unk: Some(0),
    };

    fn count(sequences: &[TokenSequence], order: usize) -> Result<Counts> {
        count_ngrams(
            &TokenStream::from_sequences(sequences, SPECIALS, 5)?,
            order,
            &vec![0; order],
            None,
        )
    }

    #[test]
    fn counts_every_order_inside_sequences() {
        // <s> 3 4 </s> ; <s> 3 </s>
        let counts = count(&[seq(&[3, 4, 2]), seq(&[3, 2])], 3).unwrap();
        // Adjusted unigrams: </s> follows 4 and 3, 3 follows <s>, 4 follows 3.
        assert_eq!(counts.unigrams, vec![0, 0, 2, 1, 1]);
        assert_eq!(counts.tokens, 5);
        // Bigrams in key order: 3 </s>, 4 </s>, <s> 3 (x2, keeps its raw count), 3 4.
        let bigrams = &counts.higher[0];
        let keys = [
            make_key(2, 3),
            make_key(2, 4),
            make_key(3, 1),
            make_key(4, 3),
        ];
        assert_eq!(*bigrams.keys.read().unwrap(), keys);
        assert_eq!(*bigrams.adjusted.read().unwrap(), [1, 1, 2, 1]);
        // Contexts are unigram ids: 3, 4, <s>, 3.
        assert_eq!(*bigrams.context.read().unwrap(), [3, 4, 1, 3]);
        // Trigrams: <s> 3 4, 3 4 </s>, <s> 3 </s>, with raw counts at the top order.
        assert_eq!(counts.higher[1].len(), 3);
        assert_eq!(*counts.higher[1].adjusted.read().unwrap(), [1, 1, 1]);
    }

    #[test]
    fn bad_sequences_are_named() {
        let err = count(&[], 2).err().unwrap().to_string();
        assert!(err.contains("empty"), "{err}");
        let err = count(&[seq(&[3, 2]), seq(&[3, 1, 2])], 2)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("line 2") && err.contains("<s>"), "{err}");
        let err = count(&[seq(&[3])], 2).err().unwrap().to_string();
        assert!(err.contains("does not end"), "{err}");
    }
}
