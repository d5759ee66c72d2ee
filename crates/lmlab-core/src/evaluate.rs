//! Evaluation of any [`LanguageModel`] on a corpus: totals for every metric and, on request, the
//! per-token probability file.

use crate::corpus::{count_sequences, split_sequences, Corpus, Sequence, SequenceMode};
use crate::metrics::EvalTotals;
use crate::model::{encode_sequence, encode_sequence_marking_oov, LanguageModel, TokenSequence};
use crate::probs::{ProbRow, ProbsFile, ProbsHeader};
use crate::vocab::{escape_token, TokenId};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The outcome of [`evaluate`].
pub struct Evaluation {
    /// Totals from which every metric derives.
    pub totals: EvalTotals,
    /// The per-token probabilities, when asked for.
    pub probs: Option<ProbsFile>,
    /// What each sequence added to the totals, in corpus order.
    pub per_sequence: Vec<SequenceTotals>,
}

/// An encoded sequence with the log-probability of each of its tokens.
type ScoredRows = (TokenSequence, Vec<f64>);

/// What one sequence adds to the totals.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SequenceTotals {
    /// Tokens scored (end token included).
    pub tokens: u64,
    /// OOV tokens among them.
    pub oov: u64,
    /// Their share of `log_prob_sum`.
    pub oov_log_prob_sum: f64,
    /// UTF-8 bytes, each line counting its newline.
    pub bytes: u64,
    /// Whitespace words plus line ends.
    pub words: u64,
    /// Σ ln p of the tokens.
    pub log_prob_sum: f64,
}

/// Scores one encoded sequence, token by token through the model's [`Stepper`](crate::Stepper)
/// when the model says that is faster ([`LanguageModel::scores_by_steps`]), else whole.
pub fn score_sequence(model: &dyn LanguageModel, ids: &[crate::TokenId]) -> Vec<f64> {
    if model.scores_by_steps() {
        let mut stepper = model.stepper();
        ids.iter().map(|&id| stepper.score_next(id)).collect()
    } else {
        model.log_probs(ids)
    }
}

/// Most sequences scored together in one call of [`score_sequences`]: enough for a transformer's
/// batched forward passes to fill with windows of equal length.
pub const MAX_BATCH_SEQUENCES: usize = 2048;

/// How many of `total` sequences to score per call of [`score_sequences`]: at most
/// [`MAX_BATCH_SEQUENCES`], and small enough that every thread gets several batches.
pub fn batch_len(total: usize) -> usize {
    (total / (4 * rayon::current_num_threads())).clamp(1, MAX_BATCH_SEQUENCES)
}

/// [`score_sequence`] appended to `out` (through [`LanguageModel::log_probs_into`] when the model
/// does not score by steps: no allocation for models that override it).
pub fn score_sequence_into(model: &dyn LanguageModel, ids: &[TokenId], out: &mut Vec<f64>) {
    if model.scores_by_steps() {
        let mut stepper = model.stepper();
        out.extend(ids.iter().map(|&id| stepper.score_next(id)));
    } else {
        model.log_probs_into(ids, out);
    }
}

/// [`score_sequence`] of each of `sequences`, through the model's batched scoring where it has one.
pub fn score_sequences(model: &dyn LanguageModel, sequences: &[&[TokenId]]) -> Vec<Vec<f64>> {
    model.log_probs_batch(sequences).unwrap_or_else(|| {
        sequences
            .iter()
            .map(|ids| score_sequence(model, ids))
            .collect()
    })
}

