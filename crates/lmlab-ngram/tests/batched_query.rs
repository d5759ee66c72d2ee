//! Whole-sequence scoring ([`NgramModel::log10_probs`], `log_probs`) equals the token-by-token
//! [`State`] path bit for bit: orders 1, 2, 3 and 5, a pruned model, and a model whose contexts
//! lack some prefixes (where the longest stored n-gram can be longer than what a `State` keeps);
//! over PTB test sentences (a synthetic corpus without `../shared`), OOVs, ids beyond the
//! vocabulary, `<s>` and `</s>` inside a sequence, empty sequences and sequences of many blocks.

mod common;

use common::{shared, synthetic_corpus, train_text};
use lmlab_core::{LanguageModel, TokenId};
use lmlab_ngram::arpa::{read_arpa, write_arpa_to};
use lmlab_ngram::query::sequence_full_scores;
use lmlab_ngram::{NgramModel, NgramOptions, State, DEFAULT_FALLBACK};
use std::collections::HashSet;

/// Training and test text: PTB when `../shared` is there, else a synthetic corpus.
fn texts() -> (String, String) {
    if let Some(shared) = shared() {
        let read = |name: &str| {
            std::fs::read_to_string(shared.join("data/ptb").join(name))
                .unwrap()
                .replace("<unk>", "<oov>")
        };
        (read("ptb.train.txt"), read("ptb.test.txt"))
    } else {
        (
            synthetic_corpus(3000, 400, 1),
            synthetic_corpus(500, 450, 2),
        )
    }
}

fn options(order: usize, prune: &[u64]) -> NgramOptions {
    NgramOptions {
        order,
        discount_fallback: Some(DEFAULT_FALLBACK),
        prune: prune.to_vec(),
        ..NgramOptions::default()
    }
}

/// Test sequences: every test line with its end token, then the edge cases.
fn sequences(model: &NgramModel, test: &str) -> Vec<Vec<TokenId>> {
    let tokenizer = model.tokenizer();
    let specials = tokenizer.specials();
    let size = tokenizer.vocab().len() as TokenId;
    let mut all: Vec<Vec<TokenId>> = test
        .lines()
        .map(|line| {
            let mut ids = tokenizer.encode(line);
            ids.push(specials.eos);
            ids
        })
        .collect();
    // Many blocks: the first 300 lines as one sequence.
    all.push(all.iter().take(300).flatten().copied().collect());
    let first = all[0].clone();
    let oov = tokenizer.encode("qqqq-not-a-word zzzz-neither");
    all.extend([
        vec![],
        vec![specials.eos],
        vec![size, size + 7, TokenId::MAX, specials.eos],
        [oov.clone(), first.clone(), oov, first.clone()].concat(),
        [first.clone(), vec![specials.bos], first.clone()].concat(),
        [first.clone(), vec![size], first.clone(), vec![specials.eos]].concat(),
        first.iter().cycle().take(1000).copied().collect(),
    ]);
    all
}

/// log10 p of each token through a [`State`], token by token, with the n-gram length matched.
fn by_state(model: &NgramModel, ids: &[TokenId]) -> Vec<(f32, usize)> {
    let mut state = State::start(model);
    ids.iter()
        .map(|&id| {
            let (log10, matched) = state.advance_matched(model, id);
            (log10, matched + 1)
        })
        .collect()
}

/// Asserts bit equality of the two paths (log10 and natural log) on every sequence.
fn assert_paths_equal(model: &NgramModel, sequences: &[Vec<TokenId>], what: &str) {
    let mut scorer = model.ngram_scorer();
    let mut tokens = 0;
    for (s, ids) in sequences.iter().enumerate() {
        let expected = by_state(model, ids);
        let batched = model.log10_probs(ids);
        assert_eq!(batched.len(), ids.len());
        for (i, (a, (b, _))) in batched.iter().zip(&expected).enumerate() {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "{what}: sequence {s} token {i}: batched {a} vs state {b}"
            );
        }
        let mut full = Vec::with_capacity(ids.len());
        sequence_full_scores(model, ids, |log10, length| full.push((log10, length)));
        let bits = |v: &[(f32, usize)]| -> Vec<(u32, usize)> {
            v.iter().map(|&(p, n)| (p.to_bits(), n)).collect()
        };
        assert_eq!(
            bits(&full),
            bits(&expected),
            "{what}: sequence {s} (full scores)"
        );
        scorer.reset();
        let via_scorer: Vec<u64> = ids
            .iter()
            .map(|&id| scorer.score_next(id).to_bits())
            .collect();
        let log_probs: Vec<u64> = model.log_probs(ids).iter().map(|p| p.to_bits()).collect();
        assert_eq!(log_probs, via_scorer, "{what}: sequence {s} (natural log)");
        tokens += ids.len();
    }
    assert!(tokens > 10_000, "{what}: only {tokens} tokens compared");
}

