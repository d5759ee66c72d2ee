//! Self-supervised probes of "Bring Your Own Data! Self-Supervised Evaluation for Large Language
//! Models" (Jain et al. 2023) on any text, for any model, with the transformations and scores of
//! the authors' code (BYOD): how much a model's predictions move when the text is negated, its
//! words swapped, its earlier context replaced, or its tokenization broken.
//!
//! The text's lines are the documents (BYOD's WikiText rows). The probes:
//! - negation: every sentence with " is ", " was ", " are " or " were " gets "not" after the first
//!   such verb; the score is the mean over sentences of the change in mean token loss (negated −
//!   original; first 128 tokens);
//! - word order: one sentence of more than five words from each document of more than 20 words,
//!   two of its word tokens swapped; the median Jensen–Shannon divergence between the next-token
//!   distributions after the original and after the swapped sentence;
//! - long range: a document's last sentence after its own two earlier sentences and after the
//!   first two sentences of another document; the mean over documents of the mean JSD of the
//!   distributions that predict the last sentence's tokens (documents of more than 100 words, as
//!   BYOD's run script keeps);
//! - tokenization: sentences cut every k characters and the pieces encoded one by one; the mean
//!   JSD of the next-token distributions after the whole and after the cut encoding. A tokenizer
//!   that encodes every cut text as the whole one (characters, bytes) makes this meaningless, and
//!   the probe says so.
//!
//! Toxicity, BYOD's fifth probe, is left out: it needs a list of offensive words and sampling
//! generations at scale.
//!
//! JSD is BYOD's: 0.5·(KL(p‖m) + KL(q‖m)), m = (p + q)/2, natural log, with 1e-14 added to every
//! probability first. Standard errors are BYOD's: population standard deviation / √n.
//!
//! What is exact, checked against a fixture made by running BYOD's own functions
//! (`tests/fixtures/byod/`: `make_fixture.py` and its output): the negated sentences, the character
//! cuts, the WikiText detokenization, the sentences, the word tokens, and — because
//! [`pyrandom`] re-implements CPython's Mersenne Twister, `random.seed`, `choice`, `sample` and
//! `shuffle` — the random draws too: with the same seed, the same sentences are chosen, the same
//! words swapped, the documents and texts shuffled into the same order, so the swapped sentences
//! and long-range contexts equal BYOD's string for string.
//!
//! What is not: (1) BYOD calls `nltk.sent_tokenize`, whose trained English Punkt model knows
//! abbreviations (`Mr.`, `U.S.`, `p.m.`) and splits less there; the English model could not be
//! fetched to build the fixture, so [`sentences`] is Punkt with no trained parameters and the
//! fixture was made the same way; the two can differ only where the English model's parameters
//! (abbreviations, collocations, sentence starters, word-case statistics) come into play. (2) The fixture
//! was made with NLTK 3.10 (BYOD pins 3.8.1) and runs `swap_words_in_sentence` per document the way
//! `datasets.map` does, without the `datasets` library. (3) Scores come from lmlab's models: the
//! first token is scored from `<s>`, where a Hugging Face GPT-2 scores from the second token on.
//! (4) BYOD's run scripts prepare WikiText (detokenizing the negation and tokenization data,
//! sampling Wikipedia topic sentences); on any text the negation probe takes every sentence in
//! order and nothing is detokenized except in the long-range probe, whose metric does it itself.

pub mod detok;
pub mod pyrandom;
pub mod sentences;
pub mod transform;
pub mod words;

use lmlab_core::model::LanguageModel;
use lmlab_core::vocab::TokenId;
use lmlab_core::{Error, Result};
use serde::Serialize;
use std::path::Path;
use transform::{
    cut_every, long_range_triplets, negation_pairs, tokenization_texts, word_count,
    word_order_pairs,
};

