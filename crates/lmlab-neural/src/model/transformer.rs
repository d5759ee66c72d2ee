//! Forward and backward passes of the whole transformer over a [`Workspace`].

use super::params::{init_params, pair_mut, Layout, Span};
use super::workspace::{BlockActs, Workspace};
use crate::config::{Mlp, ModelConfig, Norm, Positions};
use crate::float::Float;
use crate::layers::attention::{self, AttnShape};
use crate::layers::rope::RopeTables;
use crate::layers::{activation, dropout, embedding, linear, loss, norm};
use lmlab_core::Result;

/// A transformer: its config, parameter layout and flat parameters.
#[derive(Clone, Debug)]
pub struct Transformer<F> {
    /// The shape.
    pub config: ModelConfig,
    /// Where each tensor lives in `params`.
    pub layout: Layout,
    /// All parameters, one buffer.
    pub params: Vec<F>,
    pub(crate) rope: Option<RopeTables<F>>,
}

impl<F: Float> Transformer<F> {
    /// A freshly initialized model (GPT-2 style: N(0, 0.02), residual projections scaled by 1/√(2L)).
    pub fn new(config: &ModelConfig, seed: u64) -> Result<Self> {
        let mut model = Self::zeros(config)?;
        model.params = init_params(&model.layout.specs, seed);
        Ok(model)
    }

    /// A model of `config` with all parameters zero (to be filled from a checkpoint).
    pub fn zeros(config: &ModelConfig) -> Result<Self> {
        config.validate()?;
        let layout = Layout::new(config);
        let rope = (config.positions == Positions::Rope)
            .then(|| RopeTables::new(config.block_size, config.head_dim()));
        Ok(Transformer {
            config: config.clone(),
            params: vec![F::ZERO; layout.total],
            layout,
            rope,
        })
    }

    /// Number of parameters (the tied head counted once).
    pub fn parameter_count(&self) -> usize {
        self.layout.total
    }

    fn shape(&self, b: usize, t: usize) -> AttnShape {
        AttnShape {
            b,
            t,
            h: self.config.n_head,
            hd: self.config.head_dim(),
        }
    }

    /// Forward pass over `ws.b × ws.t` tokens. Afterwards `ws.logits` holds next-token probabilities;
    /// with `targets`, returns `(Σ −ln p(target), scored rows)`, rows whose target is `ignore` unscored.
    pub fn forward(
        &self,
        ws: &mut Workspace<F>,
        tokens: &[u32],
        targets: Option<&[u32]>,
        ignore: Option<u32>,
    ) -> (f64, usize) {
        self.forward_dropout(ws, tokens, targets, ignore, None)
    }

