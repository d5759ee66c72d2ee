//! Learning-dynamics checkpoints (issue 17 §1): at the steps `[train] analysis = { every = N,
//! batch = "valid" }` names, the weights, the gradients of the loss on one fixed batch and the
//! activations at named sites on that batch, in `RUN/analysis/step-NNNNNNN.safetensors` beside the
//! run's checkpoint. Tensors are named `weights.<param>`, `gradients.<param>` and
//! `activations.<site>` (rows = the batch's tokens, batch-major) and `batch.targets` (each row's
//! next token, u32); the metadata records the step, the batch and the run config. For nanoGPT's
//! shakespeare-char CPU shape (4 × 128, context 64, batch 12) one such file is 12.2 MiB (test
//! `a_nanogpt_shape_analysis_checkpoint_is_12_mib`): weights and gradients 6.1 MiB, activations
//! 6.0 MiB.

use crate::config::RunConfig;
use crate::data::Batcher;
use crate::layers::linear;
use crate::model::{LstmNet, Net, Transformer};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The folder of a run directory holding its learning-dynamics checkpoints.
pub const DIR: &str = "analysis";
/// The safetensors metadata key of an analysis checkpoint (one sorted JSON object).
const METADATA_KEY: &str = "lmlab_analysis";
/// The `format` field of that metadata.
const FORMAT: &str = "lmlab-neural-analysis";
/// Seed of the windows of the fixed batch: the same as the first validation batch of
/// [`crate::train::evaluate`], so `batch = "valid"` is that batch.
const FIXED_BATCH_SEED: u64 = 0x05EE_D0F7_A11D;

/// The tensor holding the fixed batch's next tokens (u32), in the order of the activations' rows.
pub const TARGETS: &str = "batch.targets";

/// Which text the fixed batch is drawn from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisBatch {
    /// The validation text: the first batch the validation estimate uses.
    #[default]
    Valid,
    /// The training text, windows drawn with the same fixed seed.
    Train,
}

/// `[train] analysis = { every = N, batch = "valid" }`: save learning dynamics every `every` steps
/// (and at step 0 and the run's last step) on one fixed batch of `batch_size` windows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// Steps between learning-dynamics checkpoints (> 0).
    pub every: usize,
    /// The text of the fixed batch.
    #[serde(default)]
    pub batch: AnalysisBatch,
}

impl AnalysisConfig {
    /// Checks the interval.
    pub fn validate(&self) -> Result<()> {
        if self.every == 0 {
            return Err(Error::invalid(
                "train.analysis.every must be a positive number of steps",
            ));
        }
        Ok(())
    }

    /// Whether a learning-dynamics checkpoint is due after `step` (step 0 is the initialization).
    pub fn due(&self, step: usize) -> bool {
        step.is_multiple_of(self.every)
    }
}

/// The fixed batch's windows: `b` windows of `t` tokens, inputs and targets.
pub fn fixed_batch(stream: &[u32], b: usize, t: usize) -> (Vec<u32>, Vec<u32>) {
    let (mut x, mut y) = (vec![0u32; b * t], vec![0u32; b * t]);
    Batcher::new(FIXED_BATCH_SEED).fill(stream, b, t, &mut x, &mut y);
    (x, y)
}

/// One named tensor: shape and f32 values.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Row-major shape.
    pub shape: Vec<usize>,
    /// Values.
    pub data: Vec<f32>,
}

/// A network whose activations at named sites can be read after a forward pass.
pub trait Sites: Net {
    /// The activations at the analysis sites after the last forward pass over `ws`, each
    /// `[tokens, features]`.
    fn sites(&self, ws: &Self::Ws) -> Vec<(String, Tensor)>;
}

