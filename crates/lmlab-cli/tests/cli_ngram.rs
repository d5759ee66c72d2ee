//! The n-gram family through the `lmlab` binary: training, evaluation, ARPA round trip, prediction,
//! generation, and its bad inputs.

mod common;
use common::{fails, ok, predicts_mat_and_generates, s, texts, trained_trigram};

#[test]
fn train_eval_export_import_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let (_, test, model) = trained_trigram(dir.path());
    let eval = |m: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&ok(&["eval", s(m), "--input", s(&test), "--json"])).unwrap()
    };
    let direct = eval(&model);
    assert_eq!(direct["oov"], 1);
    for arpa in ["kn.arpa", "kn.arpa.gz", "kn.arpa.xz"] {
        let arpa = dir.path().join(arpa);
        ok(&["ngram", "export-arpa", s(&model), "-o", s(&arpa)]);
        let back = dir.path().join("back.lmlab");
        ok(&["ngram", "import-arpa", s(&arpa), "-o", s(&back)]);
        let imported = eval(&back);
        let (a, b) = (
            direct["perplexity"].as_f64().unwrap(),
            imported["perplexity"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-4 * a, "{arpa:?}: {a} vs {b}");
    }
    predicts_mat_and_generates(&model);
}

#[test]
fn discount_errors_say_what_to_do_and_fallback_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let repeated = dir.path().join("repeated.txt");
    std::fs::write(&repeated, "the same line again\n".repeat(50)).unwrap();
    let model = dir.path().join("m.lmlab");
    let msg = fails(&[
        "train",
        "ngram",
        "--order",
        "3",
        "--input",
        s(&repeated),
        "-o",
        s(&model),
    ]);
    assert!(
        msg.contains("discount") && msg.contains("--discount-fallback"),
        "{msg}"
    );
    ok(&[
        "train",
        "ngram",
        "--order",
        "3",
        "--input",
        s(&repeated),
        "-o",
        s(&model),
        "--discount-fallback",
    ]);
    ok(&[
        "train",
        "ngram",
        "--order",
        "3",
        "--input",
        s(&repeated),
        "-o",
        s(&model),
        "--discount-fallback",
        "0.4",
        "0.8",
        "1.2",
    ]);
    let msg = fails(&[
        "train",
        "ngram",
        "--order",
        "3",
        "--input",
        s(&repeated),
        "-o",
        s(&model),
        "--discount-fallback",
        "0.4",
        "0.8",
    ]);
    assert!(
        msg.contains("no values") && msg.contains("or three"),
        "{msg}"
    );
    let msg = fails(&[
        "train",
        "ngram",
        "--order",
        "0",
        "--input",
        s(&repeated),
        "-o",
        s(&model),
    ]);
    assert!(msg.contains("--order"), "{msg}");
    let msg = fails(&[
        "train",
        "ngram",
        "--order",
        "1000",
        "--input",
        s(&repeated),
        "-o",
        s(&model),
    ]);
    assert!(msg.contains("--order"), "{msg}");
}

#[test]
fn bad_arpa_files_and_wrong_model_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = texts(dir.path());
    let arpa = dir.path().join("bad.arpa");
    let out = dir.path().join("m.lmlab");
    std::fs::write(
        &arpa,
        "\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\t<s>\t-0.5\n-1.0\t</s>\n\n\\end\\\n",
    )
    .unwrap();
    let msg = fails(&["ngram", "import-arpa", s(&arpa), "-o", s(&out)]);
    assert!(msg.contains("bad.arpa"), "{msg}");
    std::fs::write(&arpa, "just some text\n").unwrap();
    let msg = fails(&["ngram", "import-arpa", s(&arpa), "-o", s(&out)]);
    assert!(msg.contains("\\data\\"), "{msg}");
    let baseline = dir.path().join("b.lmlab");
    ok(&[
        "train",
        "baseline",
        "--input",
        s(&train),
        "-o",
        s(&baseline),
    ]);
    let msg = fails(&["ngram", "export-arpa", s(&baseline), "-o", s(&arpa)]);
    assert!(
        msg.contains("is a 'baseline' model, expected a 'ngram' model"),
        "{msg}"
    );
}
