//! Token ids and vocabularies.

mod index;

use index::TokenIndex;

/// A token id: an index into a [`Vocab`].
pub type TokenId = u32;

/// The special tokens every tokenizer defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Specials {
    /// Start of sequence: context only, never predicted.
    pub bos: TokenId,
    /// End of sequence: predicted and counted.
    pub eos: TokenId,
    /// The unknown token, for tokenizers with a closed vocabulary.
    pub unk: Option<TokenId>,
}

/// The literal strings of the special tokens.
pub const BOS: &str = "<s>";
/// End-of-sequence token string.
pub const EOS: &str = "</s>";
/// Unknown-token string.
pub const UNK: &str = "<unk>";

/// A bidirectional map between token strings and ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vocab {
    tokens: Vec<String>,
    index: TokenIndex,
}

impl Vocab {
    /// A vocabulary of `tokens` in id order. Duplicate strings keep their first id.
    pub fn new(tokens: Vec<String>) -> Vocab {
        let index = TokenIndex::new(&tokens);
        Vocab { tokens, index }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when the vocabulary has no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of `token`, if present.
    #[inline]
    pub fn id(&self, token: &str) -> Option<TokenId> {
        self.index.get(token.as_bytes())
    }

    /// The id of each of `text`'s words (exactly [`str::split_whitespace`]'s), in order, passed to
    /// `each` (`None` for a word outside the vocabulary). The same ids as [`Vocab::id`] word by
    /// word, found faster in ASCII text ([`TokenIndex`]).
    pub fn word_ids(&self, text: &str, each: impl FnMut(Option<TokenId>)) {
        self.index.word_ids(text, each)
    }

    /// The string of `id` (panics on an id outside the vocabulary: ids come from this vocabulary).
    pub fn token(&self, id: TokenId) -> &str {
        &self.tokens[id as usize]
    }

    /// All token strings in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
}

/// Makes a token string safe for one tab-separated field: backslash, tab, newline and carriage return
/// are escaped (`\\`, `\t`, `\n`, `\r`), and a space is written `\s` so fields never gain or lose blanks.
pub fn escape_token(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for c in token.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ' ' => out.push_str("\\s"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_finds_every_token_keeps_first_duplicates_and_misses_others() {
        let tokens: Vec<String> = (0..5000)
            .map(|i| format!("w{i}"))
            .chain(["w7".to_string(), String::new(), "é".to_string()])
            .collect();
        let vocab = Vocab::new(tokens);
        for i in 0..5000 {
            assert_eq!(vocab.id(&format!("w{i}")), Some(i));
        }
        assert_eq!(vocab.id("w7"), Some(7), "a duplicate keeps its first id");
        assert_eq!(vocab.id(""), Some(5001));
        assert_eq!(vocab.id("é"), Some(5002));
        for missing in ["w5000", "w", "x", "w07", "é "] {
            assert_eq!(vocab.id(missing), None, "{missing}");
        }
        assert_eq!(Vocab::default().id("a"), None);
        assert_eq!(Vocab::new(Vec::new()).id(""), None);
    }

    #[test]
    fn ids_and_strings_round_trip() {
        let vocab = Vocab::new(vec!["<unk>".into(), "a".into(), "b".into()]);
        assert_eq!(vocab.id("b"), Some(2));
        assert_eq!(vocab.token(1), "a");
        assert_eq!(vocab.id("c"), None);
        assert_eq!(vocab.len(), 3);
    }

    #[test]
    fn escaping_keeps_fields_whitespace_free() {
        assert_eq!(escape_token("a b\t\\\n"), "a\\sb\\t\\\\\\n");
    }
}
