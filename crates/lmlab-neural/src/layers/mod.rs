//! Layers as free functions with explicit forward and backward passes over caller-owned buffers.
//!
//! Conventions: activations are row-major `[rows, features]`; weights are stored as PyTorch stores
//! them (a linear map is `[out, in]`). Parameter gradients are always *added* into (`dw`, `db`, `dg`,
//! the embedding tables), so tied weights accumulate and callers zero them once per step. Input
//! gradients differ by layer, as each function's doc says:
//!
//! - *overwritten* (no need to zero first): `linear::backward`'s `dx`, `lstm::backward`'s `dx`,
//!   `activation::gelu_backward` and `activation::swiglu_backward`, `attention::split_heads_backward`
//!   and `attention::merge_heads_backward`, and `loss::softmax_cross_entropy_backward` (in place);
//! - *added into* (callers zero them or let a residual branch accumulate): `norm::layer_norm_backward`
//!   and `norm::rms_norm_backward`'s `dx`, and `attention::backward`'s `dq`, `dk`, `dv`.

pub mod activation;
pub mod attention;
pub mod dropout;
pub mod embedding;
pub mod linear;
pub mod loss;
pub mod lstm;
pub mod norm;
pub mod packed;
pub mod rope;
pub mod row_tiles;

#[cfg(test)]
pub(crate) mod gradcheck;
