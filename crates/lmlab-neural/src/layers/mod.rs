//! Layers as free functions with explicit forward and backward passes over caller-owned buffers.
//!
//! Conventions: activations are row-major `[rows, features]`; weights are stored as PyTorch stores
//! them (a linear map is `[out, in]`); every backward pass *adds* into its gradient outputs (parameter
//! gradients and input gradients alike), so callers zero what they want fresh and residual branches
//! and tied weights accumulate for free.

pub mod activation;
pub mod attention;
pub mod dropout;
pub mod embedding;
pub mod linear;
pub mod loss;
pub mod lstm;
pub mod norm;
pub mod rope;

#[cfg(test)]
pub(crate) mod gradcheck;
