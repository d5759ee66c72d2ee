//! lmlab-core: the contracts every part of lmlab keeps — token ids and vocabularies, corpus reading,
//! the [`Tokenizer`] and [`LanguageModel`] traits, model files, probability files, metrics, ensembles,
//! compute accounting and atomic writes. Model crates depend on this crate and never on each other.

pub mod accuracy;
pub mod atomic;
pub mod cache;
pub mod compute;
pub mod corpus;
pub mod ensemble;
pub mod error;
pub mod evaluate;
pub mod hashing;
pub mod interrupt;
pub mod metrics;
pub mod model;
pub mod model_file;
pub mod probs;
pub mod sampling;
pub mod speculative;
pub mod tempfiles;
pub mod test_support;
pub mod tokenizer;
pub mod vocab;

pub use corpus::{Corpus, SequenceMode};
pub use error::{Error, Result};
pub use model::{LanguageModel, Stepper};
pub use tokenizer::Tokenizer;
pub use vocab::{Specials, TokenId, Vocab};

/// The lmlab version recorded in model files.
pub const LMLAB_VERSION: &str = env!("CARGO_PKG_VERSION");
