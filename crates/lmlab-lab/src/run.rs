//! One training run: a [`Recipe`] on [`Data`] gives a model at a path and a [`RunRecord`] of what
//! it cost, where it came from and (after [`evaluate_run`]) how well it predicts.
//!
//! The family switch is written here once ([`fit`]): every caller (the CLI's `train` subcommands,
//! `train --recipe`, the demo, the experiment runner) goes through [`train`].

use crate::recipe::{ModelChoice, Recipe, TokenizerChoice, Trainer};
use lmlab_baseline::UniformModel;
use lmlab_core::compute::{ComputeMeter, ComputeRecord};
use lmlab_core::corpus::split_sequences;
use lmlab_core::evaluate::evaluate;
use lmlab_core::metrics::EvalTotals;
use lmlab_core::model::{encode_corpus, encode_sequence_into};
use lmlab_core::model_file::Provenance;
use lmlab_core::{Corpus, Error, LanguageModel, Result, SequenceMode, Tokenizer, LMLAB_VERSION};
use lmlab_neural::config::TokenizerSpec;
use lmlab_tokenize::{load_tokenizer_file, save_tokenizer_file, BytesTokenizer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The run-record format this lmlab writes.
pub const RUN_RECORD_FORMAT: u32 = 1;

/// The text files of a run: training text, and the validation and test texts it is evaluated on
/// (neural families need `valid` to train).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Data {
    /// Training text.
    pub train: PathBuf,
    /// Validation text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<PathBuf>,
    /// Test text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<PathBuf>,
}

impl Data {
    /// The named splits that are present, in the order train, valid, test.
    pub fn splits(&self) -> Vec<(&'static str, &Path)> {
        let mut splits = vec![("train", self.train.as_path())];
        splits.extend(self.valid.as_deref().map(|p| ("valid", p)));
        splits.extend(self.test.as_deref().map(|p| ("test", p)));
        splits
    }

    /// The digest of every split (reads each file once).
    pub fn digests(&self) -> Result<BTreeMap<String, FileDigest>> {
        self.splits()
            .into_iter()
            .map(|(name, path)| Ok((name.to_string(), FileDigest::of(path)?)))
            .collect()
    }
}

/// A data file as it was when a run read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Its path, as given.
    pub path: PathBuf,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

impl FileDigest {
    /// Reads `path` and hashes it.
    pub fn of(path: &Path) -> Result<FileDigest> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Ok(FileDigest {
            path: path.to_path_buf(),
            sha256: lmlab_core::hashing::sha256_hex(&bytes),
            bytes: bytes.len() as u64,
        })
    }
}

/// An evaluation's totals and the metrics derived from them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    /// Sequences scored.
    pub sequences: u64,
    /// Tokens scored (end tokens included).
    pub tokens: u64,
    /// OOV tokens among them.
    pub oov: u64,
    /// UTF-8 bytes of the text.
    pub bytes: u64,
    /// Whitespace words plus line ends.
    pub words: u64,
    /// Σ ln p over the tokens.
    pub log_prob_sum: f64,
    /// Per-token perplexity.
    pub perplexity: f64,
    /// Perplexity over the tokens that are not OOVs.
    pub perplexity_excluding_oov: f64,
    /// Bits per UTF-8 byte.
    pub bits_per_byte: f64,
    /// Perplexity per whitespace word.
    pub word_perplexity: f64,
    /// Whether bits per byte and word perplexity compare with other tokenizers (no OOVs scored).
    pub comparable_across_tokenizers: bool,
}

impl From<&EvalTotals> for EvalSummary {
    fn from(t: &EvalTotals) -> Self {
        EvalSummary {
            sequences: t.sequences,
            tokens: t.tokens,
            oov: t.oov,
            bytes: t.bytes,
            words: t.words,
            log_prob_sum: t.log_prob_sum,
            perplexity: t.perplexity(),
            perplexity_excluding_oov: t.perplexity_excluding_oov(),
            bits_per_byte: t.bits_per_byte(),
            word_perplexity: t.word_perplexity(),
            comparable_across_tokenizers: t.comparable_across_tokenizers(),
        }
    }
}

/// A validation estimate during training (neural families).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Optimizer steps done.
    pub step: u64,
    /// CPU seconds spent by then (tokenizer training included).
    pub cpu_seconds: f64,
    /// Training tokens seen.
    pub tokens_seen: u64,
    /// Validation loss, nats per token (an estimate from sampled windows).
    pub val_loss: f64,
    /// The same in bits per byte, using the validation text's tokens per byte.
    pub val_bits_per_byte: f64,
}

