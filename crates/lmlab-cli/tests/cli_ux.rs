//! What a new user hit (issue #10): the program's help, `info` on run directories, greedy and
//! repeated sampling, `--ignore-eos`, `--json` outputs, printable samples from byte-level models,
//! and one convention for memory-model feature positions.

mod common;
use common::{neural_config, ok, s, texts, train_transformer, trained};

/// Parses stdout as JSON.
fn json(args: &[&str]) -> serde_json::Value {
    let out = ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("lmlab {args:?}: {e}: {out}"))
}

#[test]
fn help_says_what_the_program_does_for_a_user() {
    let help = ok(&["--help"]);
    for needle in ["train", "evaluate", "sample", "compare", "lmlab demo"] {
        assert!(help.contains(needle), "missing {needle}: {help}");
    }
    assert!(!help.contains("argument parsing"), "{help}");
}

#[test]
fn info_reads_a_neural_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = neural_config(dir.path(), "transformer", 2);
    let run = train_transformer(dir.path(), &cfg, "run");
    let (_, test) = texts(dir.path());
    let text = ok(&["info", s(&run)]);
    for needle in [
        "transformer",
        "run directory",
        "parameters",
        "steps       12 of 12",
        "bytes",
        "valid",
        "CPU-s",
    ] {
        assert!(text.contains(needle), "missing {needle}: {text}");
    }
    let v = json(&["info", s(&run), "--json"]);
    assert_eq!(v["kind"], "transformer");
    assert_eq!(v["tokenizer"]["kind"], "bytes");
    assert_eq!(v["run"]["architecture"]["n_layer"], 1);
    assert_eq!(v["run"]["progress"]["steps"], 12);
    assert!(v["run"]["progress"]["val_loss"].as_f64().unwrap() > 0.0);
    assert!(
        v["run"]["progress"]["compute"]["cpu_seconds"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(v["parameters"].as_u64().unwrap() > 0);

    let (_, _, model) = trained(dir.path());
    let v = json(&["info", s(&model), "--json"]);
    assert_eq!(v["kind"], "baseline");
    assert_eq!(v["provenance"]["sequences"], "line");
    assert!(v["run"].is_null());

    // A directory that is not a run: said so, for every command that loads a model.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for args in [
        vec!["info", s(&empty)],
        vec!["eval", s(&empty), "--input", s(&test)],
        vec!["generate", s(&empty)],
    ] {
        let msg = common::fails(&args);
        assert!(
            msg.contains("not a neural run directory"),
            "{args:?}: {msg}"
        );
    }
}

#[test]
fn greedy_repeated_and_past_the_end_generation() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, model) = trained(dir.path());
    let gen = |extra: &[&str]| {
        let mut args = vec![
            "generate",
            s(&model),
            "--prompt",
            "the",
            "--max-tokens",
            "12",
        ];
        args.extend(extra);
        ok(&args)
    };
    // Greedy decoding ignores the seed; --greedy is --temperature 0.
    let greedy = gen(&["--greedy", "--seed", "1"]);
    assert_eq!(greedy, gen(&["--greedy", "--seed", "2"]));
    assert_eq!(greedy, gen(&["--temperature", "0", "--seed", "3"]));
    assert!(greedy.starts_with("the "), "{greedy}");

    // --num-samples: sample i is the single sample of seed SEED + i.
    let v = json(&[
        "generate",
        s(&model),
        "--num-samples",
        "3",
        "--seed",
        "5",
        "--json",
    ]);
    let samples = v["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[2]["seed"], 7);
    let single = json(&["generate", s(&model), "--seed", "7", "--json"]);
    assert_eq!(samples[2]["text"], single["samples"][0]["text"]);
    let text = ok(&["generate", s(&model), "--num-samples", "2"]);
    assert_eq!(text.matches("---------------").count(), 1, "{text}");

    // --ignore-eos goes on to --max-tokens, past the end token (printed as a line break).
    let past = json(&[
        "generate",
        s(&model),
        "--ignore-eos",
        "--max-tokens",
        "40",
        "--json",
    ]);
    assert_eq!(past["stop_at_eos"], false);
    assert_eq!(past["samples"][0]["ids"].as_array().unwrap().len(), 40);
    assert!(past["samples"][0]["text"].as_str().unwrap().contains('\n'));
    let stops = json(&["generate", s(&model), "--max-tokens", "40", "--json"]);
    assert!(stops["samples"][0]["ids"].as_array().unwrap().len() < 40);
}

