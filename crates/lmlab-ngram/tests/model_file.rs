//! The `ngram` model file: round trip, truncation, foreign and other-kind files; and the
//! LanguageModel contract (scorer = log_probs, distributions that sum to 1).

mod common;

use common::{synthetic_corpus, train_text};
use lmlab_core::model_file::{write_model_file, ModelHeader, Provenance};
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_ngram::{NgramModel, NgramOptions, DEFAULT_FALLBACK};

fn provenance() -> Provenance {
    Provenance {
        corpus_sha256: "00".into(),
        corpus_name: "synthetic".into(),
        sequences: SequenceMode::Line,
        options: serde_json::json!({"order": 3}),
        seed: None,
        lmlab_version: lmlab_core::LMLAB_VERSION.into(),
    }
}

fn small_model(order: usize) -> NgramModel {
    let text = synthetic_corpus(400, 60, 7);
    let options = NgramOptions {
        order,
        discount_fallback: Some(DEFAULT_FALLBACK),
        ..NgramOptions::default()
    };
    train_text(&text, &options).unwrap()
}

fn sample_sequences(model: &NgramModel) -> Vec<Vec<u32>> {
    let tok = model.tokenizer();
    let eos = tok.specials().eos;
    ["w1 w2 w3 w4", "w0 w0 w0", "unseen w5 w1", ""]
        .iter()
        .map(|s| {
            let mut ids = tok.encode(s);
            ids.push(eos);
            ids
        })
        .collect()
}

#[test]
fn save_and_load_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    for order in [1, 2, 4] {
        let model = small_model(order);
        let path = dir.path().join(format!("m{order}.lmlab"));
        model.save(&path, provenance()).unwrap();
        let back = NgramModel::load(&path).unwrap();
        assert_eq!(back.tables(), model.tables());
        if cfg!(target_endian = "little") {
            assert!(back.tables()[1..].iter().all(|t| t.is_mapped()));
        }
        assert_eq!(back.discounts(), model.discounts());
        assert_eq!(back.describe(), model.describe());
        assert_eq!(
            back.tokenizer().fingerprint(),
            model.tokenizer().fingerprint()
        );
        for ids in sample_sequences(&model) {
            assert_eq!(back.log_probs(&ids), model.log_probs(&ids));
        }
    }
}

/// Large tables (2 MiB and more) are used in place from the mapped file, as small ones are: the
/// same slots, the same scores, nothing copied.
#[test]
fn large_tables_are_used_in_place_when_loaded_and_score_the_same() {
    let mut state = 11u64;
    let mut words = Vec::with_capacity(300_000);
    for _ in 0..300_000 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        words.push(format!("w{}", (state >> 33) % 2000));
    }
    let text: String = words.chunks(30).map(|line| line.join(" ") + "\n").collect();
    let dir = tempfile::tempdir().unwrap();
    let options = NgramOptions {
        order: 2,
        discount_fallback: Some(DEFAULT_FALLBACK),
        ..NgramOptions::default()
    };
    let model = train_text(&text, &options).unwrap();
    let path = dir.path().join("big.lmlab");
    model.save(&path, provenance()).unwrap();
    let back = NgramModel::load(&path).unwrap();
    let bigrams = &back.tables()[1];
    assert!(
        std::mem::size_of_val(bigrams.entries()) >= 2 << 20,
        "{bigrams:?}"
    );
    if cfg!(all(target_os = "linux", target_endian = "little")) {
        assert!(bigrams.is_mapped(), "{bigrams:?}");
    }
    assert_eq!(back.tables(), model.tables());
    let sequences: Vec<Vec<u32>> = text
        .lines()
        .take(200)
        .map(|line| back.tokenizer().encode(line))
        .collect();
    for ids in &sequences {
        assert_eq!(back.log_probs(ids), model.log_probs(ids));
    }
}

