//! The `bpe` tokenizer: byte-level BPE as GPT-2 and Hugging Face `tokenizers` define it (ByteLevel
//! pre-tokenization with the GPT-2 regex by default, the cl100k regex as an option; 256 byte
//! symbols; merges learned by pair count with Hugging Face's tie-breaks), and the same machinery
//! for Scaffold-BPE (kind `scaffold-bpe`, see [`crate::scaffold_bpe`]).
//!
//! Training on the same text gives the same merges, in the same order, as Hugging Face's
//! `BpeTrainer` with `initial_alphabet = ByteLevel.alphabet()` (tested on the TinyStories fixture).

mod batch;
pub mod byte_level;
pub(crate) mod engine;
pub(crate) mod hash;
pub mod hf_export;
mod model;
pub mod pretokenize;
mod serialization;
mod trainer;

pub use batch::encode_batch;
pub(crate) use model::{check_specials, split_specials};
pub use model::{BpeTokenizer, BYTE_ALPHABET};
pub use pretokenize::PreTokenizerPattern;
pub use trainer::{BpeTrainer, DEFAULT_VOCAB_SIZE, MAX_VOCAB_SIZE};
