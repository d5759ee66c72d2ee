//! Pre-tokenization: the split of text into pieces that BPE merges never cross. Two patterns, each
//! hand-written as a single left-to-right scan that gives exactly the matches of its regular
//! expression (tested against `fancy-regex` on every test file and on random text):
//!
//! * [`PreTokenizerPattern::Gpt2`] (GPT-2, Hugging Face `ByteLevel(use_regex=True)`):
//!   `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
//! * [`PreTokenizerPattern::Cl100k`] (tiktoken's cl100k_base):
//!   `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`
//!
//! `\p{L}`, `\p{N}` and `\s` (Unicode White_Space) come from `regex-syntax`'s Unicode tables.

use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Which pre-tokenization regex BPE uses (`gpt2` or `cl100k` in files).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PreTokenizerPattern {
    /// GPT-2's pattern (the Hugging Face ByteLevel default). The default.
    #[default]
    Gpt2,
    /// tiktoken's cl100k_base pattern (case-insensitive contractions, digits in groups of 1–3).
    Cl100k,
}

/// The GPT-2 regular expression, as Hugging Face's ByteLevel pre-tokenizer writes it.
pub const GPT2_REGEX: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
/// The cl100k_base regular expression.
pub const CL100K_REGEX: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+";

impl PreTokenizerPattern {
    /// The name used in files and on the command line (`gpt2`, `cl100k`).
    pub fn name(self) -> &'static str {
        match self {
            PreTokenizerPattern::Gpt2 => "gpt2",
            PreTokenizerPattern::Cl100k => "cl100k",
        }
    }

    /// The pattern called `name`.
    pub fn from_name(name: &str) -> Result<PreTokenizerPattern> {
        match name {
            "gpt2" => Ok(PreTokenizerPattern::Gpt2),
            "cl100k" => Ok(PreTokenizerPattern::Cl100k),
            other => Err(Error::invalid(format!(
                "unknown pre-tokenizer pattern '{other}' (known: gpt2, cl100k)"
            ))),
        }
    }

    /// The regular expression this pattern implements.
    pub fn regex(self) -> &'static str {
        match self {
            PreTokenizerPattern::Gpt2 => GPT2_REGEX,
            PreTokenizerPattern::Cl100k => CL100K_REGEX,
        }
    }

    /// Calls `f` with each piece of `text`, in order; the pieces concatenate to `text`.
    pub fn split<'a>(self, text: &'a str, f: impl FnMut(&'a str)) {
        match self {
            PreTokenizerPattern::Gpt2 => split_gpt2(text, f),
            PreTokenizerPattern::Cl100k => split_cl100k(text, f),
        }
    }

    /// The pieces of `text` as a vector (for tests and tools; encoding uses [`Self::split`]).
    pub fn pieces(self, text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        self.split(text, |p| out.push(p));
        out
    }
}

const LETTER: u8 = 1;
const NUMBER: u8 = 2;
const SPACE: u8 = 4;
/// Neither letter, number nor white space.
const OTHER: u8 = 0;

/// Class of every Unicode scalar value, one byte each (1.1 MB, built once from regex-syntax).
fn class_table() -> &'static [u8] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![OTHER; 0x11_0000];
        for (pattern, class) in [(r"\p{L}", LETTER), (r"\p{N}", NUMBER), (r"\s", SPACE)] {
            for (lo, hi) in unicode_ranges(pattern) {
                for cp in lo..=hi {
                    table[cp as usize] |= class;
                }
            }
        }
        table
    })
}

fn unicode_ranges(pattern: &str) -> Vec<(u32, u32)> {
    use regex_syntax::hir::{Class, HirKind};
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .expect("built-in class parses");
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => class
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        _ => unreachable!("{pattern} is a Unicode class"),
    }
}

/// A scanner over a string that reads one character and its class at a byte position.
struct Scan<'a> {
    text: &'a str,
    bytes: &'a [u8],
    table: &'static [u8],
}

impl<'a> Scan<'a> {
    fn new(text: &'a str) -> Self {
        Scan {
            text,
            bytes: text.as_bytes(),
            table: class_table(),
        }
    }

    /// The character at byte `i` (a char boundary below the length), its class and its length.
    #[inline]
    fn at(&self, i: usize) -> (char, u8, usize) {
        let b = self.bytes[i];
        if b < 0x80 {
            (b as char, self.table[b as usize], 1)
        } else {
            let c = self.text[i..].chars().next().expect("char boundary");
            (c, self.table[c as usize], c.len_utf8())
        }
    }

    #[inline]
    fn class_at(&self, i: usize) -> Option<u8> {
        (i < self.bytes.len()).then(|| self.at(i).1)
    }

    /// End of the run of characters from `i` for which `keep(class)` holds.
    #[inline]
    fn run(&self, mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
        while i < self.bytes.len() {
            let (_, class, len) = self.at(i);
            if !keep(class) {
                break;
            }
            i += len;
        }
        i
    }

    /// Start of the character that ends at `end` (`end` > 0, a char boundary).
    #[inline]
    fn prev_start(&self, end: usize) -> usize {
        let mut j = end - 1;
        while !self.text.is_char_boundary(j) {
            j -= 1;
        }
        j
    }

