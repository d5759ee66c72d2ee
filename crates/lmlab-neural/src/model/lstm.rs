//! The LSTM language model: token embedding, `n_layer` LSTM layers of width `n_embd`, an output head
//! (tied to the embedding or not). Trained on windows of `block_size` tokens from a zero state.

use super::params::{init_params, Init, ParamSpec, Span, SpecList};
use crate::config::ModelConfig;
use crate::float::Float;
use crate::layers::lstm::{self, LstmShape};
use crate::layers::{dropout, embedding, linear, loss};
use lmlab_core::{Error, Result};

/// Spans of one LSTM layer.
#[derive(Clone, Copy, Debug)]
pub struct LstmLayerSpans {
    /// Input weights `[4h, h]`.
    pub w_ih: Span,
    /// Recurrent weights `[4h, h]`.
    pub w_hh: Span,
    /// Gate biases `[4h]`.
    pub bias: Span,
}

/// Where the LSTM's tensors live.
#[derive(Clone, Debug)]
pub struct LstmLayout {
    /// Every tensor in buffer order.
    pub specs: Vec<ParamSpec>,
    /// Token embedding `[V, d]`.
    pub wte: Span,
    /// Layers.
    pub layers: Vec<LstmLayerSpans>,
    /// Output head `[V, d]` (the embedding when tied).
    pub head: Span,
}

impl LstmLayout {
    /// The layout of `c` (assumed valid, arch = lstm).
    pub fn new(c: &ModelConfig) -> LstmLayout {
        let (d, v) = (c.n_embd, c.vocab_size);
        let a = 1.0 / (d as f64).sqrt();
        let mut list = SpecList::default();
        let wte = list.add("wte".into(), vec![v, d], true, Init::Normal(0.02));
        let layers = (0..c.n_layer)
            .map(|l| LstmLayerSpans {
                w_ih: list.add(
                    format!("lstm.{l}.weight_ih"),
                    vec![4 * d, d],
                    true,
                    Init::Uniform(a),
                ),
                w_hh: list.add(
                    format!("lstm.{l}.weight_hh"),
                    vec![4 * d, d],
                    true,
                    Init::Uniform(a),
                ),
                bias: list.add(
                    format!("lstm.{l}.bias"),
                    vec![4 * d],
                    false,
                    Init::Uniform(a),
                ),
            })
            .collect();
        let head = if c.tied_head {
            wte
        } else {
            list.add(
                "lm_head.weight".into(),
                vec![v, d],
                true,
                Init::Normal(0.02),
            )
        };
        LstmLayout {
            specs: list.into_specs(),
            wte,
            layers,
            head,
        }
    }
}

/// An LSTM LM: config, layout and flat parameters.
#[derive(Clone, Debug)]
pub struct LstmNet<F> {
    /// The shape.
    pub config: ModelConfig,
    /// Where each tensor lives.
    pub layout: LstmLayout,
    /// All parameters.
    pub params: Vec<F>,
}

/// Activations of one batch shape (time-major inside).
#[derive(Clone, Debug)]
pub struct LstmWorkspace<F> {
    /// Sequences.
    pub b: usize,
    /// Steps.
    pub t: usize,
    tokens: Vec<u32>,
    targets: Vec<u32>,
    x0: Vec<F>,
    gates: Vec<Vec<F>>,
    cs: Vec<Vec<F>>,
    hs: Vec<Vec<F>>,
    tc: Vec<Vec<F>>,
    /// Probabilities after forward (time-major rows), their gradient after backward.
    pub logits: Vec<F>,
    dh: Vec<F>,
    dx: Vec<F>,
    dgates: Vec<F>,
    dh_next: Vec<F>,
    dc_next: Vec<F>,
    /// Whether the last forward pass dropped units (its masks are then in `drop`).
    dropped: bool,
    /// Dropout masks and dropped activations, allocated on the first training pass with dropout.
    drop: Option<LstmDropout<F>>,
}

impl<F> LstmWorkspace<F> {
    /// Each layer's hidden outputs of the last forward pass, `[t·b, d]` time-major (the initial
    /// state left out).
    pub(crate) fn layer_outputs(&self) -> impl Iterator<Item = &[F]> {
        let skip = self.b
            * self
                .hs
                .first()
                .map_or(0, |h| h.len() / ((self.t + 1) * self.b));
        self.hs.iter().map(move |h| &h[skip..])
    }
}

