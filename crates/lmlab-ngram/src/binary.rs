//! The lmlab model file of kind `ngram`. Payload, version 1 (little-endian u64 words through the
//! layout lmlab-core's payload reader reads: every array is a u64 length then 8-byte aligned
//! data, ready to be used in place from the memory map later): order, vocabulary size, training
//! tokens, a discounts flag and per-order (D1, D2, D3+); then the unigrams (one u64 per token id:
//! f32 bits of log10 p in the low half, of log10 backoff in the high half) and, per order n ≥ 2,
//! its hash table slot by slot (two u64 per slot: the key, or `u64::MAX` for an empty slot, then
//! the packed values). Loading checks every invariant the queries rely on, so a damaged payload is
//! a clear error and never a panic or an endless probe.

use crate::discount::Discount;
use crate::model::NgramModel;
use crate::table::{Entry, OrderTable};
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

    /// The payload, built with its exact size up front (a growing buffer would briefly hold two
    /// copies of a large model).
    fn payload(&self) -> Vec<u8> {
        let words = 4
            + 3 * self.discounts.len()
            + self
                .tables
                .iter()
                .map(|t| 1 + t.entries().len() * if t.is_hashed() { 2 } else { 1 })
                .sum::<usize>();
        let mut out = Payload(Vec::with_capacity(words * 8));
        out.u64(self.order() as u64);
        out.u64(self.tables[0].len() as u64);
        out.u64(self.training_tokens);
        out.u64(u64::from(!self.discounts.is_empty()));
        for d in &self.discounts {
            d.amount.iter().for_each(|&x| out.u64(x.to_bits()));
        }
        for table in &self.tables {
            let entries = table.entries();
            if table.is_hashed() {
                out.u64(entries.len() as u64 * 2);
                for e in entries {
                    out.u64(e.key);
                    out.u64(pack(e));
                }
            } else {
                out.u64(entries.len() as u64);
                entries.iter().for_each(|e| out.u64(pack(e)));
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
            let words = r.u64_vec()?;
            let entries: Vec<Entry> = if n == 1 {
                if words.len() != vocab_size {
                    return Err(corrupt(format!("{} unigrams", words.len())));
                }
                words
                    .iter()
                    .enumerate()
                    .map(|(w, &v)| unpack(w as u64, v))
                    .collect()
            } else {
                if words.len() % 2 != 0 {
                    return Err(corrupt(format!("{n}-gram table has an odd length")));
                }
                words.chunks_exact(2).map(|c| unpack(c[0], c[1])).collect()
            };
            let table = OrderTable::from_entries(entries, n > 1, vocab_size, tables.last())
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

/// Little-endian payload bytes.
struct Payload(Vec<u8>);

impl Payload {
    fn u64(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }
}

/// log10 p in the low half, log10 backoff in the high half.
fn pack(e: &Entry) -> u64 {
    u64::from(e.prob.to_bits()) | u64::from(e.bow.to_bits()) << 32
}

fn unpack(key: u64, values: u64) -> Entry {
    Entry {
        key,
        prob: f32::from_bits(values as u32),
        bow: f32::from_bits((values >> 32) as u32),
    }
}
