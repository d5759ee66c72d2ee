//! The estimation pipeline: count → adjust → discount → interpolate (→ prune) → layout.

use crate::adjust::adjust_counts;
use crate::count::{count_ngrams, TokenStream};
use crate::discount::discounts_for_order;
use crate::interpolate::interpolate;
use crate::layout::layout;
use crate::model::NgramModel;
use crate::options::NgramOptions;
use crate::prune::{filter_tables, pruned_flags, thresholds};
use crate::stats::lmplz_counts_of_counts;
use lmlab_core::model::TokenSequence;
use lmlab_core::{Error, Result, Specials, Tokenizer};

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
    options.validate()?;
    let (specials, vocab_size) = checked_specials(tokenizer.as_ref())?;
    if stream.specials() != specials || stream.vocab_size() != vocab_size {
        return Err(Error::invalid(
            "the token stream was built for another tokenizer (specials or vocabulary size differ)",
        ));
    }
    let thresholds = thresholds(&options.prune, options.order)?;
    let mut counts = count_ngrams(&stream, options.order, options.spill().as_ref())?;
    drop(stream);
    crate::phases::mark("count");
    let pruned = pruned_flags(&counts, &thresholds);
    let adjusted = adjust_counts(&counts, specials.bos);
    let mut discounts = Vec::with_capacity(options.order);
    let mut warnings = Vec::new();
    let stats = lmplz_counts_of_counts(&counts, &adjusted, specials.bos);
    counts.drop_raw();
    crate::phases::mark("adjust + stats");
    for (i, t) in stats.iter().enumerate() {
        let (d, warning) = discounts_for_order(i + 1, t, options.fallback())?;
        discounts.push(d);
        warnings.extend(warning);
    }
    let training_tokens = counts.tokens;
    let tables = interpolate(counts, adjusted, &discounts, &pruned, specials.bos);
    crate::phases::mark("interpolate");
    let tables = layout(filter_tables(tables, &pruned));
    crate::phases::mark("layout");
    Ok(NgramModel::from_parts(
        tokenizer,
        tables,
        discounts,
        warnings,
        training_tokens,
    ))
}
