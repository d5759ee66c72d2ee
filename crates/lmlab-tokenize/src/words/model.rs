use lmlab_core::vocab::{BOS, EOS, UNK};
use lmlab_core::{Specials, TokenId, Tokenizer, Vocab};

/// Id of `<unk>` in every words vocabulary.
pub(crate) const UNK_ID: TokenId = 0;
/// Id of `<s>`.
pub(crate) const BOS_ID: TokenId = 1;
/// Id of `</s>`.
pub(crate) const EOS_ID: TokenId = 2;

/// Whitespace-split words over a closed vocabulary: `<unk>` = 0, `<s>` = 1, `</s>` = 2, then words.
#[derive(Clone, Debug, PartialEq)]
pub struct WordsTokenizer {
    pub(crate) vocab: Vocab,
}

impl WordsTokenizer {
    /// A tokenizer over `words` (specials are added in front; duplicates and specials are dropped).
    pub fn from_words<I: IntoIterator<Item = String>>(words: I) -> WordsTokenizer {
        let mut tokens = vec![UNK.to_string(), BOS.to_string(), EOS.to_string()];
        let mut seen: std::collections::HashSet<String> = tokens.iter().cloned().collect();
        for word in words {
            if seen.insert(word.clone()) {
                tokens.push(word);
            }
        }
        WordsTokenizer {
            vocab: Vocab::new(tokens),
        }
    }
}

impl WordsTokenizer {
    /// Appends the ids of `text`'s words; returns the OOV count and, given `oov_at`, pushes their
    /// positions in `out`.
    fn encode_words(
        &self,
        text: &str,
        out: &mut Vec<TokenId>,
        mut oov_at: Option<&mut Vec<usize>>,
    ) -> usize {
        let mut oov = 0;
        self.vocab.word_ids(text, |id| match id {
            // `<s>` and `</s>` inside text are not words: they are unknown.
            Some(id) if id != BOS_ID && id != EOS_ID => out.push(id),
            _ => {
                if let Some(at) = oov_at.as_deref_mut() {
                    at.push(out.len());
                }
                out.push(UNK_ID);
                oov += 1;
            }
        });
        oov
    }
}

impl Tokenizer for WordsTokenizer {
    fn kind(&self) -> &str {
        "words"
    }

    fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    fn specials(&self) -> Specials {
        Specials {
            bos: BOS_ID,
            eos: EOS_ID,
            unk: Some(UNK_ID),
        }
    }

    fn encode_into(&self, text: &str, out: &mut Vec<TokenId>) -> usize {
        self.encode_words(text, out, None)
    }

    /// A literal `<unk>` in the text is the closed vocabulary's unknown word, not an OOV: only words
    /// outside the vocabulary are marked.
    fn encode_into_marking_oov(
        &self,
        text: &str,
        out: &mut Vec<TokenId>,
        oov_at: &mut Vec<usize>,
    ) -> usize {
        self.encode_words(text, out, Some(oov_at))
    }

    fn decode(&self, ids: &[TokenId]) -> String {
        let mut text = String::new();
        let mut line_start = true;
        for &id in ids {
            match id {
                BOS_ID => {}
                EOS_ID => {
                    text.push('\n');
                    line_start = true;
                }
                _ => {
                    if !line_start {
                        text.push(' ');
                    }
                    text.push_str(self.vocab.token(id));
                    line_start = false;
                }
            }
        }
        text
    }

    fn to_json(&self) -> serde_json::Value {
        self.serialize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_unk_is_the_unknown_word_and_unseen_words_are_oov() {
        let tok = WordsTokenizer::from_words(["the".to_string(), "cat".to_string()]);
        let mut ids = Vec::new();
        let oov = tok.encode_into("the <unk> cat dog </s>", &mut ids);
        assert_eq!(ids, vec![3, UNK_ID, 4, UNK_ID, UNK_ID]);
        assert_eq!(oov, 2);
        assert_eq!(tok.decode(&[BOS_ID, 3, 4, EOS_ID, 4]), "the cat\ncat");
    }
}
