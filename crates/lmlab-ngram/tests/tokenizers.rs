//! Training over other tokenizers and vocabularies: bytes, and a words vocabulary with entries the
//! training text never uses (they receive only the uniform share). Both stay normalised.

mod common;

use common::synthetic_corpus;
use lmlab_core::model::encode_corpus;
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_ngram::{train, NgramModel, NgramOptions, DEFAULT_FALLBACK};
use lmlab_tokenize::{BytesTokenizer, WordsTrainer};

fn options(order: usize) -> NgramOptions {
    NgramOptions {
        order,
        discount_fallback: Some(DEFAULT_FALLBACK),
        ..NgramOptions::default()
    }
}

fn assert_normalised(model: &NgramModel, contexts: &[Vec<u32>]) {
    let bos = model.tokenizer().specials().bos;
    for context in contexts {
        let sum: f64 = (0..model.tokenizer().vocab().len() as u32)
            .filter(|&w| w != bos)
            .map(|w| 10f64.powf(model.log10_prob(context, w) as f64))
            .sum();
        assert!((sum - 1.0).abs() < 1e-5, "context {context:?}: {sum}");
    }
}

#[test]
fn bytes_tokenizer_models_are_normalised_and_round_trip() {
    let text = "the quick brown fox jumps over the lazy dog\nhello world\nthe end\n".repeat(20);
    let tokenizer = BytesTokenizer::new();
    let sequences = encode_corpus(&tokenizer, &text, SequenceMode::Paragraph);
    let model = train(&sequences, Box::new(tokenizer), &options(6)).unwrap();
    let tok = model.tokenizer();
    let context = tok.encode("the qu");
    assert_normalised(&model, &[vec![], context.clone(), tok.encode("zzzz")]);
    let dist = model.next_distribution(&context);
    let best = dist
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(tok.decode(&[best as u32]), "i");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bytes.lmlab");
    let provenance = lmlab_core::model_file::Provenance {
        corpus_sha256: String::new(),
        corpus_name: "inline".into(),
        sequences: SequenceMode::Paragraph,
        options: serde_json::to_value(options(6)).unwrap(),
        seed: None,
        lmlab_version: lmlab_core::LMLAB_VERSION.into(),
    };
    model.save(&path, provenance).unwrap();
    let back = NgramModel::load(&path).unwrap();
    assert_eq!(back.tokenizer().kind(), "bytes");
    assert_eq!(back.log_probs(&context), model.log_probs(&context));
}

#[test]
fn vocabulary_entries_unseen_in_training_get_the_uniform_share() {
    let text = synthetic_corpus(200, 40, 11);
    let bigger = format!("{text}{}", synthetic_corpus(50, 80, 12));
    let tokenizer = WordsTrainer::default().train(&bigger).unwrap();
    let sequences = encode_corpus(&tokenizer, &text, SequenceMode::Line);
    let model = train(&sequences, Box::new(tokenizer), &options(3)).unwrap();
    let tok = model.tokenizer();
    let unseen: Vec<u32> = (3..tok.vocab().len() as u32)
        .filter(|&id| !text.split_whitespace().any(|w| w == tok.vocab().token(id)))
        .collect();
    assert!(!unseen.is_empty());
    let unk = tok.specials().unk.unwrap();
    for &id in &unseen {
        assert_eq!(model.log10_prob(&[], id), model.log10_prob(&[], unk));
    }
    assert_normalised(&model, &[vec![], vec![unseen[0]], tok.encode("w1 w2")]);
}

#[test]
fn orders_one_to_ten_train_and_stay_normalised() {
    let text = synthetic_corpus(300, 30, 5);
    let tokenizer = WordsTrainer::default().train(&text).unwrap();
    let sequences = encode_corpus(&tokenizer, &text, SequenceMode::Line);
    for order in 1..=10 {
        let model = train(&sequences, Box::new(tokenizer.clone()), &options(order)).unwrap();
        assert_eq!(model.order(), order);
        let tok = model.tokenizer();
        assert_normalised(&model, &[vec![], tok.encode("w1 w2 w3 w4 w5 w6 w7 w8 w9")]);
    }
}

#[test]
fn pruned_models_stay_normalised_and_keep_prefixes() {
    let text = synthetic_corpus(400, 300, 9);
    let tokenizer = WordsTrainer::default().train(&text).unwrap();
    let sequences = encode_corpus(&tokenizer, &text, SequenceMode::Line);
    let full = train(&sequences, Box::new(tokenizer.clone()), &options(4)).unwrap();
    let pruned_options = NgramOptions {
        prune: vec![0, 1, 1, 2],
        ..options(4)
    };
    let pruned = train(&sequences, Box::new(tokenizer), &pruned_options).unwrap();
    let (f, p) = (full.ngram_counts(), pruned.ngram_counts());
    assert_eq!(f[0], p[0]);
    assert!(p[1] < f[1] && p[3] < f[3], "{f:?} {p:?}");
    // Every stored n-gram's prefix and suffix are stored too.
    for n in 2..=4 {
        for id in pruned.tables()[n - 1].ids() {
            let words = pruned.ngram_words(n, id);
            assert!(pruned.find_ngram(&words[1..]).is_some());
            assert!(pruned.find_ngram(&words[..n - 1]).is_some());
        }
    }
    let tok = pruned.tokenizer();
    assert_normalised(
        &pruned,
        &[
            vec![],
            tok.encode("w1"),
            tok.encode("w3 w1 w2"),
            tok.encode("w0 w0 w0"),
        ],
    );
}

#[test]
fn stream_mode_counts_across_line_ends() {
    // One sequence: "a b </s> c a </s>"; the bigram "</s> c" exists only because context crosses lines.
    let text = "a b\nc a\n";
    let tokenizer = WordsTrainer::default().train(text).unwrap();
    let sequences = encode_corpus(&tokenizer, text, SequenceMode::Stream);
    assert_eq!(sequences.len(), 1);
    let model = train(&sequences, Box::new(tokenizer), &options(3)).unwrap();
    let tok = model.tokenizer();
    let eos = tok.specials().eos;
    let c = tok.vocab().id("c").unwrap();
    assert!(model.find_ngram(&[eos, c]).is_some());
    let a = tok.vocab().id("a").unwrap();
    assert_normalised(&model, &[vec![], vec![a, eos], vec![eos]]);
}
