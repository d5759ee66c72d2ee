//! Export to Hugging Face `tokenizers`' `tokenizer.json`, for `bpe` and `bytes`, with the same ids
//! as lmlab on any text free of special-token strings (Hugging Face always matches added tokens in
//! text, like lmlab with allow-special on).
//!
//! lmlab encodes text line by line, so the exported pipeline first splits after every `\n`
//! (`Split("\n", MergedWithPrevious)`), then applies the pattern (ByteLevel's GPT-2 regex, or a
//! cl100k `Split` followed by ByteLevel without regex). Scaffold-BPE has no Hugging Face
//! equivalent (its demolition step cannot be expressed); its expanded vocabulary (every merge, no
//! demolition, expanded ids) is exported only when asked.

use super::byte_level::bytes_to_string;
use super::model::BpeTokenizer;
use super::pretokenize::PreTokenizerPattern;
use crate::bytes::BytesTokenizer;
use lmlab_core::vocab::{BOS, EOS};
use lmlab_core::{Error, Result, Tokenizer};
use serde_json::{json, Map, Value};

fn added_token(id: usize, content: &str) -> Value {
    json!({
        "id": id, "content": content, "single_word": false, "lstrip": false,
        "rstrip": false, "normalized": false, "special": true
    })
}

fn byte_level(use_regex: bool) -> Value {
    json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
           "use_regex": use_regex})
}

fn pre_tokenizer(pattern: Option<PreTokenizerPattern>) -> Value {
    let lines = json!({"type": "Split", "pattern": {"String": "\n"},
                       "behavior": "MergedWithPrevious", "invert": false});
    let mut steps = vec![lines];
    match pattern {
        Some(PreTokenizerPattern::Gpt2) => steps.push(byte_level(true)),
        Some(PreTokenizerPattern::Cl100k) => {
            steps.push(json!({"type": "Split",
                              "pattern": {"Regex": PreTokenizerPattern::Cl100k.regex()},
                              "behavior": "Isolated", "invert": false}));
            steps.push(byte_level(false));
        }
        None => steps.push(byte_level(false)),
    }
    json!({"type": "Sequence", "pretokenizers": steps})
}

fn document(
    vocab: Map<String, Value>,
    merges: Vec<[String; 2]>,
    added: Vec<Value>,
    pre: Value,
) -> Value {
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": pre,
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true,
                    "use_regex": true},
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null,
            "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": false,
            "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": merges
        }
    })
}

impl BpeTokenizer {
    /// The Hugging Face `tokenizer.json` of this tokenizer. For Scaffold-BPE this is an error
    /// unless `expanded_scaffold` is set, which exports the expanded vocabulary (all merges, no
    /// demolition; its ids are expanded ids, not lmlab's).
    pub fn to_hugging_face(&self, expanded_scaffold: bool) -> Result<Value> {
        if self.is_scaffold() && !expanded_scaffold {
            return Err(Error::invalid(
                "a Scaffold-BPE tokenizer cannot be expressed as a Hugging Face tokenizer (its \
                 demolition of scaffold tokens has no equivalent there); ask for the expanded \
                 vocabulary to export plain BPE with every merge, whose ids differ from lmlab's",
            ));
        }
        let mut vocab = Map::new();
        let tokens = if self.is_scaffold() {
            self.expanded_tokens()
        } else {
            self.vocab().tokens()[..self.learned_size()].to_vec()
        };
        let n = tokens.len();
        for (id, token) in tokens.into_iter().enumerate() {
            vocab.insert(token, json!(id));
        }
        let mut added = vec![added_token(n, BOS), added_token(n + 1, EOS)];
        for (k, s) in self.user_specials.iter().enumerate() {
            added.push(added_token(n + 2 + k, s));
        }
        let merges = self.merges().into_iter().map(|(a, b)| [a, b]).collect();
        Ok(document(
            vocab,
            merges,
            added,
            pre_tokenizer(Some(self.pattern())),
        ))
    }
}

/// The Hugging Face `tokenizer.json` of the `bytes` tokenizer: byte b has id b, `<s>` is 256 and
/// the newline is the added token 257 (lmlab's `</s>`, which the newline encodes to).
pub fn bytes_to_hugging_face(_tok: &BytesTokenizer) -> Value {
    let mut vocab = Map::new();
    for b in 0..=255u8 {
        vocab.insert(bytes_to_string(&[b]), json!(b));
    }
    let added = vec![added_token(256, BOS), added_token(257, "\n")];
    document(vocab, Vec::new(), added, pre_tokenizer(None))
}

/// Exports any lmlab tokenizer JSON that has a Hugging Face equivalent (`bpe`, `bytes`, and
/// `scaffold-bpe` with `expanded_scaffold`); other kinds are refused with the reason.
pub fn export_hugging_face(lmlab_json: &Value, expanded_scaffold: bool) -> Result<Value> {
    let kind = crate::serialization::check_envelope(lmlab_json)?;
    match kind {
        "bpe" | "scaffold-bpe" => {
            BpeTokenizer::deserialize(lmlab_json)?.to_hugging_face(expanded_scaffold)
        }
        "bytes" => Ok(bytes_to_hugging_face(&BytesTokenizer::new())),
        other => Err(Error::invalid(format!(
            "a '{other}' tokenizer has no Hugging Face export (only bpe and bytes have one)"
        ))),
    }
}
