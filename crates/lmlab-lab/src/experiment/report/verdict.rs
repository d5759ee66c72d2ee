//! The claim checked at each budget: the two arms' metric (mean over seeds), the effect
//! (right − left) and its 95% interval from a seeded paired bootstrap over the scored sequences,
//! read from the runs' probability files.
//!
//! The arms may tokenize differently, so they are paired by sequence, not by token: per sequence,
//! the summed −ln p of each arm and the sequence's bytes (or tokens, or words: the metric's
//! denominator). A resample draws sequences with replacement and computes each arm's metric over
//! them exactly (for bits per byte Σ bits / Σ bytes); with several seeds an arm's per-sequence
//! −ln p is the mean over its seeds.

use super::{metric_of, runs_at, BudgetKey};
use crate::experiment::claim::{Budgets, Claim, Direction};
use crate::experiment::{run_dir, ExperimentState, RunEntry};
use lmlab_core::corpus::split_sequences;
use lmlab_core::probs::ProbsFile;
use lmlab_core::SequenceMode;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Resamples of the bootstrap.
pub const RESAMPLES: usize = 10_000;
/// Seed of the bootstrap (ChaCha8): every report draws the same resamples.
pub const BOOTSTRAP_SEED: u64 = 2024;

/// How a claim fared at one budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The interval excludes 0 in the claimed direction.
    Supported,
    /// The interval excludes 0 in the other direction.
    Contradicted,
    /// The interval contains 0.
    Inconclusive,
    /// No interval could be computed (the note says why).
    Unchecked,
}

/// Where a 95% interval of the effect places the claim: `effect` is right − left, so a claim that
/// the left arm is lower holds when the whole interval is above 0.
pub fn outcome(direction: Direction, interval: Option<(f64, f64)>) -> Outcome {
    let Some((lo, hi)) = interval else {
        return Outcome::Unchecked;
    };
    let (for_claim, against) = match direction {
        Direction::Lower => (lo > 0.0, hi < 0.0),
        Direction::Higher => (hi < 0.0, lo > 0.0),
    };
    if for_claim {
        Outcome::Supported
    } else if against {
        Outcome::Contradicted
    } else {
        Outcome::Inconclusive
    }
}

/// The claim at one budget.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetVerdict {
    /// The budget (`None`: the experiment has no budgets and both arms are count-based).
    pub budget: Option<f64>,
    /// The left arm's metric, mean over its runs (`None`: no finished run).
    pub left: Option<f64>,
    /// The right arm's.
    pub right: Option<f64>,
    /// 95% interval of right − left.
    pub interval: Option<(f64, f64)>,
    /// Why there is no interval, or what to know about it.
    pub note: Option<String>,
    /// The outcome.
    pub outcome: Outcome,
}

impl BudgetVerdict {
    /// right − left, when both are known.
    pub fn effect(&self) -> Option<f64> {
        Some(self.right? - self.left?)
    }
}

/// The claim checked at its budgets.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimCheck {
    /// The claim.
    pub claim: Claim,
    /// One verdict per budget checked.
    pub budgets: Vec<BudgetVerdict>,
    /// The verdict in words.
    pub summary: String,
}

/// `budget` as the report prints it.
pub fn budget_label(budget: Option<f64>) -> String {
    match budget {
        Some(b) => format!("{b} CPU-s"),
        None => "no budget".into(),
    }
}

/// The verdict in words: "supported at every budget", or what failed at which budget.
pub fn summarize(claim: &Claim, budgets: &[BudgetVerdict]) -> String {
    if budgets.is_empty() {
        return "not checked: no budget to check it at".into();
    }
    if budgets.iter().all(|b| b.outcome == Outcome::Supported) {
        return match claim.budgets {
            Budgets::Every => "supported at every budget".into(),
            Budgets::One(b) => format!("supported at budget {b} CPU-s"),
        };
    }
    let effect = |b: &BudgetVerdict| match (b.effect(), b.interval) {
        (Some(e), Some((lo, hi))) => format!("effect {e:+.4} [{lo:+.4}, {hi:+.4}]"),
        (Some(e), None) => format!("effect {e:+.4}"),
        _ => "no effect measured".into(),
    };
    let parts: Vec<String> = budgets
        .iter()
        .filter_map(|b| {
            let at = budget_label(b.budget);
            match b.outcome {
                Outcome::Supported => None,
                Outcome::Contradicted => Some(format!("not supported at {at}: {}", effect(b))),
                Outcome::Inconclusive => {
                    Some(format!("inconclusive at {at}: {} contains 0", effect(b)))
                }
                Outcome::Unchecked => Some(format!(
                    "unchecked at {at}: {}{}",
                    effect(b),
                    b.note
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                )),
            }
        })
        .collect();
    parts.join("; ")
}

