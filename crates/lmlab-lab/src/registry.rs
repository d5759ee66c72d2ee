//! Loads a model of any kind by reading its file header.

use lmlab_baseline::{BaselineModel, UniformModel};
use lmlab_core::model_file::ModelFile;
use lmlab_core::{Error, LanguageModel, Result, SequenceMode};
use lmlab_memory::MemoryModel;
use lmlab_ngram::NgramModel;
use std::path::Path;

/// The model kinds this build can load.
pub const MODEL_KINDS: &[&str] = &[
    lmlab_baseline::KIND,
    lmlab_baseline::UNIFORM_KIND,
    lmlab_ngram::binary::KIND,
    lmlab_ngram::glm::KIND,
    lmlab_memory::KIND,
    lmlab_neural::export::KIND,
];

/// A loaded model with the sequence mode it was trained with.
pub struct LoadedModel {
    /// The model.
    pub model: Box<dyn LanguageModel>,
    /// How its training text was cut into sequences (the default for evaluating and sampling it).
    pub sequences: SequenceMode,
}

impl LoadedModel {
    /// Whether sampling stops at the end token: a model trained on a stream ends lines, not texts,
    /// with `</s>`, so it keeps going across lines; `ignore_eos` keeps going for any model.
    pub fn sampling_stops_at_eos(&self, ignore_eos: bool) -> bool {
        !ignore_eos && self.sequences != SequenceMode::Stream
    }
}

/// Opens a model file and builds the model its header names.
pub fn load_model(path: &Path) -> Result<Box<dyn LanguageModel>> {
    Ok(load(path)?.model)
}

/// Opens a model (a model file, or a neural run directory) and tells how it was trained to cut text
/// into sequences.
pub fn load(path: &Path) -> Result<LoadedModel> {
    if path.is_dir() {
        let model = lmlab_neural::load_model(path)?;
        let sequences = model.run_config().sequence_mode();
        return Ok(LoadedModel { model, sequences });
    }
    let file = ModelFile::open(path)?;
    let sequences = file.header().provenance.sequences;
    let model = model_from_file(path, file)?;
    Ok(LoadedModel { model, sequences })
}

fn model_from_file(path: &Path, file: ModelFile) -> Result<Box<dyn LanguageModel>> {
    match file.header().kind.as_str() {
        lmlab_baseline::KIND => Ok(Box::new(BaselineModel::from_file(&file)?)),
        lmlab_baseline::UNIFORM_KIND => Ok(Box::new(UniformModel::from_file(&file)?)),
        // The file opened once: its pages are mapped (and counted resident) once.
        lmlab_ngram::binary::KIND => Ok(Box::new(NgramModel::from_file(file)?)),
        lmlab_ngram::glm::KIND => Ok(Box::new(lmlab_ngram::glm::GlmModel::load(path)?)),
        lmlab_memory::KIND => Ok(Box::new(MemoryModel::from_file(&file)?)),
        lmlab_neural::export::KIND => Ok(lmlab_neural::export::load_exported(&file)?),
        other => Err(Error::bad_file(
            path,
            format!(
                "unknown model kind '{other}' (this lmlab loads {})",
                MODEL_KINDS.join(", ")
            ),
        )),
    }
}
