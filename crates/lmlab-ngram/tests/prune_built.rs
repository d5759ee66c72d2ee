//! Pruning finished models (`lmlab_ngram::prune_built`): the pruned model stays normalized, the
//! entropy criterion matches a hand computation, count pruning drops what lmplz's `--prune` drops,
//! and bad thresholds are refused with a message.

mod common;

use common::{synthetic_corpus, train_text};
use lmlab_core::model::encode_corpus;
use lmlab_core::{LanguageModel, SequenceMode, TokenId};
use lmlab_ngram::arpa::read_arpa;
use lmlab_ngram::prune_built::{
    parse_entropy_threshold, perplexity_change, prune_model, PruneCriterion,
};
use lmlab_ngram::{NgramModel, NgramOptions, DEFAULT_FALLBACK};

fn options(order: usize) -> NgramOptions {
    NgramOptions {
        order,
        discount_fallback: Some(DEFAULT_FALLBACK),
        ..NgramOptions::default()
    }
}

/// Σ_w p(w | history) over the vocabulary (`<s>` excluded: it is never predicted).
fn mass_after(model: &NgramModel, history: &[TokenId]) -> f64 {
    let bos = model.tokenizer().specials().bos;
    (0..model.tokenizer().vocab().len() as TokenId)
        .filter(|&w| w != bos)
        .map(|w| 10f64.powf(f64::from(model.log10_prob(history, w))))
        .sum()
}

/// Histories of every length up to N−1 taken from the corpus's lines (every 7th position).
fn sample_histories(model: &NgramModel, text: &str) -> Vec<Vec<TokenId>> {
    let mut histories = Vec::new();
    for line in text.lines().step_by(5) {
        let ids = model.tokenizer().encode(line);
        for end in (0..=ids.len()).step_by(7) {
            histories.push(ids[end.saturating_sub(model.order() - 1)..end].to_vec());
        }
    }
    histories
}

fn assert_normalized(model: &NgramModel, text: &str) {
    let histories = sample_histories(model, text);
    assert!(histories.len() > 50, "{} histories", histories.len());
    for history in histories {
        let mass = mass_after(model, &history);
        assert!((mass - 1.0).abs() < 1e-4, "mass {mass} after {history:?}");
    }
}

#[test]
fn entropy_pruned_model_sums_to_one_and_shrinks() {
    let text = synthetic_corpus(600, 60, 11);
    let model = train_text(&text, &options(4)).unwrap();
    let before = model.ngram_counts();
    let pruned = prune_model(
        train_text(&text, &options(4)).unwrap(),
        &PruneCriterion::Entropy(1e-5),
    )
    .unwrap();
    let after = pruned.ngram_counts();
    assert_eq!(after[0], before[0], "unigrams are never pruned");
    for n in 1..4 {
        assert!(
            after[n] < before[n],
            "order {}: {} → {}",
            n + 1,
            before[n],
            after[n]
        );
    }
    assert_normalized(&pruned, &text);
    // A larger threshold prunes more.
    let smaller = prune_model(model, &PruneCriterion::Entropy(1e-4)).unwrap();
    assert!(smaller.parameter_count() < pruned.parameter_count());
    assert_normalized(&smaller, &text);
}