/// Evaluates `model` on `corpus` cut by `mode`, in parallel over sequences. Sums are taken in corpus
/// order, so results are the same bytes on every run. `progress` receives (sequences done, sequences).
pub fn evaluate(
    model: &dyn LanguageModel,
    corpus: &Corpus,
    mode: SequenceMode,
    keep_rows: bool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Evaluation {
    evaluate_keeping(model, corpus, mode, keep_rows, true, progress)
}

/// Bytes of the corpus scored at a time by [`evaluate_keeping`] (in line mode), the pages of each
/// block released once scored, so that memory does not grow with the corpus.
const EVALUATE_BLOCK: usize = 1 << 20;

/// [`evaluate`], keeping [`Evaluation::per_sequence`] only when `keep_per_sequence` (else it is
/// empty): without rows or per-sequence totals, memory does not grow with the corpus.
pub fn evaluate_keeping(
    model: &dyn LanguageModel,
    corpus: &Corpus,
    mode: SequenceMode,
    keep_rows: bool,
    keep_per_sequence: bool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Evaluation {
    let tokenizer = model.tokenizer();
    let text = corpus.text();
    let blocks = corpus.blocks(mode, EVALUATE_BLOCK);
    // The total for `progress`, one block at a time (pages released behind).
    let total: usize = blocks
        .iter()
        .map(|range| {
            let n = count_sequences(&text[range.clone()], mode);
            corpus.release_range(range.clone());
            n
        })
        .sum();
    let done = AtomicUsize::new(0);
    let mut scored: Vec<(SequenceTotals, Option<Box<ScoredRows>>)> = Vec::new();
    // The sums, sequence after sequence in corpus order (the same additions whatever is kept).
    let mut totals = EvalTotals::default();
    for range in blocks {
        let sequences = split_sequences(&text[range.clone()], mode);
        // Batches of sequences per scoring call, so a model that scores many at once can.
        let block: Vec<(SequenceTotals, Option<Box<ScoredRows>>)> = sequences
            .par_chunks(batch_len(sequences.len()))
            .flat_map_iter(|chunk| {
                let scored = if keep_rows {
                    score_keeping_rows(model, chunk, mode)
                } else {
                    score_totals(model, chunk, mode)
                };
                progress(
                    done.fetch_add(chunk.len(), Ordering::Relaxed) + chunk.len(),
                    total,
                );
                scored
            })
            .collect();
        corpus.release_range(range);
        block
            .iter()
            .for_each(|(sequence, _)| add_sequence(&mut totals, sequence));
        if keep_rows || keep_per_sequence {
            scored.extend(block);
        }
    }
    let mut rows = Vec::new();
    for (seq_index, (_, kept)) in scored.iter().enumerate() {
        if let Some(kept) = kept {
            let (encoded, log_probs) = kept.as_ref();
            let vocab = tokenizer.vocab();
            rows.extend(encoded.ids.iter().zip(log_probs).enumerate().map(
                |(pos, (&id, &logp))| ProbRow {
                    seq: seq_index as u32,
                    pos: pos as u32,
                    token: escape_token(vocab.token(id)),
                    logp,
                },
            ));
        }
    }
    let probs = keep_rows.then(|| ProbsFile {
        header: ProbsHeader {
            model: model.describe(),
            tokenizer: tokenizer.fingerprint(),
            corpus_sha256: corpus.sha256(),
            bytes: Some(totals.bytes),
            words: Some(totals.words),
        },
        rows,
    });
    let per_sequence = if keep_per_sequence {
        scored.into_iter().map(|(totals, _)| totals).collect()
    } else {
        Vec::new()
    };
    Evaluation {
        totals,
        probs,
        per_sequence,
    }
}

/// Scores a chunk of sequences, keeping each one's ids and log-probabilities with its totals.
fn score_keeping_rows(
    model: &dyn LanguageModel,
    chunk: &[Sequence<'_>],
    mode: SequenceMode,
) -> Vec<(SequenceTotals, Option<Box<ScoredRows>>)> {
    let tokenizer = model.tokenizer();
    let encoded: Vec<TokenSequence> = chunk
        .iter()
        .map(|sequence| encode_sequence(tokenizer, sequence, mode))
        .collect();
    let ids: Vec<&[TokenId]> = encoded.iter().map(|e| e.ids.as_slice()).collect();
    let log_probs = score_sequences(model, &ids);
    encoded
        .into_iter()
        .zip(log_probs)
        .map(|(encoded, log_probs)| {
            let totals = SequenceTotals {
                tokens: encoded.ids.len() as u64,
                oov: encoded.oov as u64,
                oov_log_prob_sum: encoded.oov_at.iter().map(|&i| log_probs[i]).sum(),
                bytes: encoded.bytes as u64,
                words: encoded.words as u64,
                log_prob_sum: log_probs.iter().sum(),
            };
            (totals, Some(Box::new((encoded, log_probs))))
        })
        .collect()
}

/// Scores a chunk of sequences for their totals only: ids, OOV positions and log-probabilities in
/// one flat vector each for the whole chunk (no allocation per sequence). The sums are
/// [`score_keeping_rows`]' additions, in the same order.
fn score_totals(
    model: &dyn LanguageModel,
    chunk: &[Sequence<'_>],
    mode: SequenceMode,
) -> Vec<(SequenceTotals, Option<Box<ScoredRows>>)> {
    let tokenizer = model.tokenizer();
    let (mut ids, mut oov_at) = (Vec::new(), Vec::new());
    // Per sequence: its ids' end in `ids`, its OOV positions' end in `oov_at`, its OOVs.
    let mut ends = Vec::with_capacity(chunk.len());
    for sequence in chunk {
        let oov = encode_sequence_marking_oov(tokenizer, sequence, mode, &mut ids, &mut oov_at);
        ends.push((ids.len(), oov_at.len(), oov));
    }
    let spans = || {
        ends.iter().scan((0, 0), |from, &(to, oov_to, oov)| {
            let span = (from.0..to, from.1..oov_to, oov);
            *from = (to, oov_to);
            Some(span)
        })
    };
    let slices: Vec<&[TokenId]> = spans().map(|(at, _, _)| &ids[at]).collect();
    let mut log_probs = Vec::with_capacity(ids.len());
    match model.log_probs_batch(&slices) {
        Some(batch) => log_probs.extend(batch.into_iter().flatten()),
        None => {
            for sequence in &slices {
                score_sequence_into(model, sequence, &mut log_probs);
            }
        }
    }
    spans()
        .zip(chunk)
        .map(|((at, oovs, oov), sequence)| {
            let totals = SequenceTotals {
                tokens: at.len() as u64,
                oov: oov as u64,
                oov_log_prob_sum: oov_at[oovs].iter().map(|&i| log_probs[i]).sum(),
                bytes: sequence.byte_count() as u64,
                words: sequence.word_count() as u64,
                log_prob_sum: log_probs[at].iter().sum(),
            };
            (totals, None)
        })
        .collect()
}

/// Adds one sequence's totals to `totals`.
fn add_sequence(totals: &mut EvalTotals, sequence: &SequenceTotals) {
    totals.sequences += 1;
    totals.tokens += sequence.tokens;
    totals.oov += sequence.oov;
    totals.oov_log_prob_sum += sequence.oov_log_prob_sum;
    totals.bytes += sequence.bytes;
    totals.words += sequence.words;
    totals.log_prob_sum += sequence.log_prob_sum;
}
