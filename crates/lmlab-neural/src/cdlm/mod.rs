//! Chunk-distilled language modeling (CD-LM; Li, Livescu & Zhou, ICLR 2025, arXiv 2501.00343):
//! a transformer target generates several tokens at once by retrieving a chunk it already
//! predicted confidently in a datastore built from its own pass over a corpus.
//!
//! Read from the authors' code (github yanhong-lbh/cd-lm: `save_token_trie_info.py`,
//! `make_token_trie.py`, `lm_trie.py`, `compute_ppl.py`) and followed:
//! - **Chunks** ([`extract`]): the maximal runs of tokens whose target probability exceeds the
//!   threshold (0.3 by default, strictly greater), each with the token before it as its entry; a run
//!   longer than the minimum also gives every suffix, each entered by the run token before it
//!   (their "sub-chunks by removing leading tokens").
//! - **Keys**: the final hidden state at the entry (the layer-normed vector the LM head reads, their
//!   `hidden_states[-1]` / `model.model(...)[0]`), grouped by entry token (their one trie file per
//!   entry token, [`store`]); every occurrence kept, duplicates included.
//! - **Retrieval**: the stored state of the current last token with the highest cosine similarity;
//!   used when it is ≥ the similarity threshold S, and S = 1 turns retrieval off (their
//!   `similarity_threshold == 1` is the plain LM) ([`generate`]).
//! - **Perplexity** ([`eval`]): their latent-segmentation likelihood, marginalised exactly (see
//!   [`eval::sequence_log_prob`]), with q = their `identity` map of the similarity.
//!
//! Where this differs:
//! - `min_tokens` (chunk tokens after the entry) defaults to 2, not their 1: a one-token chunk saves
//!   no target call (the target already ran to give the entry's state). `--min-tokens 1` is theirs.
//! - Their builder skips the first 64 tokens of every 512-token window; here every position counts,
//!   with the sliding windows (half a window) of the target's own evaluation.
//! - Their chunks are strings re-tokenized at use; here they are token ids in one prefix trie per
//!   entry token, the entry its root.
//! - Only their `identity` q; the piecewise-linear `map_A_B` family is not implemented.
//! - A chunk is emitted only after the target's forward pass that gave the entry's state; its tokens
//!   then reach the KV cache in the next step's one forward pass with the step's own token(s).

pub mod build;
pub mod eval;
pub mod extract;
pub mod file;
pub mod generate;
pub mod store;

pub use build::build_chunks;
pub use eval::{evaluate_sequences, CdlmEval};
pub use file::{read_chunks, write_chunks, ChunksInfo, CorpusInfo};
pub use generate::{generate, generate_samples, CdlmStats};
pub use store::ChunkStore;

use crate::lm::TransformerModel;
use lmlab_core::{Error, Result};

/// The default probability threshold a chunk token must exceed (the paper's and code's 0.3).
pub const DEFAULT_THRESHOLD: f64 = 0.3;
/// The default cosine-similarity threshold of retrieval (near the authors' 0.89 default).
pub const DEFAULT_SIMILARITY: f64 = 0.9;
/// The default fewest tokens of a chunk after its entry.
pub const DEFAULT_MIN_TOKENS: usize = 2;

/// How chunks are cut from the target's probabilities.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChunkOptions {
    /// A token joins a chunk when the target gives it a probability strictly above this, in (0, 1).
    pub threshold: f64,
    /// The fewest tokens after the entry a chunk holds (≥ 1).
    pub min_tokens: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        ChunkOptions {
            threshold: DEFAULT_THRESHOLD,
            min_tokens: DEFAULT_MIN_TOKENS,
        }
    }
}

impl ChunkOptions {
    /// Refuses a threshold outside (0, 1) and a minimum of 0 tokens.
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(Error::invalid(format!(
                "--threshold {} is outside (0, 1): a chunk token's probability must exceed it",
                self.threshold
            )));
        }
        if self.min_tokens == 0 {
            return Err(Error::invalid(
                "--min-tokens 0: a chunk holds at least one token after its entry",
            ));
        }
        Ok(())
    }
}

/// Refuses a similarity threshold outside [−1, 1] (a cosine's range; 1 turns retrieval off).
pub fn check_similarity(similarity: f64) -> Result<()> {
    if !(-1.0..=1.0).contains(&similarity) {
        return Err(Error::invalid(format!(
            "--similarity {similarity} is outside [-1, 1], the range of a cosine similarity \
             (1 turns chunk retrieval off)"
        )));
    }
    Ok(())
}

/// SHA-256 of the target's weights (little-endian f32 bytes): with the tokenizer fingerprint, what
/// ties a chunks file to its target.
pub fn weights_digest(model: &TransformerModel) -> String {
    let params = &model.transformer().params;
    let mut bytes = Vec::with_capacity(params.len() * 4);
    for p in params {
        bytes.extend_from_slice(&p.to_le_bytes());
    }
    lmlab_core::hashing::sha256_hex(&bytes)
}