#[test]
fn truncated_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.lmlab");
    small_model(3).save(&path, provenance()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.lmlab");
    let step = (bytes.len() / 300).max(1);
    for len in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        let msg = NgramModel::load(&cut)
            .err()
            .expect("loaded a cut file")
            .to_string();
        assert!(
            msg.contains("truncated") || msg.contains("empty"),
            "length {len}: {msg}"
        );
    }
}

#[test]
fn foreign_other_kind_future_and_corrupted_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.lmlab");
    std::fs::write(&path, "\\data\\\nngram 1=3\n").unwrap();
    let msg = NgramModel::load(&path).err().unwrap().to_string();
    assert!(msg.contains("not an lmlab model file"), "{msg}");

    let model = small_model(2);
    let mut header = ModelHeader {
        kind: "baseline".into(),
        kind_version: 1,
        tokenizer: model.tokenizer().to_json(),
        tokenizer_fingerprint: model.tokenizer().fingerprint(),
        provenance: provenance(),
    };
    write_model_file(&path, &header, b"12345678").unwrap();
    let msg = NgramModel::load(&path).err().unwrap().to_string();
    assert!(
        msg.contains("is a 'baseline' model, expected a 'ngram' model"),
        "{msg}"
    );

    header.kind = "ngram".into();
    header.kind_version = 99;
    write_model_file(&path, &header, b"12345678").unwrap();
    let msg = NgramModel::load(&path).err().unwrap().to_string();
    assert!(msg.contains("version 99 is newer"), "{msg}");

    // A payload with a valid checksum but nonsense inside.
    header.kind_version = 1;
    for payload in [
        vec![0u8; 8],
        [2u64.to_le_bytes(), 5u64.to_le_bytes()].concat(),
        vec![0xff; 64],
    ] {
        write_model_file(&path, &header, &payload).unwrap();
        let msg = NgramModel::load(&path).err().unwrap().to_string();
        assert!(
            msg.contains("x.lmlab") && (msg.contains("corrupted") || msg.contains("ends early")),
            "{msg}"
        );
    }
}

#[test]
fn scorer_log_probs_and_distributions_agree() {
    for order in [1, 3, 5] {
        let model = small_model(order);
        let bos = model.tokenizer().specials().bos as usize;
        for ids in sample_sequences(&model) {
            let log_probs = model.log_probs(&ids);
            let mut scorer = model.ngram_scorer();
            scorer.reset();
            for (i, &id) in ids.iter().enumerate() {
                let via_scorer = scorer.score_next(id);
                assert!((via_scorer - log_probs[i]).abs() < 1e-12);
                let dist = model.next_distribution(&ids[..i]);
                assert_eq!(dist.len(), model.tokenizer().vocab().len());
                assert_eq!(dist[bos], 0.0);
                let sum: f64 = dist.iter().sum();
                assert!((sum - 1.0).abs() < 1e-9, "sum {sum}");
                let p = dist[id as usize];
                assert!(
                    (p.ln() - log_probs[i]).abs() < 1e-5,
                    "order {order} token {i}: {} vs {}",
                    p.ln(),
                    log_probs[i]
                );
            }
        }
    }
}

#[test]
fn stepper_distributions_equal_next_distribution() {
    let model = small_model(4);
    for ids in sample_sequences(&model) {
        let mut stepper = model.stepper();
        for i in 0..ids.len() {
            assert_eq!(stepper.distribution(), model.next_distribution(&ids[..i]));
            stepper.push(ids[i]);
        }
        lmlab_core::test_support::check_stepper(&model, &ids, 1e-5);
    }
}

#[test]
fn unnormalised_mass_is_tiny() {
    // The backoff model itself (before the distribution's renormalisation) sums to 1.
    let model = small_model(4);
    let bos = model.tokenizer().specials().bos;
    for context in [vec![], vec![3u32], vec![3, 4, 5], vec![0, 0]] {
        let sum: f64 = (0..model.tokenizer().vocab().len() as u32)
            .filter(|&w| w != bos)
            .map(|w| 10f64.powf(model.log10_prob(&context, w) as f64))
            .sum();
        assert!((sum - 1.0).abs() < 1e-5, "context {context:?}: {sum}");
    }
}
