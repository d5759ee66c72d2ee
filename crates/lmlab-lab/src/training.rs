//! Training runs: a tokenizer choice, a model family, compute accounting and provenance.

use lmlab_baseline::{BaselineModel, Smoothing};
use lmlab_core::compute::{ComputeMeter, ComputeRecord};
use lmlab_core::corpus::split_sequences;
use lmlab_core::model::{encode_corpus, encode_sequence_into, TokenSequence};
use lmlab_core::model_file::Provenance;
use lmlab_core::{Corpus, LanguageModel, Result, SequenceMode, Tokenizer, LMLAB_VERSION};
use lmlab_memory::{MemoryModel, MemoryOptions};
use lmlab_ngram::{NgramModel, NgramOptions};
use lmlab_tokenize::registry::tokenizer_from_json_allow_special;
use lmlab_tokenize::{load_tokenizer_file, BpeTrainer, BytesTokenizer, CharsTrainer, WordsTrainer};
use std::path::{Path, PathBuf};

/// Which tokenizer a model is trained over.
#[derive(Clone, Debug)]
pub enum TokenizerChoice {
    /// A words vocabulary learned from the training corpus.
    Words(WordsTrainer),
    /// Bytes.
    Bytes,
    /// Characters seen in the training corpus.
    Chars(CharsTrainer),
    /// Byte-level BPE or Scaffold-BPE learned from the training corpus.
    Bpe(BpeTrainer),
    /// A tokenizer file made by `lmlab tokenizer train`.
    File(PathBuf),
}

impl TokenizerChoice {
    /// Builds (or loads) the tokenizer for `corpus`.
    pub fn build(&self, corpus: &Corpus) -> Result<Box<dyn Tokenizer>> {
        self.train_on(&[corpus.text()], &|_, _| {})
    }

    /// Trains the tokenizer on `texts` (or loads its file); `progress(done, total)` follows BPE
    /// merges.
    pub fn train_on(
        &self,
        texts: &[&str],
        progress: &dyn Fn(usize, usize),
    ) -> Result<Box<dyn Tokenizer>> {
        match self {
            TokenizerChoice::Words(trainer) => Ok(Box::new(match texts {
                [text] => trainer.train(text)?,
                _ => trainer.train(&texts.concat())?,
            })),
            TokenizerChoice::Bytes => Ok(Box::new(BytesTokenizer::new())),
            TokenizerChoice::Chars(trainer) => Ok(Box::new(trainer.train(texts)?)),
            TokenizerChoice::Bpe(trainer) => {
                Ok(Box::new(trainer.train_with_progress(texts, progress)?))
            }
            TokenizerChoice::File(path) => load_tokenizer_file(path),
        }
    }
}

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

/// The options of a baseline training run.
#[derive(Clone, Debug)]
pub struct BaselineRun {
    /// The tokenizer.
    pub tokenizer: TokenizerChoice,
    /// Smoothing method.
    pub smoothing: Smoothing,
    /// How the corpus is cut into sequences.
    pub sequences: SequenceMode,
}

/// A trained model with what it cost and where it came from.
pub struct Trained<M> {
    /// The model.
    pub model: M,
    /// CPU, wall, tokens, parameters, memory.
    pub compute: ComputeRecord,
    /// What goes into the model file's header.
    pub provenance: Provenance,
}

/// Provenance of a model trained on `corpus`.
pub fn provenance(
    corpus: &Corpus,
    sequences: SequenceMode,
    options: serde_json::Value,
    seed: Option<u64>,
) -> Provenance {
    Provenance {
        corpus_sha256: corpus.sha256(),
        corpus_name: corpus.path().display().to_string(),
        sequences,
        options,
        seed,
        lmlab_version: LMLAB_VERSION.to_string(),
    }
}

fn tokens_seen(sequences: &[TokenSequence]) -> u64 {
    sequences.iter().map(|s| s.ids.len() as u64).sum()
}

/// Trains a model of any family on `corpus`: builds the tokenizer, encodes the corpus and calls
/// `fit`, measuring the whole cost (tokenizer training included).
pub fn train_family<M: LanguageModel>(
    corpus: &Corpus,
    tokenizer: &TokenizerChoice,
    sequences: SequenceMode,
    options: serde_json::Value,
    fit: impl FnOnce(&[TokenSequence], Box<dyn Tokenizer>) -> Result<M>,
) -> Result<Trained<M>> {
    let meter = ComputeMeter::start();
    let tokenizer = tokenizer.build(corpus)?;
    let encoded = encode_corpus(tokenizer.as_ref(), corpus.text(), sequences);
    let model = fit(&encoded, tokenizer)?;
    let compute = meter.finish(tokens_seen(&encoded), model.parameter_count());
    Ok(Trained {
        provenance: provenance(corpus, sequences, options, None),
        model,
        compute,
    })
}

