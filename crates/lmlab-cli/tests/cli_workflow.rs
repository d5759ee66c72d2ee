//! The main workflows through the `lmlab` binary: train, eval, probability files, ensembles,
//! generation, info and the demo.

mod common;
use common::{ok, s, texts, trained};

#[test]
fn train_eval_and_probability_files() {
    let dir = tempfile::tempdir().unwrap();
    let (_, test, model) = trained(dir.path());
    let probs = dir.path().join("m.probs.tsv");
    let json = ok(&[
        "eval",
        s(&model),
        "--input",
        s(&test),
        "--json",
        "--probs",
        s(&probs),
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    // "the cat sat on the dog </s>" + "a zebra ran </s>": 11 tokens, "zebra" unseen.
    assert_eq!(v["tokens"], 11);
    assert_eq!(v["oov"], 1);
    assert_eq!(v["bytes"], 35);
    assert_eq!(v["sequence_mode"], "line");
    assert_eq!(v["sequences"], 2);
    let ppl = v["perplexity"].as_f64().unwrap();
    let file = lmlab_core::probs::ProbsFile::read(&probs).unwrap();
    assert_eq!(file.rows.len(), 11);
    assert_eq!(file.rows[8].token, "<unk>");
    assert!((file.perplexity() - ppl).abs() < 1e-9 * ppl);
    let bpb = v["bits_per_byte"].as_f64().unwrap();
    let expected_bpb = -file.log_prob_sum() / (std::f64::consts::LN_2 * 35.0);
    assert!((bpb - expected_bpb).abs() < 1e-12);

    let text = ok(&["eval", s(&model), "--input", s(&test)]);
    assert!(
        text.contains("OOVs             1") && text.contains("bits per byte"),
        "{text}"
    );
    let info = ok(&["info", s(&model)]);
    assert!(
        info.contains("baseline") && info.contains("witten-bell"),
        "{info}"
    );
}

#[test]
fn training_is_deterministic_and_generation_follows_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = texts(dir.path());
    let (a, b) = (dir.path().join("a.lmlab"), dir.path().join("b.lmlab"));
    for out in [&a, &b] {
        ok(&[
            "train",
            "baseline",
            "--input",
            s(&train),
            "--tokenizer",
            "bytes",
            "-o",
            s(out),
        ]);
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let gen = |seed: &str| {
        ok(&[
            "generate",
            s(&a),
            "--seed",
            seed,
            "--max-tokens",
            "60",
            "--prompt",
            "the ",
        ])
    };
    assert_eq!(gen("7"), gen("7"));
    assert!(gen("7").starts_with("the "));
    let samples: std::collections::HashSet<String> = (0..5).map(|i| gen(&i.to_string())).collect();
    assert!(samples.len() > 1, "every seed gave the same text");
}

#[test]
fn ensembles_fit_weights_and_write_their_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    let mut files = Vec::new();
    for (name, smoothing) in [("wb", "witten-bell"), ("addk", "add-k")] {
        let model = dir.path().join(format!("{name}.lmlab"));
        ok(&[
            "train",
            "baseline",
            "--input",
            s(&train),
            "--smoothing",
            smoothing,
            "-o",
            s(&model),
        ]);
        for split in ["dev", "test"] {
            let input = if split == "dev" { &train } else { &test };
            let probs = dir.path().join(format!("{name}.{split}.probs.tsv"));
            ok(&["eval", s(&model), "--input", s(input), "--probs", s(&probs)]);
            files.push(probs);
        }
    }
    let out = dir.path().join("mix.probs.tsv");
    let json = ok(&[
        "ensemble",
        "--dev",
        s(&files[0]),
        s(&files[2]),
        "--test",
        s(&files[1]),
        s(&files[3]),
        "--json",
        "--write-probs",
        s(&out),
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let weights: Vec<f64> = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["weight"].as_f64().unwrap())
        .collect();
    assert!((weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    let history: Vec<f64> = v["em"]["log_likelihood"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!(history.windows(2).all(|p| p[1] >= p[0]), "{history:?}");
    let mixture = lmlab_core::probs::ProbsFile::read(&out).unwrap();
    let test_ppl = v["test"]["perplexity"].as_f64().unwrap();
    assert!((mixture.perplexity() - test_ppl).abs() < 1e-9 * test_ppl);

    let single = ok(&[
        "ensemble",
        "--dev",
        s(&files[0]),
        "--test",
        s(&files[1]),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&single).unwrap();
    assert_eq!(v["members"][0]["weight"].as_f64(), Some(1.0));
    let text = ok(&["ensemble", "--dev", s(&files[0]), s(&files[2])]);
    assert!(
        text.contains("ENSEMBLE") && text.contains("per iteration"),
        "{text}"
    );
}

#[test]
fn probability_files_import_and_export_one_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("words.txt");
    let probs = dir.path().join("KN.txt");
    std::fs::write(&words, "it\nwas\n</s>\n").unwrap();
    std::fs::write(&probs, "1.0E-02\n0.5\n0.25\n").unwrap();
    let out = dir.path().join("kn.probs.tsv");
    let msg = ok(&[
        "probs",
        "import",
        "--words",
        s(&words),
        "--probs",
        s(&probs),
        "-o",
        s(&out),
    ]);
    assert!(msg.contains("3 tokens"), "{msg}");
    let back = dir.path().join("back.txt");
    let back_words = dir.path().join("back_words.txt");
    ok(&[
        "probs",
        "export",
        s(&out),
        "-o",
        s(&back),
        "--words",
        s(&back_words),
    ]);
    let values: Vec<f64> = std::fs::read_to_string(&back)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(values.len(), 3);
    for (got, want) in values.iter().zip([0.01, 0.5, 0.25]) {
        assert!((got - want).abs() < 1e-15);
    }
    assert_eq!(
        std::fs::read_to_string(&back_words).unwrap(),
        "it\nwas\n</s>\n"
    );
}

#[test]
fn demo_runs_every_model_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let text = ok(&["demo", "--out", s(&out)]);
    for needle in [
        "bigram witten-bell / words",
        "bigram witten-bell / bytes",
        "EM ensemble / words",
        "uniform / bytes",
        "sample from",
        "TinyStories (embedded",
        "story 1:",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("leaderboard.json")).unwrap()).unwrap();
    let svg = std::fs::read_to_string(out.join("leaderboard.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("EM ensemble / words"));
    let rows = report["leaderboard"].as_array().unwrap();
    let bpb = |name: &str| {
        rows.iter().find(|r| r["name"] == name).unwrap()["bits_per_byte"]
            .as_f64()
            .unwrap()
    };
    assert!((bpb("uniform / bytes") - 8.0).abs() < 1e-9);
    // Every row names its files in the output folder, and they are there: model files by name,
    // valid and test probability files for every model, the test file for every ensemble.
    for row in rows {
        for key in ["model_file", "valid_probs", "test_probs"] {
            if let Some(name) = row[key].as_str() {
                assert!(out.join(name).exists(), "{key} {name} of {row}");
            }
        }
        assert!(row["test_probs"].is_string(), "{row}");
        let ensemble = row["name"].as_str().unwrap().starts_with("EM ensemble");
        let uniform = row["reference"] == true;
        assert_eq!(row["valid_probs"].is_string(), !ensemble, "{row}");
        assert_eq!(
            row["model_file"].is_string(),
            !ensemble && !uniform,
            "{row}"
        );
    }
    let file_of =
        |name: &str| rows.iter().find(|r| r["name"] == name).unwrap()["model_file"].clone();
    assert_eq!(file_of("KN 3-gram / words"), "kn3-words.lmlab");
    assert_eq!(file_of("transformer 2x64 / bytes"), "transformer-bytes");
    // The chart leaves the uniform floor off the bars, in its legend.
    assert!(svg.contains("uniform / bytes: 8.000 (reference, off the axis)"));
    // Samples are printable text: no control characters but newline and tab, no broken UTF-8.
    let printable = |t: &str| {
        t.chars()
            .all(|c| c != '\u{fffd}' && (!c.is_control() || c == '\n' || c == '\t'))
    };
    for sample in report["samples"].as_array().unwrap() {
        assert!(printable(sample["text"].as_str().unwrap()), "{sample}");
    }
    assert!(bpb("bigram witten-bell / words") < bpb("uniform / words"));
    assert!(bpb("EM ensemble / words") <= bpb("bigram witten-bell / words") + 0.01);
    // The TinyStories transformer learned something (uniform over bytes is 8 bits per byte) and
    // sampled non-empty stories.
    let stories = &report["stories"];
    let stories_bpb = stories["bits_per_byte"].as_f64().unwrap();
    assert!(stories_bpb > 0.5 && stories_bpb < 3.0, "{stories}");
    let samples = stories["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 3);
    assert!(samples
        .iter()
        .all(|s| !s.as_str().unwrap().trim().is_empty() && printable(s.as_str().unwrap())));
}
