//! Queries in backoff form, KenLM's way: find the longest stored n-gram ending in the word, add the
//! backoffs of the longer contexts. The [`State`] carries the matched context (most recent word
//! first) and its backoffs, so each token costs at most N−1 lookups; those lookups are sequential
//! (each key holds the id the previous one found), so their cache misses add up.
//!
//! [`sequence_log10_probs`] gives the same numbers, bit for bit, for a whole sequence at once. It
//! makes the same lookups as a [`State`], order by order over a block of positions: whether a
//! position looks up its (j+1)-gram depends only on lookups of order j (its own j-gram was found,
//! and the previous position matched at least j words, so the context a [`State`] keeps has the
//! word), so the lookups of one order are independent of each other: their home slots (and the
//! cache line after) are prefetched and their cache misses overlap. Each order's pass goes over the
//! list of positions still matching rather than testing every position, so that its branches do
//! not depend on which positions matched (they cannot be predicted; on PTB the list cut the
//! scoring's CPU by a tenth).

use crate::model::{NgramModel, LN_10};
use crate::options::MAX_ORDER;
use crate::table::OrderTable;
use lmlab_core::{Stepper, TokenId};
use std::cell::RefCell;

/// The context of the next token: the longest stored suffix of what came before, truncated to
/// N−1 words, with the log10 backoff of each of its suffixes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    /// Context words, most recent first.
    pub words: Vec<TokenId>,
    /// `backoffs[j]`: log10 backoff of the n-gram `words[j], …, words[0]`.
    pub backoffs: Vec<f32>,
}

impl State {
    /// The state after `<s>`.
    pub fn start(model: &NgramModel) -> State {
        let mut state = State::default();
        state.reset(model);
        state
    }

    /// Back to the state after `<s>`.
    pub fn reset(&mut self, model: &NgramModel) {
        self.words.clear();
        self.backoffs.clear();
        if let Some((bos, backoff)) = start_context(model) {
            self.words.push(bos);
            self.backoffs.push(backoff);
        }
    }

    /// log10 p(word | state) and the number of context words matched.
    #[inline]
    pub fn log10_prob(&self, model: &NgramModel, word: TokenId) -> (f32, usize) {
        let word = clamp_word(model, word);
        let mut rank = word;
        let mut prob = model.tables[0].prob(word);
        let mut matched = 0;
        for (j, &w) in self.words.iter().take(model.order() - 1).enumerate() {
            match model.tables[j + 1].find(rank, w) {
                Some(r) => {
                    rank = r;
                    prob = model.tables[j + 1].prob(r);
                    matched = j + 1;
                }
                None => break,
            }
        }
        (backed_off(prob, &self.backoffs, matched), matched)
    }

    /// Scores `word` (log10) and moves the state past it. Allocation-free.
    #[inline]
    pub fn advance(&mut self, model: &NgramModel, word: TokenId) -> f32 {
        self.advance_matched(model, word).0
    }

    /// [`State::advance`], also telling how many context words the n-gram used matched (KenLM's
    /// `ngram_length` − 1).
    pub fn advance_matched(&mut self, model: &NgramModel, word: TokenId) -> (f32, usize) {
        let word = clamp_word(model, word);
        let tables = &model.tables;
        let mut bows = [0f32; MAX_ORDER];
        let mut rank = word;
        let mut prob = tables[0].prob(word);
        let mut matched = 0;
        bows[0] = tables[0].bow(word);
        for (j, &w) in self.words.iter().take(model.order() - 1).enumerate() {
            match tables[j + 1].find(rank, w) {
                Some(r) => {
                    rank = r;
                    prob = tables[j + 1].prob(r);
                    matched = j + 1;
                    bows[j + 1] = tables[j + 1].bow(r);
                }
                None => break,
            }
        }
        let log10 = backed_off(prob, &self.backoffs, matched);
        let keep = context_len(matched, model.order());
        self.words.truncate(keep.saturating_sub(1));
        if keep > 0 {
            self.words.insert(0, word);
        }
        self.backoffs.clear();
        self.backoffs.extend_from_slice(&bows[..keep]);
        (log10, matched)
    }
}

/// The context every sequence starts with: `<s>` and its log10 backoff; none for a unigram model.
fn start_context(model: &NgramModel) -> Option<(TokenId, f32)> {
    let bos = model.tokenizer.specials().bos;
    (model.order() > 1).then(|| (bos, model.tables[0].bow(bos)))
}

