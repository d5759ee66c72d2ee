//! `lmlab compare`: differences with bootstrap intervals, determinism, refusals, and the published
//! PTB files of Herel & Mikolov (../shared, skipped when absent).

mod common;

use common::{fails, ok, s, shared, texts};
use std::path::{Path, PathBuf};

/// Writes a probability file of 30 sequences of 4 tokens, log-probabilities from `logp(row)`.
fn probs_file(dir: &Path, name: &str, logp: impl Fn(usize) -> f64) -> PathBuf {
    let mut text = String::from(
        "# lmlab-probs 1\n# model: m\n# tokenizer: t\n# corpus: c\n# bytes: 480\nseq\tpos\ttoken\tlogp\n",
    );
    for i in 0..120 {
        let token = match i % 4 {
            3 => "</s>".to_string(),
            k => format!("w{}", (i / 4 + k) % 6),
        };
        text.push_str(&format!("{}\t{}\t{token}\t{}\n", i / 4, i % 4, logp(i)));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn base(i: usize) -> f64 {
    -1.0 - (i % 7) as f64 * 0.25
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).unwrap()
}

#[test]
fn cli_compare_finds_a_known_shift_and_zero_for_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = probs_file(dir.path(), "a.probs.tsv", base);
    let b = probs_file(dir.path(), "b.probs.tsv", |i| base(i) - 0.1);
    let v = json(&["compare", s(&a), s(&b), "--resamples", "500", "--json"]);
    let d = &v["log_likelihood_per_token"];
    let f = |k: &str| d[k].as_f64().unwrap();
    assert!((f("value") + 0.1).abs() < 1e-12, "{d}");
    assert!(
        f("ci_low") > -0.1 - 1e-9 && f("ci_high") < -0.1 + 1e-9,
        "{d}"
    );
    assert!(f("p_value") < 0.01, "{d}");
    assert!(v["bits_per_byte"]["value"].as_f64().unwrap() > 0.0, "{v}");

    let v = json(&["compare", s(&a), s(&a), "--resamples", "500", "--json"]);
    for key in ["bits_per_byte", "log_likelihood_per_token", "perplexity"] {
        let d = &v[key];
        assert_eq!(
            (&d["value"], &d["ci_low"], &d["ci_high"], &d["p_value"]),
            (&0.0.into(), &0.0.into(), &0.0.into(), &1.0.into()),
            "{key}: {d}"
        );
    }
}

#[test]
fn cli_compare_text_is_the_same_every_run_and_lists_gains() {
    let dir = tempfile::tempdir().unwrap();
    let a = probs_file(dir.path(), "a.probs.tsv", base);
    let noise = |i: usize| ((i * 2_654_435_761) % 1000) as f64 / 2000.0 - 0.25;
    let b = probs_file(dir.path(), "b.probs.tsv", |i| base(i) + noise(i));
    let args = [
        "compare",
        s(&a),
        s(&b),
        "--seed",
        "5",
        "--top",
        "3",
        "--context",
        "2",
    ];
    let text = ok(&args);
    assert_eq!(text, ok(&args));
    for want in [
        "bits/byte",
        "log-lik/token (nats)",
        "perplexity",
        "tokens where B gains most",
        "2-token contexts where A gains most",
        "gain by token frequency",
        "101-1000",
    ] {
        assert!(text.contains(want), "{want} missing in\n{text}");
    }
    let other = ok(&["compare", s(&a), s(&b), "--seed", "6"]);
    assert_ne!(text, other);
}

#[test]
fn cli_compare_refuses_other_streams_and_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    let a = probs_file(dir.path(), "a.probs.tsv", base);
    let b = dir.path().join("b.probs.tsv");
    let text = std::fs::read_to_string(&a)
        .unwrap()
        .replace("\tw3\t", "\tzebra\t");
    std::fs::write(&b, text).unwrap();
    let msg = fails(&["compare", s(&a), s(&b)]);
    assert!(
        msg.contains("token streams differ at row") && msg.contains("'zebra'"),
        "{msg}"
    );
    let msg = fails(&["compare", s(&a), s(&a), "--resamples", "0"]);
    assert!(msg.contains("resamples"), "{msg}");
    let msg = fails(&["compare", s(&a), s(&dir.path().join("missing.tsv"))]);
    assert!(msg.contains("missing.tsv"), "{msg}");
}

