//! `lmlab eval` as one library call: perplexity, bits per byte, word perplexity and OOVs of any
//! model on a text; with `accuracy`, top-1 / top-5 next-token accuracy and calibration; and the
//! result in lm-evaluation-harness's output layout ([`write_lm_eval_output`]).

use crate::registry::{load, LoadedModel};
use lmlab_core::accuracy::{accuracy, AccuracyTotals};
use lmlab_core::corpus::Corpus;
use lmlab_core::evaluate::{evaluate_keeping, SequenceTotals};
use lmlab_core::metrics::EvalTotals;
use lmlab_core::probs::ProbsFile;
use lmlab_core::{Error, Result, SequenceMode, LMLAB_VERSION};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What to compute.
#[derive(Clone, Debug, Default)]
pub struct EvalOptions {
    /// Sequence mode (default: the one the model was trained with).
    pub sequences: Option<SequenceMode>,
    /// Keep the per-token probabilities.
    pub keep_probs: bool,
    /// Top-1 / top-5 accuracy and calibration (a whole next-token distribution per token).
    pub accuracy: bool,
    /// Keep each sequence's totals and text ([`EvalResult::sequences`], which
    /// [`write_lm_eval_output`] needs). Without it memory does not grow with the corpus.
    pub keep_sequences: bool,
}

/// One row of the reliability table.
#[derive(Clone, Debug, Serialize)]
pub struct ReliabilityRow {
    /// Lowest top-1 probability of the bin.
    pub lower: f64,
    /// Highest.
    pub upper: f64,
    /// Positions in the bin.
    pub count: u64,
    /// Their mean top-1 probability.
    pub confidence: f64,
    /// Their share right.
    pub accuracy: f64,
}

/// Accuracy and calibration, as reported.
#[derive(Clone, Debug, Serialize)]
pub struct AccuracyReport {
    /// Top-1 accuracy (a memory-based model's classifier answer, as TiMBL's accuracy).
    pub top1_accuracy: f64,
    /// Gold token among the five most likely.
    pub top5_accuracy: f64,
    /// Top-1 accuracy of the distribution's most likely token.
    pub distribution_top1_accuracy: f64,
    /// Whether `top1_accuracy` is a classifier's answer.
    pub top1_from_classifier: bool,
    /// Expected calibration error of the distribution's top-1 probability (15 equal-width bins).
    pub expected_calibration_error: f64,
    /// The reliability table behind it.
    pub reliability: Vec<ReliabilityRow>,
}

impl From<&AccuracyTotals> for AccuracyReport {
    fn from(t: &AccuracyTotals) -> Self {
        let n = t.tokens.max(1) as f64;
        AccuracyReport {
            top1_accuracy: t.top1_accuracy(),
            top5_accuracy: t.top5_accuracy(),
            distribution_top1_accuracy: t.distribution_top1 as f64 / n,
            top1_from_classifier: t.classifier,
            expected_calibration_error: t.expected_calibration_error(),
            reliability: t
                .bins
                .iter()
                .map(|b| ReliabilityRow {
                    lower: b.lower,
                    upper: b.upper,
                    count: b.count,
                    confidence: b.confidence(),
                    accuracy: b.accuracy(),
                })
                .collect(),
        }
    }
}

/// What `lmlab eval --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    /// The model's description.
    pub model: String,
    /// The text evaluated.
    pub input: String,
    /// How it was cut into sequences.
    pub sequence_mode: String,
    /// The totals every metric derives from.
    #[serde(flatten)]
    pub totals: EvalTotals,
    /// Per-token perplexity, OOVs included.
    pub perplexity: f64,
    /// Per-token perplexity over the tokens that are not OOVs.
    pub perplexity_excluding_oov: f64,
    /// OOV tokens per token.
    pub oov_rate: f64,
    /// Bits per UTF-8 byte.
    pub bits_per_byte: f64,
    /// Perplexity per whitespace word.
    pub word_perplexity: f64,
    /// No OOVs scored: bits per byte and word perplexity compare across tokenizers.
    pub comparable_across_tokenizers: bool,
    /// Set when OOVs are many.
    pub oov_warning: Option<String>,
    /// With [`EvalOptions::accuracy`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<AccuracyReport>,
}

/// An evaluation with what the output files need.
pub struct EvalResult {
    /// The report.
    pub report: EvalReport,
    /// The per-token probabilities, when kept.
    pub probs: Option<ProbsFile>,
    /// Each sequence's totals and text (with [`EvalOptions::keep_sequences`], else empty).
    pub sequences: Vec<(SequenceTotals, String)>,
    /// The model's path.
    pub model_path: PathBuf,
}

