//! The estimation pipeline: count (→ adjust, statistics) → discount → interpolate → layout (→
//! prune), handing the finished orders to an in-memory model or straight to a model file.

use crate::binary::{PayloadSink, Prelude, KIND, KIND_VERSION};
use crate::count::{count_ngrams, TokenStream};
use crate::discount::{discounts_for_order, CountsOfCounts, Discount};
use crate::interpolate::{interpolate, TableSink};
use crate::model::NgramModel;
use crate::options::NgramOptions;
use crate::prune::thresholds;
use crate::spill::SpillDir;
use lmlab_core::atomic::Blocks;
use lmlab_core::model::TokenSequence;
use lmlab_core::model_file::{write_model_file_once, ModelHeader, Provenance};
use lmlab_core::{Error, Result, Specials, Tokenizer};
use std::path::Path;

/// Estimates an interpolated modified Kneser-Ney model from token-id sequences (each ending with
/// the end token, each read from a `<s>` context) exactly as KenLM's `lmplz` does.
pub fn train(
    sequences: &[TokenSequence],
    tokenizer: Box<dyn Tokenizer>,
    options: &NgramOptions,
) -> Result<NgramModel> {
    options.validate()?;
    let (specials, vocab_size) = checked_specials(tokenizer.as_ref())?;
    let stream = TokenStream::from_sequences(sequences, specials, vocab_size)?;
    train_stream(stream, tokenizer, options)
}

/// The tokenizer's special tokens and vocabulary size, checked to agree.
pub fn checked_specials(tokenizer: &dyn Tokenizer) -> Result<(Specials, usize)> {
    let specials = tokenizer.specials();
    let vocab_size = tokenizer.vocab().len();
    if (specials.bos as usize) >= vocab_size || (specials.eos as usize) >= vocab_size {
        return Err(Error::invalid(
            "the tokenizer's special tokens lie outside its vocabulary",
        ));
    }
    Ok((specials, vocab_size))
}

/// [`train`] over a corpus already gathered into a [`TokenStream`] (built with the tokenizer's
/// specials and vocabulary size, see [`checked_specials`]); the stream is freed as soon as
/// counting is done.
pub fn train_stream(
    stream: TokenStream,
    tokenizer: Box<dyn Tokenizer>,
    options: &NgramOptions,
) -> Result<NgramModel> {
    let (specials, vocab_size) = checked_specials(tokenizer.as_ref())?;
    let mut tables = Vec::new();
    let summary = estimate(stream, specials, vocab_size, options, &mut tables)?;
    Ok(NgramModel::from_parts(
        tokenizer,
        tables,
        summary.discounts,
        summary.warnings,
        summary.training_tokens,
    ))
}

/// [`train_stream`] writing the model file `path` (atomically) as the orders are estimated, one
/// order at a time, instead of returning the model: the same bytes as [`NgramModel::save`] of the
/// trained model, without ever holding the whole model in memory. The tokenizer is only needed
/// for the file's header: it is serialized and freed before counting starts.
pub fn train_stream_to_file(
    stream: TokenStream,
    tokenizer: Box<dyn Tokenizer>,
    options: &NgramOptions,
    path: &Path,
    provenance: Provenance,
) -> Result<TrainSummary> {
    let (specials, vocab_size) = checked_specials(tokenizer.as_ref())?;
    let header = ModelHeader::new(KIND, KIND_VERSION, tokenizer.as_ref(), provenance);
    drop(tokenizer);
    write_model_file_once(path, header, Blocks::Huge, |w| {
        lmlab_core::compute::release_free_heap();
        crate::phases::mark("header");
        let mut sink = PayloadSink::new(w, path);
        let summary = estimate(stream, specials, vocab_size, options, &mut sink)?;
        sink.finish()?;
        Ok(summary)
    })
}

/// What training a model reports besides the model.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSummary {
    /// Number of n-grams of each order, unigrams first.
    pub ngram_counts: Vec<usize>,
    /// The discounts (D1, D2, D3+) of each order.
    pub discounts: Vec<Discount>,
    /// Warnings (orders that fell back to the fallback discounts).
    pub warnings: Vec<String>,
    /// Tokens counted (end tokens included).
    pub training_tokens: u64,
}

impl TrainSummary {
    /// Stored n-gram entries of every order (the model's parameter count).
    pub fn parameter_count(&self) -> u64 {
        self.ngram_counts.iter().map(|&n| n as u64).sum()
    }
}

/// Estimates the model from `stream`, handing its orders to `sink`; `specials` and `vocab_size`
/// are the tokenizer's.
fn estimate(
    stream: TokenStream,
    specials: Specials,
    vocab_size: usize,
    options: &NgramOptions,
    sink: &mut dyn TableSink,
) -> Result<TrainSummary> {
    options.validate()?;
    if stream.specials() != specials || stream.vocab_size() != vocab_size {
        return Err(Error::invalid(
            "the token stream was built for another tokenizer (specials or vocabulary size differ)",
        ));
    }
    let thresholds = thresholds(&options.prune, options.order)?;
    let dir = match options.spill() {
        Some(spill) if spill.needed(stream.positions(), options.order) => {
            Some(SpillDir::new(&spill.dir)?)
        }
        _ => None,
    };
    let counts = count_ngrams(&stream, options.order, &thresholds, dir.as_ref())?;
    drop(stream);
    lmlab_core::compute::release_free_heap();
    crate::phases::mark("count");
    let (discounts, warnings) = order_discounts(&counts.stats, options.fallback())?;
    let training_tokens = counts.tokens;
    sink.begin(&Prelude {
        order: options.order,
        vocab_size,
        training_tokens,
        discounts: &discounts,
    })?;
    let ngram_counts = interpolate(counts, &discounts, specials.bos, dir.as_ref(), sink)?;
    crate::phases::mark("interpolate + layout");
    Ok(TrainSummary {
        ngram_counts,
        discounts,
        warnings,
        training_tokens,
    })
}

/// The discounts of every order from its counts-of-counts, with the warnings of fallbacks.
fn order_discounts(
    stats: &[CountsOfCounts],
    fallback: Option<Discount>,
) -> Result<(Vec<Discount>, Vec<String>)> {
    let mut discounts = Vec::with_capacity(stats.len());
    let mut warnings = Vec::new();
    for (i, t) in stats.iter().enumerate() {
        let (d, warning) = discounts_for_order(i + 1, t, fallback)?;
        discounts.push(d);
        warnings.extend(warning);
    }
    Ok((discounts, warnings))
}
