//! The `LanguageModel` contract, hand-checked predictions and ties, the smoothing rule, pruning,
//! incremental training and `explain`.

mod common;

use common::{encode, train_text, TEXT};
use lmlab_core::{LanguageModel, SequenceMode, Tokenizer};
use lmlab_memory::{train, Algorithm, Explanation, MemoryOptions};

fn all_options() -> Vec<MemoryOptions> {
    let mut out = Vec::new();
    for k in 1..=4 {
        out.push(MemoryOptions::igtree(k));
        out.push(MemoryOptions::tribl2(k));
        out.push(MemoryOptions {
            prune: true,
            ..MemoryOptions::igtree(k)
        });
    }
    out
}

#[test]
fn distributions_sum_to_one_match_log_probs_and_the_scorer() {
    for options in all_options() {
        let model = train_text(TEXT, options.clone()).unwrap();
        let tok = model.tokenizer();
        let bos = tok.specials().bos as usize;
        let mut ids = tok.encode("the cat sat on a log");
        ids.push(tok.specials().eos);
        let lp = model.log_probs(&ids);
        let mut scorer = model.stepper();
        for cut in 0..ids.len() {
            let dist = model.next_distribution(&ids[..cut]);
            assert_eq!(dist.len(), tok.vocab().len());
            let sum: f64 = dist.iter().sum();
            assert!((sum - 1.0).abs() < 1e-12, "{options:?}: {sum}");
            assert_eq!(dist[bos], 0.0);
            assert!(dist.iter().enumerate().all(|(i, &p)| i == bos || p > 0.0));
            assert!((dist[ids[cut] as usize].ln() - lp[cut]).abs() < 1e-12);
            assert!((scorer.score_next(ids[cut]) - lp[cut]).abs() < 1e-12);
        }
        scorer.reset();
        assert!((scorer.score_next(ids[0]) - lp[0]).abs() < 1e-12);
        let mut stepper = model.stepper();
        for cut in 0..ids.len() {
            assert_eq!(stepper.distribution(), model.next_distribution(&ids[..cut]));
            stepper.push(ids[cut]);
        }
        lmlab_core::test_support::check_stepper(&model, &ids, 1e-12);
    }
}

#[test]
fn smoothing_is_absolute_discounting_down_the_match_path() {
    // K = 1, one sequence: instances (<s>→a) (a→b) (b→a) (a→c) (c→</s>).
    let model = train_text("a b a c\n", MemoryOptions::igtree(1)).unwrap();
    let tok = model.tokenizer();
    let id = |w: &str| tok.vocab().id(w).unwrap();
    // Root counts a:2 b:1 c:1 </s>:1: n1 = 3, n2 = 1, D0 = 3/5. Depth 1: all singletons, D1 = 1
    // clamped to 0.95.
    assert_eq!(model.discounts(), &[0.6, 0.95]);
    // V = 5 predictable ids (<unk> </s> a b c). Root: n = 5, T = 4.
    let v = 5.0;
    let root = |c: f64| ((c - 0.6f64).max(0.0) + 0.6 * 4.0 / v) / 5.0;
    // After <s>: node "<s>" has n = 1, T = 1 (a:1). After a: n = 2, T = 2 (b:1 c:1).
    let p_a = (0.05 + 0.95 * root(2.0)) / 1.0;
    let p_b = (0.05 + 0.95 * 2.0 * root(1.0)) / 2.0;
    let lp = model.log_probs(&[id("a"), id("b")]);
    assert!((lp[0] - p_a.ln()).abs() < 1e-12);
    assert!((lp[1] - p_b.ln()).abs() < 1e-12);
    let p_unk = model.next_distribution(&[id("a")])[tok.specials().unk.unwrap() as usize];
    assert!((p_unk - 0.95 * 2.0 * root(0.0) / 2.0).abs() < 1e-12);
}

#[test]
fn ties_go_to_the_globally_more_frequent_then_the_first_seen_class() {
    // Context "x" is followed by a once and b once; b is more frequent overall.
    let model = train_text("x a\nx b\nb b\n", MemoryOptions::igtree(1)).unwrap();
    let tok = model.tokenizer();
    let id = |w: &str| tok.vocab().id(w).unwrap();
    assert_eq!(model.predict(&[id("x")]), id("b"));
    // Equal global counts: r was seen before q, although q has the smaller id.
    let model = train_text("p r\np q\n", MemoryOptions::igtree(1)).unwrap();
    let tok = model.tokenizer();
    let id = |w: &str| tok.vocab().id(w).unwrap();
    assert!(id("q") < id("r"));
    assert_eq!(model.predict(&[id("p")]), id("r"));
}

#[test]
fn igtree_falls_back_to_the_deepest_match_and_tribl2_to_the_nearest_neighbour() {
    let text = "a b c x\na b c x\nd b c y\nd e f z\n";
    let ig = train_text(text, MemoryOptions::igtree(3)).unwrap();
    let tr = train_text(text, MemoryOptions::tribl2(3)).unwrap();
    let tok = ig.tokenizer();
    let ids = |s: &str| tok.encode(s);
    let id = |w: &str| tok.vocab().id(w).unwrap();
    // Seen contexts: both give the stored class.
    assert_eq!(ig.predict(&ids("a b c")), id("x"));
    assert_eq!(tr.predict(&ids("a b c")), id("x"));
    assert_eq!(tr.predict(&ids("d b c")), id("y"));
    for model in [&ig, &tr] {
        let e = model.explain(&ids("d b c"), 3);
        assert_eq!(e.matched_depth, 3);
        assert_eq!(e.prediction, "y");
    }
    // An unseen context: both answer with a class seen after "c".
    let p = tr.predict(&ids("q b c"));
    assert!(p == id("x") || p == id("y"));
    let e = ig.explain(&ids("q b c"), 2);
    assert!(e.matched_depth < 3);
    assert_eq!(e.classifier_prediction, e.path[e.matched_depth].default);
    assert_eq!(
        tok.vocab().token(ig.predict(&ids("q b c"))),
        e.classifier_prediction
    );
}

