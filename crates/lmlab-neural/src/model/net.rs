//! What the training loop needs from a network family, so one loop trains the transformer and the LSTM.

use super::lstm::{LstmNet, LstmWorkspace};
use super::params::ParamSpec;
use super::transformer::Transformer;
use super::workspace::Workspace;
use crate::config::ModelConfig;
use lmlab_core::Result;

/// A trainable network over one flat `f32` parameter buffer.
pub trait Net: Sized + Send + Sync {
    /// Its activation buffers for one batch shape.
    type Ws: Send;
    /// A freshly initialized network.
    fn init(config: &ModelConfig, seed: u64) -> Result<Self>;
    /// Its named tensors.
    fn specs(&self) -> &[ParamSpec];
    /// Its parameters.
    fn params(&self) -> &[f32];
    /// Its parameters, mutable.
    fn params_mut(&mut self) -> &mut Vec<f32>;
    /// Buffers for `b` windows of `t` tokens.
    fn workspace(&self, b: usize, t: usize) -> Self::Ws;
    /// Forward with targets: `(Σ −ln p(target), scored rows)`; with a `dropout_key`, in training
    /// mode (dropout, where the config has it, with masks drawn from the key).
    fn forward_keyed(
        &self,
        ws: &mut Self::Ws,
        x: &[u32],
        y: &[u32],
        ignore: Option<u32>,
        dropout_key: Option<u64>,
    ) -> (f64, usize);
    /// Forward with targets in evaluation mode: `(Σ −ln p(target), scored rows)`.
    fn forward_loss(
        &self,
        ws: &mut Self::Ws,
        x: &[u32],
        y: &[u32],
        ignore: Option<u32>,
    ) -> (f64, usize) {
        self.forward_keyed(ws, x, y, ignore, None)
    }
    /// [`Net::forward_loss`] in training mode, with dropout masks drawn from `dropout_key`.
    fn forward_train(
        &self,
        ws: &mut Self::Ws,
        x: &[u32],
        y: &[u32],
        ignore: Option<u32>,
        dropout_key: u64,
    ) -> (f64, usize) {
        self.forward_keyed(ws, x, y, ignore, Some(dropout_key))
    }
    /// Backward after [`Net::forward_loss`] or [`Net::forward_train`]: adds `scale · ∂(Σ loss)/∂θ` into `grads`.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        ws: &mut Self::Ws,
        grads: &mut [f32],
        x: &[u32],
        y: &[u32],
        ignore: Option<u32>,
        scale: f32,
    );
    /// Whether [`Net::probs_mut`]'s rows are time-major (row `ti·b + bi`, the LSTM's) rather than
    /// window-major (row `bi·t + ti`, as `x` and `y` are laid out).
    const TIME_MAJOR_ROWS: bool = false;
    /// After a forward pass: each row's next-token probabilities (`b·t × vocab`), where a loss
    /// other than the cross-entropy writes its logit gradient before
    /// [`Net::backward_from_logit_grads`].
    fn probs_mut<'w>(&self, ws: &'w mut Self::Ws) -> &'w mut [f32];
    /// Backward from the logit gradient left in [`Net::probs_mut`]'s rows: adds `∂loss/∂θ` into
    /// `grads`.
    fn backward_from_logit_grads(&self, ws: &mut Self::Ws, grads: &mut [f32], x: &[u32]);
}

impl Net for Transformer<f32> {
    type Ws = Workspace<f32>;
    fn init(config: &ModelConfig, seed: u64) -> Result<Self> {
        Transformer::new(config, seed)
    }
    fn specs(&self) -> &[ParamSpec] {
        &self.layout.specs
    }
    fn params(&self) -> &[f32] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut Vec<f32> {
        &mut self.params
    }
    fn workspace(&self, b: usize, t: usize) -> Self::Ws {
        Workspace::new(&self.config, b, t)
    }
    fn forward_keyed(
        &self,
        ws: &mut Self::Ws,
        x: &[u32],
        y: &[u32],
        ignore: Option<u32>,
        dropout_key: Option<u64>,
    ) -> (f64, usize) {
        self.forward_dropout(ws, x, Some(y), ignore, dropout_key)
    }
    fn backward(
        &self,
        ws: &mut Self::Ws,
        grads: &mut [f32],
        x: &[u32],
        y: &[u32],
        ignore: Option<u32>,
        scale: f32,
    ) {
        Transformer::backward(self, ws, grads, x, y, ignore, scale)
    }
    fn probs_mut<'w>(&self, ws: &'w mut Self::Ws) -> &'w mut [f32] {
        &mut ws.logits
    }
    fn backward_from_logit_grads(&self, ws: &mut Self::Ws, grads: &mut [f32], x: &[u32]) {
        Transformer::backward_from_logit_grads(self, ws, grads, x)
    }
}

impl Net for LstmNet<f32> {
    type Ws = LstmWorkspace<f32>;
    const TIME_MAJOR_ROWS: bool = true;
    fn init(config: &ModelConfig, seed: u64) -> Result<Self> {
        LstmNet::new(config, seed)
    }
    fn specs(&self) -> &[ParamSpec] {
        &self.layout.specs
    }
    fn params(&self) -> &[f32] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut Vec<f32> {
        &mut self.params
    }
    fn workspace(&self, b: usize, t: usize) -> Self::Ws {
        LstmNet::workspace(self, b, t)
    }
    fn forward_keyed(
        &self,
        ws: &mut Self::Ws,
        x: &[u32],
        y: &[u32],
        ignore: Option<u32>,
        dropout_key: Option<u64>,
    ) -> (f64, usize) {
        self.forward_dropout(ws, x, Some(y), ignore, dropout_key)
    }
    fn backward(
        &self,
        ws: &mut Self::Ws,
        grads: &mut [f32],
        _x: &[u32],
        _y: &[u32],
        ignore: Option<u32>,
        scale: f32,
    ) {
        LstmNet::backward(self, ws, grads, ignore, scale)
    }
    fn probs_mut<'w>(&self, ws: &'w mut Self::Ws) -> &'w mut [f32] {
        &mut ws.logits
    }
    fn backward_from_logit_grads(&self, ws: &mut Self::Ws, grads: &mut [f32], _x: &[u32]) {
        LstmNet::backward_from_logit_grads(self, ws, grads)
    }
}
