//! The GLM: its pattern tables, the recursive estimate over skip patterns, and the
//! [`LanguageModel`] contract over it.

use super::options::Skips;
use super::pattern::{children, full, kept_words};
use super::table::PatternTable;
use lmlab_core::model::Stepper;
use lmlab_core::{LanguageModel, TokenId, Tokenizer};

/// A generalized language model (see the [module doc](crate::glm)).
pub struct GlmModel {
    pub(crate) tokenizer: Box<dyn Tokenizer>,
    pub(crate) order: usize,
    pub(crate) skips: Skips,
    /// One table per pattern, masks ascending (each after its children).
    pub(crate) tables: Vec<PatternTable>,
    pub(crate) vocab_size: usize,
    pub(crate) bos: TokenId,
    pub(crate) training_tokens: u64,
    pub(crate) warnings: Vec<String>,
}

impl GlmModel {
    /// The order N.
    pub fn order(&self) -> usize {
        self.order
    }

    /// Which history words may be skipped.
    pub fn skips(&self) -> Skips {
        self.skips
    }

    /// Tokens counted in training (end tokens included).
    pub fn training_tokens(&self) -> u64 {
        self.training_tokens
    }

    /// Warnings of training (patterns that fell back to the fallback discounts).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Each pattern's name (`x_xw`), its (D1, D2, D3+) and number of entries, masks ascending.
    pub fn patterns(&self) -> Vec<(String, [f64; 3], usize)> {
        self.tables
            .iter()
            .map(|t| {
                (
                    super::pattern::pattern_name(t.mask),
                    t.discount.amount,
                    t.entries(),
                )
            })
            .collect()
    }

    /// The history `context` (which starts with `<s>`) as the model sees it: its last N−1 words.
    fn history<'c>(&self, context: &'c [TokenId]) -> &'c [TokenId] {
        &context[context.len() - (self.order - 1).min(context.len())..]
    }

    /// The tables a history of `len` words reaches (masks below 2^len), with their masks.
    pub(crate) fn reachable(&self, len: usize) -> impl Iterator<Item = &PatternTable> {
        self.tables.iter().take_while(move |t| t.mask < 1 << len)
    }

    /// P(word | context), `context` starting with `<s>`: for each pattern from the unigram up,
    /// max(c − D(c), 0)/Σc + γ·(mean of the patterns one skip below), or only that mean where the
    /// history was never seen; the unigram's "below" is the uniform distribution over every token
    /// but `<s>`.
    pub fn prob(&self, context: &[TokenId], word: TokenId) -> f64 {
        if word == self.bos {
            return 0.0;
        }
        let history = self.history(context);
        let uniform = self.uniform();
        let mut values = [0f64; 1 << (super::options::MAX_ORDER - 1)];
        let mut kept = [0u32; 8];
        for table in self.reachable(history.len()) {
            let (below, n) = children(table.mask, self.skips);
            let lower = lower_mean(&below[..n], &values, uniform);
            let k = kept_words(table.mask, history, &mut kept);
            let seen = table.row(&kept[..k]).map(|r| (r, table.count(r, word)));
            values[table.mask as usize] = table.estimate(seen, lower);
        }
        values[full(history.len()) as usize]
    }

    /// The uniform distribution's value for every token but `<s>`.
    pub(crate) fn uniform(&self) -> f64 {
        1.0 / (self.vocab_size - 1).max(1) as f64
    }

    /// The next-token distribution after `context` (starting with `<s>`): [`GlmModel::prob`] of
    /// every token at once, pattern by pattern over dense vectors.
    pub fn distribution(&self, context: &[TokenId]) -> Vec<f64> {
        let history = self.history(context);
        let mut uniform = vec![1.0 / (self.vocab_size - 1).max(1) as f64; self.vocab_size];
        uniform[self.bos as usize] = 0.0;
        let mut values: Vec<Option<Vec<f64>>> = vec![None; 1 << history.len()];
        let mut kept = [0u32; 8];
        for table in self.reachable(history.len()) {
            let (below, n) = children(table.mask, self.skips);
            let mut dist = if n == 0 {
                uniform.clone()
            } else {
                let mut sum = vec![0f64; self.vocab_size];
                for &c in &below[..n] {
                    let child = values[c as usize].as_ref().expect("children come first");
                    sum.iter_mut().zip(child).for_each(|(s, &p)| *s += p);
                }
                sum.iter_mut().for_each(|s| *s /= n as f64);
                sum
            };
            let k = kept_words(table.mask, history, &mut kept);
            if let Some(r) = table.row(&kept[..k]) {
                let gamma = table.gamma(r);
                dist.iter_mut().for_each(|p| *p *= gamma);
                let (words, counts) = table.row_entries(r);
                for (&w, &c) in words.iter().zip(counts) {
                    dist[w as usize] += table.discounted(r, c);
                }
            }
            values[table.mask as usize] = Some(dist);
        }
        values[full(history.len()) as usize]
            .take()
            .expect("the full history's pattern is reachable")
    }
}

