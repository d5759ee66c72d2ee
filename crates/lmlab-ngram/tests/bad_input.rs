//! Bad training input: absurd orders, empty corpora, one repeated line (discount error naming the
//! order and count, then success with fallback), bad pruning thresholds.

mod common;

use common::train_text;
use lmlab_core::model::TokenSequence;
use lmlab_core::LanguageModel;
use lmlab_ngram::{train, NgramOptions, DEFAULT_FALLBACK};
use lmlab_tokenize::WordsTrainer;

#[test]
fn order_zero_and_absurd_orders_are_refused() {
    let err = train_text("a b\n", &NgramOptions::with_order(0))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("order 0"), "{err}");
    let err = train_text("a b\n", &NgramOptions::with_order(1000))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("order 1000"), "{err}");
}

#[test]
fn empty_corpus_is_refused() {
    let tokenizer = WordsTrainer::default().train("").unwrap();
    let err = train(&[], Box::new(tokenizer), &NgramOptions::with_order(3))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn start_token_inside_a_sequence_is_refused_with_its_line() {
    let tokenizer = WordsTrainer::default().train("a b\n").unwrap();
    let seqs = vec![
        TokenSequence {
            ids: vec![3, 2],
            ..Default::default()
        },
        TokenSequence {
            ids: vec![3, 1, 2],
            ..Default::default()
        },
    ];
    let err = train(&seqs, Box::new(tokenizer), &NgramOptions::with_order(2))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("line 2") && err.contains("<s>"), "{err}");
}

#[test]
fn one_repeated_line_needs_fallback_then_works() {
    let text = "the cat sat on the mat\n".repeat(50);
    let err = train_text(&text, &NgramOptions::with_order(3))
        .err()
        .expect("discounts cannot be estimated from one repeated line")
        .to_string();
    assert!(err.contains("-gram discount"), "{err}");
    assert!(err.contains("adjusted count"), "{err}");
    assert!(err.contains("--discount-fallback"), "{err}");

    let options = NgramOptions {
        order: 3,
        discount_fallback: Some(DEFAULT_FALLBACK),
        ..NgramOptions::default()
    };
    let model = train_text(&text, &options).unwrap();
    assert!(!model.warnings().is_empty());
    let dist = model.next_distribution(&[]);
    assert!((dist.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    let ids = model.tokenizer().encode("the cat sat");
    assert!(model
        .log_probs(&ids)
        .iter()
        .all(|p| p.is_finite() && *p < 0.0));

    // One single line, too.
    let single = train_text("just one line here\n", &options).unwrap();
    assert_eq!(single.order(), 3);
}

#[test]
fn bad_fallback_values_and_pruning_are_refused() {
    let options = NgramOptions {
        order: 2,
        discount_fallback: Some([0.5, 3.0, 1.5]),
        ..NgramOptions::default()
    };
    let err = train_text("a b\n", &options).err().unwrap().to_string();
    assert!(err.contains("D2"), "{err}");
    for (prune, expected) in [
        (vec![1], "must be 0"),
        (vec![0, 2, 1], "must not decrease"),
        (vec![0, 0, 0, 1], "orders 1 through 4"),
    ] {
        let options = NgramOptions {
            order: 3,
            prune,
            ..NgramOptions::default()
        };
        let err = train_text("a b\n", &options).err().unwrap().to_string();
        assert!(err.contains("--prune") && err.contains(expected), "{err}");
    }
}