/// log10 p of a token whose longest stored n-gram has `matched` context words and log10
/// probability `prob`: plus the backoffs of the longer contexts (`backoffs[j]` is the backoff of
/// the context's last j+1 words), added to `prob` one at a time, shortest context first, as
/// KenLM adds them, so single-precision results are KenLM's bit for bit.
#[inline]
fn backed_off(prob: f32, backoffs: &[f32], matched: usize) -> f32 {
    backoffs
        .get(matched..)
        .unwrap_or(&[])
        .iter()
        .fold(prob, |total, backoff| total + backoff)
}

/// How many words the context keeps after a token matched with `matched` context words: the
/// matched n-gram, at most N−1 words.
#[inline]
fn context_len(matched: usize, order: usize) -> usize {
    (matched + 1).min(order - 1)
}

/// Ids outside the model's vocabulary score as `<unk>` (or the last id when there is none).
fn clamp_word(model: &NgramModel, word: TokenId) -> TokenId {
    let size = model.tables[0].len() as TokenId;
    if word < size {
        word
    } else {
        model.tokenizer.specials().unk.unwrap_or(size - 1)
    }
}

/// Positions whose lookups are issued together, order by order. Bounds the scratch memory of
/// [`sequence_log10_probs`] whatever the sequence length.
const BLOCK: usize = 64;

thread_local! {
    /// The scratch of [`sequence_log10_probs`], kept between calls (no allocation per sequence).
    static CHAINS: RefCell<Chains> = RefCell::new(Chains::default());
}

/// Scores `tokens` after `<s>`: passes the log10 probability of each token, in order, to `emit`.
/// The values equal, bit for bit, those of [`State::advance`] from [`State::start`] over the same
/// tokens (ids outside the vocabulary included); faster, because the lookups of different
/// positions do not wait for each other.
pub fn sequence_log10_probs(model: &NgramModel, tokens: &[TokenId], mut emit: impl FnMut(f32)) {
    sequence_full_scores(model, tokens, |log10, _| emit(log10));
}

/// [`sequence_log10_probs`], also passing the length of the n-gram each token matched (its
/// context words matched + 1, KenLM's `ngram_length`; what [`State::advance_matched`] tells).
pub fn sequence_full_scores(
    model: &NgramModel,
    tokens: &[TokenId],
    mut emit: impl FnMut(f32, usize),
) {
    CHAINS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut chains) => score_with(&mut chains, model, tokens, &mut emit),
        // `emit` itself scores a sequence on this thread.
        Err(_) => score_with(&mut Chains::default(), model, tokens, &mut emit),
    })
}

/// [`sequence_full_scores`] with the given scratch.
fn score_with(
    chains: &mut Chains,
    model: &NgramModel,
    tokens: &[TokenId],
    emit: &mut dyn FnMut(f32, usize),
) {
    let mut context = Context::start(model);
    for start in (0..tokens.len()).step_by(BLOCK) {
        let end = (start + BLOCK).min(tokens.len());
        chains.find(model, tokens, start..end, context.len);
        for position in 0..end - start {
            let log10 = context.advance(model, chains, position);
            emit(log10, chains.length(position));
        }
    }
}

/// The key of the n-gram whose suffix has id `suffix` and whose first word is `first` (as
/// [`crate::table::Entry::key`]).
#[inline]
fn ngram_key(suffix: u32, first: TokenId) -> u64 {
    ((suffix as u64) << 32) | first as u64
}

/// The n-grams a [`State`] matches at each position of a block: the unigram of its word, then the
/// n-gram one context word longer as long as it is stored and the context the previous position
/// kept has that word (at most N−1 words, and none before `<s>`).
#[derive(Default)]
struct Chains {
    /// The positions of the current block.
    len: usize,
    /// The words from N−1 before the block (fewer at the start, `<s>` first) to its end, clamped.
    words: Vec<TokenId>,
    /// Index in `words` of the block's first word.
    first: usize,
    /// `ids[j * BLOCK + i]`: the id of the (j+1)-gram ending at position i, for j below its
    /// matched length.
    ids: Vec<u32>,
    /// `lengths[i + 1]`: the length of the n-gram matched at position i; `lengths[0]`: the words
    /// of the context before the block (at most N−1).
    lengths: Vec<u8>,
    /// The positions (ascending) whose match is still being extended by the current order.
    active: Vec<u8>,
}

impl Chains {
    /// The id of the (j+1)-gram ending at `position` (j < its matched length).
    #[inline]
    fn id(&self, j: usize, position: usize) -> u32 {
        self.ids[j * BLOCK + position]
    }

    /// The length of the n-gram matched at `position`.
    #[inline]
    fn length(&self, position: usize) -> usize {
        self.lengths[position + 1] as usize
    }

