//! Training options of the memory-based models.

use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which classifier predicts the top-1 class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Exact-match descent to the deepest matching node (TiMBL `-a1`).
    #[serde(rename = "igtree")]
    IgTree,
    /// Exact-match descent, then 1-nearest-neighbour below the first mismatch (TiMBL `-a4`).
    Tribl2,
}

impl Algorithm {
    /// The name used on the command line and in model descriptions.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::IgTree => "igtree",
            Algorithm::Tribl2 => "tribl2",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Algorithm> {
        match s {
            "igtree" => Ok(Algorithm::IgTree),
            "tribl2" => Ok(Algorithm::Tribl2),
            other => Err(Error::invalid(format!(
                "--algorithm: unknown memory algorithm '{other}' (expected igtree or tribl2)"
            ))),
        }
    }
}

/// Options of [`crate::train`]. In a file `algorithm` defaults to IGTree and `prune` to false; an
/// unknown field is an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryOptions {
    /// The top-1 classifier.
    #[serde(default = "igtree")]
    pub algorithm: Algorithm,
    /// How many previous tokens form an instance (`K`, at least 1; default
    /// [`DEFAULT_CONTEXT`]).
    #[serde(default = "default_context")]
    pub context: usize,
    /// Drop the subtrees below nodes whose instances all share one class (IGTree only). Top-1
    /// predictions are unchanged; the model file shrinks; the smoothed distribution stops at the
    /// unambiguous node; and the model can no longer take incremental training.
    #[serde(default)]
    pub prune: bool,
}

/// The context size when none is given: OLIFANT's 4 previous tokens.
pub const DEFAULT_CONTEXT: usize = 4;

fn default_context() -> usize {
    DEFAULT_CONTEXT
}

fn igtree() -> Algorithm {
    Algorithm::IgTree
}

impl MemoryOptions {
    /// IGTree over `context` previous tokens, unpruned.
    pub fn igtree(context: usize) -> MemoryOptions {
        MemoryOptions {
            algorithm: Algorithm::IgTree,
            context,
            prune: false,
        }
    }

    /// TRIBL2 over `context` previous tokens.
    pub fn tribl2(context: usize) -> MemoryOptions {
        MemoryOptions {
            algorithm: Algorithm::Tribl2,
            context,
            prune: false,
        }
    }

    /// Checks the options on their own.
    pub fn validate(&self) -> Result<()> {
        if self.context == 0 {
            return Err(Error::invalid(
                "--context must be at least 1 (the number of previous tokens an instance holds)",
            ));
        }
        if self.context > 255 {
            return Err(Error::invalid(format!(
                "--context {} is too large (at most 255)",
                self.context
            )));
        }
        if self.prune && self.algorithm == Algorithm::Tribl2 {
            return Err(Error::invalid(
                "--prune applies to igtree only: tribl2's nearest-neighbour search needs every instance",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_print_and_serialize_alike() {
        for a in [Algorithm::IgTree, Algorithm::Tribl2] {
            assert_eq!(a.name().parse::<Algorithm>().unwrap(), a);
            assert_eq!(serde_json::to_value(a).unwrap(), a.name());
        }
        let o = MemoryOptions::igtree(4);
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["algorithm"], "igtree");
        assert_eq!(serde_json::from_value::<MemoryOptions>(json).unwrap(), o);
    }
}
