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
    /// What the alignment of the files left out, one line each (empty when nothing was).
    pub notes: Vec<String>,
    /// The ensemble's own probability file on test (dev when no test files were given).
    #[serde(skip)]
    pub mixture: ProbsFile,
}

/// One file of a set, lined up with the others: the rows the ensemble uses.
struct Aligned<'a> {
    named: &'a NamedProbs,
    /// Leading rows left out (the others do not score them).
    skipped: usize,
}

impl Aligned<'_> {
    fn rows(&self) -> &[ProbRow] {
        &self.named.file.rows[self.skipped..]
    }

    fn probabilities(&self) -> Vec<f64> {
        self.rows().iter().map(|r| r.logp.exp()).collect()
    }

    /// The header, without byte and word counts when rows were left out (they count the whole text).
    fn header(&self) -> ProbsHeader {
        let header = self.named.file.header.clone();
        match self.skipped {
            0 => header,
            _ => ProbsHeader {
                bytes: None,
                words: None,
                ..header
            },
        }
    }

    fn score(&self) -> StreamScore {
        StreamScore::of(self.rows().iter().map(|r| r.logp), &self.header())
    }

    /// What was left out, for the report.
    fn note(&self, split: &str) -> Option<String> {
        (self.skipped > 0).then(|| {
            format!(
                "{split}: left out the first {} row(s) of {}, which the other files do not score",
                self.skipped,
                self.named.path.display()
            )
        })
    }
}

/// Checks that a set scores one token stream and lines its files up.
fn align(files: &[NamedProbs]) -> Result<Vec<Aligned<'_>>> {
    let pairs: Vec<_> = files.iter().map(|n| (n.path.as_path(), &n.file)).collect();
    let skips = check_same_stream(&pairs)?;
    Ok(files
        .iter()
        .zip(skips)
        .map(|(named, skipped)| Aligned { named, skipped })
        .collect())
}

/// Fits weights on `dev` and scores dev and (optionally) `test`, whose files must list the same models
/// in the same order. Files imported from elsewhere may lack the first token; the others' first row is
/// then left out (see [`check_same_stream`]) and [`EnsembleReport::notes`] says so.
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
    let (dev, test) = (align(dev)?, align(test)?);
    let notes: Vec<String> = (dev.iter().filter_map(|a| a.note("dev")))
        .chain(test.iter().filter_map(|a| a.note("test")))
        .collect();
    let dev_probs: Vec<Vec<f64>> = dev.iter().map(Aligned::probabilities).collect();
    let dev_refs: Vec<&[f64]> = dev_probs.iter().map(Vec::as_slice).collect();
    let started = std::time::Instant::now();
    let em = fit_weights(&dev_refs, max_iterations, tolerance)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let dev_score = StreamScore::of(
        mixture_log_probs(&em.weights, &dev_refs).into_iter(),
        &dev[0].header(),
    );
    let mut members: Vec<Member> = dev
        .iter()
        .zip(&em.weights)
        .map(|(a, &weight)| Member {
            model: a.named.file.header.model.clone(),
            dev_file: a.named.path.clone(),
            weight,
            dev: a.score(),
            test: None,
        })
        .collect();
    for (member, a) in members.iter_mut().zip(&test) {
        member.test = Some(a.score());
    }
    // The mixture file scores test, or dev when no test files were given.
    let set = if test.is_empty() { &dev } else { &test };
    let probs: Vec<Vec<f64>> = set.iter().map(Aligned::probabilities).collect();
    let refs: Vec<&[f64]> = probs.iter().map(Vec::as_slice).collect();
    let mixed = mixture_log_probs(&em.weights, &refs);
    let header = set[0].header();
    let test_score = (!test.is_empty()).then(|| StreamScore::of(mixed.iter().copied(), &header));
    let model = members
        .iter()
        .map(|m| format!("{:.4}*[{}]", m.weight, m.model))
        .collect::<Vec<_>>()
        .join(" + ");
    let mixture = ProbsFile {
        header: ProbsHeader {
            model: format!("ensemble: {model}"),
            ..header
        },
        rows: set[0]
            .rows()
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
        test: test_score,
        notes,
        mixture,
    })
}
