use lmlab_core::{LanguageModel, Stepper, TokenId, Tokenizer};
use serde::{Deserialize, Serialize};

/// How the bigram distribution is smoothed toward the unigram, and the unigram toward uniform.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Smoothing {
    /// Witten-Bell at both levels: p(w|v) = (c(v,w) + T(v)·p(w)) / (c(v) + T(v)), T(v) = distinct
    /// successors of v; p(w) = (c(w) + T/V) / (N + T) with T distinct tokens, V predictable tokens.
    WittenBell,
    /// Add-k at both levels: p(w|v) = (c(v,w) + k·V·p(w)) / (c(v) + k·V); p(w) = (c(w) + k) / (N + k·V).
    AddK {
        /// The pseudo-count, > 0.
        k: f64,
    },
}

impl std::fmt::Display for Smoothing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Smoothing::WittenBell => f.write_str("witten-bell"),
            Smoothing::AddK { k } => write!(f, "add-{k}"),
        }
    }
}

/// An interpolated unigram-bigram language model. Bigram counts are stored as compressed rows:
/// the successors of context v are `successors[row_start[v]..row_start[v+1]]`, sorted by id.
pub struct BaselineModel {
    pub(crate) tokenizer: Box<dyn Tokenizer>,
    pub(crate) smoothing: Smoothing,
    pub(crate) unigram_counts: Vec<u64>,
    pub(crate) row_start: Vec<u64>,
    pub(crate) successors: Vec<TokenId>,
    pub(crate) bigram_counts: Vec<u64>,
    /// Derived on construction: p(w) for every id (0 for unpredictable ids).
    pub(crate) unigram_probs: Vec<f64>,
}

impl BaselineModel {
    /// Assembles a model from counts and derives the unigram distribution.
    pub(crate) fn from_counts(
        tokenizer: Box<dyn Tokenizer>,
        smoothing: Smoothing,
        unigram_counts: Vec<u64>,
        row_start: Vec<u64>,
        successors: Vec<TokenId>,
        bigram_counts: Vec<u64>,
    ) -> BaselineModel {
        let predictable: Vec<bool> = (0..unigram_counts.len() as TokenId)
            .map(|id| tokenizer.is_predictable(id))
            .collect();
        let v = predictable.iter().filter(|&&p| p).count() as f64;
        let n: u64 = unigram_counts.iter().sum();
        let types = unigram_counts.iter().filter(|&&c| c > 0).count() as f64;
        let unigram_probs = unigram_counts
            .iter()
            .zip(&predictable)
            .map(|(&c, &ok)| {
                if !ok {
                    return 0.0;
                }
                match smoothing {
                    Smoothing::WittenBell => (c as f64 + types / v) / (n as f64 + types),
                    Smoothing::AddK { k } => (c as f64 + k) / (n as f64 + k * v),
                }
            })
            .collect();
        BaselineModel {
            tokenizer,
            smoothing,
            unigram_counts,
            row_start,
            successors,
            bigram_counts,
            unigram_probs,
        }
    }

    /// The smoothing method.
    pub fn smoothing(&self) -> Smoothing {
        self.smoothing
    }

    fn row(&self, context: TokenId) -> (&[TokenId], &[u64]) {
        let v = context as usize;
        let (start, end) = (self.row_start[v] as usize, self.row_start[v + 1] as usize);
        (
            &self.successors[start..end],
            &self.bigram_counts[start..end],
        )
    }

    /// Interpolation constants of a context: p(w|v) = (c(v,w) + mass·p(w)) / (total + mass).
    fn context_mass(&self, context: TokenId) -> (f64, f64) {
        let (successors, counts) = self.row(context);
        let total: u64 = counts.iter().sum();
        let mass = match self.smoothing {
            Smoothing::WittenBell => successors.len() as f64,
            Smoothing::AddK { k } => k * self.predictable_count(),
        };
        (total as f64, mass)
    }

    fn predictable_count(&self) -> f64 {
        self.unigram_probs.iter().filter(|&&p| p > 0.0).count() as f64
    }

    /// p(token | context) as a probability.
    pub fn probability(&self, context: TokenId, token: TokenId) -> f64 {
        let (total, mass) = self.context_mass(context);
        if total == 0.0 {
            return self.unigram_probs[token as usize];
        }
        let (successors, counts) = self.row(context);
        let count = successors.binary_search(&token).map_or(0, |i| counts[i]) as f64;
        (count + mass * self.unigram_probs[token as usize]) / (total + mass)
    }
}

impl LanguageModel for BaselineModel {
    fn kind(&self) -> &str {
        crate::KIND
    }

    fn describe(&self) -> String {
        format!(
            "baseline bigram ({}) over {} tokens",
            self.smoothing,
            self.tokenizer.kind()
        )
    }

    fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
        let mut context = self.tokenizer.specials().bos;
        tokens
            .iter()
            .map(|&token| {
                let p = self.probability(context, token);
                context = token;
                p.ln()
            })
            .collect()
    }

    fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
        let last = context
            .last()
            .copied()
            .unwrap_or(self.tokenizer.specials().bos);
        let mut probs = vec![0.0; self.unigram_probs.len()];
        self.distribution_after(last, &mut probs);
        probs
    }

    fn stepper(&self) -> Box<dyn Stepper<'_> + '_> {
        Box::new(BigramStepper {
            model: self,
            history: Vec::new(),
        })
    }

    fn scores_by_steps(&self) -> bool {
        true
    }

    fn parameter_count(&self) -> u64 {
        (self.unigram_counts.len() + self.successors.len()) as u64
    }
}

impl BaselineModel {
    /// Writes the next-token distribution after `last` into `out`.
    fn distribution_after(&self, last: TokenId, out: &mut [f64]) {
        let (total, mass) = self.context_mass(last);
        if total == 0.0 {
            out.copy_from_slice(&self.unigram_probs);
            return;
        }
        for (o, p) in out.iter_mut().zip(&self.unigram_probs) {
            *o = mass * p / (total + mass);
        }
        let (successors, counts) = self.row(last);
        for (&w, &c) in successors.iter().zip(counts) {
            out[w as usize] += c as f64 / (total + mass);
        }
    }
}

/// Steps with the tokens pushed so far (the last one is the bigram context).
#[derive(Clone)]
struct BigramStepper<'a> {
    model: &'a BaselineModel,
    history: Vec<TokenId>,
}

impl BigramStepper<'_> {
    fn last(&self) -> TokenId {
        self.history
            .last()
            .copied()
            .unwrap_or(self.model.tokenizer.specials().bos)
    }
}

impl<'a> Stepper<'a> for BigramStepper<'a> {
    fn vocab_len(&self) -> usize {
        self.model.unigram_probs.len()
    }

    fn context_len(&self) -> usize {
        self.history.len()
    }

    fn push(&mut self, token: TokenId) {
        self.history.push(token);
    }

    fn distribution_into(&mut self, out: &mut [f64]) {
        self.model.distribution_after(self.last(), out);
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        let p = self.model.probability(self.last(), token);
        self.history.push(token);
        p.ln()
    }

    fn truncate(&mut self, len: usize) {
        self.history.truncate(len);
    }

    fn fork(&self) -> Box<dyn Stepper<'a> + 'a> {
        Box::new(self.clone())
    }

    fn reserve(&mut self, additional: usize) {
        self.history.reserve(additional);
    }
}

impl std::fmt::Debug for BaselineModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaselineModel")
            .field("smoothing", &self.smoothing)
            .field("tokenizer", &self.tokenizer.kind())
            .field("vocab", &self.unigram_counts.len())
            .field("bigrams", &self.successors.len())
            .finish()
    }
}