#[test]
fn byte_level_samples_are_printable_utf8_unless_raw_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("controls.txt");
    // Control bytes (0x17, 0x01, CR) and multi-byte characters everywhere.
    let line = "a\u{17}b\u{1}c\r caf\u{e9} \u{6f22}\u{5b57} \u{1f980}\u{17}\n";
    std::fs::write(&train, line.repeat(50)).unwrap();
    let model = dir.path().join("bytes.lmlab");
    ok(&[
        "train",
        "baseline",
        "--input",
        s(&train),
        "--tokenizer",
        "bytes",
        "--smoothing",
        "add-k",
        "--k",
        "1",
        "-o",
        s(&model),
    ]);
    let sample = |extra: &[&str]| {
        let mut args = vec![
            "generate",
            s(&model),
            "--num-samples",
            "10",
            "--max-tokens",
            "80",
            "--ignore-eos",
            "--temperature",
            "2",
            "--json",
        ];
        args.extend(extra);
        let v = json(&args);
        let texts: Vec<String> = v["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["text"].as_str().unwrap().to_string())
            .collect();
        texts.concat()
    };
    let clean = sample(&[]);
    assert!(!clean.is_empty());
    assert!(
        clean
            .chars()
            .all(|c| c != '\u{fffd}' && (!c.is_control() || c == '\n' || c == '\t')),
        "{clean:?}"
    );
    let raw = sample(&["--raw-bytes"]);
    assert!(
        raw.chars().any(|c| c == '\u{fffd}' || c == '\u{17}'),
        "{raw:?}"
    );
}

#[test]
fn tokenizer_train_and_encode_print_json() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = texts(dir.path());
    let tok = dir.path().join("bpe.json");
    let v = json(&[
        "tokenizer",
        "train",
        "--kind",
        "bpe",
        "--vocab-size",
        "300",
        "--input",
        s(&train),
        "-o",
        s(&tok),
        "--json",
    ]);
    assert_eq!(v["kind"], "bpe");
    assert!(v["vocab_size"].as_u64().unwrap() >= 300);
    assert!(v["fingerprint"].as_str().is_some_and(|f| !f.is_empty()));
    let v = json(&[
        "tokenizer",
        "encode",
        s(&tok),
        "--text",
        "the cat",
        "--json",
    ]);
    let first = &v[0];
    assert_eq!(first["text"], "the cat");
    let ids = first["ids"].as_array().unwrap();
    assert_eq!(ids.len(), first["tokens"].as_array().unwrap().len());
    let plain = ok(&["tokenizer", "encode", s(&tok), "--text", "the cat"]);
    let plain_ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    assert_eq!(plain.trim(), plain_ids.join(" "));
}

#[test]
fn memory_feature_positions_read_the_same_in_train_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = texts(dir.path());
    let model = dir.path().join("ig.lmlab");
    let trained = ok(&[
        "train",
        "memory",
        "--context",
        "3",
        "--input",
        s(&train),
        "-o",
        s(&model),
    ]);
    let explained = ok(&["memory", "explain", s(&model), "--context", "the cat"]);
    let order = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("feature order"))
            .unwrap_or_else(|| panic!("no feature order in {text}"))
            .to_string()
    };
    assert_eq!(order(&trained), order(&explained));
    // Three positions, the nearest written -1, none beyond -3.
    let line = order(&trained);
    assert!(
        line.contains("-1") && line.contains("-3") && !line.contains("-4"),
        "{line}"
    );
    assert!(
        explained.contains("prediction (most likely after smoothing)"),
        "{explained}"
    );
    assert!(explained.contains("classifier's answer"), "{explained}");
}

#[test]
fn output_piped_into_a_reader_that_stops_early_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("many.txt");
    std::fs::write(&text, "the cat sat on the mat\n".repeat(200_000)).unwrap();
    let tokenizer = dir.path().join("bytes.json");
    ok(&[
        "tokenizer",
        "train",
        "--kind",
        "bytes",
        "--input",
        s(&text),
        "-o",
        s(&tokenizer),
    ]);
    // Megabytes of ids into `head`, which stops reading after one line.
    let script = format!(
        "'{}' tokenizer encode '{}' --input '{}' | head -n 1",
        assert_cmd::cargo::cargo_bin("lmlab").display(),
        tokenizer.display(),
        text.display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
}
