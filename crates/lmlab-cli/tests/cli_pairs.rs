//! `lmlab eval-pairs`: minimal-pair accuracy, its bad inputs, and BLiMP's published columns.

mod common;
use common::{fails, ok, s, shared, trained};

/// Three pairs of two paradigms the test model (see `common::texts`) tells apart, and a tie.
const PAIRS: &str = concat!(
    r#"{"sentence_good": "the cat sat on the mat", "sentence_bad": "mat the on sat cat the", "UID": "order", "linguistics_term": "syntax"}"#,
    "\n",
    r#"{"sentence_good": "a dog ran after the cat", "sentence_bad": "a dog ran after the the", "UID": "order", "linguistics_term": "syntax"}"#,
    "\n\n",
    r#"{"sentence_good": "zebra", "sentence_bad": "giraffe", "UID": "unseen", "linguistics_term": "words"}"#,
    "\n",
);

#[test]
fn pairs_are_scored_per_paradigm_with_ties_wrong_and_oovs_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, model) = trained(dir.path());
    let pairs = dir.path().join("pairs.jsonl");
    std::fs::write(&pairs, PAIRS).unwrap();
    let json = ok(&["eval-pairs", s(&model), "--input", s(&pairs), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["overall"]["pairs"], 3);
    assert_eq!(v["overall"]["correct"], 2, "{json}");
    assert_eq!(v["overall"]["ties"], 1, "two OOVs are the same <unk>");
    assert_eq!(v["paradigms"][0]["name"], "order");
    assert_eq!(v["paradigms"][1]["oov_words"], 2);
    assert_eq!(v["paradigms"][1]["pairs_with_oov"], 1);
    assert_eq!(v["terms"][1]["name"], "words");
    assert_eq!(v["end_token"], true);
    assert!(v["published_source"].is_null());

    // The same pairs from a directory, the text table, and without the end token.
    let text = ok(&[
        "eval-pairs",
        s(&model),
        "--input",
        s(dir.path()),
        "--no-eos",
    ]);
    assert!(
        text.contains("no end token") && text.contains("per paradigm"),
        "{text}"
    );
    assert_eq!(
        json,
        ok(&["eval-pairs", s(&model), "--input", s(&pairs), "--json"]),
        "same output on every run"
    );
}

#[test]
fn bad_pairs_files_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, model) = trained(dir.path());
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path
    };
    let good = r#"{"sentence_good": "a", "sentence_bad": "b"}"#;
    let missing = write(
        "missing.jsonl",
        &format!("{good}\n{{\"sentence_good\": \"a\"}}\n"),
    );
    let msg = fails(&["eval-pairs", s(&model), "--input", s(&missing)]);
    assert!(
        msg.contains("missing.jsonl: line 2: missing field `sentence_bad`"),
        "{msg}"
    );

    let invalid = write(
        "invalid.jsonl",
        &format!("{good}\n{good}\n{{\"sentence_good\": \n"),
    );
    let msg = fails(&["eval-pairs", s(&model), "--input", s(&invalid)]);
    assert!(msg.contains("invalid.jsonl: line 3: invalid JSON"), "{msg}");

    let empty = write("empty.jsonl", "");
    let msg = fails(&["eval-pairs", s(&model), "--input", s(&empty)]);
    assert!(msg.contains("empty.jsonl: file is empty"), "{msg}");
    let blank = write("blank.jsonl", "\n \n");
    let msg = fails(&["eval-pairs", s(&model), "--input", s(&blank)]);
    assert!(msg.contains("blank.jsonl: no pairs"), "{msg}");

    let no_jsonl = dir.path().join("none");
    std::fs::create_dir(&no_jsonl).unwrap();
    let msg = fails(&["eval-pairs", s(&model), "--input", s(&no_jsonl)]);
    assert!(msg.contains("holds no *.jsonl files"), "{msg}");
    let msg = fails(&["eval-pairs", s(&model), "--input", "nope.jsonl"]);
    assert!(msg.contains("nope.jsonl: no such file"), "{msg}");
}

#[test]
fn blimp_paradigms_come_with_the_published_accuracies() {
    let Some(blimp) = shared("data/blimp") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, _, model) = trained(dir.path());
    let file = blimp.join("anaphor_gender_agreement.jsonl");
    let json = ok(&["eval-pairs", s(&model), "--input", s(&file), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["overall"]["pairs"], 1000);
    assert!(v["published_source"]
        .as_str()
        .unwrap()
        .ends_with("published"));
    let published = &v["paradigms"][0]["published"];
    assert_eq!(published["ngram"], 0.439, "{json}");
    assert_eq!(published["gpt2"], 0.994);
    assert_eq!(published["human"], 0.96);
    assert_eq!(v["terms"][0]["name"], "anaphor_agreement");
    assert_eq!(v["terms"][0]["published"]["ngram"], 0.439);
}