/// Everything known about a run: what was asked, on what, what it cost, what it left and how
/// well the model predicts. Written as `run.json` beside the run's files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// [`RUN_RECORD_FORMAT`].
    pub format: u32,
    /// The recipe.
    pub recipe: Recipe,
    /// The data files read, by split name (`train`, `valid`, `test`).
    pub data: BTreeMap<String, FileDigest>,
    /// CPU seconds (tokenizer training included), wall seconds, tokens seen, parameters, peak RSS.
    pub compute: ComputeRecord,
    /// The model: a model file, or a neural run directory.
    pub model_path: PathBuf,
    /// Bytes of the model (a run directory: its checkpoint, optimizer state included).
    pub model_bytes: u64,
    /// Other files the run left, by name (`valid.probs`, `test.probs`, ...).
    #[serde(default)]
    pub artifacts: BTreeMap<String, PathBuf>,
    /// Evaluations by split name.
    #[serde(default)]
    pub eval: BTreeMap<String, EvalSummary>,
    /// Validation estimates during training (neural families).
    #[serde(default)]
    pub curve: Vec<CurvePoint>,
    /// Why training stopped (neural families: `MaxSteps`, `Budget`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
    /// Warnings of training (fallback discounts, ...).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// lmlab's version.
    pub lmlab_version: String,
    /// A run that started from other runs of its experiment: which, how, and the CPU seconds
    /// charged to it with theirs ([`crate::experiment::derive`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived: Option<crate::experiment::derive::Derived>,
}

impl RunRecord {
    /// Makes the model and artifact paths relative to `dir` (where they lie under it), so a
    /// folder of runs can move.
    pub fn relativize(&mut self, dir: &Path) {
        let relative = |p: &mut PathBuf| {
            if let Ok(rest) = p.strip_prefix(dir) {
                *p = rest.to_path_buf();
            }
        };
        relative(&mut self.model_path);
        self.artifacts.values_mut().for_each(relative);
    }
}

/// How a neural run's session behaves; never changes what is trained.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Continue from the run directory's checkpoint.
    pub resume: bool,
    /// Start afresh in a run directory that holds a checkpoint.
    pub force: bool,
    /// Pause after this many steps (a checkpoint is written; `resume` continues).
    pub stop_after: Option<usize>,
    /// On Ctrl-C, write a checkpoint and stop (otherwise exit at once).
    pub checkpoint_on_interrupt: bool,
    /// Step events every this many steps (0 = every step).
    pub log_interval: usize,
    /// Neural runs with a budget: also validate when these fractions of it are spent (learning
    /// curves at equal compute).
    pub eval_at_fractions: Vec<f64>,
}

/// What a run reports as it goes.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// The tokenizer is being learned: `done` of `total` BPE merges.
    Tokenizer {
        /// Merges done.
        done: usize,
        /// Merges to do.
        total: usize,
    },
    /// A neural training event.
    Neural(&'a lmlab_neural::TrainEvent),
}

/// Trains `recipe` on `data.train` and writes the model to `model_path` (a model file; a
/// directory for neural families). The record's `eval` is empty: see [`evaluate_run`].
pub fn train(
    recipe: &Recipe,
    data: &Data,
    model_path: &Path,
    options: &RunOptions,
    events: &mut dyn FnMut(RunEvent),
) -> Result<RunRecord> {
    recipe.validate()?;
    let digests = data.digests()?;
    let mut warnings = Vec::new();
    let (compute, stop, curve) = if recipe.model.is_neural() {
        let (compute, stop, curve) = fit_neural(recipe, data, model_path, options, events)?;
        (compute, Some(stop), curve)
    } else {
        let corpus = Corpus::open(&data.train)?;
        let compute = fit(recipe, &corpus, model_path, &mut warnings, events)?;
        (compute, None, Vec::new())
    };
    Ok(RunRecord {
        compute,
        curve,
        stop,
        warnings,
        ..record_of(recipe, digests, model_path)?
    })
}

/// The record of a model at `model_path` that was not trained (e.g. a merge evaluated as it is):
/// no compute, curve or evaluation yet.
pub fn untrained_record(recipe: &Recipe, data: &Data, model_path: &Path) -> Result<RunRecord> {
    record_of(recipe, data.digests()?, model_path)
}

