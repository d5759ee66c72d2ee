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
