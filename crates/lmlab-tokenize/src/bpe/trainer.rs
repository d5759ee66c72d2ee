//! Training byte-level BPE and Scaffold-BPE.

use super::byte_level::{base_id_bytes, byte_base_ids};
use super::engine::{self, EngineOptions};
use super::hash::FastMap;
use super::model::{check_specials, split_specials, BpeTokenizer, BYTE_ALPHABET};
use super::pretokenize::PreTokenizerPattern;
use lmlab_core::vocab::{BOS, EOS};
use lmlab_core::{Error, Result};

/// Largest vocabulary size accepted (16,777,216): beyond it the request is surely a mistake.
pub const MAX_VOCAB_SIZE: usize = 1 << 24;

/// Options of BPE training.
///
/// `vocab_size` counts the learned vocabulary: the 256 byte symbols plus the merged tokens (for
/// Scaffold-BPE: the N normal tokens). The special tokens — `<s>` and `</s>` always, then
/// `specials` — come after it and are not counted. Training stops earlier when no pair occurs at
/// least `min_frequency` times (at least once).
///
/// Training text is read line by line (each line keeps its `\n`), as Hugging Face reads training
/// files; occurrences of special-token strings (`<s>`, `</s>` and `specials`) are cut out of it
/// before pre-tokenization, so no merge is learned across or from them.
#[derive(Clone, Debug)]
pub struct BpeTrainer {
    /// Learned vocabulary size (bytes + merged tokens), specials not counted.
    pub vocab_size: usize,
    /// Smallest pair count that is still merged (0 and 1 both mean any pair).
    pub min_frequency: u64,
    /// The pre-tokenization regex.
    pub pattern: PreTokenizerPattern,
    /// Special tokens beyond `<s>` and `</s>` (e.g. `<|endoftext|>`), in id order.
    pub specials: Vec<String>,
    /// Scaffold-BPE instead of plain BPE.
    pub scaffold: bool,
}

/// The learned vocabulary size (bytes + merges) when none is given: lmlab's one BPE default.
pub const DEFAULT_VOCAB_SIZE: usize = 4096;

impl Default for BpeTrainer {
    fn default() -> Self {
        BpeTrainer {
            vocab_size: DEFAULT_VOCAB_SIZE,
            min_frequency: 0,
            pattern: PreTokenizerPattern::Gpt2,
            specials: Vec::new(),
            scaffold: false,
        }
    }
}

impl BpeTrainer {
    /// Trains on `texts`.
    pub fn train(&self, texts: &[&str]) -> Result<BpeTokenizer> {
        self.train_with_progress(texts, &|_, _| {})
    }

    /// Trains on `texts`, calling `progress(done, total)` as merged tokens are learned (done ≤
    /// total = `vocab_size` − 256; training may stop before `total` when pairs run out).
    pub fn train_with_progress(
        &self,
        texts: &[&str],
        progress: &dyn Fn(usize, usize),
    ) -> Result<BpeTokenizer> {
        self.check()?;
        let counts = self.count_pieces(texts);
        if counts.is_empty() || texts.iter().all(|t| t.trim().is_empty()) {
            return Err(Error::invalid(
                "the training text is empty or only white space: nothing to learn from",
            ));
        }
        let (words, weights) = Self::words(counts);
        let learned = engine::run(
            words,
            weights,
            base_id_bytes().iter().map(|&b| vec![b]).collect(),
            &EngineOptions {
                target: self.vocab_size,
                min_frequency: self.min_frequency,
                scaffold: self.scaffold,
                progress,
            },
        );
        BpeTokenizer::from_parts(
            self.pattern,
            self.scaffold,
            learned.token_bytes,
            learned.merges,
            learned.scaffold,
            self.specials.clone(),
        )
    }

    fn check(&self) -> Result<()> {
        if self.vocab_size < BYTE_ALPHABET {
            return Err(Error::invalid(format!(
                "vocabulary size {} is smaller than the byte alphabet ({BYTE_ALPHABET} tokens, \
                 special tokens not counted); use at least {BYTE_ALPHABET}",
                self.vocab_size
            )));
        }
        if self.vocab_size > MAX_VOCAB_SIZE {
            return Err(Error::invalid(format!(
                "vocabulary size {} is absurdly large (the limit is {MAX_VOCAB_SIZE})",
                self.vocab_size
            )));
        }
        check_specials(&self.specials)
    }

    /// Counts the pre-tokenized pieces of `texts` (line by line, special-token strings cut out).
    pub(crate) fn count_pieces<'a>(&self, texts: &[&'a str]) -> FastMap<&'a str, u64> {
        let mut counts: FastMap<&'a str, u64> = FastMap::default();
        let specials: Vec<&str> = [BOS, EOS]
            .into_iter()
            .chain(self.specials.iter().map(String::as_str))
            .collect();
        for &text in texts {
            split_specials(text, &specials, |chunk, which| {
                if which.is_some() {
                    return;
                }
                for line in chunk.split_inclusive('\n') {
                    self.pattern.split(line, |piece| {
                        *counts.entry(piece).or_default() += 1;
                    });
                }
            });
        }
        counts
    }

    /// Words as base-symbol sequences with counts, in a deterministic order.
    fn words(counts: FastMap<&str, u64>) -> (Vec<Vec<u32>>, Vec<i64>) {
        let mut pieces: Vec<(&str, u64)> = counts.into_iter().collect();
        pieces.sort_unstable();
        let base = byte_base_ids();
        pieces
            .into_iter()
            .map(|(p, c)| {
                (
                    p.bytes().map(|b| base[b as usize]).collect::<Vec<u32>>(),
                    c as i64,
                )
            })
            .unzip()
    }
}
