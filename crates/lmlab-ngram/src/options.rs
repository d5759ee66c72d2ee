//! Training options of the n-gram estimator and their validation.

use crate::discount::Discount;
use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The largest order accepted: n-gram tables are keyed per order, and beyond this no corpus has
/// enough data for the discounts to mean anything.
pub const MAX_ORDER: usize = 64;

/// KenLM's fallback discounts (D1, D2, D3+), used with `--discount-fallback` and no explicit values.
pub const DEFAULT_FALLBACK: [f64; 3] = [0.5, 1.0, 1.5];

/// Options of [`crate::train`]. In a file every field may be left out (its [`Default`]); an
/// unknown field is an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// Bytes of memory (KenLM's `-S`): when counting's arrays (12 bytes per token) and the counts
    /// of every order at their largest (16 bytes per token and order) could exceed it, each
    /// finished order waits in files under [`NgramOptions::temp_dir`] instead of memory, with the
    /// same result. `None` = no limit (everything in memory). Not part
    /// of the model's provenance: it never changes the model.
    #[serde(default, skip_serializing)]
    pub memory: Option<u64>,
    /// Where the temporary files of a bounded-memory count go (default: the system temp dir).
    #[serde(default, skip_serializing)]
    pub temp_dir: Option<PathBuf>,
}

impl Default for NgramOptions {
    fn default() -> Self {
        NgramOptions {
            order: 3,
            discount_fallback: None,
            prune: Vec::new(),
            memory: None,
            temp_dir: None,
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

    /// The spill configuration of the counting stage, when memory is bounded.
    pub(crate) fn spill(&self) -> Option<crate::count::Spill> {
        self.memory.map(|memory| crate::count::Spill {
            memory,
            dir: self.temp_dir.clone().unwrap_or_else(std::env::temp_dir),
        })
    }

    /// The fallback discounts as a [`Discount`], if fallback is on.
    pub(crate) fn fallback(&self) -> Option<Discount> {
        self.discount_fallback.map(Discount::new)
    }
}

/// Parses a memory size as KenLM's `-S`: a number with an optional unit `b`, `K`, `M`, `G`, `T`
/// (powers of 1024; no unit = KiB, as lmplz) or `%` of physical memory.
pub fn parse_memory_size(text: &str) -> Result<u64> {
    let bad = || {
        Error::invalid(format!(
            "memory size '{text}': expected a number with an optional unit b, K, M, G, T or % \
             (e.g. 500M, 2G, 80%)"
        ))
    };
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| bad())?;
    let bytes = match unit {
        "%" => {
            let total = physical_memory().ok_or_else(|| {
                Error::invalid(format!(
                    "memory size '{text}': physical memory is unknown here; give a size like 2G"
                ))
            })?;
            value / 100.0 * total as f64
        }
        _ => {
            let power = match unit.to_ascii_uppercase().as_str() {
                "B" => 0,
                "" | "K" | "KB" | "KIB" => 1,
                "M" | "MB" | "MIB" => 2,
                "G" | "GB" | "GIB" => 3,
                "T" | "TB" | "TIB" => 4,
                _ => return Err(bad()),
            };
            value * 1024f64.powi(power)
        }
    };
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// Physical memory in bytes (Linux `/proc/meminfo`).
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_read_as_kenlm() {
        assert_eq!(parse_memory_size("500M").unwrap(), 500 << 20);
        assert_eq!(parse_memory_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_memory_size("1.5g").unwrap(), 3 << 29);
        assert_eq!(parse_memory_size("64").unwrap(), 64 << 10);
        assert_eq!(parse_memory_size("4096b").unwrap(), 4096);
        assert!(parse_memory_size("50%").unwrap() > 0);
        for bad in ["", "G", "2X", "-1G", "0", "abc"] {
            let err = parse_memory_size(bad).unwrap_err().to_string();
            assert!(err.contains("memory size"), "{bad}: {err}");
        }
    }
}
