//! The n-gram model: its tables, its tokenizer, and the [`LanguageModel`] contract over them.

use crate::discount::Discount;
use crate::query::{sequence_log10_probs, NgramScorer, NgramStepper, State};
use crate::table::OrderTable;
use lmlab_core::model::Stepper;
use lmlab_core::{LanguageModel, TokenId, Tokenizer};

/// log10 → natural log.
pub(crate) const LN_10: f64 = std::f64::consts::LN_10;

/// A backoff-form n-gram model (as in ARPA): per order, log10 probabilities and backoffs.
pub struct NgramModel {
    pub(crate) tokenizer: Box<dyn Tokenizer>,
    pub(crate) tables: Vec<OrderTable>,
    pub(crate) discounts: Vec<Discount>,
    pub(crate) warnings: Vec<String>,
    pub(crate) training_tokens: u64,
}

impl NgramModel {
    /// Assembles a model; `tables[0]` must hold one unigram per tokenizer id.
    pub(crate) fn from_parts(
        tokenizer: Box<dyn Tokenizer>,
        tables: Vec<OrderTable>,
        discounts: Vec<Discount>,
        warnings: Vec<String>,
        training_tokens: u64,
    ) -> NgramModel {
        NgramModel {
            tokenizer,
            tables,
            discounts,
            warnings,
            training_tokens,
        }
    }

    /// The order N.
    pub fn order(&self) -> usize {
        self.tables.len()
    }

    /// Number of n-grams of each order, unigrams first (the ARPA `\data\` counts).
    pub fn ngram_counts(&self) -> Vec<usize> {
        self.tables.iter().map(OrderTable::len).collect()
    }

    /// The discounts (D1, D2, D3+) of each order; empty for a model imported from ARPA.
    pub fn discounts(&self) -> &[Discount] {
        &self.discounts
    }

    /// Warnings of training (orders that fell back to the fallback discounts).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Tokens counted in training (end tokens included); 0 for an imported ARPA.
    pub fn training_tokens(&self) -> u64 {
        self.training_tokens
    }

    /// The tables of every order.
    pub fn tables(&self) -> &[OrderTable] {
        &self.tables
    }

    /// The token ids of the n-gram with id `id` in order `n` (1-based), in text order.
    pub fn ngram_words(&self, n: usize, id: u32) -> Vec<TokenId> {
        let mut words = Vec::with_capacity(n);
        let mut id = id;
        for level in (1..n).rev() {
            let key = self.tables[level].entry(id).key;
            words.push(key as u32);
            id = (key >> 32) as u32;
        }
        words.push(id);
        words
    }

    /// The id of the n-gram `words` (text order) in its order's table, if stored.
    pub fn find_ngram(&self, words: &[TokenId]) -> Option<u32> {
        let (&last, rest) = words.split_last()?;
        if words.len() > self.order() || last as usize >= self.tables[0].len() {
            return None;
        }
        let mut rank = last;
        for (i, &w) in rest.iter().rev().enumerate() {
            rank = self.tables[i + 1].find(rank, w)?;
        }
        Some(rank)
    }

    /// The stored log10 probability and backoff of the n-gram `words`, if present.
    pub fn lookup(&self, words: &[TokenId]) -> Option<(f32, f32)> {
        let id = self.find_ngram(words)?;
        let table = &self.tables[words.len() - 1];
        Some((table.prob(id), table.bow(id)))
    }

    /// log10 p(word | `<s>` context) through the backoff structure.
    pub fn log10_prob(&self, context: &[TokenId], word: TokenId) -> f32 {
        let mut state = State::start(self);
        for &t in context {
            state.advance(self, t);
        }
        state.log10_prob(self, word).0
    }

    /// The next-token distribution in `state`: one probability per id, 0 for `<s>`, summing to 1.
    pub fn distribution_after(&self, state: &State) -> Vec<f64> {
        let mut dist = vec![0.0; self.tables[0].len()];
        self.distribution_into(state, &mut dist);
        dist
    }

    /// [`NgramModel::distribution_after`] written into `out` (one value per id).
    pub fn distribution_into(&self, state: &State, out: &mut [f64]) {
        let bos = self.tokenizer.specials().bos;
        for (w, o) in out.iter_mut().enumerate() {
            let w = w as TokenId;
            *o = if w == bos {
                0.0
            } else {
                10f64.powf(state.log10_prob(self, w).0 as f64)
            };
        }
        let sum: f64 = out.iter().sum();
        if sum > 0.0 {
            out.iter_mut().for_each(|p| *p /= sum);
        }
    }

    /// A KenLM-style stateful scorer, token by token. For whole sequences,
    /// [`NgramModel::log10_probs`] gives the same values faster.
    pub fn ngram_scorer(&self) -> NgramScorer<'_> {
        NgramScorer::new(self)
    }

    /// log10 p of each of `tokens` after `<s>`, the whole sequence at once (see
    /// [`crate::query::sequence_log10_probs`]); equal bit for bit to
    /// [`NgramModel::ngram_scorer`]'s.
    pub fn log10_probs(&self, tokens: &[TokenId]) -> Vec<f32> {
        let mut out = Vec::with_capacity(tokens.len());
        sequence_log10_probs(self, tokens, |log10| out.push(log10));
        out
    }
}

impl LanguageModel for NgramModel {
    fn kind(&self) -> &str {
        "ngram"
    }

    fn describe(&self) -> String {
        let counts: Vec<String> = self.ngram_counts().iter().map(usize::to_string).collect();
        let method = if self.discounts.is_empty() {
            "back-off model imported from ARPA"
        } else {
            "interpolated modified Kneser-Ney"
        };
        format!(
            "ngram order {} {method} ({} n-grams: {}) over {} tokens",
            self.order(),
            self.parameter_count(),
            counts.join("/"),
            self.tokenizer.kind()
        )
    }

    fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    /// Scores the whole sequence at once ([`crate::query::sequence_log10_probs`]): the same
    /// values as [`NgramScorer`], faster.
    fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
        let mut out = Vec::with_capacity(tokens.len());
        self.log_probs_into(tokens, &mut out);
        out
    }

    fn log_probs_into(&self, tokens: &[TokenId], out: &mut Vec<f64>) {
        out.reserve(tokens.len());
        sequence_log10_probs(self, tokens, |log10| out.push(log10 as f64 * LN_10));
    }

    fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
        let mut state = State::start(self);
        for &t in context {
            state.advance(self, t);
        }
        self.distribution_after(&state)
    }

    /// Not `scores_by_steps`: `log_probs` scores a whole sequence faster than a token-by-token
    /// stepper, so evaluation uses it; `ngram_scorer` stays for callers that need tokens one at a time.
    fn stepper(&self) -> Box<dyn Stepper<'_> + '_> {
        Box::new(NgramStepper::new(self))
    }

    fn parameter_count(&self) -> u64 {
        self.tables.iter().map(|t| t.len() as u64).sum()
    }
}
