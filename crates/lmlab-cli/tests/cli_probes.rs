//! `lmlab eval-probes`: BYOD's self-supervised probes on a small text, `--json`, and texts too
//! short for a probe.

mod common;
use common::{fails, ok, s, texts};
use std::path::{Path, PathBuf};

/// The documents BYOD's fixture was made from: two of over 100 words, several of over 20, and
/// sentences with is/was/are/were.
fn probe_text() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../lmlab-lab/tests/fixtures/byod/inputs.txt")
}

/// A baseline over `tokenizer`, trained on the common texts plus the probe text (so that its
/// words are known).
fn model(dir: &Path, tokenizer: &str) -> PathBuf {
    let (train, _) = texts(dir);
    let mut body = std::fs::read_to_string(&train).unwrap();
    body.push_str(&std::fs::read_to_string(probe_text()).unwrap());
    let corpus = dir.join("corpus.txt");
    std::fs::write(&corpus, body).unwrap();
    let model = dir.join(format!("{tokenizer}.lmlab"));
    ok(&[
        "train",
        "baseline",
        "--input",
        s(&corpus),
        "--tokenizer",
        tokenizer,
        "-o",
        s(&model),
    ]);
    model
}

fn json(model: &Path, input: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["eval-probes", s(model), "--input", s(input), "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(&args)).unwrap()
}

#[test]
fn the_four_probes_score_a_text_and_toxicity_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path(), "words");
    let v = json(&model, &probe_text(), &[]);
    assert_eq!(v["documents"], 9);
    assert_eq!(v["settings"]["seed"], 42);
    // The example counts of BYOD's own transformations on this text (fixture.json).
    for (probe, statistic, examples) in [
        ("negation", "mean", 28),
        ("word_order", "median", 6),
        ("long_range", "mean", 4),
        ("tokenization", "mean", 39),
    ] {
        let p = &v[probe];
        assert_eq!(p["status"], "scored", "{probe}: {p}");
        assert_eq!(p["statistic"], statistic);
        assert_eq!(p["examples"], examples, "{probe}");
        assert_eq!(p["scores"].as_array().unwrap().len(), examples);
        assert!(p["score"].as_f64().unwrap().is_finite());
        assert!(p["std_error"].as_f64().unwrap() >= 0.0);
    }
    for probe in ["word_order", "long_range", "tokenization"] {
        let scores = v[probe]["scores"].as_array().unwrap();
        assert!(
            scores
                .iter()
                .all(|x| (0.0..=std::f64::consts::LN_2).contains(&x.as_f64().unwrap())),
            "a JSD lies in [0, ln 2]: {probe}"
        );
    }
    assert!(
        v["long_range"]["score"].as_f64().unwrap() > 0.0,
        "a bigram model still sees the sentence just before the last one change"
    );
    assert_eq!(v["toxicity"]["status"], "not_applicable");
    assert!(v["toxicity"]["reason"]
        .as_str()
        .unwrap()
        .contains("left out"));

    assert_eq!(
        v,
        json(&model, &probe_text(), &[]),
        "same output on every run"
    );
    let capped = json(
        &model,
        &probe_text(),
        &["--max-examples", "2", "--seed", "7"],
    );
    assert_eq!(capped["negation"]["examples"], 2);
    assert_eq!(capped["settings"]["seed"], 7);

    let text = ok(&["eval-probes", s(&model), "--input", s(&probe_text())]);
    for needle in [
        "negation",
        "word_order",
        "median Jensen",
        "toxicity      not applicable: left out",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let help = ok(&["eval-probes", "--help"]);
    assert!(
        help.contains("Toxicity") && help.contains("left out"),
        "{help}"
    );
}

#[test]
fn a_bytes_tokenizer_makes_the_tokenization_probe_meaningless() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path(), "bytes");
    let v = json(&model, &probe_text(), &[]);
    assert_eq!(v["tokenization"]["status"], "not_applicable");
    let reason = v["tokenization"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("bytes tokenizer encodes every cut text"),
        "{reason}"
    );
    assert_eq!(v["negation"]["status"], "scored");
}

#[test]
fn texts_too_short_for_a_probe_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path(), "words");
    let short = dir.path().join("short.txt");
    std::fs::write(&short, "The cat sat on the mat.\nA dog ran.\n").unwrap();
    let v = json(&model, &short, &[]);
    for (probe, says) in [
        ("negation", "no sentence has \" is \""),
        ("word_order", "more than 20 words"),
        ("long_range", "two documents (lines) of more than 100 words"),
        ("tokenization", "at least 50 characters"),
    ] {
        assert_eq!(v[probe]["status"], "not_applicable", "{probe}");
        let reason = v[probe]["reason"].as_str().unwrap();
        assert!(reason.contains(says), "{probe}: {reason}");
    }
    let text = ok(&["eval-probes", s(&model), "--input", s(&short)]);
    assert!(
        text.contains("word_order    not applicable: needs a document"),
        "{text}"
    );

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n \n").unwrap();
    let err = fails(&["eval-probes", s(&model), "--input", s(&empty)]);
    assert!(err.contains("file is empty"), "{err}");
    let err = fails(&[
        "eval-probes",
        s(&model),
        "--input",
        s(&dir.path().join("none.txt")),
    ]);
    assert!(err.contains("none.txt"), "{err}");
    let binary = dir.path().join("binary.txt");
    std::fs::write(&binary, b"caf\xe9 is here\n").unwrap();
    let err = fails(&["eval-probes", s(&model), "--input", s(&binary)]);
    assert!(err.contains("not UTF-8"), "{err}");
    let no_model = dir.path().join("no.lmlab");
    let err = fails(&["eval-probes", s(&no_model), "--input", s(&short)]);
    assert!(err.contains("no.lmlab"), "{err}");
    let err = fails(&[
        "eval-probes",
        s(&model),
        "--input",
        s(&short),
        "--cut-every",
        "0",
    ]);
    assert!(err.contains("cut-every"), "{err}");
}
