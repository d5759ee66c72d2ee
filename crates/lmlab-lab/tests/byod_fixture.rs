//! lmlab's BYOD transformations against what BYOD's own functions made of the same documents
//! (`tests/fixtures/byod/fixture.json`, written by `make_fixture.py` beside it from a BYOD
//! checkout): sentences, word tokens, detokenization, negation, word swaps (same seed, same draws),
//! long-range triplets, tokenization order and cuts, and Python's raw random draws.

use lmlab_lab::probes::detok::wikitext_detokenize;
use lmlab_lab::probes::pyrandom::PyRandom;
use lmlab_lab::probes::sentences::sentences;
use lmlab_lab::probes::transform::{
    cut_every, long_range_triplets, negation_pairs, tokenization_texts, word_count,
    word_order_pairs,
};
use lmlab_lab::probes::words::word_tokens;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/byod/fixture.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn numbers(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

fn documents(f: &Value) -> Vec<String> {
    strings(&f["documents"])
}

#[test]
fn sentences_words_and_detokenization_equal_nltk_and_byod() {
    let f = fixture();
    let docs = documents(&f);
    let mut all = Vec::new();
    for (doc, expected) in docs.iter().zip(f["sentences"].as_array().unwrap()) {
        let got: Vec<String> = sentences(doc).into_iter().map(str::to_string).collect();
        assert_eq!(got, strings(expected), "sentences of {doc:?}");
        all.extend(got);
    }
    for (sentence, expected) in all.iter().zip(f["word_tokens"].as_array().unwrap()) {
        assert_eq!(
            word_tokens(sentence),
            strings(expected),
            "tokens of {sentence:?}"
        );
    }
    for (doc, expected) in docs.iter().zip(strings(&f["detokenized"])) {
        assert_eq!(wikitext_detokenize(doc), expected);
    }
    for (sentence, expected) in all.iter().zip(f["cuts5"].as_array().unwrap()) {
        assert_eq!(cut_every(sentence, 5), strings(expected));
    }
}

#[test]
fn transformations_equal_byods_with_the_same_seed() {
    let f = fixture();
    let seed = f["seed"].as_u64().unwrap();
    let docs = documents(&f);
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();

    let negation: Vec<[String; 2]> = negation_pairs(&docs, usize::MAX)
        .into_iter()
        .map(|p| [p.original, p.negated])
        .collect();
    let expected: Vec<[String; 2]> = serde_json::from_value(f["negation"].clone()).unwrap();
    assert!(!expected.is_empty());
    assert_eq!(negation, expected);

    let swaps: Vec<[String; 2]> = word_order_pairs(&docs, 1, seed, usize::MAX)
        .into_iter()
        .map(|p| [p.original, p.swapped])
        .collect();
    let expected: Vec<[String; 2]> = serde_json::from_value(f["word_order"].clone()).unwrap();
    assert!(!expected.is_empty());
    assert_eq!(swaps, expected);

    let long: Vec<&str> = docs
        .iter()
        .copied()
        .filter(|d| word_count(d) > 100)
        .collect();
    let triplets: Vec<[String; 3]> = long_range_triplets(&long, 3, 2, seed, usize::MAX)
        .into_iter()
        .map(|t| [t.last, t.original, t.replaced])
        .collect();
    let expected: Vec<[String; 3]> = serde_json::from_value(f["long_range"].clone()).unwrap();
    assert!(expected.len() >= 2);
    assert_eq!(triplets, expected);

    assert_eq!(
        tokenization_texts(&docs, seed, usize::MAX),
        strings(&f["tokenization_order"])
    );
}

#[test]
fn python_random_draws_are_reproduced() {
    let f = fixture();
    let r = &f["python_random"];
    let mut rng = PyRandom::new(42);
    let draws: Vec<u64> = (0..5).map(|_| rng.getrandbits(32) as u64).collect();
    assert_eq!(draws, numbers(&r["getrandbits32_seed42"]));
    let mut rng = PyRandom::new((1 << 40) + 7);
    let draws: Vec<u64> = (0..5).map(|_| rng.getrandbits(32) as u64).collect();
    assert_eq!(draws, numbers(&r["getrandbits32_seed2p40p7"]));
    let mut rng = PyRandom::new(1);
    let mut items: Vec<u64> = (0..20).collect();
    rng.shuffle(&mut items);
    assert_eq!(items, numbers(&r["shuffle20_seed1"]));
    let samples = r["sample30_then_sample10_seed1"].as_array().unwrap();
    let got = rng.sample_range(30, 2);
    assert_eq!(
        got.iter().map(|&i| i as u64).collect::<Vec<_>>(),
        numbers(&samples[0])
    );
    let got = rng.sample_range(10, 2);
    assert_eq!(
        got.iter().map(|&i| i as u64).collect::<Vec<_>>(),
        numbers(&samples[1])
    );
    let choices: Vec<u64> = (0..5).map(|_| rng.choice_index(7) as u64).collect();
    assert_eq!(choices, numbers(&r["choice7_seed1_x5"]));
}
