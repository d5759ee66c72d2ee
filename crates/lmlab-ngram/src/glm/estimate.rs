//! Training: every pattern counted (one pass each), its discounts from its counts-of-counts.

use super::budget::Budget;
use super::count::{count_pattern, top_pattern, StoredCounts};
use super::file::{write_stored_pattern, Prelude, KIND, KIND_VERSION};
use super::model::GlmModel;
use super::options::GlmOptions;
use super::pattern::{pattern_name, patterns, span, Mask};
use super::table::PatternTable;
use crate::count::last_window;
use crate::discount::{discounts_for_order, Discount};
use crate::spill::SpillDir;
use crate::{checked_specials, TokenStream};
use lmlab_core::atomic::Blocks;
use lmlab_core::model::TokenSequence;
use lmlab_core::model_file::{write_model_file_once, ModelHeader, Provenance};
use lmlab_core::{Error, Result, Specials, Tokenizer};
use std::path::Path;

/// Estimates a GLM from token-id sequences (each ending with the end token, each read from a
/// `<s>` context).
pub fn train(
    sequences: &[TokenSequence],
    tokenizer: Box<dyn Tokenizer>,
    options: &GlmOptions,
) -> Result<GlmModel> {
    options.validate()?;
    let (specials, vocab_size) = checked_specials(tokenizer.as_ref())?;
    let stream = TokenStream::from_sequences(sequences, specials, vocab_size)?;
    train_stream(stream, tokenizer, options)
}

/// [`train`] over a corpus gathered into a [`TokenStream`] built for `tokenizer`. A memory bound
/// applies to counting; the model keeps every pattern's table.
pub fn train_stream(
    stream: TokenStream,
    tokenizer: Box<dyn Tokenizer>,
    options: &GlmOptions,
) -> Result<GlmModel> {
    let mut tables = Vec::new();
    let counted = count_patterns(
        stream,
        checked_specials(tokenizer.as_ref())?,
        options,
        |mask, counts, discount| {
            tables.push(PatternTable::new(mask, counts.into_memory()?, discount));
            Ok(())
        },
    )?;
    Ok(GlmModel {
        bos: tokenizer.specials().bos,
        tokenizer,
        order: options.order,
        skips: options.skips,
        tables,
        vocab_size: counted.vocab_size,
        training_tokens: counted.training_tokens,
        warnings: counted.warnings,
    })
}

/// [`train_stream`] written straight to the model file `path` (the same bytes as
/// [`GlmModel::save`], without building the query index), each pattern as soon as it is counted,
/// so that only one pattern's counts are held at a time; returns the parameter count and the
/// training warnings.
pub fn train_stream_to_file(
    stream: TokenStream,
    tokenizer: Box<dyn Tokenizer>,
    options: &GlmOptions,
    path: &Path,
    provenance: Provenance,
) -> Result<(u64, Vec<String>)> {
    let specials = checked_specials(tokenizer.as_ref())?;
    let vocab_size = specials.1;
    let header = ModelHeader::new(KIND, KIND_VERSION, tokenizer.as_ref(), provenance);
    // The tokenizer is in the header now: freed before counting, as MKN's build does.
    drop(tokenizer);
    let prelude = Prelude {
        order: options.order,
        skips: options.skips,
        vocab_size,
        training_tokens: stream.tokens_seen(),
    };
    let mut parameters = 0;
    let counted = write_model_file_once(path, header, Blocks::Buffered, |w| {
        lmlab_core::compute::release_free_heap();
        prelude.write(w).map_err(|e| Error::io(path, e))?;
        count_patterns(stream, specials, options, |mask, counts, discount| {
            parameters += counts.words.len() as u64;
            write_stored_pattern(w, path, mask, &discount, &counts)
        })
    })?;
    Ok((parameters, counted.warnings))
}

/// What the model records besides its patterns.
struct Counted {
    vocab_size: usize,
    training_tokens: u64,
    warnings: Vec<String>,
}

/// Counts every pattern of `options` over `stream` (built for a tokenizer with `specials` and a
/// vocabulary of `vocab_size`) (within `options.memory`, if set) and computes
/// its discounts, handing each pattern to `take` in the model's order.
fn count_patterns(
    stream: TokenStream,
    (specials, vocab_size): (Specials, usize),
    options: &GlmOptions,
    mut take: impl FnMut(Mask, StoredCounts, Discount) -> Result<()>,
) -> Result<Counted> {
    options.validate()?;
    if stream.specials() != specials || stream.vocab_size() != vocab_size {
        return Err(Error::invalid(
            "the token stream was built for another tokenizer (specials or vocabulary size differ)",
        ));
    }
    if stream.sequences() == 0 {
        return Err(Error::invalid(
            "the training text is empty: a GLM needs at least one sequence to count",
        ));
    }
    let budget = options
        .memory
        .map(|memory| {
            let temp = options.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
            Budget::new(memory, stream.positions(), temp)
        })
        .transpose()?;
    // The spill directory, made once some pattern might not fit.
    let dir = match &budget {
        Some(b) if !b.fits(stream.positions(), 16, options.order - 1) => {
            Some(SpillDir::new(&b.temp)?)
        }
        _ => None,
    };
    let bound = budget.as_ref().zip(dir.as_ref());
    let top = top_pattern(options.order);
    let fallback = options.discount_fallback.map(Discount::new);
    let mut counted = Counted {
        vocab_size,
        training_tokens: stream.tokens_seen(),
        warnings: Vec::new(),
    };
    let window = last_window(&stream, specials, vocab_size, options.order);
    for mask in patterns(options.order, options.skips) {
        let counts = count_pattern(
            stream.ids(),
            vocab_size,
            specials.bos,
            mask,
            mask == top,
            &window,
            bound,
        )?;
        let name = pattern_name(mask);
        let (discount, warning) = discounts_for_order(span(mask) + 1, &counts.stats, fallback)
            .map_err(|e| match e {
                Error::InvalidArgument(why) => {
                    Error::invalid(format!("GLM skip pattern {name}: {why}"))
                }
                other => other,
            })?;
        counted
            .warnings
            .extend(warning.map(|w| format!("skip pattern {name}: {w}")));
        take(mask, counts, discount)?;
    }
    Ok(counted)
}
