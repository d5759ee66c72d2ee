//! The lmlab model file of kind `ngram`. Payload, version 1 (little-endian u64 words through the
//! layout of lmlab-core's payload writer: every array is a u64 length then 8-byte aligned data,
//! so the hash tables are used in place from the memory map): order, vocabulary size, training
//! tokens, a discounts flag and per-order (D1, D2, D3+); then the unigrams (one u64 per token id:
//! f32 bits of log10 p in the low half, of log10 backoff in the high half) and, per order n ≥ 2,
//! its hash table slot by slot (two u64 per slot: the key, or `u64::MAX` for an empty slot, then
//! the packed values). Loading checks every invariant the queries rely on, so a damaged payload is
//! a clear error and never a panic or an endless probe.

use crate::discount::Discount;
use crate::interpolate::TableSink;
use crate::model::NgramModel;
use crate::storage::Entries;
use crate::table::{Entry, OrderTable};
use lmlab_core::atomic::Blocks;
use lmlab_core::model_file::{write_model_file_with, ModelFile, ModelHeader, Provenance};
use lmlab_core::{Error, LanguageModel, Result};
use lmlab_tokenize::tokenizer_from_json;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The model kind in the file header.
pub const KIND: &str = "ngram";
/// The payload version this build writes and reads.
pub const KIND_VERSION: u32 = 1;

impl NgramModel {
    /// Writes the model atomically as an lmlab model file of kind `ngram`.
    pub fn save(&self, path: &Path, provenance: Provenance) -> Result<()> {
        let header = ModelHeader::new(KIND, KIND_VERSION, self.tokenizer.as_ref(), provenance);
        write_model_file_with(path, &header, Blocks::Huge, |w| self.write_payload(w))
    }

    /// Streams the payload through a small buffer (the model is never copied into one byte array).
    fn write_payload(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let mut out = Payload::new(w);
        out.prelude(&Prelude {
            order: self.order(),
            vocab_size: self.tables[0].len(),
            training_tokens: self.training_tokens,
            discounts: &self.discounts,
        })?;
        for table in &self.tables {
            out.table(table)?;
        }
        out.flush()
    }

    /// Loads an lmlab model file of kind `ngram`. The hash tables are used in place from the
    /// memory map (no copy); only the unigrams are copied.
    pub fn load(path: &Path) -> Result<NgramModel> {
        NgramModel::from_file(ModelFile::open(path)?)
    }

    /// [`NgramModel::load`] from a model file already opened (and checked). Once the tables are
    /// checked, the file's pages leave resident memory: a query brings back only the pages it
    /// reads.
    pub fn from_file(file: ModelFile) -> Result<NgramModel> {
        let file = Arc::new(file);
        let path = &file.path().to_path_buf();
        let header = file.header();
        header.require_kind(path, KIND, KIND_VERSION)?;
        let tokenizer = tokenizer_from_json(&header.tokenizer)
            .map_err(|e| Error::bad_file(path, format!("model tokenizer: {e}")))?;
        let mut r = Cursor {
            path,
            bytes: file.payload(),
            at: 0,
        };
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
                let d = [r.u64()?, r.u64()?, r.u64()?].map(f64::from_bits);
                discounts.push(Discount::new(d));
            }
        } else if has_discounts != 0 {
            return Err(corrupt("bad discounts flag".into()));
        }
        let mut tables: Vec<OrderTable> = Vec::with_capacity(order);
        for n in 1..=order {
            let (offset, words) = r.array()?;
            let entries = if n == 1 {
                if words != vocab_size {
                    return Err(corrupt(format!("{words} unigrams")));
                }
                Entries::owned(
                    (0..words)
                        .map(|w| unpack(w as u64, r.word_at(offset + 8 * w)))
                        .collect(),
                )
            } else {
                if words % 2 != 0 {
                    return Err(corrupt(format!("{n}-gram table has an odd length")));
                }
                let slots = words / 2;
                Entries::mapped(&file, offset, slots).unwrap_or_else(|| {
                    Entries::owned(
                        (0..slots)
                            .map(|i| {
                                let at = offset + 16 * i;
                                unpack(r.word_at(at), r.word_at(at + 8))
                            })
                            .collect(),
                    )
                })
            };
            let table = OrderTable::from_entries(entries, n > 1, vocab_size, tables.last())
                .map_err(|e| corrupt(format!("{n}-grams: {e}")))?;
            tables.push(table);
        }
        if r.at != r.bytes.len() {
            return Err(corrupt("unexpected bytes after the last table".into()));
        }
        file.release_pages();
        let model =
            NgramModel::from_parts(tokenizer, tables, discounts, Vec::new(), training_tokens);
        debug_assert_eq!(model.kind(), KIND);
        Ok(model)
    }
}

