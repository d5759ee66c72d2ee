//! Training options of the generalized language model and their validation.

use crate::NgramOptions;
use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The largest GLM order: an order-N GLM interpolates 2^(N-1) skip patterns (64 at order 7), each
/// counted in its own pass, and one counting record holds at most 7 history words.
pub const MAX_ORDER: usize = 7;

/// Which history words may be skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Skips {
    /// Any history word (the paper's GLM): every subset of the history is a pattern.
    #[default]
    All,
    /// Only the first word, deleted (modified Kneser-Ney's back-off path): the model equals
    /// `lmlab train ngram` of the same order.
    None,
}

impl FromStr for Skips {
    type Err = Error;

    fn from_str(text: &str) -> Result<Skips> {
        match text {
            "all" => Ok(Skips::All),
            "none" => Ok(Skips::None),
            other => Err(Error::invalid(format!(
                "unknown --skips pattern '{other}': expected 'all' (the paper's GLM: any history \
                 word may be skipped) or 'none' (no skips: modified Kneser-Ney)"
            ))),
        }
    }
}

impl fmt::Display for Skips {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skips::All => "all",
            Skips::None => "none",
        })
    }
}

/// Options of [`crate::glm::train`]. In a file every field may be left out (its [`Default`]); an
/// unknown field is an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GlmOptions {
    /// The order N (2..=[`MAX_ORDER`]).
    pub order: usize,
    /// Which history words may be skipped.
    pub skips: Skips,
    /// Discounts (D1, D2, D3+) for every skip pattern whose closed-form discounts are out of range,
    /// as `lmlab train ngram --discount-fallback`; `None` makes such a pattern an error.
    pub discount_fallback: Option<[f64; 3]>,
    /// Bytes of memory for counting (`--memory`, KenLM's -S sizes): the token stream (4 bytes per
    /// token) plus one skip pattern's working space; a pattern that does not fit is sorted in runs
    /// spilled to [`GlmOptions::temp_dir`] and merged, its counts waiting there too
    /// (`glm::budget`). A bound below the stream plus 64 KiB is refused. `None` = no limit. Not
    /// part of the model's provenance: it never changes the model.
    #[serde(default, skip_serializing)]
    pub memory: Option<u64>,
    /// Where the temporary files of a bounded build go (default: the system temp dir).
    #[serde(default, skip_serializing)]
    pub temp_dir: Option<PathBuf>,
}

impl Default for GlmOptions {
    fn default() -> Self {
        GlmOptions {
            order: 3,
            skips: Skips::All,
            discount_fallback: None,
            memory: None,
            temp_dir: None,
        }
    }
}

impl GlmOptions {
    /// Options for `order` with everything else at its default.
    pub fn with_order(order: usize) -> Self {
        GlmOptions {
            order,
            ..Self::default()
        }
    }

    /// Checks the options, naming the one at fault.
    pub fn validate(&self) -> Result<()> {
        if self.order < 2 {
            return Err(Error::invalid(format!(
                "GLM order {} is invalid: a generalized language model skips history words, so \
                 its order must be at least 2 (for unigrams use `lmlab train ngram --order 1`)",
                self.order
            )));
        }
        if self.order > MAX_ORDER {
            return Err(Error::invalid(format!(
                "GLM order {} is larger than the maximum of {MAX_ORDER} (an order-N GLM has \
                 2^(N-1) skip patterns, each counted separately)",
                self.order
            )));
        }
        // The fallback discounts obey the n-gram estimator's rules: checked there.
        NgramOptions {
            discount_fallback: self.discount_fallback,
            ..NgramOptions::with_order(1)
        }
        .validate()
    }
}
