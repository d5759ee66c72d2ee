//! Where a neural run agrees with a count-based model (issue 17 §4): over a held-out text, per
//! context length (the tokens of history before the predicted position, `<s>` not counted), how
//! often the two models' top-1 predictions agree and the mean KL(neural ‖ reference) between their
//! next-token distributions, at each saved step of the run (its learning-dynamics checkpoints, or
//! its final checkpoint when it saved none). `lmlab analyze RUN --agree-with MODEL --input TEXT`
//! writes it as `RUN/analysis/agreement.json` with three plots in `RUN/analysis/plots/`.
//!
//! The reference is any model file (n-gram, memory-based, baseline, neural) over the run's tokenizer
//! (compared by fingerprint). A model's top-1 is its own classifier's answer where it has one
//! ([`LanguageModel::top1_predictions`]: a memory-based model's TiMBL answer), otherwise its
//! distribution's most likely token (the lowest id on ties). KL is in nats; a position where the
//! reference gives zero probability to a token the neural model gives some is counted as infinite
//! KL, apart from the mean.

use crate::dynamics::{write_line_plot, Axes, Line, PLOTS_DIR};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::model::encode_sequence;
use lmlab_core::sampling::most_likely;
use lmlab_core::{Corpus, Error, LanguageModel, Result, SequenceMode, TokenId};
use lmlab_neural::dynamics::capture::{self, AnalysisCheckpoint};
use lmlab_neural::NeuralLm;
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The JSON file of the agreement, in the run's analysis folder.
pub const AGREEMENT_FILE: &str = "agreement.json";
/// The longest context length with a row of its own for models without a context window (an
/// LSTM); longer contexts share the last row.
pub const DEFAULT_MAX_CONTEXT: usize = 64;
/// Sequences scored together by one task (the sums are added in sequence order whatever the
/// threads, so the output is the same on any machine).
const SEQUENCES_PER_TASK: usize = 16;

/// Options of [`agreement_run`].
#[derive(Clone, Debug, Default)]
pub struct AgreementOptions {
    /// The longest context length with a row of its own (longer ones share that row); default: the
    /// run's context window less `<s>` (a transformer's `block_size − 1`, beyond which it slides),
    /// [`DEFAULT_MAX_CONTEXT`] for an LSTM.
    pub max_context: Option<usize>,
}

/// Agreement figures over a set of positions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Agreement {
    /// Positions compared.
    pub positions: u64,
    /// Fraction of them where the two top-1 predictions are the same token.
    pub agreement: f64,
    /// Mean KL(neural ‖ reference) in nats over the positions where it is finite.
    pub mean_kl: f64,
    /// Positions where it is infinite (the reference gives zero probability to a token the
    /// neural model does not).
    pub infinite_kl: u64,
    /// Fraction of positions where the neural model's top-1 is the text's next token.
    pub model_accuracy: f64,
    /// Fraction of positions where the reference's top-1 is the text's next token.
    pub reference_accuracy: f64,
}

/// The agreement of the positions with one context length.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContextAgreement {
    /// Tokens of history before the predicted position; the last row holds this many or more.
    pub context: usize,
    /// Its figures.
    #[serde(flatten)]
    pub agreement: Agreement,
}

/// The agreement of a model with the reference by context length, and over all positions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgreementCurve {
    /// Over every position.
    pub all: Agreement,
    /// Per context length with positions, shortest first.
    pub contexts: Vec<ContextAgreement>,
}

/// The curve of one saved step of the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepAgreement {
    /// Training steps completed.
    pub step: usize,
    /// Its agreement.
    #[serde(flatten)]
    pub curve: AgreementCurve,
}

/// What `agreement.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgreementReport {
    /// The reference model file.
    pub reference: String,
    /// The reference's one-line description.
    pub reference_model: String,
    /// The held-out text.
    pub input: String,
    /// The tokenizer's fingerprint (the same for both).
    pub tokenizer: String,
    /// Sequences of the text (cut as the run was trained to cut text; a stream run's into lines).
    pub sequences: usize,
    /// The longest context length with a row of its own.
    pub max_context: usize,
    /// Per saved step, in step order.
    pub steps: Vec<StepAgreement>,
}

/// What [`agreement_run`] wrote.
#[derive(Debug)]
pub struct AgreementOutput {
    /// The agreement.
    pub report: AgreementReport,
    /// `RUN/analysis/agreement.json`.
    pub json: PathBuf,
    /// The plots: agreement and KL against context length (a line per step), agreement against
    /// step (a line per context length).
    pub plots: Vec<PathBuf>,
}

