//! `lmlab prune`: a transformer run with weights removed, as a new run directory with a fresh
//! optimizer ([`crate::derived_run`]).
//!
//! - **magnitude**: the smallest-magnitude entries of the block matrices (q/k/v, attention output,
//!   MLP input and output; not embeddings, head, norms or biases) set to zero, over all of them at
//!   once (`global`) or the same fraction of each matrix (`layer`). The pruned run records the
//!   pruned tensors in `pruning.json`; training that run (`--resume`) keeps their zeros at zero after
//!   every step ([`PruneMask`]), so the sparsity survives recovery training.
//! - **heads**: whole attention heads, ranked over the model by weight norm (the L2 norm of the
//!   head's q, k, v rows and its attention-output columns), zeroed and kept zero the same way. The
//!   layout ties the head count to the width (head size = n_embd / n_head), so a pruned head cannot
//!   be cut out of the matrices; the model keeps its size.
//! - **neurons**: MLP hidden units, ranked in each block by weight norm (‖input row‖ · ‖output
//!   column‖; for SwiGLU the gate and up rows together), the same number removed from every block,
//!   written as a smaller model (`d_ff` lowered) that runs faster.
//! - **layers**: whole blocks, ranked by the weight norm of what they write into the residual
//!   stream (‖attention output‖ + ‖MLP output‖ matrices' L2 norm together), the kept blocks in
//!   their order as a shallower model. With `neurons` (and `heads`) applied after it, this is
//!   "Where to Begin"'s subnetwork of a larger run, a student's starting point for distillation
//!   from that run (`lmlab train transformer ... --resume --teacher RUN`).

use crate::config::{Arch, Mlp, RunConfig};
use crate::derived_run::{refuse_used_output, write_derived_run};
use crate::lm::load_parts;
use crate::model::params::{param_specs, Layout, ParamSpec, Span};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file in a run directory that names its pruned tensors.
pub const FILE_NAME: &str = "pruning.json";

/// How to prune.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PruneMethod {
    /// Smallest-magnitude matrix entries.
    Magnitude,
    /// Whole attention heads by weight norm (zeroed).
    Heads,
    /// MLP hidden units by weight norm (removed: a smaller model).
    Neurons,
    /// Whole blocks by the weight norm of their output matrices (removed: a shallower model).
    Layers,
}

/// Over what magnitude pruning ranks entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PruneScope {
    /// All block matrices together.
    #[default]
    Global,
    /// Each matrix on its own.
    Layer,
}

/// What was pruned; kept as `pruning.json` in the pruned run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pruned {
    /// Method.
    pub method: PruneMethod,
    /// Magnitude pruning's scope.
    pub scope: PruneScope,
    /// Fraction asked for.
    pub sparsity: f64,
    /// Tensors whose zeros training keeps at zero (empty for neurons: they are gone).
    pub masked_tensors: Vec<String>,
    /// Parameters before and after.
    pub parameters: (usize, usize),
    /// Zero entries among the masked tensors.
    pub zeros: usize,
}

/// Whether `spec` is a block matrix (what magnitude pruning ranks).
fn is_block_matrix(spec: &ParamSpec) -> bool {
    spec.name.starts_with("h.") && spec.shape.len() == 2
}

/// Sets to zero the `⌊sparsity · n⌋` smallest-magnitude entries among `spans` of `params`, ranked
/// together (ties by position).
fn zero_smallest(params: &mut [f32], spans: &[Span], sparsity: f64) {
    let mut entries: Vec<usize> = spans.iter().flat_map(|s| s.off..s.off + s.len).collect();
    let k = (sparsity * entries.len() as f64) as usize;
    entries.sort_by(|&a, &b| params[a].abs().total_cmp(&params[b].abs()).then(a.cmp(&b)));
    for &i in &entries[..k] {
        params[i] = 0.0;
    }
}

fn l2(values: impl Iterator<Item = f32>) -> f64 {
    values.map(|x| (x as f64) * (x as f64)).sum::<f64>().sqrt()
}

/// Zeroes the `⌊sparsity · heads⌋` attention heads of least weight norm over the whole model.
fn zero_heads(config: &RunConfig, params: &mut [f32], sparsity: f64) -> Vec<String> {
    let m = &config.model;
    let layout = Layout::new(m);
    let (d, hd) = (m.n_embd, m.head_dim());
    // Rows of q, k and v of head h, and its columns of the output projection.
    let head_rows = |h: usize| (0..3).flat_map(move |p| p * d + h * hd..p * d + (h + 1) * hd);
    let mut heads = Vec::new();
    for (l, b) in layout.blocks.iter().enumerate() {
        for h in 0..m.n_head {
            let qkv = b.qkv.0.of(params);
            let proj = b.proj.0.of(params);
            let rows = head_rows(h).flat_map(|r| qkv[r * d..(r + 1) * d].iter().copied());
            let cols = (0..d).flat_map(|r| proj[r * d + h * hd..r * d + (h + 1) * hd].to_vec());
            heads.push((l2(rows.chain(cols)), l, h));
        }
    }
    heads.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let k = (sparsity * heads.len() as f64) as usize;
    for &(_, l, h) in &heads[..k] {
        let b = &layout.blocks[l];
        for r in head_rows(h) {
            b.qkv.0.of_mut(params)[r * d..(r + 1) * d].fill(0.0);
            if let Some(bias) = b.qkv.1 {
                bias.of_mut(params)[r] = 0.0;
            }
        }
        for r in 0..d {
            b.proj.0.of_mut(params)[r * d + h * hd..r * d + (h + 1) * hd].fill(0.0);
        }
    }
    let mut names: Vec<String> = Vec::new();
    for l in 0..m.n_layer {
        names.push(format!("h.{l}.attn.c_attn.weight"));
        names.push(format!("h.{l}.attn.c_proj.weight"));
        if m.bias {
            names.push(format!("h.{l}.attn.c_attn.bias"));
        }
    }
    names
}

