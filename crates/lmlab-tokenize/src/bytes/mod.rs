//! The `bytes` tokenizer: one token per UTF-8 byte (ids 0–255), then `<s>` = 256 and `</s>` = 257.
//! A newline inside a sequence is encoded as `</s>` (and decoded back to a newline), so in every
//! sequence mode the scored tokens are exactly the bytes of the text, each line's newline included:
//! a uniform model over the 256 possible outcomes scores exactly 8 bits per byte.

use crate::serialization::envelope;
use lmlab_core::vocab::{BOS, EOS};
use lmlab_core::{Specials, TokenId, Tokenizer, Vocab};

/// Id of `<s>`.
const BOS_ID: TokenId = 256;
/// Id of `</s>`, which also stands for the newline byte.
const EOS_ID: TokenId = 257;

/// Byte-level tokenizer with no training and no unknown tokens.
#[derive(Clone, Debug)]
pub struct BytesTokenizer {
    vocab: Vocab,
}

impl Default for BytesTokenizer {
    fn default() -> Self {
        Self::new()
    }
}

impl BytesTokenizer {
    /// The tokenizer (it has no parameters).
    pub fn new() -> BytesTokenizer {
        let mut tokens: Vec<String> = (0u8..=255).map(byte_name).collect();
        tokens.push(BOS.to_string());
        tokens.push(EOS.to_string());
        BytesTokenizer {
            vocab: Vocab::new(tokens),
        }
    }
}

/// Printable ASCII bytes are shown as themselves, every other byte as `<0xNN>`.
fn byte_name(byte: u8) -> String {
    if byte.is_ascii_graphic() || byte == b' ' {
        (byte as char).to_string()
    } else {
        format!("<0x{byte:02X}>")
    }
}

impl Tokenizer for BytesTokenizer {
    fn kind(&self) -> &str {
        "bytes"
    }

    fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    fn specials(&self) -> Specials {
        Specials {
            bos: BOS_ID,
            eos: EOS_ID,
            unk: None,
        }
    }

    fn encode_into(&self, text: &str, out: &mut Vec<TokenId>) -> usize {
        out.extend(
            text.bytes()
                .map(|b| if b == b'\n' { EOS_ID } else { TokenId::from(b) }),
        );
        0
    }

    fn decode(&self, ids: &[TokenId]) -> String {
        String::from_utf8_lossy(&self.decode_bytes(ids)).into_owned()
    }

    /// The bytes of `ids`: `</s>` is a newline, `<s>` nothing.
    fn decode_bytes(&self, ids: &[TokenId]) -> Vec<u8> {
        ids.iter()
            .filter_map(|&id| match id {
                EOS_ID => Some(b'\n'),
                BOS_ID => None,
                b => u8::try_from(b).ok(),
            })
            .collect()
    }

    fn to_json(&self) -> serde_json::Value {
        envelope("bytes", serde_json::json!({}))
    }

    /// Every byte but the newline (which `</s>` stands for), and `</s>`: 256 outcomes.
    fn is_predictable(&self, id: TokenId) -> bool {
        id != BOS_ID && id != TokenId::from(b'\n')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_inverts_encode_on_any_utf8() {
        let tok = BytesTokenizer::new();
        for text in [
            "héllo wörld",
            "emoji 🦀\nline two",
            "e\u{301} 漢字 שלום",
            "\r\n\t",
        ] {
            assert_eq!(tok.decode(&tok.encode(text)), text);
        }
        let predictable = (0..tok.vocab().len() as TokenId)
            .filter(|&id| tok.is_predictable(id))
            .count();
        assert_eq!(predictable, 256);
    }
}
