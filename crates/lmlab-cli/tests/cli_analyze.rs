//! `lmlab analyze` through the binary: a tiny transformer trained with learning-dynamics
//! checkpoints, its metrics as JSON and plots, and the bad inputs of issue 17 with their messages.

mod common;
use common::{fails, neural_config, ok, s, train_transformer};
use std::path::Path;

fn train(dir: &Path, name: &str, analysis: bool) -> std::path::PathBuf {
    let cfg = neural_config(dir, "transformer", 2);
    if analysis {
        let mut text = std::fs::read_to_string(&cfg).unwrap();
        text.push_str("analysis = { every = 6, batch = \"valid\" }\n");
        std::fs::write(&cfg, text).unwrap();
    }
    train_transformer(dir, &cfg, name)
}

#[test]
fn analyze_writes_metrics_per_step_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let run = train(dir.path(), "run", true);
    let summary = ok(&[
        "analyze",
        s(&run),
        "--metrics",
        "cka,condition_number,gini",
        "--layers",
        "0",
    ]);
    assert!(summary.contains("steps       0, 6, 12"), "{summary}");
    assert!(summary.contains("compare to  step 12"), "{summary}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("analysis/metrics.json")).unwrap())
            .unwrap();
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    let rows = steps[1]["values"].as_array().unwrap();
    assert!(rows
        .iter()
        .any(|r| r["metric"] == "cka" && r["data"] == "activations" && r["component"] == "ov"));
    assert!(rows.iter().all(|r| r["layer"] == 0));
    assert!(rows
        .iter()
        .all(|r| r["metric"] != "cka" || r["data"] == "activations"));
    let plot = run.join("analysis/plots/gini-weights-mlp.c_proj.svg");
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.contains("layer 0") && svg.contains("training step"),
        "{}",
        plot.display()
    );

    let printed: serde_json::Value = serde_json::from_str(&ok(&[
        "analyze",
        s(&run),
        "--metrics",
        "hoyer",
        "--compare-to",
        "6",
        "--json",
    ]))
    .unwrap();
    assert_eq!(printed["compare_to"], 6);
    assert_eq!(printed["metrics"], serde_json::json!(["hoyer"]));

    let law = ok(&["analyze", s(&run), "--law"]);
    assert!(law.contains("prediction residual per layer"), "{law}");
    let fits: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("analysis/law.json")).unwrap())
            .unwrap();
    assert_eq!(fits.as_array().unwrap().len(), 3);
    let pr = fits[2]["residuals"][0].as_f64().unwrap();
    assert!(pr > 0.0 && pr < 1.0, "{pr}");
    assert!(run.join("analysis/plots/law.svg").exists());
}

#[test]
fn analyze_names_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let plain = train(dir.path(), "plain", false);
    let err = fails(&["analyze", s(&plain)]);
    assert!(
        err.contains("no learning-dynamics checkpoints") && err.contains("analysis = { every = N"),
        "{err}"
    );
    let run = train(dir.path(), "run", true);
    let err = fails(&["analyze", s(&run), "--metrics", "gini,sharpness"]);
    assert!(
        err.contains("unknown metric 'sharpness'") && err.contains("condition_number"),
        "{err}"
    );
    let err = fails(&["analyze", s(&run), "--layers", "0,3"]);
    assert!(
        err.contains("layer 3 does not exist; the model has 1 layers (0 to 0)"),
        "{err}"
    );
    let err = fails(&["analyze", s(&run), "--metrics", "cka", "--compare-to", "7"]);
    assert!(
        err.contains("step 7 was not saved; saved steps: 0, 6, 12"),
        "{err}"
    );
}

/// `lmlab analyze RUN --agree-with MODEL --input TEXT` and `extra`.
fn agree<'a>(run: &'a Path, model: &'a Path, input: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "analyze",
        s(run),
        "--agree-with",
        s(model),
        "--input",
        s(input),
    ];
    args.extend_from_slice(extra);
    args
}

