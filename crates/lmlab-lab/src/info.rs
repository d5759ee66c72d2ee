//! `lmlab info`: what a model is, for a model file or a neural run directory alike.

use crate::registry::load;
use lmlab_core::compute::ComputeRecord;
use lmlab_core::model_file::{ModelFile, Provenance};
use lmlab_core::{Error, LanguageModel, Result, SequenceMode};
use lmlab_neural::train::{files, StopReason, TrainReport};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The tokenizer a model reads text with.
#[derive(Clone, Debug, Serialize)]
pub struct TokenizerInfo {
    /// Its kind (`words`, `bytes`, `bpe`, ...).
    pub kind: String,
    /// Tokens, specials included.
    pub vocab_size: usize,
    /// Its fingerprint.
    pub fingerprint: String,
}

/// What a neural run directory adds: its architecture and how far training went.
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    /// The network (`transformer` or `lstm`) with its shape, as in the run's `config.json`.
    pub architecture: lmlab_neural::config::ModelConfig,
    /// Steps the schedule runs to (`train.max_steps`).
    pub max_steps: usize,
    /// Steps completed, why the last session stopped, the last losses and the compute of the whole
    /// run, from `report.json`; `None` when the run has no report yet.
    pub progress: Option<RunProgress>,
}

/// A run's `report.json`, reduced to what `info` shows.
#[derive(Clone, Debug, Serialize)]
pub struct RunProgress {
    /// Steps completed.
    pub steps: usize,
    /// Why the last session stopped.
    pub stop: StopReason,
    /// Mean training loss of the last step (nats per token).
    pub train_loss: f64,
    /// Last validation loss (nats per token).
    pub val_loss: f64,
    /// Compute of the whole run (all sessions).
    pub compute: ComputeRecord,
}

/// What `lmlab info` reports about a model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// The model file or run directory.
    pub path: PathBuf,
    /// The model kind (`baseline`, `ngram`, `memory`, `transformer`, `lstm`).
    pub kind: String,
    /// Model files: the payload format version of the kind; `None` for a run directory.
    pub format_version: Option<u32>,
    /// One line describing the model.
    pub description: String,
    /// Parameters (or stored entries).
    pub parameters: u64,
    /// The tokenizer.
    pub tokenizer: TokenizerInfo,
    /// How the training text was cut into sequences.
    pub sequences: SequenceMode,
    /// Model files: the training provenance of the header.
    pub provenance: Option<Provenance>,
    /// Run directories: architecture, steps, losses and compute.
    pub run: Option<RunInfo>,
}

/// Describes the model at `path`: a model file (its header) or a neural run directory (its config,
/// checkpoint and report).
pub fn model_info(path: &Path) -> Result<ModelInfo> {
    if path.is_dir() {
        let model = lmlab_neural::load_model(path)?;
        let config = model.run_config();
        let mut info = basic_info(path, model.as_ref(), config.sequence_mode());
        info.run = Some(RunInfo {
            architecture: config.model.clone(),
            max_steps: config.train.max_steps,
            progress: read_progress(path)?,
        });
        return Ok(info);
    }
    let loaded = load(path)?;
    let mut info = basic_info(path, loaded.model.as_ref(), loaded.sequences);
    let file = ModelFile::open(path)?;
    let header = file.header();
    info.format_version = Some(header.kind_version);
    info.provenance = Some(header.provenance.clone());
    Ok(info)
}

/// What every model tells about itself.
fn basic_info<M: LanguageModel + ?Sized>(
    path: &Path,
    model: &M,
    sequences: SequenceMode,
) -> ModelInfo {
    let tokenizer = model.tokenizer();
    ModelInfo {
        path: path.to_path_buf(),
        kind: model.kind().to_string(),
        format_version: None,
        description: model.describe(),
        parameters: model.parameter_count(),
        tokenizer: TokenizerInfo {
            kind: tokenizer.kind().to_string(),
            vocab_size: tokenizer.vocab().len(),
            fingerprint: tokenizer.fingerprint(),
        },
        sequences,
        provenance: None,
        run: None,
    }
}

/// The run's `report.json`, or `None` when it has none yet.
fn read_progress(run_dir: &Path) -> Result<Option<RunProgress>> {
    let path = run_dir.join(files::REPORT);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let report: TrainReport = serde_json::from_slice(&bytes)
        .map_err(|e| Error::bad_file(&path, format!("not a training report: {e}")))?;
    Ok(Some(RunProgress {
        steps: report.steps,
        stop: report.stop,
        train_loss: report.train_loss,
        val_loss: report.val_loss,
        compute: report.compute,
    }))
}