    /// Finds the matches of the positions `block` of `tokens` (at most [`BLOCK`] of them), after a
    /// context of `context` words.
    fn find(
        &mut self,
        model: &NgramModel,
        tokens: &[TokenId],
        block: std::ops::Range<usize>,
        context: usize,
    ) {
        let order = model.order();
        // Words are numbered as in `<s> tokens…`: token i is word i + 1.
        let from = (block.start + 1).saturating_sub(order - 1);
        let bos = model.tokenizer.specials().bos;
        self.words.clear();
        self.words.extend((from..=block.end).map(|w| match w {
            0 => bos,
            w => clamp_word(model, tokens[w - 1]),
        }));
        self.first = block.start + 1 - from;
        self.len = block.len();
        self.ids.resize(order * BLOCK, 0);
        self.ids[..self.len].copy_from_slice(&self.words[self.first..]);
        self.lengths.clear();
        self.lengths.push(context as u8);
        self.lengths.resize(self.len + 1, 1);
        self.active.clear();
        if let Some(bigrams) = model.tables.get(1) {
            // Every position looks up its bigram (a context has at least one word, `<s>`).
            let pairs = self.words.windows(2).skip(self.first - 1);
            for pair in pairs.take(self.len) {
                bigrams.prefetch_probe(ngram_key(pair[1], pair[0]));
            }
            self.active.extend(0..self.len as u8);
        }
        for j in 1..order {
            if self.active.is_empty() {
                break;
            }
            self.extend(&model.tables, j);
        }
    }

    /// Extends the active matches (length `j`, and the previous position's match, hence its
    /// context, has at least j words, as a [`State`] keeps them) by their j-th context word
    /// through `tables[j]` (order j+1); keeps active those that can grow again, and prefetches the
    /// home slot of their next lookup. Written without branches on the data where it can be: which
    /// positions match is not predictable, and mispredicted branches cost more than the lookups.
    fn extend(&mut self, tables: &[OrderTable], j: usize) {
        let (table, next) = (&tables[j], tables.get(j + 1));
        let (lower, upper) = self.ids.split_at_mut(j * BLOCK);
        let suffixes = &lower[(j - 1) * BLOCK..][..BLOCK];
        let ids = &mut upper[..BLOCK];
        let mut kept = 0;
        for k in 0..self.active.len() {
            let i = self.active[k] as usize;
            // The word j before position i: a context of at least j words has it.
            let at = self.first + i - j;
            let found = table.find(suffixes[i], self.words[at]);
            let hit = found.is_some();
            // Read only below the matched length, so a miss may write anything.
            ids[i] = found.unwrap_or(0);
            self.lengths[i + 1] = (j + hit as usize) as u8;
            // The previous position (earlier in this pass) now has its final length for it.
            let grows = hit & (self.lengths[i] as usize > j);
            self.active[kept] = i as u8;
            kept += grows as usize;
            if let (Some(next), true) = (next, grows) {
                next.prefetch_probe(ngram_key(ids[i], self.words[at - 1]));
            }
        }
        self.active.truncate(kept);
    }
}

/// What a [`State`] carries from one position to the next, as far as scoring needs it: the
/// backoffs of its context (the words themselves are in the [`Chains`]).
struct Context {
    /// `backoffs[j]`: log10 backoff of the context's last j+1 words, for j < `len`.
    backoffs: [f32; MAX_ORDER],
    /// Words in the context.
    len: usize,
}

impl Context {
    /// The context after `<s>`, as [`State::reset`].
    fn start(model: &NgramModel) -> Context {
        let mut context = Context {
            backoffs: [0.0; MAX_ORDER],
            len: 0,
        };
        if let Some((_, backoff)) = start_context(model) {
            context.backoffs[0] = backoff;
            context.len = 1;
        }
        context
    }

    /// Scores the token at `position` of the block (log10) and moves past it, as
    /// [`State::advance`].
    #[inline]
    fn advance(&mut self, model: &NgramModel, chains: &Chains, position: usize) -> f32 {
        let matched = chains.length(position) - 1;
        let prob = model.tables[matched].prob(chains.id(matched, position));
        let log10 = backed_off(prob, &self.backoffs[..self.len], matched);
        self.len = context_len(matched, model.order());
        for (j, backoff) in self.backoffs[..self.len].iter_mut().enumerate() {
            *backoff = model.tables[j].bow(chains.id(j, position));
        }
        log10
    }
}

/// A stateful scorer over an [`NgramModel`] (natural-log probabilities).
pub struct NgramScorer<'a> {
    model: &'a NgramModel,
    state: State,
}

