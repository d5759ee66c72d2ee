//! Next-token accuracy and calibration of any [`LanguageModel`] on a corpus.
//!
//! At every scored position the model's whole next-token distribution is computed (through its
//! stepper when it has one). The gold token's rank counts ties by id, so a tie never helps: rank =
//! #{ids with a higher probability} + #{ids with the same probability and a lower id}. Top-k is
//! right when the rank is below k. Models with a classifier of their own (memory-based models:
//! TiMBL's IGTree or TRIBL2 answer) report its answer as top-1, as TiMBL does; the distribution's
//! top-1 is reported beside it.
//!
//! Calibration: the top-1 probability of the distribution is put in one of [`CALIBRATION_BINS`]
//! equal-width bins over [0, 1]; the expected calibration error is Σ_b (n_b / N)·|acc_b − conf_b|.

use crate::corpus::{Corpus, SequenceMode};
use crate::model::{encode_sequence, LanguageModel};
use crate::vocab::TokenId;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bins of the reliability table.
pub const CALIBRATION_BINS: usize = 15;

/// One bin of the reliability table.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CalibrationBin {
    /// Lowest top-1 probability of the bin (inclusive).
    pub lower: f64,
    /// Highest (exclusive, but 1.0 belongs to the last bin).
    pub upper: f64,
    /// Positions whose top-1 probability falls here.
    pub count: u64,
    /// Sum of their top-1 probabilities.
    pub confidence_sum: f64,
    /// Of them, how many had the gold token as the distribution's top-1.
    pub correct: u64,
}

impl CalibrationBin {
    /// Mean top-1 probability (0 for an empty bin).
    pub fn confidence(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.confidence_sum / self.count as f64
        }
    }

    /// Share right (0 for an empty bin).
    pub fn accuracy(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.correct as f64 / self.count as f64
        }
    }
}

/// Accuracy and calibration totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccuracyTotals {
    /// Positions scored (end tokens included).
    pub tokens: u64,
    /// Top-1 right: the model's classifier's answer where it has one, else the distribution's.
    pub top1: u64,
    /// Gold token among the distribution's five most likely.
    pub top5: u64,
    /// The distribution's top-1 right.
    pub distribution_top1: u64,
    /// Whether `top1` is a classifier's answer (memory-based models).
    pub classifier: bool,
    /// The reliability table.
    pub bins: Vec<CalibrationBin>,
}

impl AccuracyTotals {
    fn empty(classifier: bool) -> AccuracyTotals {
        let width = 1.0 / CALIBRATION_BINS as f64;
        AccuracyTotals {
            tokens: 0,
            top1: 0,
            top5: 0,
            distribution_top1: 0,
            classifier,
            bins: (0..CALIBRATION_BINS)
                .map(|b| CalibrationBin {
                    lower: b as f64 * width,
                    upper: (b + 1) as f64 * width,
                    ..CalibrationBin::default()
                })
                .collect(),
        }
    }

    fn add(&mut self, other: &AccuracyTotals) {
        self.tokens += other.tokens;
        self.top1 += other.top1;
        self.top5 += other.top5;
        self.distribution_top1 += other.distribution_top1;
        for (a, b) in self.bins.iter_mut().zip(&other.bins) {
            a.count += b.count;
            a.confidence_sum += b.confidence_sum;
            a.correct += b.correct;
        }
    }

    /// Share of positions right at top-1.
    pub fn top1_accuracy(&self) -> f64 {
        self.top1 as f64 / self.tokens.max(1) as f64
    }

    /// Share of positions with the gold token in the top five.
    pub fn top5_accuracy(&self) -> f64 {
        self.top5 as f64 / self.tokens.max(1) as f64
    }

    /// Expected calibration error of the distribution's top-1 probability.
    pub fn expected_calibration_error(&self) -> f64 {
        let n = self.tokens.max(1) as f64;
        self.bins
            .iter()
            .map(|b| b.count as f64 / n * (b.accuracy() - b.confidence()).abs())
            .sum()
    }