/// Evaluates the model (file or run directory) at `model_path` on `input`; `progress` receives
/// (sequences done, sequences) of each pass.
pub fn evaluate_path(
    model_path: &Path,
    input: &Path,
    options: &EvalOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<EvalResult> {
    let loaded = load(model_path)?;
    let corpus = Corpus::open(input)?;
    Ok(evaluate_corpus(
        &loaded, model_path, &corpus, options, progress,
    ))
}

/// Evaluates a loaded model (read from `model_path`) on `corpus`, a file's or a text's
/// ([`Corpus::from_text`]; the report's `input` is the corpus's name); `progress` receives
/// (sequences done, sequences) of each pass.
pub fn evaluate_corpus(
    loaded: &LoadedModel,
    model_path: &Path,
    corpus: &Corpus,
    options: &EvalOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> EvalResult {
    let model = loaded.model.as_ref();
    let mode = options.sequences.unwrap_or(loaded.sequences);
    let evaluation = evaluate_keeping(
        model,
        corpus,
        mode,
        options.keep_probs,
        options.keep_sequences,
        progress,
    );
    let accuracy = options
        .accuracy
        .then(|| AccuracyReport::from(&accuracy(model, corpus, mode, progress)));
    let t = evaluation.totals;
    let sequences = if options.keep_sequences {
        let texts = corpus
            .sequences(mode)
            .into_iter()
            .map(|s| s.text.to_string());
        evaluation.per_sequence.into_iter().zip(texts).collect()
    } else {
        Vec::new()
    };
    EvalResult {
        report: EvalReport {
            model: model.describe(),
            input: corpus.path().display().to_string(),
            sequence_mode: mode.to_string(),
            perplexity: t.perplexity(),
            perplexity_excluding_oov: t.perplexity_excluding_oov(),
            oov_rate: t.oov_rate(),
            bits_per_byte: t.bits_per_byte(),
            word_perplexity: t.word_perplexity(),
            comparable_across_tokenizers: t.comparable_across_tokenizers(),
            oov_warning: t.oov_warning(),
            totals: t,
            accuracy,
        },
        probs: evaluation.probs,
        sequences,
        model_path: model_path.to_path_buf(),
    }
}

/// Writes `dir/results.json` and `dir/samples_<task>.jsonl` as lm-evaluation-harness writes them
/// for a `loglikelihood_rolling` task (its wikitext task's metrics: `word_perplexity` =
/// exp(−Σ ll / Σ words), `byte_perplexity` = exp(−Σ ll / Σ bytes), `bits_per_byte` =
/// −Σ ll / (Σ bytes · ln 2), each keyed `metric,none` with a `_stderr` of "N/A" as the harness
/// does for these aggregate metrics); the task is named after the input file. Returns the paths.
pub fn write_lm_eval_output(dir: &Path, result: &EvalResult) -> Result<Vec<PathBuf>> {
    if result.sequences.len() as u64 != result.report.totals.sequences {
        return Err(Error::invalid(
            "the evaluation kept no per-sequence results: evaluate with keep_sequences to write \
             lm-evaluation-harness output",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let r = &result.report;
    let task = Path::new(&r.input).file_stem().map_or("text".into(), |s| {
        s.to_string_lossy().replace(['.', ' '], "_")
    });
    let bytes_ppl = (r.bits_per_byte * std::f64::consts::LN_2).exp();
    let mut metrics = serde_json::json!({
        "alias": task,
        "word_perplexity,none": r.word_perplexity,
        "word_perplexity_stderr,none": "N/A",
        "byte_perplexity,none": bytes_ppl,
        "byte_perplexity_stderr,none": "N/A",
        "bits_per_byte,none": r.bits_per_byte,
        "bits_per_byte_stderr,none": "N/A",
        "token_perplexity,none": r.perplexity,
        "token_perplexity_stderr,none": "N/A",
    });
    if let Some(a) = &r.accuracy {
        metrics["top1_accuracy,none"] = a.top1_accuracy.into();
        metrics["top5_accuracy,none"] = a.top5_accuracy.into();
        metrics["expected_calibration_error,none"] = a.expected_calibration_error.into();
    }
    let n = result.sequences.len();
    let results = serde_json::json!({
        "results": { &task: metrics },
        "group_subtasks": { &task: [] },
        "configs": { &task: {
            "task": task,
            "dataset_path": r.input,
            "output_type": "loglikelihood_rolling",
            "sequence_mode": r.sequence_mode,
            "metric_list": [
                {"metric": "word_perplexity", "higher_is_better": false},
                {"metric": "byte_perplexity", "higher_is_better": false},
                {"metric": "bits_per_byte", "higher_is_better": false},
            ],
        }},
        "versions": { &task: 1.0 },
        "n-shot": { &task: 0 },
        "higher_is_better": { &task: {
            "word_perplexity": false, "byte_perplexity": false, "bits_per_byte": false,
        }},
        "n-samples": { &task: { "original": n, "effective": n } },
        "config": {
            "model": "lmlab",
            "model_args": result.model_path.display().to_string(),
            "model_description": r.model,
        },
        "date": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        "lmlab_version": LMLAB_VERSION,
    });
    let results_path = dir.join("results.json");
    let json = serde_json::to_vec_pretty(&results).expect("serializes");
    lmlab_core::atomic::write_bytes_atomically(&results_path, &json)?;
    let mut samples = Vec::new();
    for (doc_id, (t, text)) in result.sequences.iter().enumerate() {
        let line = serde_json::json!({
            "doc_id": doc_id,
            "doc": { "text": text },
            "target": "",
            "arguments": [[text]],
            "resps": [[t.log_prob_sum]],
            "filtered_resps": [t.log_prob_sum],
            "word_perplexity": [t.log_prob_sum, t.words],
            "byte_perplexity": [t.log_prob_sum, t.bytes],
            "bits_per_byte": [t.log_prob_sum, t.bytes],
            "tokens": t.tokens,
            "oov": t.oov,
        });
        serde_json::to_writer(&mut samples, &line).expect("serializes");
        samples.push(b'\n');
    }
    let samples_path = dir.join(format!("samples_{task}.jsonl"));
    lmlab_core::atomic::write_bytes_atomically(&samples_path, &samples)?;
    Ok(vec![results_path, samples_path])
}