impl<'a> NgramScorer<'a> {
    /// A scorer at the start of a sequence.
    pub fn new(model: &'a NgramModel) -> Self {
        NgramScorer {
            model,
            state: State::start(model),
        }
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// log10 p(token | state); then the token joins the context.
    pub fn score_next_log10(&mut self, token: TokenId) -> f32 {
        self.state.advance(self.model, token)
    }
}

impl NgramScorer<'_> {
    /// Starts a new sequence (context = `<s>`).
    pub fn reset(&mut self) {
        self.state.reset(self.model);
    }

    /// Natural-log probability of `token` in the current context; then `token` joins the context.
    pub fn score_next(&mut self, token: TokenId) -> f64 {
        self.score_next_log10(token) as f64 * LN_10
    }
}

/// The n-gram [`Stepper`]: the [`State`] after every context length, flattened (at most N−1 words
/// and backoffs each), so going back is choosing an earlier one. A step copies the current state
/// into one scratch [`State`], advances it and stores it after the others: nothing is allocated once
/// the flat arrays have grown ([`Stepper::reserve`] grows them ahead).
#[derive(Clone)]
pub struct NgramStepper<'a> {
    model: &'a NgramModel,
    /// `words[i * stride..][..lens[i]]`: the words of the state after `<s>` and `i` pushed tokens.
    words: Vec<TokenId>,
    /// Their backoffs, `backoff_lens[i]` of them.
    backoffs: Vec<f32>,
    lens: Vec<(u8, u8)>,
    /// N − 1: the most words a state keeps.
    stride: usize,
    len: usize,
    scratch: State,
}

impl<'a> NgramStepper<'a> {
    /// A stepper at the start of a sequence.
    pub fn new(model: &'a NgramModel) -> Self {
        let stride = model.order() - 1;
        let mut stepper = NgramStepper {
            model,
            words: Vec::new(),
            backoffs: Vec::new(),
            lens: Vec::new(),
            stride,
            len: 0,
            scratch: State {
                words: Vec::with_capacity(stride + 1),
                backoffs: Vec::with_capacity(stride + 1),
            },
        };
        stepper.scratch.reset(model);
        stepper.store(0);
        stepper
    }

    /// Copies the state after `i` pushed tokens into `scratch`.
    fn load(&mut self, i: usize) {
        let (w, b) = self.lens[i];
        let at = i * self.stride;
        self.scratch.words.clear();
        self.scratch
            .words
            .extend_from_slice(&self.words[at..at + w as usize]);
        self.scratch.backoffs.clear();
        self.scratch
            .backoffs
            .extend_from_slice(&self.backoffs[at..at + b as usize]);
    }

    /// Stores `scratch` as the state after `i` pushed tokens (the states before it are kept).
    fn store(&mut self, i: usize) {
        let at = i * self.stride;
        self.words.resize(at + self.stride, 0);
        self.backoffs.resize(at + self.stride, 0.0);
        self.lens.resize(i + 1, (0, 0));
        let (w, b) = (&self.scratch.words, &self.scratch.backoffs);
        self.words[at..at + w.len()].copy_from_slice(w);
        self.backoffs[at..at + b.len()].copy_from_slice(b);
        self.lens[i] = (w.len() as u8, b.len() as u8);
    }

    /// Moves to the next state, advancing past `token`; returns its log10 probability.
    fn advance(&mut self, token: TokenId) -> f32 {
        self.load(self.len);
        let log10 = self.scratch.advance(self.model, token);
        self.len += 1;
        self.store(self.len);
        log10
    }
}

impl<'a> Stepper<'a> for NgramStepper<'a> {
    fn vocab_len(&self) -> usize {
        self.model.tokenizer.vocab().len()
    }

    fn context_len(&self) -> usize {
        self.len
    }

    fn push(&mut self, token: TokenId) {
        self.advance(token);
    }

    fn distribution_into(&mut self, out: &mut [f64]) {
        self.load(self.len);
        self.model.distribution_into(&self.scratch, out);
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        self.advance(token) as f64 * LN_10
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    fn fork(&self) -> Box<dyn Stepper<'a> + 'a> {
        let mut fork = self.clone();
        fork.words.truncate((self.len + 1) * self.stride);
        fork.backoffs.truncate((self.len + 1) * self.stride);
        fork.lens.truncate(self.len + 1);
        Box::new(fork)
    }

    fn reserve(&mut self, additional: usize) {
        self.words.reserve(additional * self.stride);
        self.backoffs.reserve(additional * self.stride);
        self.lens.reserve(additional);
    }
}
