//! Chunk-distilled generation and perplexity (CD-LM, `lmlab_neural::cdlm`) over lmlab's files: the
//! target is a transformer run directory or an exported neural model file; chunks files are built
//! from a corpus cut as the target was trained (or as asked).

use crate::dynamics::{write_line_plot, Axes, Line};
use lmlab_core::corpus::{split_sequences, Corpus};
use lmlab_core::model::encode_sequence_into;
use lmlab_core::model_file::ModelFile;
use lmlab_core::{Error, LanguageModel, Result, SequenceMode, TokenId};
use lmlab_neural::cdlm::{
    build_chunks, evaluate_sequences, read_chunks, write_chunks, CdlmEval, ChunkOptions,
    ChunkStore, ChunksInfo, CorpusInfo,
};
use lmlab_neural::{NeuralLm, TransformerModel};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A CD-LM target: a neural transformer with the sequence mode it was trained with.
pub struct Target {
    model: Box<dyn NeuralLm>,
    /// How its training text was cut into sequences.
    pub sequences: SequenceMode,
}

impl Target {
    /// Opens a run directory or an exported neural model file; refuses other kinds and LSTMs (CD-LM
    /// keys chunks by a transformer's final hidden state).
    pub fn open(path: &Path) -> Result<Target> {
        let (model, sequences) = if path.is_dir() {
            let model = lmlab_neural::load_model(path)?;
            let sequences = model.run_config().sequence_mode();
            (model, sequences)
        } else {
            let file = ModelFile::open(path)?;
            let kind = file.header().kind.clone();
            if kind != lmlab_neural::export::KIND {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "a '{kind}' model: CD-LM needs a neural transformer target (a run \
                         directory or a file from `lmlab export`)"
                    ),
                ));
            }
            let sequences = file.header().provenance.sequences;
            (lmlab_neural::export::load_exported(&file)?, sequences)
        };
        if model.as_transformer().is_none() {
            return Err(Error::bad_file(
                path,
                "an LSTM: CD-LM needs a transformer target (its chunks are keyed by the final \
                 hidden state before the LM head)",
            ));
        }
        Ok(Target { model, sequences })
    }

    /// The transformer.
    pub fn transformer(&self) -> &TransformerModel {
        self.model.as_transformer().expect("checked at open")
    }

    /// The target as a language model.
    pub fn model(&self) -> &dyn LanguageModel {
        self.transformer()
    }

    /// `corpus` cut by `mode` and encoded: each sequence's ids with its end tokens.
    pub fn encode(&self, corpus: &Corpus, mode: SequenceMode) -> Vec<Vec<TokenId>> {
        let tokenizer = self.model.tokenizer();
        split_sequences(corpus.text(), mode)
            .iter()
            .map(|sequence| {
                let mut ids = Vec::new();
                encode_sequence_into(tokenizer, sequence, mode, &mut ids);
                ids
            })
            .collect()
    }

    /// Opens the chunks file at `path`, refused when it was built for another target.
    pub fn chunks(&self, path: &Path) -> Result<(ChunkStore, ChunksInfo)> {
        read_chunks(path, self.transformer())
    }
}

/// What `lmlab chunks build` made.
#[derive(Clone, Debug, Serialize)]
pub struct BuildReport {
    /// The chunks file written.
    pub output: String,
    /// Sequences and tokens the target read.
    pub sequences: usize,
    /// Tokens read (end tokens included).
    pub tokens: usize,
    /// What the file records (threshold, minimum, target digest, counts).
    pub info: ChunksInfo,
    /// Mean chunk length (tokens after the entry) over the occurrences.
    pub mean_chunk_tokens: f64,
}

/// Runs the target at `target` over `input` (cut as the target was trained unless `mode`) and
/// writes the chunks `options` keep to `output`, atomically.
pub fn build_chunks_file(
    target: &Path,
    input: &Path,
    output: &Path,
    options: &ChunkOptions,
    mode: Option<SequenceMode>,
) -> Result<BuildReport> {
    options.validate()?;
    let target = Target::open(target)?;
    let corpus = Corpus::open(input)?;
    let mode = mode.unwrap_or(target.sequences);
    let sequences = target.encode(&corpus, mode);
    let store = build_chunks(target.transformer(), &sequences, options)
        .map_err(|e| with_input(e, input))?;
    let name = input.display().to_string();
    let about = CorpusInfo {
        sha256: corpus.sha256(),
        name: &name,
        sequences: mode,
    };
    let info = write_chunks(output, &store, target.transformer(), options, &about)?;
    Ok(BuildReport {
        output: output.display().to_string(),
        sequences: sequences.len(),
        tokens: sequences.iter().map(Vec::len).sum(),
        info,
        mean_chunk_tokens: store.mean_chunk_len(),
    })
}