/// Non-recurrent dropout (Zaremba et al. 2014): on the embeddings, between layers and before the
/// head; the recurrent connections are never dropped.
#[derive(Clone, Debug)]
struct LstmDropout<F> {
    /// Site 0: embeddings; site l (1 ≤ l < L): the input of layer l; site L: the top output.
    masks: Vec<Vec<F>>,
    /// `inputs[l - 1]`: the dropped input of layer l ≥ 1.
    inputs: Vec<Vec<F>>,
    /// The dropped top output, the head's input.
    top: Vec<F>,
}

/// The head's input: the top layer's outputs `top`, or their dropped copy when the last forward
/// pass trained with dropout.
fn head_input<'a, F>(drop: &'a Option<LstmDropout<F>>, dropped: bool, top: &'a [F]) -> &'a [F] {
    match drop {
        Some(drop) if dropped => &drop.top,
        _ => top,
    }
}

/// The recurrent state of one sequence: `h` and `c` of every layer.
#[derive(Clone, Debug)]
pub struct LstmState<F> {
    h: Vec<F>,
    c: Vec<F>,
    x: Vec<F>,
    gates: Vec<F>,
    /// The recurrent products `w_hh · h` of a step (scratch).
    recurrent: Vec<F>,
    probs: Vec<F>,
}

impl<F: Float> LstmNet<F> {
    /// A freshly initialized model.
    pub fn new(config: &ModelConfig, seed: u64) -> Result<Self> {
        let mut m = Self::zeros(config)?;
        m.params = init_params(&m.layout.specs, seed);
        Ok(m)
    }

    /// A model with all parameters zero.
    pub fn zeros(config: &ModelConfig) -> Result<Self> {
        config.validate()?;
        if config.arch != crate::config::Arch::Lstm {
            return Err(Error::invalid("LstmNet needs model.arch = \"lstm\""));
        }
        let layout = LstmLayout::new(config);
        let total = super::params::total_len(&layout.specs);
        Ok(LstmNet {
            config: config.clone(),
            layout,
            params: vec![F::ZERO; total],
        })
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.params.len()
    }

    /// Buffers for batches of `b` windows of `t` tokens.
    pub fn workspace(&self, b: usize, t: usize) -> LstmWorkspace<F> {
        let (d, v, l) = (
            self.config.n_embd,
            self.config.vocab_size,
            self.config.n_layer,
        );
        let n = b * t;
        let z = |len: usize| vec![F::ZERO; len];
        LstmWorkspace {
            b,
            t,
            tokens: vec![0; n],
            targets: vec![0; n],
            x0: z(n * d),
            gates: (0..l).map(|_| z(n * 4 * d)).collect(),
            cs: (0..l).map(|_| z((t + 1) * b * d)).collect(),
            hs: (0..l).map(|_| z((t + 1) * b * d)).collect(),
            tc: (0..l).map(|_| z(n * d)).collect(),
            logits: z(n * v),
            dh: z(n * d),
            dx: z(n * d),
            dgates: z(n * 4 * d),
            dh_next: z(b * d),
            dc_next: z(b * d),
            dropped: false,
            drop: None,
        }
    }

    /// Draws this pass's dropout masks from `key` (site by site, as the transformer) and drops the
    /// embeddings in place.
    fn draw_dropout(&self, ws: &mut LstmWorkspace<F>, key: u64) {
        let (n, d, l) = (ws.b * ws.t, self.config.n_embd, self.config.n_layer);
        let drop = ws.drop.get_or_insert_with(|| LstmDropout {
            masks: vec![vec![F::ZERO; n * d]; l + 1],
            inputs: vec![vec![F::ZERO; n * d]; l - 1],
            top: vec![F::ZERO; n * d],
        });
        dropout::fill_site_masks(&mut drop.masks, self.config.dropout, key);
        dropout::apply_mask(&mut ws.x0[..n * d], &drop.masks[0]);
    }

    fn shape(&self, b: usize, t: usize) -> LstmShape {
        LstmShape {
            t,
            b,
            d_in: self.config.n_embd,
            h: self.config.n_embd,
        }
    }

    /// Forward over `b × t` tokens (batch-major, as the transformer takes them); returns
    /// `(Σ −ln p(target), scored rows)` when `targets` are given.
    pub fn forward(
        &self,
        ws: &mut LstmWorkspace<F>,
        tokens: &[u32],
        targets: Option<&[u32]>,
        ignore: Option<u32>,
    ) -> (f64, usize) {
        self.forward_dropout(ws, tokens, targets, ignore, None)
    }

