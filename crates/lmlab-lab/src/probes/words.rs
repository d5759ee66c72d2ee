//! Word tokens as `nltk.word_tokenize` makes them (its improved Treebank tokenizer, applied to
//! each sentence of [`super::sentences::sentences`]): quotes become ``` `` ``` and `''`,
//! punctuation, brackets and the sentence-final period are split off, and contractions (`n't`,
//! `'s`, `'ll`, `cannot`, `gonna`, ...) are cut. The rules are NLTK 3.10's, applied in its order;
//! BYOD's word-order probe joins these tokens with spaces after swapping two of them.

use regex::Regex;
use std::sync::LazyLock;

/// A rewrite rule: a pattern and its replacement (`$1`-style groups).
struct Rule(Regex, &'static str);

fn rules(list: &[(&str, &'static str)]) -> Vec<Rule> {
    list.iter()
        .map(|(pattern, replacement)| Rule(Regex::new(pattern).expect("valid rule"), replacement))
        .collect()
}

static STARTING_QUOTES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    rules(&[
        ("([«“‘„]|[`]+)", " $1 "),
        (r#"^""#, "``"),
        ("(``)", " $1 "),
        (r#"([ (\[{<])("|'')"#, "$1 `` "),
    ])
});

static PUNCTUATION: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    rules(&[
        (r#"([^.])(\.)([\])}>"'»”’ ]*)\s*$"#, "$1 $2 $3 "),
        (r"([:,])([^\d])", " $1 $2"),
        (r"([:,])$", " $1 "),
        (r"\.{2,}", " $0 "),
        (r"[;@#$%&]", " $0 "),
        ("[\u{2012}-\u{2015}]", " $0 "),
        (r"[?!]", " $0 "),
        (r"([^'])' ", "$1 ' "),
        (r"[*]", " $0 "),
        (r"[\]\[(){}<>]", " $0 "),
        ("--", " -- "),
    ])
});

static ENDING_QUOTES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    rules(&[
        ("([»”’])", " $1 "),
        ("''", " '' "),
        ("\"", " '' "),
        (r"\s+", " "),
        ("([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 "),
        ("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 "),
        (r"(?i)\b(can)(not)\b", " $1 $2 "),
        (r"(?i)\b(d)('ye)\b", " $1 $2 "),
        (r"(?i)\b(gim)(me)\b", " $1 $2 "),
        (r"(?i)\b(gon)(na)\b", " $1 $2 "),
        (r"(?i)\b(got)(ta)\b", " $1 $2 "),
        (r"(?i)\b(lem)(me)\b", " $1 $2 "),
        (r"(?i)\b(more)('n)\b", " $1 $2 "),
        (r"(?i)\b(wan)(na)(\s)", " $1 $2 $3"),
        (r"(?i) ('t)(is)\b", " $1 $2 "),
        (r"(?i) ('t)(was)\b", " $1 $2 "),
    ])
});

fn apply(rules: &[Rule], mut text: String) -> String {
    for Rule(pattern, replacement) in rules {
        if let std::borrow::Cow::Owned(changed) = pattern.replace_all(&text, *replacement) {
            text = changed;
        }
    }
    text
}

/// NLTK's opening-apostrophe rule, `(?<!\w)(')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)` → `' `: an
/// apostrophe after a non-word character and before a word that is not a contraction's ending.
fn split_opening_apostrophes(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len() + 8);
    for (k, &c) in chars.iter().enumerate() {
        out.push(c);
        if c != '\'' || (k > 0 && is_word(chars[k - 1])) {
            continue;
        }
        if !chars.get(k + 1).is_some_and(|&n| is_word(n)) {
            continue;
        }
        let ending = ["re", "ve", "ll", "m", "t", "s", "d", "n"]
            .iter()
            .any(|suffix| {
                let n = suffix.len();
                let follows = chars
                    .get(k + 1..k + 1 + n)
                    .is_some_and(|w| w.iter().collect::<String>().eq_ignore_ascii_case(suffix));
                follows && !chars.get(k + 1 + n).is_some_and(|&c| is_word(c))
            });
        if !ending {
            out.push(' ');
        }
    }
    out
}

/// The Treebank tokens of one sentence.
fn sentence_tokens(sentence: &str) -> Vec<String> {
    let text = apply(&STARTING_QUOTES, sentence.to_string());
    let text = split_opening_apostrophes(&text);
    let text = apply(&PUNCTUATION, text);
    let text = apply(&ENDING_QUOTES, format!(" {text} "));
    text.split_whitespace().map(str::to_string).collect()
}

/// `nltk.word_tokenize(text)`: the tokens of each sentence in turn.
pub fn word_tokens(text: &str) -> Vec<String> {
    super::sentences::sentences(text)
        .into_iter()
        .flat_map(sentence_tokens)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_quotes_and_contractions_are_split() {
        assert_eq!(
            word_tokens("\"I can't go,\" she said (twice); they're gonna wait."),
            vec![
                "``", "I", "ca", "n't", "go", ",", "''", "she", "said", "(", "twice", ")", ";",
                "they", "'re", "gon", "na", "wait", "."
            ]
        );
        assert_eq!(
            word_tokens("It costs 3,000 dollars."),
            vec!["It", "costs", "3,000", "dollars", "."]
        );
        assert_eq!(
            word_tokens("'Tis the season"),
            vec!["'", "Tis", "the", "season"]
        );
    }
}
