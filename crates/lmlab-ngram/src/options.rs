//! Training options of the n-gram estimator and their validation.

use crate::discount::Discount;
use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// The largest order accepted: n-gram tables are keyed per order, and beyond this no corpus has
/// enough data for the discounts to mean anything.
pub const MAX_ORDER: usize = 64;

/// KenLM's fallback discounts (D1, D2, D3+), used with `--discount-fallback` and no explicit values.
pub const DEFAULT_FALLBACK: [f64; 3] = [0.5, 1.0, 1.5];

/// Options of [`crate::train`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NgramOptions {
    /// The model order N (1 = unigrams only).
    pub order: usize,
    /// Discounts (D1, D2, D3+) used for every order whose closed-form discounts are out of range
    /// (KenLM's `--discount_fallback`); `None` makes such an order an error.
    pub discount_fallback: Option<[f64; 3]>,
    /// Count-threshold pruning, KenLM's `--prune`: one threshold per order starting with unigrams
    /// (which must be 0), the last value repeating for higher orders; an n-gram whose raw count is
    /// at most its order's threshold is dropped. Empty = no pruning.
    pub prune: Vec<u64>,
}

impl Default for NgramOptions {
    fn default() -> Self {
        NgramOptions {
            order: 3,
            discount_fallback: None,
            prune: Vec::new(),
        }
    }
}

impl NgramOptions {
    /// Options for `order` with everything else at its default.
    pub fn with_order(order: usize) -> Self {
        NgramOptions {
            order,
            ..Self::default()
        }
    }

    /// Checks the options, naming the one at fault.
    pub fn validate(&self) -> Result<()> {
        if self.order == 0 {
            return Err(Error::invalid(
                "n-gram order 0 is invalid: the order must be at least 1",
            ));
        }
        if self.order > MAX_ORDER {
            return Err(Error::invalid(format!(
                "n-gram order {} is larger than the maximum of {MAX_ORDER}",
                self.order
            )));
        }
        if let Some(fallback) = self.discount_fallback {
            for (k, &d) in fallback.iter().enumerate() {
                let limit = (k + 1) as f64;
                if !(d.is_finite() && d >= 0.0 && d <= limit) {
                    return Err(Error::invalid(format!(
                        "--discount-fallback: D{} = {d} is outside [0, {limit}]",
                        if k == 2 {
                            "3+".to_string()
                        } else {
                            (k + 1).to_string()
                        }
                    )));
                }
            }
        }
        crate::prune::thresholds(&self.prune, self.order)?;
        Ok(())
    }

    /// The fallback discounts as a [`Discount`], if fallback is on.
    pub(crate) fn fallback(&self) -> Option<Discount> {
        self.discount_fallback.map(Discount::new)
    }
}