fn record_of(
    recipe: &Recipe,
    data: BTreeMap<String, FileDigest>,
    model_path: &Path,
) -> Result<RunRecord> {
    Ok(RunRecord {
        format: RUN_RECORD_FORMAT,
        recipe: recipe.clone(),
        data,
        compute: ComputeRecord::default(),
        model_path: model_path.to_path_buf(),
        model_bytes: model_bytes(model_path)?,
        artifacts: BTreeMap::new(),
        eval: BTreeMap::new(),
        curve: Vec::new(),
        stop: None,
        warnings: Vec::new(),
        lmlab_version: LMLAB_VERSION.to_string(),
        derived: None,
    })
}

/// Builds (or loads) the recipe's tokenizer, learning it from `texts`.
pub fn build_tokenizer(
    choice: &TokenizerChoice,
    texts: &[&str],
    events: &mut dyn FnMut(RunEvent),
) -> Result<Box<dyn Tokenizer>> {
    match (choice, choice.trainer()) {
        (TokenizerChoice::File { path }, _) => load_tokenizer_file(path),
        (_, None) => Ok(Box::new(BytesTokenizer::new())),
        (_, Some(Trainer::Words(t))) => Ok(Box::new(match texts {
            [text] => t.train(text)?,
            _ => t.train(&texts.concat())?,
        })),
        (_, Some(Trainer::Chars(t))) => Ok(Box::new(t.train(texts)?)),
        (_, Some(Trainer::Bpe(t))) => {
            // The trainer's callback is `Fn`: progress goes through a cell to the `FnMut`.
            let events = std::cell::RefCell::new(events);
            let progress = |done, total| (events.borrow_mut())(RunEvent::Tokenizer { done, total });
            Ok(Box::new(t.train_with_progress(texts, &progress)?))
        }
    }
}

/// The provenance written into a model file trained by `recipe` on `corpus`.
pub fn provenance(recipe: &Recipe, corpus: &Corpus) -> Provenance {
    let options = serde_json::to_value(&recipe.model).expect("a recipe serializes");
    Provenance {
        corpus_sha256: corpus.sha256(),
        corpus_name: corpus.path().display().to_string(),
        sequences: recipe.sequences,
        options,
        seed: Some(recipe.seed),
        lmlab_version: LMLAB_VERSION.to_string(),
    }
}

/// Trains a count-based or memory-based family and writes its model file; the whole cost
/// (tokenizer included) is measured.
fn fit(
    recipe: &Recipe,
    corpus: &Corpus,
    path: &Path,
    warnings: &mut Vec<String>,
    events: &mut dyn FnMut(RunEvent),
) -> Result<ComputeRecord> {
    let meter = ComputeMeter::start();
    let provenance = provenance(recipe, corpus);
    let mode = recipe.sequences;
    if let ModelChoice::Ngram(options) = &recipe.model {
        // Encoded straight into one token stream and written order by order: the model is never
        // whole in memory, and the corpus text leaves resident memory once encoded.
        lmlab_ngram::phases::mark("start");
        let tokenizer = build_tokenizer(&recipe.tokenizer, &[corpus.text()], events)?;
        lmlab_ngram::phases::mark("tokenizer");
        let stream = encode_stream(tokenizer.as_ref(), corpus.text(), mode)?;
        lmlab_ngram::phases::mark("encode");
        corpus.release_pages();
        let tokens = stream.tokens_seen();
        let summary =
            lmlab_ngram::train_stream_to_file(stream, tokenizer, options, path, provenance)?;
        warnings.extend(summary.warnings.iter().cloned());
        return Ok(meter.finish(tokens, summary.parameter_count()));
    }
    if let ModelChoice::Glm(options) = &recipe.model {
        let tokenizer = build_tokenizer(&recipe.tokenizer, &[corpus.text()], events)?;
        let stream = encode_stream(tokenizer.as_ref(), corpus.text(), mode)?;
        corpus.release_pages();
        let tokens = stream.tokens_seen();
        let (parameters, glm_warnings) =
            lmlab_ngram::glm::train_stream_to_file(stream, tokenizer, options, path, provenance)?;
        warnings.extend(glm_warnings);
        return Ok(meter.finish(tokens, parameters));
    }
    let tokenizer = build_tokenizer(&recipe.tokenizer, &[corpus.text()], events)?;
    let encoded = encode_corpus(tokenizer.as_ref(), corpus.text(), mode);
    let tokens = encoded.iter().map(|s| s.ids.len() as u64).sum();
    let parameters = match &recipe.model {
        ModelChoice::Uniform => {
            let model = UniformModel::new(tokenizer);
            model.save(path, provenance)?;
            model.parameter_count()
        }
        ModelChoice::Baseline(b) => {
            let model = lmlab_baseline::train(&encoded, tokenizer, b.smoothing)?;
            model.save(path, provenance)?;
            model.parameter_count()
        }
        ModelChoice::Memory(options) => {
            let model = lmlab_memory::train(&encoded, tokenizer, options.clone())?;
            model.save(path, provenance)?;
            model.parameter_count()
        }
        ModelChoice::Ngram(_)
        | ModelChoice::Glm(_)
        | ModelChoice::Transformer(_)
        | ModelChoice::Lstm(_) => {
            unreachable!("trained above or by fit_neural")
        }
    };
    Ok(meter.finish(tokens, parameters))
}

