//! lmlab-tokenize: the tokenizer kinds (words, bytes, chars, bpe, scaffold-bpe) behind lmlab-core's [`Tokenizer`] trait, each split into
//! model (encode/decode), trainer and serialization, plus [`registry`] to rebuild any kind from JSON.

pub mod bpe;
pub mod bytes;
pub mod chars;
pub mod registry;
pub mod scaffold_bpe;
pub mod serialization;
pub mod words;

pub use bpe::{BpeTokenizer, BpeTrainer, PreTokenizerPattern};
pub use bytes::BytesTokenizer;
pub use chars::{CharsTokenizer, CharsTrainer};
pub use lmlab_core::Tokenizer;
pub use registry::{load_tokenizer_file, save_tokenizer_file, tokenizer_from_json};
pub use words::{WordsTokenizer, WordsTrainer};
