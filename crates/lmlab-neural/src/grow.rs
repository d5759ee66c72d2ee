//! `lmlab grow`: a transformer run made deeper and wider without changing the function it computes,
//! written as a new run directory with a fresh optimizer ([`crate::derived_run`]) to train on.
//!
//! **Depth.** New blocks go after the existing ones. Their attention and MLP output projections
//! (weights and biases) start at zero, so each new block adds nothing to the residual stream and
//! is the identity; their other weights start as a new model's would. Gradients reach the zero
//! projections at once (their inputs are not zero), and through them the rest of the block.
//!
//! **Width** (`n_embd` from d to D = k·d, k an integer). The residual stream is copied k times:
//! `x' = [x, x, …, x]`. A LayerNorm (or RMSNorm) of the copies has the same mean, variance (mean
//! square) and ε as the original, so its output is the copies of the original's, exactly; norm
//! gains and biases are copied. Every matrix that writes to the stream (embeddings, attention and
//! MLP output projections, their biases) has its rows copied; every matrix that reads the normed
//! stream (q/k/v, the MLP input, the output head) has its columns copied and divided by k, so it
//! reads `Σ W/k · x = W·x`. The head size stays, so n_head becomes k·n_head: the original heads
//! keep their q/k/v rows (and RoPE's frequencies, which depend on the head size), the new heads
//! start as a new model's and their columns of the attention output projection are zero. The MLP
//! gets new hidden units the same way (fresh input rows, zero output columns). A tied head is
//! untied when k > 1, since the embedding (rows copied) and the head (columns divided by k) then
//! differ. Copies are identical at the start, but the new heads and units read them through
//! different fresh weights, which breaks the symmetry as soon as training starts.
//!
//! LSTMs are not grown. A width that is not a multiple of the current one is refused: the zero-
//! padding constructions for it change LayerNorm's statistics and are exact only with ε = 0.

use crate::config::{Arch, Mlp, RunConfig};
use crate::derived_run::{refuse_used_output, write_derived_run};
use crate::lm::load_parts;
use crate::model::params::{init_params, param_specs, ParamSpec};
use lmlab_core::{Error, Result};
use std::path::Path;

/// What a growth wrote.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Grown {
    /// Blocks before and after.
    pub n_layer: (usize, usize),
    /// Width before and after.
    pub n_embd: (usize, usize),
    /// Heads before and after.
    pub n_head: (usize, usize),
    /// Parameters before and after.
    pub parameters: (usize, usize),
}

/// The config of `old` grown to `n_layer` blocks of width `n_embd`.
pub fn grown_config(old: &RunConfig, n_layer: usize, n_embd: usize) -> Result<RunConfig> {
    let m = &old.model;
    if m.arch != Arch::Transformer {
        return Err(Error::invalid(
            "grow: only transformer runs can be grown (this one is an LSTM)",
        ));
    }
    if n_layer < m.n_layer || n_embd < m.n_embd {
        return Err(Error::invalid(format!(
            "grow: growing to a smaller size: --n-layer {n_layer} --n-embd {n_embd}, the run has \
             {} layers of width {}",
            m.n_layer, m.n_embd
        )));
    }
    if !n_embd.is_multiple_of(m.n_embd) {
        return Err(Error::invalid(format!(
            "grow: --n-embd {n_embd} is not a multiple of the run's width {}; function-preserving \
             width growth copies the residual stream a whole number of times",
            m.n_embd
        )));
    }
    let k = n_embd / m.n_embd;
    let mut new = old.clone();
    new.model.n_layer = n_layer;
    new.model.n_embd = n_embd;
    new.model.n_head = m.n_head * k;
    new.model.d_ff = m.d_ff * k;
    new.model.tied_head = m.tied_head && k == 1;
    new.model.validate()?;
    Ok(new)
}

/// Where an element of a grown tensor comes from, along one of its dimensions.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Src {
    /// The old tensor's index along this dimension, and a factor.
    Old(usize, f32),
    /// Zero (when either dimension says so).
    Zero,
    /// The value of a freshly initialized model (unless the other dimension says zero).
    Fresh,
}

/// The sources of a tensor's rows and of its columns, by index.
type Maps = (fn(&Dims, usize) -> Src, fn(&Dims, usize) -> Src);

/// The dimensions of the old and grown models the maps need.
struct Dims {
    d: usize,
    big_d: usize,
    k: usize,
    ff: usize,
    big_ff: usize,
    swiglu: bool,
}

impl Dims {
    /// A row of something written to the residual stream.
    fn write(&self, j: usize) -> Src {
        Src::Old(j % self.d, 1.0)
    }
    /// A column reading the (normed) residual stream.
    fn read(&self, j: usize) -> Src {
        Src::Old(j % self.d, 1.0 / self.k as f32)
    }
    /// A row of the fused q, k, v projection: the original heads keep theirs.
    fn qkv_row(&self, r: usize) -> Src {
        let (part, i) = (r / self.big_d, r % self.big_d);
        if i < self.d {
            Src::Old(part * self.d + i, 1.0)
        } else {
            Src::Fresh
        }
    }
    /// A column of the attention output projection: the new heads' are zero.
    fn heads_col(&self, c: usize) -> Src {
        if c < self.d {
            Src::Old(c, 1.0)
        } else {
            Src::Zero
        }
    }
    /// A row of the MLP input projection (SwiGLU: gate rows, then up rows).
    fn hidden_row(&self, u: usize) -> Src {
        let (part, i) = if self.swiglu {
            (u / self.big_ff, u % self.big_ff)
        } else {
            (0, u)
        };
        if i < self.ff {
            Src::Old(part * self.ff + i, 1.0)
        } else {
            Src::Fresh
        }
    }
    /// A column of the MLP output projection: the new units' are zero.
    fn hidden_col(&self, u: usize) -> Src {
        if u < self.ff {
            Src::Old(u, 1.0)
        } else {
            Src::Zero
        }
    }
}

