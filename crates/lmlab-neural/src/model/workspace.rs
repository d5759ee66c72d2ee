//! Preallocated activations and gradient scratch for one batch shape: a training step allocates nothing.

use crate::config::ModelConfig;
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

impl<F: Float> BlockActs<F> {
    fn empty() -> Self {
        BlockActs {
            ln1: Vec::new(),
            ln1_mean: Vec::new(),
            ln1_rstd: Vec::new(),
            q: Vec::new(),
            k: Vec::new(),
            v: Vec::new(),
            probs: Vec::new(),
            atty: Vec::new(),
            mid: Vec::new(),
            ln2: Vec::new(),
            ln2_mean: Vec::new(),
            ln2_rstd: Vec::new(),
            fc: Vec::new(),
            act: Vec::new(),
            out: Vec::new(),
        }
    }
}

impl<F: Float> Workspace<F> {
    /// Buffers for `b × t` tokens of model `c` (`t ≤ block_size`).
    pub fn new(c: &ModelConfig, b: usize, t: usize) -> Self {
        let mut ws = Workspace {
            b: 0,
            t: 0,
            x0: Vec::new(),
            blocks: (0..c.n_layer).map(|_| BlockActs::empty()).collect(),
            lnf: Vec::new(),
            lnf_mean: Vec::new(),
            lnf_rstd: Vec::new(),
            logits: Vec::new(),
            qkv: Vec::new(),
            yh: Vec::new(),
            dresid: Vec::new(),
            dln: Vec::new(),
            datty: Vec::new(),
            dq: Vec::new(),
            dk: Vec::new(),
            dv: Vec::new(),
            dqkv: Vec::new(),
            dprobs: Vec::new(),
            dfc: Vec::new(),
            dact: Vec::new(),
            dropped: false,
            drop_masks: Vec::new(),
            dbranch: Vec::new(),
        };
        ws.reshape(c, b, t);
        ws
    }

    /// Makes the buffers those of `b × t` tokens, keeping their allocations: scoring windows of many
    /// shapes one after another allocates (and page-faults) only when a shape is the largest yet.
    /// Contents are not kept; dropout masks are dropped (the next forward pass that drops makes them).
    pub fn reshape(&mut self, c: &ModelConfig, b: usize, t: usize) {
        self.reshape_forward(c, b, t);
        self.size_gradients(c, b, t, true);
    }

    /// [`Workspace::reshape`] for forward passes only (scoring): the backward pass's buffers are
    /// emptied (their allocations kept) instead of sized and zero-filled. A later
    /// [`Workspace::reshape`] sizes them again before any backward pass.
    pub fn reshape_for_inference(&mut self, c: &ModelConfig, b: usize, t: usize) {
        self.reshape_forward(c, b, t);
        self.size_gradients(c, b, t, false);
    }

    /// Sizes the buffers the forward pass writes and records the shape.
    fn reshape_forward(&mut self, c: &ModelConfig, b: usize, t: usize) {
        assert!(t >= 1 && t <= c.block_size, "window longer than block_size");
        let (d, h, ff, v) = (c.n_embd, c.n_head, c.ff(), c.vocab_size);
        let n = b * t;
        let f_in = c.ff_in();
        for a in &mut self.blocks {
            for (buffer, len) in [
                (&mut a.ln1, n * d),
                (&mut a.ln1_mean, n),
                (&mut a.ln1_rstd, n),
                (&mut a.q, n * d),
                (&mut a.k, n * d),
                (&mut a.v, n * d),
                (&mut a.probs, b * h * t * t),
                (&mut a.atty, n * d),
                (&mut a.mid, n * d),
                (&mut a.ln2, n * d),
                (&mut a.ln2_mean, n),
                (&mut a.ln2_rstd, n),
                (&mut a.fc, n * f_in),
                (&mut a.act, n * ff),
                (&mut a.out, n * d),
            ] {
                buffer.resize(len, F::ZERO);
            }
        }
        for (buffer, len) in [
            (&mut self.x0, n * d),
            (&mut self.lnf, n * d),
            (&mut self.lnf_mean, n),
            (&mut self.lnf_rstd, n),
            (&mut self.logits, n * v),
            (&mut self.qkv, n * 3 * d),
            (&mut self.yh, n * d),
        ] {
            buffer.resize(len, F::ZERO);
        }
        self.b = b;
        self.t = t;
        self.dropped = false;
        self.drop_masks.clear();
        self.dbranch.clear();
    }

    /// Sizes the backward pass's buffers for `b × t` tokens, or empties them (`sized` false).
    fn size_gradients(&mut self, c: &ModelConfig, b: usize, t: usize, sized: bool) {
        let (d, h, ff) = (c.n_embd, c.n_head, c.ff());
        let n = if sized { b * t } else { 0 };
        let f_in = c.ff_in();
        let heads = if sized { b * h * t * t } else { 0 };
        for (buffer, len) in [
            (&mut self.dresid, n * d),
            (&mut self.dln, n * d),
            (&mut self.datty, n * d),
            (&mut self.dq, n * d),
            (&mut self.dk, n * d),
            (&mut self.dv, n * d),
            (&mut self.dqkv, n * 3 * d),
            (&mut self.dprobs, heads),
            (&mut self.dfc, n * f_in),
            (&mut self.dact, n * ff),
        ] {
            buffer.resize(len, F::ZERO);
        }
    }
}
