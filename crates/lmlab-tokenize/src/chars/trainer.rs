use super::model::CharsTokenizer;
use lmlab_core::Error;
use lmlab_core::Result;
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

/// Builds a chars vocabulary from training text.
#[derive(Clone, Debug, Default)]
pub struct CharsTrainer {
    /// Keep at most this many characters (most frequent first, ties by code point).
    pub max_chars: Option<usize>,
    /// Keep only characters seen at least this often (0 and 1 keep every one).
    pub min_count: u64,
    /// NFC-normalize training text and, later, encoded text.
    pub nfc: bool,
    /// Special tokens beyond `<unk>`, `<s>`, `</s>`.
    pub specials: Vec<String>,
}

impl CharsTrainer {
    /// Counts the characters of `texts` (the newline, which is `</s>`, excluded).
    pub fn train(&self, texts: &[&str]) -> Result<CharsTokenizer> {
        if texts.iter().all(|t| t.trim().is_empty()) {
            return Err(Error::invalid(
                "the training text is empty or only white space: nothing to learn from",
            ));
        }
        let mut counts: HashMap<char, u64> = HashMap::new();
        for text in texts {
            if self.nfc {
                text.nfc().for_each(|c| *counts.entry(c).or_default() += 1);
            } else {
                text.chars()
                    .for_each(|c| *counts.entry(c).or_default() += 1);
            }
        }
        counts.remove(&'\n');
        let mut chars: Vec<(char, u64)> = counts
            .into_iter()
            .filter(|&(_, n)| n >= self.min_count)
            .collect();
        chars.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if let Some(max) = self.max_chars {
            chars.truncate(max);
        }
        let chars: Vec<char> = chars.into_iter().map(|(c, _)| c).collect();
        CharsTokenizer::new(&chars, &self.specials, self.nfc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlab_core::Tokenizer;

    #[test]
    fn id_layout_and_limits() {
        let text = "abcab a\nb";
        let tok = CharsTrainer::default().train(&[text]).unwrap();
        // <unk>, <s>, </s>, then by count: a (3), b (3), ' ' (2), c (1); the newline is </s>.
        assert_eq!(&tok.vocab().tokens()[3..], &["a", "b", " ", "c"]);
        assert_eq!(tok.encode("ab\nz"), vec![3, 4, 2, 0]);
        assert_eq!(tok.decode(&[1, 3, 2, 0]), "a\n<unk>");
        let small = CharsTrainer {
            max_chars: Some(2),
            ..CharsTrainer::default()
        }
        .train(&[text])
        .unwrap();
        assert_eq!(small.vocab().len(), 5);
        let frequent = CharsTrainer {
            min_count: 3,
            ..CharsTrainer::default()
        }
        .train(&[text])
        .unwrap();
        assert_eq!(&frequent.vocab().tokens()[3..], &["a", "b"]);
    }
}
