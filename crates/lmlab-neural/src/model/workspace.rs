//! Preallocated activations and gradient scratch for one batch shape: a training step allocates nothing.

use crate::config::{Mlp, ModelConfig};
use crate::float::Float;

/// What one block keeps from its forward pass for the backward pass.
#[derive(Clone, Debug)]
pub struct BlockActs<F> {
    /// Input of the attention branch after the first norm `[n, d]`.
    pub ln1: Vec<F>,
    /// First norm's row means (LayerNorm).
    pub ln1_mean: Vec<F>,
    /// First norm's row reciprocal deviations.
    pub ln1_rstd: Vec<F>,
    /// Queries, keys, values, head-major `[b, h, t, hd]` (rotated when RoPE is on).
    pub q: Vec<F>,
    /// Keys.
    pub k: Vec<F>,
    /// Values.
    pub v: Vec<F>,
    /// Attention probabilities `[b, h, t, t]`.
    pub probs: Vec<F>,
    /// Attention output, rows `[n, d]` (input of the output projection).
    pub atty: Vec<F>,
    /// Residual stream after the attention branch.
    pub mid: Vec<F>,
    /// Input of the MLP after the second norm.
    pub ln2: Vec<F>,
    /// Second norm's row means.
    pub ln2_mean: Vec<F>,
    /// Second norm's row reciprocal deviations.
    pub ln2_rstd: Vec<F>,
    /// MLP pre-activation `[n, ff]` or `[n, 2ff]` (SwiGLU).
    pub fc: Vec<F>,
    /// MLP activation `[n, ff]`.
    pub act: Vec<F>,
    /// Block output (residual stream).
    pub out: Vec<F>,
}

/// Buffers for batches of `b` sequences of `t` tokens.
#[derive(Clone, Debug)]
pub struct Workspace<F> {
    /// Sequences.
    pub b: usize,
    /// Tokens per sequence.
    pub t: usize,
    /// Embedding output `[n, d]`.
    pub x0: Vec<F>,
    /// Per-block activations.
    pub blocks: Vec<BlockActs<F>>,
    /// Final norm output.
    pub lnf: Vec<F>,
    /// Final norm means.
    pub lnf_mean: Vec<F>,
    /// Final norm reciprocal deviations.
    pub lnf_rstd: Vec<F>,
    /// Logits, turned into probabilities by the forward pass, then into their gradient by backward.
    pub logits: Vec<F>,
    pub(crate) qkv: Vec<F>,
    pub(crate) yh: Vec<F>,
    pub(crate) dresid: Vec<F>,
    pub(crate) dln: Vec<F>,
    pub(crate) datty: Vec<F>,
    pub(crate) dq: Vec<F>,
    pub(crate) dk: Vec<F>,
    pub(crate) dv: Vec<F>,
    pub(crate) dqkv: Vec<F>,
    pub(crate) dprobs: Vec<F>,
    pub(crate) dfc: Vec<F>,
    pub(crate) dact: Vec<F>,
    /// Whether the last forward pass applied dropout (its masks are then in `drop_masks`).
    pub(crate) dropped: bool,
    /// Dropout masks `[n, d]`: embeddings, then each block's attention and MLP branch (allocated by
    /// the first forward pass that drops).
    pub(crate) drop_masks: Vec<Vec<F>>,
    /// A residual gradient through a dropout mask `[n, d]` (allocated with the masks).
    pub(crate) dbranch: Vec<F>,
}

impl<F: Float> Workspace<F> {
    /// Buffers for `b × t` tokens of model `c` (`t ≤ block_size`).
    pub fn new(c: &ModelConfig, b: usize, t: usize) -> Self {
        assert!(t >= 1 && t <= c.block_size, "window longer than block_size");
        let (d, h, ff, v) = (c.n_embd, c.n_head, c.ff(), c.vocab_size);
        let n = b * t;
        let f_in = if c.mlp == Mlp::SwiGlu { 2 * ff } else { ff };
        let z = |len: usize| vec![F::ZERO; len];
        let block = || BlockActs {
            ln1: z(n * d),
            ln1_mean: z(n),
            ln1_rstd: z(n),
            q: z(n * d),
            k: z(n * d),
            v: z(n * d),
            probs: z(b * h * t * t),
            atty: z(n * d),
            mid: z(n * d),
            ln2: z(n * d),
            ln2_mean: z(n),
            ln2_rstd: z(n),
            fc: z(n * f_in),
            act: z(n * ff),
            out: z(n * d),
        };
        Workspace {
            b,
            t,
            x0: z(n * d),
            blocks: (0..c.n_layer).map(|_| block()).collect(),
            lnf: z(n * d),
            lnf_mean: z(n),
            lnf_rstd: z(n),
            logits: z(n * v),
            qkv: z(n * 3 * d),
            yh: z(n * d),
            dresid: z(n * d),
            dln: z(n * d),
            datty: z(n * d),
            dq: z(n * d),
            dk: z(n * d),
            dv: z(n * d),
            dqkv: z(n * 3 * d),
            dprobs: z(b * h * t * t),
            dfc: z(n * f_in),
            dact: z(n * ff),
            dropped: false,
            drop_masks: Vec::new(),
            dbranch: Vec::new(),
        }
    }
}