#[test]
fn pruning_keeps_every_prediction_and_shrinks_the_tree() {
    let (tok, seqs) = encode(TEXT, SequenceMode::Stream);
    let full = train(&seqs, Box::new(tok.clone()), MemoryOptions::igtree(3)).unwrap();
    let pruned = train(
        &seqs,
        Box::new(tok.clone()),
        MemoryOptions {
            prune: true,
            ..MemoryOptions::igtree(3)
        },
    )
    .unwrap();
    assert!(pruned.parameter_count() < full.parameter_count());
    let probe = tok.encode("the cat sat on the log a dog ran to a mat the dog");
    assert_eq!(full.predictions(&probe), pruned.predictions(&probe));
}

#[test]
fn adding_data_equals_training_on_everything() {
    let (first, second) = TEXT.split_at(TEXT.find("a cat").unwrap());
    let (tok, all) = encode(TEXT, SequenceMode::Line);
    let old = lmlab_core::model::encode_corpus(&tok, first, SequenceMode::Line);
    let new = lmlab_core::model::encode_corpus(&tok, second, SequenceMode::Line);
    for options in [MemoryOptions::igtree(2), MemoryOptions::tribl2(3)] {
        let whole = train(&all, Box::new(tok.clone()), options.clone()).unwrap();
        let mut grown = train(&old, Box::new(tok.clone()), options.clone()).unwrap();
        let before = grown.instance_count();
        grown.add(&new).unwrap();
        assert!(grown.instance_count() > before);
        assert_eq!(grown.tree(), whole.tree());
        assert_eq!(grown.feature_weights(), whole.feature_weights());
        let probe = &all[3].ids;
        assert_eq!(grown.log_probs(probe), whole.log_probs(probe));
        assert_eq!(grown.predictions(probe), whole.predictions(probe));
    }
    // A pruned model cannot grow.
    let mut pruned = train(
        &old,
        Box::new(tok),
        MemoryOptions {
            prune: true,
            ..MemoryOptions::igtree(2)
        },
    )
    .unwrap();
    let err = pruned.add(&new).unwrap_err().to_string();
    assert!(err.contains("pruned"), "{err}");
}

#[test]
fn explain_reports_depth_support_and_counts() {
    let model = train_text(TEXT, MemoryOptions::igtree(2)).unwrap();
    let tok = model.tokenizer();
    let ctx = tok.encode("sat on the");
    let e: Explanation = model.explain(&ctx, 3);
    assert_eq!(e.algorithm, "igtree");
    assert_eq!(e.context, vec!["on", "the"]);
    assert!(e.notes[0].contains("the last 2"), "{:?}", e.notes);
    assert_eq!(e.matched_depth, 2);
    assert_eq!(e.path.len(), 3);
    assert_eq!(e.path[0].instances, model.instance_count());
    // "on the" is followed by mat twice and log once.
    assert_eq!(e.instances, 3);
    assert_eq!(e.prediction, "mat");
    assert_eq!(e.top[0].token, "mat");
    assert_eq!(e.top[0].count, 2);
    assert_eq!(e.top[1].count, 1);
    assert!(e.top[0].probability > e.top[1].probability);
    let dist = model.next_distribution(&ctx);
    assert!((dist[e.top[0].id as usize] - e.top[0].probability).abs() < 1e-12);
    // Serializable, and printable.
    let json = serde_json::to_string(&e).unwrap();
    let back: Explanation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, e);
    let text = e.to_string();
    assert!(text.contains("matched depth 2 of 2"), "{text}");

    // Start of a sequence: padding shown as <s>; TRIBL2 reports its neighbours.
    let tr = train_text(TEXT, MemoryOptions::tribl2(2)).unwrap();
    let e = tr.explain(&[], 2);
    assert_eq!(e.context, vec!["<s>", "<s>"]);
    assert!(e.notes.is_empty());
    assert_eq!(e.prediction, "the");
    assert!(e.neighbours.is_some());
    assert_eq!(tr.options().algorithm, Algorithm::Tribl2);
}

/// The most likely token of a distribution, ties to the lower id.
fn argmax(probs: &[f64]) -> usize {
    (0..probs.len()).fold(0, |best, i| if probs[i] > probs[best] { i } else { best })
}

#[test]
fn explain_predicts_the_smoothed_argmax_and_names_the_classifier_answer_apart() {
    // After "x" the instances say a (twice) and seven other words once; every line ends with
    // `</s>`, which backing off to the root makes the most likely token after smoothing.
    let mut text = String::new();
    for line in [
        "x a", "x a", "x b", "x c", "x d", "x e", "x f", "x g", "x h",
    ] {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&"z\n".repeat(40));
    let mut differ = 0;
    for options in [MemoryOptions::igtree(1), MemoryOptions::tribl2(1)] {
        let model = train_text(&text, options).unwrap();
        let tok = model.tokenizer();
        for context in ["x", "z", "", "a"] {
            let ids = tok.encode(context);
            let e = model.explain(&ids, 3);
            let best = argmax(&model.next_distribution(&ids));
            assert_eq!(e.prediction, tok.vocab().token(best as u32), "{context:?}");
            differ += usize::from(e.prediction != e.classifier_prediction);
        }
        let e = model.explain(&tok.encode("x"), 3);
        assert_eq!(
            (e.classifier_prediction.as_str(), e.prediction.as_str()),
            ("a", "</s>")
        );
    }
    assert!(differ > 0);
}
