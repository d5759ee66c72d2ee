//! `lmlab merge`, `grow` and `prune` end to end: a soup of two runs that `eval` reads, grown and
//! then trained further with `--resume`, pruned to a smaller model; bad configurations, sizes and
//! sparsities refused with their messages.

mod common;
use common::{fails, ok, s};
use std::path::{Path, PathBuf};

fn member(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../lmlab-neural/tests/fixtures/merge/members")
        .join(name)
}

fn shakespeare(dir: &Path) -> (PathBuf, PathBuf) {
    let full = include_str!("../../../data/tiny-shakespeare.txt");
    let (train, valid) = (dir.join("train.txt"), dir.join("valid.txt"));
    std::fs::write(&train, &full[..20_000]).unwrap();
    std::fs::write(&valid, &full[20_000..24_000]).unwrap();
    (train, valid)
}

#[test]
fn merge_eval_grow_and_train_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (train, valid) = shakespeare(tmp.path());
    let config = tmp.path().join("soup.yaml");
    std::fs::write(
        &config,
        format!(
            "merge_method: linear\nmodels:\n  - model: {}\n    parameters: {{weight: 1}}\n  \
             - model: {}\n    parameters: {{weight: 1}}\n",
            member("a").display(),
            member("b").display()
        ),
    )
    .unwrap();
    let soup = tmp.path().join("soup");
    let out = ok(&["merge", s(&config), "-o", s(&soup)]);
    assert!(out.contains("linear of 2 members"), "{out}");
    let eval: serde_json::Value =
        serde_json::from_str(&ok(&["eval", s(&soup), "--input", s(&valid), "--json"])).unwrap();
    assert!(eval["bits_per_byte"].as_f64().unwrap() > 0.0, "{eval}");

    let grown = tmp.path().join("grown");
    let out = ok(&[
        "grow",
        s(&soup),
        "--n-layer",
        "3",
        "--n-embd",
        "32",
        "-o",
        s(&grown),
    ]);
    assert!(out.contains("2→3 layers, width 16→32"), "{out}");
    ok(&[
        "train",
        "transformer",
        "--config",
        s(&grown.join("config.json")),
        "--train",
        s(&train),
        "--valid",
        s(&valid),
        "-o",
        s(&grown),
        "--resume",
        "--stop-after",
        "2",
    ]);

    let small = tmp.path().join("small");
    let out = ok(&[
        "prune",
        s(&soup),
        "-o",
        s(&small),
        "--method",
        "neurons",
        "--sparsity",
        "0.5",
    ]);
    assert!(out.contains("parameters →"), "{out}");
    ok(&["eval", s(&small), "--input", s(&valid)]);
}

#[test]
fn bad_merge_configs_and_sizes_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let a = member("a");
    let unknown = write(
        "unknown.yaml",
        format!(
            "merge_method: linear\nslices: []\nmodels: [{{model: {}}}]\n",
            a.display()
        ),
    );
    let e = fails(&["merge", s(&unknown), "-o", s(&tmp.path().join("o"))]);
    assert!(e.contains("unknown field `slices`"), "{e}");
    let dense = write(
        "dense.yaml",
        format!(
            "merge_method: ties\nbase_model: {0}\nmodels: [{{model: {0}}}, {{model: {1}, parameters: {{weight: 1, density: 1.5}}}}]\n",
            a.display(),
            member("b").display()
        ),
    );
    let e = fails(&["merge", s(&dense), "-o", s(&tmp.path().join("o"))]);
    assert!(e.contains("models[1].parameters.density is 1.5"), "{e}");
    let text = write("notes.txt", "hello".into());
    let not_run = write(
        "notrun.yaml",
        format!(
            "merge_method: linear\nmodels: [{{model: {}, parameters: {{weight: 1}}}}, {{model: {}, parameters: {{weight: 1}}}}]\n",
            a.display(),
            text.display()
        ),
    );
    let e = fails(&["merge", s(&not_run), "-o", s(&tmp.path().join("o"))]);
    assert!(e.contains("not a neural run directory"), "{e}");
    let e = fails(&[
        "grow",
        s(&a),
        "--n-layer",
        "1",
        "--n-embd",
        "16",
        "-o",
        s(&tmp.path().join("g")),
    ]);
    assert!(e.contains("growing to a smaller size"), "{e}");
    let e = fails(&[
        "prune",
        s(&a),
        "-o",
        s(&tmp.path().join("p")),
        "--method",
        "magnitude",
        "--sparsity",
        "1",
    ]);
    assert!(e.contains("must be in [0, 1)"), "{e}");
}
