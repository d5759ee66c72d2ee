//! Reinforcement learning with verifiable rewards on [`crate::tasks`]: GRPO (`grpo`: the loop,
//! checkpoints, budgets, resume), its scaffolds (`scaffold`: Scaf-GRPO's tiered hints for groups
//! that all fail, and hints given with a decaying probability), the sampled groups (`groups`) and
//! pass@1 by difficulty (`eval`); `from_parent` is GRPO from another run as an experiment arm
//! calls it (serde options, budget, seed, test pass@1 by difficulty). The network side (objective, gradient, KV-cache sampling) is
//! `lmlab_neural::grpo`.

pub mod eval;
pub mod from_parent;
mod groups;
pub mod grpo;
pub mod scaffold;

pub use eval::{evaluate, DifficultyScore};
pub use from_parent::{grpo_from_parent, RlOutcome, RlStart};
pub use grpo::{train_grpo, GrpoEvent, GrpoOptions, GrpoReport, GrpoStop};
pub use scaffold::Scaffold;
