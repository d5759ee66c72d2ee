//! Stage 1: counting. Every sequence becomes `<s> w1 … wk` (wk = `</s>`); every n-gram of order
//! 1..=N inside one sequence is counted. N-grams are stored per order as sorted, distinct u64 keys
//! `(rank of the suffix (n-1)-gram << 32) | first word`: a left-extension trie level, so the n-grams
//! sharing a suffix are contiguous (what continuation counts and queries need) and every order,
//! whatever N, is sorted as plain integers.

use crate::table::prefetch;
use lmlab_core::model::TokenSequence;
use lmlab_core::{Error, Result, Specials, TokenId};
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Marks a position where no n-gram of the current order starts.
const NONE: u32 = u32::MAX;

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

/// The distinct n-grams of one order n ≥ 2 with their raw counts.
pub(crate) struct OrderCounts {
    /// Sorted distinct keys; an n-gram's rank is its index here.
    pub keys: Vec<u64>,
    /// Raw count of each n-gram (a corpus has fewer than 2^32 tokens).
    pub raw: Vec<u32>,
    /// Rank of each n-gram's context (its first n-1 words) in order n-1.
    pub context: Vec<u32>,
}

/// Raw counts of every order: unigrams indexed by token id, then one [`OrderCounts`] per order ≥ 2.
pub(crate) struct Counts {
    /// Raw unigram counts by token id (`<s>` is never counted as a unigram).
    pub unigrams: Vec<u32>,
    /// Orders 2..=N.
    pub higher: Vec<OrderCounts>,
    /// Number of tokens counted (end tokens included, `<s>` not).
    pub tokens: u64,
    /// The window of N words (most recent first, `<s>`-padded before a sequence start) that lmplz
    /// sorts last; see [`crate::stats`].
    pub last_window: Vec<TokenId>,
}

