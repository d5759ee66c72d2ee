use super::model::CharsTokenizer;
use crate::serialization::{envelope, field};
use lmlab_core::vocab::{BOS, EOS, UNK};
use lmlab_core::{Error, Result};
use serde_json::{json, Value};

impl CharsTokenizer {
    /// The versioned JSON form: `{"specials": ["<unk>", "<s>", "</s>", ...], "chars": "…",
    /// "nfc": bool}` (the characters in id order, as one string).
    pub fn serialize(&self) -> Value {
        let mut specials = vec![UNK.to_string(), BOS.to_string(), EOS.to_string()];
        specials.extend(self.user_specials().iter().cloned());
        let chars: String = self.chars().into_iter().collect();
        envelope(
            "chars",
            json!({ "specials": specials, "chars": chars, "nfc": self.nfc() }),
        )
    }

    /// Rebuilds from [`CharsTokenizer::serialize`]'s output.
    pub fn deserialize(value: &Value) -> Result<CharsTokenizer> {
        let kind = field(value, "kind")?.as_str().unwrap_or("");
        if kind != "chars" {
            return Err(Error::invalid(format!(
                "a tokenizer of kind '{kind}' is not a chars tokenizer"
            )));
        }
        let specials: Vec<String> = serde_json::from_value(field(value, "specials")?.clone())
            .map_err(|e| Error::invalid(format!("chars tokenizer \"specials\": {e}")))?;
        if specials.len() < 3 || specials[0] != UNK || specials[1] != BOS || specials[2] != EOS {
            return Err(Error::invalid(
                "chars tokenizer \"specials\" must start with <unk>, <s>, </s>",
            ));
        }
        let chars: Vec<char> = field(value, "chars")?
            .as_str()
            .ok_or_else(|| Error::invalid("chars tokenizer \"chars\" is not a string"))?
            .chars()
            .collect();
        let nfc = field(value, "nfc")?
            .as_bool()
            .ok_or_else(|| Error::invalid("chars tokenizer \"nfc\" is not true or false"))?;
        CharsTokenizer::new(&chars, &specials[3..], nfc)
    }
}
