//! Chunks files: a [`ChunkStore`] in lmlab's model-file container (kind `cdlm-chunks`), its header
//! naming the target it was built from (tokenizer fingerprint and weights digest) so a file built
//! for another target is refused.

use super::{weights_digest, ChunkOptions, ChunkStore};
use crate::lm::TransformerModel;
use lmlab_core::model_file::{write_model_file, ModelFile, ModelHeader, Provenance};
use lmlab_core::{Error, LanguageModel, Result, SequenceMode, LMLAB_VERSION};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The model-file kind of a chunks file.
pub const KIND: &str = "cdlm-chunks";
/// Its payload version.
pub const KIND_VERSION: u32 = 1;

/// What a chunks file records of its making (the header's `provenance.options`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunksInfo {
    /// The probability threshold chunk tokens exceeded.
    pub threshold: f64,
    /// The fewest tokens after an entry.
    pub min_tokens: usize,
    /// [`weights_digest`] of the target.
    pub target_weights_sha256: String,
    /// Which hidden state keys the chunks.
    pub hidden_state: String,
    /// Occurrences stored.
    pub occurrences: usize,
    /// Distinct (entry, chunk) pairs.
    pub distinct_chunks: usize,
}

/// The state every chunk is keyed by, as recorded in the file.
const HIDDEN_STATE: &str = "final hidden state after the last norm (the LM head's input)";

/// Where a store's corpus came from.
pub struct CorpusInfo<'a> {
    /// SHA-256 of the corpus text.
    pub sha256: String,
    /// The corpus as named by the caller.
    pub name: &'a str,
    /// How it was cut into sequences.
    pub sequences: SequenceMode,
}

/// Writes `store` (built from `target` with `options`) to `path`, atomically; equal inputs give
/// equal bytes.
pub fn write_chunks(
    path: &Path,
    store: &ChunkStore,
    target: &TransformerModel,
    options: &ChunkOptions,
    corpus: &CorpusInfo<'_>,
) -> Result<ChunksInfo> {
    let info = ChunksInfo {
        threshold: options.threshold,
        min_tokens: options.min_tokens,
        target_weights_sha256: weights_digest(target),
        hidden_state: HIDDEN_STATE.to_string(),
        occurrences: store.len(),
        distinct_chunks: store.distinct_chunks(),
    };
    let provenance = Provenance {
        corpus_sha256: corpus.sha256.clone(),
        corpus_name: corpus.name.to_string(),
        sequences: corpus.sequences,
        options: serde_json::to_value(&info).expect("chunks info serializes"),
        seed: None,
        lmlab_version: LMLAB_VERSION.to_string(),
    };
    let header = ModelHeader::new(KIND, KIND_VERSION, target.tokenizer(), provenance);
    write_model_file(path, &header, &store.to_payload())?;
    Ok(info)
}

/// Reads the chunks file at `path` for `target`: refused when it was built for another target
/// (another tokenizer, other weights or another width).
pub fn read_chunks(path: &Path, target: &TransformerModel) -> Result<(ChunkStore, ChunksInfo)> {
    let file = ModelFile::open(path)?;
    let header = file.header();
    if header.kind != KIND {
        return Err(Error::bad_file(
            path,
            format!(
                "a '{}' model file, not a chunks file (make one with `lmlab chunks build`)",
                header.kind
            ),
        ));
    }
    header.require_kind(path, KIND, KIND_VERSION)?;
    let info: ChunksInfo = serde_json::from_value(header.provenance.options.clone())
        .map_err(|e| Error::bad_file(path, format!("its chunks options do not read: {e}")))?;
    let rebuild = "rebuild it for this target with `lmlab chunks build`";
    let fingerprint = target.tokenizer().fingerprint();
    if header.tokenizer_fingerprint != fingerprint {
        return Err(Error::Mismatch(format!(
            "{}: the chunks were built for another target: its tokenizer fingerprint {} is not \
             the target's {fingerprint}; {rebuild}",
            path.display(),
            header.tokenizer_fingerprint
        )));
    }
    let digest = weights_digest(target);
    if info.target_weights_sha256 != digest {
        return Err(Error::Mismatch(format!(
            "{}: the chunks were built for another target: its weights digest {} is not the \
             target's {}; {rebuild}",
            path.display(),
            &info.target_weights_sha256[..16.min(info.target_weights_sha256.len())],
            &digest[..16]
        )));
    }
    let store = ChunkStore::from_payload(path, file.payload())?;
    if store.dim() != target.config().model.n_embd {
        return Err(Error::Mismatch(format!(
            "{}: states of {} values, the target's hidden state has {}; {rebuild}",
            path.display(),
            store.dim(),
            target.config().model.n_embd
        )));
    }
    Ok((store, info))
}