impl Sites for Transformer<f32> {
    /// Per block `h.{l}`: `attn.v` (the value projection's output, heads side by side),
    /// `attn.c_proj` (the attention output projection's output), `mlp.c_proj` (the MLP's output)
    /// and `resid` (the block's output, the residual stream).
    fn sites(&self, ws: &Self::Ws) -> Vec<(String, Tensor)> {
        let c = &self.config;
        let (b, t, d, h, hd) = (ws.b, ws.t, c.n_embd, c.n_head, c.head_dim());
        let n = b * t;
        let p = &self.params;
        let mut out = Vec::with_capacity(4 * c.n_layer);
        for (l, a) in ws.blocks.iter().enumerate() {
            let spans = &self.layout.blocks[l];
            // Values are head-major [b, h, t, hd]; rows are tokens (b, t), columns head·hd + i.
            let mut v = vec![0f32; n * d];
            for (bi, ti, hi) in
                (0..b).flat_map(|bi| (0..t).flat_map(move |ti| (0..h).map(move |hi| (bi, ti, hi))))
            {
                let src = ((bi * h + hi) * t + ti) * hd;
                let dst = (bi * t + ti) * d + hi * hd;
                v[dst..dst + hd].copy_from_slice(&a.v[src..src + hd]);
            }
            let project =
                |x: &[f32], (w, bias): (crate::model::Span, Option<crate::model::Span>), din| {
                    let mut y = vec![0f32; n * d];
                    linear::forward(
                        &mut y,
                        &x[..n * din],
                        w.of(p),
                        bias.map(|s| s.of(p)),
                        n,
                        din,
                        d,
                    );
                    y
                };
            let attn_out = project(&a.atty, spans.proj, d);
            let mlp_out = project(&a.act, spans.fc2, c.ff());
            let shape = vec![n, d];
            for (site, data) in [
                ("attn.v", v),
                ("attn.c_proj", attn_out),
                ("mlp.c_proj", mlp_out),
                ("resid", a.out[..n * d].to_vec()),
            ] {
                out.push((
                    format!("h.{l}.{site}"),
                    Tensor {
                        shape: shape.clone(),
                        data,
                    },
                ));
            }
        }
        out
    }
}

impl Sites for LstmNet<f32> {
    /// Per layer `lstm.{l}`: `h`, the layer's hidden outputs (rows batch-major, as the
    /// transformer's: the workspace's time-major rows reordered).
    fn sites(&self, ws: &Self::Ws) -> Vec<(String, Tensor)> {
        let (b, t, d) = (ws.b, ws.t, self.config.n_embd);
        ws.layer_outputs()
            .enumerate()
            .map(|(l, h)| {
                let mut data = vec![0f32; b * t * d];
                for (bi, ti) in (0..b).flat_map(|bi| (0..t).map(move |ti| (bi, ti))) {
                    let src = (ti * b + bi) * d;
                    data[(bi * t + ti) * d..][..d].copy_from_slice(&h[src..src + d]);
                }
                (
                    format!("lstm.{l}.h"),
                    Tensor {
                        shape: vec![b * t, d],
                        data,
                    },
                )
            })
            .collect()
    }
}

/// The path of the learning-dynamics checkpoint of `step` in `run_dir`.
pub fn checkpoint_path(run_dir: &Path, step: usize) -> PathBuf {
    run_dir
        .join(DIR)
        .join(format!("step-{step:07}.safetensors"))
}

/// Computes and writes the learning-dynamics checkpoint of `step`: one forward and backward pass
/// over the fixed batch `(x, y)` in evaluation mode (no dropout), the mean loss's gradients, the
/// weights and the sites' activations. `ws` is overwritten. Returns the file's size in bytes.
#[allow(clippy::too_many_arguments)]
pub fn save<N: Sites>(
    run_dir: &Path,
    step: usize,
    config: &RunConfig,
    model: &N,
    ws: &mut N::Ws,
    (x, y): (&[u32], &[u32]),
    ignore: u32,
) -> Result<u64> {
    let mut grads = vec![0f32; model.params().len()];
    let (_, count) = model.forward_loss(ws, x, y, Some(ignore));
    let activations = model.sites(ws);
    model.backward(
        ws,
        &mut grads,
        x,
        y,
        Some(ignore),
        1.0 / count.max(1) as f32,
    );
    let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for spec in model.specs() {
        tensors.push((
            format!("weights.{}", spec.name),
            Dtype::F32,
            spec.shape.clone(),
            bytes_of(spec.span.of(model.params())),
        ));
        tensors.push((
            format!("gradients.{}", spec.name),
            Dtype::F32,
            spec.shape.clone(),
            bytes_of(spec.span.of(&grads)),
        ));
    }
    for (site, t) in activations {
        tensors.push((
            format!("activations.{site}"),
            Dtype::F32,
            t.shape,
            bytes_of(&t.data),
        ));
    }
    let targets: Vec<u8> = y.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensors.push((TARGETS.to_string(), Dtype::U32, vec![y.len()], targets));
    let batch = config
        .train
        .analysis
        .as_ref()
        .map_or(AnalysisBatch::Valid, |a| a.batch);
    let fields: BTreeMap<&str, String> = [
        ("format", FORMAT.to_string()),
        ("step", step.to_string()),
        (
            "batch",
            serde_json::to_string(&batch).expect("batch serializes"),
        ),
        ("tokens", x.len().to_string()),
        (
            "config",
            serde_json::to_string(config).expect("config serializes"),
        ),
    ]
    .into_iter()
    .collect();
    let meta = HashMap::from([(
        METADATA_KEY.to_string(),
        serde_json::to_string(&fields).expect("metadata serializes"),
    )]);
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::invalid(format!("analysis tensor {name}: {e}")))
        })
        .collect::<Result<_>>()?;
    let bytes = safetensors::serialize(views, &Some(meta))
        .map_err(|e| Error::invalid(format!("writing analysis checkpoint: {e}")))?;
    let path = checkpoint_path(run_dir, step);
    let dir = run_dir.join(DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    write_bytes_atomically(&path, &bytes)?;
    Ok(bytes.len() as u64)
}