/// The probability added to every entry before a JSD, as BYOD adds it.
pub const JSD_EPSILON: f64 = 1e-14;
/// BYOD truncates the negation probe's inputs to this many tokens.
pub const NEGATION_MAX_TOKENS: usize = 128;
/// Documents of more words than this feed the word-order probe.
pub const WORD_ORDER_MIN_WORDS: usize = 20;
/// Documents of more words than this feed the long-range probe (BYOD's run script).
pub const LONG_RANGE_MIN_WORDS: usize = 100;

/// The probes' settings; the defaults are BYOD's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeSettings {
    /// Seeds each probe's random draws (`random.seed`), as BYOD's scripts do.
    pub seed: u64,
    /// Most examples per probe.
    pub max_examples: usize,
    /// Word swaps per sentence in the word-order probe.
    pub swaps: usize,
    /// Sentences of context in the long-range probe (the last one is scored).
    pub context_sentences: usize,
    /// How many of those are replaced by another document's sentences.
    pub replaced_sentences: usize,
    /// The tokenization probe cuts the text every this many characters.
    pub cut_every: usize,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            seed: 42,
            max_examples: 1000,
            swaps: 1,
            context_sentences: 3,
            replaced_sentences: 2,
            cut_every: 5,
        }
    }
}

/// One probe's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProbeResult {
    /// The probe ran on `examples` examples.
    Scored {
        /// The probe's score: `statistic` of `scores`.
        score: f64,
        /// "mean" or "median", as BYOD reports this probe.
        statistic: &'static str,
        /// Population standard deviation of `scores` / √n.
        std_error: f64,
        /// How many examples were scored.
        examples: usize,
        /// The tokenization probe only: the share of texts whose cut encoding equals the whole.
        #[serde(skip_serializing_if = "Option::is_none")]
        same_tokenization: Option<f64>,
        /// One score per example.
        scores: Vec<f64>,
    },
    /// The text (or the tokenizer) gives the probe nothing to measure.
    NotApplicable {
        /// Why, in words.
        reason: String,
    },
}

/// The four probes' outcomes and the settings they ran with.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbesReport {
    pub settings: ProbeSettings,
    pub documents: usize,
    pub negation: ProbeResult,
    pub word_order: ProbeResult,
    pub long_range: ProbeResult,
    pub tokenization: ProbeResult,
    /// Always not applicable, with the reason.
    pub toxicity: ProbeResult,
}

impl ProbesReport {
    /// The probes by name, in report order.
    pub fn probes(&self) -> [(&'static str, &ProbeResult); 5] {
        [
            ("negation", &self.negation),
            ("word_order", &self.word_order),
            ("long_range", &self.long_range),
            ("tokenization", &self.tokenization),
            ("toxicity", &self.toxicity),
        ]
    }
}

/// Why toxicity is not measured.
pub const TOXICITY_LEFT_OUT: &str =
    "left out, as it needs a list of offensive words and sampled generations at scale";

/// Checks the settings: at least one example, a cut of at least one character, more context
/// sentences than replaced ones, at least one replaced.
pub fn check_settings(settings: &ProbeSettings) -> Result<()> {
    let problem = if settings.max_examples == 0 {
        Some("max examples must be at least 1")
    } else if settings.cut_every == 0 {
        Some("the tokenization cut must be at least 1 character")
    } else if settings.replaced_sentences == 0
        || settings.context_sentences <= settings.replaced_sentences
    {
        Some("the long-range probe needs more context sentences than replaced ones, and at least one replaced")
    } else {
        None
    };
    match problem {
        Some(p) => Err(Error::InvalidArgument(p.to_string())),
        None => Ok(()),
    }
}

/// Reads a probe text: UTF-8, not empty.
pub fn read_text(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => Error::bad_file(path, "not UTF-8 text"),
        _ => Error::io(path, e),
    })?;
    if text.trim().is_empty() {
        return Err(Error::EmptyFile(path.to_path_buf()));
    }
    Ok(text)
}

