//! Helpers shared by the integration tests.
#![allow(dead_code)]

use lmlab_core::model::{encode_corpus, TokenSequence};
use lmlab_core::model_file::Provenance;
use lmlab_core::SequenceMode;
use lmlab_memory::{train, MemoryModel, MemoryOptions};
use lmlab_tokenize::{WordsTokenizer, WordsTrainer};
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

/// A words tokenizer and the sequences of `text` in `mode`.
pub fn encode(text: &str, mode: SequenceMode) -> (WordsTokenizer, Vec<TokenSequence>) {
    let tokenizer = WordsTrainer::default().train(text).unwrap();
    let sequences = encode_corpus(&tokenizer, text, mode);
    (tokenizer, sequences)
}

/// Trains on `text` (one sequence per line).
pub fn train_text(text: &str, options: MemoryOptions) -> lmlab_core::Result<MemoryModel> {
    let (tokenizer, sequences) = encode(text, SequenceMode::Line);
    train(&sequences, Box::new(tokenizer), options)
}

/// A provenance for test files.
pub fn provenance() -> Provenance {
    Provenance {
        corpus_sha256: "0".into(),
        corpus_name: "test".into(),
        sequences: SequenceMode::Line,
        options: serde_json::json!({}),
        seed: None,
        lmlab_version: "0".into(),
    }
}

/// A small corpus with repeated contexts, ambiguities and ties.
pub const TEXT: &str = "the cat sat on the mat\n\
the dog sat on the log\n\
the cat ran to the dog\n\
a cat sat on a mat\n\
the dog ran to the cat\n\
a dog sat on the mat\n";

pub use lmlab_core::test_support::report_skip;
