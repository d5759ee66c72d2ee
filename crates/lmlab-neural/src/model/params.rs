//! Where each named parameter lives in the one flat parameter (and gradient) buffer.

use crate::config::{Arch, ModelConfig, Norm, Positions};
use crate::float::Float;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A range of the flat buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First element.
    pub off: usize,
    /// Number of elements.
    pub len: usize,
}

impl Span {
    /// The elements of `buf` in this span.
    pub fn of<'a, F>(&self, buf: &'a [F]) -> &'a [F] {
        &buf[self.off..self.off + self.len]
    }

    /// The elements of `buf` in this span, mutable.
    pub fn of_mut<'a, F>(&self, buf: &'a mut [F]) -> &'a mut [F] {
        &mut buf[self.off..self.off + self.len]
    }
}

/// How a parameter starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Normal with mean 0 and this standard deviation.
    Normal(f64),
    /// All ones (norm gains).
    Ones,
    /// All zeros (biases).
    Zeros,
    /// Uniform on [−a, a] (PyTorch's LSTM initialization, a = 1/√hidden).
    Uniform(f64),
}

/// The named tensors of a model of either family, in buffer order.
pub fn param_specs(c: &ModelConfig) -> Vec<ParamSpec> {
    match c.arch {
        Arch::Transformer => Layout::new(c).specs,
        Arch::Lstm => super::lstm::LstmLayout::new(c).specs,
    }
}

/// Total elements of a list of specs.
pub fn total_len(specs: &[ParamSpec]) -> usize {
    specs.last().map_or(0, |s| s.span.off + s.span.len)
}

/// Parameters drawn from their specs' initializations with a seeded ChaCha8 (portable).
pub fn init_params<F: Float>(specs: &[ParamSpec], seed: u64) -> Vec<F> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = vec![F::ZERO; total_len(specs)];
    for spec in specs {
        let dst = spec.span.of_mut(&mut params);
        match spec.init {
            Init::Normal(std) => {
                for x in dst {
                    *x = F::from_f64(normal(&mut rng) * std);
                }
            }
            Init::Uniform(a) => {
                for x in dst {
                    *x = F::from_f64((rng.gen::<f64>() * 2.0 - 1.0) * a);
                }
            }
            Init::Ones => dst.fill(F::ONE),
            Init::Zeros => dst.fill(F::ZERO),
        }
    }
    params
}

/// Standard normal samples (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// One named tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// Name, GPT-2 style (`h.0.attn.c_attn.weight`).
    pub name: String,
    /// Shape (row-major).
    pub shape: Vec<usize>,
    /// Place in the flat buffer.
    pub span: Span,
    /// Whether AdamW decays it (matrices and embeddings do; gains and biases do not).
    pub decay: bool,
    /// Initialization.
    pub init: Init,
}

/// Spans of one block's parameters.
#[derive(Clone, Debug)]
pub struct BlockSpans {
    /// First norm gain and bias.
    pub ln1: (Span, Option<Span>),
    /// Fused q, k, v projection `[3d, d]` and bias.
    pub qkv: (Span, Option<Span>),
    /// Attention output projection `[d, d]` and bias.
    pub proj: (Span, Option<Span>),
    /// Second norm gain and bias.
    pub ln2: (Span, Option<Span>),
    /// MLP input projection `[ff or 2ff, d]` and bias.
    pub fc: (Span, Option<Span>),
    /// MLP output projection `[d, ff]` and bias.
    pub fc2: (Span, Option<Span>),
}

/// Lays tensors out one after the other in one flat buffer, in the order they are added.
#[derive(Default)]
pub struct SpecList {
    specs: Vec<ParamSpec>,
}

impl SpecList {
    /// Appends a tensor and returns where it lives.
    pub fn add(&mut self, name: String, shape: Vec<usize>, decay: bool, init: Init) -> Span {
        let span = Span {
            off: total_len(&self.specs),
            len: shape.iter().product(),
        };
        self.specs.push(ParamSpec {
            name,
            shape,
            span,
            decay,
            init,
        });
        span
    }

