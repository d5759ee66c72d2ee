//! Minimal-pair decisions of an lmlab Kneser-Ney model equal those of KenLM's Python module
//! (`full_scores` summed by `math.fsum`, correctly rounded as lmlab's totals, `bos=True, eos=True`) on lmlab's ARPA export of the same model, pair by pair.
//!
//! Needs `../shared` (PTB for training, BLiMP for the pairs) and a python that imports `kenlm`
//! (`LMLAB_PYTHON`, else `python3`); skips, saying so, otherwise.

mod common;

use common::report_skip;
use lmlab_core::model::{encode_corpus, TokenSequence};
use lmlab_core::test_support::python_with;
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_lab::pairs::{read_pairs, score_pairs, MinimalPair, PairOptions};
use lmlab_ngram::{NgramOptions, DEFAULT_FALLBACK};
use lmlab_tokenize::WordsTrainer;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Prints 1 when the good sentence (odd lines) scores strictly higher than the bad one (even
/// lines), else 0, one pair a line.
const DECIDE: &str = r#"
import math, sys, kenlm
model = kenlm.Model(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as f:
    lines = [l.rstrip("\n") for l in f]
def total(s):
    return math.fsum(p for p, _, _ in model.full_scores(s, bos=True, eos=True))
for good, bad in zip(lines[0::2], lines[1::2]):
    print(1 if total(good) > total(bad) else 0)
"#;

/// Paradigms to draw pairs from (agreement, islands, NPIs, argument structure, ellipsis, quantifiers).
const PARADIGMS: &[&str] = &[
    "determiner_noun_agreement_1",
    "regular_plural_subject_verb_agreement_1",
    "adjunct_island",
    "npi_present_1",
    "transitive",
    "ellipsis_n_bar_1",
    "existential_there_quantifiers_1",
];

fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    if dir.join("blimp").is_dir() && dir.join("ptb/ptb.train.txt").is_file() {
        return Some(dir);
    }
    report_skip(&format!("{} has no blimp/ and ptb/", dir.display()));
    None
}

/// KenLM's decisions on `pairs` with the ARPA file `arpa`.
fn kenlm_decisions(python: &str, arpa: &Path, pairs: &[MinimalPair], dir: &Path) -> Vec<bool> {
    let input = dir.join("sentences.txt");
    let lines: Vec<&str> = pairs
        .iter()
        .flat_map(|p| [p.good.as_str(), p.bad.as_str()])
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = Command::new(python)
        .args(["-c", DECIDE])
        .arg(arpa)
        .arg(&input)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "kenlm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l == "1")
        .collect()
}

#[test]
fn blimp_decisions_equal_kenlm_python_on_the_exported_arpa() {
    let Some(data) = shared_dir() else {
        return;
    };
    let Some(python) = python_with("kenlm", "`pip install kenlm`") else {
        return;
    };
    // A small 4-gram: the first 8,000 PTB training sentences.
    let text: String = std::fs::read_to_string(data.join("ptb/ptb.train.txt"))
        .unwrap()
        .lines()
        .take(8000)
        .map(|l| l.trim().to_string() + "\n")
        .collect();
    let tokenizer = WordsTrainer::default().train(&text).unwrap();
    let sequences: Vec<TokenSequence> = encode_corpus(&tokenizer, &text, SequenceMode::Line);
    let options = NgramOptions {
        order: 4,
        discount_fallback: Some(DEFAULT_FALLBACK),
        ..NgramOptions::default()
    };
    let model = lmlab_ngram::train(&sequences, Box::new(tokenizer), &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let arpa = dir.path().join("model.arpa");
    lmlab_ngram::arpa::write_arpa(&model, &arpa).unwrap();

    // 50 pairs of each paradigm, lowercased as PTB (the originals too: OOV-heavy pairs).
    let mut pairs = Vec::new();
    for paradigm in PARADIGMS {
        let file = data.join("blimp").join(format!("{paradigm}.jsonl"));
        let read = read_pairs(&[file]).unwrap();
        pairs.extend(read.iter().take(25).cloned());
        pairs.extend(read.iter().skip(25).take(25).map(|p| MinimalPair {
            good: p.good.to_lowercase(),
            bad: p.bad.to_lowercase(),
            ..p.clone()
        }));
    }
    let theirs = kenlm_decisions(&python, &arpa, &pairs, dir.path());
    assert_eq!(theirs.len(), pairs.len(), "one decision per pair");
    let reloaded = lmlab_ngram::arpa::read_arpa(&arpa).unwrap();
    let models: [(&str, &dyn LanguageModel); 2] =
        [("trained", &model), ("ARPA re-read", &reloaded)];
    for (name, lm) in models {
        let ours = score_pairs(lm, &pairs, PairOptions::default());
        for ((pair, score), kenlm) in pairs.iter().zip(&ours).zip(&theirs) {
            assert_eq!(
                score.correct(),
                *kenlm,
                "{name}: {pair:?}: lmlab {score:?}, kenlm says good wins: {kenlm}"
            );
        }
    }
    let right = theirs.iter().filter(|&&d| d).count();
    eprintln!(
        "{} BLiMP pairs: lmlab and kenlm agree on every decision ({right} right)",
        pairs.len()
    );
}
