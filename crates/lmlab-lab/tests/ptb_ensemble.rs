//! Herel & Mikolov's point on PTB, end to end through lmlab: a weaker but different model (the smoothed
//! IGTree) still improves the Kneser-Ney 5-gram when the two are interpolated with EM weights fitted on
//! valid.

mod common;

use common::report_skip;
use lmlab_core::evaluate::evaluate;
use lmlab_core::{Corpus, LanguageModel, SequenceMode};
use lmlab_lab::ensembles::{ensemble, NamedProbs};
use lmlab_lab::recipe::{ModelChoice, Recipe};
use lmlab_lab::registry::load_model;
use lmlab_lab::run::{train, Data, RunOptions};
use lmlab_memory::MemoryOptions;
use lmlab_ngram::NgramOptions;
use std::path::{Path, PathBuf};

fn ptb() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ptb");
    if dir.is_dir() {
        Some(dir)
    } else {
        report_skip(&format!(
            "{} not found (the shared corpora are not here)",
            dir.display()
        ));
        None
    }
}

fn probs(model: &dyn LanguageModel, corpus: &Corpus, name: &str) -> NamedProbs {
    let evaluation = evaluate(model, corpus, SequenceMode::Line, true, &|_, _| {});
    NamedProbs {
        path: PathBuf::from(name),
        file: evaluation.probs.expect("rows kept"),
    }
}

#[test]
fn igtree_improves_the_kneser_ney_five_gram_on_ptb() {
    let Some(dir) = ptb() else { return };
    let valid = Corpus::open(&dir.join("ptb.valid.txt")).unwrap();
    let test = Corpus::open(&dir.join("ptb.test.txt")).unwrap();
    let data = Data {
        train: dir.join("ptb.train.txt"),
        ..Data::default()
    };
    let out = tempfile::tempdir().unwrap();
    let trained = |model: ModelChoice, name: &str| {
        let path = out.path().join(name);
        train(
            &Recipe::new(model),
            &data,
            &path,
            &RunOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        load_model(&path).unwrap()
    };
    let kn = trained(ModelChoice::Ngram(NgramOptions::with_order(5)), "kn5.lmlab");
    let igtree = trained(
        ModelChoice::Memory(MemoryOptions::igtree(4)),
        "igtree4.lmlab",
    );
    let dev = [
        probs(kn.as_ref(), &valid, "kn5"),
        probs(igtree.as_ref(), &valid, "igtree"),
    ];
    let tst = [
        probs(kn.as_ref(), &test, "kn5"),
        probs(igtree.as_ref(), &test, "igtree"),
    ];
    let report = ensemble(&dev, &tst, 1000, 1e-10).unwrap();
    let kn_test = report.members[0].test.as_ref().unwrap().perplexity;
    let ig_test = report.members[1].test.as_ref().unwrap().perplexity;
    let mixed = report.test.as_ref().unwrap().perplexity;
    eprintln!(
        "PTB test perplexity: KN5 {kn_test:.2}, IGTree {ig_test:.2}, EM ensemble {mixed:.2} \
         (weights {:?})",
        report.em.weights
    );
    assert!(ig_test > kn_test, "the IGTree is the weaker model here");
    assert!(
        mixed < kn_test,
        "ensemble {mixed} does not beat KN5 {kn_test}"
    );
    assert!(report.em.weights[1] > 0.0);
}