/// Sums over a set of positions.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    positions: u64,
    agree: u64,
    kl_sum: f64,
    kl_finite: u64,
    model_correct: u64,
    reference_correct: u64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.positions += other.positions;
        self.agree += other.agree;
        self.kl_sum += other.kl_sum;
        self.kl_finite += other.kl_finite;
        self.model_correct += other.model_correct;
        self.reference_correct += other.reference_correct;
    }

    fn agreement(&self) -> Agreement {
        let n = self.positions as f64;
        Agreement {
            positions: self.positions,
            agreement: self.agree as f64 / n,
            mean_kl: if self.kl_finite > 0 {
                self.kl_sum / self.kl_finite as f64
            } else {
                0.0
            },
            infinite_kl: self.positions - self.kl_finite,
            model_accuracy: self.model_correct as f64 / n,
            reference_accuracy: self.reference_correct as f64 / n,
        }
    }
}

/// KL(p ‖ q) in nats; infinite where q is zero and p is not.
pub fn kl_divergence(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .filter(|(&pi, _)| pi > 0.0)
        .map(|(&pi, &qi)| {
            if qi > 0.0 {
                pi * (pi.ln() - qi.ln())
            } else {
                f64::INFINITY
            }
        })
        .sum()
}

/// Adds the positions of one sequence to `tallies` (indexed by context length, capped at the
/// last).
fn tally_sequence(
    model: &dyn LanguageModel,
    reference: &dyn LanguageModel,
    ids: &[TokenId],
    tallies: &mut [Tally],
) {
    let (top_m, top_r) = (model.top1_predictions(ids), reference.top1_predictions(ids));
    let (mut sm, mut sr) = (model.stepper(), reference.stepper());
    sm.reserve(ids.len());
    sr.reserve(ids.len());
    let (mut p, mut q) = (vec![0.0; sm.vocab_len()], vec![0.0; sr.vocab_len()]);
    let last = tallies.len() - 1;
    for (i, &token) in ids.iter().enumerate() {
        sm.distribution_into(&mut p);
        sr.distribution_into(&mut q);
        let a = top_m.as_ref().map_or_else(|| most_likely(&p), |t| t[i]);
        let b = top_r.as_ref().map_or_else(|| most_likely(&q), |t| t[i]);
        let kl = kl_divergence(&p, &q);
        let t = &mut tallies[i.min(last)];
        t.positions += 1;
        t.agree += u64::from(a == b);
        if kl.is_finite() {
            t.kl_sum += kl;
            t.kl_finite += 1;
        }
        t.model_correct += u64::from(a == token);
        t.reference_correct += u64::from(b == token);
        sm.push(token);
        sr.push(token);
    }
}

/// The agreement of `model` with `reference` over `sequences` (token ids, each scored from `<s>`),
/// per context length up to `max_context` (longer contexts counted in its row). The two must
/// share a vocabulary (the callers check the tokenizer). Same inputs, same numbers, whatever the
/// threads.
pub fn agreement_curve(
    model: &dyn LanguageModel,
    reference: &dyn LanguageModel,
    sequences: &[Vec<TokenId>],
    max_context: usize,
) -> AgreementCurve {
    let parts: Vec<Vec<Tally>> = sequences
        .par_chunks(SEQUENCES_PER_TASK)
        .map(|chunk| {
            let mut tallies = vec![Tally::default(); max_context + 1];
            for ids in chunk {
                tally_sequence(model, reference, ids, &mut tallies);
            }
            tallies
        })
        .collect();
    let mut tallies = vec![Tally::default(); max_context + 1];
    for part in &parts {
        for (t, p) in tallies.iter_mut().zip(part) {
            t.add(p);
        }
    }
    let mut all = Tally::default();
    for t in &tallies {
        all.add(t);
    }
    AgreementCurve {
        all: all.agreement(),
        contexts: tallies
            .iter()
            .enumerate()
            .filter(|(_, t)| t.positions > 0)
            .map(|(context, t)| ContextAgreement {
                context,
                agreement: t.agreement(),
            })
            .collect(),
    }
}