    /// [`LstmNet::forward`] in training mode: with `dropout_key` and a config dropout above zero,
    /// units are dropped with masks drawn from the key.
    pub fn forward_dropout(
        &self,
        ws: &mut LstmWorkspace<F>,
        tokens: &[u32],
        targets: Option<&[u32]>,
        ignore: Option<u32>,
        dropout_key: Option<u64>,
    ) -> (f64, usize) {
        let (b, t, d, v) = (ws.b, ws.t, self.config.n_embd, self.config.vocab_size);
        let n = b * t;
        assert_eq!(tokens.len(), n, "tokens must fill the workspace");
        for bi in 0..b {
            for ti in 0..t {
                ws.tokens[ti * b + bi] = tokens[bi * t + ti];
                if let Some(tg) = targets {
                    ws.targets[ti * b + bi] = tg[bi * t + ti];
                }
            }
        }
        let p = &self.params;
        embedding::forward(&mut ws.x0, &ws.tokens, self.layout.wte.of(p), None, n, 0, d);
        let drop_key = dropout_key.filter(|_| self.config.dropout > 0.0);
        ws.dropped = drop_key.is_some();
        if let Some(key) = drop_key {
            self.draw_dropout(ws, key);
        }
        let s = self.shape(b, t);
        for (l, sp) in self.layout.layers.iter().enumerate() {
            let (prev, rest) = ws.hs.split_at_mut(l);
            let x: &[F] = match (l, ws.dropped, ws.drop.as_mut()) {
                (0, _, _) => &ws.x0,
                (_, true, Some(drop)) => {
                    let input = &mut drop.inputs[l - 1];
                    dropout::masked(input, &prev[l - 1][b * d..], &drop.masks[l]);
                    input
                }
                _ => &prev[l - 1][b * d..],
            };
            lstm::forward(
                &mut ws.gates[l],
                &mut ws.cs[l],
                &mut rest[0],
                &mut ws.tc[l],
                x,
                sp.w_ih.of(p),
                sp.w_hh.of(p),
                sp.bias.of(p),
                s,
            );
        }
        if let Some(drop) = ws.drop.as_mut().filter(|_| ws.dropped) {
            let top = &ws.hs[self.config.n_layer - 1][b * d..];
            dropout::masked(&mut drop.top, top, &drop.masks[self.config.n_layer]);
        }
        let top = head_input(
            &ws.drop,
            ws.dropped,
            &ws.hs[self.config.n_layer - 1][b * d..],
        );
        linear::forward(&mut ws.logits, top, self.layout.head.of(p), None, n, d, v);
        match targets {
            Some(_) => loss::softmax_cross_entropy_forward(&mut ws.logits, &ws.targets, ignore, v),
            None => {
                for row in ws.logits[..n * v].chunks_exact_mut(v) {
                    loss::softmax_in_place(row);
                }
                (0.0, 0)
            }
        }
    }

    /// Backward after a forward pass with targets: adds `scale · ∂(Σ loss)/∂θ` into `grads`.
    pub fn backward(
        &self,
        ws: &mut LstmWorkspace<F>,
        grads: &mut [F],
        ignore: Option<u32>,
        scale: F,
    ) {
        let v = self.config.vocab_size;
        loss::softmax_cross_entropy_backward(&mut ws.logits, &ws.targets, ignore, v, scale);
        self.backward_from_logit_grads(ws, grads);
    }

