//! Loads a model of any kind by reading its file header.

use lmlab_baseline::BaselineModel;
use lmlab_core::model_file::ModelFile;
use lmlab_core::{Error, LanguageModel, Result};
use lmlab_memory::MemoryModel;
use lmlab_ngram::NgramModel;
use std::path::Path;

/// The model kinds this build can load.
pub const MODEL_KINDS: &[&str] = &[
    lmlab_baseline::KIND,
    lmlab_ngram::binary::KIND,
    lmlab_memory::KIND,
];

/// Opens a model file and builds the model its header names.
pub fn load_model(path: &Path) -> Result<Box<dyn LanguageModel>> {
    let file = ModelFile::open(path)?;
    match file.header().kind.as_str() {
        lmlab_baseline::KIND => Ok(Box::new(BaselineModel::from_file(&file)?)),
        lmlab_ngram::binary::KIND => Ok(Box::new(NgramModel::load(path)?)),
        lmlab_memory::KIND => Ok(Box::new(MemoryModel::from_file(&file)?)),
        other => Err(Error::bad_file(
            path,
            format!(
                "unknown model kind '{other}' (this lmlab loads {})",
                MODEL_KINDS.join(", ")
            ),
        )),
    }
}