/// The mean of the `below` patterns' values, or `uniform` below the unigram pattern: the lower
/// estimate every pattern interpolates with.
#[inline]
pub(crate) fn lower_mean(below: &[u32], values: &[f64], uniform: f64) -> f64 {
    if below.is_empty() {
        uniform
    } else {
        below.iter().map(|&c| values[c as usize]).sum::<f64>() / below.len() as f64
    }
}

impl LanguageModel for GlmModel {
    fn kind(&self) -> &str {
        super::file::KIND
    }

    fn describe(&self) -> String {
        format!(
            "glm order {} generalized language model (skips {}: {} patterns, {} entries) over {} \
             tokens",
            self.order,
            self.skips,
            self.tables.len(),
            self.parameter_count(),
            self.tokenizer.kind()
        )
    }

    fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
        self.grouped_log_probs(&[tokens]).pop().unwrap_or_default()
    }

    fn log_probs_batch(&self, sequences: &[&[TokenId]]) -> Option<Vec<Vec<f64>>> {
        Some(self.grouped_log_probs(sequences))
    }

    fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
        let mut full_context = Vec::with_capacity(context.len() + 1);
        full_context.push(self.bos);
        full_context.extend_from_slice(context);
        self.distribution(&full_context)
    }

    fn stepper(&self) -> Box<dyn Stepper<'_> + '_> {
        Box::new(GlmStepper {
            model: self,
            context: vec![self.bos],
        })
    }

    fn parameter_count(&self) -> u64 {
        self.tables.iter().map(|t| t.entries() as u64).sum()
    }
}

/// Steps with `<s>` and every pushed token as context (the estimate reads the last N−1). Its
/// distributions are [`GlmModel::distribution`]'s, which builds a dense vector per pattern: the
/// GLM's steps allocate.
#[derive(Clone)]
struct GlmStepper<'m> {
    model: &'m GlmModel,
    context: Vec<TokenId>,
}

impl<'m> Stepper<'m> for GlmStepper<'m> {
    fn vocab_len(&self) -> usize {
        self.model.vocab_size
    }

    fn context_len(&self) -> usize {
        self.context.len() - 1
    }

    fn push(&mut self, token: TokenId) {
        self.context.push(token);
    }

    fn distribution_into(&mut self, out: &mut [f64]) {
        out.copy_from_slice(&self.model.distribution(&self.context));
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        let p = self.model.prob(&self.context, token).ln();
        self.context.push(token);
        p
    }

    fn truncate(&mut self, len: usize) {
        self.context.truncate(len + 1);
    }

    fn fork(&self) -> Box<dyn Stepper<'m> + 'm> {
        Box::new(self.clone())
    }

    fn reserve(&mut self, additional: usize) {
        self.context.reserve(additional);
    }
}