/// Refuses a reference whose tokenizer is not the run's.
fn check_same_tokenizer(
    run: &dyn LanguageModel,
    run_dir: &Path,
    reference: &dyn LanguageModel,
    reference_path: &Path,
) -> Result<()> {
    let (a, b) = (run.tokenizer(), reference.tokenizer());
    if a.fingerprint() == b.fingerprint() && a.vocab().len() == b.vocab().len() {
        return Ok(());
    }
    Err(Error::Mismatch(format!(
        "{} was trained with another tokenizer ({} tokens, fingerprint {}) than the run {} ({} \
         tokens, fingerprint {}): agreement needs one tokenizer for both (train the reference \
         with --tokenizer-file {})",
        reference_path.display(),
        b.vocab().len(),
        b.fingerprint(),
        run_dir.display(),
        a.vocab().len(),
        a.fingerprint(),
        run_dir
            .join(lmlab_neural::train::files::TOKENIZER)
            .display()
    )))
}

/// The token ids of the sequences of `input`, cut as `run` was trained to cut text, except that a
/// stream run's text is cut into lines (one stream would be one sequence: a single position per
/// context length); refuses a text without tokens.
fn held_out_sequences(run: &dyn NeuralLm, input: &Path) -> Result<Vec<Vec<TokenId>>> {
    let corpus = Corpus::open(input)?;
    let mode = match run.run_config().sequence_mode() {
        SequenceMode::Stream => SequenceMode::Line,
        mode => mode,
    };
    let sequences: Vec<Vec<TokenId>> = corpus
        .sequences(mode)
        .iter()
        .map(|s| encode_sequence(run.tokenizer(), s, mode).ids)
        .filter(|ids| !ids.is_empty())
        .collect();
    if sequences.is_empty() {
        return Err(Error::bad_file(
            input,
            "has no tokens to compare the models on",
        ));
    }
    Ok(sequences)
}

/// The agreement of every saved step of the neural run `run_dir` with the model file `reference`
/// over the text `input`, written as JSON and plots in `RUN/analysis/`.
pub fn agreement_run(
    run_dir: &Path,
    reference_path: &Path,
    input: &Path,
    options: &AgreementOptions,
) -> Result<AgreementOutput> {
    let last = lmlab_neural::load_model(run_dir)?;
    let reference = crate::registry::load_model(reference_path)?;
    check_same_tokenizer(&*last, run_dir, &*reference, reference_path)?;
    let sequences = held_out_sequences(&*last, input)?;
    let max_context = options.max_context.unwrap_or_else(|| {
        last.context_window()
            .map_or(DEFAULT_MAX_CONTEXT, |w| w.saturating_sub(1))
    });
    let saved = capture::list(run_dir)?;
    let curve =
        |model: &dyn LanguageModel| agreement_curve(model, &*reference, &sequences, max_context);
    let steps: Vec<StepAgreement> = if saved.is_empty() {
        vec![StepAgreement {
            step: last.step(),
            curve: curve(&*last),
        }]
    } else {
        saved
            .par_iter()
            .map(|(step, path)| {
                let tokenizer = lmlab_neural::train::load_run_tokenizer(run_dir)?;
                let model = AnalysisCheckpoint::load(path)?.model(tokenizer)?;
                Ok(StepAgreement {
                    step: *step,
                    curve: curve(&*model),
                })
            })
            .collect::<Result<_>>()?
    };
    let report = AgreementReport {
        reference: reference_path.display().to_string(),
        reference_model: reference.describe(),
        input: input.display().to_string(),
        tokenizer: reference.tokenizer().fingerprint(),
        sequences: sequences.len(),
        max_context,
        steps,
    };
    let dir = run_dir.join(capture::DIR);
    let plot_dir = dir.join(PLOTS_DIR);
    std::fs::create_dir_all(&plot_dir).map_err(|e| Error::io(&plot_dir, e))?;
    let json = dir.join(AGREEMENT_FILE);
    let text = serde_json::to_string_pretty(&report).expect("agreement serializes");
    write_bytes_atomically(&json, text.as_bytes())?;
    let plots = write_plots(&report, &plot_dir)?;
    Ok(AgreementOutput {
        report,
        json,
        plots,
    })
}

/// The context lengths drawn against the step: 0, 1, 2, 4, 8, … up to the longest, and it.
fn drawn_contexts(max_context: usize) -> Vec<usize> {
    let mut out: Vec<usize> = std::iter::once(0)
        .chain((0..).map(|k| 1usize << k).take_while(|&c| c < max_context))
        .collect();
    out.push(max_context);
    out.dedup();
    out
}

