//! The hand-written pre-tokenizers give exactly the matches of their regular expressions (as
//! `fancy-regex` finds them) on the test files and on random text mixing every character class.

mod common;

use common::report_skip;
use lmlab_tokenize::bpe::PreTokenizerPattern;
use std::path::PathBuf;
use std::sync::OnceLock;

fn regex_pieces(re: &fancy_regex::Regex, text: &str) -> Vec<String> {
    re.find_iter(text)
        .map(|m| m.unwrap().as_str().to_string())
        .collect()
}

fn regex(pattern: PreTokenizerPattern) -> &'static fancy_regex::Regex {
    static GPT2: OnceLock<fancy_regex::Regex> = OnceLock::new();
    static CL100K: OnceLock<fancy_regex::Regex> = OnceLock::new();
    let cell = match pattern {
        PreTokenizerPattern::Gpt2 => &GPT2,
        PreTokenizerPattern::Cl100k => &CL100K,
    };
    cell.get_or_init(|| fancy_regex::Regex::new(pattern.regex()).unwrap())
}

fn check(pattern: PreTokenizerPattern, text: &str) {
    let expected = regex_pieces(regex(pattern), text);
    let got: Vec<String> = pattern.pieces(text).into_iter().map(String::from).collect();
    if got != expected {
        let i = got.iter().zip(&expected).position(|(a, b)| a != b);
        panic!(
            "{pattern:?} differs on {text:?} at piece {i:?}: got {:?}, regex {:?}",
            &got[i.unwrap_or(0).saturating_sub(2)..(i.unwrap_or(0) + 3).min(got.len())],
            &expected[i.unwrap_or(0).saturating_sub(2)..(i.unwrap_or(0) + 3).min(expected.len())]
        );
    }
}

/// A tiny deterministic generator (xorshift), so the test needs no extra crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn hand_written_scanners_equal_the_regexes_on_random_text() {
    let alphabet: Vec<char> = " \t\n\r\u{a0}\u{3000}\u{2028}aZzéß漢字ـשׁ\u{301}\u{94d}0795٣²½Ⅻ'\"!?.,-_()<>|sStTdDmMlLvVeErRſ🦀👍🏽\u{200d}\u{fe0f}"
        .chars()
        .collect();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..3000 {
        let len = (rng.next() % 24) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
            .collect();
        check(PreTokenizerPattern::Gpt2, &text);
        check(PreTokenizerPattern::Cl100k, &text);
    }
}

#[test]
fn hand_written_scanners_equal_the_regexes_on_the_test_files() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    if !dir.is_dir() {
        report_skip("shared/data not found next to the repository");
        return;
    }
    for file in [
        "tinystories/valid-slice.txt",
        "ptb/ptb.test.txt",
        "shakespeare/input.txt",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let mut end = text.len().min(200_000);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        for chunk in text[..end].split_inclusive('\n') {
            check(PreTokenizerPattern::Gpt2, chunk);
            check(PreTokenizerPattern::Cl100k, chunk);
        }
    }
}
