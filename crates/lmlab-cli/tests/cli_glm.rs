//! The GLM family through the `lmlab` binary: training, evaluation through the registry,
//! probability files, an ensemble with a Kneser-Ney model, prediction, generation, and its bad
//! inputs.

mod common;
use common::{fails, ok, predicts_mat_and_generates, s, texts};

#[test]
fn train_eval_probs_ensemble_predict_and_generate() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    let train_model = |family: &str, extra: &[&str], name: &str| {
        let model = dir.path().join(name);
        let mut args = vec![
            "train",
            family,
            "--order",
            "3",
            "--input",
            s(&train),
            "-o",
            s(&model),
            "--discount-fallback",
        ];
        args.extend_from_slice(extra);
        ok(&args);
        model
    };
    let glm = train_model("glm", &[], "glm.lmlab");
    let none = train_model("glm", &["--skips", "none"], "none.lmlab");
    let kn = train_model("ngram", &[], "kn.lmlab");
    // Under --memory 80K (the stream of ~3,600 positions and 64 KiB beside it) every pattern but
    // the unigrams' is sorted in spilled runs: the same file.
    let temp = tempfile::tempdir().unwrap();
    let bounded = train_model(
        "glm",
        &["--memory", "80K", "--temp", s(temp.path())],
        "b.lmlab",
    );
    assert!(std::fs::read(&glm).unwrap() == std::fs::read(&bounded).unwrap());
    let eval = |m: &std::path::Path, probs: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&ok(&[
            "eval",
            s(m),
            "--input",
            s(&test),
            "--probs",
            s(probs),
            "--json",
        ]))
        .unwrap()
    };
    let ppl = |v: &serde_json::Value| v["perplexity"].as_f64().unwrap();
    let (glm_probs, kn_probs) = (dir.path().join("glm.tsv"), dir.path().join("kn.tsv"));
    let g = eval(&glm, &glm_probs);
    let k = eval(&kn, &kn_probs);
    let n = eval(&none, &dir.path().join("none.tsv"));
    assert!(ppl(&g).is_finite() && ppl(&g) > 1.0, "{g}");
    // No skips: Kneser-Ney itself.
    assert!((ppl(&n) - ppl(&k)).abs() < 1e-6 * ppl(&k), "{n} vs {k}");
    let info = ok(&["info", s(&glm)]);
    assert!(info.contains("glm"), "{info}");
    let mix: serde_json::Value = serde_json::from_str(&ok(&[
        "ensemble",
        "--dev",
        s(&glm_probs),
        s(&kn_probs),
        "--json",
    ]))
    .unwrap();
    assert!(mix.to_string().contains("weights"), "{mix}");
    predicts_mat_and_generates(&glm);
}

#[test]
fn bad_inputs_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = texts(dir.path());
    let model = dir.path().join("m.lmlab");
    let train_glm = |input: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["train", "glm", "--input", s(input), "-o", s(&model)];
        args.extend_from_slice(extra);
        fails(&args)
    };
    for order in ["0", "1"] {
        let m = train_glm(&train, &["--order", order]);
        assert!(m.contains(&format!("GLM order {order} is invalid")), "{m}");
    }
    let m = train_glm(&train, &["--order", "8"]);
    assert!(m.contains("larger than the maximum of 7"), "{m}");
    let m = train_glm(&train, &["--order", "3", "--skips", "every-other"]);
    assert!(m.contains("unknown --skips pattern 'every-other'"), "{m}");
    let m = train_glm(&train, &["--order", "3", "--memory", "8K"]);
    assert!(
        m.contains("below what a GLM build needs") && m.contains("or more"),
        "{m}"
    );
    let small = dir.path().join("small.txt");
    std::fs::write(&small, "one two three\n").unwrap();
    let m = train_glm(&small, &["--order", "3"]);
    assert!(m.contains("GLM skip pattern"), "{m}");
    assert!(m.contains("--discount-fallback"), "{m}");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let m = train_glm(&empty, &["--order", "3", "--discount-fallback"]);
    assert!(m.contains("empty"), "{m}");
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, b"ok line\nbad \xff byte\n").unwrap();
    let m = train_glm(&bad, &["--order", "3"]);
    assert!(m.contains("UTF-8") && m.contains("line 2"), "{m}");
    assert!(!model.exists(), "a failed training leaves no model file");
}
