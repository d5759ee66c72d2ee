//! Steps with a key/value cache: the cost of new tokens does not grow with re-encoding the prefix,
//! only with attending over it. One step feeds one token or several (a speculative proposal scored
//! in one forward pass over its positions).

use super::params::Span;
use super::transformer::Transformer;
use crate::config::{Mlp, Norm};
use crate::float::Float;
use crate::layers::packed::PackedLinear;
use crate::layers::{activation, embedding, linear, loss, norm};
use crate::simd::simd_dispatch;
use std::ops::Range;
use std::sync::Arc;

/// A model's linear layers packed for steps (`layers/packed`): made once, shared by every cache
/// that steps with those weights (a copy of the matrices, so it holds the weights as they were
/// when it was made).
#[derive(Debug)]
pub struct StepWeights<F> {
    /// Per block: q/k/v, attention projection, MLP in, MLP out.
    blocks: Vec<[PackedLinear<F>; 4]>,
    head: PackedLinear<F>,
}

/// Keys and values of every block for up to `block_size` positions, plus the step's scratch and
/// the packed weights it steps with.
#[derive(Clone, Debug)]
pub struct KvCache<F> {
    weights: Arc<StepWeights<F>>,
    k: Vec<F>,
    v: Vec<F>,
    len: usize,
    x: Vec<F>,
    ln: Vec<F>,
    qkv: Vec<F>,
    y: Vec<F>,
    tmp: Vec<F>,
    /// One head's queries of every fed row, side by side (`head_dim` per row).
    q: Vec<F>,
    /// One head's scores of every fed row against every cached key (`block_size` per row).
    scores: Vec<F>,
    fc: Vec<F>,
    act: Vec<F>,
    probs: Vec<F>,
    mean: Vec<F>,
    rstd: Vec<F>,
    /// Rows the scratch buffers hold (grown on demand, never shrunk).
    rows: usize,
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

    /// The last [`Transformer::step_many`]'s first `rows` rows: next-token probabilities
    /// (`vocab_size` per fed token) and final hidden states (the rows after the final norm, the LM
    /// head's inputs, `n_embd` per fed token: what CD-LM keys its chunks by).
    pub fn last_rows(&self, rows: usize) -> (&[F], &[F]) {
        let (v, d) = (self.probs.len() / self.rows, self.ln.len() / self.rows);
        (&self.probs[..rows * v], &self.ln[..rows * d])
    }

    /// Forgets the positions from `len` on.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Grows the per-row scratch to `rows` rows (`per_row` holds each buffer's length per row).
    fn ensure_rows(&mut self, rows: usize, per_row: [usize; 10]) {
        if rows <= self.rows {
            return;
        }
        let bufs = [
            &mut self.x,
            &mut self.ln,
            &mut self.qkv,
            &mut self.y,
            &mut self.tmp,
            &mut self.fc,
            &mut self.act,
            &mut self.probs,
            &mut self.q,
            &mut self.scores,
        ];
        for (buf, n) in bufs.into_iter().zip(per_row) {
            buf.resize(rows * n, F::ZERO);
        }
        self.mean.resize(rows, F::ZERO);
        self.rstd.resize(rows, F::ZERO);
        self.rows = rows;
    }
}

impl<F: Float> Transformer<F> {
    /// The linear layers' weights packed for [`Transformer::step_many`], as they are now.
    pub fn step_weights(&self) -> Arc<StepWeights<F>> {
        let c = &self.config;
        let (d, ff, v) = (c.n_embd, c.ff(), c.vocab_size);
        let f_in = c.ff_in();
        let p = &self.params;
        let pack = |w: Span, d_in, d_out| PackedLinear::new(w.of(p), d_in, d_out);
        let blocks = self
            .layout
            .blocks
            .iter()
            .map(|sp| {
                [
                    pack(sp.qkv.0, d, 3 * d),
                    pack(sp.proj.0, d, d),
                    pack(sp.fc.0, d, f_in),
                    pack(sp.fc2.0, ff, d),
                ]
            })
            .collect();
        Arc::new(StepWeights {
            blocks,
            head: pack(self.layout.head, d, v),
        })
    }

