//! `lmlab experiment run` records into DIR/results.sqlite; `lmlab results`, `experiment status`
//! and `experiment reindex` read and rebuild it; a damaged store is refused with a pointer to
//! `reindex`.

mod common;

use common::{fails, ok, s};
use std::path::Path;

/// A small experiment in `dir`: two n-gram orders and a bigram over bytes, and a tiny transformer
/// at a 2 CPU-second budget with two seeds (5 runs).
fn experiment(dir: &Path) -> std::path::PathBuf {
    common::cat_splits(dir);
    let path = dir.join("exp.toml");
    std::fs::write(
        &path,
        r#"name = "store"
hypothesis = "a trigram over bytes beats a bigram"
budgets = [2]
seeds = [1, 2]
eval_points = [0.5, 1.0]
[data]
train = "train.txt"
valid = "valid.txt"
test = "test.txt"
[[arm]]
name = "kn"
recipe = { model = { family = "ngram", discount_fallback = [0.5, 1.0, 1.5] }, tokenizer = { kind = "bytes" } }
sweep = { "model.order" = [2, 3] }
[[arm]]
name = "bigram"
recipe = { model = { family = "baseline" }, tokenizer = { kind = "bytes" } }
[[arm]]
name = "tiny"
[arm.recipe]
tokenizer = { kind = "bytes" }
model = { family = "transformer", n_layer = 1, n_head = 2, n_embd = 16, block_size = 16 }
train = { batch_size = 4, max_steps = 100000, learning_rate = 3e-3, min_lr = 3e-4, eval_iters = 2 }
"#,
    )
    .unwrap();
    path
}

/// The test bits per byte of every finished run of `arm`, read from the run.json files.
fn test_bpb_from_files(out: &Path, arm: &str) -> Vec<f64> {
    let mut values = Vec::new();
    for dir in std::fs::read_dir(out.join("runs")).unwrap() {
        let path = dir.unwrap().path().join("run.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let run: serde_json::Value = serde_json::from_str(&text).unwrap();
            if run["arm"] == arm {
                values.push(
                    run["record"]["eval"]["test"]["bits_per_byte"]
                        .as_f64()
                        .unwrap(),
                );
            }
        }
    }
    values
}

/// The CSV's cell of column `column` in the row of `task` (`arm@budget`).
fn csv_cell(csv: &str, arm: &str, budget: &str, column: &str) -> String {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == column).unwrap();
    // The arm names of this experiment hold no commas, so a plain split is enough here.
    let row = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[0] == arm && r[1] == budget)
        .unwrap_or_else(|| panic!("no row {arm} {budget} in\n{csv}"));
    row[at].to_string()
}