/// Reads the payload: u64 words and u64-length-prefixed arrays of u64 words.
struct Cursor<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn ends_early(&self) -> Error {
        Error::bad_file(self.path, "model payload ends early; the file is corrupted")
    }

    fn u64(&mut self) -> Result<u64> {
        if self.at + 8 > self.bytes.len() {
            return Err(self.ends_early());
        }
        let value = self.word_at(self.at);
        self.at += 8;
        Ok(value)
    }

    /// An array: returns the byte offset of its first word and its length in words.
    fn array(&mut self) -> Result<(usize, usize)> {
        let words = self.u64()?;
        let bytes = usize::try_from(words)
            .ok()
            .and_then(|w| w.checked_mul(8))
            .filter(|&b| b <= self.bytes.len() - self.at)
            .ok_or_else(|| self.ends_early())?;
        let offset = self.at;
        self.at += bytes;
        Ok((offset, words as usize))
    }

    /// The little-endian u64 at byte `at` (in bounds: checked by `u64` and `array`).
    fn word_at(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.bytes[at..at + 8].try_into().expect("8 bytes"))
    }
}

/// Bytes gathered per write while streaming the payload.
const PAYLOAD_BUFFER: usize = 1 << 16;

/// What the payload holds before its tables.
pub(crate) struct Prelude<'a> {
    /// The model order N.
    pub order: usize,
    /// Number of unigrams (the tokenizer's vocabulary).
    pub vocab_size: usize,
    /// Tokens counted in training.
    pub training_tokens: u64,
    /// Per-order discounts (empty for an imported ARPA).
    pub discounts: &'a [Discount],
}

/// Little-endian payload words, written through a buffer.
struct Payload<'a> {
    buf: Vec<u8>,
    w: &'a mut dyn Write,
}

impl<'a> Payload<'a> {
    fn new(w: &'a mut dyn Write) -> Payload<'a> {
        Payload {
            buf: Vec::with_capacity(PAYLOAD_BUFFER),
            w,
        }
    }

    fn u64(&mut self, value: u64) -> std::io::Result<()> {
        self.buf.extend_from_slice(&value.to_le_bytes());
        if self.buf.len() >= PAYLOAD_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    /// Order, vocabulary size, training tokens, the discounts flag and the discounts.
    fn prelude(&mut self, prelude: &Prelude) -> std::io::Result<()> {
        self.u64(prelude.order as u64)?;
        self.u64(prelude.vocab_size as u64)?;
        self.u64(prelude.training_tokens)?;
        self.u64(u64::from(!prelude.discounts.is_empty()))?;
        for d in prelude.discounts {
            for &x in &d.amount {
                self.u64(x.to_bits())?;
            }
        }
        Ok(())
    }

    /// One order: unigrams as packed values, a hash table slot by slot (key, packed values).
    fn table(&mut self, table: &OrderTable) -> std::io::Result<()> {
        let entries = table.entries();
        if table.is_hashed() {
            self.u64(entries.len() as u64 * 2)?;
            if cfg!(target_endian = "little") {
                // A slot in memory is its two payload words already (see `Entry`). Written in
                // buffer-sized pieces: one huge write makes the writer flush the page cache itself.
                self.flush()?;
                for piece in entry_bytes(entries).chunks(PAYLOAD_BUFFER) {
                    self.w.write_all(piece)?;
                }
                return Ok(());
            }
            for e in entries {
                self.u64(e.key)?;
                self.u64(pack(e))?;
            }
        } else {
            self.u64(entries.len() as u64)?;
            for e in entries {
                self.u64(pack(e))?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

/// Writes the payload of a model file as training hands over its orders: each table is written
/// and dropped, so the whole model is never in memory.
pub(crate) struct PayloadSink<'a> {
    out: Payload<'a>,
    path: &'a Path,
}

impl<'a> PayloadSink<'a> {
    /// A sink writing to `w`, the payload of the model file `path` (named in errors).
    pub fn new(w: &'a mut dyn Write, path: &'a Path) -> PayloadSink<'a> {
        PayloadSink {
            out: Payload::new(w),
            path,
        }
    }

    /// Writes out what is still buffered.
    pub fn finish(mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(self.path, e))
    }
}

impl TableSink for PayloadSink<'_> {
    fn begin(&mut self, prelude: &Prelude) -> Result<()> {
        self.out
            .prelude(prelude)
            .map_err(|e| Error::io(self.path, e))
    }

    fn push(&mut self, table: OrderTable) -> Result<()> {
        self.out.table(&table).map_err(|e| Error::io(self.path, e))
    }
}

/// The bytes of hash table slots as they lie in memory: on a little-endian host, each slot's key
/// then [`pack`]'s word, the payload's layout.
fn entry_bytes(entries: &[Entry]) -> &[u8] {
    // SAFETY: `Entry` is `repr(C)` (u64, f32, f32): 16 bytes without padding, all initialised.
    unsafe {
        std::slice::from_raw_parts(
            entries.as_ptr().cast::<u8>(),
            std::mem::size_of_val(entries),
        )
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