/// Runs the four probes on `text` (documents = its non-blank lines). A text with no document is
/// an error; a probe the text cannot feed is reported as not applicable.
pub fn run_probes(
    model: &dyn LanguageModel,
    text: &str,
    settings: &ProbeSettings,
) -> Result<ProbesReport> {
    check_settings(settings)?;
    let documents: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if documents.is_empty() {
        return Err(Error::InvalidArgument(
            "the probe text is empty (no non-blank line)".to_string(),
        ));
    }
    Ok(ProbesReport {
        settings: settings.clone(),
        documents: documents.len(),
        negation: negation_probe(model, &documents, settings),
        word_order: word_order_probe(model, &documents, settings),
        long_range: long_range_probe(model, &documents, settings),
        tokenization: tokenization_probe(model, &documents, settings),
        toxicity: ProbeResult::NotApplicable {
            reason: TOXICITY_LEFT_OUT.to_string(),
        },
    })
}

fn not_applicable(reason: impl Into<String>) -> ProbeResult {
    ProbeResult::NotApplicable {
        reason: reason.into(),
    }
}

/// A scored result from per-example scores (non-empty).
fn scored(scores: Vec<f64>, statistic: &'static str, same: Option<f64>) -> ProbeResult {
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let variance = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
    let score = if statistic == "median" {
        median(&scores)
    } else {
        mean
    };
    ProbeResult::Scored {
        score,
        statistic,
        std_error: variance.sqrt() / n.sqrt(),
        examples: scores.len(),
        same_tokenization: same,
        scores,
    }
}

/// NumPy's median: the middle value, or the mean of the two middle values.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
}

/// BYOD's Jensen–Shannon divergence of two distributions over the same vocabulary.
pub fn jsd(p: &[f64], q: &[f64]) -> f64 {
    assert_eq!(p.len(), q.len(), "distributions over the same vocabulary");
    p.iter()
        .zip(q)
        .map(|(&a, &b)| {
            let (a, b) = (a + JSD_EPSILON, b + JSD_EPSILON);
            let m = 0.5 * (a + b);
            0.5 * (a * (a.ln() - m.ln()) + b * (b.ln() - m.ln()))
        })
        .sum()
}

/// Mean negative log-probability of the text's first [`NEGATION_MAX_TOKENS`] tokens (no end
/// token); `None` for a text without tokens.
fn mean_loss(model: &dyn LanguageModel, text: &str) -> Option<f64> {
    let mut ids = model.tokenizer().encode(text);
    ids.truncate(NEGATION_MAX_TOKENS);
    if ids.is_empty() {
        return None;
    }
    let log_probs = model.log_probs(&ids);
    Some(-log_probs.iter().sum::<f64>() / log_probs.len() as f64)
}

/// The next-token distributions that predict each of the last `count` tokens of `ids`.
fn tail_distributions(model: &dyn LanguageModel, ids: &[TokenId], count: usize) -> Vec<Vec<f64>> {
    let start = ids.len() - count.min(ids.len());
    let mut stepper = model.stepper();
    let mut out = Vec::with_capacity(ids.len() - start);
    for (k, &id) in ids.iter().enumerate() {
        if k >= start {
            out.push(stepper.distribution());
        }
        stepper.push(id);
    }
    out
}

fn negation_probe(model: &dyn LanguageModel, documents: &[&str], s: &ProbeSettings) -> ProbeResult {
    let pairs = negation_pairs(documents, s.max_examples);
    let scores: Vec<f64> = pairs
        .iter()
        .filter_map(|p| Some(mean_loss(model, &p.negated)? - mean_loss(model, &p.original)?))
        .collect();
    if scores.is_empty() {
        return not_applicable(
            "no sentence has \" is \", \" was \", \" are \" or \" were \" (without \"not\" after it) to negate",
        );
    }
    scored(scores, "mean", None)
}

