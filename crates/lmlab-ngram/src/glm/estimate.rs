//! Training: every pattern counted (one pass each), its discounts from its counts-of-counts.

use super::count::{count_pattern, top_pattern, PatternCounts};
use super::file::{write_file, KIND, KIND_VERSION};
use super::model::GlmModel;
use super::options::GlmOptions;
use super::pattern::{pattern_name, patterns, span, Mask};
use super::table::PatternTable;
use crate::count::last_window;
use crate::discount::{discounts_for_order, Discount};
use crate::{checked_specials, TokenStream};
use lmlab_core::model::TokenSequence;
use lmlab_core::model_file::{ModelHeader, Provenance};
use lmlab_core::{Error, Result, Tokenizer};
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

/// [`train`] over a corpus gathered into a [`TokenStream`] built for `tokenizer`.
pub fn train_stream(
    stream: TokenStream,
    tokenizer: Box<dyn Tokenizer>,
    options: &GlmOptions,
) -> Result<GlmModel> {
    let counted = count_patterns(stream, tokenizer.as_ref(), options)?;
    Ok(GlmModel {
        bos: tokenizer.specials().bos,
        tokenizer,
        order: options.order,
        skips: options.skips,
        tables: counted
            .patterns
            .into_iter()
            .map(|(mask, counts, discount)| PatternTable::new(mask, counts, discount))
            .collect(),
        vocab_size: counted.vocab_size,
        training_tokens: counted.training_tokens,
        warnings: counted.warnings,
    })
}

/// [`train_stream`] written straight to the model file `path` (the same bytes as
/// [`GlmModel::save`], without building the query index); returns the parameter count and the
/// training warnings.
pub fn train_stream_to_file(
    stream: TokenStream,
    tokenizer: Box<dyn Tokenizer>,
    options: &GlmOptions,
    path: &Path,
    provenance: Provenance,
) -> Result<(u64, Vec<String>)> {
    let counted = count_patterns(stream, tokenizer.as_ref(), options)?;
    let header = ModelHeader::new(KIND, KIND_VERSION, tokenizer.as_ref(), provenance);
    let parts: Vec<_> = counted
        .patterns
        .iter()
        .map(|(m, c, d)| (*m, d, c))
        .collect();
    write_file(
        path,
        &header,
        options.order,
        options.skips,
        counted.vocab_size,
        counted.training_tokens,
        &parts,
    )?;
    let parameters = counted
        .patterns
        .iter()
        .map(|p| p.1.words.len() as u64)
        .sum();
    Ok((parameters, counted.warnings))
}

/// Every pattern's counts and discounts, with what the model records besides.
struct Counted {
    patterns: Vec<(Mask, PatternCounts, Discount)>,
    vocab_size: usize,
    training_tokens: u64,
    warnings: Vec<String>,
}

/// Counts every pattern of `options` over `stream` and computes its discounts.
fn count_patterns(
    stream: TokenStream,
    tokenizer: &dyn Tokenizer,
    options: &GlmOptions,
) -> Result<Counted> {
    options.validate()?;
    let (specials, vocab_size) = checked_specials(tokenizer)?;
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
    let top = top_pattern(options.order);
    let fallback = options.discount_fallback.map(Discount::new);
    let mut counted = Counted {
        patterns: Vec::new(),
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
        );
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
        counted.patterns.push((mask, counts, discount));
    }
    Ok(counted)
}