#[test]
fn batched_equals_state_on_trained_models() {
    let (train, test) = texts();
    for (order, prune) in [(1, &[][..]), (2, &[]), (3, &[]), (5, &[]), (5, &[0, 0, 1])] {
        let model = train_text(&train, &options(order, prune)).unwrap();
        assert!(!model.scores_by_steps(), "evaluation should use log_probs");
        let what = format!("order {order} prune {prune:?}");
        assert_paths_equal(&model, &sequences(&model, &test), &what);
    }
}

/// The ARPA text of `model` without the n-grams of orders 2..N-1 that are the suffix of no stored
/// n-gram but the context (prefix) of one: the model loads (keys need suffixes only), and a
/// `State` backs off where a longer stored n-gram exists.
fn arpa_without_prefixes(model: &NgramModel) -> String {
    let mut text = Vec::new();
    write_arpa_to(model, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    let order = model.order();
    let entry_words = |line: &str| -> Option<String> {
        let fields: Vec<&str> = line.split('\t').collect();
        (fields.len() >= 2).then(|| fields[1].to_string())
    };
    let mut suffixes = HashSet::new();
    let mut prefixes = HashSet::new();
    for line in text.lines() {
        if let Some(words) = entry_words(line) {
            if let Some((_, suffix)) = words.split_once(' ') {
                suffixes.insert(suffix.to_string());
                prefixes.insert(words.rsplit_once(' ').unwrap().0.to_string());
            }
        }
    }
    let removable = |words: &str| {
        let n = words.split(' ').count();
        n >= 2 && n < order && prefixes.contains(words) && !suffixes.contains(words)
    };
    let mut removed = vec![0usize; order + 1];
    let mut seen = 0;
    let mut kept: Vec<&str> = Vec::new();
    for line in text.lines() {
        match entry_words(line).filter(|words| removable(words)) {
            // Every other removable n-gram, so that some such contexts stay.
            Some(words)
                if {
                    seen += 1;
                    seen % 2 == 0
                } =>
            {
                removed[words.split(' ').count()] += 1;
            }
            _ => kept.push(line),
        }
    }
    assert!(removed.iter().sum::<usize>() > 0, "nothing to remove");
    let counts = model.ngram_counts();
    kept.iter()
        .map(
            |line| match line.strip_prefix("ngram ").and_then(|l| l.split_once('=')) {
                Some((n, _)) => {
                    let n: usize = n.parse().unwrap();
                    format!("ngram {n}={}", counts[n - 1] - removed[n])
                }
                None => line.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn batched_equals_state_when_contexts_lack_prefixes() {
    let (train, test) = texts();
    let full = train_text(&train, &options(4, &[])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("holes.arpa");
    std::fs::write(&path, arpa_without_prefixes(&full)).unwrap();
    let model = read_arpa(&path).unwrap();
    let sequences = sequences(&model, &test);
    // The case matters: somewhere a stored n-gram is longer than the context a State keeps.
    let truncated = sequences.iter().any(|ids| {
        let mut state = State::start(&model);
        ids.iter().enumerate().any(|(i, &id)| {
            let history: Vec<TokenId> = std::iter::once(model.tokenizer().specials().bos)
                .chain(ids[..=i].iter().copied())
                .collect();
            let longest = (1..=model.order().min(history.len()))
                .rev()
                .find(|&n| model.find_ngram(&history[history.len() - n..]).is_some())
                .unwrap_or(1);
            let (_, matched) = state.log10_prob(&model, id);
            state.advance(&model, id);
            longest > matched + 1
        })
    });
    assert!(truncated, "no position where the context was cut");
    assert_paths_equal(&model, &sequences, "ARPA without some prefixes");
}
