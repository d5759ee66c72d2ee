//! `lmlab ngram prune`: entropy and count pruning of a finished model (lmlab file and ARPA), and
//! its bad inputs, each with its message.

mod common;
use common::{fails, ok, s, trained_trigram};
use std::path::Path;

fn info(model: &Path, test: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(&["eval", s(model), "--input", s(test), "--json"])).unwrap()
}

#[test]
fn prunes_model_files_and_arpa_by_entropy_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, model) = trained_trigram(dir.path());
    let full = info(&model, &test)["perplexity"].as_f64().unwrap();
    let by_entropy = dir.path().join("entropy.lmlab");
    let out = ok(&[
        "ngram",
        "prune",
        s(&model),
        "-o",
        s(&by_entropy),
        "--entropy",
        "1e-3",
    ]);
    assert!(out.contains("n-grams per order"), "{out}");
    let pruned = info(&by_entropy, &test)["perplexity"].as_f64().unwrap();
    assert!(
        pruned.is_finite() && pruned >= full * 0.999,
        "{pruned} vs {full}"
    );
    let smaller = std::fs::metadata(&by_entropy).unwrap().len();
    assert!(smaller < std::fs::metadata(&model).unwrap().len());
    // The same from the ARPA export, written as ARPA.
    let arpa = dir.path().join("kn.arpa");
    ok(&["ngram", "export-arpa", s(&model), "-o", s(&arpa)]);
    let pruned_arpa = dir.path().join("entropy.arpa");
    ok(&[
        "ngram",
        "prune",
        s(&arpa),
        "-o",
        s(&pruned_arpa),
        "--entropy",
        "1e-3",
    ]);
    let back = dir.path().join("back.lmlab");
    ok(&["ngram", "import-arpa", s(&pruned_arpa), "-o", s(&back)]);
    let via_arpa = info(&back, &test)["perplexity"].as_f64().unwrap();
    assert!(
        (via_arpa - pruned).abs() < 1e-3 * pruned,
        "{via_arpa} vs {pruned}"
    );
    // Count pruning needs the training text.
    let by_count = dir.path().join("count.lmlab");
    let out = ok(&[
        "ngram",
        "prune",
        s(&model),
        "-o",
        s(&by_count),
        "--count",
        "0",
        "0",
        "1",
        "--input",
        s(&train),
    ]);
    assert!(out.contains("before"), "{out}");
    assert!(info(&by_count, &test)["perplexity"]
        .as_f64()
        .unwrap()
        .is_finite());
}

#[test]
fn bad_inputs_are_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _, model) = trained_trigram(dir.path());
    let out = dir.path().join("out.lmlab");
    let prune = |extra: &[&str]| {
        let mut args = vec!["ngram", "prune", s(&model), "-o", s(&out)];
        args.extend_from_slice(extra);
        fails(&args)
    };
    let msg = prune(&["--entropy", "-1e-8"]);
    assert!(msg.contains("must be a finite number ≥ 0"), "{msg}");
    let msg = prune(&["--entropy", "small"]);
    assert!(msg.contains("is not a number"), "{msg}");
    let msg = prune(&["--count", "0", "-1", "--input", s(&train)]);
    // Counts are whole numbers ≥ 0: clap refuses the negative one by name.
    assert!(msg.contains("'-1'"), "{msg}");
    let msg = prune(&["--count", "0", "x", "--input", s(&train)]);
    assert!(msg.contains("invalid value 'x'"), "{msg}");
    let msg = prune(&["--count", "1", "--input", s(&train)]);
    assert!(msg.contains("unigrams, which are never pruned"), "{msg}");
    let msg = prune(&["--count", "0", "1"]);
    assert!(msg.contains("--input"), "{msg}");
    let msg = prune(&[]);
    assert!(
        msg.contains("--count") && msg.contains("--entropy"),
        "{msg}"
    );
    let msg = prune(&[
        "--entropy",
        "1e-8",
        "--count",
        "0",
        "1",
        "--input",
        s(&train),
    ]);
    assert!(msg.contains("cannot be used with"), "{msg}");
    assert!(!out.exists(), "nothing written on bad input");
    // A missing, a truncated and a foreign model file.
    let missing = dir.path().join("missing.lmlab");
    let msg = fails(&[
        "ngram",
        "prune",
        s(&missing),
        "-o",
        s(&out),
        "--entropy",
        "1e-8",
    ]);
    assert!(msg.contains("missing.lmlab"), "{msg}");
    let bytes = std::fs::read(&model).unwrap();
    let truncated = dir.path().join("truncated.lmlab");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let msg = fails(&[
        "ngram",
        "prune",
        s(&truncated),
        "-o",
        s(&out),
        "--entropy",
        "1e-8",
    ]);
    assert!(msg.contains("truncated.lmlab"), "{msg}");
    let text = dir.path().join("text.txt");
    std::fs::write(&text, "just some words\n").unwrap();
    let msg = fails(&[
        "ngram",
        "prune",
        s(&text),
        "-o",
        s(&out),
        "--entropy",
        "1e-8",
    ]);
    assert!(msg.contains("not an ARPA file"), "{msg}");
    assert!(!out.exists());
}
