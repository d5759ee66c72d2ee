//! lmlab-ngram: count-based n-gram language models. Interpolated modified Kneser-Ney computed
//! exactly as KenLM's `lmplz` computes it, one file per stage — [`count`](crate::count) →
//! [`adjust`](crate::adjust) → [`discount`] → [`interpolate`](crate::interpolate) — plus ARPA
//! import/export ([`arpa`]), the lmlab model file ([`binary`]) and stateful queries ([`query`]).

mod adjust;
pub mod arpa;
pub mod binary;
mod count;
pub mod discount;
mod estimate;
mod interpolate;
mod layout;
mod model;
pub mod options;
mod prune;
pub mod query;
mod stats;
mod storage;
pub mod table;

pub use discount::Discount;
pub use estimate::train;
pub use model::NgramModel;
pub use options::{NgramOptions, DEFAULT_FALLBACK};
pub use query::{NgramScorer, State};