/// The three plots of `report` in `plot_dir`.
fn write_plots(report: &AgreementReport, plot_dir: &Path) -> Result<Vec<PathBuf>> {
    let by_context = |value: fn(&Agreement) -> f64| -> Vec<Line> {
        report
            .steps
            .iter()
            .map(|s| {
                let points = s.curve.contexts.iter();
                let points = points.map(|c| (c.context as f64, value(&c.agreement)));
                (format!("step {}", s.step), points.collect())
            })
            .collect()
    };
    let context_axis = format!(
        "context length (tokens; {}: that or more)",
        report.max_context
    );
    let mut plots = Vec::new();
    for (name, title, y, value) in [
        (
            "agreement-context.svg",
            "top-1 agreement with the reference by context length",
            "top-1 agreement",
            (|a: &Agreement| a.agreement) as fn(&Agreement) -> f64,
        ),
        (
            "kl-context.svg",
            "KL(neural ‖ reference) by context length",
            "mean KL (nats)",
            |a: &Agreement| a.mean_kl,
        ),
    ] {
        let path = plot_dir.join(name);
        let axes = Axes {
            x: &context_axis,
            y,
        };
        write_line_plot(&path, title, &axes, &by_context(value))?;
        plots.push(path);
    }
    let mut lines: Vec<Line> = drawn_contexts(report.max_context)
        .into_iter()
        .map(|context| {
            let points = report.steps.iter().filter_map(|s| {
                let row = s.curve.contexts.iter().find(|c| c.context == context)?;
                Some((s.step as f64, row.agreement.agreement))
            });
            (format!("context {context}"), points.collect())
        })
        .collect();
    let all = report.steps.iter();
    lines.push((
        "all positions".into(),
        all.map(|s| (s.step as f64, s.curve.all.agreement))
            .collect(),
    ));
    let path = plot_dir.join("agreement-step.svg");
    let axes = Axes {
        x: "training step",
        y: "top-1 agreement",
    };
    let title = "top-1 agreement with the reference over training";
    write_line_plot(&path, title, &axes, &lines)?;
    plots.push(path);
    Ok(plots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlab_tokenize::words::WordsTokenizer;

    // Ids of the toy vocabulary: <unk> 0, <s> 1, </s> 2, then the words.
    const EOS: TokenId = 2;
    const A: TokenId = 3;
    const B: TokenId = 4;

    /// A model over {a, b} whose next-token distribution depends on the last token at most.
    struct Toy {
        tokenizer: WordsTokenizer,
        dist: fn(Option<TokenId>) -> [f64; 5],
        top1: Option<TokenId>,
    }

    fn toy(dist: fn(Option<TokenId>) -> [f64; 5]) -> Toy {
        let tokenizer = WordsTokenizer::from_words(["a".to_string(), "b".to_string()]);
        Toy {
            tokenizer,
            dist,
            top1: None,
        }
    }

    impl LanguageModel for Toy {
        fn kind(&self) -> &str {
            "toy"
        }
        fn describe(&self) -> String {
            "toy".into()
        }
        fn tokenizer(&self) -> &dyn lmlab_core::Tokenizer {
            &self.tokenizer
        }
        fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
            (0..tokens.len())
                .map(|i| (self.dist)(i.checked_sub(1).map(|j| tokens[j]))[tokens[i] as usize].ln())
                .collect()
        }
        fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
            (self.dist)(context.last().copied()).to_vec()
        }
        fn parameter_count(&self) -> u64 {
            0
        }
        fn top1_predictions(&self, tokens: &[TokenId]) -> Option<Vec<TokenId>> {
            self.top1.map(|t| vec![t; tokens.len()])
        }
    }

    /// a 0.6, b 0.3, </s> 0.1 whatever the context.
    fn unigram(_: Option<TokenId>) -> [f64; 5] {
        [0.0, 0.0, 0.1, 0.6, 0.3]
    }

    /// After `b`: the unigram; after `a` or `<s>`: b 0.7, a 0.2, </s> 0.1.
    fn bigram(last: Option<TokenId>) -> [f64; 5] {
        match last {
            Some(B) => unigram(last),
            _ => [0.0, 0.0, 0.1, 0.2, 0.7],
        }
    }

    /// "a b a </s>".
    fn text() -> Vec<Vec<TokenId>> {
        vec![vec![A, B, A, EOS]]
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn kl_divergence_is_by_hand_and_infinite_off_the_support() {
        let (p, q) = ([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]);
        assert!(close(kl_divergence(&p, &q), 2f64.ln()));
        assert_eq!(kl_divergence(&p, &p), 0.0);
        assert_eq!(kl_divergence(&q, &p), f64::INFINITY);
    }

    #[test]
    fn a_model_agrees_with_itself_everywhere() {
        let m = toy(bigram);
        let curve = agreement_curve(&m, &m, &text(), 8);
        assert_eq!(curve.all.positions, 4);
        assert_eq!(curve.all.agreement, 1.0);
        assert_eq!(curve.all.mean_kl, 0.0);
        assert_eq!(curve.all.infinite_kl, 0);
        assert_eq!(curve.all.model_accuracy, curve.all.reference_accuracy);
        let contexts: Vec<usize> = curve.contexts.iter().map(|c| c.context).collect();
        assert_eq!(contexts, vec![0, 1, 2, 3], "only lengths with positions");
        assert!(curve
            .contexts
            .iter()
            .all(|c| c.agreement.agreement == 1.0 && c.agreement.mean_kl == 0.0));
    }

    #[test]
    fn a_bigram_against_a_unigram_is_by_hand() {
        // Over "a b a </s>", the bigram predicts b after <s> and after a (the unigram: a), and
        // the unigram's distribution after b: they agree at the third position only.
        let (model, reference) = (toy(bigram), toy(unigram));
        let kl = 0.7 * (0.7f64 / 0.3).ln() + 0.2 * (0.2f64 / 0.6).ln();
        let curve = agreement_curve(&model, &reference, &text(), 2);
        let all = &curve.all;
        assert_eq!(all.positions, 4);
        assert!(close(all.agreement, 0.25));
        assert!(close(all.mean_kl, 3.0 * kl / 4.0), "{}", all.mean_kl);
        // Top-1 right: the bigram at b and the second a, the unigram at both a's.
        assert!(close(all.model_accuracy, 0.5) && close(all.reference_accuracy, 0.5));
        let rows: Vec<(usize, u64, f64, f64)> = curve
            .contexts
            .iter()
            .map(|c| {
                let a = &c.agreement;
                (c.context, a.positions, a.agreement, a.mean_kl)
            })
            .collect();
        // Context 2 holds the positions with 2 tokens of history or more (the third and fourth).
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], (0, 1, 0.0, rows[0].3));
        assert_eq!(rows[1], (1, 1, 0.0, rows[1].3));
        assert_eq!((rows[2].0, rows[2].1, rows[2].2), (2, 2, 0.5));
        assert!(close(rows[0].3, kl) && close(rows[1].3, kl) && close(rows[2].3, kl / 2.0));
    }

    #[test]
    fn zero_reference_probabilities_count_as_infinite_kl_apart_from_the_mean() {
        fn no_b(last: Option<TokenId>) -> [f64; 5] {
            match last {
                Some(A) => [0.0, 0.0, 0.4, 0.6, 0.0],
                _ => unigram(last),
            }
        }
        let curve = agreement_curve(&toy(unigram), &toy(no_b), &text(), 8);
        // After a (positions 1 and 3) the reference gives b nothing; elsewhere they are equal.
        assert_eq!(curve.all.infinite_kl, 2);
        assert_eq!(curve.all.mean_kl, 0.0);
        assert_eq!(curve.all.agreement, 1.0);
    }

    #[test]
    fn a_model_with_a_classifier_of_its_own_is_compared_by_its_answers() {
        let mut reference = toy(bigram);
        reference.top1 = Some(EOS);
        let curve = agreement_curve(&toy(bigram), &reference, &text(), 8);
        assert_eq!(curve.all.agreement, 0.0);
        assert!(close(curve.all.reference_accuracy, 0.25), "right at </s>");
        assert_eq!(curve.all.mean_kl, 0.0, "KL stays on the distributions");
    }

    #[test]
    fn many_sequences_sum_to_the_same_rates_whatever_the_tasks() {
        let (model, reference) = (toy(bigram), toy(unigram));
        let one = agreement_curve(&model, &reference, &text(), 2);
        let many: Vec<Vec<TokenId>> = (0..3 * SEQUENCES_PER_TASK + 5)
            .map(|_| text()[0].clone())
            .collect();
        let curve = agreement_curve(&model, &reference, &many, 2);
        assert_eq!(curve.all.positions, 4 * many.len() as u64);
        assert!(close(curve.all.agreement, one.all.agreement));
        assert!(close(curve.all.mean_kl, one.all.mean_kl));
    }

    #[test]
    fn the_contexts_drawn_against_the_step_double_up_to_the_longest() {
        assert_eq!(drawn_contexts(64), vec![0, 1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(drawn_contexts(20), vec![0, 1, 2, 4, 8, 16, 20]);
        assert_eq!(drawn_contexts(1), vec![0, 1]);
        assert_eq!(drawn_contexts(0), vec![0]);
    }
}