#[test]
fn run_status_results_reindex_and_a_damaged_store() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = experiment(tmp.path());
    let out = tmp.path().join("out");
    ok(&[
        "experiment",
        "run",
        s(&exp),
        "--out",
        s(&out),
        "--jobs",
        "2",
    ]);
    let store = out.join("results.sqlite");
    assert!(store.is_file());

    // The CSV's means and sds are those of the run.json files.
    let csv = ok(&["results", s(&out), "--format", "csv"]);
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
    let tiny = test_bpb_from_files(&out, "tiny");
    assert_eq!(tiny.len(), 2);
    let mean = (tiny[0] + tiny[1]) / 2.0;
    let sd = (tiny[0] - tiny[1]).abs() / 2f64.sqrt();
    let cell = |arm, budget, column| csv_cell(&csv, arm, budget, column);
    let got: f64 = cell("tiny", "2", "test_bits_per_byte_mean")
        .parse()
        .unwrap();
    assert!((got - mean).abs() < 1e-12, "{got} vs {mean}");
    let got: f64 = cell("tiny", "2", "test_bits_per_byte_sd").parse().unwrap();
    assert!((got - sd).abs() < 1e-12, "{got} vs {sd}");
    assert_eq!(cell("tiny", "2", "n"), "2");
    let kn3: f64 = cell("kn[order=3]", "", "test_bits_per_byte_mean")
        .parse()
        .unwrap();
    assert_eq!(kn3, test_bpb_from_files(&out, "kn[order=3]")[0]);
    assert_eq!(cell("kn[order=3]", "", "test_bits_per_byte_sd"), "");

    // JSON in lm-evaluation-harness's layout.
    let json_text = ok(&["results", s(&out), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    let task = &json["results"]["tiny@2"];
    assert!((task["bits_per_byte,none"].as_f64().unwrap() - mean).abs() < 1e-12);
    let stderr = task["bits_per_byte_stderr,none"].as_f64().unwrap();
    assert!((stderr - sd / 2f64.sqrt()).abs() < 1e-12);
    let byte_ppl = task["byte_perplexity,none"].as_f64().unwrap();
    assert!((byte_ppl - (tiny[0].exp2() + tiny[1].exp2()) / 2.0).abs() < 1e-9);
    assert_eq!(
        json["results"]["bigram@-"]["bits_per_byte_stderr,none"],
        "N/A"
    );
    assert_eq!(json["n-samples"]["tiny@2"]["effective"], 2);
    assert_eq!(
        json["configs"]["tiny@2"]["recipe"]["model"]["family"],
        "transformer"
    );
    assert_eq!(json["config"]["experiment"], "store");
    for key in [
        "versions",
        "n-shot",
        "higher_is_better",
        "date",
        "lmlab_version",
    ] {
        assert!(!json[key].is_null(), "{key} missing");
    }

    let table = ok(&["results", s(&out)]);
    assert!(table.contains("experiment store"), "{table}");
    let tiny_line = table.lines().find(|l| l.starts_with("tiny")).unwrap();
    assert!(
        tiny_line.contains(&format!("{mean:.4} ± {sd:.4}")),
        "{table}"
    );

    let status = ok(&["experiment", "status", s(&out)]);
    assert!(
        status.contains("5 runs planned: 5 finished, 0 failed, 0 pending"),
        "{status}"
    );

    // A store that was lost is rebuilt from the run files to the same results.
    std::fs::remove_file(&store).unwrap();
    let m = fails(&["results", s(&out)]);
    assert!(m.contains("experiment reindex"), "{m}");
    let m = ok(&["experiment", "reindex", s(&out)]);
    assert!(m.contains("5 finished and 0 failed"), "{m}");
    assert_eq!(ok(&["results", s(&out), "--format", "csv"]), csv);
    assert_eq!(ok(&["results", s(&out), "--format", "json"]), json_text);

    // Or by `status`, which records what the store lacks (after logging out, say).
    std::fs::remove_file(&store).unwrap();
    let status = ok(&["experiment", "status", s(&out)]);
    assert!(
        status.contains("recorded 5 runs the store lacked"),
        "{status}"
    );
    assert_eq!(ok(&["results", s(&out), "--format", "json"]), json_text);

    // A damaged store is refused, by name, with the way out.
    std::fs::write(&store, "these bytes are not a SQLite database").unwrap();
    for args in [
        vec!["results", s(&out)],
        vec!["experiment", "status", s(&out)],
        vec!["experiment", "run", s(&exp), "--out", s(&out)],
    ] {
        let m = fails(&args);
        assert!(
            m.contains("results.sqlite") && m.contains("lmlab experiment reindex"),
            "{args:?}: {m}"
        );
    }
    ok(&["experiment", "reindex", s(&out)]);
    assert_eq!(ok(&["results", s(&out), "--format", "csv"]), csv);

    // A run that failed shows in the status with its error; a later success replaces it.
    let bigram = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .find(|p| {
            std::fs::read_to_string(p.join("run.json")).is_ok_and(|t| t.contains("\"bigram\""))
        })
        .unwrap();
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bigram.join("run.json")).unwrap()).unwrap();
    std::fs::remove_file(bigram.join("run.json")).unwrap();
    let failure = serde_json::json!({
        "id": run["id"], "experiment": "store", "arm": "bigram", "recipe": run["record"]["recipe"],
        "error": "the disk was full", "failed": "2026-12-01T10:00:00Z",
    });
    std::fs::write(bigram.join("failed.json"), failure.to_string()).unwrap();
    let status = ok(&["experiment", "status", s(&out)]);
    assert!(
        status.contains("4 finished, 1 failed, 0 pending"),
        "{status}"
    );
    assert!(status.contains("the disk was full"), "{status}");
    let has_bigram_row = |table: String| table.lines().any(|l| l.starts_with("bigram "));
    assert!(!has_bigram_row(ok(&["results", s(&out)])));
    ok(&["experiment", "run", s(&exp), "--out", s(&out)]);
    let status = ok(&["experiment", "status", s(&out)]);
    assert!(
        status.contains("5 finished, 0 failed, 0 pending"),
        "{status}"
    );
    assert!(!status.contains("the disk was full"), "{status}");
    assert!(has_bigram_row(ok(&["results", s(&out)])));
}

#[test]
fn results_and_status_of_a_folder_that_is_not_an_experiment() {
    let tmp = tempfile::tempdir().unwrap();
    let m = fails(&["results", s(tmp.path())]);
    assert!(m.contains("not an experiment folder"), "{m}");
    let m = fails(&["experiment", "status", s(tmp.path())]);
    assert!(m.contains("not an experiment folder"), "{m}");
    let m = fails(&["experiment", "reindex", s(&tmp.path().join("missing"))]);
    assert!(m.contains("missing"), "{m}");
    assert!(!tmp.path().join("results.sqlite").exists());
}
