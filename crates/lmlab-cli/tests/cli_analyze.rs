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
