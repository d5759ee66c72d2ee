//! Reinforcement learning with verifiable rewards on [`crate::tasks`]: GRPO (`grpo`: the loop,
//! checkpoints, budgets, resume), its scaffolds (`scaffold`: Scaf-GRPO's tiered hints for groups
//! that all fail, and hints given with a decaying probability), the sampled groups (`groups`) and
//! pass@1 by difficulty (`eval`). The network side (objective, gradient, KV-cache sampling) is
//! `lmlab_neural::grpo`.

pub mod eval;
mod groups;
pub mod grpo;
pub mod scaffold;

pub use eval::{evaluate, DifficultyScore};
pub use grpo::{train_grpo, GrpoEvent, GrpoOptions, GrpoReport, GrpoStop};
pub use scaffold::Scaffold;
