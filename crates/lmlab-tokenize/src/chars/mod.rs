//! The `chars` tokenizer: one token per Unicode scalar value seen in training, `<unk>` for the
//! rest, optional NFC normalization. Like `bytes`, a newline inside text is encoded as `</s>` (and
//! decoded back to a newline), so no character token stands for it.

mod model;
mod serialization;
mod trainer;

pub use model::CharsTokenizer;
pub use trainer::CharsTrainer;