/// The config and parameters with the `⌊sparsity · d_ff⌋` MLP units of least weight norm removed
/// from every block.
fn remove_neurons(
    config: &RunConfig,
    params: &[f32],
    sparsity: f64,
) -> Result<(RunConfig, Vec<f32>)> {
    let m = &config.model;
    let (d, ff) = (m.n_embd, m.ff());
    let keep = ff - (sparsity * ff as f64) as usize;
    if keep == 0 {
        return Err(Error::invalid(format!(
            "prune: sparsity {sparsity} would remove all {ff} MLP units of each block"
        )));
    }
    let swiglu = m.mlp == Mlp::SwiGlu;
    let parts = if swiglu { 2 } else { 1 };
    let mut small = config.clone();
    small.model.d_ff = keep;
    let old_layout = Layout::new(m);
    let mut kept_units = Vec::new();
    for b in &old_layout.blocks {
        let fc = b.fc.0.of(params);
        let fc2 = b.fc2.0.of(params);
        let mut units: Vec<(f64, usize)> = (0..ff)
            .map(|u| {
                let rows =
                    (0..parts).flat_map(|p| fc[(p * ff + u) * d..(p * ff + u + 1) * d].to_vec());
                let col = (0..d).map(|r| fc2[r * ff + u]);
                (l2(rows) * l2(col), u)
            })
            .collect();
        units.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut kept: Vec<usize> = units[..keep].iter().map(|&(_, u)| u).collect();
        kept.sort_unstable();
        kept_units.push(kept);
    }
    let new_specs = param_specs(&small.model);
    let old_specs = param_specs(m);
    let mut out = vec![0f32; new_specs.last().map_or(0, |s| s.span.off + s.span.len)];
    for spec in &new_specs {
        let old = old_specs
            .iter()
            .find(|s| s.name == spec.name)
            .expect("same names");
        let src = old.span.of(params);
        let dst = spec.span.of_mut(&mut out);
        let layer = spec
            .name
            .strip_prefix("h.")
            .and_then(|r| r.split_once('.'))
            .and_then(|(l, _)| l.parse::<usize>().ok());
        let kept = layer.map(|l| &kept_units[l]);
        // Old row (or bias entry) of new row `r` of the MLP input.
        let fc_row = |kept: &Vec<usize>, r: usize| (r / keep) * ff + kept[r % keep];
        if spec.name.ends_with("mlp.c_fc.weight") {
            let kept = kept.expect("block tensor");
            for (r, row) in dst.chunks_exact_mut(d).enumerate() {
                let o = fc_row(kept, r);
                row.copy_from_slice(&src[o * d..(o + 1) * d]);
            }
        } else if spec.name.ends_with("mlp.c_fc.bias") {
            let kept = kept.expect("block tensor");
            for (r, x) in dst.iter_mut().enumerate() {
                *x = src[fc_row(kept, r)];
            }
        } else if spec.name.ends_with("mlp.c_proj.weight") {
            let kept = kept.expect("block tensor");
            for (r, row) in dst.chunks_exact_mut(keep).enumerate() {
                for (x, &u) in row.iter_mut().zip(kept) {
                    *x = src[r * ff + u];
                }
            }
        } else {
            dst.copy_from_slice(src);
        }
    }
    Ok((small, out))
}

