//! The `words` tokenizer: whitespace-separated words over a closed vocabulary. A literal `<unk>` in
//! text *is* the unknown word (so PTB works as published); other unseen words map to `<unk>` and
//! count as out-of-vocabulary.

mod model;
mod serialization;
mod trainer;

pub use model::WordsTokenizer;
pub use trainer::WordsTrainer;
