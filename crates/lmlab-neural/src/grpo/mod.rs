//! The pieces of GRPO (group relative policy optimization, Shao et al. 2024) that touch the network:
//! the per-token objective (`objective`: group-normalised advantages, the clipped ratio, the k3 KL
//! estimator), the policy loss and its gradient through the transformer (`policy`), and sampled
//! completions through the KV cache (`rollout`). Tasks, rewards, scaffolds and the training loop
//! live in `lmlab_lab::rl`.

pub mod objective;
pub mod policy;
pub mod rollout;

pub use objective::{group_advantages, k3, token_objective, ObjectiveParams, TokenTerm};
pub use policy::{policy_step, token_log_probs, PolicyBatch, PolicyStats};
pub use rollout::sample_completion;
