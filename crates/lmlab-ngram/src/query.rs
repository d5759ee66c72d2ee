//! Queries in backoff form, KenLM's way: find the longest stored n-gram ending in the word, add the
//! backoffs of the longer contexts. The [`State`] carries the matched context (most recent word
//! first) and its backoffs, so each token costs at most N−1 lookups.

use crate::model::{NgramModel, LN_10};
use crate::options::MAX_ORDER;
use lmlab_core::model::Stepper;
use lmlab_core::{Scorer, TokenId};

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
        if model.order() > 1 {
            let bos = model.tokenizer.specials().bos;
            self.words.push(bos);
            self.backoffs.push(model.tables[0].bow(bos));
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
        let backoff: f32 = self.backoffs.get(matched..).unwrap_or(&[]).iter().sum();
        (prob + backoff, matched)
    }

    /// Scores `word` (log10) and moves the state past it. Allocation-free.
    pub fn advance(&mut self, model: &NgramModel, word: TokenId) -> f32 {
        let word = clamp_word(model, word);
        let tables = &model.tables;
        let max_context = tables.len() - 1;
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
        let backoff: f32 = self.backoffs.get(matched..).unwrap_or(&[]).iter().sum();
        let keep = (matched + 1).min(max_context);
        self.words.truncate(keep.saturating_sub(1));
        if keep > 0 {
            self.words.insert(0, word);
        }
        self.backoffs.clear();
        self.backoffs.extend_from_slice(&bows[..keep]);
        prob + backoff
    }
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

impl Scorer for NgramScorer<'_> {
    fn reset(&mut self) {
        self.state.reset(self.model);
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        self.score_next_log10(token) as f64 * LN_10
    }
}

/// Next-token distributions token by token (generation), carrying a [`State`].
pub struct NgramStepper<'a> {
    model: &'a NgramModel,
    state: State,
}

impl<'a> NgramStepper<'a> {
    /// A stepper at the start of a sequence.
    pub fn new(model: &'a NgramModel) -> Self {
        NgramStepper {
            model,
            state: State::start(model),
        }
    }
}

impl Stepper for NgramStepper<'_> {
    fn push(&mut self, token: TokenId) {
        self.state.advance(self.model, token);
    }

    fn distribution(&mut self) -> Vec<f64> {
        self.model.distribution_after(&self.state)
    }
}