/// The config and parameters with the `⌊sparsity · n_layer⌋` blocks of least weight norm removed;
/// the blocks kept are renumbered in their order.
fn remove_layers(config: &RunConfig, params: &[f32], sparsity: f64) -> (RunConfig, Vec<f32>) {
    let m = &config.model;
    // ⌊sparsity · n⌋ < n for sparsity < 1: at least one block is kept.
    let keep = m.n_layer - (sparsity * m.n_layer as f64) as usize;
    let layout = Layout::new(m);
    let mut blocks: Vec<(f64, usize)> = layout
        .blocks
        .iter()
        .enumerate()
        .map(|(l, b)| {
            let written = b.proj.0.of(params).iter().chain(b.fc2.0.of(params));
            (l2(written.copied()), l)
        })
        .collect();
    blocks.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut kept: Vec<usize> = blocks[..keep].iter().map(|&(_, l)| l).collect();
    kept.sort_unstable();
    let mut small = config.clone();
    small.model.n_layer = keep;
    let old_specs = param_specs(m);
    let new_specs = param_specs(&small.model);
    let mut out = vec![0f32; new_specs.last().map_or(0, |s| s.span.off + s.span.len)];
    for spec in &new_specs {
        // `h.<new>.rest` comes from `h.<kept[new]>.rest`; other tensors keep their names.
        let source = match spec.name.strip_prefix("h.").and_then(|r| r.split_once('.')) {
            Some((l, rest)) => format!("h.{}.{rest}", kept[l.parse::<usize>().expect("block")]),
            None => spec.name.clone(),
        };
        let old = old_specs
            .iter()
            .find(|s| s.name == source)
            .expect("same names");
        spec.span
            .of_mut(&mut out)
            .copy_from_slice(old.span.of(params));
    }
    (small, out)
}

/// Prunes the transformer run `run_dir` into the new run directory `out`.
pub fn prune_run(
    run_dir: &Path,
    out: &Path,
    method: PruneMethod,
    scope: PruneScope,
    sparsity: f64,
) -> Result<Pruned> {
    if !(0.0..1.0).contains(&sparsity) {
        return Err(Error::invalid(format!(
            "prune: --sparsity is {sparsity}; it must be in [0, 1) (the fraction removed)"
        )));
    }
    let (ck, tokenizer) = load_parts(run_dir)?;
    if ck.config.model.arch != Arch::Transformer {
        return Err(Error::invalid(
            "prune: only transformer runs can be pruned (this one is an LSTM)",
        ));
    }
    refuse_used_output(out)?;
    let specs = param_specs(&ck.config.model);
    let mut params = ck.params.clone();
    let mut config = ck.config.clone();
    let masked_tensors: Vec<String> = match method {
        PruneMethod::Magnitude => {
            let matrices: Vec<&ParamSpec> = specs.iter().filter(|s| is_block_matrix(s)).collect();
            match scope {
                PruneScope::Global => {
                    let spans: Vec<Span> = matrices.iter().map(|s| s.span).collect();
                    zero_smallest(&mut params, &spans, sparsity);
                }
                PruneScope::Layer => {
                    for s in &matrices {
                        zero_smallest(&mut params, &[s.span], sparsity);
                    }
                }
            }
            matrices.iter().map(|s| s.name.clone()).collect()
        }
        PruneMethod::Heads => zero_heads(&ck.config, &mut params, sparsity),
        PruneMethod::Neurons => {
            let (small, smaller) = remove_neurons(&ck.config, &params, sparsity)?;
            config = small;
            params = smaller;
            Vec::new()
        }
        PruneMethod::Layers => {
            let (small, smaller) = remove_layers(&ck.config, &params, sparsity);
            config = small;
            params = smaller;
            Vec::new()
        }
    };
    let new_specs = param_specs(&config.model);
    let zeros = new_specs
        .iter()
        .filter(|s| masked_tensors.contains(&s.name))
        .map(|s| s.span.of(&params).iter().filter(|x| **x == 0.0).count())
        .sum();
    let pruned = Pruned {
        method,
        scope,
        sparsity,
        masked_tensors,
        parameters: (ck.params.len(), params.len()),
        zeros,
    };
    write_derived_run(out, config, params, tokenizer.as_ref())?;
    let json = serde_json::to_string_pretty(&pruned).expect("pruning record serializes");
    write_bytes_atomically(&out.join(FILE_NAME), json.as_bytes())?;
    Ok(pruned)
}

/// The zeros of a pruned run's masked tensors, kept zero through training.
#[derive(Clone, Debug, Default)]
pub struct PruneMask {
    /// Flat indices held at zero.
    zeros: Vec<usize>,
}

impl PruneMask {
    /// The mask of the run in `run_dir` with `params`: the zero entries of the tensors its
    /// `pruning.json` names (no mask when the file is absent).
    pub fn load(run_dir: &Path, config: &RunConfig, params: &[f32]) -> Result<Option<PruneMask>> {
        let path = run_dir.join(FILE_NAME);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let record: Pruned = serde_json::from_slice(&bytes)
            .map_err(|e| Error::bad_file(&path, format!("unreadable pruning record: {e}")))?;
        let specs = param_specs(&config.model);
        let mut zeros = Vec::new();
        for name in &record.masked_tensors {
            let spec = specs.iter().find(|s| &s.name == name).ok_or_else(|| {
                Error::bad_file(
                    &path,
                    format!("names tensor `{name}`, which the model lacks"),
                )
            })?;
            zeros.extend(
                (spec.span.off..spec.span.off + spec.span.len).filter(|&i| params[i] == 0.0),
            );
        }
        Ok(Some(PruneMask { zeros }))
    }

    /// Sets the masked entries of `params` back to zero.
    pub fn apply(&self, params: &mut [f32]) {
        for &i in &self.zeros {
            params[i] = 0.0;
        }
    }
}
