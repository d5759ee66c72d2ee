//! An ARPA file written by lmlab loads in KenLM's Python module (`pip install kenlm`) and gives
//! lmlab's per-token log10 probabilities (within 1e-4) through `kenlm.Model(path).full_scores`.
//!
//! The interpreter is `LMLAB_PYTHON` (`.ci/run` sets it to a venv with kenlm), else `python3`.
//! With `LMLAB_PYTHON` set, a missing `kenlm` module fails the test; without it, the test skips.

mod common;

use common::{shared, synthetic_corpus, train_text};
use lmlab_core::LanguageModel;
use lmlab_ngram::{NgramOptions, DEFAULT_FALLBACK};
use std::process::Command;

const SCORE: &str = r#"
import sys, kenlm
model = kenlm.Model(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as f:
    for line in f:
        scores = [s for s, _, _ in model.full_scores(line.rstrip("\n"), bos=True, eos=True)]
        print(" ".join(repr(s) for s in scores))
"#;

/// The interpreter to use, or `None` (after a message) when the test should skip.
fn python_with_kenlm() -> Option<String> {
    lmlab_core::test_support::python_with(
        "kenlm",
        "install it with `pip install kenlm` (or \
         `pip install https://github.com/kpu/kenlm/archive/master.zip`)",
    )
}

#[test]
fn arpa_written_by_lmlab_scores_the_same_in_kenlm_python() {
    let Some(python) = python_with_kenlm() else {
        return;
    };
    // ptb1k (order 4, KenLM's own fixture corpus) when ../shared is there; a synthetic corpus
    // otherwise.
    let text = shared()
        .and_then(|s| std::fs::read_to_string(s.join("fixtures/kenlm/small/ptb1k.txt")).ok())
        .unwrap_or_else(|| synthetic_corpus(600, 80, 5));
    let options = NgramOptions {
        order: 4,
        discount_fallback: Some(DEFAULT_FALLBACK),
        ..NgramOptions::default()
    };
    let model = train_text(&text, &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let arpa = dir.path().join("model.arpa");
    lmlab_ngram::arpa::write_arpa(&model, &arpa).unwrap();

    // Training lines, lines cut and shuffled, unseen words, and an empty line.
    let mut sentences: Vec<String> = text.lines().take(40).map(str::to_string).collect();
    sentences.extend(text.lines().skip(40).take(20).map(|l| {
        let mut words: Vec<&str> = l.split_whitespace().collect();
        words.reverse();
        words.join(" ")
    }));
    sentences.push("zzunseen the zzother of".to_string());
    sentences.push(String::new());
    let sentences: Vec<String> = sentences
        .iter()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let input = dir.path().join("sentences.txt");
    std::fs::write(&input, sentences.join("\n") + "\n").unwrap();

    let out = Command::new(&python)
        .args(["-c", SCORE])
        .arg(&arpa)
        .arg(&input)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "kenlm could not load or score lmlab's ARPA: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let theirs: Vec<&str> = stdout.lines().collect();
    assert_eq!(theirs.len(), sentences.len(), "one score line per sentence");

    let tokenizer = model.tokenizer();
    let eos = tokenizer.specials().eos;
    let mut scorer = model.ngram_scorer();
    let (mut worst, mut tokens) = (0f64, 0usize);
    for (sentence, line) in sentences.iter().zip(&theirs) {
        let kenlm: Vec<f64> = line
            .split_whitespace()
            .map(|s| s.parse().unwrap())
            .collect();
        let mut ids = tokenizer.encode(sentence);
        ids.push(eos);
        assert_eq!(ids.len(), kenlm.len(), "token count of {sentence:?}");
        scorer.reset();
        for (&id, &k) in ids.iter().zip(&kenlm) {
            let ours = scorer.score_next_log10(id) as f64;
            let diff = (ours - k).abs();
            assert!(
                diff <= 1e-4,
                "{sentence:?}: lmlab {ours} vs kenlm {k} (token id {id})"
            );
            worst = worst.max(diff);
            tokens += 1;
        }
    }
    eprintln!("kenlm (Python) on lmlab's ARPA: {tokens} tokens, max |Δ log10 p| = {worst:.2e}");
}
