//! CD-LM through the `lmlab` binary: `chunks build`, `generate --chunks`, `eval --chunks` on a tiny
//! byte-level transformer, and the bad inputs of issue 14 §3.

mod common;
use common::{fails, neural_config, ok, s, texts, train_transformer, trained_trigram, TinyNet};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

/// A tiny byte-level transformer (as `neural_config`'s) trained `steps` steps on `texts` as
/// `dir/NAME` (40 steps lift some bytes above 2% probability; 12 leave them all below 1%).
fn trained(dir: &std::path::Path, steps: usize, name: &str) -> std::path::PathBuf {
    let config = TinyNet {
        arch: "transformer",
        n_layer: 1,
        n_head: 2,
        n_embd: 16,
        block_size: 16,
        batch_size: 4,
        max_steps: steps,
        eval_interval: steps,
        eval_iters: 2,
        checkpoint_interval: steps,
    }
    .write(dir.join(format!("{name}.toml")));
    train_transformer(dir, &config, name)
}

#[test]
fn chunks_build_generate_and_eval_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    let run = trained(dir.path(), 40, "run");
    let (a, b) = (dir.path().join("a.lmlab"), dir.path().join("b.lmlab"));
    let build = |out: &std::path::Path| {
        json(&[
            "chunks",
            "build",
            s(&run),
            "--input",
            s(&train),
            "-o",
            s(out),
            "--threshold",
            "0.02",
            "--json",
        ])
    };
    let report = build(&a);
    assert!(
        report["info"]["occurrences"].as_u64().unwrap() > 0,
        "{report}"
    );
    build(&b);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    let generate = |extra: &[&str]| {
        let base = [
            "generate",
            s(&run),
            "--prompt",
            "the cat",
            "--max-tokens",
            "30",
            "--seed",
            "4",
        ];
        json(&[&base[..], extra, &["--json"]].concat())
    };
    let alone = generate(&[]);
    let off = generate(&["--chunks", s(&a), "--similarity", "1"]);
    assert_eq!(off["samples"][0]["ids"], alone["samples"][0]["ids"]);
    assert_eq!(off["cdlm"]["chunk_fraction"], 0.0);
    let on = generate(&["--chunks", s(&a), "--similarity", "-1"]);
    assert!(on["cdlm"]["chunk_fraction"].as_f64().unwrap() > 0.0, "{on}");
    assert!(
        on["cdlm"]["target_calls_per_token"].as_f64().unwrap() < 1.0,
        "{on}"
    );
    assert!(on["tokens_per_second"].as_f64().unwrap() > 0.0);

    let plain = json(&["eval", s(&run), "--input", s(&test), "--json"]);
    let cdlm = json(&[
        "eval",
        s(&run),
        "--input",
        s(&test),
        "--chunks",
        s(&a),
        "--similarity",
        "1,-1",
        "--json",
    ]);
    let rows = cdlm["cdlm"].as_array().unwrap();
    let (target, off) = (plain["perplexity"].as_f64().unwrap(), &rows[0]);
    let off_ppl = off["perplexity"].as_f64().unwrap();
    assert!(
        (off_ppl - target).abs() < 1e-5 * target,
        "{off_ppl} vs {target}"
    );
    assert_eq!(off["totals"]["tokens"], plain["tokens"]);
    assert!(rows[1]["retrieved_fraction"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_chunks_inputs_are_refused_with_their_message() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    let run = trained(dir.path(), 12, "run");
    let chunks = dir.path().join("c.lmlab");
    let build = |target: &std::path::Path, input: &std::path::Path, extra: &[&str]| {
        let base = [
            "chunks",
            "build",
            s(target),
            "--input",
            s(input),
            "-o",
            s(&chunks),
        ];
        fails(&[&base[..], extra].concat())
    };
    for t in ["0", "1", "-0.5", "2"] {
        let msg = build(&run, &train, &["--threshold", t]);
        assert!(msg.contains("outside (0, 1)"), "{t}: {msg}");
    }
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let msg = build(&run, &empty, &[]);
    assert!(msg.contains("empty.txt") && msg.contains("empty"), "{msg}");
    let (_, _, trigram) = trained_trigram(dir.path());
    let msg = build(&trigram, &train, &[]);
    assert!(msg.contains("CD-LM needs a neural transformer"), "{msg}");
    let lstm = dir.path().join("lstm");
    ok(&[
        "train",
        "lstm",
        "--config",
        s(&neural_config(dir.path(), "lstm", 2)),
        "--train",
        s(&train),
        "--valid",
        s(&test),
        "-o",
        s(&lstm),
    ]);
    let msg = build(&lstm, &train, &[]);
    assert!(msg.contains("an LSTM"), "{msg}");

    ok(&[
        "chunks",
        "build",
        s(&run),
        "--input",
        s(&train),
        "-o",
        s(&chunks),
    ]);
    for bad in ["1.5", "-1.01"] {
        let msg = fails(&[
            "generate",
            s(&run),
            "--chunks",
            s(&chunks),
            "--similarity",
            bad,
        ]);
        assert!(msg.contains("outside [-1, 1]"), "{msg}");
        let msg = fails(&[
            "eval",
            s(&run),
            "--input",
            s(&test),
            "--chunks",
            s(&chunks),
            "--similarity",
            bad,
        ]);
        assert!(msg.contains("outside [-1, 1]"), "{msg}");
    }
    // Another target: the same config trained for fewer steps (other weights).
    let other = trained(dir.path(), 6, "other");
    let msg = fails(&["generate", s(&other), "--chunks", s(&chunks)]);
    assert!(msg.contains("built for another target"), "{msg}");
    let msg = fails(&[
        "eval",
        s(&other),
        "--input",
        s(&test),
        "--chunks",
        s(&chunks),
    ]);
    assert!(msg.contains("built for another target"), "{msg}");
}
