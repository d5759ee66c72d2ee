//! The matrices the metrics are computed on, per layer, from a learning-dynamics checkpoint:
//! pico-analyze's "simple" components (one tensor as saved) and its OV circuit, the value and
//! output projections of each attention head taken together (as pico's `ov_circuit.py`: per head
//! `W_V,h · W_O,h` for weights, `W_O,h · ∂W_V,h + ∂W_O,h · W_V,h` for gradients, `V_h · W_O,hᵀ`
//! for activations, and the heads side by side).

use super::capture::{AnalysisCheckpoint, Tensor};
use super::DataKind;
use crate::config::Arch;
use lmlab_core::{Error, Result};
use nalgebra::DMatrix;

/// One named matrix of one layer.
pub struct Component {
    /// Name within the layer (`mlp.c_proj`, `ov`, `ov.head1`, ...).
    pub name: String,
    /// The matrix, in f64.
    pub matrix: DMatrix<f64>,
}

fn matrix(t: &Tensor) -> DMatrix<f64> {
    let cols = t.shape.last().copied().unwrap_or(1).max(1);
    let rows = t.data.len() / cols;
    DMatrix::from_row_iterator(rows, cols, t.data.iter().map(|&v| f64::from(v)))
}

fn tensor<'a>(ck: &'a AnalysisCheckpoint, name: &str) -> Result<&'a Tensor> {
    ck.tensors.get(name).ok_or_else(|| {
        Error::Mismatch(format!(
            "the learning-dynamics checkpoint of step {} has no tensor {name}",
            ck.step
        ))
    })
}

/// The matrices of `layer` holding data of `kind` in `ck`, in a fixed order.
pub fn layer_components(
    ck: &AnalysisCheckpoint,
    layer: usize,
    kind: DataKind,
) -> Result<Vec<Component>> {
    let get = |name: String| tensor(ck, &name).map(matrix);
    let simple = |names: &[&str], prefix: &str, suffix: &str| -> Result<Vec<Component>> {
        names
            .iter()
            .map(|n| {
                Ok(Component {
                    name: n.to_string(),
                    matrix: get(format!("{}.{prefix}.{layer}.{n}{suffix}", kind.name()))?,
                })
            })
            .collect()
    };
    match ck.config.model.arch {
        Arch::Lstm => match kind {
            DataKind::Activations => simple(&["h"], "lstm", ""),
            _ => simple(&["weight_ih", "weight_hh"], "lstm", ""),
        },
        Arch::Transformer => {
            let mut out = match kind {
                DataKind::Activations => {
                    simple(&["attn.v", "attn.c_proj", "mlp.c_proj", "resid"], "h", "")?
                }
                _ => simple(
                    &["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"],
                    "h",
                    ".weight",
                )?,
            };
            out.extend(ov_circuit(ck, layer, kind)?);
            Ok(out)
        }
    }
}

/// The OV circuit of a transformer layer: the heads side by side (`ov`) and each head (`ov.headH`).
fn ov_circuit(ck: &AnalysisCheckpoint, layer: usize, kind: DataKind) -> Result<Vec<Component>> {
    let c = &ck.config.model;
    let (d, h, hd) = (c.n_embd, c.n_head, c.head_dim());
    let weight =
        |k: &str, n: &str| tensor(ck, &format!("{k}.h.{layer}.attn.{n}.weight")).map(matrix);
    // The value projection: rows 2d..3d of the fused q, k, v projection `[3d, d]` (pico's v_proj).
    let w_v = weight("weights", "c_attn")?.rows(2 * d, d).into_owned();
    let w_o = weight("weights", "c_proj")?;
    let heads: Vec<DMatrix<f64>> = match kind {
        DataKind::Weights => (0..h)
            .map(|i| w_v.rows(i * hd, hd) * w_o.columns(i * hd, hd))
            .collect(),
        DataKind::Gradients => {
            let g_v = weight("gradients", "c_attn")?.rows(2 * d, d).into_owned();
            let g_o = weight("gradients", "c_proj")?;
            (0..h)
                .map(|i| {
                    w_o.columns(i * hd, hd) * g_v.rows(i * hd, hd)
                        + g_o.columns(i * hd, hd) * w_v.rows(i * hd, hd)
                })
                .collect()
        }
        DataKind::Activations => {
            let v = matrix(tensor(ck, &format!("activations.h.{layer}.attn.v"))?);
            (0..h)
                .map(|i| v.columns(i * hd, hd) * w_o.columns(i * hd, hd).transpose())
                .collect()
        }
    };
    let rows = heads[0].nrows();
    let width = heads[0].ncols();
    let mut all = DMatrix::zeros(rows, width * h);
    for (i, m) in heads.iter().enumerate() {
        all.columns_mut(i * width, width).copy_from(m);
    }
    let mut out = vec![Component {
        name: "ov".into(),
        matrix: all,
    }];
    out.extend(heads.into_iter().enumerate().map(|(i, matrix)| Component {
        name: format!("ov.head{i}"),
        matrix,
    }));
    Ok(out)
}
