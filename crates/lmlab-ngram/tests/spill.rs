//! Bounded counting memory (`memory`, `temp_dir`): sorted runs spill to temporary files and are
//! merged, with results identical to the in-memory count; an unusable temp dir is a clear error.

mod common;

use common::{synthetic_corpus, train_text};
use lmlab_core::model_file::Provenance;
use lmlab_core::SequenceMode;
use lmlab_ngram::{NgramModel, NgramOptions, DEFAULT_FALLBACK};
use std::path::Path;

fn provenance() -> Provenance {
    Provenance {
        corpus_sha256: "00".into(),
        corpus_name: "synthetic".into(),
        sequences: SequenceMode::Line,
        options: serde_json::json!({}),
        seed: None,
        lmlab_version: lmlab_core::LMLAB_VERSION.into(),
    }
}

/// The model file and the ARPA text: every n-gram, probability, backoff and discount.
fn bytes(model: &NgramModel, dir: &Path, name: &str) -> (Vec<u8>, Vec<u8>) {
    let file = dir.join(format!("{name}.lmlab"));
    model.save(&file, provenance()).unwrap();
    let arpa = dir.join(format!("{name}.arpa"));
    lmlab_ngram::arpa::write_arpa(model, &arpa).unwrap();
    (std::fs::read(file).unwrap(), std::fs::read(arpa).unwrap())
}

/// The ptb1k fixture when ../shared is there, a synthetic corpus otherwise.
fn corpus() -> String {
    common::shared()
        .and_then(|s| std::fs::read_to_string(s.join("fixtures/kenlm/small/ptb1k.txt")).ok())
        .unwrap_or_else(|| synthetic_corpus(1500, 80, 11))
}

#[test]
fn spilled_counts_equal_in_memory_counts() {
    let text = corpus();
    let out = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    for (order, prune) in [(5, vec![]), (4, vec![0, 1, 1, 2]), (1, vec![])] {
        let base = NgramOptions {
            order,
            discount_fallback: Some(DEFAULT_FALLBACK),
            prune,
            ..NgramOptions::default()
        };
        let in_memory = train_text(&text, &base).unwrap();
        // 1 byte of memory: runs of the minimum size, dozens of spills per order.
        let tiny = NgramOptions {
            memory: Some(1),
            temp_dir: Some(temp.path().to_path_buf()),
            ..base.clone()
        };
        let spilled = train_text(&text, &tiny).unwrap();
        let a = bytes(&in_memory, out.path(), &format!("mem{order}"));
        let b = bytes(&spilled, out.path(), &format!("spill{order}"));
        assert!(a.1 == b.1, "order {order}: ARPA differs");
        assert!(a.0 == b.0, "order {order}: model files differ");
        assert_eq!(in_memory.ngram_counts(), spilled.ngram_counts());
        // A cap that holds everything takes the in-memory path and agrees too.
        let roomy = NgramOptions {
            memory: Some(1 << 30),
            ..base.clone()
        };
        let c = bytes(
            &train_text(&text, &roomy).unwrap(),
            out.path(),
            &format!("roomy{order}"),
        );
        assert!(a == c, "order {order}: roomy cap differs");
    }
    // The temporary files are gone.
    assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
}

#[test]
fn an_unusable_temp_dir_is_a_clear_error() {
    let text = synthetic_corpus(300, 40, 3);
    let dir = tempfile::tempdir().unwrap();
    // A path under a regular file cannot be created, even by root.
    let file = dir.path().join("somefile");
    std::fs::write(&file, b"x").unwrap();
    let bad = file.join("sub");
    let options = NgramOptions {
        order: 3,
        discount_fallback: Some(DEFAULT_FALLBACK),
        memory: Some(1),
        temp_dir: Some(bad.clone()),
        ..NgramOptions::default()
    };
    let err = train_text(&text, &options).err().unwrap().to_string();
    assert!(
        err.contains(&bad.display().to_string()) && err.contains("temporary directory"),
        "{err}"
    );
    // Without a cap the temp dir is never touched.
    let options = NgramOptions {
        memory: None,
        ..options
    };
    train_text(&text, &options).unwrap();
}
