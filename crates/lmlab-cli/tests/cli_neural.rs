//! The neural family through the `lmlab` binary: a tiny transformer and LSTM trained, paused and
//! resumed, evaluated and sampled, and the bad inputs of the issue.

mod common;
use common::{fails, neural_config as config, ok, s, texts};
use std::path::Path;

#[test]
fn train_resume_eval_and_generate() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    for arch in ["transformer", "lstm"] {
        let cfg = config(dir.path(), arch, 2);
        let whole = dir.path().join(format!("{arch}-whole"));
        let split = dir.path().join(format!("{arch}-split"));
        let base = [
            "train",
            arch,
            "--config",
            s(&cfg),
            "--train",
            s(&train),
            "--valid",
            s(&test),
        ];
        let run = |out: &Path, extra: &[&str]| {
            let mut args = base.to_vec();
            args.extend(["-o", s(out), "--json"]);
            args.extend(extra);
            serde_json::from_str::<serde_json::Value>(&ok(&args)).unwrap()
        };
        let full = run(&whole, &[]);
        assert_eq!(full["stop"], "finished");
        assert_eq!(run(&split, &["--stop-after", "5"])["stop"], "paused");
        let resumed = run(&split, &["--resume"]);
        assert_eq!(
            resumed["val_loss"], full["val_loss"],
            "{arch}: resume changed the result"
        );

        let eval: serde_json::Value =
            serde_json::from_str(&ok(&["eval", s(&whole), "--input", s(&test), "--json"])).unwrap();
        assert_eq!(eval["sequence_mode"], "line");
        assert!(eval["bits_per_byte"].as_f64().unwrap() < 8.5);
        let gen = |seed: &str| {
            ok(&[
                "generate",
                s(&whole),
                "--seed",
                seed,
                "--max-tokens",
                "20",
                "--prompt",
                "the",
            ])
        };
        assert_eq!(gen("1"), gen("1"));
        assert!(gen("1").starts_with("the"));
        // An empty prompt generates from the start token.
        ok(&["generate", s(&whole), "--max-tokens", "5"]);
    }
}

#[test]
fn bad_neural_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    let out = dir.path().join("run");
    let bad_heads = config(dir.path(), "transformer", 3);
    let msg = fails(&[
        "train",
        "transformer",
        "--config",
        s(&bad_heads),
        "--train",
        s(&train),
        "--valid",
        s(&test),
        "-o",
        s(&out),
    ]);
    assert!(
        msg.contains("transformer.toml") && msg.contains("n_head"),
        "{msg}"
    );
    let lstm = config(dir.path(), "lstm", 2);
    let msg = fails(&[
        "train",
        "transformer",
        "--config",
        s(&lstm),
        "--train",
        s(&train),
        "--valid",
        s(&test),
        "-o",
        s(&out),
    ]);
    assert!(msg.contains("model.arch is Lstm"), "{msg}");
    let ok_cfg = config(dir.path(), "transformer", 2);
    let msg = fails(&[
        "train",
        "transformer",
        "--config",
        s(&ok_cfg),
        "--train",
        s(&train),
        "--valid",
        s(&test),
        "-o",
        s(&out),
        "--budget",
        "0",
    ]);
    assert!(msg.contains("--budget"), "{msg}");
}

#[test]
fn speculative_generation_with_a_draft_and_its_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    let target = dir.path().join("target");
    let cfg = config(dir.path(), "transformer", 2);
    let args = ["--train", s(&train), "--valid", s(&test), "-o", s(&target)];
    ok(&[&["train", "transformer", "--config", s(&cfg)], &args[..]].concat());
    let kn = dir.path().join("kn3.lmlab");
    let tokenizer = target.join("tokenizer.json");
    ok(&[
        "train",
        "ngram",
        "--order",
        "3",
        "--tokenizer-file",
        s(&tokenizer),
        "--discount-fallback",
        "--input",
        s(&train),
        "-o",
        s(&kn),
    ]);
    let generate = |extra: &[&str]| {
        let mut a = vec!["generate", s(&target), "--greedy", "--max-tokens", "30"];
        a.extend(["--ignore-eos", "--prompt", "the cat", "--json"]);
        a.extend(extra);
        serde_json::from_str::<serde_json::Value>(&ok(&a)).unwrap()
    };
    let alone = generate(&[]);
    assert!(alone["speculative"].is_null());
    assert!(alone["tokens_per_second"].as_f64().unwrap() > 0.0);
    // The CPU time beside the wall time (all threads: the KV helper's included).
    let cpu = alone["cpu_seconds"].as_f64().unwrap();
    assert!((0.0..60.0).contains(&cpu), "cpu_seconds {cpu}");
    for k in ["1", "3", "8"] {
        let fast = generate(&["--draft", s(&kn), "--draft-tokens", k]);
        assert_eq!(
            fast["samples"], alone["samples"],
            "K {k}: greedy output differs"
        );
        let spec = &fast["speculative"];
        assert_eq!(
            spec["draft_tokens"].as_u64().unwrap(),
            k.parse::<u64>().unwrap()
        );
        let rate = spec["acceptance_rate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&rate), "{spec}");
        let calls = spec["target_calls_per_token"].as_f64().unwrap();
        assert!(calls > 0.0 && calls <= 1.0, "{spec}");
    }
    // A draft over another tokenizer (words, the target reads bytes) is refused.
    let words = dir.path().join("words.lmlab");
    ok(&["train", "baseline", "--input", s(&train), "-o", s(&words)]);
    let base = ["generate", s(&target), "--max-tokens", "5", "--draft"];
    let msg = fails(&[&base[..], &[s(&words)]].concat());
    assert!(msg.contains("draft model's tokenizer"), "{msg}");
    for k in ["0", "65", "1000000"] {
        let msg = fails(&[&base[..], &[s(&kn), "--draft-tokens", k]].concat());
        assert!(msg.contains("draft tokens must lie in 1..=64"), "{msg}");
    }
    // --draft-tokens needs --draft.
    fails(&["generate", s(&target), "--draft-tokens", "3"]);
    // A prompt longer than the 16-position window keeps its end, and says so.
    let out = common::lmlab()
        .args(["generate", s(&target), "--max-tokens", "3"])
        .args(["--prompt", &"the cat sat on the mat ".repeat(3)])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("context window of 16 positions") && stderr.contains("were dropped"),
        "{stderr}"
    );
}