    /// Records one position: the distribution, the gold id and the classifier's answer.
    fn record(&mut self, distribution: &[f64], gold: TokenId, classified: Option<TokenId>) {
        let p_gold = distribution.get(gold as usize).copied().unwrap_or(0.0);
        let mut rank = 0usize;
        let mut best_p = f64::NEG_INFINITY;
        for (id, &p) in distribution.iter().enumerate() {
            if p > p_gold || (p == p_gold && id < gold as usize) {
                rank += 1;
            }
            best_p = best_p.max(p);
        }
        let distribution_right = rank == 0;
        self.tokens += 1;
        self.top5 += (rank < 5) as u64;
        self.distribution_top1 += distribution_right as u64;
        self.top1 += match classified {
            Some(c) => (c == gold) as u64,
            None => distribution_right as u64,
        };
        let confidence = best_p.clamp(0.0, 1.0);
        let bin = ((confidence * CALIBRATION_BINS as f64) as usize).min(CALIBRATION_BINS - 1);
        let b = &mut self.bins[bin];
        b.count += 1;
        b.confidence_sum += confidence;
        b.correct += distribution_right as u64;
    }
}

/// Top-1 / top-5 accuracy and calibration of `model` on `corpus` cut by `mode`, in parallel over
/// sequences (summed in corpus order: the same bytes every run). `progress` receives (sequences
/// done, sequences).
pub fn accuracy(
    model: &dyn LanguageModel,
    corpus: &Corpus,
    mode: SequenceMode,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> AccuracyTotals {
    let tokenizer = model.tokenizer();
    let sequences = corpus.sequences(mode);
    let total = sequences.len();
    let done = AtomicUsize::new(0);
    let classifier = model.top1_predictions(&[]).is_some();
    let parts: Vec<AccuracyTotals> = sequences
        .par_iter()
        .map(|sequence| {
            let ids = encode_sequence(tokenizer, sequence, mode).ids;
            let classified = model.top1_predictions(&ids);
            let mut totals = AccuracyTotals::empty(classifier);
            let answer = |i: usize| classified.as_ref().map(|c| c[i]);
            let mut stepper = model.stepper();
            let mut distribution = vec![0.0; stepper.vocab_len()];
            for (i, &id) in ids.iter().enumerate() {
                stepper.distribution_into(&mut distribution);
                totals.record(&distribution, id, answer(i));
                stepper.push(id);
            }
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            totals
        })
        .collect();
    let mut totals = AccuracyTotals::empty(classifier);
    parts.iter().for_each(|p| totals.add(p));
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_count_ties_against_the_gold_token_and_bins_split_evenly() {
        let mut t = AccuracyTotals::empty(false);
        // Gold 2 is the strict maximum: right at top-1.
        t.record(&[0.1, 0.2, 0.7], 2, None);
        // Gold 1 ties with id 0 for the maximum: id 0 wins the tie, so top-1 is wrong, top-5 right.
        t.record(&[0.4, 0.4, 0.2], 1, None);
        // A uniform distribution over 8 ids: only id 0 is top-1.
        t.record(&[0.125; 8], 0, None);
        t.record(&[0.125; 8], 7, None);
        assert_eq!((t.tokens, t.top1, t.top5), (4, 2, 3));
        assert_eq!(t.distribution_top1, t.top1);
        // Confidences 0.7, 0.4, 0.125, 0.125 in bins 10, 6, 1, 1 (width 1/15).
        let counts: Vec<u64> = t.bins.iter().map(|b| b.count).collect();
        assert_eq!(counts[10], 1);
        assert_eq!(counts[6], 1);
        assert_eq!(counts[1], 2);
        // ECE by hand: bin 10: |1 − 0.7|; bin 6: |0 − 0.4|; bin 1: |0.5 − 0.125|.
        let ece = (0.3 + 0.4 + 2.0 * 0.375) / 4.0;
        assert!((t.expected_calibration_error() - ece).abs() < 1e-12);
        // A classifier's answer is the top-1 when given.
        let mut c = AccuracyTotals::empty(true);
        c.record(&[0.1, 0.2, 0.7], 1, Some(1));
        assert_eq!((c.top1, c.distribution_top1), (1, 0));
        // Probability 1.0 belongs to the last bin.
        c.record(&[0.0, 1.0], 1, Some(0));
        assert_eq!(c.bins[CALIBRATION_BINS - 1].count, 1);
    }
}