/// Names `input` in an invalid-argument error (an empty corpus).
fn with_input(error: Error, input: &Path) -> Error {
    match error {
        Error::InvalidArgument(message) => {
            Error::InvalidArgument(format!("{}: {message}", input.display()))
        }
        other => other,
    }
}

/// CD-LM's perplexity of `input` for each similarity threshold (1 = the target alone), the target
/// at `target` with the chunks file at `chunks`.
pub fn evaluate_with_chunks(
    target: &Path,
    chunks: &Path,
    input: &Path,
    similarities: &[f64],
    mode: Option<SequenceMode>,
) -> Result<Vec<CdlmEval>> {
    for &s in similarities {
        lmlab_neural::cdlm::check_similarity(s)?;
    }
    let target = Target::open(target)?;
    let (store, _) = target.chunks(chunks)?;
    let corpus = Corpus::open(input)?;
    let sequences = target.encode(&corpus, mode.unwrap_or(target.sequences));
    evaluate_sequences(target.transformer(), &store, &sequences, similarities)
}

/// One similarity threshold's measurements, for [`write_tradeoff_plots`].
#[derive(Clone, Debug, serde::Deserialize, Serialize)]
pub struct TradeoffPoint {
    /// The similarity threshold S (1 = retrieval off).
    pub similarity: f64,
    /// CD-LM's generated tokens per wall second.
    pub tokens_per_second: f64,
    /// The target alone's tokens per wall second, measured beside it.
    pub target_tokens_per_second: f64,
    /// CD-LM's perplexity on held-out text.
    pub perplexity: f64,
    /// The target's perplexity on the same text.
    pub target_perplexity: f64,
}

/// Writes `cdlm-speed.svg` (tokens/s against S, CD-LM and the target alone) and `cdlm-ppl.svg`
/// (perplexity against S) into `dir`; returns their paths.
pub fn write_tradeoff_plots(points: &[TradeoffPoint], dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let line = |name: &str, value: fn(&TradeoffPoint) -> f64| -> Line {
        let xy = points.iter().map(|p| (p.similarity, value(p))).collect();
        (name.to_string(), xy)
    };
    let mut written = Vec::new();
    for (file, title, y, cdlm, target) in [
        (
            "cdlm-speed.svg",
            "CD-LM generation speed against the similarity threshold",
            "generated tokens per second",
            (|p: &TradeoffPoint| p.tokens_per_second) as fn(&TradeoffPoint) -> f64,
            (|p: &TradeoffPoint| p.target_tokens_per_second) as fn(&TradeoffPoint) -> f64,
        ),
        (
            "cdlm-ppl.svg",
            "CD-LM perplexity on held-out text against the similarity threshold",
            "perplexity",
            |p: &TradeoffPoint| p.perplexity,
            |p: &TradeoffPoint| p.target_perplexity,
        ),
    ] {
        let path = dir.join(file);
        let axes = Axes {
            x: "similarity threshold S (1 = retrieval off)",
            y,
        };
        let lines = [line("CD-LM", cdlm), line("target alone", target)];
        write_line_plot(&path, title, &axes, &lines)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tradeoff_plots_draw_both_lines() {
        let dir = tempfile::tempdir().unwrap();
        let point = |similarity, tokens_per_second, perplexity| TradeoffPoint {
            similarity,
            tokens_per_second,
            target_tokens_per_second: 100.0,
            perplexity,
            target_perplexity: 4.0,
        };
        let points = [
            point(0.5, 180.0, 9.0),
            point(0.9, 130.0, 5.0),
            point(1.0, 100.0, 4.0),
        ];
        let paths = write_tradeoff_plots(&points, dir.path()).unwrap();
        assert_eq!(paths.len(), 2);
        for path in paths {
            let svg = std::fs::read_to_string(path).unwrap();
            assert!(svg.contains("CD-LM") && svg.contains("target alone"));
        }
    }
}