/// Trains the baseline bigram model on `corpus`.
pub fn train_baseline(corpus: &Corpus, run: &BaselineRun) -> Result<Trained<BaselineModel>> {
    let options = serde_json::json!({ "smoothing": run.smoothing });
    train_family(
        corpus,
        &run.tokenizer,
        run.sequences,
        options,
        |seqs, tok| lmlab_baseline::train(seqs, tok, run.smoothing),
    )
}

/// The options of an n-gram training run.
#[derive(Clone, Debug)]
pub struct NgramRun {
    /// The tokenizer.
    pub tokenizer: TokenizerChoice,
    /// Order, discount fallback, pruning.
    pub options: NgramOptions,
    /// How the corpus is cut into sequences.
    pub sequences: SequenceMode,
}

/// Trains an interpolated modified Kneser-Ney model on `corpus`. The corpus is encoded straight
/// into one token stream (no per-sequence vectors), which the estimator frees after counting.
pub fn train_ngram(corpus: &Corpus, run: &NgramRun) -> Result<Trained<NgramModel>> {
    let options = serde_json::to_value(&run.options).expect("options serialize");
    let meter = ComputeMeter::start();
    let (tokenizer, stream) = ngram_stream(corpus, run)?;
    let tokens_seen = stream.tokens_seen();
    let model = lmlab_ngram::train_stream(stream, tokenizer, &run.options)?;
    let compute = meter.finish(tokens_seen, model.parameter_count());
    Ok(Trained {
        provenance: provenance(corpus, run.sequences, options, None),
        model,
        compute,
    })
}

/// An n-gram model trained straight into its file: what training reported and what it cost.
pub struct TrainedNgramFile {
    /// N-gram counts, discounts, warnings.
    pub summary: lmlab_ngram::TrainSummary,
    /// CPU, wall, tokens, parameters, memory (writing the file included).
    pub compute: ComputeRecord,
}

/// Trains an interpolated modified Kneser-Ney model on `corpus` and writes it to `output` order
/// by order as it is estimated, so the model is never whole in memory (the same file as
/// [`train_ngram`] then `save`). The corpus text leaves resident memory once encoded.
pub fn train_ngram_to_file(
    corpus: &Corpus,
    run: &NgramRun,
    output: &Path,
) -> Result<TrainedNgramFile> {
    let options = serde_json::to_value(&run.options).expect("options serialize");
    let meter = ComputeMeter::start();
    let (tokenizer, stream) = ngram_stream(corpus, run)?;
    let provenance = provenance(corpus, run.sequences, options, None);
    corpus.release_pages();
    let tokens_seen = stream.tokens_seen();
    let summary =
        lmlab_ngram::train_stream_to_file(stream, tokenizer, &run.options, output, provenance)?;
    let compute = meter.finish(tokens_seen, summary.parameter_count());
    Ok(TrainedNgramFile { summary, compute })
}

/// The run's tokenizer (built on `corpus`) and the corpus encoded into one n-gram token stream.
fn ngram_stream(
    corpus: &Corpus,
    run: &NgramRun,
) -> Result<(Box<dyn Tokenizer>, lmlab_ngram::TokenStream)> {
    lmlab_ngram::phases::mark("start");
    let tokenizer = run.tokenizer.build(corpus)?;
    lmlab_ngram::phases::mark("tokenizer");
    let stream = encode_stream(tokenizer.as_ref(), corpus.text(), run.sequences)?;
    lmlab_ngram::phases::mark("encode");
    Ok((tokenizer, stream))
}

/// Encodes every sequence of `text` into one n-gram token stream.
fn encode_stream(
    tokenizer: &dyn Tokenizer,
    text: &str,
    mode: SequenceMode,
) -> Result<lmlab_ngram::TokenStream> {
    let (specials, vocab_size) = lmlab_ngram::checked_specials(tokenizer)?;
    let mut stream = lmlab_ngram::TokenStream::new(specials, vocab_size);
    for sequence in split_sequences(text, mode) {
        stream.push_sequence_with(|out| {
            encode_sequence_into(tokenizer, &sequence, mode, out);
        })?;
    }
    Ok(stream)
}

/// The options of a memory-based (IGTree / TRIBL2) training run.
#[derive(Clone, Debug)]
pub struct MemoryRun {
    /// The tokenizer.
    pub tokenizer: TokenizerChoice,
    /// Algorithm, context size, pruning.
    pub options: MemoryOptions,
    /// How the corpus is cut into sequences.
    pub sequences: SequenceMode,
}

/// Trains a memory-based model on `corpus`.
pub fn train_memory(corpus: &Corpus, run: &MemoryRun) -> Result<Trained<MemoryModel>> {
    let options = serde_json::to_value(&run.options).expect("options serialize");
    train_family(
        corpus,
        &run.tokenizer,
        run.sequences,
        options,
        |seqs, tok| lmlab_memory::train(seqs, tok, run.options.clone()),
    )
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
    Ok(meter.finish(tokens_seen(&encoded), model.parameter_count()))
}