/// The parameters of `new` (a grown config of `old`) computing the same function as `params`.
pub fn grow_params(old: &RunConfig, params: &[f32], new: &RunConfig) -> Vec<f32> {
    let (o, n) = (&old.model, &new.model);
    let old_specs = param_specs(o);
    let new_specs = param_specs(n);
    let mut out: Vec<f32> = init_params(&new_specs, new.train.seed);
    let dims = Dims {
        d: o.n_embd,
        big_d: n.n_embd,
        k: n.n_embd / o.n_embd,
        ff: o.ff(),
        big_ff: n.ff(),
        swiglu: n.mlp == Mlp::SwiGlu,
    };
    let find = |name: &str| old_specs.iter().find(|s| s.name == name);
    for spec in &new_specs {
        let block = spec.name.strip_prefix("h.").and_then(|rest| {
            let (l, tail) = rest.split_once('.')?;
            Some((l.parse::<usize>().ok()?, tail))
        });
        let tail = block.map_or(spec.name.as_str(), |(_, t)| t);
        let is_new_block = block.is_some_and(|(l, _)| l >= o.n_layer);
        let source = match spec.name.as_str() {
            // An untied head reads the old tied head, the token embedding.
            "lm_head.weight" => find("lm_head.weight").or_else(|| find("wte")),
            name => find(name),
        };
        let rows_cols: Maps = match tail {
            "wte" | "wpe" => (same, Dims::write),
            "lm_head.weight" => (same, Dims::read),
            "attn.c_attn.weight" => (Dims::qkv_row, Dims::read),
            "attn.c_attn.bias" => (Dims::qkv_row, same),
            "attn.c_proj.weight" => (Dims::write, Dims::heads_col),
            "mlp.c_fc.weight" => (Dims::hidden_row, Dims::read),
            "mlp.c_fc.bias" => (Dims::hidden_row, same),
            "mlp.c_proj.weight" => (Dims::write, Dims::hidden_col),
            // Norm gains and biases, output projection biases.
            _ => (Dims::write, same),
        };
        let dst = spec.span.of_mut(&mut out);
        if is_new_block {
            if tail.starts_with("attn.c_proj.") || tail.starts_with("mlp.c_proj.") {
                dst.fill(0.0);
            }
            continue;
        }
        let source = source.expect("every tensor of an existing block has a source");
        fill(dst, spec, source.span.of(params), source, &dims, rows_cols);
    }
    out
}

fn same(_: &Dims, i: usize) -> Src {
    Src::Old(i, 1.0)
}

/// Fills the grown tensor `dst` (of `spec`, holding fresh values) from `old` (of `old_spec`).
fn fill(
    dst: &mut [f32],
    spec: &ParamSpec,
    old: &[f32],
    old_spec: &ParamSpec,
    dims: &Dims,
    (rows, cols): Maps,
) {
    let n_cols = spec.shape.get(1).copied().unwrap_or(1);
    let old_cols = old_spec.shape.get(1).copied().unwrap_or(1);
    let col_src: Vec<Src> = if spec.shape.len() == 1 {
        vec![Src::Old(0, 1.0)]
    } else {
        (0..n_cols).map(|c| cols(dims, c)).collect()
    };
    for (r, row) in dst.chunks_exact_mut(n_cols).enumerate() {
        let row_src = rows(dims, r);
        for (x, &c) in row.iter_mut().zip(&col_src) {
            *x = match (row_src, c) {
                (Src::Zero, _) | (_, Src::Zero) => 0.0,
                (Src::Old(i, a), Src::Old(j, b)) => old[i * old_cols + j] * a * b,
                _ => *x,
            };
        }
    }
}

/// Grows the run in `run_dir` to `n_layer` blocks of width `n_embd` into the new run directory
/// `out` (fresh optimizer, step 0).
pub fn grow_run(run_dir: &Path, n_layer: usize, n_embd: usize, out: &Path) -> Result<Grown> {
    let (ck, tokenizer) = load_parts(run_dir)?;
    let new = grown_config(&ck.config, n_layer, n_embd)?;
    refuse_used_output(out)?;
    let params = grow_params(&ck.config, &ck.params, &new);
    let grown = Grown {
        n_layer: (ck.config.model.n_layer, n_layer),
        n_embd: (ck.config.model.n_embd, n_embd),
        n_head: (ck.config.model.n_head, new.model.n_head),
        parameters: (ck.params.len(), params.len()),
    };
    write_derived_run(out, new, params, tokenizer.as_ref())?;
    Ok(grown)
}
