//! Versioned JSON for `bpe` and `scaffold-bpe`:
//! `{"format": "lmlab-tokenizer", "version": 1, "kind": "bpe" | "scaffold-bpe",
//!   "pattern": "gpt2" | "cl100k", "merges": [["Ġ", "t"], ...], "scaffold": ["Ġth", ...],
//!   "specials": ["<s>", "</s>", ...], "vocab_size": V}`.
//! Merges and scaffold tokens are ByteLevel strings; the vocabulary is rebuilt by replaying the
//! merges over the 256 byte symbols, and `vocab_size` (learned tokens) is checked against it.

use super::byte_level::{base_id_bytes, string_to_bytes};
use super::hash::FastMap;
use super::model::BpeTokenizer;
use super::pretokenize::PreTokenizerPattern;
use crate::serialization::{envelope, field};
use lmlab_core::vocab::{BOS, EOS};
use lmlab_core::{Error, Result, Tokenizer};
use serde_json::{json, Value};

impl BpeTokenizer {
    /// The versioned JSON form.
    pub fn serialize(&self) -> Value {
        let merges: Vec<[String; 2]> = self.merges().into_iter().map(|(a, b)| [a, b]).collect();
        let mut specials = vec![BOS.to_string(), EOS.to_string()];
        specials.extend(self.user_specials.iter().cloned());
        let mut fields = json!({
            "pattern": self.pattern.name(),
            "vocab_size": self.learned_size(),
            "specials": specials,
            "merges": merges,
        });
        if self.is_scaffold() {
            fields["scaffold"] = json!(self.scaffold_tokens());
        }
        envelope(self.kind(), fields)
    }

    /// Rebuilds from [`BpeTokenizer::serialize`]'s output (kind `bpe` or `scaffold-bpe`).
    pub fn deserialize(value: &Value) -> Result<BpeTokenizer> {
        let kind = field(value, "kind")?.as_str().unwrap_or("");
        let scaffold_kind = match kind {
            "bpe" => false,
            "scaffold-bpe" => true,
            other => {
                return Err(Error::invalid(format!(
                    "a tokenizer of kind '{other}' is not a BPE tokenizer"
                )))
            }
        };
        let bad = |what: &str| Error::invalid(format!("{kind} tokenizer: {what}"));
        let pattern = PreTokenizerPattern::from_name(
            field(value, "pattern")?
                .as_str()
                .ok_or_else(|| bad("\"pattern\" is not a string"))?,
        )?;
        let specials: Vec<String> = serde_json::from_value(field(value, "specials")?.clone())
            .map_err(|e| bad(&format!("\"specials\": {e}")))?;
        if specials.len() < 2 || specials[0] != BOS || specials[1] != EOS {
            return Err(bad("\"specials\" must start with <s>, </s>"));
        }
        let merges: Vec<(String, String)> = serde_json::from_value(field(value, "merges")?.clone())
            .map_err(|e| bad(&format!("\"merges\": {e}")))?;
        let mut token_bytes: Vec<Vec<u8>> = base_id_bytes().iter().map(|&b| vec![b]).collect();
        let mut index: FastMap<Vec<u8>, u32> = token_bytes
            .iter()
            .enumerate()
            .map(|(i, b)| (b.clone(), i as u32))
            .collect();
        let mut merge_ids = Vec::with_capacity(merges.len());
        for (n, (a, b)) in merges.iter().enumerate() {
            let id = |s: &str| {
                string_to_bytes(s)
                    .and_then(|bytes| index.get(&bytes).copied())
                    .ok_or_else(|| bad(&format!("merge {n} uses '{s}', which is not a token yet")))
            };
            let (ia, ib) = (id(a)?, id(b)?);
            let mut bytes = token_bytes[ia as usize].clone();
            bytes.extend_from_slice(&token_bytes[ib as usize]);
            let t = match index.get(&bytes) {
                Some(&t) => t,
                None => {
                    let t = token_bytes.len() as u32;
                    index.insert(bytes.clone(), t);
                    token_bytes.push(bytes);
                    t
                }
            };
            merge_ids.push((ia, ib, t));
        }
        let mut scaffold = vec![false; token_bytes.len()];
        if scaffold_kind {
            let names: Vec<String> = serde_json::from_value(field(value, "scaffold")?.clone())
                .map_err(|e| bad(&format!("\"scaffold\": {e}")))?;
            for name in names {
                let t = string_to_bytes(&name)
                    .and_then(|bytes| index.get(&bytes).copied())
                    .ok_or_else(|| bad(&format!("scaffold token '{name}' is not a token")))?;
                scaffold[t as usize] = true;
            }
        }
        let tok = BpeTokenizer::from_parts(
            pattern,
            scaffold_kind,
            token_bytes,
            merge_ids,
            scaffold,
            specials[2..].to_vec(),
        )?;
        let declared = field(value, "vocab_size")?.as_u64();
        if declared != Some(tok.learned_size() as u64) {
            return Err(bad(&format!(
                "\"vocab_size\" is {declared:?} but the merges give {} learned tokens (file \
                 truncated or edited?)",
                tok.learned_size()
            )));
        }
        Ok(tok)
    }
}