    /// The tensors in buffer order.
    pub fn into_specs(self) -> Vec<ParamSpec> {
        self.specs
    }
}

/// The whole layout.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Every tensor in buffer order.
    pub specs: Vec<ParamSpec>,
    /// Token embedding `[V, d]`.
    pub wte: Span,
    /// Learned positions `[T, d]`.
    pub wpe: Option<Span>,
    /// Blocks.
    pub blocks: Vec<BlockSpans>,
    /// Final norm gain and bias.
    pub ln_f: (Span, Option<Span>),
    /// Output head `[V, d]` (the token embedding when tied).
    pub head: Span,
    /// Total elements.
    pub total: usize,
}

impl Layout {
    /// The layout of `config` (assumed valid).
    pub fn new(c: &ModelConfig) -> Layout {
        let (d, v, ff) = (c.n_embd, c.vocab_size, c.ff());
        let f_in = c.ff_in();
        let std = 0.02;
        let resid_std = 0.02 / (2.0 * c.n_layer as f64).sqrt();
        let mut list = SpecList::default();
        let norm_bias = c.bias && c.norm == Norm::LayerNorm;
        let norm = |list: &mut SpecList, name: &str| {
            let g = list.add(format!("{name}.weight"), vec![d], false, Init::Ones);
            let b =
                norm_bias.then(|| list.add(format!("{name}.bias"), vec![d], false, Init::Zeros));
            (g, b)
        };
        let linear = |list: &mut SpecList, name: &str, out: usize, inp: usize, std: f64| {
            let w = list.add(
                format!("{name}.weight"),
                vec![out, inp],
                true,
                Init::Normal(std),
            );
            let b = c
                .bias
                .then(|| list.add(format!("{name}.bias"), vec![out], false, Init::Zeros));
            (w, b)
        };
        let wte = list.add("wte".into(), vec![v, d], true, Init::Normal(std));
        let wpe = (c.positions == Positions::Learned)
            .then(|| list.add("wpe".into(), vec![c.block_size, d], true, Init::Normal(std)));
        let mut blocks = Vec::new();
        for l in 0..c.n_layer {
            let p = format!("h.{l}");
            blocks.push(BlockSpans {
                ln1: norm(&mut list, &format!("{p}.ln_1")),
                qkv: linear(&mut list, &format!("{p}.attn.c_attn"), 3 * d, d, std),
                proj: linear(&mut list, &format!("{p}.attn.c_proj"), d, d, resid_std),
                ln2: norm(&mut list, &format!("{p}.ln_2")),
                fc: linear(&mut list, &format!("{p}.mlp.c_fc"), f_in, d, std),
                fc2: linear(&mut list, &format!("{p}.mlp.c_proj"), d, ff, resid_std),
            });
        }
        let ln_f = norm(&mut list, "ln_f");
        let head = if c.tied_head {
            wte
        } else {
            list.add("lm_head.weight".into(), vec![v, d], true, Init::Normal(std))
        };
        let specs = list.into_specs();
        let total = total_len(&specs);
        Layout {
            specs,
            wte,
            wpe,
            blocks,
            ln_f,
            head,
            total,
        }
    }
}

/// Mutable access to a weight and its optional bias in one buffer (they never overlap).
pub fn pair_mut<F>(buf: &mut [F], w: Span, b: Option<Span>) -> (&mut [F], Option<&mut [F]>) {
    match b {
        None => (w.of_mut(buf), None),
        Some(b) if b.off >= w.off + w.len => {
            let (lo, hi) = buf.split_at_mut(b.off);
            (w.of_mut(lo), Some(&mut hi[..b.len]))
        }
        Some(b) => {
            assert!(b.off + b.len <= w.off, "overlapping parameter spans");
            let (lo, hi) = buf.split_at_mut(w.off);
            (&mut hi[..w.len], Some(b.of_mut(lo)))
        }
    }
}
