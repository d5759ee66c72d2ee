//! Scaffolds: when and which hints a GRPO step gives.
//!
//! - [`Scaffold::ScafGrpo`] follows Scaf-GRPO (Zhang et al. 2025, arXiv:2510.19807): no guidance
//!   during a warm-up (the paper's guidance-exemption period, here a fraction of `max_steps`); after
//!   it, a group in which no sample is correct (the "learning cliff": every advantage zero) gets
//!   hints tier by tier — knowledge, then planning, then solution — and the first tier under which
//!   a guided sample is correct stops the search: that guided sample replaces one failed sample of
//!   the group, and is trained on with the hint in its context (on-policy: its log-probabilities
//!   are the policy's given the hinted prompt).
//!
//!   Checked against the authors' code (github.com/dvlab-research/Scaf-GRPO,
//!   `hint_mix_grpo/trainer/ray_trainer.py` and `sh/hint_mix_grpo/bs256_6k_mix.sh`, read at
//!   1085db5): the same replacement of one failed sample of an all-zero group by a correct guided
//!   one, its hinted prompt kept as context (their default `replace_hint_prompt=False`), the
//!   minimal hint level winning. Where lmlab differs: their hint levels are cumulative parts
//!   within a tier (4 levels a tier, parts written offline by a larger model) and the released
//!   code tries only the knowledge and solution tiers (planning is commented out), one sample per
//!   level, all levels in one batch; lmlab has one hint per tier, tries all three tiers in order
//!   with G samples each and stops at the first tier with a correct sample. Their warm-up is an
//!   absolute step count (50 steps in the shipped script), lmlab's a fraction of `max_steps`; their
//!   script trains without a KL term (coefficient 0) at a constant learning rate of 1e-6, lmlab's
//!   default β is 0.04.
//! - [`Scaffold::Decay`] gives each sample, with a probability that decays linearly from
//!   `hint_probability` at the first step to 0 at `max_steps`, a hint of a tier drawn uniformly
//!   (RuscaRL-style guidance that fades over training).

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The scaffold of a GRPO run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scaffold {
    /// Plain GRPO: no hints.
    #[default]
    None,
    /// Tiered hints for all-failing groups after a warm-up.
    ScafGrpo,
    /// Hints with a linearly decaying probability.
    Decay,
}

impl FromStr for Scaffold {
    type Err = lmlab_core::Error;
    fn from_str(s: &str) -> lmlab_core::Result<Self> {
        match s {
            "none" => Ok(Scaffold::None),
            "scaf-grpo" => Ok(Scaffold::ScafGrpo),
            "decay" => Ok(Scaffold::Decay),
            _ => Err(lmlab_core::Error::invalid(format!(
                "unknown scaffold `{s}` (none, scaf-grpo, decay)"
            ))),
        }
    }
}

/// The probability that a sample gets a hint at `step` under [`Scaffold::Decay`]:
/// `p0 · (1 − step / max_steps)`, never below 0.
pub fn decayed_probability(p0: f64, step: usize, max_steps: usize) -> f64 {
    (p0 * (1.0 - step as f64 / max_steps.max(1) as f64)).max(0.0)
}

/// True when Scaf-GRPO may guide at `step`: after the first `warmup · max_steps` steps.
pub fn past_warmup(warmup: f64, step: usize, max_steps: usize) -> bool {
    step as f64 >= warmup * max_steps as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay_and_warmup() {
        assert_eq!(decayed_probability(0.5, 0, 100), 0.5);
        assert_eq!(decayed_probability(0.5, 50, 100), 0.25);
        assert_eq!(decayed_probability(0.5, 100, 100), 0.0);
        assert_eq!(decayed_probability(0.5, 150, 100), 0.0);
        assert!(!past_warmup(0.15, 14, 100));
        assert!(past_warmup(0.15, 15, 100));
        assert_eq!("scaf-grpo".parse::<Scaffold>().unwrap(), Scaffold::ScafGrpo);
        assert!("hints".parse::<Scaffold>().is_err());
    }
}
