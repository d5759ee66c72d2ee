//! Helpers shared by the integration tests.
#![allow(dead_code)]

use lmlab_core::model::{encode_corpus, TokenSequence};
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_ngram::{train, NgramModel, NgramOptions};
use lmlab_tokenize::WordsTrainer;
use std::path::PathBuf;

/// `../shared` next to the workspace, or `None` (with a message) when it is missing.
pub fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        report_skip(&format!(
            "{} is missing (the shared corpora and fixtures)",
            dir.display()
        ));
        None
    }
}

/// The text of an xz-compressed fixture.
pub fn read_xz(path: &std::path::Path) -> String {
    use std::io::Read;
    let file = std::fs::File::open(path).unwrap();
    let mut text = String::new();
    xz2::read::XzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Trains a words model on `text` (one sequence per line).
pub fn train_text(text: &str, options: &NgramOptions) -> lmlab_core::Result<NgramModel> {
    let tokenizer = WordsTrainer::default().train(text)?;
    let sequences: Vec<TokenSequence> = encode_corpus(&tokenizer, text, SequenceMode::Line);
    train(&sequences, Box::new(tokenizer), options)
}

/// Largest differences between two models' stored values.
#[derive(Debug, Default)]
pub struct Diff {
    pub prob: f64,
    pub bow: f64,
    pub ngrams: usize,
}

/// Checks that `ours` and `theirs` hold the same n-grams (by their strings) and returns the largest
/// absolute differences of log10 probabilities and backoffs. The `<s>` unigram probability is a
/// marker (KenLM writes 0, lmlab -99) and is not compared.
pub fn compare(ours: &NgramModel, theirs: &NgramModel) -> Diff {
    assert_eq!(ours.order(), theirs.order(), "orders differ");
    assert_eq!(
        ours.ngram_counts(),
        theirs.ngram_counts(),
        "n-gram counts differ"
    );
    let our_vocab = ours.tokenizer().vocab();
    let their_vocab = theirs.tokenizer().vocab();
    let mut diff = Diff::default();
    let order = ours.order();
    for n in 1..=order {
        let table = &ours.tables()[n - 1];
        for id in table.ids() {
            let words = ours.ngram_words(n, id);
            let mapped: Vec<u32> = words
                .iter()
                .map(|&w| {
                    their_vocab
                        .id(our_vocab.token(w))
                        .unwrap_or_else(|| panic!("word {} missing", our_vocab.token(w)))
                })
                .collect();
            let (p, b) = theirs.lookup(&mapped).unwrap_or_else(|| {
                let text: Vec<&str> = words.iter().map(|&w| our_vocab.token(w)).collect();
                panic!("{n}-gram '{}' is not in the reference", text.join(" "))
            });
            if !(n == 1 && our_vocab.token(words[0]) == "<s>") {
                diff.prob = diff.prob.max((table.prob(id) - p).abs() as f64);
            }
            if n < order {
                diff.bow = diff.bow.max((table.bow(id) - b).abs() as f64);
            }
            diff.ngrams += 1;
        }
    }
    diff
}

/// A deterministic Zipf-like corpus of `lines` lines over `words` word types.
pub fn synthetic_corpus(lines: usize, words: usize, seed: u64) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut text = String::new();
    for _ in 0..lines {
        let len = 1 + (next() * 12.0) as usize;
        let mut previous = 0usize;
        for i in 0..len {
            // Zipf-ish rank, with some dependence on the previous word.
            let r = ((words as f64).powf(next()) as usize + previous) % words;
            if i > 0 {
                text.push(' ');
            }
            text.push_str(&format!("w{r}"));
            previous = r / 3;
        }
        text.push('\n');
    }
    text
}

pub use lmlab_core::test_support::report_skip;