fn word_order_probe(
    model: &dyn LanguageModel,
    documents: &[&str],
    s: &ProbeSettings,
) -> ProbeResult {
    if !documents
        .iter()
        .any(|d| word_count(d) > WORD_ORDER_MIN_WORDS)
    {
        return not_applicable(format!(
            "needs a document (line) of more than {WORD_ORDER_MIN_WORDS} words"
        ));
    }
    let pairs = word_order_pairs(documents, s.swaps, s.seed, s.max_examples);
    if pairs.is_empty() {
        return not_applicable(format!(
            "no document of more than {WORD_ORDER_MIN_WORDS} words has a sentence of more than 5 words"
        ));
    }
    let tokenizer = model.tokenizer();
    let scores = pairs
        .iter()
        .map(|p| {
            let a = model.next_distribution(&tokenizer.encode(&p.original));
            let b = model.next_distribution(&tokenizer.encode(&p.swapped));
            jsd(&a, &b)
        })
        .collect();
    scored(scores, "median", None)
}

fn long_range_probe(
    model: &dyn LanguageModel,
    documents: &[&str],
    s: &ProbeSettings,
) -> ProbeResult {
    let long: Vec<&str> = documents
        .iter()
        .copied()
        .filter(|d| word_count(d) > LONG_RANGE_MIN_WORDS)
        .collect();
    let needed = s.context_sentences + s.replaced_sentences + 1;
    if long.len() < 2 {
        return not_applicable(format!(
            "needs two documents (lines) of more than {LONG_RANGE_MIN_WORDS} words, one with at least {needed} sentences (found {} such documents)",
            long.len()
        ));
    }
    let triplets = long_range_triplets(
        &long,
        s.context_sentences,
        s.replaced_sentences,
        s.seed,
        s.max_examples,
    );
    let tokenizer = model.tokenizer();
    let scores: Vec<f64> = triplets
        .iter()
        .filter_map(|t| {
            let scored_tokens = tokenizer.encode(&format!(" {}", t.last)).len();
            if scored_tokens < 2 {
                return None;
            }
            let own = tokenizer.encode(&t.original);
            let replaced = tokenizer.encode(&t.replaced);
            let count = scored_tokens.min(own.len()).min(replaced.len());
            if count == 0 {
                return None;
            }
            let a = tail_distributions(model, &own, count);
            let b = tail_distributions(model, &replaced, count);
            let total: f64 = a.iter().zip(&b).map(|(p, q)| jsd(p, q)).sum();
            Some(total / count as f64)
        })
        .collect();
    if scores.is_empty() {
        return not_applicable(format!(
            "no document of more than {LONG_RANGE_MIN_WORDS} words has {needed} sentences with a last one of at least 2 tokens"
        ));
    }
    scored(scores, "mean", None)
}