    /// [`Transformer::forward`] in training mode: with a key and `dropout > 0`, inverted dropout on
    /// the embeddings and on every attention and MLP branch before it joins the residual stream, the
    /// masks drawn from the key (see [`dropout::fill_mask`]); [`Transformer::backward`] follows them.
    /// Without a key (evaluation, generation) nothing is dropped.
    pub fn forward_dropout(
        &self,
        ws: &mut Workspace<F>,
        tokens: &[u32],
        targets: Option<&[u32]>,
        ignore: Option<u32>,
        dropout_key: Option<u64>,
    ) -> (f64, usize) {
        let c = &self.config;
        let (b, t, d, v) = (ws.b, ws.t, c.n_embd, c.vocab_size);
        let n = b * t;
        assert_eq!(tokens.len(), n, "tokens must fill the workspace");
        let p = &self.params;
        let lay = &self.layout;
        let drop_key = dropout_key.filter(|_| c.dropout > 0.0);
        ws.dropped = drop_key.is_some();
        if let Some(key) = drop_key {
            let sites = 1 + 2 * c.n_layer;
            if ws.drop_masks.len() != sites {
                ws.drop_masks = vec![vec![F::ZERO; n * d]; sites];
                ws.dbranch = vec![F::ZERO; n * d];
            }
            dropout::fill_site_masks(&mut ws.drop_masks, c.dropout, key);
        }
        embedding::forward(
            &mut ws.x0,
            tokens,
            lay.wte.of(p),
            lay.wpe.map(|s| s.of(p)),
            t,
            0,
            d,
        );
        if ws.dropped {
            dropout::apply_mask(&mut ws.x0[..n * d], &ws.drop_masks[0]);
        }
        let s = self.shape(b, t);
        for l in 0..c.n_layer {
            let (prev, rest) = ws.blocks.split_at_mut(l);
            let x: &[F] = if l == 0 { &ws.x0 } else { &prev[l - 1].out };
            let masks = ws
                .dropped
                .then(|| (&ws.drop_masks[1 + 2 * l][..], &ws.drop_masks[2 + 2 * l][..]));
            self.block_forward(l, &mut rest[0], x, &mut ws.qkv, &mut ws.yh, s, masks);
        }
        let last = &ws.blocks[c.n_layer - 1].out;
        self.norm_forward(
            &mut ws.lnf,
            &mut ws.lnf_mean,
            &mut ws.lnf_rstd,
            last,
            lay.ln_f,
            n,
        );
        linear::forward(&mut ws.logits, &ws.lnf, lay.head.of(p), None, n, d, v);
        match targets {
            Some(tg) => loss::softmax_cross_entropy_forward(&mut ws.logits, tg, ignore, v),
            None => {
                for row in ws.logits[..n * v].chunks_exact_mut(v) {
                    loss::softmax_in_place(row);
                }
                (0.0, 0)
            }
        }
    }

