//! Bounded counting memory (`memory`, `temp_dir`): the counts of finished orders spill to
//! temporary files and come back when needed, with results identical to the in-memory count; a
//! model written order by order while it is trained is the file `save` writes; an unusable temp
//! dir is a clear error.

mod common;

use common::{synthetic_corpus, train_text};
use lmlab_core::model::encode_corpus;
use lmlab_core::model_file::Provenance;
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_ngram::{
    checked_specials, train_stream_to_file, NgramModel, NgramOptions, TokenStream, DEFAULT_FALLBACK,
};
use lmlab_tokenize::WordsTrainer;
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
        // 1 byte of memory: every order spills.
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
fn training_into_the_file_writes_what_save_writes() {
    let text = corpus();
    let out = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    for (order, prune, memory) in [
        (5, vec![], Some(1)),
        (3, vec![0, 0, 1], None),
        (1, vec![], None),
    ] {
        let options = NgramOptions {
            order,
            discount_fallback: Some(DEFAULT_FALLBACK),
            prune,
            memory,
            temp_dir: Some(temp.path().to_path_buf()),
        };
        let saved = bytes(&train_text(&text, &options).unwrap(), out.path(), "saved").0;
        let tokenizer = WordsTrainer::default().train(&text).unwrap();
        let (specials, vocab_size) = checked_specials(&tokenizer).unwrap();
        let mut stream = TokenStream::new(specials, vocab_size);
        for seq in encode_corpus(&tokenizer, &text, SequenceMode::Line) {
            stream.push_sequence(&seq.ids).unwrap();
        }
        let file = out.path().join("streamed.lmlab");
        let summary =
            train_stream_to_file(stream, Box::new(tokenizer), &options, &file, provenance())
                .unwrap();
        assert!(
            std::fs::read(&file).unwrap() == saved,
            "order {order}: files differ"
        );
        let model = NgramModel::load(&file).unwrap();
        assert_eq!(summary.ngram_counts, model.ngram_counts());
        assert_eq!(summary.parameter_count(), model.parameter_count());
    }
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
