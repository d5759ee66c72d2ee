//! The estimation pipeline: count → adjust → discount → interpolate (→ prune) → layout.

use crate::adjust::adjust_counts;
use crate::count::count_ngrams;
use crate::discount::discounts_for_order;
use crate::interpolate::interpolate;
use crate::layout::layout;
use crate::model::NgramModel;
use crate::options::NgramOptions;
use crate::prune::{filter_tables, pruned_flags, thresholds};
use crate::stats::lmplz_counts_of_counts;
use lmlab_core::model::TokenSequence;
use lmlab_core::{Error, Result, Tokenizer};

/// Estimates an interpolated modified Kneser-Ney model from token-id sequences (each ending with
/// the end token, each read from a `<s>` context) exactly as KenLM's `lmplz` does.
pub fn train(
    sequences: &[TokenSequence],
    tokenizer: Box<dyn Tokenizer>,
    options: &NgramOptions,
) -> Result<NgramModel> {
    options.validate()?;
    let specials = tokenizer.specials();
    let vocab_size = tokenizer.vocab().len();
    if (specials.bos as usize) >= vocab_size || (specials.eos as usize) >= vocab_size {
        return Err(Error::invalid(
            "the tokenizer's special tokens lie outside its vocabulary",
        ));
    }
    let thresholds = thresholds(&options.prune, options.order)?;
    let mut counts = count_ngrams(
        sequences,
        specials,
        vocab_size,
        options.order,
        options.spill().as_ref(),
    )?;
    let pruned = pruned_flags(&counts, &thresholds);
    let adjusted = adjust_counts(&counts, specials.bos);
    let mut discounts = Vec::with_capacity(options.order);
    let mut warnings = Vec::new();
    let stats = lmplz_counts_of_counts(&counts, &adjusted, specials.bos);
    counts.drop_raw();
    for (i, t) in stats.iter().enumerate() {
        let (d, warning) = discounts_for_order(i + 1, t, options.fallback())?;
        discounts.push(d);
        warnings.extend(warning);
    }
    let training_tokens = counts.tokens;
    let tables = interpolate(counts, adjusted, &discounts, &pruned, specials.bos);
    let tables = layout(filter_tables(tables, &pruned));
    Ok(NgramModel::from_parts(
        tokenizer,
        tables,
        discounts,
        warnings,
        training_tokens,
    ))
}