/// Encodes every sequence of `text` into one n-gram token stream.
fn encode_stream(
    tokenizer: &dyn Tokenizer,
    text: &str,
    mode: SequenceMode,
) -> Result<lmlab_ngram::TokenStream> {
    let (specials, vocab_size) = lmlab_ngram::checked_specials(tokenizer)?;
    let mut stream = lmlab_ngram::TokenStream::new(specials, vocab_size);
    for sequence in split_sequences(text, mode) {
        stream.push_sequence_with(|out| {
            encode_sequence_into(tokenizer, &sequence, mode, out);
        })?;
    }
    Ok(stream)
}

/// The tokenizer a neural run of `choice` in `run_dir` records, and whether lmlab-lab learns it
/// (kinds lmlab-neural cannot build itself: a file in the run directory).
pub fn neural_tokenizer_spec(choice: &TokenizerChoice, run_dir: &Path) -> (TokenizerSpec, bool) {
    match choice {
        TokenizerChoice::Bytes => (TokenizerSpec::Bytes, false),
        TokenizerChoice::File { path } => (TokenizerSpec::File(path.clone()), false),
        TokenizerChoice::Chars {
            vocab_size: None,
            min_count: 0 | 1,
            nfc: false,
            specials,
        } if specials.is_empty() => (TokenizerSpec::Chars, false),
        _ => (
            TokenizerSpec::File(run_dir.join(lmlab_neural::train::files::TOKENIZER)),
            true,
        ),
    }
}