    /// Backward from the gradient of the loss with respect to the logits, which the caller has put
    /// in place of the probabilities in `ws.logits`: adds `∂loss/∂θ` into `grads`
    /// ([`LstmNet::backward`] is this after the cross-entropy's).
    pub fn backward_from_logit_grads(&self, ws: &mut LstmWorkspace<F>, grads: &mut [F]) {
        let (b, t, d, v) = (ws.b, ws.t, self.config.n_embd, self.config.vocab_size);
        let n = b * t;
        let p = &self.params;
        let s = self.shape(b, t);
        let top = head_input(
            &ws.drop,
            ws.dropped,
            &ws.hs[self.config.n_layer - 1][b * d..],
        );
        linear::backward(
            Some(&mut ws.dh),
            self.layout.head.of_mut(grads),
            None,
            &ws.logits,
            top,
            self.layout.head.of(p),
            n,
            d,
            v,
        );
        let drop = ws.drop.as_ref().filter(|_| ws.dropped);
        if let Some(drop) = drop {
            dropout::apply_mask(&mut ws.dh, &drop.masks[self.config.n_layer]);
        }
        for (l, sp) in self.layout.layers.iter().enumerate().rev() {
            let x: &[F] = match (l, drop) {
                (0, _) => &ws.x0,
                (_, Some(drop)) => &drop.inputs[l - 1],
                _ => &ws.hs[l - 1][b * d..],
            };
            // The layer's three tensors are adjacent: w_ih, w_hh, bias.
            let all = &mut grads[sp.w_ih.off..sp.bias.off + sp.bias.len];
            let (dw_ih, rest) = all.split_at_mut(sp.w_ih.len);
            let (dw_hh, db) = rest.split_at_mut(sp.w_hh.len);
            lstm::backward(
                &mut ws.dx,
                dw_ih,
                dw_hh,
                db,
                &mut ws.dgates,
                &mut ws.dh_next,
                &mut ws.dc_next,
                &ws.dh,
                &ws.gates[l],
                &ws.cs[l],
                &ws.hs[l],
                &ws.tc[l],
                x,
                sp.w_ih.of(p),
                sp.w_hh.of(p),
                s,
            );
            std::mem::swap(&mut ws.dh, &mut ws.dx);
            // The gradient of what was dropped: the layer below's output, or the embeddings.
            if let Some(drop) = drop {
                dropout::apply_mask(&mut ws.dh, &drop.masks[l]);
            }
        }
        embedding::backward(
            self.layout.wte.of_mut(grads),
            None,
            &ws.dh,
            &ws.tokens,
            n,
            d,
        );
    }
}

impl<F: Copy> LstmState<F> {
    /// The next-token probabilities of the last step.
    pub fn probs(&self) -> &[F] {
        &self.probs
    }

    /// How many values [`LstmState::save`] writes: `h`, `c` and the probabilities.
    pub fn saved_len(&self) -> usize {
        self.h.len() + self.c.len() + self.probs.len()
    }

    /// Writes `h`, `c` and the probabilities into `out` ([`LstmState::saved_len`] values); the
    /// probabilities come last.
    pub fn save(&self, out: &mut [F]) {
        let (h, rest) = out.split_at_mut(self.h.len());
        let (c, probs) = rest.split_at_mut(self.c.len());
        h.copy_from_slice(&self.h);
        c.copy_from_slice(&self.c);
        probs.copy_from_slice(&self.probs);
    }

    /// Back to a state written by [`LstmState::save`].
    pub fn restore(&mut self, saved: &[F]) {
        let (h, rest) = saved.split_at(self.h.len());
        let (c, probs) = rest.split_at(self.c.len());
        self.h.copy_from_slice(h);
        self.c.copy_from_slice(c);
        self.probs.copy_from_slice(probs);
    }
}

impl<F: Float> LstmNet<F> {
    /// A zero state (the start of a sequence).
    pub fn new_state(&self) -> LstmState<F> {
        let (d, l, v) = (
            self.config.n_embd,
            self.config.n_layer,
            self.config.vocab_size,
        );
        LstmState {
            h: vec![F::ZERO; l * d],
            c: vec![F::ZERO; l * d],
            x: vec![F::ZERO; d],
            gates: vec![F::ZERO; 4 * d],
            recurrent: vec![F::ZERO; 4 * d],
            probs: vec![F::ZERO; v],
        }
    }