#[test]
fn zero_threshold_keeps_every_ngram_and_probability() {
    let text = synthetic_corpus(300, 40, 5);
    let model = train_text(&text, &options(3)).unwrap();
    let pruned = prune_model(
        train_text(&text, &options(3)).unwrap(),
        &PruneCriterion::Entropy(0.0),
    )
    .unwrap();
    assert_eq!(pruned.ngram_counts(), model.ngram_counts());
    let mut ids = model.tokenizer().encode("w1 w2 w3 w4 w0 w9");
    ids.push(model.tokenizer().specials().eos);
    for (a, b) in model.log_probs(&ids).iter().zip(pruned.log_probs(&ids)) {
        // Backoff weights are recomputed from the probabilities: equal up to rounding.
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
}

/// A bigram model with round probabilities: p(</s>) = .2, p(a) = .4, p(b) = .3, p(<unk>) = .1;
/// p(b|a) = .5, p(</s>|a) = .25, so γ(a) = (1 − .75) / (1 − .3 − .2) = .5; p(a|<s>) = .6, so
/// γ(<s>) = .4 / .6.
const TINY_ARPA: &str = "\\data\\
ngram 1=5
ngram 2=3

\\1-grams:
-0.69897\t</s>
-99\t<s>\t-0.17609126
-0.39794\ta\t-0.30103
-0.52287875\tb
-1\t<unk>

\\2-grams:
-0.30103\ta b
-0.60206\ta </s>
-0.22184875\t<s> a

\\end\\
";

fn tiny_model() -> NgramModel {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.arpa");
    std::fs::write(&path, TINY_ARPA).unwrap();
    read_arpa(&path).unwrap()
}

fn ids(model: &NgramModel, words: &[&str]) -> Vec<TokenId> {
    words
        .iter()
        .map(|w| model.tokenizer().vocab().id(w).unwrap())
        .collect()
}

#[test]
fn entropy_change_of_one_bigram_matches_the_hand_computation() {
    let model = tiny_model();
    let log10 = f64::log10;
    // Removing "a b": P(h) = p(a) = .4; the numerator of γ(a) is 1 − .5 − .25 = .25 and its
    // denominator 1 − .3 − .2 = .5, so γ(a) = .5. Without "a b": γ'(a) = (.25 + .5) / (.5 + .3).
    let new_bow = log10(0.75 / 0.8);
    let delta_h =
        -0.4 * (0.5 * (log10(0.3) + new_bow - log10(0.5)) + 0.25 * (new_bow - log10(0.5)));
    let expected = 10f64.powf(delta_h) - 1.0;
    let got = perplexity_change(&model, &ids(&model, &["a", "b"])).unwrap();
    assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    assert!((expected - 0.05359).abs() < 1e-4, "{expected}");
    // Removing "<s> a": P(<s>) is scored as p(</s>) = .2; γ'(<s>) = (.4 + .6) / (.6 + .4) = 1.
    let delta_h = -0.2 * (0.6 * (log10(0.4) - log10(0.6)) + 0.4 * (0.0 - log10(0.4 / 0.6)));
    let expected = 10f64.powf(delta_h) - 1.0;
    let got = perplexity_change(&model, &ids(&model, &["<s>", "a"])).unwrap();
    assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    // Removing "a </s>": γ'(a) = (.25 + .25) / (.5 + .2).
    let new_bow = log10(0.5 / 0.7);
    let delta_h =
        -0.4 * (0.25 * (log10(0.2) + new_bow - log10(0.25)) + 0.25 * (new_bow - log10(0.5)));
    let a_end = 10f64.powf(delta_h) - 1.0;
    let got = perplexity_change(&model, &ids(&model, &["a", "</s>"])).unwrap();
    assert!((got - a_end).abs() < 1e-6, "{got} vs {a_end}");
    assert_eq!(perplexity_change(&model, &ids(&model, &["b", "a"])), None);
}

#[test]
fn entropy_pruning_of_the_tiny_model_drops_only_the_cheap_bigram() {
    let model = tiny_model();
    // PPL changes: "<s> a" .01635, "a </s>" .02041, "a b" .05359.
    let pruned = prune_model(model, &PruneCriterion::Entropy(0.018)).unwrap();
    assert_eq!(pruned.ngram_counts(), vec![5, 2]);
    assert_eq!(pruned.lookup(&ids(&pruned, &["<s>", "a"])), None);
    let (a, s) = (ids(&pruned, &["a"])[0], ids(&pruned, &["<s>"])[0]);
    // <s> lost its only bigram: γ(<s>) = 1, so p(a | <s>) = p(a).
    assert_eq!(pruned.lookup(&[s]).unwrap().1, 0.0);
    assert!((f64::from(pruned.log10_prob(&[], a)) - 0.4f64.log10()).abs() < 1e-6);
    assert!((f64::from(pruned.log10_prob(&[s], a)) - 0.4f64.log10()).abs() < 1e-6);
    // γ(a) is unchanged: (1 − .5 − .25) / (1 − .3 − .2).
    assert!((f64::from(pruned.lookup(&[a]).unwrap().1) - 0.5f64.log10()).abs() < 1e-6);
    for history in [vec![], vec![s], vec![a], vec![s, a]] {
        let mass = mass_after(&pruned, &history);
        assert!((mass - 1.0).abs() < 1e-5, "{mass} after {history:?}");
    }
}

#[test]
fn count_pruning_drops_what_build_time_pruning_drops_and_stays_normalized() {
    let text = synthetic_corpus(500, 50, 23);
    let model = train_text(&text, &options(4)).unwrap();
    let sequences: Vec<Vec<TokenId>> = encode_corpus(model.tokenizer(), &text, SequenceMode::Line)
        .into_iter()
        .map(|s| s.ids)
        .collect();
    let thresholds = vec![0, 0, 1];
    let pruned = prune_model(
        model,
        &PruneCriterion::Counts {
            thresholds: thresholds.clone(),
            sequences,
        },
    )
    .unwrap();
    let built = train_text(
        &text,
        &NgramOptions {
            prune: thresholds,
            ..options(4)
        },
    )
    .unwrap();
    assert_eq!(pruned.ngram_counts(), built.ngram_counts());
    assert_normalized(&pruned, &text);
}

#[test]
fn bad_thresholds_are_refused_with_a_message() {
    let err = parse_entropy_threshold("-1e-8").unwrap_err().to_string();
    assert!(err.contains("must be a finite number ≥ 0"), "{err}");
    let err = parse_entropy_threshold("tiny").unwrap_err().to_string();
    assert!(err.contains("is not a number"), "{err}");
    let err = parse_entropy_threshold("NaN").unwrap_err().to_string();
    assert!(err.contains("must be a finite number"), "{err}");
    assert_eq!(parse_entropy_threshold("1e-8").unwrap(), 1e-8);
    let err = refused(tiny_model(), &PruneCriterion::Entropy(-0.5));
    assert!(err.contains("≥ 0"), "{err}");
    let counts = |thresholds: Vec<u64>| PruneCriterion::Counts {
        thresholds,
        sequences: Vec::new(),
    };
    let err = refused(tiny_model(), &counts(vec![1, 1]));
    assert!(err.contains("unigrams, which are never pruned"), "{err}");
    let err = refused(tiny_model(), &counts(vec![0, 1, 1]));
    assert!(err.contains("the model has order 2"), "{err}");
}

/// The message of a pruning that must fail.
fn refused(model: NgramModel, criterion: &PruneCriterion) -> String {
    match prune_model(model, criterion) {
        Ok(_) => panic!("pruning with {criterion:?} was accepted"),
        Err(e) => e.to_string(),
    }
}