#[test]
fn cli_compare_two_trained_models_gives_the_difference_of_their_bits_per_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = texts(dir.path());
    let score = |name: &str, smoothing: &str| {
        let model = dir.path().join(format!("{name}.lmlab"));
        let args = [
            "train",
            "baseline",
            "--input",
            s(&train),
            "--smoothing",
            smoothing,
        ];
        ok(&[&args[..], &["-o", s(&model)]].concat());
        let probs = dir.path().join(format!("{name}.probs.tsv"));
        let eval = json(&[
            "eval",
            s(&model),
            "--input",
            s(&train),
            "--probs",
            s(&probs),
            "--json",
        ]);
        (probs, eval["bits_per_byte"].as_f64().unwrap())
    };
    let ((wb, wb_bpb), (addk, addk_bpb)) = (score("wb", "witten-bell"), score("addk", "add-k"));
    let v = json(&["compare", s(&wb), s(&addk), "--resamples", "300", "--json"]);
    let d = &v["bits_per_byte"];
    let value = d["value"].as_f64().unwrap();
    assert!(
        (value - (addk_bpb - wb_bpb)).abs() < 1e-9,
        "{d} vs {wb_bpb} {addk_bpb}"
    );
    assert!(d["ci_low"].as_f64().unwrap() <= value && value <= d["ci_high"].as_f64().unwrap());
    assert_eq!(v["sequences"], 400, "{v}");
}

#[test]
fn cli_compare_published_ptb_files() {
    let Some(sota) = shared("fixtures/sota_lm/ptb") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let import = |model: &str| {
        let out = dir.path().join(format!("{model}.probs.tsv"));
        let probs = sota.join("test").join(format!("{model}.txt"));
        let words = sota.join("words_test.txt");
        ok(&[
            "probs",
            "import",
            "--words",
            s(&words),
            "--probs",
            s(&probs),
            "-o",
            s(&out),
        ]);
        out
    };
    let (kn, mos) = (import("KneserNey-5gram"), import("AWD-LSTM-MOS"));
    let v = json(&[
        "compare",
        s(&kn),
        s(&mos),
        "--resamples",
        "1000",
        "--context",
        "1",
        "--json",
    ]);
    assert_eq!(v["tokens"], 82_429, "{v}");
    assert!(
        v["sequences"].as_u64().unwrap() > 3000,
        "{}",
        v["sequences"]
    );
    let ppl = &v["perplexity"];
    let f = |k: &str| ppl[k].as_f64().unwrap();
    assert!((f("value") - (54.00 - 141.46)).abs() < 0.01, "{ppl}");
    assert!(
        f("ci_low") < f("value") && f("value") < f("ci_high") && f("ci_high") < 0.0,
        "{ppl}"
    );
    assert!(v["bits_per_byte"].is_null(), "{v}");
    let why = v["bits_per_byte_unavailable"].as_str().unwrap();
    assert!(why.contains("byte count"), "{why}");
    eprintln!(
        "{}",
        ok(&[
            "compare",
            s(&kn),
            s(&mos),
            "--resamples",
            "1000",
            "--top",
            "5"
        ])
    );
}

#[test]
fn cli_compare_across_tokenizers_says_why_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    let mut files = Vec::new();
    for kind in ["words", "bytes"] {
        let model = dir.path().join(format!("{kind}.lmlab"));
        let probs = dir.path().join(format!("{kind}.probs.tsv"));
        ok(&[
            "train",
            "baseline",
            "--tokenizer",
            kind,
            "--input",
            s(&train),
            "-o",
            s(&model),
        ]);
        ok(&["eval", s(&model), "--input", s(&test), "--probs", s(&probs)]);
        files.push(probs);
    }
    let err = fails(&["compare", s(&files[0]), s(&files[1])]);
    assert!(
        err.contains("same tokenizer") && err.contains("lmlab report"),
        "{err}"
    );
}