    /// `\s+(?!\S)|\s+` at `i` (a white-space character): the run, less its last character when the
    /// run is followed by a non-space and is longer than one character.
    #[inline]
    fn spaces(&self, i: usize) -> usize {
        let end = self.run(i, |c| c == SPACE);
        if end == self.bytes.len() {
            return end;
        }
        let last = self.prev_start(end);
        if last > i {
            last
        } else {
            end
        }
    }
}

fn split_gpt2<'a>(text: &'a str, mut f: impl FnMut(&'a str)) {
    let scan = Scan::new(text);
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        let (c, class, len) = scan.at(i);
        let end = if c == '\'' && gpt2_contraction(&bytes[i + 1..]) > 0 {
            i + 1 + gpt2_contraction(&bytes[i + 1..])
        } else {
            // ` ?X+` for X in letters, numbers, others: a space joins a following non-space.
            let (body, kind) = match (c, scan.class_at(i + len)) {
                (' ', Some(next)) if next != SPACE => (i + 1, next),
                _ => (i, class),
            };
            match kind {
                SPACE => scan.spaces(i),
                LETTER | NUMBER => scan.run(body, |k| k == kind),
                _ => scan.run(body, |k| k == OTHER),
            }
        };
        f(&text[i..end]);
        i = end;
    }
}

/// Length of the GPT-2 contraction after an apostrophe (`s t re ve m ll d`), or 0.
#[inline]
fn gpt2_contraction(rest: &[u8]) -> usize {
    match rest {
        [b'r', b'e', ..] | [b'v', b'e', ..] | [b'l', b'l', ..] => 2,
        [b's' | b't' | b'm' | b'd', ..] => 1,
        _ => 0,
    }
}

/// Length of the cl100k contraction after an apostrophe (case-insensitive `s d m t ll ve re`;
/// Unicode case folding makes `ſ` (U+017F) an `s` too), or 0.
#[inline]
fn cl100k_contraction(rest: &str) -> usize {
    let mut chars = rest.chars();
    let first = chars.next();
    let second = chars.next().map(|c| c.to_ascii_lowercase());
    match (first.map(|c| c.to_ascii_lowercase()), second) {
        (Some('l'), Some('l')) | (Some('v'), Some('e')) | (Some('r'), Some('e')) => 2,
        (Some('s' | 'd' | 'm' | 't'), _) => 1,
        (Some('\u{17F}'), _) => '\u{17F}'.len_utf8(),
        _ => 0,
    }
}

fn split_cl100k<'a>(text: &'a str, mut f: impl FnMut(&'a str)) {
    let scan = Scan::new(text);
    let bytes = text.as_bytes();
    let n = bytes.len();
    let is_newline = |i: usize| bytes[i] == b'\r' || bytes[i] == b'\n';
    let mut i = 0;
    while i < n {
        let (c, class, len) = scan.at(i);
        let end = 'piece: {
            if c == '\'' {
                let k = cl100k_contraction(&text[i + 1..]);
                if k > 0 {
                    break 'piece i + 1 + k;
                }
            }
            // [^\r\n\p{L}\p{N}]?+\p{L}+
            if class == LETTER {
                break 'piece scan.run(i, |k| k == LETTER);
            }
            if class != NUMBER && c != '\r' && c != '\n' && scan.class_at(i + len) == Some(LETTER) {
                break 'piece scan.run(i + len, |k| k == LETTER);
            }
            // \p{N}{1,3}
            if class == NUMBER {
                let mut j = i;
                for _ in 0..3 {
                    match scan.class_at(j) {
                        Some(NUMBER) => j += scan.at(j).2,
                        _ => break,
                    }
                }
                break 'piece j;
            }
            // ` ?[^\s\p{L}\p{N}]++[\r\n]*`
            let body = match (c, scan.class_at(i + len)) {
                (' ', Some(OTHER)) => Some(i + 1),
                _ if class == OTHER => Some(i),
                _ => None,
            };
            if let Some(body) = body {
                let mut j = scan.run(body, |k| k == OTHER);
                while j < n && is_newline(j) {
                    j += 1;
                }
                break 'piece j;
            }
            // Here c is white space. `\s*[\r\n]`: up to the last newline of the run.
            let run_end = scan.run(i, |k| k == SPACE);
            if let Some(last) = (i..run_end).rev().find(|&j| is_newline(j)) {
                break 'piece last + 1;
            }
            scan.spaces(i)
        };
        f(&text[i..end]);
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_examples() {
        let p = PreTokenizerPattern::Gpt2;
        assert_eq!(
            p.pieces("Hello world's  end!!\n\n  x 12 ab"),
            vec!["Hello", " world", "'s", " ", " end", "!!", "\n\n ", " x", " 12", " ab"]
        );
        assert_eq!(p.pieces("a \t\nb  "), vec!["a", " \t", "\n", "b", "  "]);
    }

    #[test]
    fn cl100k_examples() {
        let p = PreTokenizerPattern::Cl100k;
        assert_eq!(
            p.pieces("Hello WORLD'S 12345 (x)!\n\n  y"),
            vec!["Hello", " WORLD", "'S", " ", "123", "45", " (", "x", ")!\n\n", " ", " y"]
        );
    }
}
