//! The lmlab model file of kind `glm`. Payload, version 1 (lmlab-core's payload writer): order,
//! skips (0 = all, 1 = none), vocabulary size, training tokens, number of patterns; per pattern
//! its mask, (D1, D2, D3+), then its count arrays (histories, row starts, words, counts).
//! Denominators, γ and the history index are rebuilt on load from the counts (so they cannot
//! disagree with them); loading copies the arrays into memory rather than using them from the map.

use super::count::{PatternCounts, StoredCounts};
use super::model::GlmModel;
use super::options::{Skips, MAX_ORDER};
use super::pattern::patterns;
use super::table::PatternTable;
use crate::discount::Discount;
use lmlab_core::atomic::Blocks;
use lmlab_core::model_file::{
    write_model_file_with, ModelFile, ModelHeader, PayloadReader, Provenance,
};
use lmlab_core::{Error, Result};
use lmlab_tokenize::tokenizer_from_json;
use std::io::Write;
use std::path::Path;

/// The model kind in the file header.
pub const KIND: &str = "glm";
/// The payload version this build writes and reads.
pub const KIND_VERSION: u32 = 1;

impl GlmModel {
    /// Writes the model atomically as an lmlab model file of kind `glm`.
    pub fn save(&self, path: &Path, provenance: Provenance) -> Result<()> {
        let header = ModelHeader::new(KIND, KIND_VERSION, self.tokenizer.as_ref(), provenance);
        let prelude = Prelude {
            order: self.order,
            skips: self.skips,
            vocab_size: self.vocab_size,
            training_tokens: self.training_tokens,
        };
        write_model_file_with(path, &header, Blocks::Buffered, |w| {
            prelude.write(w)?;
            for t in &self.tables {
                let c = &t.counts;
                write_pattern_start(w, t.mask, &t.discount)?;
                for array in [&c.histories, &c.row_start, &c.words, &c.counts] {
                    write_u32_len(w, array.len())?;
                    write_u32_values(w, array)?;
                }
            }
            Ok(())
        })
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

/// What the payload holds before its patterns.
pub(crate) struct Prelude {
    pub order: usize,
    pub skips: Skips,
    pub vocab_size: usize,
    pub training_tokens: u64,
}

impl Prelude {
    /// Writes order, skips, vocabulary size, training tokens and the number of patterns.
    pub fn write(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let skips = match self.skips {
            Skips::All => 0,
            Skips::None => 1,
        };
        let n = patterns(self.order, self.skips).len();
        for v in [
            self.order as u64,
            skips,
            self.vocab_size as u64,
            self.training_tokens,
            n as u64,
        ] {
            w.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    }
}

/// Writes a pattern's mask and discounts (its four arrays follow).
fn write_pattern_start(w: &mut dyn Write, mask: u32, discount: &Discount) -> std::io::Result<()> {
    w.write_all(&u64::from(mask).to_le_bytes())?;
    for d in discount.amount {
        w.write_all(&d.to_le_bytes())?;
    }
    Ok(())
}

/// Writes an array's length prefix (its values follow).
fn write_u32_len(w: &mut dyn Write, len: usize) -> std::io::Result<()> {
    w.write_all(&(len as u64).to_le_bytes())
}

/// Writes u32 values, little-endian.
fn write_u32_values(w: &mut dyn Write, values: &[u32]) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(4 * values.len().min(1 << 16));
    for piece in values.chunks(1 << 16) {
        bytes.clear();
        bytes.extend(piece.iter().flat_map(|v| v.to_le_bytes()));
        w.write_all(&bytes)?;
    }
    Ok(())
}

/// Writes one pattern as counting left it (arrays read back piece by piece from their files when
/// spilled): the same bytes as [`GlmModel::save`] writes for it. `path` is named in errors.
pub(crate) fn write_stored_pattern(
    w: &mut dyn Write,
    path: &Path,
    mask: u32,
    discount: &Discount,
    counts: &StoredCounts,
) -> Result<()> {
    let io = |e| Error::io(path, e);
    write_pattern_start(w, mask, discount).map_err(io)?;
    for array in [
        &counts.histories,
        &counts.row_start,
        &counts.words,
        &counts.counts,
    ] {
        write_u32_len(w, array.len()).map_err(io)?;
        let mut failed = None;
        array.for_each_chunk(|piece| {
            if failed.is_none() {
                failed = write_u32_values(w, piece).err();
            }
        })?;
        if let Some(e) = failed {
            return Err(io(e));
        }
    }
    Ok(())
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