/// The budgets a claim is checked at: its one budget, else the experiment's, else those its two
/// arms ran at (none for two count-based arms: one comparison without a budget).
fn claim_budgets(claim: &Claim, state: &ExperimentState, entries: &[RunEntry]) -> Vec<Option<f64>> {
    if let Budgets::One(b) = claim.budgets {
        return vec![Some(b)];
    }
    if !state.spec.budgets.is_empty() {
        return state.spec.budgets.iter().map(|&b| Some(b)).collect();
    }
    let mut seen: Vec<f64> = entries
        .iter()
        .filter(|e| e.arm == claim.left || e.arm == claim.right)
        .filter_map(|e| e.record.recipe.budget_cpu_seconds)
        .collect();
    seen.sort_by(f64::total_cmp);
    seen.dedup();
    if seen.is_empty() {
        vec![None]
    } else {
        seen.into_iter().map(Some).collect()
    }
}

/// Checks `claim` on `entries` (the runs of the experiment in `dir`).
pub fn check_claim(
    claim: &Claim,
    state: &ExperimentState,
    dir: &Path,
    entries: &[RunEntry],
) -> ClaimCheck {
    let mut loader = Loader::default();
    let budgets: Vec<BudgetVerdict> = claim_budgets(claim, state, entries)
        .into_iter()
        .map(|budget| {
            let key = BudgetKey::from(budget);
            let left = runs_at(entries, &claim.left, key);
            let right = runs_at(entries, &claim.right, key);
            let mean = |runs: &[&RunEntry]| {
                let values: Vec<f64> = runs
                    .iter()
                    .filter_map(|r| metric_of(r, &claim.split, &claim.metric))
                    .collect();
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
            };
            let (left_mean, right_mean) = (mean(&left), mean(&right));
            let (interval, note) = if left.is_empty() || right.is_empty() {
                let missing = if left.is_empty() {
                    &claim.left
                } else {
                    &claim.right
                };
                (
                    None,
                    Some(format!("arm '{missing}' has no finished run here")),
                )
            } else {
                match loader.interval(claim, state, dir, &left, &right) {
                    Ok(interval) => (Some(interval), None),
                    Err(why) => (None, Some(why)),
                }
            };
            BudgetVerdict {
                budget,
                left: left_mean,
                right: right_mean,
                interval,
                note,
                outcome: outcome(claim.direction, interval),
            }
        })
        .collect();
    let summary = summarize(claim, &budgets);
    ClaimCheck {
        claim: claim.clone(),
        budgets,
        summary,
    }
}

/// Per sequence of a text: its bytes and words (each counting its line ends).
struct SequenceSizes {
    bytes: Vec<f64>,
    words: Vec<f64>,
    sha256: String,
}

/// Per sequence of a run's probability file: Σ −ln p and the tokens scored.
struct SequenceScores {
    nll: Vec<f64>,
    tokens: Vec<f64>,
}

/// A 95% interval, or why there is none.
type Interval = Result<(f64, f64), String>;

/// Reads texts and probability files once each (a count-based run takes part at every budget).
#[derive(Default)]
struct Loader {
    texts: HashMap<(PathBuf, String), Result<Rc<SequenceSizes>, String>>,
    scores: HashMap<String, Result<Rc<SequenceScores>, String>>,
    /// Intervals by the two arms' run ids: count-based arms compare the same runs at every budget.
    intervals: HashMap<(Vec<String>, Vec<String>), Interval>,
}

impl Loader {
    fn text(&mut self, path: &Path, mode: SequenceMode) -> Result<Rc<SequenceSizes>, String> {
        self.texts
            .entry((path.to_path_buf(), mode.to_string()))
            .or_insert_with(|| {
                let text = lmlab_core::corpus::read_text_file(path).map_err(|e| e.to_string())?;
                let sequences = split_sequences(&text, mode);
                Ok(Rc::new(SequenceSizes {
                    bytes: sequences.iter().map(|s| s.byte_count() as f64).collect(),
                    words: sequences.iter().map(|s| s.word_count() as f64).collect(),
                    sha256: lmlab_core::hashing::sha256_hex(text.as_bytes()),
                }))
            })
            .clone()
    }

