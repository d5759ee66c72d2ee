//! A hypothesis as a checkable claim:
//! `arm:A < arm:B on SPLIT.METRIC [at every budget | at budget N]`
//! (`<` means A's metric is lower than B's; `>` higher). The metric is a field of
//! [`crate::run::EvalSummary`]; without `at ...` the claim is checked at every budget.

use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// The metrics a claim may name.
pub const CLAIM_METRICS: &[&str] = &[
    "bits_per_byte",
    "perplexity",
    "perplexity_excluding_oov",
    "word_perplexity",
];

/// Which way the claim goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// The left arm's metric is lower.
    Lower,
    /// The left arm's metric is higher.
    Higher,
}

/// Where the claim is checked.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Budgets {
    /// At every budget of the experiment.
    Every,
    /// At this budget only.
    One(f64),
}

/// A parsed claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// The left arm.
    pub left: String,
    /// Lower or higher.
    pub direction: Direction,
    /// The right arm.
    pub right: String,
    /// `valid` or `test`.
    pub split: String,
    /// A field of the evaluation summary.
    pub metric: String,
    /// Where it is checked.
    pub budgets: Budgets,
}

impl Claim {
    /// Parses `text`; `arms` are the experiment's arm names (after sweeps), which the claim must
    /// name.
    pub fn parse(text: &str, arms: &[&str]) -> Result<Claim> {
        let bad = |m: &str| {
            Err(Error::invalid(format!(
                "claim \"{text}\": {m} (the form is \"arm:A < arm:B on test.bits_per_byte at every budget\")"
            )))
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.len() < 5 || words[3] != "on" {
            return bad("cannot read it");
        }
        let arm = |w: &str| w.strip_prefix("arm:").map(str::to_string);
        let (Some(left), Some(right)) = (arm(words[0]), arm(words[2])) else {
            return bad("arms are written arm:NAME");
        };
        for name in [&left, &right] {
            if !arms.contains(&name.as_str()) {
                return Err(Error::invalid(format!(
                    "claim \"{text}\": no arm named '{name}' (arms: {})",
                    arms.join(", ")
                )));
            }
        }
        let direction = match words[1] {
            "<" => Direction::Lower,
            ">" => Direction::Higher,
            _ => return bad("the comparison is < or >"),
        };
        let Some((split, metric)) = words[4].split_once('.') else {
            return bad("the measure is SPLIT.METRIC");
        };
        if split != "valid" && split != "test" {
            return bad("the split is valid or test");
        }
        if !CLAIM_METRICS.contains(&metric) {
            return Err(Error::invalid(format!(
                "claim \"{text}\": unknown metric '{metric}' (known: {})",
                CLAIM_METRICS.join(", ")
            )));
        }
        let budgets = match &words[5..] {
            [] | ["at", "every", "budget"] => Budgets::Every,
            ["at", "budget", n] => match n.parse::<f64>() {
                Ok(b) if b > 0.0 => Budgets::One(b),
                _ => return bad("the budget is a positive number"),
            },
            _ => return bad("it ends with 'at every budget' or 'at budget N'"),
        };
        Ok(Claim {
            left,
            direction,
            right,
            split: split.to_string(),
            metric: metric.to_string(),
            budgets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_parse_and_name_real_arms() {
        let c = Claim::parse(
            "arm:scaffold < arm:bpe on test.bits_per_byte at every budget",
            &["bpe", "scaffold"],
        )
        .unwrap();
        assert_eq!((c.left.as_str(), c.right.as_str()), ("scaffold", "bpe"));
        assert_eq!(c.direction, Direction::Lower);
        assert_eq!(c.budgets, Budgets::Every);
        let c = Claim::parse(
            "arm:a > arm:b on valid.perplexity at budget 60",
            &["a", "b"],
        )
        .unwrap();
        assert_eq!(c.budgets, Budgets::One(60.0));
        let err = |t: &str| Claim::parse(t, &["a", "b"]).unwrap_err().to_string();
        assert!(err("arm:a < arm:c on test.bits_per_byte").contains("no arm named 'c'"));
        assert!(err("arm:a <= arm:b on test.bits_per_byte").contains("< or >"));
        assert!(err("arm:a < arm:b on test.accuracy").contains("unknown metric"));
        assert!(err("a is better").contains("the form is"));
    }
}
