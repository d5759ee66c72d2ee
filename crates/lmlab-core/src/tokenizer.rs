//! The `Tokenizer` contract every tokenizer kind keeps.

use crate::hashing::fingerprint;
use crate::vocab::{Specials, TokenId, Vocab};

/// Serialized tokenizers carry this format version; a newer one is refused.
pub const TOKENIZER_FORMAT_VERSION: u32 = 1;

/// Pushes to `oov_at` the index of every `unk` in `out[start..]`.
pub fn mark_unk(out: &[TokenId], start: usize, unk: TokenId, oov_at: &mut Vec<usize>) {
    oov_at.extend((start..out.len()).filter(|&i| out[i] == unk));
}

/// Turns text into token ids and back.
pub trait Tokenizer: Send + Sync {
    /// The kind name (`words`, `bytes`, `bpe`, ...).
    fn kind(&self) -> &str;

    /// The vocabulary, including special tokens.
    fn vocab(&self) -> &Vocab;

    /// The special tokens.
    fn specials(&self) -> Specials;

    /// Appends the ids of `text` to `out` and returns how many of them are out-of-vocabulary
    /// (text the tokenizer could not represent and mapped to `<unk>`). The end token is not added.
    fn encode_into(&self, text: &str, out: &mut Vec<TokenId>) -> usize;

    /// Like [`Tokenizer::encode_into`], and also pushes to `oov_at` the index in `out` of every
    /// out-of-vocabulary id it adds. The default marks the `<unk>` ids it added, which is exact when
    /// every `<unk>` the tokenizer emits is an OOV; a tokenizer that also maps literal text to
    /// `<unk>` (a closed vocabulary's unknown word) overrides it.
    fn encode_into_marking_oov(
        &self,
        text: &str,
        out: &mut Vec<TokenId>,
        oov_at: &mut Vec<usize>,
    ) -> usize {
        let start = out.len();
        let oov = self.encode_into(text, out);
        if oov > 0 {
            if let Some(unk) = self.specials().unk {
                mark_unk(out, start, unk, oov_at);
            }
        }
        oov
    }

    /// Text of `ids` (special tokens other than `<unk>` are left out; `</s>` becomes a newline).
    fn decode(&self, ids: &[TokenId]) -> String;

    /// The raw bytes of `ids`, as [`Tokenizer::decode`] but before any UTF-8 repair: byte-level
    /// tokenizers (bytes, byte-level BPE) override it, so that a single byte or a token holding part
    /// of a character is seen as it is. The default is the bytes of `decode`.
    fn decode_bytes(&self, ids: &[TokenId]) -> Vec<u8> {
        self.decode(ids).into_bytes()
    }

    /// The serialized form (versioned JSON, with a `kind` field) from which the registry rebuilds it.
    fn to_json(&self) -> serde_json::Value;

    /// The ids of `text`.
    fn encode(&self, text: &str) -> Vec<TokenId> {
        let mut out = Vec::new();
        self.encode_into(text, &mut out);
        out
    }

    /// A stable fingerprint: a hash of the serialized form.
    fn fingerprint(&self) -> String {
        fingerprint(self.to_json().to_string().as_bytes())
    }

    /// True for tokens a model may predict: every token but `<s>`.
    fn is_predictable(&self, id: TokenId) -> bool {
        id != self.specials().bos
    }
}
