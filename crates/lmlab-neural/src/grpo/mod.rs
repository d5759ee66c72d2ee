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

/// A tiny transformer config for the tests: 2 layers, 2 heads, width 8, learned positions.
#[cfg(test)]
pub(crate) fn test_config(vocab_size: usize, block_size: usize) -> crate::config::ModelConfig {
    let text = format!("[model]\nn_layer = 2\nn_head = 2\nn_embd = 8\nblock_size = {block_size}\n[train]\nbatch_size = 1\nmax_steps = 1\nlearning_rate = 1e-3\nmin_lr = 1e-4\nwarmup_steps = 0\n");
    let mut c = crate::config::RunConfig::parse(&text)
        .expect("a valid config")
        .model;
    c.vocab_size = vocab_size;
    c
}
