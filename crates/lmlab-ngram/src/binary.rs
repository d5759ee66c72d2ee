//! The lmlab model file of kind `ngram`. Payload, version 1 (little-endian, through lmlab-core's
//! payload writer): order, vocabulary size, training tokens, a discounts flag and per-order
//! (D1, D2, D3+), then per order n: keys (n ≥ 2), log10 probabilities (f32 bits), log10 backoffs
//! (f32 bits, n < N). Loading checks every invariant the queries rely on, so a damaged payload is a
//! clear error and never a panic.

use crate::discount::Discount;
use crate::model::NgramModel;
use crate::table::OrderTable;
use lmlab_core::model_file::{
    write_model_file, ModelFile, ModelHeader, PayloadReader, PayloadWriter, Provenance,
};
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

    fn payload(&self) -> Vec<u8> {
        let mut w = PayloadWriter::new();
        w.u64(self.order() as u64);
        w.u64(self.tables[0].len() as u64);
        w.u64(self.training_tokens);
        w.u64(u64::from(!self.discounts.is_empty()));
        for d in &self.discounts {
            d.amount.iter().for_each(|&x| w.f64(x));
        }
        let order = self.order();
        for (i, table) in self.tables.iter().enumerate() {
            if i > 0 {
                w.u64_slice(&table.keys);
            }
            w.u32_slice(&bits(&table.log_prob));
            if i + 1 < order {
                w.u32_slice(&bits(&table.log_bow));
            }
        }
        w.finish()
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
            let log_prob = floats(r.u32_vec()?);
            let log_bow = if n < order {
                floats(r.u32_vec()?)
            } else {
                Vec::new()
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
            if n < order && log_bow.len() != len {
                return Err(corrupt(format!(
                    "{n}-gram backoffs and probabilities differ in number"
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
            tables.push(OrderTable::new(keys, log_prob, log_bow));
        }
        r.finish()?;
        let model =
            NgramModel::from_parts(tokenizer, tables, discounts, Vec::new(), training_tokens);
        debug_assert_eq!(model.kind(), KIND);
        Ok(model)
    }
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn floats(bits: Vec<u32>) -> Vec<f32> {
    bits.into_iter().map(f32::from_bits).collect()
}
