//! lmlab-tokenize: the tokenizer kinds behind lmlab-core's [`Tokenizer`] trait, each split into
//! model (encode/decode), trainer and serialization, plus [`registry`] to rebuild any kind from JSON.

pub mod bytes;
pub mod registry;
pub mod serialization;
pub mod words;

pub use bytes::BytesTokenizer;
pub use lmlab_core::Tokenizer;
pub use registry::{load_tokenizer_file, tokenizer_from_json};
pub use words::{WordsTokenizer, WordsTrainer};