    /// An empty cache for this model, stepping with its weights as they are now (packed here:
    /// callers making many caches for one model share [`Transformer::step_weights`] through
    /// [`Transformer::new_cache_with`]).
    pub fn new_cache(&self) -> KvCache<F> {
        self.new_cache_with(self.step_weights())
    }

    /// An empty cache stepping with `weights` (this model's [`Transformer::step_weights`]).
    pub fn new_cache_with(&self, weights: Arc<StepWeights<F>>) -> KvCache<F> {
        let c = &self.config;
        assert_eq!(
            weights.blocks.len(),
            c.n_layer,
            "step weights of another model"
        );
        let (d, ff, t) = (c.n_embd, c.ff(), c.block_size);
        let f_in = c.ff_in();
        let z = |n: usize| vec![F::ZERO; n];
        KvCache {
            weights,
            k: z(c.n_layer * t * d),
            v: z(c.n_layer * t * d),
            len: 0,
            x: z(d),
            ln: z(d),
            qkv: z(3 * d),
            y: z(d),
            tmp: z(d),
            q: z(c.head_dim()),
            scores: z(t),
            fc: z(f_in),
            act: z(ff),
            probs: z(c.vocab_size),
            mean: z(1),
            rstd: z(1),
            rows: 1,
        }
    }

    /// Each scratch buffer's length per row, in the order of [`KvCache::ensure_rows`].
    fn row_lengths(&self) -> [usize; 10] {
        let c = &self.config;
        let (d, ff) = (c.n_embd, c.ff());
        let f_in = c.ff_in();
        [
            d,
            d,
            3 * d,
            d,
            d,
            f_in,
            ff,
            c.vocab_size,
            c.head_dim(),
            c.block_size,
        ]
    }

    /// Normalizes rows `rows` of `cache.x` into `cache.ln` with the norm at `span`.
    fn norm_rows(&self, cache: &mut KvCache<F>, (g, b): (Span, Option<Span>), rows: Range<usize>) {
        let (p, d) = (&self.params, self.config.n_embd);
        let (r0, n) = (rows.start, rows.len());
        let (y, x) = (&mut cache.ln[r0 * d..], &cache.x[r0 * d..]);
        match self.config.norm {
            Norm::LayerNorm => norm::layer_norm_forward(
                y,
                &mut cache.mean[r0..],
                &mut cache.rstd[r0..],
                x,
                g.of(p),
                b.map(|b| b.of(p)),
                n,
                d,
            ),
            Norm::RmsNorm => norm::rms_norm_forward(y, &mut cache.rstd[r0..], x, g.of(p), n, d),
        }
    }

