//! Exactness against TiMBL 6.5 on Penn Treebank with a 4-token window, as the fixture README says:
//! PTB read as one stream with `<eos>` (lmlab's `</s>`) after every line, `_` (lmlab's `<s>`)
//! padding only the start. IGTree (`timbl -a1 +D`) and TRIBL2 (`-a4`) predictions for every test
//! instance are compared with TiMBL's, one by one.
//!
//! Ties: a node's most frequent class wins; between equal counts the class more frequent in the
//! training set, then the one that appeared first in it (TiMBL's rule). TRIBL2 pools every
//! instance at the nearest distance and, when that vote ties, adds those at the next distance. With
//! these rules lmlab agrees with TiMBL on every one of the 82,430 test instances.

mod common;

use common::shared;
use lmlab_core::model::encode_corpus;
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_memory::{train, MemoryModel, MemoryOptions};
use lmlab_tokenize::WordsTrainer;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

fn read_xz(path: &Path) -> String {
    let file = std::fs::File::open(path).unwrap();
    let mut text = String::new();
    xz2::read::XzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// (predictions of lmlab, TiMBL's predictions as lmlab tokens, gold tokens), all as strings.
fn compare(model: &MemoryModel, test: &str, fixture: &Path) -> (f64, f64, f64) {
    let tokenizer = model.tokenizer();
    let sequences = encode_corpus(tokenizer, test, SequenceMode::Stream);
    assert_eq!(sequences.len(), 1, "stream mode gives one sequence");
    let ids = &sequences[0].ids;
    let start = Instant::now();
    let ours = model.predictions(ids);
    eprintln!(
        "{} test instances classified in {:.2?}",
        ids.len(),
        start.elapsed()
    );
    let theirs = read_xz(fixture);
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(
        theirs.len(),
        ids.len(),
        "one TiMBL prediction per test token"
    );
    let vocab = tokenizer.vocab();
    let mut agree = 0;
    let mut ours_correct = 0;
    let mut theirs_correct = 0;
    for ((&p, &t), &gold) in ours.iter().zip(&theirs).zip(ids) {
        let t = if t == "<eos>" { "</s>" } else { t };
        agree += (vocab.token(p) == t) as usize;
        ours_correct += (p == gold) as usize;
        theirs_correct += (vocab.token(gold) == t) as usize;
    }
    let n = ids.len() as f64;
    (
        ours_correct as f64 / n,
        theirs_correct as f64 / n,
        agree as f64 / n,
    )
}

#[test]
fn igtree_and_tribl2_agree_with_timbl_on_ptb() {
    let Some(shared) = shared() else { return };
    let ptb = shared.join("data/ptb");
    let fixtures = shared.join("fixtures/timbl");
    let train_text = std::fs::read_to_string(ptb.join("ptb.train.txt")).unwrap();
    let test_text = std::fs::read_to_string(ptb.join("ptb.test.txt")).unwrap();
    let tokenizer = WordsTrainer::default().train(&train_text).unwrap();
    let sequences = encode_corpus(&tokenizer, &train_text, SequenceMode::Stream);

    let start = Instant::now();
    let igtree = train(
        &sequences,
        Box::new(tokenizer.clone()),
        MemoryOptions::igtree(4),
    )
    .unwrap();
    eprintln!("IGTree trained in {:.2?}", start.elapsed());
    assert_eq!(igtree.instance_count(), 929_589);
    // Gain ratio puts the nearest token first, as TiMBL reports.
    assert_eq!(igtree.feature_order(), vec![1, 2, 3, 4]);
    let (ours, theirs, agree) = compare(
        &igtree,
        &test_text,
        &fixtures.join("ptb.test.igtree.pred.xz"),
    );
    eprintln!("IGTree: lmlab {ours:.6}, TiMBL {theirs:.6}, agreement {agree:.6}");
    assert!(
        (theirs - 0.220672).abs() < 1e-6,
        "fixture accuracy {theirs}"
    );
    assert!((ours - 0.2207).abs() < 0.0005, "IGTree accuracy {ours}");
    assert!(agree >= 0.999, "IGTree agreement {agree}");

    // Pruning unambiguous subtrees changes no prediction.
    let pruned = train(
        &sequences,
        Box::new(tokenizer.clone()),
        MemoryOptions {
            prune: true,
            ..MemoryOptions::igtree(4)
        },
    )
    .unwrap();
    assert!(pruned.parameter_count() < igtree.parameter_count());
    let (p_ours, _, p_agree) = compare(
        &pruned,
        &test_text,
        &fixtures.join("ptb.test.igtree.pred.xz"),
    );
    assert_eq!(p_ours, ours);
    assert_eq!(p_agree, agree);

    // Model files are smaller than TiMBL's IGTree instance base (19.3 MB) and load back exactly.
    let dir = tempfile::tempdir().unwrap();
    for (name, model) in [("full", &igtree), ("pruned", &pruned)] {
        let path = dir.path().join(format!("{name}.lmlab"));
        model.save(&path, common::provenance()).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        eprintln!("{name} IGTree model file: {size} bytes");
        assert!(size < 19_300_000, "{name}: {size} bytes");
        let back = MemoryModel::load(&path).unwrap();
        assert_eq!(back.tree(), model.tree());
    }

    let test_ids = &encode_corpus(igtree.tokenizer(), &test_text, SequenceMode::Stream)[0].ids;
    let logp: f64 = igtree.log_probs(test_ids).iter().sum();
    let perplexity = (-logp / test_ids.len() as f64).exp();
    eprintln!("smoothed IGTree perplexity on PTB test: {perplexity:.2}");
    assert!((perplexity - 167.3).abs() < 0.1, "{perplexity}");

    let start = Instant::now();
    let tribl2 = train(&sequences, Box::new(tokenizer), MemoryOptions::tribl2(4)).unwrap();
    eprintln!("TRIBL2 trained in {:.2?}", start.elapsed());
    let (ours, theirs, agree) = compare(
        &tribl2,
        &test_text,
        &fixtures.join("ptb.test.tribl2.pred.xz"),
    );
    eprintln!("TRIBL2: lmlab {ours:.6}, TiMBL {theirs:.6}, agreement {agree:.6}");
    assert!(
        (theirs - 0.214097).abs() < 1e-6,
        "fixture accuracy {theirs}"
    );
    assert!((ours - 0.2141).abs() < 0.002, "TRIBL2 accuracy {ours}");
    assert!(agree >= 0.999, "TRIBL2 agreement {agree}");
}
