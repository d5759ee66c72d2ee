//! lmlab-baseline: small but real language models to compare everything else against — an
//! interpolated unigram-bigram model (Witten-Bell or add-k smoothing) and the uniform model.

mod model;
mod serialization;
mod trainer;
mod uniform;

pub use model::{BaselineModel, Smoothing};
pub use trainer::train;
pub use uniform::UniformModel;

/// The model-file kind of [`BaselineModel`].
pub const KIND: &str = "baseline";
/// The payload format version this build writes and reads.
pub const KIND_VERSION: u32 = 1;
/// The model-file kind of [`UniformModel`] (the tokenizer is the whole model).
pub const UNIFORM_KIND: &str = "uniform";
/// The payload format version of [`UNIFORM_KIND`].
pub const UNIFORM_KIND_VERSION: u32 = 1;