    fn scores(
        &mut self,
        dir: &Path,
        run: &RunEntry,
        split: &str,
        text: &SequenceSizes,
    ) -> Result<Rc<SequenceScores>, String> {
        self.scores
            .entry(format!("{}/{split}", run.id))
            .or_insert_with(|| {
                let key = format!("{split}.probs");
                let Some(relative) = run.record.artifacts.get(&key) else {
                    return Err(format!(
                        "run {} kept no {key} file; the bootstrap needs probability files",
                        run.id
                    ));
                };
                let path = run_dir(dir, &run.id).join(relative);
                let file = ProbsFile::read(&path)
                    .map_err(|e| format!("{e}; the bootstrap needs the runs' probability files"))?;
                if !file.header.corpus_sha256.is_empty() && file.header.corpus_sha256 != text.sha256
                {
                    return Err(format!(
                        "{} scored another text than the {split} file now holds",
                        path.display()
                    ));
                }
                let n = text.bytes.len();
                let (mut nll, mut tokens) = (vec![0.0; n], vec![0.0; n]);
                for row in &file.rows {
                    let i = row.seq as usize;
                    if i >= n {
                        return Err(format!(
                            "{} has sequence {} but the {split} text has {n} sequences",
                            path.display(),
                            row.seq
                        ));
                    }
                    nll[i] -= row.logp;
                    tokens[i] += 1.0;
                }
                Ok(Rc::new(SequenceScores { nll, tokens }))
            })
            .clone()
    }

    /// The 95% interval of right − left in the claim's metric, computed once per pair of run sets.
    fn interval(
        &mut self,
        claim: &Claim,
        state: &ExperimentState,
        dir: &Path,
        left: &[&RunEntry],
        right: &[&RunEntry],
    ) -> Result<(f64, f64), String> {
        let ids = |runs: &[&RunEntry]| runs.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        let key = (ids(left), ids(right));
        if let Some(known) = self.intervals.get(&key) {
            return known.clone();
        }
        let interval = self.compute_interval(claim, state, dir, left, right);
        self.intervals.insert(key, interval.clone());
        interval
    }

    fn compute_interval(
        &mut self,
        claim: &Claim,
        state: &ExperimentState,
        dir: &Path,
        left: &[&RunEntry],
        right: &[&RunEntry],
    ) -> Result<(f64, f64), String> {
        let path = match claim.split.as_str() {
            "valid" => state.spec.data.valid.as_ref(),
            _ => state.spec.data.test.as_ref(),
        }
        .ok_or_else(|| format!("the experiment has no {} file", claim.split))?
        .clone();
        let unreadable = |e: String| {
            format!(
                "the {} text {} named in experiment.json cannot be read: {e}",
                claim.split,
                path.display()
            )
        };
        let (left_mode, right_mode) = (
            left[0].record.recipe.sequences,
            right[0].record.recipe.sequences,
        );
        let left_text = self.text(&path, left_mode).map_err(unreadable)?;
        let right_text = self.text(&path, right_mode).map_err(unreadable)?;
        if left_text.bytes != right_text.bytes {
            return Err(format!(
                "the arms cut the text into different sequences ({left_mode} and {right_mode}): \
                 no pairing"
            ));
        }
        let mut side = |runs: &[&RunEntry], text: &SequenceSizes| -> Result<Sums, String> {
            let scores: Vec<Rc<SequenceScores>> = runs
                .iter()
                .map(|r| self.scores(dir, r, &claim.split, text))
                .collect::<Result<_, _>>()?;
            let k = scores.len() as f64;
            let mean = |f: fn(&SequenceScores) -> &Vec<f64>| -> Vec<f64> {
                (0..text.bytes.len())
                    .map(|i| scores.iter().map(|s| f(s)[i]).sum::<f64>() / k)
                    .collect()
            };
            let denominator = match claim.metric.as_str() {
                "bits_per_byte" => text.bytes.clone(),
                "word_perplexity" => text.words.clone(),
                "perplexity" => mean(|s| &s.tokens),
                other => {
                    return Err(format!(
                        "no interval for {other}: the files do not say which tokens are OOV"
                    ))
                }
            };
            Ok(Sums {
                nll: mean(|s| &s.nll),
                denominator,
            })
        };
        let l = side(left, &left_text)?;
        let r = side(right, &right_text)?;
        let scale = if claim.metric == "bits_per_byte" {
            Scale::Bits
        } else {
            Scale::Exp
        };
        Ok(bootstrap_interval(&l, &r, scale, RESAMPLES, BOOTSTRAP_SEED))
    }
}

/// An arm's per-sequence Σ −ln p and the metric's denominator (bytes, tokens or words).
#[derive(Clone, Debug, PartialEq)]
pub struct Sums {
    /// Σ −ln p per sequence.
    pub nll: Vec<f64>,
    /// Bytes, tokens or words per sequence.
    pub denominator: Vec<f64>,
}

/// How Σ −ln p / Σ denominator becomes the metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// In bits (÷ ln 2): bits per byte.
    Bits,
    /// Exponentiated: a perplexity.
    Exp,
}

fn metric(nll: f64, denominator: f64, scale: Scale) -> f64 {
    match scale {
        Scale::Bits => nll / (std::f64::consts::LN_2 * denominator),
        Scale::Exp => (nll / denominator).exp(),
    }
}

