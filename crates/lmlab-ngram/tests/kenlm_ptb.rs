//! Exactness against KenLM's lmplz on Penn Treebank, order 5 (`<unk>` rewritten to `<oov>` as the
//! fixture README says): same n-gram sets, every value within 1e-5, the per-token test log10
//! probabilities of KenLM's `query` within 1e-5, and test perplexity 141.19.

mod common;

use common::{compare, read_xz, shared, train_text};
use lmlab_core::LanguageModel;
use lmlab_ngram::arpa::read_arpa;
use lmlab_ngram::NgramOptions;
use std::time::Instant;

#[test]
fn ptb_order_5_equals_kenlm() {
    let Some(shared) = shared() else { return };
    let train = std::fs::read_to_string(shared.join("data/ptb/ptb.train.txt"))
        .unwrap()
        .replace("<unk>", "<oov>");
    let start = Instant::now();
    let ours = train_text(&train, &NgramOptions::with_order(5)).unwrap();
    eprintln!("PTB order 5 trained in {:.2?}", start.elapsed());
    assert_eq!(
        ours.ngram_counts(),
        vec![10_002, 264_990, 586_558, 717_733, 737_952]
    );

    // Per-token test probabilities and perplexity.
    let test = std::fs::read_to_string(shared.join("data/ptb/ptb.test.txt"))
        .unwrap()
        .replace("<unk>", "<oov>");
    let reference = read_xz(&shared.join("fixtures/kenlm/ptb.o5.test.tokens.tsv.xz"));
    let mut rows = reference.lines().skip(1);
    let tokenizer = ours.tokenizer();
    let eos = tokenizer.specials().eos;
    let (mut worst, mut sum, mut tokens) = (0f64, 0f64, 0usize);
    let mut scorer = ours.ngram_scorer();
    for (line_no, line) in test.lines().enumerate() {
        let mut ids = tokenizer.encode(line);
        ids.push(eos);
        scorer.reset();
        for (pos, &id) in ids.iter().enumerate() {
            let ours_log10 = scorer.score_next_log10(id) as f64;
            let row = rows.next().expect("fewer reference rows than tokens");
            let fields: Vec<&str> = row.split('\t').collect();
            assert_eq!(fields[0], line_no.to_string(), "row {row}");
            assert_eq!(fields[1], pos.to_string(), "row {row}");
            let theirs: f64 = fields[4].parse().unwrap();
            worst = worst.max((ours_log10 - theirs).abs());
            sum += ours_log10;
            tokens += 1;
        }
    }
    assert!(rows.next().is_none(), "more reference rows than tokens");
    let perplexity = 10f64.powf(-sum / tokens as f64);
    eprintln!(
        "PTB test: {tokens} tokens, max |Δ log10 p| vs KenLM query = {worst:.3e}, perplexity {perplexity:.4}"
    );
    assert_eq!(tokens, 82_430);
    assert!(worst <= 1e-5, "per-token difference {worst}");
    assert!(
        (perplexity - 141.1862).abs() < 0.005,
        "perplexity {perplexity}"
    );

    // Every n-gram and value against the ARPA file.
    let start = Instant::now();
    let theirs = read_arpa(&shared.join("fixtures/kenlm/ptb.o5.arpa.xz")).unwrap();
    eprintln!("ptb.o5.arpa.xz read in {:.2?}", start.elapsed());
    let diff = compare(&ours, &theirs);
    eprintln!(
        "ptb.o5.arpa: {} n-grams, max |Δ log10 p| = {:.3e}, max |Δ log10 b| = {:.3e}",
        diff.ngrams, diff.prob, diff.bow
    );
    assert!(diff.prob <= 1e-5 && diff.bow <= 1e-5, "{diff:?}");

    // KenLM's own ARPA, imported and queried by lmlab, gives KenLM's query results too.
    let tokenizer = theirs.tokenizer();
    let mut rows = reference.lines().skip(1);
    let mut scorer = theirs.ngram_scorer();
    let mut worst = 0f64;
    for line in test.lines() {
        let mut ids = tokenizer.encode(line);
        ids.push(tokenizer.specials().eos);
        scorer.reset();
        for &id in &ids {
            let row = rows.next().unwrap();
            let theirs_log10: f64 = row.rsplit('\t').next().unwrap().parse().unwrap();
            worst = worst.max((scorer.score_next_log10(id) as f64 - theirs_log10).abs());
        }
    }
    eprintln!("imported ptb.o5.arpa: max |Δ log10 p| vs KenLM query = {worst:.3e}");
    assert!(worst <= 1e-5, "imported ARPA per-token difference {worst}");
}

#[test]
fn ptb_order_5_pruned_matches_kenlm_perplexity() {
    // lmplz -o 5 --prune 0 0 1: test perplexity 147.40 (fixture README).
    let Some(shared) = shared() else { return };
    let train = std::fs::read_to_string(shared.join("data/ptb/ptb.train.txt"))
        .unwrap()
        .replace("<unk>", "<oov>");
    let options = NgramOptions {
        order: 5,
        prune: vec![0, 0, 1],
        ..NgramOptions::default()
    };
    let model = train_text(&train, &options).unwrap();
    let test = std::fs::read_to_string(shared.join("data/ptb/ptb.test.txt"))
        .unwrap()
        .replace("<unk>", "<oov>");
    let tokenizer = model.tokenizer();
    let eos = tokenizer.specials().eos;
    let mut scorer = model.ngram_scorer();
    let (mut sum, mut tokens) = (0f64, 0usize);
    for line in test.lines() {
        let mut ids = tokenizer.encode(line);
        ids.push(eos);
        scorer.reset();
        for &id in &ids {
            sum += scorer.score_next_log10(id) as f64;
            tokens += 1;
        }
    }
    let perplexity = 10f64.powf(-sum / tokens as f64);
    eprintln!(
        "PTB order 5 --prune 0 0 1: n-grams {:?}, test perplexity {perplexity:.4}",
        model.ngram_counts()
    );
    assert!(
        (perplexity - 147.40).abs() < 0.005,
        "perplexity {perplexity}"
    );
}
