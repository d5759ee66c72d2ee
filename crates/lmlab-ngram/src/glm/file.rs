//! The lmlab model file of kind `glm`. Payload, version 1 (lmlab-core's payload writer): order,
//! skips (0 = all, 1 = none), vocabulary size, training tokens, number of patterns; per pattern
//! its mask, (D1, D2, D3+), then its count arrays (histories, row starts, words, counts).
//! Denominators, γ and the history index are rebuilt on load from the counts (so they cannot
//! disagree with them); loading copies the arrays into memory rather than using them from the map.

use super::count::PatternCounts;
use super::model::GlmModel;
use super::options::{Skips, MAX_ORDER};
use super::pattern::patterns;
use super::table::PatternTable;
use crate::discount::Discount;
use lmlab_core::model_file::{
    write_model_file, ModelFile, ModelHeader, PayloadReader, PayloadWriter, Provenance,
};
use lmlab_core::{Error, Result};
use lmlab_tokenize::tokenizer_from_json;
use std::path::Path;

/// The model kind in the file header.
pub const KIND: &str = "glm";
/// The payload version this build writes and reads.
pub const KIND_VERSION: u32 = 1;

impl GlmModel {
    /// Writes the model atomically as an lmlab model file of kind `glm`.
    pub fn save(&self, path: &Path, provenance: Provenance) -> Result<()> {
        let header = ModelHeader::new(KIND, KIND_VERSION, self.tokenizer.as_ref(), provenance);
        let parts: Vec<_> = self
            .tables
            .iter()
            .map(|t| (t.mask, &t.discount, &t.counts))
            .collect();
        write_file(
            path,
            &header,
            self.order,
            self.skips,
            self.vocab_size,
            self.training_tokens,
            &parts,
        )
    }

    /// Loads an lmlab model file of kind `glm`, checking what the queries rely on.
    pub fn load(path: &Path) -> Result<GlmModel> {
        let file = ModelFile::open(path)?;
        let header = file.header();
        header.require_kind(path, KIND, KIND_VERSION)?;
        let tokenizer = tokenizer_from_json(&header.tokenizer)
            .map_err(|e| Error::bad_file(path, format!("model tokenizer: {e}")))?;
        let corrupt = |what: String| Error::bad_file(path, format!("corrupted GLM model: {what}"));
        let mut r = PayloadReader::new(path, file.payload());
        let order = r.u64()? as usize;
        if !(2..=MAX_ORDER).contains(&order) {
            return Err(corrupt(format!("order {order}")));
        }
        let skips = match r.u64()? {
            0 => Skips::All,
            1 => Skips::None,
            other => return Err(corrupt(format!("skips code {other}"))),
        };
        let vocab_size = r.u64()? as usize;
        if vocab_size != tokenizer.vocab().len() {
            return Err(corrupt(format!(
                "vocabulary of {vocab_size} for a tokenizer of {} tokens",
                tokenizer.vocab().len()
            )));
        }
        let training_tokens = r.u64()?;
        let expected = patterns(order, skips);
        if r.u64()? != expected.len() as u64 {
            return Err(corrupt("wrong number of patterns".into()));
        }
        let mut tables = Vec::with_capacity(expected.len());
        for &mask in &expected {
            if r.u64()? != u64::from(mask) {
                return Err(corrupt(format!("pattern {mask} out of place")));
            }
            let discount = Discount::new([r.f64()?, r.f64()?, r.f64()?]);
            let counts = PatternCounts {
                histories: r.u32_vec()?,
                row_start: r.u32_vec()?,
                words: r.u32_vec()?,
                counts: r.u32_vec()?,
                stats: [0; 5],
            };
            check_counts(&counts, mask, vocab_size).map_err(corrupt)?;
            tables.push(PatternTable::new(mask, counts, discount));
        }
        r.finish()?;
        Ok(GlmModel {
            bos: tokenizer.specials().bos,
            tokenizer,
            order,
            skips,
            tables,
            vocab_size,
            training_tokens,
            warnings: Vec::new(),
        })
    }
}

/// Writes a model file of kind `glm` atomically from each pattern's mask, discounts and counts.
pub(crate) fn write_file(
    path: &Path,
    header: &ModelHeader,
    order: usize,
    skips: Skips,
    vocab_size: usize,
    training_tokens: u64,
    patterns: &[(u32, &Discount, &PatternCounts)],
) -> Result<()> {
    let mut w = PayloadWriter::new();
    w.u64(order as u64);
    w.u64(match skips {
        Skips::All => 0,
        Skips::None => 1,
    });
    w.u64(vocab_size as u64);
    w.u64(training_tokens);
    w.u64(patterns.len() as u64);
    for (mask, discount, counts) in patterns {
        w.u64(u64::from(*mask));
        for d in discount.amount {
            w.f64(d);
        }
        w.u32_slice(&counts.histories);
        w.u32_slice(&counts.row_start);
        w.u32_slice(&counts.words);
        w.u32_slice(&counts.counts);
    }
    write_model_file(path, header, &w.finish())
}

/// The invariants of one pattern's arrays: rows cover the entries in order, no empty row, every
/// count positive, every id inside the vocabulary.
fn check_counts(c: &PatternCounts, mask: u32, vocab: usize) -> std::result::Result<(), String> {
    let rows = c.row_start.len().saturating_sub(1);
    let ok = !c.row_start.is_empty()
        && c.histories.len() == rows * mask.count_ones() as usize
        && c.row_start[0] == 0
        && *c.row_start.last().expect("non-empty") as usize == c.words.len()
        && c.row_start.windows(2).all(|w| w[0] < w[1])
        && c.words.len() == c.counts.len()
        && c.counts.iter().all(|&n| n > 0)
        && c.words
            .iter()
            .chain(&c.histories)
            .all(|&w| (w as usize) < vocab);
    ok.then_some(())
        .ok_or_else(|| format!("inconsistent arrays of pattern {mask}"))
}
