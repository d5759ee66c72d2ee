//! Rebuilds any tokenizer kind from its serialized JSON.

use crate::serialization::check_envelope;
use crate::{BpeTokenizer, BytesTokenizer, CharsTokenizer, WordsTokenizer};
use lmlab_core::corpus::read_text_file;
use lmlab_core::{Error, Result, Tokenizer};
use std::path::Path;

/// The tokenizer kinds this build knows.
pub const KINDS: &[&str] = &["words", "bytes", "chars", "bpe", "scaffold-bpe"];

/// Rebuilds a tokenizer from [`Tokenizer::to_json`]'s output.
pub fn tokenizer_from_json(value: &serde_json::Value) -> Result<Box<dyn Tokenizer>> {
    tokenizer_from_json_allow_special(value, false)
}

/// Like [`tokenizer_from_json`], with special-token strings in text encoded as the special tokens
/// when `allow_special` is set (`--allow-special`; kinds `bpe`, `scaffold-bpe` and `chars`; `words`
/// and `bytes` have no special strings to recognise in text and ignore it).
pub fn tokenizer_from_json_allow_special(
    value: &serde_json::Value,
    allow_special: bool,
) -> Result<Box<dyn Tokenizer>> {
    match check_envelope(value)? {
        "words" => Ok(Box::new(WordsTokenizer::deserialize(value)?)),
        "bytes" => Ok(Box::new(BytesTokenizer::new())),
        "chars" => {
            let mut tok = CharsTokenizer::deserialize(value)?;
            tok.set_allow_special(allow_special);
            Ok(Box::new(tok))
        }
        "bpe" | "scaffold-bpe" => {
            let mut tok = BpeTokenizer::deserialize(value)?;
            tok.set_allow_special(allow_special);
            Ok(Box::new(tok))
        }
        other => Err(Error::invalid(format!(
            "unknown tokenizer kind '{other}' (this lmlab knows {})",
            KINDS.join(", ")
        ))),
    }
}

/// Loads a tokenizer JSON file, naming the file in every error.
pub fn load_tokenizer_file(path: &Path) -> Result<Box<dyn Tokenizer>> {
    let text = read_text_file(path)?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::bad_file(path, format!("not valid tokenizer JSON: {e}")))?;
    tokenizer_from_json(&value).map_err(|e| Error::bad_file(path, e.to_string()))
}

/// Writes `tokenizer` as its (pretty-printed) JSON to `path`, atomically; [`load_tokenizer_file`]
/// reads it back.
pub fn save_tokenizer_file(tokenizer: &dyn Tokenizer, path: &Path) -> Result<()> {
    let json = serde_json::to_vec_pretty(&tokenizer.to_json()).expect("tokenizer JSON serializes");
    lmlab_core::atomic::write_bytes_atomically(path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WordsTrainer;

    #[test]
    fn every_kind_round_trips_with_its_fingerprint() {
        let words = WordsTrainer::default().train("a b c a\n").unwrap();
        let kinds: Vec<Box<dyn Tokenizer>> = vec![Box::new(words), Box::new(BytesTokenizer::new())];
        for tok in kinds {
            let back = tokenizer_from_json(&tok.to_json()).unwrap();
            assert_eq!(back.fingerprint(), tok.fingerprint());
            assert_eq!(back.encode("a b zz"), tok.encode("a b zz"));
        }
    }

    #[test]
    fn truncated_foreign_and_future_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.json");
        let full = WordsTrainer::default()
            .train("a b\n")
            .unwrap()
            .to_json()
            .to_string();
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        let msg = load_tokenizer_file(&path).err().unwrap().to_string();
        assert!(
            msg.contains("tok.json") && msg.contains("not valid tokenizer JSON"),
            "{msg}"
        );
        std::fs::write(&path, r#"{"model": {"type": "BPE"}}"#).unwrap();
        let msg = load_tokenizer_file(&path).err().unwrap().to_string();
        assert!(msg.contains("not an lmlab tokenizer"), "{msg}");
        let future = full.replace("\"version\":1", "\"version\":99");
        std::fs::write(&path, future).unwrap();
        let msg = load_tokenizer_file(&path).err().unwrap().to_string();
        assert!(msg.contains("version 99"), "{msg}");
        std::fs::write(
            &path,
            r#"{"format":"lmlab-tokenizer","version":1,"kind":"wordpiece"}"#,
        )
        .unwrap();
        let msg = load_tokenizer_file(&path).err().unwrap().to_string();
        assert!(msg.contains("unknown tokenizer kind 'wordpiece'"), "{msg}");
    }
}
