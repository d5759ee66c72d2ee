//! Training: every pattern counted (one pass each), its discounts from its counts-of-counts.

use super::count::{count_pattern, top_pattern};
use super::model::GlmModel;
use super::options::GlmOptions;
use super::pattern::{pattern_name, patterns, span};
use super::table::PatternTable;
use crate::count::last_window;
use crate::discount::{discounts_for_order, Discount};
use crate::{checked_specials, TokenStream};
use lmlab_core::model::TokenSequence;
use lmlab_core::model_file::Provenance;
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
    options.validate()?;
    let (specials, vocab_size) = checked_specials(tokenizer.as_ref())?;
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
    let mut tables = Vec::new();
    let mut warnings = Vec::new();
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
            .map_err(|e| Error::invalid(format!("GLM skip pattern {name}: {e}")))?;
        warnings.extend(warning.map(|w| format!("skip pattern {name}: {w}")));
        tables.push(PatternTable::new(mask, counts, discount));
    }
    Ok(GlmModel {
        tokenizer,
        order: options.order,
        skips: options.skips,
        tables,
        vocab_size,
        bos: specials.bos,
        training_tokens: stream.tokens_seen(),
        warnings,
    })
}

/// [`train_stream`] then [`GlmModel::save`] to `path`; returns the model's parameter count and
/// training warnings.
pub fn train_stream_to_file(
    stream: TokenStream,
    tokenizer: Box<dyn Tokenizer>,
    options: &GlmOptions,
    path: &Path,
    provenance: Provenance,
) -> Result<(u64, Vec<String>)> {
    let model = train_stream(stream, tokenizer, options)?;
    model.save(path, provenance)?;
    Ok((
        lmlab_core::LanguageModel::parameter_count(&model),
        model.warnings,
    ))
}
