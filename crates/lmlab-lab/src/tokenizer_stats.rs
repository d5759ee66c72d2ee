//! How a tokenizer cuts a text: bytes per token, fertility, vocabulary use.

use lmlab_core::corpus::lines_of;
use lmlab_core::vocab::escape_token;
use lmlab_core::Tokenizer;
use serde::Serialize;

/// Unused tokens listed by name (the count covers all of them).
const UNUSED_LISTED: usize = 20;

/// Statistics of one tokenizer on one text (line by line, end tokens not counted).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TokenizerStats {
    /// Tokenizer kind.
    pub kind: String,
    /// Vocabulary size including special tokens.
    pub vocab_size: usize,
    /// UTF-8 bytes of the text without newlines.
    pub bytes: u64,
    /// Tokens produced.
    pub tokens: u64,
    /// Whitespace-separated words.
    pub words: u64,
    /// Tokens mapped to `<unk>`.
    pub oov: u64,
    /// bytes / tokens: higher means a stronger compression.
    pub bytes_per_token: f64,
    /// tokens / words ("fertility").
    pub tokens_per_word: f64,
    /// Distinct token ids used / vocabulary size.
    pub utilisation: f64,
    /// How many vocabulary entries the text never used.
    pub unused_count: usize,
    /// The first unused entries, by id.
    pub unused: Vec<String>,
}

/// Tokenizes `text` line by line and measures the result.
pub fn tokenizer_stats(tokenizer: &dyn Tokenizer, text: &str) -> TokenizerStats {
    let vocab_size = tokenizer.vocab().len();
    let mut used = vec![false; vocab_size];
    let (mut bytes, mut tokens, mut words, mut oov) = (0u64, 0u64, 0u64, 0u64);
    let mut ids = Vec::new();
    for line in lines_of(text) {
        ids.clear();
        oov += tokenizer.encode_into(line, &mut ids) as u64;
        for &id in &ids {
            used[id as usize] = true;
        }
        bytes += line.len() as u64;
        tokens += ids.len() as u64;
        words += line.split_whitespace().count() as u64;
    }
    let unused_ids: Vec<usize> = (0..vocab_size).filter(|&id| !used[id]).collect();
    TokenizerStats {
        kind: tokenizer.kind().to_string(),
        vocab_size,
        bytes,
        tokens,
        words,
        oov,
        bytes_per_token: bytes as f64 / tokens.max(1) as f64,
        tokens_per_word: tokens as f64 / words.max(1) as f64,
        utilisation: (vocab_size - unused_ids.len()) as f64 / vocab_size as f64,
        unused_count: unused_ids.len(),
        unused: unused_ids
            .iter()
            .take(UNUSED_LISTED)
            .map(|&id| escape_token(tokenizer.vocab().token(id as u32)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlab_tokenize::{BytesTokenizer, WordsTrainer};

    #[test]
    fn counts_follow_the_text() {
        let words = WordsTrainer::default().train("a b c\nd\n").unwrap();
        let stats = tokenizer_stats(&words, "a b\nzz a\n");
        assert_eq!(
            (stats.bytes, stats.tokens, stats.words, stats.oov),
            (7, 4, 4, 1)
        );
        assert_eq!(stats.tokens_per_word, 1.0);
        // <unk> a b used; <s> </s> c d unused.
        assert_eq!(stats.unused_count, 4);
        assert_eq!(stats.unused, vec!["<s>", "</s>", "c", "d"]);
        let bytes = tokenizer_stats(&BytesTokenizer::new(), "héllo\n");
        assert_eq!(bytes.bytes_per_token, 1.0);
        assert_eq!(bytes.tokens, 6);
    }
}
