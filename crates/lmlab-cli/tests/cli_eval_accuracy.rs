//! `lmlab eval --accuracy` and `--output-path`: top-1 / top-5 accuracy, calibration, and
//! lm-evaluation-harness-shaped output.

mod common;

use common::{ok, s, shared, texts};

#[test]
fn igtree_top1_accuracy_on_ptb_is_timbls() {
    let Some(ptb) = shared("data/ptb") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ig4.lmlab");
    let train = ptb.join("ptb.train.txt");
    let test = ptb.join("ptb.test.txt");
    ok(&[
        "train",
        "memory",
        "--context",
        "4",
        "--sequences",
        "stream",
        "--input",
        s(&train),
        "-o",
        s(&model),
    ]);
    let out = ok(&[
        "eval",
        s(&model),
        "--input",
        s(&test),
        "--accuracy",
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let a = &report["accuracy"];
    // TiMBL's IGTree on the same instances: 18,190 of 82,430 right (the fixture's 22.0672%).
    let top1 = a["top1_accuracy"].as_f64().unwrap();
    assert_eq!((top1 * 82430.0).round() as u64, 18190, "{top1}");
    assert_eq!(a["top1_from_classifier"], true);
    let top5 = a["top5_accuracy"].as_f64().unwrap();
    assert!(top5 > a["distribution_top1_accuracy"].as_f64().unwrap() && top5 < 1.0);
    let rows = a["reliability"].as_array().unwrap();
    assert_eq!(rows.len(), 15);
    let counted: u64 = rows.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, report["tokens"].as_u64().unwrap());
}

#[test]
fn accuracy_of_a_uniform_model_and_lm_eval_output() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    let recipe = dir.path().join("u.toml");
    std::fs::write(
        &recipe,
        "[tokenizer]\nkind = \"bytes\"\n[model]\nfamily = \"uniform\"\n",
    )
    .unwrap();
    let model = dir.path().join("u.lmlab");
    ok(&[
        "train",
        "--recipe",
        s(&recipe),
        "--train",
        s(&train),
        "-o",
        s(&model),
    ]);
    let out_dir = dir.path().join("lm-eval");
    let out = ok(&[
        "eval",
        s(&model),
        "--input",
        s(&test),
        "--accuracy",
        "--json",
        "--output-path",
        s(&out_dir),
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let a = &report["accuracy"];
    // Every outcome has probability 1/256 (the bytes but the newline, which `</s>` stands for, and
    // `</s>`): only id 0 wins the tie, and no test byte is 0, so nothing is right; every confidence
    // falls in the first bin.
    assert_eq!(a["top1_accuracy"], 0.0);
    assert_eq!(a["top1_from_classifier"], false);
    let ece = a["expected_calibration_error"].as_f64().unwrap();
    assert!((ece - 1.0 / 256.0).abs() < 1e-12, "{ece}");
    // lm-evaluation-harness layout: results.json and one sample line per sequence.
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("results.json")).unwrap()).unwrap();
    let task = &results["results"]["test"];
    assert_eq!(task["bits_per_byte,none"], report["bits_per_byte"]);
    assert_eq!(task["word_perplexity,none"], report["word_perplexity"]);
    let bpb = report["bits_per_byte"].as_f64().unwrap();
    let byte_ppl = task["byte_perplexity,none"].as_f64().unwrap();
    assert!((byte_ppl.log2() - bpb).abs() < 1e-12);
    for key in [
        "configs",
        "versions",
        "n-samples",
        "config",
        "date",
        "lmlab_version",
    ] {
        assert!(!results[key].is_null(), "{key} missing: {results}");
    }
    assert_eq!(results["n-samples"]["test"]["effective"], 2);
    let samples = std::fs::read_to_string(out_dir.join("samples_test.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = samples
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let ll: f64 = lines
        .iter()
        .map(|l| l["resps"][0][0].as_f64().unwrap())
        .sum();
    let bytes: u64 = lines
        .iter()
        .map(|l| l["bits_per_byte"][1].as_u64().unwrap())
        .sum();
    assert!((-ll / (bytes as f64 * std::f64::consts::LN_2) - bpb).abs() < 1e-12);
    assert_eq!(lines[0]["doc"]["text"], "the cat sat on the dog");
}
