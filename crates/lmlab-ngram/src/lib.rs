//! lmlab-ngram: count-based n-gram language models. Interpolated modified Kneser-Ney computed
//! exactly as KenLM's `lmplz` computes it (including its `--prune` and `--discount_fallback`),
//! one file per stage: `count` (order by order from suffix buckets over one [`TokenStream`], as
//! sorted u64 keys) with `adjust` (continuation counts) and `stats` (counts-of-counts as lmplz
//! collects them) in the same pass → [`discount`] (D1/D2/D3+) → `interpolate` → `layout` (hash
//! tables, `prune`d n-grams left out), going up the orders and handing each finished table to
//! the model in memory ([`train`]) or straight to the model file ([`train_stream_to_file`]); with
//! a memory setting, finished orders wait in temporary files (`spill`). Plus ARPA import/export
//! ([`arpa`]), the lmlab model file of kind `ngram` ([`binary`], used in place from the memory
//! map) and KenLM-style stateful queries ([`query`]).
//!
//! ```no_run
//! # fn main() -> lmlab_core::Result<()> {
//! use lmlab_core::model::encode_corpus;
//! use lmlab_core::{LanguageModel, SequenceMode};
//! let text = std::fs::read_to_string("train.txt").unwrap();
//! let tokenizer = lmlab_tokenize::WordsTrainer::default().train(&text)?;
//! let sequences = encode_corpus(&tokenizer, &text, SequenceMode::Line);
//! let model = lmlab_ngram::train(&sequences, Box::new(tokenizer), &lmlab_ngram::NgramOptions::with_order(5))?;
//! lmlab_ngram::arpa::write_arpa(&model, std::path::Path::new("model.arpa.gz"))?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod adjust;
pub mod arpa;
pub mod binary;
mod count;
pub mod discount;
mod estimate;
pub mod glm;
mod interpolate;
mod layout;
mod model;
pub mod options;
pub mod phases;
mod prune;
pub mod prune_built;
pub mod query;
mod spill;
mod stats;
mod storage;
pub mod table;

pub use count::TokenStream;
pub use discount::Discount;
pub use estimate::{checked_specials, train, train_stream, train_stream_to_file, TrainSummary};
pub use model::NgramModel;
pub use options::{parse_memory_size, NgramOptions, DEFAULT_FALLBACK};
pub use query::{NgramScorer, NgramStepper, State};
