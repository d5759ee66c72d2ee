//! The main workflows through the `lmlab` binary: train, eval, probability files, ensembles,
//! generation, info and the demo.

mod common;
use common::{fails, ok, s, shared, texts, trained};
use std::path::Path;

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

    // The one OOV of 11 tokens is excluded from the second perplexity, exactly.
    let known: Vec<_> = file.rows.iter().filter(|r| r.token != "<unk>").collect();
    let excl = (-known.iter().map(|r| r.logp).sum::<f64>() / 10.0).exp();
    let got = v["perplexity_excluding_oov"].as_f64().unwrap();
    assert!((got - excl).abs() < 1e-9 * excl, "{got} vs {excl}");
    assert_eq!(v["comparable_across_tokenizers"], false);
    assert!(v["oov_warning"].as_str().unwrap().contains("9.1%"), "{v}");

    let text = ok(&["eval", s(&model), "--input", s(&test)]);
    assert!(
        text.contains("OOVs             1 (9.09% of tokens)")
            && text.contains("(excl. OOVs)")
            && text.contains("not comparable across tokenizers"),
        "{text}"
    );
    let info = ok(&["info", s(&model)]);
    assert!(
        info.contains("baseline") && info.contains("witten-bell"),
        "{info}"
    );
}

/// A text of only unseen words scores a low perplexity (each is one cheap `<unk>`): the output
/// says so, with a warning, the perplexity excluding OOVs and a literal `<unk>` not counted as one.
#[test]
fn unseen_words_are_reported_not_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, model) = trained(dir.path());
    let unseen = dir.path().join("unseen.txt");
    std::fs::write(&unseen, "zebra yak quokka\nwombat ibis <unk>\n").unwrap();
    let out = common::lmlab()
        .args(["eval", s(&model), "--input", s(&unseen), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 8 tokens (6 words, 2 ends); the literal `<unk>` is the vocabulary's unknown word, not an OOV.
    assert_eq!(v["tokens"], 8);
    assert_eq!(v["oov"], 5);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: 62.5% of the tokens"), "{stderr}");
    assert!(v["oov_warning"].is_string());
    let (incl, excl) = (
        v["perplexity"].as_f64().unwrap(),
        v["perplexity_excluding_oov"].as_f64().unwrap(),
    );
    assert!(excl.is_finite() && excl != incl, "{incl} {excl}");

    // In-vocabulary text: no warning, comparable figures.
    let clean = dir.path().join("clean.txt");
    std::fs::write(&clean, "the cat sat on the mat\n").unwrap();
    let out = common::lmlab()
        .args(["eval", s(&model), "--input", s(&clean), "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["oov"], 0);
    assert!(v["oov_warning"].is_null());
    assert_eq!(v["comparable_across_tokenizers"], true);
    assert_eq!(v["perplexity"], v["perplexity_excluding_oov"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
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
    let text = ok(&["ensemble", "--dev", s(&files[0]), s(&files[2]), "--verbose"]);
    assert!(
        text.contains("ENSEMBLE") && text.contains("per iteration"),
        "{text}"
    );
}

/// Imports `probs` (one probability per line, aligned with `words`) as `out` under `model`.
fn import(words: &Path, probs: &Path, model: &str, out: &Path) {
    ok(&[
        "probs",
        "import",
        "--words",
        s(words),
        "--probs",
        s(probs),
        "--model",
        model,
        "-o",
        s(out),
    ]);
}

#[test]
fn ensemble_prints_a_summary_line_and_fits_long_model_names() {
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("words.txt");
    std::fs::write(&words, "it\nwas\n</s>\nso\n</s>\n").unwrap();
    let long = "a model whose description goes on and on: order 5, words, KN, pruned 0 0 1";
    let mut files = Vec::new();
    for (name, values) in [
        ("a", "0.1\n0.5\n0.2\n0.3\n0.9\n"),
        ("b", "0.4\n0.1\n0.6\n0.2\n0.5\n"),
    ] {
        let probs = dir.path().join(format!("{name}.txt"));
        std::fs::write(&probs, values).unwrap();
        let out = dir.path().join(format!("{name}.probs.tsv"));
        import(&words, &probs, if name == "a" { long } else { "b" }, &out);
        files.push(out);
    }
    let text = ok(&["ensemble", "--dev", s(&files[0]), s(&files[1])]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("EM converged after ") && lines[0].contains("dev perplexity"),
        "{text}"
    );
    assert!(
        !text.contains("per iteration") && lines.len() == 6,
        "{text}"
    );
    // The table: the long name cut to 40 characters ending in "…", so every row's dev column
    // starts after 8 + 2 + 40 + 1 characters, as in the header.
    let table = &lines[2..5];
    assert!(table[1].contains(&format!("{}…", &long[..39])), "{text}");
    for row in table {
        let dev: String = row.chars().skip(51).take(3).collect();
        assert!(dev == "dev" || dev == "ppl", "{text}");
    }
    let verbose = ok(&["ensemble", "--dev", s(&files[0]), s(&files[1]), "-v"]);
    assert!(
        verbose.contains("per iteration") && verbose.contains(&long[..39]),
        "{verbose}"
    );
}

#[test]
fn ptb_stream_probabilities_ensemble_with_the_published_files() {
    let (Some(ptb), Some(sota)) = (shared("data/ptb"), shared("fixtures/sota_lm/ptb")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("kn5.lmlab");
    ok(&[
        "train",
        "ngram",
        "--order",
        "5",
        "--sequences",
        "stream",
        "--input",
        s(&ptb.join("ptb.train.txt")),
        "-o",
        s(&model),
    ]);
    let mut dev = Vec::new();
    let mut test = Vec::new();
    for (split, files) in [("valid", &mut dev), ("test", &mut test)] {
        let own = dir.path().join(format!("kn5.{split}.probs.tsv"));
        let input = ptb.join(format!("ptb.{split}.txt"));
        ok(&["eval", s(&model), "--input", s(&input), "--probs", s(&own)]);
        let imported = dir.path().join(format!("qrnn.{split}.probs.tsv"));
        import(
            &sota.join(format!("words_{split}.txt")),
            &sota.join(split).join("QRNN.txt"),
            "QRNN",
            &imported,
        );
        files.extend([own, imported]);
    }
    let json = ok(&[
        "ensemble",
        "--dev",
        s(&dev[0]),
        s(&dev[1]),
        "--test",
        s(&test[0]),
        s(&test[1]),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    // The published files do not score the first word: lmlab's first row is left out.
    assert_eq!(v["test"]["tokens"], 82_429, "{json}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("first 1 row(s) of") && notes.contains("kn5.test"),
        "{notes}"
    );
    let ppl = |m: &serde_json::Value| m["perplexity"].as_f64().unwrap();
    let (kn5, qrnn) = (&v["members"][0]["test"], &v["members"][1]["test"]);
    assert!((ppl(qrnn) - 58.43).abs() < 0.005, "{json}");
    assert!(ppl(kn5) > 130.0 && ppl(kn5) < 160.0, "{json}");
    assert!(ppl(&v["test"]) < ppl(qrnn), "{json}");

    // Another text's file is refused, naming the first row that differs.
    let msg = fails(&["ensemble", "--dev", s(&dev[0]), s(&test[1])]);
    assert!(msg.contains("different texts"), "{msg}");
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
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "probs",
        "import",
        "--words",
        s(&words),
        "--probs",
        s(&probs),
        "-o",
        s(&out),
        "--json",
    ]))
    .unwrap();
    assert_eq!(json["tokens"], 3);
    assert_eq!(json["model"], "KN");
    let ppl = (-(0.01f64.ln() + 0.5f64.ln() + 0.25f64.ln()) / 3.0).exp();
    assert!((json["perplexity"].as_f64().unwrap() - ppl).abs() < 1e-9 * ppl);
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
        assert_eq!(row["valid_probs"].is_string(), !ensemble, "{row}");
        assert_eq!(row["model_file"].is_string(), !ensemble, "{row}");
    }
    let file_of =
        |name: &str| rows.iter().find(|r| r["name"] == name).unwrap()["model_file"].clone();
    assert_eq!(file_of("KN 3-gram / words"), "kn3-words.lmlab");
    assert_eq!(file_of("uniform / bytes"), "uniform-bytes.lmlab");
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
    // Closed-vocabulary rows scored with OOVs say so (and the table marks them); open ones have none.
    let oov = |name: &str| rows.iter().find(|r| r["name"] == name).unwrap()["test_oov"].clone();
    assert!(oov("KN 3-gram / words").as_u64().unwrap() > 0);
    assert_eq!(oov("EM ensemble / words"), oov("KN 3-gram / words"));
    assert_eq!(oov("bigram witten-bell / bytes"), 0);
    assert!(text.contains("* scored with OOVs"), "{text}");
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
