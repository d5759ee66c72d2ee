//! The lmlab model file of kind `ngram`. Payload, version 1 (little-endian, through lmlab-core's
//! payload writer, so every array is a u64 length then 8-byte aligned data — ready to be used in
//! place from the memory map later): order, vocabulary size, training tokens, a discounts flag and
//! per-order (D1, D2, D3+); then per order n: keys (n ≥ 2), values (below the top order one u64
//! per n-gram: f32 bits of log10 p in the low half, of log10 backoff in the high half; at the top
//! order the f32 bits of log10 p, two per u64), and the hash index (n ≥ 2, two u32 slots per u64). Loading checks every invariant the queries rely on, so a damaged payload is a
//! clear error and never a panic.

use crate::discount::Discount;
use crate::model::NgramModel;
use crate::table::{index_size, OrderTable};
use lmlab_core::model_file::{write_model_file, ModelFile, ModelHeader, PayloadReader, Provenance};
use lmlab_core::{Error, LanguageModel, Result};
use lmlab_tokenize::tokenizer_from_json;
use std::path::Path;

/// The model kind in the file header.
pub const KIND: &str = "ngram";
/// The payload version this build writes and reads.
pub const KIND_VERSION: u32 = 1;

impl NgramModel {
    /// Writes the model atomically as an lmlab model file of kind `ngram`.
    pub fn save(&self, path: &Path, provenance: Provenance) -> Result<()> {
        let header = ModelHeader {
            kind: KIND.to_string(),
            kind_version: KIND_VERSION,
            tokenizer: self.tokenizer.to_json(),
            tokenizer_fingerprint: self.tokenizer.fingerprint(),
            provenance,
        };
        write_model_file(path, &header, &self.payload())
    }

    /// The payload in the layout [`PayloadReader`] reads, built with its exact size up front (a
    /// growing buffer would briefly hold two copies of a large model).
    fn payload(&self) -> Vec<u8> {
        let order = self.order();
        let array_words = |n: usize| 1 + n;
        let mut words = 4 + 3 * self.discounts.len();
        for (i, table) in self.tables.iter().enumerate() {
            if i > 0 {
                words +=
                    array_words(table.keys.len()) + array_words(table.index().len().div_ceil(2));
            }
            words += array_words(if i + 1 < order {
                table.len()
            } else {
                table.len().div_ceil(2)
            });
        }
        let mut out = Payload(Vec::with_capacity(words * 8));
        out.u64(order as u64);
        out.u64(self.tables[0].len() as u64);
        out.u64(self.training_tokens);
        out.u64(u64::from(!self.discounts.is_empty()));
        for d in &self.discounts {
            d.amount.iter().for_each(|&x| out.u64(x.to_bits()));
        }
        for (i, table) in self.tables.iter().enumerate() {
            if i > 0 {
                out.array(table.keys.len(), table.keys.iter().copied());
            }
            if i + 1 < order {
                out.array(
                    table.len(),
                    table
                        .log_prob
                        .iter()
                        .zip(&table.log_bow)
                        .map(|(p, b)| u64::from(p.to_bits()) | u64::from(b.to_bits()) << 32),
                );
            } else {
                out.array(
                    table.len().div_ceil(2),
                    pairs(table.log_prob.iter().map(|p| p.to_bits())),
                );
            }
            if i > 0 {
                out.array(
                    table.index().len().div_ceil(2),
                    pairs(table.index().iter().copied()),
                );
            }
        }
        debug_assert_eq!(out.0.len(), words * 8);
        out.0
    }

