//! The memory-based family through the `lmlab` binary: training, evaluation, explain, incremental
//! training, and bad inputs.

mod common;
use common::{fails, ok, s, texts};

#[test]
fn train_eval_explain_and_add() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    for algorithm in ["igtree", "tribl2"] {
        let model = dir.path().join(format!("{algorithm}.lmlab"));
        let out = ok(&[
            "train",
            "memory",
            "--algorithm",
            algorithm,
            "--context",
            "3",
            "--input",
            s(&train),
            "-o",
            s(&model),
        ]);
        assert!(out.contains("feature order"), "{out}");
        let eval: serde_json::Value =
            serde_json::from_str(&ok(&["eval", s(&model), "--input", s(&test), "--json"])).unwrap();
        assert_eq!(eval["oov"], 1);
        assert!(eval["perplexity"].as_f64().unwrap().is_finite());
        let e: serde_json::Value = serde_json::from_str(&ok(&[
            "memory",
            "explain",
            s(&model),
            "--context",
            "a dog ran after the",
            "--top-k",
            "3",
            "--json",
        ]))
        .unwrap();
        assert_eq!(e["prediction"], "cat");
        assert_eq!(e["context"], serde_json::json!(["ran", "after", "the"]));
        assert!(e["notes"][0].as_str().unwrap().contains("last 3"), "{e}");
        let text = ok(&["memory", "explain", s(&model), "--context", "the"]);
        assert!(
            text.contains("matched depth") && text.contains("prediction"),
            "{text}"
        );
    }
    // Incremental training: a word only in the added text becomes known.
    let model = dir.path().join("igtree.lmlab");
    let more = dir.path().join("more.txt");
    std::fs::write(&more, "a zebra ran after the cat\n".repeat(5)).unwrap();
    let before = ok(&["memory", "explain", s(&model), "--context", "a", "--json"]);
    ok(&[
        "memory",
        "add",
        s(&model),
        "--input",
        s(&more),
        "-o",
        s(&model),
    ]);
    let after = ok(&["memory", "explain", s(&model), "--context", "a", "--json"]);
    assert_ne!(before, after);
    let info = ok(&["info", s(&model)]);
    assert!(
        info.contains("added_corpora") && info.contains("more.txt"),
        "{info}"
    );
}

#[test]
fn bad_memory_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = texts(dir.path());
    let model = dir.path().join("m.lmlab");
    let msg = fails(&[
        "train",
        "memory",
        "--context",
        "0",
        "--input",
        s(&train),
        "-o",
        s(&model),
    ]);
    assert!(msg.contains("--context"), "{msg}");
    let baseline = dir.path().join("b.lmlab");
    ok(&[
        "train",
        "baseline",
        "--input",
        s(&train),
        "-o",
        s(&baseline),
    ]);
    let msg = fails(&["memory", "explain", s(&baseline)]);
    assert!(
        msg.contains("is a 'baseline' model, expected a 'memory' model"),
        "{msg}"
    );
}