    fn norm_forward(
        &self,
        y: &mut [F],
        mean: &mut [F],
        rstd: &mut [F],
        x: &[F],
        (g, bias): (Span, Option<Span>),
        n: usize,
    ) {
        let (p, d) = (&self.params, self.config.n_embd);
        match self.config.norm {
            Norm::LayerNorm => {
                norm::layer_norm_forward(y, mean, rstd, x, g.of(p), bias.map(|b| b.of(p)), n, d)
            }
            Norm::RmsNorm => norm::rms_norm_forward(y, rstd, x, g.of(p), n, d),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn norm_backward(
        &self,
        grads: &mut [F],
        dx: &mut [F],
        dy: &[F],
        x: &[F],
        mean: &[F],
        rstd: &[F],
        (g, bias): (Span, Option<Span>),
        n: usize,
    ) {
        let (p, d) = (&self.params, self.config.n_embd);
        let (dg, db) = pair_mut(grads, g, bias);
        match self.config.norm {
            Norm::LayerNorm => {
                norm::layer_norm_backward(dx, dg, db, dy, x, mean, rstd, g.of(p), n, d)
            }
            Norm::RmsNorm => norm::rms_norm_backward(dx, dg, dy, x, rstd, g.of(p), n, d),
        }
    }

    /// One block; `masks` are the dropout masks of its attention and MLP branches.
    #[allow(clippy::too_many_arguments)]
    fn block_forward(
        &self,
        l: usize,
        a: &mut BlockActs<F>,
        x: &[F],
        qkv: &mut [F],
        yh: &mut [F],
        s: AttnShape,
        masks: Option<(&[F], &[F])>,
    ) {
        let (c, p) = (&self.config, &self.params);
        let sp = &self.layout.blocks[l];
        let (d, ff) = (c.n_embd, c.ff());
        let n = s.b * s.t;
        let f_in = c.ff_in();
        let lin = |y: &mut [F], x: &[F], (w, b): (Span, Option<Span>), din, dout| {
            linear::forward(y, x, w.of(p), b.map(|b| b.of(p)), n, din, dout)
        };
        self.norm_forward(&mut a.ln1, &mut a.ln1_mean, &mut a.ln1_rstd, x, sp.ln1, n);
        lin(qkv, &a.ln1, sp.qkv, d, 3 * d);
        attention::split_heads(&mut a.q, &mut a.k, &mut a.v, qkv, s);
        if let Some(rope) = &self.rope {
            rope.apply(&mut a.q[..n * d], s.t, 0, false);
            rope.apply(&mut a.k[..n * d], s.t, 0, false);
        }
        attention::forward(yh, &mut a.probs, &a.q, &a.k, &a.v, s);
        attention::merge_heads(&mut a.atty, yh, s);
        lin(&mut a.mid, &a.atty, sp.proj, d, d);
        match masks {
            Some((mask, _)) => {
                for ((m, &xi), &k) in a.mid[..n * d].iter_mut().zip(x).zip(mask) {
                    *m = *m * k + xi;
                }
            }
            None => {
                for (m, &xi) in a.mid[..n * d].iter_mut().zip(x) {
                    *m += xi;
                }
            }
        }
        self.norm_forward(
            &mut a.ln2,
            &mut a.ln2_mean,
            &mut a.ln2_rstd,
            &a.mid,
            sp.ln2,
            n,
        );
        lin(&mut a.fc, &a.ln2, sp.fc, d, f_in);
        match c.mlp {
            Mlp::Gelu => activation::gelu_forward(&mut a.act[..n * ff], &a.fc[..n * ff]),
            Mlp::SwiGlu => activation::swiglu_forward(&mut a.act, &a.fc, n, ff),
        }
        lin(&mut a.out, &a.act, sp.fc2, ff, d);
        match masks {
            Some((_, mask)) => {
                for ((o, &m), &k) in a.out[..n * d].iter_mut().zip(&a.mid).zip(mask) {
                    *o = *o * k + m;
                }
            }
            None => {
                for (o, &m) in a.out[..n * d].iter_mut().zip(&a.mid) {
                    *o += m;
                }
            }
        }
    }

    /// Backward pass after [`Transformer::forward`] with targets: adds `scale · ∂(Σ loss)/∂θ` into `grads`.
    pub fn backward(
        &self,
        ws: &mut Workspace<F>,
        grads: &mut [F],
        tokens: &[u32],
        targets: &[u32],
        ignore: Option<u32>,
        scale: F,
    ) {
        let v = self.config.vocab_size;
        loss::softmax_cross_entropy_backward(&mut ws.logits, targets, ignore, v, scale);
        self.backward_from_logit_grads(ws, grads, tokens);
    }

    /// Backward from the gradient of the loss with respect to the logits, which the caller has put
    /// in place of the probabilities in `ws.logits` (`b·t × vocab`): adds `∂loss/∂θ` into `grads`.
    /// [`Transformer::backward`] is this after the cross-entropy's logit gradient; other losses on
    /// the next-token distribution (the policy-gradient loss of `crate::grpo`) call it directly.
    pub fn backward_from_logit_grads(
        &self,
        ws: &mut Workspace<F>,
        grads: &mut [F],
        tokens: &[u32],
    ) {
        let c = &self.config;
        let (b, t, d, v, ff) = (ws.b, ws.t, c.n_embd, c.vocab_size, c.ff());
        let n = b * t;
        let f_in = c.ff_in();
        let (p, lay) = (&self.params, &self.layout);
        let s = self.shape(b, t);
        linear::backward(
            Some(&mut ws.dln),
            lay.head.of_mut(grads),
            None,
            &ws.logits,
            &ws.lnf,
            lay.head.of(p),
            n,
            d,
            v,
        );
        ws.dresid.fill(F::ZERO);
        let last = &ws.blocks[c.n_layer - 1];
        self.norm_backward(
            grads,
            &mut ws.dresid,
            &ws.dln,
            &last.out,
            &ws.lnf_mean,
            &ws.lnf_rstd,
            lay.ln_f,
            n,
        );
        for l in (0..c.n_layer).rev() {
            let sp = &lay.blocks[l];
            let a = &ws.blocks[l];
            let x: &[F] = if l == 0 {
                &ws.x0
            } else {
                &ws.blocks[l - 1].out
            };
            let lin_back = |grads: &mut [F],
                            dx: &mut [F],
                            dy: &[F],
                            x: &[F],
                            (w, bias): (Span, Option<Span>),
                            din,
                            dout| {
                let (dw, db) = pair_mut(grads, w, bias);
                linear::backward(Some(dx), dw, db, dy, x, w.of(p), n, din, dout);
            };
            // MLP branch.
            // A dropped branch sees the residual gradient through its mask.
            let branch_grad = |dbranch: &mut Vec<F>, dresid: &[F], site: usize| {
                dropout::masked(dbranch, dresid, &ws.drop_masks[site]);
            };
            if ws.dropped {
                branch_grad(&mut ws.dbranch, &ws.dresid, 2 + 2 * l);
                lin_back(grads, &mut ws.dact, &ws.dbranch, &a.act, sp.fc2, ff, d);
            } else {
                lin_back(grads, &mut ws.dact, &ws.dresid, &a.act, sp.fc2, ff, d);
            }
            match c.mlp {
                Mlp::Gelu => activation::gelu_backward(
                    &mut ws.dfc[..n * ff],
                    &ws.dact[..n * ff],
                    &a.fc[..n * ff],
                ),
                Mlp::SwiGlu => activation::swiglu_backward(&mut ws.dfc, &ws.dact, &a.fc, n, ff),
            }
            lin_back(grads, &mut ws.dln, &ws.dfc, &a.ln2, sp.fc, d, f_in);
            self.norm_backward(
                grads,
                &mut ws.dresid,
                &ws.dln,
                &a.mid,
                &a.ln2_mean,
                &a.ln2_rstd,
                sp.ln2,
                n,
            );
            // Attention branch.
            if ws.dropped {
                branch_grad(&mut ws.dbranch, &ws.dresid, 1 + 2 * l);
                lin_back(grads, &mut ws.datty, &ws.dbranch, &a.atty, sp.proj, d, d);
            } else {
                lin_back(grads, &mut ws.datty, &ws.dresid, &a.atty, sp.proj, d, d);
            }
            attention::merge_heads_backward(&mut ws.yh, &ws.datty, s);
            ws.dq.fill(F::ZERO);
            ws.dk.fill(F::ZERO);
            ws.dv.fill(F::ZERO);
            attention::backward(
                &mut ws.dq,
                &mut ws.dk,
                &mut ws.dv,
                &mut ws.dprobs,
                &ws.yh,
                &a.probs,
                &a.q,
                &a.k,
                &a.v,
                s,
            );
            if let Some(rope) = &self.rope {
                rope.apply(&mut ws.dq[..n * d], t, 0, true);
                rope.apply(&mut ws.dk[..n * d], t, 0, true);
            }
            attention::split_heads_backward(&mut ws.dqkv, &ws.dq, &ws.dk, &ws.dv, s);
            lin_back(grads, &mut ws.dln, &ws.dqkv, &a.ln1, sp.qkv, d, 3 * d);
            self.norm_backward(
                grads,
                &mut ws.dresid,
                &ws.dln,
                x,
                &a.ln1_mean,
                &a.ln1_rstd,
                sp.ln1,
                n,
            );
        }
        if ws.dropped {
            dropout::apply_mask(&mut ws.dresid[..n * d], &ws.drop_masks[0]);
        }
        let (dwte, dwpe) = pair_mut(grads, lay.wte, lay.wpe);
        embedding::backward(dwte, dwpe, &ws.dresid, tokens, t, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Arch;
    use crate::layers::gradcheck::check;

    fn tiny(norm: Norm, mlp: Mlp, positions: Positions, tied: bool, bias: bool) -> ModelConfig {
        ModelConfig {
            arch: Arch::Transformer,
            vocab_size: 7,
            n_layer: 2,
            n_head: 2,
            n_embd: 8,
            d_ff: 0,
            block_size: 5,
            norm,
            mlp,
            positions,
            tied_head: tied,
            bias,
            dropout: 0.0,
        }
    }

    fn whole_model_check(c: ModelConfig) {
        whole_model_check_keyed(c, None)
    }

    fn whole_model_check_keyed(c: ModelConfig, key: Option<u64>) {
        let model = Transformer::<f64>::new(&c, 3).unwrap();
        let (b, t) = (2, 4);
        let tokens = [1u32, 2, 3, 4, 0, 6, 5, 1];
        let targets = [2u32, 3, 4, 5, 6, 5, 0, 2];
        let mut ws = Workspace::new(&c, b, t);
        let (_, count) = model.forward_dropout(&mut ws, &tokens, Some(&targets), Some(0), key);
        let mut grads = vec![0.0; model.params.len()];
        model.backward(
            &mut ws,
            &mut grads,
            &tokens,
            &targets,
            Some(0),
            1.0 / count as f64,
        );
        let loss = |params: &[f64]| {
            let mut m = model.clone();
            m.params.copy_from_slice(params);
            let mut ws = Workspace::new(&c, b, t);
            let (s, n) = m.forward_dropout(&mut ws, &tokens, Some(&targets), Some(0), key);
            s / n as f64
        };
        let name = format!(
            "{:?}/{:?}/{:?}/tied={}",
            c.norm, c.mlp, c.positions, c.tied_head
        );
        check(&format!("whole model {name}"), &model.params, &grads, loss);
    }

    #[test]
    fn whole_model_gradients_match_finite_differences() {
        whole_model_check(tiny(
            Norm::LayerNorm,
            Mlp::Gelu,
            Positions::Learned,
            true,
            true,
        ));
        whole_model_check(tiny(
            Norm::RmsNorm,
            Mlp::SwiGlu,
            Positions::Rope,
            false,
            false,
        ));
        whole_model_check(tiny(
            Norm::LayerNorm,
            Mlp::SwiGlu,
            Positions::Rope,
            true,
            false,
        ));
    }

    #[test]
    fn dropout_gradients_match_finite_differences_under_a_fixed_mask() {
        let mut c = tiny(Norm::LayerNorm, Mlp::Gelu, Positions::Learned, true, true);
        c.dropout = 0.3;
        whole_model_check_keyed(c.clone(), Some(11));
        let mut c2 = tiny(Norm::RmsNorm, Mlp::SwiGlu, Positions::Rope, false, false);
        c2.dropout = 0.5;
        whole_model_check_keyed(c2, Some(12));
        // The key matters only in training: without one, or at dropout 0, nothing is dropped.
        let model = Transformer::<f64>::new(&c, 3).unwrap();
        let tokens = [1u32, 2, 3, 4, 0, 6, 5, 1];
        let targets = [2u32, 3, 4, 5, 6, 5, 0, 2];
        let mut ws = Workspace::new(&c, 2, 4);
        let plain = model.forward(&mut ws, &tokens, Some(&targets), None);
        let dropped = model.forward_dropout(&mut ws, &tokens, Some(&targets), None, Some(11));
        assert_ne!(plain.0, dropped.0);
        let mut c0 = c.clone();
        c0.dropout = 0.0;
        let mut m0 = model.clone();
        m0.config = c0.clone();
        let mut ws0 = Workspace::new(&c0, 2, 4);
        let keyed = m0.forward_dropout(&mut ws0, &tokens, Some(&targets), None, Some(11));
        assert_eq!(plain.0.to_bits(), keyed.0.to_bits());
        assert_eq!(
            plain.0.to_bits(),
            model
                .forward(&mut ws, &tokens, Some(&targets), None)
                .0
                .to_bits()
        );
    }
}
