//! Checkpoints: one safetensors file holding the weights, the AdamW moments, the step, the sampler's
//! RNG state and the run config (in the metadata), written atomically. Nothing measured (time, CPU)
//! goes in, so the same seed and inputs give the same checkpoint bytes; the run's CPU accounting is
//! kept beside it in [`crate::ledger`].

use crate::config::RunConfig;
use crate::data::RngState;
use crate::model::params::{param_specs, total_len};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The `format` metadata value that marks an lmlab-neural checkpoint.
pub const FORMAT: &str = "lmlab-neural-checkpoint";
/// The checkpoint format version written (newer ones are refused). Version 2 keeps all lmlab
/// metadata as one JSON object under [`METADATA_KEY`], so the header's bytes do not depend on hash
/// map order; version 1 kept them as separate safetensors metadata entries (still read).
pub const VERSION: u32 = 2;
/// The one safetensors metadata entry a version 2 checkpoint writes.
pub const METADATA_KEY: &str = "lmlab";
/// File name of the checkpoint inside a run directory.
pub const FILE_NAME: &str = "checkpoint.safetensors";

/// Everything needed to continue a run exactly, or to use its model.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The run's config (vocabulary size filled in).
    pub config: RunConfig,
    /// Flat parameters.
    pub params: Vec<f32>,
    /// AdamW first moments (empty when not stored).
    pub adam_m: Vec<f32>,
    /// AdamW second moments.
    pub adam_v: Vec<f32>,
    /// AdamW update count.
    pub adam_t: u64,
    /// Optimizer steps completed.
    pub step: usize,
    /// The batch sampler's state (the data position).
    pub rng: RngState,
    /// Training tokens read so far.
    pub tokens_seen: u64,
    /// Fingerprint of the tokenizer.
    pub tokenizer_fingerprint: String,
    /// Validation loss history `(step, loss)`.
    pub val_history: Vec<(usize, f64)>,
}