impl Counts {
    /// Frees the raw counts of orders ≥ 2 once adjusted counts and statistics are taken.
    pub(crate) fn drop_raw(&mut self) {
        for order in &mut self.higher {
            order.raw = Vec::new();
        }
    }
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
        if self.tokens.len() >= NONE as usize {
            return Err(Error::invalid(format!(
                "the corpus has more than {} tokens (with one <s> per sequence); in-memory \
                 counting holds fewer than 2^32",
                self.tokens.len()
            )));
        }
        check_sequence(&self.tokens[start..], index, self.specials, self.vocab_size)
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

/// Counts every n-gram of orders 1..=`order`.
pub(crate) fn count_ngrams(
    stream: &TokenStream,
    order: usize,
    spill: Option<&Spill>,
) -> Result<Counts> {
    if stream.sequences == 0 {
        return Err(Error::invalid(
            "the training corpus is empty: there are no sequences to count",
        ));
    }
    let (specials, vocab_size) = (stream.specials, stream.vocab_size);
    let mut unigrams = vec![0u32; vocab_size];
    for &t in &stream.tokens {
        unigrams[t as usize] += 1;
    }
    let tokens = stream.tokens.len() as u64 - u64::from(unigrams[specials.bos as usize]);
    unigrams[specials.bos as usize] = 0;

    // node[p]: rank of the (n-1)-gram starting at p, or NONE.
    let mut node: Vec<u32> = stream.tokens.clone();
    crate::phases::mark("stream");
    let mut higher = Vec::with_capacity(order.saturating_sub(1));
    for n in 2..=order {
        let (counts, next) = count_order(stream, specials.bos, &node, n, n < order, spill)?;
        higher.push(counts);
        crate::phases::mark(&format!("count order {n}"));
        node = next;
    }
    let last_window = last_window(stream, specials, vocab_size, order);
    Ok(Counts {
        unigrams,
        higher,
        tokens,
        last_window,
    })
}

/// The N-word window (most recent word first) that is last in lmplz's suffix order, where words
/// compare by lmplz's vocabulary ids: `<unk>` 0, `<s>` 1, `</s>` 2, then order of first appearance.
/// Every token position ends one window; positions before a sequence start read as `<s>`.
fn last_window(
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

/// Counts order `n` from the ranks of order n-1; returns the counts and the ranks of order n
/// (empty unless `need_ranks`). With a [`Spill`] whose sort buffer cannot hold every n-gram
/// occurrence, sorted runs go to temporary files and are merged; the result is the same.
fn count_order(
    stream: &TokenStream,
    bos: TokenId,
    lower: &[u32],
    n: usize,
    need_ranks: bool,
    spill: Option<&Spill>,
) -> Result<(OrderCounts, Vec<u32>)> {
    let len = stream.tokens.len();
    // An n-gram starts at p when the (n-1)-gram at p+1 exists inside p's sequence.
    let starts =
        |p: usize| p + 1 < len && stream.tokens[p + 1] != bos && (n == 2 || lower[p + 1] != NONE);
    let pair = |p: usize| (make_key(lower[p + 1], stream.tokens[p]), p as u32);
    let budget = spill.map_or(usize::MAX, Spill::pairs_per_run);
    // A sequential fill: a parallel filtered collect would hold two copies of the largest buffer.
    let mut pairs: Vec<(u64, u32)> = Vec::with_capacity(len.min(budget));
    let mut p = 0;
    let mut runs: Option<Runs> = None;
    loop {
        while p < len && pairs.len() < budget {
            if starts(p) {
                pairs.push(pair(p));
            }
            p += 1;
        }
        pairs.par_sort_unstable();
        if p >= len && runs.is_none() {
            // Everything fit in one buffer: no temporary files.
            let distinct = if pairs.is_empty() {
                0
            } else {
                1 + pairs.windows(2).filter(|w| w[0].0 != w[1].0).count()
            };
            let positions = pairs
                .get(PREFETCH_AHEAD..)
                .unwrap_or(&[])
                .iter()
                .map(|x| x.1);
            return collect_sorted(
                pairs.iter().copied().map(Ok),
                positions,
                distinct,
                lower,
                n,
                need_ranks,
            );
        }
        let spill = spill.expect("only a spill configuration limits the sort buffer");
        if runs.is_none() {
            runs = Some(Runs::new(&spill.dir)?);
        }
        runs.as_mut().expect("just created").write(&pairs)?;
        pairs.clear();
        if p >= len {
            break;
        }
    }
    drop(pairs);
    let runs = runs.expect("at least one run was written");
    let merged = runs.merge()?;
    collect_sorted(merged, std::iter::empty(), 0, lower, n, need_ranks)
}

/// How many occurrences ahead the in-memory count prefetches the positions it will touch.
const PREFETCH_AHEAD: usize = 16;

/// Builds one order's counts (and its ranks by position) from its n-gram occurrences in sorted
/// order; `capacity` is the number of distinct n-grams when known (0 otherwise). `ahead` yields
/// the positions of the occurrences [`PREFETCH_AHEAD`] places later, when known: their random
/// reads and writes are prefetched (no effect on results).
fn collect_sorted(
    pairs: impl Iterator<Item = Result<(u64, u32)>>,
    mut ahead: impl Iterator<Item = u32>,
    capacity: usize,
    lower: &[u32],
    n: usize,
    need_ranks: bool,
) -> Result<(OrderCounts, Vec<u32>)> {
    let mut keys = Vec::with_capacity(capacity);
    let mut raw = Vec::with_capacity(capacity);
    let mut context = Vec::with_capacity(capacity);
    // The ranks of this order are only needed to count the next one.
    let mut node = if need_ranks {
        vec![NONE; lower.len()]
    } else {
        Vec::new()
    };
    for item in pairs {
        if let Some(q) = ahead.next() {
            prefetch(&lower[q as usize]);
            if need_ranks {
                prefetch(&node[q as usize]);
            }
        }
        let (key, p) = item?;
        if keys.last() != Some(&key) {
            if keys.len() >= NONE as usize {
                return Err(Error::invalid(format!(
                    "more than 2^32 distinct {n}-grams: too many for one model"
                )));
            }
            keys.push(key);
            raw.push(0);
            context.push(lower[p as usize]);
        }
        let rank = keys.len() - 1;
        raw[rank] += 1;
        if need_ranks {
            node[p as usize] = rank as u32;
        }
    }
    Ok((OrderCounts { keys, raw, context }, node))
}

/// Bounded counting memory: the sort buffer holds at most `memory` bytes of n-gram occurrences;
/// beyond that, sorted runs are written under `dir` and merged.
#[derive(Clone, Debug)]
pub(crate) struct Spill {
    /// Bytes of the sort buffer.
    pub memory: u64,
    /// Where the temporary directory of sorted runs is created.
    pub dir: PathBuf,
}

impl Spill {
    /// Occurrences (16 bytes each in memory) per sorted run; at least a small floor.
    fn pairs_per_run(&self) -> usize {
        let pairs = self.memory / std::mem::size_of::<(u64, u32)>() as u64;
        usize::try_from(pairs).unwrap_or(usize::MAX).max(MIN_RUN)
    }
}

/// The smallest sorted run, whatever the memory setting (keeps the number of open runs sane).
const MIN_RUN: usize = 1024;
/// Bytes of one occurrence in a run file: the key, then the position.
const RECORD: usize = 12;
/// Buffer of each run's reader and of the writer.
const RUN_BUFFER: usize = 1 << 16;

/// Sorted runs of (key, position) records in files of a private temporary directory (removed
/// with it).
struct Runs {
    dir: tempfile::TempDir,
    files: Vec<File>,
}

impl Runs {
    fn new(parent: &Path) -> Result<Runs> {
        let dir = tempfile::Builder::new()
            .prefix("lmlab-ngram-")
            .tempdir_in(parent)
            .map_err(|e| temp_error(parent, "cannot create a directory for sorted runs", &e))?;
        Ok(Runs {
            dir,
            files: Vec::new(),
        })
    }

    /// Writes one sorted run.
    fn write(&mut self, pairs: &[(u64, u32)]) -> Result<()> {
        let dir = self.dir.path();
        let fail = |e: std::io::Error| temp_error(dir, "cannot write a sorted run", &e);
        let file = tempfile::tempfile_in(dir).map_err(fail)?;
        let mut w = BufWriter::with_capacity(RUN_BUFFER, file);
        for &(key, p) in pairs {
            w.write_all(&key.to_le_bytes()).map_err(fail)?;
            w.write_all(&p.to_le_bytes()).map_err(fail)?;
        }
        let mut file = w.into_inner().map_err(|e| fail(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(fail)?;
        self.files.push(file);
        Ok(())
    }

    /// A k-way merge of the runs, in (key, position) order like the in-memory sort.
    fn merge(self) -> Result<Merge> {
        let mut readers: Vec<BufReader<File>> = self
            .files
            .into_iter()
            .map(|f| BufReader::with_capacity(RUN_BUFFER, f))
            .collect();
        let mut heap = BinaryHeap::with_capacity(readers.len());
        let dir = self.dir;
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some((key, p)) = read_record(r).map_err(|e| read_error(dir.path(), &e))? {
                heap.push(Reverse((key, p, i)));
            }
        }
        Ok(Merge { dir, readers, heap })
    }
}

/// The merged runs as an iterator of occurrences.
struct Merge {
    dir: tempfile::TempDir,
    readers: Vec<BufReader<File>>,
    heap: BinaryHeap<Reverse<(u64, u32, usize)>>,
}

impl Iterator for Merge {
    type Item = Result<(u64, u32)>;

    fn next(&mut self) -> Option<Self::Item> {
        let Reverse((key, p, i)) = self.heap.pop()?;
        match read_record(&mut self.readers[i]) {
            Ok(Some((k, q))) => self.heap.push(Reverse((k, q, i))),
            Ok(None) => {}
            Err(e) => return Some(Err(read_error(self.dir.path(), &e))),
        }
        Some(Ok((key, p)))
    }
}

fn read_record(r: &mut impl Read) -> std::io::Result<Option<(u64, u32)>> {
    let mut buf = [0u8; RECORD];
    match r.read_exact(&mut buf) {
        Ok(()) => Ok(Some((
            u64::from_le_bytes(buf[..8].try_into().expect("8 bytes")),
            u32::from_le_bytes(buf[8..].try_into().expect("4 bytes")),
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

fn temp_error(dir: &Path, what: &str, e: &std::io::Error) -> Error {
    Error::invalid(format!(
        "temporary directory {}: {what} ({e}); counting beyond --memory needs a writable \
         directory with free space: free some or choose another with --temp",
        dir.display()
    ))
}

fn read_error(dir: &Path, e: &std::io::Error) -> Error {
    Error::invalid(format!(
        "temporary directory {}: cannot read back a sorted run ({e})",
        dir.display()
    ))
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
            None,
        )
    }

    #[test]
    fn counts_every_order_inside_sequences() {
        // <s> 3 4 </s> ; <s> 3 </s>
        let counts = count(&[seq(&[3, 4, 2]), seq(&[3, 2])], 3).unwrap();
        assert_eq!(counts.unigrams, vec![0, 0, 2, 2, 1]);
        assert_eq!(counts.tokens, 5);
        // bigrams: <s>3 x2, 3 4, 4 </s>, 3 </s>
        assert_eq!(counts.higher[0].keys.len(), 4);
        assert_eq!(counts.higher[0].raw.iter().sum::<u32>(), 5);
        // trigrams: <s> 3 4, 3 4 </s>, <s> 3 </s>
        assert_eq!(counts.higher[1].keys.len(), 3);
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
