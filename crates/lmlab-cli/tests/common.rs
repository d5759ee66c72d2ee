//! Helpers shared by the CLI tests.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The `lmlab` binary.
pub fn lmlab() -> Command {
    Command::cargo_bin("lmlab").unwrap()
}

/// Runs `lmlab args...`, expecting success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = lmlab().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "lmlab {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `lmlab args...`, expecting a clean failure (exit code 1 or 2, no panic); returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = lmlab().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "lmlab {args:?} succeeded");
    assert!(
        matches!(out.status.code(), Some(1) | Some(2)),
        "exit {:?}: {stderr}",
        out.status
    );
    assert!(
        !stderr.contains("panicked"),
        "lmlab {args:?} panicked: {stderr}"
    );
    stderr
}

/// A small training and test text in `dir`.
pub fn texts(dir: &Path) -> (PathBuf, PathBuf) {
    let train = dir.join("train.txt");
    let test = dir.join("test.txt");
    let mut body = String::new();
    for i in 0..200 {
        body.push_str(&format!("the cat number {} sat on the mat\n", i % 17));
        body.push_str("a dog ran after the cat\n");
    }
    std::fs::write(&train, body).unwrap();
    std::fs::write(&test, "the cat sat on the dog\na zebra ran\n").unwrap();
    (train, test)
}

/// Path as &str.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The texts of [`texts`] and a Witten-Bell words baseline trained on the first, as `m.lmlab`.
pub fn trained(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (train, test) = texts(dir);
    let model = dir.join("m.lmlab");
    ok(&["train", "baseline", "--input", s(&train), "-o", s(&model)]);
    (train, test, model)
}

/// `../shared/REL` next to the workspace, or `None` (with a message: the test then skips) when
/// the shared data are not here.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipping: {} not found (the shared data are not here)",
            path.display()
        );
        None
    }
}
