//! One-token steps with a key/value cache: the cost of a new token does not grow with re-encoding the
//! prefix, only with attending over it.

use super::params::Span;
use super::transformer::Transformer;
use crate::config::{Mlp, Norm};
use crate::float::Float;
use crate::layers::{activation, embedding, linear, loss, norm};

/// Keys and values of every block for up to `block_size` positions, plus the step's scratch.
#[derive(Clone, Debug)]
pub struct KvCache<F> {
    k: Vec<F>,
    v: Vec<F>,
    len: usize,
    x: Vec<F>,
    ln: Vec<F>,
    qkv: Vec<F>,
    y: Vec<F>,
    tmp: Vec<F>,
    scores: Vec<F>,
    fc: Vec<F>,
    act: Vec<F>,
    probs: Vec<F>,
}

impl<F: Float> KvCache<F> {
    /// Positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no position is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every position.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl<F: Float> Transformer<F> {
    /// An empty cache for this model.
    pub fn new_cache(&self) -> KvCache<F> {
        let c = &self.config;
        let (d, ff, t) = (c.n_embd, c.ff(), c.block_size);
        let f_in = if c.mlp == Mlp::SwiGlu { 2 * ff } else { ff };
        let z = |n: usize| vec![F::ZERO; n];
        KvCache {
            k: z(c.n_layer * t * d),
            v: z(c.n_layer * t * d),
            len: 0,
            x: z(d),
            ln: z(d),
            qkv: z(3 * d),
            y: z(d),
            tmp: z(d),
            scores: z(t),
            fc: z(f_in),
            act: z(ff),
            probs: z(c.vocab_size),
        }
    }

    fn norm1(&self, y: &mut [F], x: &[F], (g, b): (Span, Option<Span>)) {
        let (p, d) = (&self.params, self.config.n_embd);
        let (mut mean, mut rstd) = ([F::ZERO], [F::ZERO]);
        match self.config.norm {
            Norm::LayerNorm => norm::layer_norm_forward(
                y,
                &mut mean,
                &mut rstd,
                x,
                g.of(p),
                b.map(|b| b.of(p)),
                1,
                d,
            ),
            Norm::RmsNorm => norm::rms_norm_forward(y, &mut rstd, x, g.of(p), 1, d),
        }
    }

    /// Feeds `token` at the next position and returns the next-token probabilities.
    /// Panics when the cache already holds `block_size` positions.
    pub fn step<'a>(&self, cache: &'a mut KvCache<F>, token: u32) -> &'a [F] {
        let c = &self.config;
        let (d, ff, h, hd, tmax, v) = (
            c.n_embd,
            c.ff(),
            c.n_head,
            c.head_dim(),
            c.block_size,
            c.vocab_size,
        );
        let f_in = if c.mlp == Mlp::SwiGlu { 2 * ff } else { ff };
        let pos = cache.len;
        assert!(pos < tmax, "KV cache full");
        let (p, lay) = (&self.params, &self.layout);
        let lin = |y: &mut [F], x: &[F], (w, b): (Span, Option<Span>), din, dout| {
            linear::forward(y, x, w.of(p), b.map(|b| b.of(p)), 1, din, dout)
        };
        embedding::forward(
            &mut cache.x,
            &[token],
            lay.wte.of(p),
            lay.wpe.map(|s| s.of(p)),
            1,
            pos,
            d,
        );
        let scale = F::from_f64(1.0 / (hd as f64).sqrt());
        for (l, sp) in lay.blocks.iter().enumerate() {
            self.norm1(&mut cache.ln, &cache.x, sp.ln1);
            lin(&mut cache.qkv, &cache.ln, sp.qkv, d, 3 * d);
            if let Some(rope) = &self.rope {
                rope.apply(&mut cache.qkv[..2 * d], 1, pos, false);
            }
            // Cache layout per block: [h, tmax, hd].
            let base = l * tmax * d;
            for hi in 0..h {
                let at = base + (hi * tmax + pos) * hd;
                cache.k[at..at + hd].copy_from_slice(&cache.qkv[d + hi * hd..d + (hi + 1) * hd]);
                cache.v[at..at + hd]
                    .copy_from_slice(&cache.qkv[2 * d + hi * hd..2 * d + (hi + 1) * hd]);
            }
            for hi in 0..h {
                let q = &cache.qkv[hi * hd..(hi + 1) * hd];
                let kh = &cache.k[base + hi * tmax * hd..];
                let vh = &cache.v[base + hi * tmax * hd..];
                let sc = &mut cache.scores[..=pos];
                for (j, s) in sc.iter_mut().enumerate() {
                    let kj = &kh[j * hd..(j + 1) * hd];
                    *s = q.iter().zip(kj).map(|(&a, &b)| a * b).sum::<F>() * scale;
                }
                loss::softmax_in_place(sc);
                let y = &mut cache.y[hi * hd..(hi + 1) * hd];
                y.fill(F::ZERO);
                for (j, &pj) in sc.iter().enumerate() {
                    for (o, &vv) in y.iter_mut().zip(&vh[j * hd..(j + 1) * hd]) {
                        *o += pj * vv;
                    }
                }
            }
            lin(&mut cache.tmp, &cache.y, sp.proj, d, d);
            for (x, &t) in cache.x.iter_mut().zip(&cache.tmp) {
                *x += t;
            }
            self.norm1(&mut cache.ln, &cache.x, sp.ln2);
            lin(&mut cache.fc, &cache.ln, sp.fc, d, f_in);
            match c.mlp {
                Mlp::Gelu => activation::gelu_forward(&mut cache.act, &cache.fc),
                Mlp::SwiGlu => activation::swiglu_forward(&mut cache.act, &cache.fc, 1, ff),
            }
            lin(&mut cache.tmp, &cache.act, sp.fc2, ff, d);
            for (x, &t) in cache.x.iter_mut().zip(&cache.tmp) {
                *x += t;
            }
        }
        self.norm1(&mut cache.ln, &cache.x, lay.ln_f);
        linear::forward(&mut cache.probs, &cache.ln, lay.head.of(p), None, 1, d, v);
        loss::softmax_in_place(&mut cache.probs);
        cache.len += 1;
        &cache.probs
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Arch, Mlp, ModelConfig, Norm, Positions};
    use crate::model::{Transformer, Workspace};

    #[test]
    fn cached_steps_equal_the_full_forward_pass() {
        for (norm, mlp, positions) in [
            (Norm::LayerNorm, Mlp::Gelu, Positions::Learned),
            (Norm::RmsNorm, Mlp::SwiGlu, Positions::Rope),
        ] {
            let c = ModelConfig {
                arch: Arch::Transformer,
                vocab_size: 9,
                n_layer: 2,
                n_head: 2,
                n_embd: 8,
                d_ff: 0,
                block_size: 6,
                norm,
                mlp,
                positions,
                tied_head: true,
                bias: true,
                dropout: 0.0,
            };
            let m = Transformer::<f64>::new(&c, 1).unwrap();
            let tokens = [3u32, 1, 4, 1, 5, 8];
            let mut ws = Workspace::new(&c, 1, 6);
            m.forward(&mut ws, &tokens, None, None);
            let mut cache = m.new_cache();
            for (i, &tok) in tokens.iter().enumerate() {
                let probs = m.step(&mut cache, tok);
                for (a, b) in probs.iter().zip(&ws.logits[i * 9..(i + 1) * 9]) {
                    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
                }
            }
        }
    }
}