/// The 95% percentile interval of right − left from a paired bootstrap: each of `resamples`
/// resamples draws as many sequence indices as there are, with replacement (ChaCha8 seeded with
/// `seed`), and computes both arms' metric over the same draw.
pub fn bootstrap_interval(
    left: &Sums,
    right: &Sums,
    scale: Scale,
    resamples: usize,
    seed: u64,
) -> (f64, f64) {
    let n = left.nll.len();
    assert!(n > 0 && right.nll.len() == n && resamples > 0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut effects: Vec<f64> = (0..resamples)
        .map(|_| {
            let mut s = [0.0f64; 4];
            for _ in 0..n {
                let i = rng.gen_range(0..n);
                s[0] += left.nll[i];
                s[1] += left.denominator[i];
                s[2] += right.nll[i];
                s[3] += right.denominator[i];
            }
            metric(s[2], s[3], scale) - metric(s[0], s[1], scale)
        })
        .collect();
    effects.sort_by(f64::total_cmp);
    let r = effects.len();
    let lo = ((r as f64 * 0.025).floor() as usize).min(r - 1);
    let hi = ((r as f64 * 0.975).ceil() as usize).clamp(1, r) - 1;
    (effects[lo], effects[hi])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 400 sequences of 10..40 bytes; the right arm spends `shift` more bits per byte, plus noise.
    fn pair(shift: f64) -> (Sums, Sums) {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let bytes: Vec<f64> = (0..400).map(|_| rng.gen_range(10..40) as f64).collect();
        let ln2 = std::f64::consts::LN_2;
        let left: Vec<f64> = bytes
            .iter()
            .map(|b| b * ln2 * (2.0 + rng.gen_range(-0.5..0.5)))
            .collect();
        let right: Vec<f64> = left
            .iter()
            .zip(&bytes)
            .map(|(l, b)| l + b * ln2 * (shift + rng.gen_range(-0.3..0.3)))
            .collect();
        let sums = |nll: Vec<f64>| Sums {
            nll,
            denominator: bytes.clone(),
        };
        (sums(left), sums(right))
    }

    #[test]
    fn the_interval_is_seeded_and_covers_the_true_effect() {
        let (l, r) = pair(0.1);
        let a = bootstrap_interval(&l, &r, Scale::Bits, 2000, BOOTSTRAP_SEED);
        let b = bootstrap_interval(&l, &r, Scale::Bits, 2000, BOOTSTRAP_SEED);
        assert_eq!(a, b, "same seed, same interval");
        assert!(a.0 < 0.1 && 0.1 < a.1, "{a:?} misses the true effect 0.1");
        assert!(a.0 > 0.0, "a clear effect excludes 0: {a:?}");
        let c = bootstrap_interval(&l, &r, Scale::Bits, 2000, 1);
        assert_ne!(a, c, "another seed draws other resamples");
        // Identical arms: the effect is exactly 0 in every resample.
        assert_eq!(bootstrap_interval(&l, &l, Scale::Exp, 100, 1), (0.0, 0.0));
    }

    #[test]
    fn outcomes_follow_the_claimed_direction() {
        use Direction::*;
        assert_eq!(outcome(Lower, Some((0.1, 0.3))), Outcome::Supported);
        assert_eq!(outcome(Lower, Some((-0.3, -0.1))), Outcome::Contradicted);
        assert_eq!(outcome(Lower, Some((-0.1, 0.3))), Outcome::Inconclusive);
        assert_eq!(outcome(Higher, Some((-0.3, -0.1))), Outcome::Supported);
        assert_eq!(outcome(Higher, Some((0.1, 0.3))), Outcome::Contradicted);
        assert_eq!(outcome(Higher, None), Outcome::Unchecked);
    }

    #[test]
    fn the_summary_names_each_failing_budget() {
        let claim = Claim::parse(
            "arm:a < arm:b on test.bits_per_byte at every budget",
            &["a", "b"],
        )
        .unwrap();
        let at = |budget: f64, interval: (f64, f64)| BudgetVerdict {
            budget: Some(budget),
            left: Some(1.0),
            right: Some(1.0 + (interval.0 + interval.1) / 2.0),
            interval: Some(interval),
            note: None,
            outcome: outcome(claim.direction, Some(interval)),
        };
        let good = [at(10.0, (0.1, 0.3)), at(20.0, (0.05, 0.2))];
        assert_eq!(summarize(&claim, &good), "supported at every budget");
        let mixed = [
            at(10.0, (0.1, 0.3)),
            at(20.0, (-0.3, -0.1)),
            at(40.0, (-0.1, 0.2)),
        ];
        assert_eq!(
            summarize(&claim, &mixed),
            "not supported at 20 CPU-s: effect -0.2000 [-0.3000, -0.1000]; \
             inconclusive at 40 CPU-s: effect +0.0500 [-0.1000, +0.2000] contains 0"
        );
    }
}