/// A trigram over the run's own tokenizer, trained on the run's training text.
fn trigram_with_tokenizer_of(run: &Path, dir: &Path) -> std::path::PathBuf {
    let model = dir.join("same-tokenizer.lmlab");
    ok(&[
        "train",
        "ngram",
        "--order",
        "3",
        "--input",
        s(&dir.join("train.txt")),
        "--tokenizer-file",
        s(&run.join("tokenizer.json")),
        "-o",
        s(&model),
        "--discount-fallback",
    ]);
    model
}

#[test]
fn analyze_agree_with_compares_every_saved_step_with_a_count_model() {
    let dir = tempfile::tempdir().unwrap();
    let run = train(dir.path(), "run", true);
    let test = dir.path().join("test.txt");
    let trigram = trigram_with_tokenizer_of(&run, dir.path());
    let summary = ok(&agree(&run, &trigram, &test, &["--max-context", "4"]));
    assert!(
        summary.contains("top-1 agreement by context length 0..4"),
        "{summary}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("analysis/agreement.json")).unwrap(),
    )
    .unwrap();
    let steps = json["steps"].as_array().unwrap();
    let saved: Vec<u64> = steps.iter().map(|s| s["step"].as_u64().unwrap()).collect();
    assert_eq!(saved, vec![0, 6, 12]);
    assert_eq!(json["max_context"], 4);
    for step in steps {
        let contexts = step["contexts"].as_array().unwrap();
        assert_eq!(contexts.len(), 5, "context lengths 0 to 4");
        let positions: u64 = contexts
            .iter()
            .map(|c| c["positions"].as_u64().unwrap())
            .sum();
        let all = &step["all"];
        assert_eq!(positions, all["positions"].as_u64().unwrap());
        let agreement = all["agreement"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&agreement), "{agreement}");
        assert!(all["mean_kl"].as_f64().unwrap() > 0.0);
    }
    for plot in ["agreement-context", "kl-context", "agreement-step"] {
        let svg = std::fs::read_to_string(run.join(format!("analysis/plots/{plot}.svg"))).unwrap();
        assert!(svg.contains("step") && svg.contains("agreement") || svg.contains("KL"));
    }

    // The run against its own export: the last saved step (the exported weights, rebuilt from
    // the analysis checkpoint) agrees everywhere with KL 0.
    let export = dir.path().join("export.lmlab");
    ok(&["export", s(&run), "-o", s(&export)]);
    let own: serde_json::Value =
        serde_json::from_str(&ok(&agree(&run, &export, &test, &["--json"]))).unwrap();
    let last = &own["steps"][2];
    assert_eq!(last["step"], 12);
    assert_eq!(last["all"]["agreement"], 1.0);
    assert!(
        last["all"]["mean_kl"].as_f64().unwrap().abs() < 1e-9,
        "{last}"
    );
    assert!(own["steps"][0]["all"]["agreement"].as_f64().unwrap() < 1.0);
}

#[test]
fn analyze_agree_with_names_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let run = train(dir.path(), "run", false);
    let (_, test, other_tokenizer) = common::trained_trigram(dir.path());
    let err = fails(&agree(&run, &other_tokenizer, &test, &[]));
    assert!(
        err.contains("was trained with another tokenizer")
            && err.contains("agreement needs one tokenizer for both"),
        "{err}"
    );
    let trigram = trigram_with_tokenizer_of(&run, dir.path());
    let err = fails(&["analyze", s(&run), "--agree-with", s(&trigram)]);
    assert!(err.contains("--input"), "{err}");
    let missing = dir.path().join("missing.txt");
    let err = fails(&agree(&run, &trigram, &missing, &[]));
    assert!(err.contains("missing.txt"), "{err}");
    let err = fails(&[
        "analyze",
        s(&dir.path().join("train.txt")),
        "--agree-with",
        s(&trigram),
        "--input",
        s(&test),
    ]);
    assert!(err.contains("train.txt"), "{err}");
    // A run without learning-dynamics checkpoints is compared at its last step.
    let out: serde_json::Value =
        serde_json::from_str(&ok(&agree(&run, &trigram, &test, &["--json"]))).unwrap();
    assert_eq!(out["steps"].as_array().unwrap().len(), 1);
    assert_eq!(out["steps"][0]["step"], 12);
}
