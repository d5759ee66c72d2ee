//! Ensembles of probability files: EM weights on dev, perplexity on dev and test.

use lmlab_core::ensemble::{fit_weights, mixture_log_probs, EmFit};
use lmlab_core::probs::{check_same_stream, ProbRow, ProbsFile, ProbsHeader};
use lmlab_core::{Error, Result};
use serde::Serialize;
use std::path::PathBuf;

/// A probability file with the path it came from.
pub struct NamedProbs {
    /// Where it was read from (or a label).
    pub path: PathBuf,
    /// Its contents.
    pub file: ProbsFile,
}

/// Perplexity and bits per byte of one scored stream.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StreamScore {
    /// Tokens scored.
    pub tokens: usize,
    /// Per-token perplexity.
    pub perplexity: f64,
    /// Bits per byte, when the file records its byte count.
    pub bits_per_byte: Option<f64>,
}

impl StreamScore {
    fn of(log_probs: impl Iterator<Item = f64>, header: &ProbsHeader) -> StreamScore {
        let (mut sum, mut tokens) = (0.0, 0usize);
        for lp in log_probs {
            sum += lp;
            tokens += 1;
        }
        StreamScore {
            tokens,
            perplexity: (-sum / tokens as f64).exp(),
            bits_per_byte: header
                .bytes
                .map(|b| -sum / (std::f64::consts::LN_2 * b as f64)),
        }
    }
}

/// One member of the ensemble.
#[derive(Clone, Debug, Serialize)]
pub struct Member {
    /// The model description from the dev file.
    pub model: String,
    /// Dev file.
    pub dev_file: PathBuf,
    /// Fitted weight.
    pub weight: f64,
    /// The member alone on dev.
    pub dev: StreamScore,
    /// The member alone on test (when test files were given).
    pub test: Option<StreamScore>,
}

/// What `lmlab ensemble` reports.
#[derive(Clone, Debug, Serialize)]
pub struct EnsembleReport {
    /// Members with weights and their own scores.
    pub members: Vec<Member>,
    /// The EM fit (weights and per-iteration dev log-likelihood).
    pub em: EmFit,
    /// Wall seconds the EM fit took (reading the files not included).
    pub fit_seconds: f64,
    /// The ensemble on dev.
    pub dev: StreamScore,
    /// The ensemble on test.
    pub test: Option<StreamScore>,
    /// The ensemble's own probability file on test (dev when no test files were given).
    #[serde(skip)]
    pub mixture: ProbsFile,
}

fn probabilities(file: &ProbsFile) -> Vec<f64> {
    file.rows.iter().map(|r| r.logp.exp()).collect()
}

fn check_set(files: &[NamedProbs]) -> Result<()> {
    let pairs: Vec<_> = files.iter().map(|n| (n.path.as_path(), &n.file)).collect();
    check_same_stream(&pairs)
}

/// Fits weights on `dev` and scores dev and (optionally) `test`, whose files must list the same models
/// in the same order.
pub fn ensemble(
    dev: &[NamedProbs],
    test: &[NamedProbs],
    max_iterations: usize,
    tolerance: f64,
) -> Result<EnsembleReport> {
    if dev.is_empty() {
        return Err(Error::invalid("give at least one dev probability file"));
    }
    if !test.is_empty() && test.len() != dev.len() {
        return Err(Error::invalid(format!(
            "{} dev files but {} test files; give each model's dev and test file in the same order",
            dev.len(),
            test.len()
        )));
    }
    check_set(dev)?;
    check_set(test)?;
    let dev_probs: Vec<Vec<f64>> = dev.iter().map(|n| probabilities(&n.file)).collect();
    let dev_refs: Vec<&[f64]> = dev_probs.iter().map(Vec::as_slice).collect();
    let started = std::time::Instant::now();
    let em = fit_weights(&dev_refs, max_iterations, tolerance)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let dev_header = &dev[0].file.header;
    let dev_score = StreamScore::of(
        mixture_log_probs(&em.weights, &dev_refs).into_iter(),
        dev_header,
    );
    let mut members: Vec<Member> = dev
        .iter()
        .zip(&em.weights)
        .map(|(n, &weight)| Member {
            model: n.file.header.model.clone(),
            dev_file: n.path.clone(),
            weight,
            dev: StreamScore::of(n.file.rows.iter().map(|r| r.logp), &n.file.header),
            test: None,
        })
        .collect();
    let (scored, test_score) = if test.is_empty() {
        (&dev[0].file, None)
    } else {
        for (member, n) in members.iter_mut().zip(test) {
            member.test = Some(StreamScore::of(
                n.file.rows.iter().map(|r| r.logp),
                &n.file.header,
            ));
        }
        (&test[0].file, Some(()))
    };
    let set = if test.is_empty() { dev } else { test };
    let probs: Vec<Vec<f64>> = set.iter().map(|n| probabilities(&n.file)).collect();
    let refs: Vec<&[f64]> = probs.iter().map(Vec::as_slice).collect();
    let mixed = mixture_log_probs(&em.weights, &refs);
    let test = test_score.map(|()| StreamScore::of(mixed.iter().copied(), &scored.header));
    let model = members
        .iter()
        .map(|m| format!("{:.4}*[{}]", m.weight, m.model))
        .collect::<Vec<_>>()
        .join(" + ");
    let mixture = ProbsFile {
        header: ProbsHeader {
            model: format!("ensemble: {model}"),
            ..scored.header.clone()
        },
        rows: scored
            .rows
            .iter()
            .zip(&mixed)
            .map(|(r, &logp)| ProbRow { logp, ..r.clone() })
            .collect(),
    };
    Ok(EnsembleReport {
        members,
        em,
        fit_seconds,
        dev: dev_score,
        test,
        mixture,
    })
}
