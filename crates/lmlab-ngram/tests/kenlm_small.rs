//! Exactness against KenLM's lmplz on the small fixtures: same n-gram sets, every log10
//! probability and backoff within 1e-5.

mod common;

use common::{compare, shared, train_text};
use lmlab_ngram::arpa::read_arpa;
use lmlab_ngram::{NgramOptions, DEFAULT_FALLBACK};

fn check(text: &str, arpa: &str, order: usize, fallback: bool) {
    let Some(shared) = shared() else { return };
    let dir = shared.join("fixtures/kenlm/small");
    let text = std::fs::read_to_string(dir.join(text)).unwrap();
    let options = NgramOptions {
        order,
        discount_fallback: fallback.then_some(DEFAULT_FALLBACK),
        ..NgramOptions::default()
    };
    let ours = train_text(&text, &options).unwrap();
    let theirs = read_arpa(&dir.join(arpa)).unwrap();
    let diff = compare(&ours, &theirs);
    eprintln!(
        "{arpa}: {} n-grams, max |Δ log10 p| = {:.3e}, max |Δ log10 b| = {:.3e}",
        diff.ngrams, diff.prob, diff.bow
    );
    assert!(diff.prob <= 1e-5 && diff.bow <= 1e-5, "{arpa}: {diff:?}");
}

#[test]
fn ptb1k_order_4_equals_kenlm() {
    check("ptb1k.txt", "ptb1k.o4.arpa", 4, false);
}

#[test]
fn shakespeare_characters_order_6_with_fallback_equals_kenlm() {
    check("shakes_chars.txt", "shakes_chars.o6.arpa", 6, true);
}

#[test]
fn fortunes_de_ru_order_5_with_fallback_equals_kenlm() {
    check("fortunes_de_ru.txt", "fortunes_de_ru.o5.arpa", 5, true);
}

#[test]
fn shakespeare_characters_without_fallback_names_order_and_count() {
    let Some(shared) = shared() else { return };
    let text =
        std::fs::read_to_string(shared.join("fixtures/kenlm/small/shakes_chars.txt")).unwrap();
    let err = train_text(&text, &NgramOptions::with_order(6))
        .err()
        .expect("lmplz refuses this corpus without fallback")
        .to_string();
    assert!(
        err.contains("1-gram discount out of range for adjusted count 3"),
        "{err}"
    );
    assert!(err.contains("--discount-fallback"), "{err}");
}