fn bytes_of(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl Checkpoint {
    /// Writes the checkpoint to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let specs = param_specs(&self.config.model);
        let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for spec in &specs {
            buffers.push((
                format!("model.{}", spec.name),
                spec.shape.clone(),
                bytes_of(spec.span.of(&self.params)),
            ));
            if !self.adam_m.is_empty() {
                buffers.push((
                    format!("adam.m.{}", spec.name),
                    spec.shape.clone(),
                    bytes_of(spec.span.of(&self.adam_m)),
                ));
                buffers.push((
                    format!("adam.v.{}", spec.name),
                    spec.shape.clone(),
                    bytes_of(spec.span.of(&self.adam_v)),
                ));
            }
        }
        let views: Vec<(String, TensorView<'_>)> = buffers
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| Error::invalid(format!("checkpoint tensor {name}: {e}")))
            })
            .collect::<Result<_>>()?;
        let config = serde_json::to_string(&self.config).expect("config serializes");
        let fields: BTreeMap<String, String> = [
            ("format", FORMAT.to_string()),
            ("version", VERSION.to_string()),
            ("lmlab_version", lmlab_core::LMLAB_VERSION.to_string()),
            ("config", config),
            ("step", self.step.to_string()),
            ("adam_t", self.adam_t.to_string()),
            ("rng_seed", hex(&self.rng.seed)),
            ("rng_word_pos", self.rng.word_pos.to_string()),
            ("tokens_seen", self.tokens_seen.to_string()),
            ("tokenizer_fingerprint", self.tokenizer_fingerprint.clone()),
            (
                "val_history",
                serde_json::to_string(&self.val_history).expect("history serializes"),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        // safetensors keeps its metadata in a HashMap, whose order changes from run to run: one
        // entry holding a sorted JSON object gives the same bytes every time.
        let fields = serde_json::to_string(&fields).expect("metadata serializes");
        let meta = HashMap::from([(METADATA_KEY.to_string(), fields)]);
        let bytes = safetensors::serialize(views, &Some(meta))
            .map_err(|e| Error::invalid(format!("writing checkpoint: {e}")))?;
        write_bytes_atomically(path, &bytes)
    }

    /// Reads a checkpoint; truncated, foreign or newer files are refused with the reason.
    pub fn load(path: &Path) -> Result<Checkpoint> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |m: String| Error::bad_file(path, m);
        let tensors = SafeTensors::deserialize(&bytes).map_err(|e| {
            bad(format!(
                "not a readable safetensors checkpoint (truncated or foreign file): {e:?}"
            ))
        })?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| bad(format!("unreadable safetensors header: {e:?}")))?;
        let mut meta = header.metadata().clone().ok_or_else(|| {
            bad("a safetensors file without lmlab metadata, not an lmlab-neural checkpoint".into())
        })?;
        if let Some(fields) = meta.get(METADATA_KEY) {
            meta = serde_json::from_str(fields)
                .map_err(|e| bad(format!("metadata `{METADATA_KEY}` unreadable: {e}")))?;
        }
        let get = |k: &str| {
            meta.get(k)
                .ok_or_else(|| bad(format!("checkpoint metadata lacks `{k}`")))
        };
        if get("format").ok().map(String::as_str) != Some(FORMAT) {
            return Err(bad(format!(
                "not an lmlab-neural checkpoint (metadata format is not `{FORMAT}`)"
            )));
        }
        let version: u32 = get("version")?
            .parse()
            .map_err(|_| bad("bad version".into()))?;
        if version > VERSION {
            return Err(bad(format!(
                "checkpoint format version {version} is newer than this lmlab ({VERSION})"
            )));
        }
        let config: RunConfig = serde_json::from_str(get("config")?)
            .map_err(|e| bad(format!("recorded config unreadable: {e}")))?;
        config
            .model
            .validate()
            .map_err(|e| bad(format!("recorded config: {e}")))?;
        let num = |k: &str| -> Result<u128> {
            get(k)?
                .parse::<u128>()
                .map_err(|_| bad(format!("metadata `{k}` is not a number")))
        };
        let specs = param_specs(&config.model);
        let read = |prefix: &str, required: bool| -> Result<Vec<f32>> {
            let mut out = vec![0f32; total_len(&specs)];
            for spec in &specs {
                let name = format!("{prefix}{}", spec.name);
                let t = match tensors.tensor(&name) {
                    Ok(t) => t,
                    Err(_) if !required => return Ok(Vec::new()),
                    Err(_) => return Err(bad(format!("checkpoint lacks tensor `{name}`"))),
                };
                if t.dtype() != Dtype::F32 || t.shape() != spec.shape.as_slice() {
                    return Err(bad(format!(
                        "tensor `{name}` is {:?} {:?}, expected F32 {:?}",
                        t.dtype(),
                        t.shape(),
                        spec.shape
                    )));
                }
                for (o, c) in spec
                    .span
                    .of_mut(&mut out)
                    .iter_mut()
                    .zip(t.data().chunks_exact(4))
                {
                    *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                }
            }
            Ok(out)
        };
        let seed_hex = get("rng_seed")?;
        let seed = unhex(seed_hex)
            .ok_or_else(|| bad("metadata `rng_seed` is not 64 hex digits".into()))?;
        Ok(Checkpoint {
            params: read("model.", true)?,
            adam_m: read("adam.m.", false)?,
            adam_v: read("adam.v.", false)?,
            adam_t: num("adam_t")? as u64,
            step: num("step")? as usize,
            rng: RngState {
                seed,
                word_pos: num("rng_word_pos")?,
            },
            tokens_seen: num("tokens_seen")? as u64,
            tokenizer_fingerprint: get("tokenizer_fingerprint")?.clone(),
            val_history: serde_json::from_str(get("val_history")?)
                .map_err(|_| bad("metadata `val_history` unreadable".into()))?,
            config,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