    /// Loads an lmlab model file of kind `ngram`.
    pub fn load(path: &Path) -> Result<NgramModel> {
        let file = ModelFile::open(path)?;
        let header = file.header();
        header.require_kind(path, KIND, KIND_VERSION)?;
        let tokenizer = tokenizer_from_json(&header.tokenizer)
            .map_err(|e| Error::bad_file(path, format!("model tokenizer: {e}")))?;
        let mut r = PayloadReader::new(path, file.payload());
        let corrupt =
            |what: String| Error::bad_file(path, format!("corrupted n-gram model: {what}"));
        let order = r.u64()? as usize;
        if order == 0 || order > crate::options::MAX_ORDER {
            return Err(corrupt(format!("order {order}")));
        }
        let vocab_size = r.u64()? as usize;
        if vocab_size != tokenizer.vocab().len() {
            return Err(corrupt(format!(
                "{vocab_size} unigrams for a tokenizer of {} tokens",
                tokenizer.vocab().len()
            )));
        }
        let training_tokens = r.u64()?;
        let has_discounts = r.u64()?;
        let mut discounts = Vec::new();
        if has_discounts == 1 {
            for _ in 0..order {
                discounts.push(Discount::new([r.f64()?, r.f64()?, r.f64()?]));
            }
        } else if has_discounts != 0 {
            return Err(corrupt("bad discounts flag".into()));
        }
        let mut tables: Vec<OrderTable> = Vec::with_capacity(order);
        for n in 1..=order {
            let keys = if n > 1 { r.u64_vec()? } else { Vec::new() };
            let values = r.u64_vec()?;
            let index = if n > 1 {
                unpack_pairs(&r.u64_vec()?, index_size(keys.len()))
                    .ok_or_else(|| corrupt(format!("{n}-gram index has the wrong size")))?
            } else {
                Vec::new()
            };
            let (log_prob, log_bow): (Vec<f32>, Vec<f32>) = if n < order {
                values
                    .iter()
                    .map(|&v| (f32::from_bits(v as u32), f32::from_bits((v >> 32) as u32)))
                    .unzip()
            } else {
                let expected = if n == 1 { vocab_size } else { keys.len() };
                let probs = unpack_pairs(&values, expected).ok_or_else(|| {
                    corrupt(format!("{n}-gram probabilities have the wrong size"))
                })?;
                (probs.into_iter().map(f32::from_bits).collect(), Vec::new())
            };
            let len = log_prob.len();
            if n == 1 && len != vocab_size {
                return Err(corrupt(format!("{len} unigram probabilities")));
            }
            if n > 1 && keys.len() != len {
                return Err(corrupt(format!(
                    "{n}-gram keys and probabilities differ in number"
                )));
            }
            if n > 1 {
                let lower = tables[n - 2].len() as u64;
                let sorted = keys.windows(2).all(|w| w[0] < w[1]);
                let in_range = keys
                    .iter()
                    .all(|&k| (k >> 32) < lower && (k & 0xffff_ffff) < vocab_size as u64);
                if !sorted || !in_range {
                    return Err(corrupt(format!("{n}-gram keys are out of order or range")));
                }
            }
            let table = OrderTable::with_index(keys, log_prob, log_bow, index)
                .map_err(|e| corrupt(format!("{n}-grams: {e}")))?;
            tables.push(table);
        }
        r.finish()?;
        let model =
            NgramModel::from_parts(tokenizer, tables, discounts, Vec::new(), training_tokens);
        debug_assert_eq!(model.kind(), KIND);
        Ok(model)
    }
}

/// Little-endian payload bytes: u64 words and u64-length-prefixed arrays of u64.
struct Payload(Vec<u8>);

impl Payload {
    fn u64(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    fn array(&mut self, len: usize, values: impl Iterator<Item = u64>) {
        self.u64(len as u64);
        let start = self.0.len();
        values.for_each(|v| self.u64(v));
        debug_assert_eq!(self.0.len() - start, len * 8);
    }
}

/// Two u32 per u64 (low half first); an odd count gets an empty (`u32::MAX`) pad.
fn pairs(mut values: impl Iterator<Item = u32>) -> impl Iterator<Item = u64> {
    std::iter::from_fn(move || {
        let low = values.next()?;
        let high = values.next().unwrap_or(u32::MAX);
        Some(u64::from(low) | u64::from(high) << 32)
    })
}

/// The `count` u32 values [`pack_pairs`] packed, or `None` if `packed` has the wrong length.
fn unpack_pairs(packed: &[u64], count: usize) -> Option<Vec<u32>> {
    if packed.len() != count.div_ceil(2) {
        return None;
    }
    let mut values: Vec<u32> = packed
        .iter()
        .flat_map(|&v| [v as u32, (v >> 32) as u32])
        .collect();
    values.truncate(count);
    Some(values)
}
