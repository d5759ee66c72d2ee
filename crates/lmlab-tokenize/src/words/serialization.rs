use super::model::WordsTokenizer;
use crate::serialization::{envelope, field};
use lmlab_core::vocab::{BOS, EOS, UNK};
use lmlab_core::{Error, Result, Tokenizer, Vocab};
use serde_json::{json, Value};

impl WordsTokenizer {
    /// The versioned JSON form: the token strings in id order.
    pub fn serialize(&self) -> Value {
        envelope("words", json!({ "tokens": self.vocab().tokens() }))
    }

    /// Rebuilds from [`WordsTokenizer::serialize`]'s output.
    pub fn deserialize(value: &Value) -> Result<WordsTokenizer> {
        let tokens: Vec<String> = serde_json::from_value(field(value, "tokens")?.clone())
            .map_err(|e| Error::invalid(format!("words tokenizer tokens: {e}")))?;
        if tokens.len() < 3 || tokens[0] != UNK || tokens[1] != BOS || tokens[2] != EOS {
            return Err(Error::invalid(
                "words tokenizer must start with <unk>, <s>, </s>",
            ));
        }
        Ok(WordsTokenizer {
            vocab: Vocab::new(tokens),
        })
    }
}