    /// Feeds `token` at the next position and returns the next-token probabilities.
    /// Panics when the cache already holds `block_size` positions.
    pub fn step<'a>(&self, cache: &'a mut KvCache<F>, token: u32) -> &'a [F] {
        self.step_many(cache, &[token])
    }

    /// Feeds `tokens` at the next positions in one forward pass (each attending to the cache and
    /// the tokens before it) and returns their next-token probabilities, one row of `vocab_size`
    /// per token. The linear layers go through the cache's packed weights (`layers/packed`: each
    /// panel read once for all tokens, every element summed the same way whatever the number of
    /// rows), the attention scores through [`linear::forward_rows`] (summed as `dot`), so each
    /// token's probabilities are bit for bit those of feeding it alone with [`Transformer::step`].
    /// Panics when they do not fit in `block_size` positions.
    pub fn step_many<'a>(&self, cache: &'a mut KvCache<F>, tokens: &[u32]) -> &'a [F] {
        self.step_rows(cache, tokens, 0)
    }

    /// [`Transformer::step_many`] where only the tokens from `tokens[first_out]` on need their
    /// probabilities and final hidden states ([`KvCache::last_rows`]): the rows before (a window's
    /// rebuild re-feeding inputs whose outputs were given before) get their keys and values in every
    /// block, but not the last block's attention and MLP nor the LM head, about a fifth of their
    /// work for a 4-block model. Their rows of the result are left stale; the others, and the cache,
    /// are bit for bit those of [`Transformer::step_many`]. Panics unless `first_out < tokens.len()`.
    pub fn step_rows<'a>(
        &self,
        cache: &'a mut KvCache<F>,
        tokens: &[u32],
        first_out: usize,
    ) -> &'a [F] {
        let c = &self.config;
        let (d, ff, h, hd, tmax, v) = (
            c.n_embd,
            c.ff(),
            c.n_head,
            c.head_dim(),
            c.block_size,
            c.vocab_size,
        );
        let f_in = c.ff_in();
        let n = tokens.len();
        let pos = cache.len;
        assert!(pos + n <= tmax, "KV cache full");
        assert!(first_out == 0 || first_out < n, "no row to give out");
        cache.ensure_rows(n, self.row_lengths());
        let (p, lay) = (&self.params, &self.layout);
        let weights = Arc::clone(&cache.weights);
        // `w` over rows `r0..n` of `x` (`w`'s inputs per row) into the same rows of `y`.
        let lin = |y: &mut [F], x: &[F], w: &PackedLinear<F>, b: Option<Span>, r0: usize| {
            let (d_in, d_out) = w.dims();
            w.forward(
                &mut y[r0 * d_out..],
                &x[r0 * d_in..],
                b.map(|b| b.of(p)),
                n - r0,
            )
        };
        embedding::forward(
            &mut cache.x,
            tokens,
            lay.wte.of(p),
            lay.wpe.map(|s| s.of(p)),
            n,
            pos,
            d,
        );
        let scale = F::from_f64(1.0 / (hd as f64).sqrt());
        let last = c.n_layer - 1;
        for (l, (sp, [qkv, proj, fc, fc2])) in lay.blocks.iter().zip(&weights.blocks).enumerate() {
            // Every row's keys and values; past them, the last block works on the rows given out.
            let r0 = if l == last { first_out } else { 0 };
            self.norm_rows(cache, sp.ln1, 0..n);
            lin(
                &mut cache.qkv[..n * 3 * d],
                &cache.ln[..n * d],
                qkv,
                sp.qkv.1,
                0,
            );
            // Cache layout per block: [h, tmax, hd].
            let base = l * tmax * d;
            for r in 0..n {
                let qkv = &mut cache.qkv[r * 3 * d..(r + 1) * 3 * d];
                if let Some(rope) = &self.rope {
                    rope.apply(&mut qkv[..2 * d], 1, pos + r, false);
                }
                for hi in 0..h {
                    let at = base + (hi * tmax + pos + r) * hd;
                    cache.k[at..at + hd].copy_from_slice(&qkv[d + hi * hd..d + (hi + 1) * hd]);
                    cache.v[at..at + hd]
                        .copy_from_slice(&qkv[2 * d + hi * hd..2 * d + (hi + 1) * hd]);
                }
            }
            // Per head, the scores of rows r0..n against the keys up to the last row in one pass
            // over the keys: each is `dot(q, k_j)` (the row tiles sum as `dot` does, whatever the
            // rows fed together), row r keeping its first pos + r + 1, then scaled.
            let (keys, m) = (pos + n, n - r0);
            for hi in 0..h {
                for r in r0..n {
                    let at = r * 3 * d + hi * hd;
                    let i = r - r0;
                    cache.q[i * hd..(i + 1) * hd].copy_from_slice(&cache.qkv[at..at + hd]);
                }
                let kh = &cache.k[base + hi * tmax * hd..base + hi * tmax * hd + keys * hd];
                let vh = &cache.v[base + hi * tmax * hd..];
                let sc = &mut cache.scores[..m * keys];
                linear::forward_rows(sc, &cache.q[..m * hd], kh, None, m, hd, keys);
                for (i, row) in sc.chunks_exact_mut(keys).enumerate() {
                    let r = r0 + i;
                    let len = pos + r + 1;
                    let row = &mut row[..len];
                    for s in row.iter_mut() {
                        *s *= scale;
                    }
                    loss::softmax_in_place(row);
                    let y = &mut cache.y[r * d + hi * hd..r * d + (hi + 1) * hd];
                    weighted_sum(y, row, &vh[..len * hd]);
                }
            }
            lin(
                &mut cache.tmp[..n * d],
                &cache.y[..n * d],
                proj,
                sp.proj.1,
                r0,
            );
            add_rows(&mut cache.x[r0 * d..n * d], &cache.tmp[r0 * d..]);
            self.norm_rows(cache, sp.ln2, r0..n);
            lin(
                &mut cache.fc[..n * f_in],
                &cache.ln[..n * d],
                fc,
                sp.fc.1,
                r0,
            );
            let (act, fcs) = (
                &mut cache.act[r0 * ff..n * ff],
                &cache.fc[r0 * f_in..n * f_in],
            );
            match c.mlp {
                Mlp::Gelu => activation::gelu_forward(act, fcs),
                Mlp::SwiGlu => activation::swiglu_forward(act, fcs, m, ff),
            }
            lin(
                &mut cache.tmp[..n * d],
                &cache.act[..n * ff],
                fc2,
                sp.fc2.1,
                r0,
            );
            add_rows(&mut cache.x[r0 * d..n * d], &cache.tmp[r0 * d..]);
        }
        self.norm_rows(cache, lay.ln_f, first_out..n);
        lin(
            &mut cache.probs[..n * v],
            &cache.ln[..n * d],
            &weights.head,
            None,
            first_out,
        );
        for row in cache.probs[first_out * v..n * v].chunks_exact_mut(v) {
            loss::softmax_in_place(row);
        }
        cache.len += n;
        &cache.probs[..n * v]
    }
}