fn tokenization_probe(
    model: &dyn LanguageModel,
    documents: &[&str],
    s: &ProbeSettings,
) -> ProbeResult {
    let texts = tokenization_texts(documents, s.seed, s.max_examples);
    if texts.is_empty() {
        return not_applicable(
            "needs a sentence of more than 5 words in a document (line) of at least 50 characters",
        );
    }
    let tokenizer = model.tokenizer();
    let mut same = 0usize;
    let scores: Vec<f64> = texts
        .iter()
        .map(|text| {
            let whole = tokenizer.encode(text);
            let cut: Vec<TokenId> = cut_every(text, s.cut_every)
                .into_iter()
                .flat_map(|piece| tokenizer.encode(piece))
                .collect();
            if cut == whole {
                same += 1;
                return 0.0;
            }
            jsd(
                &model.next_distribution(&whole),
                &model.next_distribution(&cut),
            )
        })
        .collect();
    if same == texts.len() {
        return not_applicable(format!(
            "the {} tokenizer encodes every cut text exactly as the whole text: nothing to measure",
            tokenizer.kind()
        ));
    }
    let share = same as f64 / texts.len() as f64;
    scored(scores, "mean", Some(share))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsd_is_zero_for_equal_and_ln2_for_disjoint_distributions() {
        let p = [0.2, 0.3, 0.5];
        assert!(jsd(&p, &p).abs() < 1e-15);
        let disjoint = jsd(&[1.0, 0.0], &[0.0, 1.0]);
        assert!(
            (disjoint - std::f64::consts::LN_2).abs() < 1e-9,
            "{disjoint}"
        );
        let (a, b) = ([0.9, 0.1], [0.5, 0.5]);
        assert!((jsd(&a, &b) - jsd(&b, &a)).abs() < 1e-15, "symmetric");
        // By hand: m = (0.7, 0.3).
        let by_hand = 0.5 * (0.9 * (0.9f64 / 0.7).ln() + 0.1 * (0.1f64 / 0.3).ln())
            + 0.5 * (0.5 * (0.5f64 / 0.7).ln() + 0.5 * (0.5f64 / 0.3).ln());
        assert!((jsd(&a, &b) - by_hand).abs() < 1e-12);
    }

    #[test]
    fn medians_and_standard_errors_are_numpys() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        let ProbeResult::Scored {
            score, std_error, ..
        } = scored(vec![1.0, 3.0], "mean", None)
        else {
            panic!("scored")
        };
        assert_eq!(score, 2.0);
        assert!((std_error - 1.0 / 2f64.sqrt()).abs() < 1e-15);
    }

    /// A baseline whose stepper is the generic [`lmlab_core::model::ContextStepper`] (whole
    /// contexts through `next_distribution`), so [`tail_distributions`] through the baseline's own
    /// stepper and through whole contexts can be compared on one model.
    struct Stepped(lmlab_baseline::BaselineModel);

    impl LanguageModel for Stepped {
        fn kind(&self) -> &str {
            self.0.kind()
        }
        fn describe(&self) -> String {
            self.0.describe()
        }
        fn tokenizer(&self) -> &dyn lmlab_core::tokenizer::Tokenizer {
            self.0.tokenizer()
        }
        fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
            self.0.log_probs(tokens)
        }
        fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
            self.0.next_distribution(context)
        }
        fn stepper(&self) -> Box<dyn lmlab_core::Stepper<'_> + '_> {
            Box::new(lmlab_core::model::ContextStepper::new(&self.0))
        }
        fn parameter_count(&self) -> u64 {
            self.0.parameter_count()
        }
    }

    fn baseline(text: &str) -> lmlab_baseline::BaselineModel {
        let tokenizer = lmlab_tokenize::words::WordsTokenizer::from_words(
            text.split_whitespace().map(String::from),
        );
        let sequences = lmlab_core::model::encode_corpus(
            &tokenizer,
            text,
            lmlab_core::corpus::SequenceMode::Line,
        );
        lmlab_baseline::train(
            &sequences,
            Box::new(tokenizer),
            lmlab_baseline::Smoothing::WittenBell,
        )
        .unwrap()
    }

    #[test]
    fn steppers_and_whole_contexts_give_the_same_tail_distributions() {
        let text = "the cat sat on the mat\nthe dog sat on the cat\n";
        let plain = baseline(text);
        let stepped = Stepped(baseline(text));
        let ids = plain.tokenizer().encode("the dog sat on the mat");
        for count in [1, 3, ids.len(), ids.len() + 4] {
            let a = tail_distributions(&plain, &ids, count);
            let b = tail_distributions(&stepped, &ids, count);
            assert_eq!(a.len(), count.min(ids.len()));
            assert_eq!(a, b, "count {count}");
            // The last one predicts the last token from everything before it.
            let last = plain.next_distribution(&ids[..ids.len() - 1]);
            assert_eq!(a.last().unwrap(), &last);
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        let bad = ProbeSettings {
            replaced_sentences: 3,
            ..ProbeSettings::default()
        };
        assert!(check_settings(&bad)
            .unwrap_err()
            .to_string()
            .contains("more context sentences"));
        let bad = ProbeSettings {
            cut_every: 0,
            ..ProbeSettings::default()
        };
        assert!(check_settings(&bad).is_err());
    }
}
