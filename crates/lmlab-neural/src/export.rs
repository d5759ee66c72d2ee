//! A run directory as one model file: the weights, the run config and the tokenizer, without the
//! optimizer state (a third of a checkpoint's size), loadable by every command like any model file.
//!
//! Payload (kind `neural`, version 1): the step (u64), then the parameters as the bits of their
//! f32 values (u32 slice), so weights round-trip exactly. The run config is the provenance's
//! `options`; the corpus hash is the training text's from the run's `data.json` (empty for runs
//! made before lmlab recorded it).

use crate::checkpoint;
use crate::config::RunConfig;
use crate::lm::{load_parts, model_from_parts, NeuralLm};
use crate::run_files::DataRecord;
use lmlab_core::model_file::{
    write_model_file, ModelFile, ModelHeader, PayloadReader, PayloadWriter, Provenance,
};
use lmlab_core::{Error, Result, LMLAB_VERSION};
use std::path::Path;

/// The model-file kind of exported neural runs.
pub const KIND: &str = "neural";
/// Its payload format version.
pub const KIND_VERSION: u32 = 1;

/// What an export wrote.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Exported {
    /// Parameters written.
    pub parameters: u64,
    /// The training step of the weights.
    pub step: usize,
    /// Bytes of the model file.
    pub model_bytes: u64,
    /// Bytes of the run's checkpoint (weights and optimizer state).
    pub checkpoint_bytes: u64,
}

/// Writes the weights, config and tokenizer of `run_dir` to the model file `out` (atomically).
pub fn export_run(run_dir: &Path, out: &Path) -> Result<Exported> {
    if !run_dir.is_dir() {
        return Err(Error::bad_file(
            run_dir,
            "not a neural run directory: export takes the directory `lmlab train transformer|lstm` \
             wrote (a model file is already one)",
        ));
    }
    // The checkpoint is read once: its load checks the weights against the config's layout, and
    // `load_parts` that the run's tokenizer is the one it was trained with.
    let (ck, tokenizer) = load_parts(run_dir)?;
    let ckpt_path = run_dir.join(checkpoint::FILE_NAME);
    let data = DataRecord::load(run_dir)?;
    let config = &ck.config;
    let provenance = Provenance {
        corpus_sha256: data.map_or(String::new(), |d| d.train_sha256),
        corpus_name: run_dir.display().to_string(),
        sequences: config.sequence_mode(),
        options: serde_json::to_value(config).expect("config serializes"),
        seed: Some(config.train.seed),
        lmlab_version: LMLAB_VERSION.to_string(),
    };
    let header = ModelHeader::new(KIND, KIND_VERSION, tokenizer.as_ref(), provenance);
    let mut payload = PayloadWriter::new();
    payload.u64(ck.step as u64);
    let bits: Vec<u32> = ck.params.iter().map(|p| p.to_bits()).collect();
    payload.u32_slice(&bits);
    write_model_file(out, &header, &payload.finish())?;
    let size = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len())
            .map_err(|e| Error::io(p, e))
    };
    Ok(Exported {
        parameters: ck.params.len() as u64,
        step: ck.step,
        model_bytes: size(out)?,
        checkpoint_bytes: size(&ckpt_path)?,
    })
}

/// The model of an exported model file.
pub fn load_exported(file: &ModelFile) -> Result<Box<dyn NeuralLm>> {
    let path = file.path();
    let header = file.header();
    header.require_kind(path, KIND, KIND_VERSION)?;
    let config: RunConfig = serde_json::from_value(header.provenance.options.clone())
        .map_err(|e| Error::bad_file(path, format!("unreadable run config: {e}")))?;
    let tokenizer = lmlab_tokenize::tokenizer_from_json(&header.tokenizer)
        .map_err(|e| Error::bad_file(path, e.to_string()))?;
    let mut r = PayloadReader::new(path, file.payload());
    let step = r.u64()? as usize;
    let params: Vec<f32> = r.u32_vec()?.into_iter().map(f32::from_bits).collect();
    r.finish()?;
    model_from_parts(config, params, tokenizer, step)
        .map_err(|e| Error::bad_file(path, e.to_string()))
}