/// `x += t`, element by element (a residual connection over the rows of a step).
fn add_rows<F: Float>(x: &mut [F], t: &[F]) {
    for (x, &t) in x.iter_mut().zip(t) {
        *x += t;
    }
}

/// Elements of `y` a [`weighted_sum`] pass holds in registers: a 64-wide head in one pass over the
/// values (four AVX-512 or eight AVX registers of f32).
const SUM_BLOCK: usize = 64;

simd_dispatch! {
    /// `y = Σ_j p[j] · v[j]` over the rows `v[j]` of `y.len()` values, each element added up in
    /// `j` order from zero (the same bits at every vector width). Blocks of [`SUM_BLOCK`] elements
    /// stay in a local array across the rows (in registers, not stored and reloaded at each row, which
    /// made this 8% of a speculative verification).
    fn weighted_sum<F: Float>(y: &mut [F], p: &[F], v: &[F]) {
        let d = y.len();
        let mut start = 0;
        while start + SUM_BLOCK <= d {
            let mut acc = [F::ZERO; SUM_BLOCK];
            for (&pj, vj) in p.iter().zip(v.chunks_exact(d)) {
                let vj = &vj[start..start + SUM_BLOCK];
                for (a, &vv) in acc.iter_mut().zip(vj) {
                    *a += pj * vv;
                }
            }
            y[start..start + SUM_BLOCK].copy_from_slice(&acc);
            start += SUM_BLOCK;
        }
        let y = &mut y[start..];
        y.fill(F::ZERO);
        for (&pj, vj) in p.iter().zip(v.chunks_exact(d)) {
            for (o, &vv) in y.iter_mut().zip(&vj[start..]) {
                *o += pj * vv;
            }
        }
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
            // Two tokens one by one, then four in one pass after truncating back to two.
            cache.truncate(2);
            let probs = m.step_many(&mut cache, &tokens[2..]).to_vec();
            assert_eq!(cache.len(), 6);
            for (a, b) in probs.iter().zip(&ws.logits[2 * 9..]) {
                assert!((a - b).abs() < 1e-12, "{a} vs {b}");
            }
            // Bit for bit the probabilities of one token at a time.
            cache.truncate(2);
            let mut one = Vec::new();
            for &tok in &tokens[2..] {
                one.extend_from_slice(m.step(&mut cache, tok));
            }
            assert_eq!(one, probs);
        }
    }

    /// A pass giving out only its last rows (a window's rebuild) gives those rows, and leaves a
    /// cache, bit for bit as a pass giving out every row; for both MLPs, norms and position kinds.
    #[test]
    fn passes_giving_out_only_their_last_rows_keep_the_bits() {
        for (norm, mlp, positions) in [
            (Norm::LayerNorm, Mlp::Gelu, Positions::Learned),
            (Norm::RmsNorm, Mlp::SwiGlu, Positions::Rope),
        ] {
            let c = ModelConfig {
                arch: Arch::Transformer,
                vocab_size: 37,
                n_layer: 3,
                n_head: 2,
                n_embd: 32,
                d_ff: 0,
                block_size: 48,
                norm,
                mlp,
                positions,
                tied_head: false,
                bias: true,
                dropout: 0.0,
            };
            let m = Transformer::<f32>::new(&c, 5).unwrap();
            let tokens: Vec<u32> = (0..30).map(|i| (i * 7 % 37) as u32).collect();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            for first_out in [0, 1, 9, 19] {
                let (mut all, mut part) = (m.new_cache(), m.new_cache());
                let want = bits(&m.step_many(&mut all, &tokens[..20])[first_out * 37..]);
                let got = bits(&m.step_rows(&mut part, &tokens[..20], first_out)[first_out * 37..]);
                assert_eq!(got, want, "{norm:?} {mlp:?}: rows from {first_out}");
                let (h_all, h_part) = (all.last_rows(20).1.to_vec(), part.last_rows(20).1.to_vec());
                assert_eq!(
                    bits(&h_part[first_out * 32..]),
                    bits(&h_all[first_out * 32..])
                );
                let next_all = bits(m.step_many(&mut all, &tokens[20..]));
                let next_part = bits(m.step_many(&mut part, &tokens[20..]));
                assert_eq!(
                    next_part, next_all,
                    "{norm:?} {mlp:?}: the cache after rows from {first_out}"
                );
            }
        }
    }

    /// In f32 (the vector paths: row tiles for the products and the attention scores, the weighted
    /// sum of values), tokens fed in passes of 1 to 9 give the bits of one token at a time.
    #[test]
    fn f32_passes_of_any_size_give_the_bits_of_single_steps() {
        let c = ModelConfig {
            arch: Arch::Transformer,
            vocab_size: 37,
            n_layer: 2,
            n_head: 2,
            n_embd: 32,
            d_ff: 0,
            block_size: 48,
            norm: Norm::LayerNorm,
            mlp: Mlp::Gelu,
            positions: Positions::Learned,
            tied_head: true,
            bias: false,
            dropout: 0.0,
        };
        let m = Transformer::<f32>::new(&c, 7).unwrap();
        let tokens: Vec<u32> = (0..45).map(|i| (i * 11 % 37) as u32).collect();
        let mut cache = m.new_cache();
        let mut one = Vec::new();
        for &tok in &tokens {
            one.extend_from_slice(m.step(&mut cache, tok));
        }
        let mut cache = m.new_cache();
        let (mut at, mut size) = (0, 1);
        while at < tokens.len() {
            let end = (at + size).min(tokens.len());
            let probs = m.step_many(&mut cache, &tokens[at..end]);
            let want = &one[at * 37..end * 37];
            let same = probs
                .iter()
                .zip(want)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "tokens {at}..{end} fed together");
            (at, size) = (end, size % 9 + 1);
        }
    }
}
