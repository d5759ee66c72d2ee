//! Every bad input named by the spine issue gives a clear message and no panic.

mod common;
use common::{fails, lmlab, ok, s, trained};

const SUBCOMMANDS: &[&[&str]] = &[
    &[],
    &["train"],
    &["train", "baseline"],
    &["eval"],
    &["eval-pairs"],
    &["ensemble"],
    &["probs"],
    &["probs", "import"],
    &["probs", "export"],
    &["generate"],
    &["info"],
    &["demo"],
];

#[test]
fn every_subcommand_has_help_and_version_works() {
    for sub in SUBCOMMANDS {
        let mut args = sub.to_vec();
        args.push("--help");
        let out = ok(&args);
        assert!(out.contains("Usage: lmlab"), "{sub:?}: {out}");
    }
    let version = ok(&["--version"]);
    assert!(version.starts_with("lmlab 0."), "{version}");
}

#[test]
fn missing_directory_empty_and_invalid_utf8_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _, model) = trained(dir.path());

    let missing = dir.path().join("nope.txt");
    let msg = fails(&["train", "baseline", "--input", s(&missing), "-o", s(&model)]);
    assert!(msg.contains("nope.txt: no such file"), "{msg}");
    let msg = fails(&["eval", s(&model), "--input", s(&missing)]);
    assert!(msg.contains("nope.txt: no such file"), "{msg}");
    let msg = fails(&["eval", s(&missing), "--input", s(&train)]);
    assert!(msg.contains("nope.txt: no such file"), "{msg}");

    let msg = fails(&["eval", s(&model), "--input", s(dir.path())]);
    assert!(msg.contains("is a directory"), "{msg}");

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let msg = fails(&["train", "baseline", "--input", s(&empty), "-o", s(&model)]);
    assert!(msg.contains("empty.txt: file is empty"), "{msg}");

    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, b"fine\nstill fine\nbroken \xc3\x28 here\n").unwrap();
    let msg = fails(&["eval", s(&model), "--input", s(&bad)]);
    assert!(
        msg.contains("bad.txt") && msg.contains("line 3") && msg.contains("byte offset 23"),
        "{msg}"
    );
}

#[test]
fn truncated_foreign_other_kind_and_future_model_files() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, model) = trained(dir.path());
    let bytes = std::fs::read(&model).unwrap();
    let cut = dir.path().join("cut.lmlab");
    for len in [1, 8, 31, 32, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        let msg = fails(&["eval", s(&cut), "--input", s(&test)]);
        assert!(msg.contains("truncated model file"), "cut at {len}: {msg}");
    }
    let msg = fails(&["eval", s(&train), "--input", s(&test)]);
    assert!(msg.contains("not an lmlab model file"), "{msg}");

    let mut future = bytes.clone();
    future[8] = 2;
    std::fs::write(&cut, &future).unwrap();
    let msg = fails(&["eval", s(&cut), "--input", s(&test)]);
    assert!(
        msg.contains("format version 2 is newer than this lmlab reads"),
        "{msg}"
    );

    // A well-formed file of a kind this build does not know.
    let file = lmlab_core::model_file::ModelFile::open(&model).unwrap();
    let mut header = file.header().clone();
    header.kind = "hyena".into();
    lmlab_core::model_file::write_model_file(&cut, &header, file.payload()).unwrap();
    let msg = fails(&["eval", s(&cut), "--input", s(&test)]);
    assert!(msg.contains("unknown model kind 'hyena'"), "{msg}");
    // A future version of the baseline kind itself.
    header.kind = "baseline".into();
    header.kind_version = 5;
    lmlab_core::model_file::write_model_file(&cut, &header, file.payload()).unwrap();
    let msg = fails(&["eval", s(&cut), "--input", s(&test)]);
    assert!(
        msg.contains("'baseline' model format version 5 is newer"),
        "{msg}"
    );
}

#[test]
fn probability_files_that_disagree_or_hold_impossible_values() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, model) = trained(dir.path());
    let (a, b) = (
        dir.path().join("a.probs.tsv"),
        dir.path().join("b.probs.tsv"),
    );
    ok(&["eval", s(&model), "--input", s(&test), "--probs", s(&a)]);
    ok(&["eval", s(&model), "--input", s(&train), "--probs", s(&b)]);
    let msg = fails(&["ensemble", "--dev", s(&a), s(&b)]);
    assert!(msg.contains("scores a different text"), "{msg}");

    // Same header, one token changed, then one row removed.
    let text = std::fs::read_to_string(&a).unwrap();
    std::fs::write(
        &b,
        text.replacen("\tzebra\t", "\tzebu\t", 1)
            .replacen("\t<unk>\t", "\tcat\t", 1),
    )
    .unwrap();
    let msg = fails(&["ensemble", "--dev", s(&a), s(&b)]);
    assert!(
        msg.contains("token streams differ at row 9") && msg.contains("line 16"),
        "{msg}"
    );
    let shorter: Vec<&str> = text.lines().collect();
    std::fs::write(&b, shorter[..shorter.len() - 1].join("\n") + "\n").unwrap();
    let msg = fails(&["ensemble", "--dev", s(&a), s(&b)]);
    assert!(
        msg.contains("has 11 rows but") && msg.contains("has 10"),
        "{msg}"
    );
    let msg = fails(&["ensemble", "--dev", s(&a), "--test", s(&a), s(&a)]);
    assert!(msg.contains("1 dev files but 2 test files"), "{msg}");

    let words = dir.path().join("w.txt");
    let probs = dir.path().join("p.txt");
    std::fs::write(&words, "a\nb\nc\n").unwrap();
    for (value, needle) in [
        ("0", "probability 0 is outside (0, 1]"),
        ("1.2", "probability 1.2 is outside (0, 1]"),
    ] {
        std::fs::write(&probs, format!("0.5\n0.5\n{value}\n")).unwrap();
        let msg = fails(&[
            "probs",
            "import",
            "--words",
            s(&words),
            "--probs",
            s(&probs),
            "-o",
            s(&a),
        ]);
        assert!(msg.contains("line 3") && msg.contains(needle), "{msg}");
    }
    std::fs::write(&probs, "0.5\n0.5\n").unwrap();
    let msg = fails(&[
        "probs",
        "import",
        "--words",
        s(&words),
        "--probs",
        s(&probs),
        "-o",
        s(&a),
    ]);
    assert!(
        msg.contains("has 3 lines but") && msg.contains("has 2"),
        "{msg}"
    );
}

