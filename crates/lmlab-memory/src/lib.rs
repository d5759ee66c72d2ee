//! lmlab-memory: memory-based language models in the manner of TiMBL and OLIFANT.
//!
//! An instance is the `K` tokens before a position (padded with `<s>` at the start of a sequence)
//! and the token at that position. Features are ordered by gain ratio on the training data
//! ([`weights`]); the instances are stored in a trie over that order ([`tree`]) whose every node holds
//! the class distribution of the instances below it.
//!
//! - **IGTree** classifies by exact-match descent to the deepest matching node and returns its
//!   most frequent class (TiMBL `-a1`).
//! - **TRIBL2** descends the same way; at the first mismatch it runs 1-nearest-neighbour search
//!   (overlap metric, gain-ratio weights) among the instances under that node (TiMBL `-a4`).
//! - For perplexity, [`MemoryModel`] implements `LanguageModel` with a smoothed distribution: the
//!   distributions of every depth of the match path interpolated down to a unigram by absolute
//!   discounting, one discount per depth from the counts of counts ([`smoothing`]). Both
//!   algorithms share this distribution; the algorithm only decides the top-1 class
//!   ([`MemoryModel::predict`], [`MemoryModel::predictions`]).
//! - [`MemoryModel::explain`] says which depth matched, how many instances back the prediction and
//!   the top candidates with their counts; [`MemoryModel::add`] adds training data to a model.
//!
//! Ties between classes of equal count are broken as TiMBL does: the class more frequent in the
//! whole training set wins, and between classes equally frequent there, the one seen first.

mod classify;
mod codec;
mod explain;
mod instances;
mod model;
mod options;
mod serialization;
pub mod smoothing;
mod trainer;
pub mod tree;
mod tribl2;
pub mod weights;

pub use explain::{feature_order_text, ExplainedCandidate, ExplainedDepth, Explanation};
pub use model::MemoryModel;
pub use options::{Algorithm, MemoryOptions, DEFAULT_CONTEXT};
pub use trainer::train;

/// The model-file kind of [`MemoryModel`].
pub const KIND: &str = "memory";
/// The payload format version this build writes and reads.
pub const KIND_VERSION: u32 = 1;
