use crate::bpe::hash::FastMap;
use crate::bpe::split_specials;
use lmlab_core::tokenizer::mark_unk;
use lmlab_core::vocab::{BOS, EOS, UNK};
use lmlab_core::{Error, Result, Specials, TokenId, Tokenizer, Vocab};
use unicode_normalization::UnicodeNormalization;

/// Id of `<unk>`.
pub(crate) const UNK_ID: TokenId = 0;
/// Id of `<s>`.
pub(crate) const BOS_ID: TokenId = 1;
/// Id of `</s>`, which also stands for the newline.
pub(crate) const EOS_ID: TokenId = 2;

/// Characters over a closed vocabulary.
///
/// **Id layout:** `<unk>` = 0, `<s>` = 1, `</s>` = 2, then the user-given special tokens, then one
/// id per character (most frequent in training first, ties by code point). With `nfc` on, text is
/// NFC-normalized before encoding (so decode gives the NFC form back). Unknown characters become
/// `<unk>` and are counted as out-of-vocabulary; special-token strings in text are ordinary text
/// unless [`CharsTokenizer::set_allow_special`] is on.
#[derive(Clone, Debug)]
pub struct CharsTokenizer {
    pub(crate) vocab: Vocab,
    pub(crate) n_specials: usize,
    pub(crate) nfc: bool,
    ids: FastMap<char, TokenId>,
    allow_special: bool,
}

impl CharsTokenizer {
    /// A tokenizer over `chars` (in id order) with `user_specials` after `<unk>`, `<s>`, `</s>`.
    pub fn new(chars: &[char], user_specials: &[String], nfc: bool) -> Result<CharsTokenizer> {
        crate::bpe::check_specials(user_specials)?;
        if user_specials.iter().any(|s| s == UNK) {
            return Err(Error::invalid("special token '<unk>' is always present"));
        }
        let mut tokens = vec![UNK.to_string(), BOS.to_string(), EOS.to_string()];
        tokens.extend(user_specials.iter().cloned());
        let n_specials = tokens.len();
        let mut ids = FastMap::default();
        for &c in chars {
            if c == '\n' {
                return Err(Error::invalid(
                    "chars tokenizer: the newline is </s>, not a character token",
                ));
            }
            let s = c.to_string();
            if tokens[..n_specials].contains(&s) {
                return Err(Error::invalid(format!(
                    "special token '{s}' collides with the learned character '{s}'; choose \
                     another string for it"
                )));
            }
            if ids.insert(c, tokens.len() as TokenId).is_some() {
                return Err(Error::invalid(format!(
                    "chars tokenizer: character {c:?} is listed twice"
                )));
            }
            tokens.push(s);
        }
        Ok(CharsTokenizer {
            vocab: Vocab::new(tokens),
            n_specials,
            nfc,
            ids,
            allow_special: false,
        })
    }

    /// The characters in id order.
    pub fn chars(&self) -> Vec<char> {
        self.vocab.tokens()[self.n_specials..]
            .iter()
            .map(|s| s.chars().next().expect("one char"))
            .collect()
    }

    /// The user-given special tokens.
    pub fn user_specials(&self) -> &[String] {
        &self.vocab.tokens()[3..self.n_specials]
    }

    /// Whether text is NFC-normalized before encoding.
    pub fn nfc(&self) -> bool {
        self.nfc
    }

    /// Turns recognition of special-token strings in text on or off (default off).
    pub fn set_allow_special(&mut self, allow: bool) {
        self.allow_special = allow;
    }

    /// Appends the ids of `text` (specials recognised when allowed); returns the OOV count and,
    /// given `oov_at`, pushes their positions in `out`.
    fn encode_chars(
        &self,
        text: &str,
        out: &mut Vec<TokenId>,
        mut oov_at: Option<&mut Vec<usize>>,
    ) -> usize {
        let mut plain = |chunk: &str, out: &mut Vec<TokenId>| {
            let start = out.len();
            let oov = self.encode_plain(chunk, out);
            if let Some(at) = oov_at.as_deref_mut().filter(|_| oov > 0) {
                mark_unk(out, start, UNK_ID, at);
            }
            oov
        };
        if !self.allow_special {
            return plain(text, out);
        }
        let names: Vec<&str> = self.vocab.tokens()[..self.n_specials]
            .iter()
            .map(String::as_str)
            .collect();
        let mut oov = 0;
        split_specials(text, &names, |chunk, which| match which {
            Some(k) => out.push(k as TokenId),
            None => oov += plain(chunk, out),
        });
        oov
    }

    fn encode_plain(&self, text: &str, out: &mut Vec<TokenId>) -> usize {
        let mut oov = 0;
        let mut push = |c: char| {
            if c == '\n' {
                out.push(EOS_ID);
            } else if let Some(&id) = self.ids.get(&c) {
                out.push(id);
            } else {
                out.push(UNK_ID);
                oov += 1;
            }
        };
        if self.nfc {
            text.nfc().for_each(&mut push);
        } else {
            text.chars().for_each(&mut push);
        }
        oov
    }
}

impl Tokenizer for CharsTokenizer {
    fn kind(&self) -> &str {
        "chars"
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
        self.encode_chars(text, out, None)
    }

    /// Every `<unk>` of plain text is an OOV; a literal `<unk>` recognised as a special is not.
    fn encode_into_marking_oov(
        &self,
        text: &str,
        out: &mut Vec<TokenId>,
        oov_at: &mut Vec<usize>,
    ) -> usize {
        self.encode_chars(text, out, Some(oov_at))
    }

    fn decode(&self, ids: &[TokenId]) -> String {
        let mut text = String::new();
        for &id in ids {
            match id {
                BOS_ID => {}
                EOS_ID => text.push('\n'),
                UNK_ID => text.push_str(UNK),
                // The user-given special tokens are left out, as the trait asks.
                _ if (id as usize) < self.n_specials => {}
                _ if (id as usize) < self.vocab.len() => text.push_str(self.vocab.token(id)),
                _ => {}
            }
        }
        text
    }

    fn to_json(&self) -> serde_json::Value {
        self.serialize()
    }
}
