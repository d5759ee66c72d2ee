//! Ensembles of the published PTB probability files of Herel & Mikolov (../shared/fixtures/sota_lm):
//! single-model perplexities, EM weights fitted on valid, and the ensemble's test perplexity checked
//! against a direct computation from the raw files.

mod common;

use common::report_skip;
use lmlab_core::probs::import_one_per_line;
use lmlab_lab::ensembles::{ensemble, NamedProbs};
use std::path::{Path, PathBuf};

const MODELS: [&str; 3] = ["KneserNey-5gram", "AWD-LSTM-MOS", "QRNN"];

fn fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/sota_lm/ptb");
    if dir.is_dir() {
        Some(dir)
    } else {
        report_skip(&format!(
            "{} not found (the shared fixtures are not here)",
            dir.display()
        ));
        None
    }
}

fn load(dir: &Path, split: &str) -> Vec<NamedProbs> {
    let words = dir.join(format!("words_{split}.txt"));
    MODELS
        .iter()
        .map(|m| {
            let path = dir.join(split).join(format!("{m}.txt"));
            NamedProbs {
                file: import_one_per_line(&words, &path, m).unwrap(),
                path,
            }
        })
        .collect()
}

/// Perplexity of the mixture computed straight from the text files, independent of lmlab's code.
fn direct_perplexity(dir: &Path, split: &str, weights: &[f64]) -> f64 {
    let columns: Vec<Vec<f64>> = MODELS
        .iter()
        .map(|m| {
            std::fs::read_to_string(dir.join(split).join(format!("{m}.txt")))
                .unwrap()
                .lines()
                .map(|l| l.trim().parse::<f64>().unwrap())
                .collect()
        })
        .collect();
    let n = columns[0].len();
    let log_sum: f64 = (0..n)
        .map(|t| {
            (0..MODELS.len())
                .map(|i| weights[i] * columns[i][t])
                .sum::<f64>()
                .ln()
        })
        .sum();
    (-log_sum / n as f64).exp()
}

#[test]
fn published_ptb_probabilities_ensemble_as_expected() {
    let Some(dir) = fixtures() else { return };
    let (dev, test) = (load(&dir, "valid"), load(&dir, "test"));
    assert_eq!(test[0].file.rows.len(), 82_429);
    let report = ensemble(&dev, &test, 1000, 1e-10).unwrap();

    let singles: Vec<f64> = report
        .members
        .iter()
        .map(|m| m.test.as_ref().unwrap().perplexity)
        .collect();
    for (got, want) in singles.iter().zip([141.46, 54.00, 58.43]) {
        assert!(
            (got - want).abs() < 0.005,
            "single-model test perplexity {got} vs {want}"
        );
    }
    for pair in report.em.log_likelihood.windows(2) {
        assert!(
            pair[1] >= pair[0],
            "EM dev log-likelihood decreased: {pair:?}"
        );
    }
    assert!((report.em.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);

    let test_ppl = report.test.as_ref().unwrap().perplexity;
    let direct = direct_perplexity(&dir, "test", &report.em.weights);
    assert!(
        (test_ppl - direct).abs() < 1e-9 * direct,
        "{test_ppl} vs direct {direct}"
    );
    let direct_dev = direct_perplexity(&dir, "valid", &report.em.weights);
    assert!((report.dev.perplexity - direct_dev).abs() < 1e-9 * direct_dev);

    // The ensemble beats its best member, and lands where our reference computation did.
    assert!(test_ppl < singles.iter().cloned().fold(f64::INFINITY, f64::min));
    assert!(
        (test_ppl - 51.8).abs() < 0.1,
        "ensemble test perplexity {test_ppl}"
    );
    assert!(
        (report.dev.perplexity - 53.6).abs() < 0.1,
        "ensemble dev perplexity {}",
        report.dev.perplexity
    );
    eprintln!(
        "weights {:?}, dev {:.3}, test {:.3}, {} EM iterations",
        report.em.weights,
        report.dev.perplexity,
        test_ppl,
        report.em.log_likelihood.len() - 1
    );
}

#[test]
fn mismatched_dev_and_test_sets_are_refused() {
    let Some(dir) = fixtures() else { return };
    let mut dev = load(&dir, "valid");
    let test = load(&dir, "test");
    // Two dev files from different token streams.
    dev[1] = test.into_iter().nth(1).unwrap();
    let msg = ensemble(&dev, &[], 10, 1e-9).err().unwrap().to_string();
    assert!(msg.contains("different text"), "{msg}");
}
