//! Work on trained models that is not a training run: tokenizer files, and adding text to a
//! memory-based model. Training runs are [`crate::run`].

use lmlab_core::compute::{ComputeMeter, ComputeRecord};
use lmlab_core::model::encode_corpus;
use lmlab_core::model_file::Provenance;
use lmlab_core::{Corpus, LanguageModel, Result, Tokenizer};
use lmlab_memory::MemoryModel;
use lmlab_tokenize::load_tokenizer_file;
use lmlab_tokenize::registry::tokenizer_from_json_allow_special;
use std::path::Path;

/// Loads a tokenizer file; with `allow_special`, literal special-token strings in text encode to
/// the special tokens (otherwise they are ordinary text).
pub fn load_tokenizer(path: &Path, allow_special: bool) -> Result<Box<dyn Tokenizer>> {
    let tokenizer = load_tokenizer_file(path)?;
    if !allow_special {
        return Ok(tokenizer);
    }
    tokenizer_from_json_allow_special(&tokenizer.to_json(), true)
        .map_err(|e| lmlab_core::Error::bad_file(path, e.to_string()))
}

/// Adds the instances of `corpus` to an existing memory model (encoded with its tokenizer and
/// sequence mode); the provenance records the added corpus.
pub fn add_to_memory(
    model: &mut MemoryModel,
    provenance: &mut Provenance,
    corpus: &Corpus,
) -> Result<ComputeRecord> {
    let meter = ComputeMeter::start();
    let encoded = encode_corpus(model.tokenizer(), corpus.text(), provenance.sequences);
    model.add(&encoded)?;
    let added = serde_json::json!({
        "corpus_name": corpus.path().display().to_string(),
        "corpus_sha256": corpus.sha256(),
    });
    if let Some(options) = provenance.options.as_object_mut() {
        let list = options
            .entry("added_corpora")
            .or_insert_with(|| serde_json::json!([]));
        if let Some(list) = list.as_array_mut() {
            list.push(added);
        }
    }
    let tokens = encoded.iter().map(|s| s.ids.len() as u64).sum();
    Ok(meter.finish(tokens, model.parameter_count()))
}
