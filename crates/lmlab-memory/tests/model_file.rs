//! The "memory" model file: exact round trips, deterministic bytes, and clear errors for truncated,
//! corrupted, foreign, other-kind and future-version files.

mod common;

use common::{provenance, train_text, TEXT};
use lmlab_core::model_file::{write_model_file, ModelFile, ModelHeader};
use lmlab_core::LanguageModel;
use lmlab_memory::{MemoryModel, MemoryOptions, KIND, KIND_VERSION};

fn saved(options: MemoryOptions) -> (tempfile::TempDir, std::path::PathBuf, MemoryModel) {
    let model = train_text(TEXT, options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.lmlab");
    model.save(&path, provenance()).unwrap();
    (dir, path, model)
}

#[test]
fn round_trips_are_exact_and_deterministic() {
    for options in [
        MemoryOptions::igtree(3),
        MemoryOptions::tribl2(2),
        MemoryOptions {
            prune: true,
            ..MemoryOptions::igtree(3)
        },
    ] {
        let (dir, path, model) = saved(options.clone());
        let again = dir.path().join("again.lmlab");
        model.save(&again, provenance()).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&again).unwrap()
        );
        let back = MemoryModel::load(&path).unwrap();
        assert_eq!(back.options(), &options);
        assert_eq!(back.tree(), model.tree());
        assert_eq!(back.feature_weights(), model.feature_weights());
        let tok = model.tokenizer();
        let ids = tok.encode("the dog sat on a mat the cat ran");
        assert_eq!(back.log_probs(&ids), model.log_probs(&ids));
        assert_eq!(back.predictions(&ids), model.predictions(&ids));
        assert_eq!(back.kind(), KIND);
        let file = ModelFile::open(&path).unwrap();
        assert_eq!(file.header().kind, "memory");
        assert!(MemoryModel::from_file(&file).is_ok());
        // A reloaded unpruned model still takes more data.
        if !options.prune {
            let mut grown = back;
            grown
                .add(&lmlab_core::model::encode_corpus(
                    tok,
                    "the cat sat\n",
                    lmlab_core::SequenceMode::Line,
                ))
                .unwrap();
        }
    }
}

#[test]
fn truncated_and_corrupted_files_are_refused() {
    let (dir, path, _) = saved(MemoryOptions::igtree(2));
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.lmlab");
    for len in (0..bytes.len()).step_by(7) {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        let err = MemoryModel::load(&cut).expect_err("truncated file loaded");
        let msg = err.to_string();
        assert!(msg.contains("cut.lmlab"), "{msg}");
    }
    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x55;
    std::fs::write(&cut, &flipped).unwrap();
    let msg = MemoryModel::load(&cut).err().unwrap().to_string();
    assert!(msg.contains("checksum"), "{msg}");
}

#[test]
fn payloads_that_disagree_are_corrupted_not_panics() {
    let (dir, path, _) = saved(MemoryOptions::igtree(2));
    let file = ModelFile::open(&path).unwrap();
    let header = file.header().clone();
    let payload = file.payload().to_vec();
    let bad = dir.path().join("bad.lmlab");
    // Flip bytes one by one (with a valid checksum): every result loads or fails cleanly.
    for at in (0..payload.len()).step_by(3) {
        let mut p = payload.clone();
        p[at] = p[at].wrapping_add(101);
        write_model_file(&bad, &header, &p).unwrap();
        if let Err(e) = MemoryModel::load(&bad) {
            let msg = e.to_string();
            assert!(
                msg.contains("corrupted") || msg.contains("absurd"),
                "byte {at}: {msg}"
            );
        }
    }
    write_model_file(&bad, &header, b"not a payload").unwrap();
    let msg = MemoryModel::load(&bad).err().unwrap().to_string();
    assert!(msg.contains("corrupted"), "{msg}");
}

#[test]
fn foreign_other_kind_and_future_files_are_named() {
    let (dir, path, _) = saved(MemoryOptions::igtree(2));
    let file = ModelFile::open(&path).unwrap();
    let other = dir.path().join("other.lmlab");

    std::fs::write(&other, b"timbl IGTree instance base\n").unwrap();
    let msg = MemoryModel::load(&other).err().unwrap().to_string();
    assert!(msg.contains("not an lmlab model file"), "{msg}");

    let header = ModelHeader {
        kind: "ngram".into(),
        ..file.header().clone()
    };
    write_model_file(&other, &header, file.payload()).unwrap();
    let msg = MemoryModel::load(&other).err().unwrap().to_string();
    assert!(
        msg.contains("is a 'ngram' model, expected a 'memory' model"),
        "{msg}"
    );

    let header = ModelHeader {
        kind_version: KIND_VERSION + 1,
        ..file.header().clone()
    };
    write_model_file(&other, &header, file.payload()).unwrap();
    let msg = MemoryModel::load(&other).err().unwrap().to_string();
    assert!(msg.contains("newer than this lmlab reads"), "{msg}");

    let missing = dir.path().join("missing.lmlab");
    let msg = MemoryModel::load(&missing).err().unwrap().to_string();
    assert!(msg.contains("missing.lmlab"), "{msg}");
}
