//! Exactness against the shared fixtures: Hugging Face's BPE merges and the Scaffold-BPE oracle.

mod common;

use common::report_skip;
use lmlab_tokenize::bpe::{BpeTokenizer, BpeTrainer};
use lmlab_tokenize::Tokenizer;
use std::path::PathBuf;
use std::time::Instant;

fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"));
    if dir.join("fixtures/tokenizers").is_dir() {
        Some(dir)
    } else {
        report_skip("shared/fixtures/tokenizers not found next to the repository");
        None
    }
}

fn read(dir: &std::path::Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

fn train(dir: &std::path::Path, scaffold: bool) -> BpeTokenizer {
    let text = read(dir, "data/tinystories/train-slice.txt");
    let start = Instant::now();
    let tok = BpeTrainer {
        vocab_size: 2000,
        scaffold,
        ..BpeTrainer::default()
    }
    .train(&[&text])
    .unwrap();
    eprintln!(
        "trained {} on train-slice in {:.3} s",
        tok.kind(),
        start.elapsed().as_secs_f64()
    );
    tok
}

fn count_lines(tok: &BpeTokenizer, text: &str) -> usize {
    let start = Instant::now();
    let mut ids = Vec::new();
    for line in text.split_inclusive('\n') {
        tok.encode_into(line, &mut ids);
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "encoded {} bytes into {} tokens in {secs:.3} s ({:.1} MB/s)",
        text.len(),
        ids.len(),
        text.len() as f64 / secs / 1e6
    );
    ids.len()
}

#[test]
fn bpe_equals_hugging_face_merges_and_counts() {
    let Some(dir) = shared() else { return };
    let hf: serde_json::Value = serde_json::from_str(&read(
        &dir,
        "fixtures/tokenizers/tinystories.n2000.hf-tokenizer.json",
    ))
    .unwrap();
    let expected: Vec<(String, String)> =
        serde_json::from_value(hf["model"]["merges"].clone()).unwrap();
    assert_eq!(expected.len(), 1744);
    let tok = train(&dir, false);
    let merges = tok.merges();
    let first_diff = merges.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "first differing merge");
    assert_eq!(merges.len(), expected.len());
    // The learned ids are Hugging Face's ids.
    let hf_vocab = hf["model"]["vocab"].as_object().unwrap();
    for (string, id) in hf_vocab {
        assert_eq!(
            tok.vocab().id(string),
            Some(id.as_u64().unwrap() as u32),
            "{string}"
        );
    }
    let valid = read(&dir, "data/tinystories/valid-slice.txt");
    assert_eq!(count_lines(&tok, &valid), 220_260);
    assert_eq!(tok.decode(&tok.encode(&valid)), valid);
}

#[test]
fn scaffold_bpe_equals_the_oracle() {
    let Some(dir) = shared() else { return };
    let oracle: serde_json::Value = serde_json::from_str(&read(
        &dir,
        "fixtures/tokenizers/tinystories.n2000.scaffold.json",
    ))
    .unwrap();
    let tok = train(&dir, true);
    let oracle_tokens: Vec<String> = serde_json::from_value(oracle["tokens"].clone()).unwrap();
    assert_eq!(tok.expanded_tokens(), oracle_tokens);
    let expected: Vec<(String, String)> = oracle["merges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let id = |k: usize| oracle_tokens[m[k].as_u64().unwrap() as usize].clone();
            (id(0), id(1))
        })
        .collect();
    let merges = tok.merges();
    let first_diff = merges.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "first differing merge");
    assert_eq!(merges.len(), 2167);
    let scaffold: Vec<String> = oracle["scaffold"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| oracle_tokens[t.as_u64().unwrap() as usize].clone())
        .collect();
    assert_eq!(tok.scaffold_tokens(), scaffold);
    assert_eq!(tok.learned_size(), 2000);
    let valid = read(&dir, "data/tinystories/valid-slice.txt");
    assert_eq!(count_lines(&tok, &valid), 217_377);
    let before: usize = valid
        .split_inclusive('\n')
        .map(|line| tok.encode_expanded(line).len())
        .sum();
    assert_eq!(before, 214_249);
    assert_eq!(tok.decode(&tok.encode(&valid)), valid);
}