/// Trains a neural family in the run directory `run_dir`. Tokenizers lmlab-neural cannot build
/// itself are learned here and written to the run directory first; their CPU seconds count
/// against the budget, as do those of loading a distillation teacher (`[train] distill`).
fn fit_neural(
    recipe: &Recipe,
    data: &Data,
    run_dir: &Path,
    options: &RunOptions,
    events: &mut dyn FnMut(RunEvent),
) -> Result<(ComputeRecord, String, Vec<CurvePoint>)> {
    let valid_path = data.valid.as_deref().ok_or_else(|| {
        Error::invalid(format!(
            "a {} run needs validation text (data.valid)",
            recipe.model.family()
        ))
    })?;
    let train_text = lmlab_core::corpus::read_text_file(&data.train)?;
    let valid_text = lmlab_core::corpus::read_text_file(valid_path)?;
    let meter = ComputeMeter::start();
    let (tokenizer, learned) = neural_tokenizer_spec(&recipe.tokenizer, run_dir);
    if learned && !options.resume {
        std::fs::create_dir_all(run_dir).map_err(|e| Error::io(run_dir, e))?;
        let tokenizer = build_tokenizer(&recipe.tokenizer, &[&train_text], events)?;
        save_tokenizer_file(
            tokenizer.as_ref(),
            &run_dir.join(lmlab_neural::train::files::TOKENIZER),
        )?;
    }
    let mut train = recipe
        .train
        .clone()
        .expect("validated: neural recipes have [train]");
    // A distilled run's teacher: loading it (and fitting a mixture's weights) counts as well.
    let teacher = train
        .distill
        .as_ref()
        .map(|d| crate::teacher::load_teacher(d, &valid_text, recipe.sequences))
        .transpose()?;
    let tokenizer_cpu = meter.cpu_seconds();
    train.seed = recipe.seed;
    let config = lmlab_neural::RunConfig {
        model: recipe.model.network().expect("neural"),
        train,
        tokenizer,
        sequences: recipe.sequences,
    };
    let mut train_options = lmlab_neural::TrainOptions::new(run_dir);
    train_options.resume = options.resume;
    train_options.force = options.force;
    train_options.stop_after = options.stop_after;
    train_options.checkpoint_on_interrupt = options.checkpoint_on_interrupt;
    train_options.log_interval = options.log_interval;
    train_options.eval_at_fractions = options.eval_at_fractions.clone();
    train_options.teacher = teacher;
    // A budgeted run decays its learning rate over the steps its budget allows.
    train_options.fit_schedule_to_budget = recipe.budget_cpu_seconds.is_some();
    if let Some(budget) = recipe.budget_cpu_seconds {
        let left = budget - tokenizer_cpu;
        if left <= 0.0 {
            let what = if train_options.teacher.is_some() {
                "learning the tokenizer and loading the teacher"
            } else {
                "learning the tokenizer"
            };
            return Err(Error::invalid(format!(
                "{what} took {tokenizer_cpu:.1} CPU-s, the whole budget of {budget} CPU-s"
            )));
        }
        train_options.budget_cpu_seconds = Some(left);
    }
    let report = lmlab_neural::train(
        &config,
        &train_text,
        &valid_text,
        &train_options,
        &mut |e| events(RunEvent::Neural(e)),
    )?;
    let mut compute = report.compute.clone();
    compute.cpu_seconds += tokenizer_cpu;
    // Validation losses in bits per byte use the whole validation text's tokens per byte.
    let model = lmlab_neural::load_model(run_dir)?;
    let tokens = encode_corpus(model.tokenizer(), &valid_text, recipe.sequences)
        .iter()
        .map(|s| s.ids.len())
        .sum::<usize>() as f64;
    let bytes_per_token = valid_text.len().max(1) as f64 / tokens.max(1.0);
    let curve = lmlab_neural::run_files::learning_curve(run_dir)?
        .into_iter()
        .map(|p| CurvePoint {
            step: p.step as u64,
            cpu_seconds: p.cpu_seconds + tokenizer_cpu,
            tokens_seen: p.tokens_seen,
            val_loss: p.val_loss,
            val_bits_per_byte: p.val_loss / std::f64::consts::LN_2 / bytes_per_token,
        })
        .collect();
    Ok((compute, format!("{:?}", report.stop), curve))
}

/// The final report of the neural run in `run_dir` (steps, losses, throughput).
pub fn neural_report(run_dir: &Path) -> Result<lmlab_neural::TrainReport> {
    let path = run_dir.join(lmlab_neural::train::files::REPORT);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::bad_file(&path, e.to_string()))
}

/// The size of a model: a file's length, or a run directory's checkpoint.
fn model_bytes(path: &Path) -> Result<u64> {
    let file = if path.is_dir() {
        path.join(lmlab_neural::checkpoint::FILE_NAME)
    } else {
        path.to_path_buf()
    };
    Ok(std::fs::metadata(&file)
        .map_err(|e| Error::io(&file, e))?
        .len())
}

/// Evaluates the record's model on each of its `valid` and `test` files (in the recipe's sequence
/// mode), fills `record.eval`, and writes each split's probability file to
/// `probs_dir/<split>.probs.tsv` (named in `record.artifacts` as `<split>.probs`).
pub fn evaluate_run(record: &mut RunRecord, data: &Data, probs_dir: Option<&Path>) -> Result<()> {
    let model = crate::registry::load_model(&record.model_path)?;
    for (split, path) in data.splits().into_iter().skip(1) {
        let corpus = Corpus::open(path)?;
        let digest = &record.data[split];
        if corpus.sha256() != digest.sha256 {
            return Err(Error::Mismatch(format!(
                "{} changed while the run used it (sha256 {} when training began, {} now)",
                path.display(),
                digest.sha256,
                corpus.sha256()
            )));
        }
        let evaluation = evaluate(
            model.as_ref(),
            &corpus,
            record.recipe.sequences,
            probs_dir.is_some(),
            &|_, _| {},
        );
        record
            .eval
            .insert(split.to_string(), EvalSummary::from(&evaluation.totals));
        if let (Some(dir), Some(probs)) = (probs_dir, evaluation.probs) {
            let file = dir.join(format!("{split}.probs.tsv"));
            probs.write(&file)?;
            record.artifacts.insert(format!("{split}.probs"), file);
        }
    }
    Ok(())
}