fn bytes_of(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A learning-dynamics checkpoint read back.
#[derive(Clone, Debug)]
pub struct AnalysisCheckpoint {
    /// Steps completed when it was saved (0: the initialization).
    pub step: usize,
    /// The run's config.
    pub config: RunConfig,
    /// Tensors by name (`weights.…`, `gradients.…`, `activations.…`).
    pub tensors: BTreeMap<String, Tensor>,
    /// The fixed batch's next token at each activation row.
    pub targets: Vec<u32>,
}

impl AnalysisCheckpoint {
    /// Reads one; a truncated or foreign file is refused with the reason.
    pub fn load(path: &Path) -> Result<AnalysisCheckpoint> {
        let bad = |reason: String| Error::bad_file(path, reason);
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| {
            bad(format!(
                "not a readable safetensors file (truncated or foreign): {e:?}"
            ))
        })?;
        let fields: BTreeMap<String, String> = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(METADATA_KEY))
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| bad("a safetensors file without lmlab analysis metadata".into()))?;
        if fields.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(bad(format!(
                "not an lmlab analysis checkpoint (format {:?})",
                fields.get("format")
            )));
        }
        let step = fields
            .get("step")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("analysis metadata without a step".into()))?;
        let config: RunConfig = fields
            .get("config")
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| bad("analysis metadata without a readable run config".into()))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| bad(format!("unreadable tensors: {e:?}")))?;
        let mut tensors = BTreeMap::new();
        let mut targets = Vec::new();
        for (name, view) in st.tensors() {
            if name == TARGETS && view.dtype() == Dtype::U32 {
                let bytes = view.data().chunks_exact(4);
                targets = bytes
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                continue;
            }
            if view.dtype() != Dtype::F32 {
                return Err(bad(format!(
                    "tensor {name} is {:?}, expected F32",
                    view.dtype()
                )));
            }
            let data = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            tensors.insert(
                name,
                Tensor {
                    shape: view.shape().to_vec(),
                    data,
                },
            );
        }
        Ok(AnalysisCheckpoint {
            step,
            config,
            tensors,
            targets,
        })
    }
}

impl AnalysisCheckpoint {
    /// The run's flat parameters at this step, put together from the `weights.*` tensors (each
    /// checked against the shape the config gives it).
    pub fn params(&self) -> Result<Vec<f32>> {
        let (specs, len) = match self.config.model.arch {
            crate::config::Arch::Transformer => {
                let net = Transformer::<f32>::zeros(&self.config.model)?;
                (net.layout.specs, net.params.len())
            }
            crate::config::Arch::Lstm => {
                let net = LstmNet::<f32>::zeros(&self.config.model)?;
                (net.layout.specs, net.params.len())
            }
        };
        let mut params = vec![0f32; len];
        for spec in &specs {
            let name = format!("weights.{}", spec.name);
            let tensor = self.tensors.get(&name).ok_or_else(|| {
                Error::invalid(format!(
                    "the analysis checkpoint of step {} has no tensor {name}",
                    self.step
                ))
            })?;
            if tensor.shape != spec.shape {
                return Err(Error::Mismatch(format!(
                    "analysis checkpoint of step {}: {name} has shape {:?}, the config gives {:?}",
                    self.step, tensor.shape, spec.shape
                )));
            }
            spec.span.of_mut(&mut params).copy_from_slice(&tensor.data);
        }
        Ok(params)
    }

    /// The model at this step, over the run's `tokenizer`.
    pub fn model(
        &self,
        tokenizer: Box<dyn lmlab_core::Tokenizer>,
    ) -> Result<Box<dyn crate::NeuralLm>> {
        crate::lm::model_from_parts(self.config.clone(), self.params()?, tokenizer, self.step)
    }
}

/// The saved learning-dynamics checkpoints of `run_dir` as `(step, path)` in step order; empty
/// when the run saved none.
pub fn list(run_dir: &Path) -> Result<Vec<(usize, PathBuf)>> {
    let dir = run_dir.join(DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    let mut steps = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(&dir, e))?.path();
        let step = path.file_name().and_then(|n| n.to_str()).and_then(|n| {
            n.strip_prefix("step-")?
                .strip_suffix(".safetensors")?
                .parse()
                .ok()
        });
        if let Some(step) = step {
            steps.push((step, path));
        }
    }
    steps.sort();
    Ok(steps)
}