#[test]
fn options_out_of_range_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test, model) = trained(dir.path());
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "train",
                "baseline",
                "--input",
                s(&train),
                "-o",
                s(&model),
                "--smoothing",
                "add-k",
                "--k",
                "0",
            ],
            "--k",
        ),
        (
            &[
                "train",
                "baseline",
                "--input",
                s(&train),
                "-o",
                s(&model),
                "--max-words",
                "0",
            ],
            "--max-words",
        ),
        (
            &[
                "train",
                "baseline",
                "--input",
                s(&train),
                "-o",
                s(&model),
                "--sequences",
                "lines",
            ],
            "expected line, paragraph or stream",
        ),
        (
            &["generate", s(&model), "--temperature", "-1"],
            "--temperature",
        ),
        (
            &["generate", s(&model), "--max-tokens", "0"],
            "--max-tokens",
        ),
        (
            &["ensemble", "--dev", s(&test), "--max-iterations", "0"],
            "--max-iterations",
        ),
        (
            &["ensemble", "--dev", s(&test), "--tolerance", "nan"],
            "--tolerance",
        ),
    ];
    for (args, needle) in cases {
        let msg = fails(args);
        assert!(msg.contains(needle), "{args:?}: {msg}");
    }
    let out = lmlab().args(["ensemble"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn model_files_given_as_probability_files_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, model) = trained(dir.path());
    let out = dir.path().join("out.txt");
    let words = dir.path().join("words.txt");
    std::fs::write(&words, "a\n").unwrap();
    let expected = format!(
        "{} is an lmlab model file, not a probability file; score text with \
         `lmlab eval MODEL --input TEXT --probs OUT.probs.tsv`",
        model.display()
    );
    for args in [
        vec!["probs", "export", s(&model), "-o", s(&out)],
        vec!["ensemble", "--dev", s(&model)],
        vec![
            "probs",
            "import",
            "--words",
            s(&words),
            "--probs",
            s(&model),
            "-o",
            s(&out),
        ],
    ] {
        let msg = fails(&args);
        assert!(
            msg.contains(&expected) && !msg.contains("UTF-8"),
            "{args:?}: {msg}"
        );
    }
}

#[test]
fn arpa_names_with_unsupported_compression_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = common::texts(dir.path());
    let model = dir.path().join("kn.lmlab");
    ok(&[
        "train",
        "ngram",
        "--order",
        "3",
        "--discount-fallback",
        "--input",
        s(&train),
        "-o",
        s(&model),
    ]);
    let supported = ".arpa, .arpa.gz (gzip) or .arpa.xz (xz)";
    for name in ["kn.arpa.bz2", "kn.arpa.zst", "kn.bz2"] {
        let arpa = dir.path().join(name);
        let msg = fails(&["ngram", "export-arpa", s(&model), "-o", s(&arpa)]);
        assert!(msg.contains(name) && msg.contains(supported), "{msg}");
        assert!(!arpa.exists(), "{name} was written");
    }
    let plain = dir.path().join("kn.arpa");
    ok(&["ngram", "export-arpa", s(&model), "-o", s(&plain)]);
    let renamed = dir.path().join("kn.arpa.bz2");
    std::fs::copy(&plain, &renamed).unwrap();
    let out = dir.path().join("back.lmlab");
    let msg = fails(&["ngram", "import-arpa", s(&renamed), "-o", s(&out)]);
    assert!(
        msg.contains("kn.arpa.bz2") && msg.contains(supported),
        "{msg}"
    );
}

#[cfg(unix)]
#[test]
fn an_unwritable_output_directory_is_one_message_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = common::texts(dir.path());
    // A regular file used as a directory fails for every user, root included.
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "x").unwrap();
    let out = plain.join("m.lmlab");
    let msg = fails(&["train", "baseline", "--input", s(&train), "-o", s(&out)]);
    assert_eq!(
        msg.trim(),
        format!(
            "error: cannot write into directory {}: Not a directory",
            plain.display()
        )
    );
    // A read-only directory refuses everyone but root.
    let readonly = dir.path().join("readonly");
    std::fs::create_dir(&readonly).unwrap();
    std::fs::set_permissions(
        &readonly,
        std::os::unix::fs::PermissionsExt::from_mode(0o555),
    )
    .unwrap();
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("skipping the read-only directory case: running as root, which may write anyway");
        return;
    }
    let msg = fails(&[
        "train",
        "baseline",
        "--input",
        s(&train),
        "-o",
        s(&readonly.join("m.lmlab")),
    ]);
    assert_eq!(
        msg.trim(),
        format!(
            "error: cannot write into directory {}: Permission denied",
            readonly.display()
        )
    );
}