    /// Feeds one token and returns the next-token probabilities.
    pub fn step<'a>(&self, st: &'a mut LstmState<F>, token: u32) -> &'a [F] {
        let (d, v) = (self.config.n_embd, self.config.vocab_size);
        let p = &self.params;
        embedding::forward(&mut st.x, &[token], self.layout.wte.of(p), None, 1, 0, d);
        for (l, sp) in self.layout.layers.iter().enumerate() {
            let h = &mut st.h[l * d..(l + 1) * d];
            let c = &mut st.c[l * d..(l + 1) * d];
            linear::forward(
                &mut st.gates,
                &st.x,
                sp.w_ih.of(p),
                Some(sp.bias.of(p)),
                1,
                d,
                4 * d,
            );
            // Each gate adds `dot(w_hh[o], h)`: the row tiles sum as `dot` does, vector-wide.
            linear::forward_rows(&mut st.recurrent, h, sp.w_hh.of(p), None, 1, d, 4 * d);
            for (g, &r) in st.gates.iter_mut().zip(&st.recurrent) {
                *g += r;
            }
            let g = &st.gates;
            for j in 0..d {
                let sig = |x: F| F::ONE / (F::ONE + (-x).fast_exp());
                let (i, f, gg, o) = (
                    sig(g[j]),
                    sig(g[d + j]),
                    g[2 * d + j].fast_tanh(),
                    sig(g[3 * d + j]),
                );
                c[j] = f * c[j] + i * gg;
                h[j] = o * c[j].fast_tanh();
            }
            st.x.copy_from_slice(h);
        }
        linear::forward(&mut st.probs, &st.x, self.layout.head.of(p), None, 1, d, v);
        loss::softmax_in_place(&mut st.probs);
        &st.probs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Arch, Mlp, Norm, Positions};
    use crate::layers::gradcheck::check;

    fn config(tied: bool) -> ModelConfig {
        ModelConfig {
            arch: Arch::Lstm,
            vocab_size: 7,
            n_layer: 2,
            n_head: 0,
            n_embd: 5,
            d_ff: 0,
            block_size: 4,
            norm: Norm::LayerNorm,
            mlp: Mlp::Gelu,
            positions: Positions::Learned,
            tied_head: tied,
            bias: true,
            dropout: 0.0,
        }
    }

    /// Whole-model gradients against finite differences; with `key`, under that fixed dropout mask.
    fn whole_lstm_check(c: &ModelConfig, key: Option<u64>) {
        let m = LstmNet::<f64>::new(c, 2).unwrap();
        let tokens = [1u32, 2, 3, 4, 0, 6, 5, 1];
        let targets = [2u32, 3, 4, 5, 6, 5, 0, 2];
        let mut ws = m.workspace(2, 4);
        let (_, count) = m.forward_dropout(&mut ws, &tokens, Some(&targets), Some(0), key);
        let mut grads = vec![0.0; m.params.len()];
        m.backward(&mut ws, &mut grads, Some(0), 1.0 / count as f64);
        let loss = |params: &[f64]| {
            let mut mm = m.clone();
            mm.params.copy_from_slice(params);
            let mut ws = mm.workspace(2, 4);
            let (s, n) = mm.forward_dropout(&mut ws, &tokens, Some(&targets), Some(0), key);
            s / n as f64
        };
        let name = format!("whole lstm tied={} dropout={}", c.tied_head, c.dropout);
        check(&name, &m.params, &grads, loss);
    }

    #[test]
    fn whole_lstm_gradients_match_finite_differences() {
        for tied in [true, false] {
            whole_lstm_check(&config(tied), None);
        }
    }

    #[test]
    fn dropout_gradients_match_finite_differences_under_a_fixed_mask() {
        for (tied, p, key) in [(true, 0.3, 11), (false, 0.5, 12)] {
            let mut c = config(tied);
            c.n_layer = 3; // embeddings, two inner sites and the top
            c.dropout = p;
            whole_lstm_check(&c, Some(key));
        }
        // Dropout acts only with a key and a positive probability.
        let mut c = config(true);
        c.dropout = 0.3;
        let m = LstmNet::<f64>::new(&c, 3).unwrap();
        let (tokens, targets) = ([1u32, 2, 3, 4], [2u32, 3, 4, 5]);
        let mut ws = m.workspace(1, 4);
        let plain = m.forward(&mut ws, &tokens, Some(&targets), None).0;
        let dropped = m.forward_dropout(&mut ws, &tokens, Some(&targets), None, Some(11));
        assert_ne!(plain, dropped.0);
        let again = m.forward(&mut ws, &tokens, Some(&targets), None).0;
        assert_eq!(plain.to_bits(), again.to_bits());
    }

    #[test]
    fn steps_equal_the_batched_forward_pass() {
        let c = config(true);
        let m = LstmNet::<f64>::new(&c, 4).unwrap();
        let tokens = [3u32, 1, 4, 1];
        let mut ws = m.workspace(1, 4);
        m.forward(&mut ws, &tokens, None, None);
        let mut st = m.new_state();
        for (i, &t) in tokens.iter().enumerate() {
            let p = m.step(&mut st, t);
            for (a, b) in p.iter().zip(&ws.logits[i * 7..(i + 1) * 7]) {
                assert!((a - b).abs() < 1e-12);
            }
        }
    }
}
