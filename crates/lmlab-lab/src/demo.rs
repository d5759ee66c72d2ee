//! `lmlab demo`: every model kind on the embedded corpus, evaluated, ensembled and sampled; then a
//! small transformer on the embedded TinyStories slice ([`crate::stories`]).

use crate::ensembles::{ensemble, NamedProbs};
use crate::plot::leaderboard_svg;
use crate::recipe::{BaselineChoice, ModelChoice, Recipe, TokenizerChoice};
use crate::registry::load_model;
use crate::run::{train, Data, RunEvent, RunOptions, RunRecord};
use crate::stories::{run_stories, StoriesReport, STORIES_STAGES};
use lmlab_baseline::Smoothing;
use lmlab_core::corpus::lines_of;
use lmlab_core::evaluate::evaluate;
use lmlab_core::probs::ProbsFile;
use lmlab_core::sampling::{generate, SamplingOptions};
use lmlab_core::{Corpus, LanguageModel, Result, SequenceMode};
use lmlab_memory::MemoryOptions;
use lmlab_ngram::{NgramOptions, DEFAULT_FALLBACK};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The embedded sample corpus (tiny-shakespeare; see data/PROVENANCE.md).
pub const DEMO_CORPUS: &str = include_str!("../../../data/tiny-shakespeare.txt");

/// The demo's transformer: byte-level, one sequence per line (so it joins the bytes ensemble), a
/// fixed number of steps so the result does not depend on the machine's speed.
const DEMO_TRANSFORMER: &str = r#"
sequences = "line"
seed = 1
[tokenizer]
kind = "bytes"
[model]
family = "transformer"
n_layer = 2
n_head = 4
n_embd = 64
block_size = 64
norm = "layernorm"
mlp = "gelu"
positions = "learned"
tied_head = true
bias = false
[train]
batch_size = 16
max_steps = 1200
learning_rate = 3e-3
min_lr = 3e-4
warmup_steps = 60
lr_decay_steps = 1200
beta1 = 0.9
beta2 = 0.99
weight_decay = 0.1
grad_clip = 1.0
eval_interval = 1200
eval_iters = 1
checkpoint_interval = 1200
"#;

/// Learned vocabulary of the demo's BPE and Scaffold-BPE tokenizers.
const DEMO_BPE_VOCAB: usize = 2000;

/// Lines sampled from each tokenizer's best model.
const SAMPLE_LINES: u64 = 4;

/// How to run the demo.
#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    /// Where to keep models, probability files and the leaderboard (a temporary folder otherwise).
    pub out_dir: Option<PathBuf>,
    /// Seed of the samples.
    pub seed: u64,
}

/// One line of the leaderboard.
#[derive(Clone, Debug, Serialize)]
pub struct LeaderboardRow {
    /// Model name.
    pub name: String,
    /// Tokenizer kind.
    pub tokenizer: String,
    /// Test bits per byte (comparable across tokenizers when `test_oov` is 0).
    pub bits_per_byte: f64,
    /// Test perplexity per token.
    pub perplexity: f64,
    /// Test perplexity per whitespace word (comparable across tokenizers when `test_oov` is 0).
    pub word_perplexity: f64,
    /// OOV tokens in the test text: each is one cheap `<unk>`, so with any the row's bits per byte
    /// and word perplexity flatter it next to open-vocabulary tokenizers.
    pub test_oov: u64,
    /// CPU seconds spent training (tokenizer included; an ensemble sums its members).
    pub train_cpu_seconds: f64,
    /// Size of the model file in bytes (an ensemble sums its members).
    pub model_bytes: u64,
    /// Parameters or stored entries.
    pub parameters: u64,
    /// A reference floor (the uniform models), not a model to compare: the chart draws it as a line.
    pub reference: bool,
    /// The model in the output folder: a model file, or a neural run directory (`None`:
    /// ensembles, which are their members' files).
    pub model_file: Option<String>,
    /// Its per-token probability file on valid, in the output folder (`None` for ensembles).
    pub valid_probs: Option<String>,
    /// Its per-token probability file on test, in the output folder.
    pub test_probs: Option<String>,
}

/// A sample from a model.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    /// The model.
    pub model: String,
    /// The generated text.
    pub text: String,
}

/// What the demo found.
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// Lines in train / valid / test.
    pub split_lines: [usize; 3],
    /// Best first.
    pub leaderboard: Vec<LeaderboardRow>,
    /// Per ensemble, its members and weights.
    pub ensemble_weights: Vec<(String, Weights)>,
    /// Samples.
    pub samples: Vec<Sample>,
    /// The TinyStories run.
    pub stories: StoriesReport,
    /// Where outputs were written (None: a temporary folder, now removed).
    pub out_dir: Option<PathBuf>,
}

/// Splits `text` by lines into contiguous train (90%), valid (5%) and test (5%) parts.
pub fn split_corpus(text: &str) -> [String; 3] {
    let lines: Vec<&str> = lines_of(text).collect();
    let train_end = lines.len() * 90 / 100;
    let valid_end = lines.len() * 95 / 100;
    let join = |part: &[&str]| {
        let mut s = part.join("\n");
        s.push('\n');
        s
    };
    [
        join(&lines[..train_end]),
        join(&lines[train_end..valid_end]),
        join(&lines[valid_end..]),
    ]
}

struct Entry {
    row: LeaderboardRow,
    model: Box<dyn LanguageModel>,
    valid: ProbsFile,
    test: ProbsFile,
}

/// A count-based or memory-based demo recipe over `tokenizer`, one sequence per line.
fn line_recipe(model: ModelChoice, tokenizer: &TokenizerChoice) -> Recipe {
    Recipe {
        tokenizer: tokenizer.clone(),
        sequences: SequenceMode::Line,
        ..Recipe::new(model)
    }
}

/// Trains `recipe` on the demo's data and saves the model under `out` as `file_stem.lmlab` (a
/// neural family: the run directory `file_stem`), telling `stages` of each training step.
fn train_recipe(
    recipe: &Recipe,
    data: &Data,
    out: &Path,
    file_stem: &str,
    stages: &Stages,
) -> Result<(RunRecord, String)> {
    let file = if recipe.model.is_neural() {
        file_stem.to_string()
    } else {
        format!("{file_stem}.lmlab")
    };
    // The demo remakes its outputs each time: a previous run is replaced, and an interrupt stops
    // the whole demo at once (a checkpoint of it is worth nothing).
    let options = RunOptions {
        force: true,
        checkpoint_on_interrupt: false,
        ..RunOptions::default()
    };
    let record = train(recipe, data, &out.join(&file), &options, &mut |event| {
        if let RunEvent::Neural(e) = event {
            stages.train_event(e)
        }
    })?;
    Ok((record, file))
}

/// What the demo is doing, for a progress display.
#[derive(Clone, Copy, Debug)]
pub enum DemoProgress<'a> {
    /// Stage `step` of `total` begins (training, evaluating, ensembling or sampling a model).
    Stage {
        /// 1-based.
        step: usize,
        /// Stages in all.
        total: usize,
        /// What it does, e.g. `training KN 3-gram / words`.
        what: &'a str,
    },
    /// A neural model finished `done` of its `total` training steps.
    TrainingStep {
        /// Steps done.
        done: usize,
        /// Steps the run takes.
        total: usize,
    },
}

/// Counts the demo's stages and passes them, and neural training steps, to the caller's progress
/// callback.
pub struct Stages<'a> {
    step: usize,
    total: usize,
    report: &'a dyn Fn(DemoProgress),
}

impl Stages<'_> {
    /// Begins the next stage.
    pub fn begin(&mut self, what: &str) {
        self.step += 1;
        (self.report)(DemoProgress::Stage {
            step: self.step,
            total: self.total,
            what,
        });
    }

    /// Passes on a neural training run's step events.
    pub fn train_event(&self, event: &lmlab_neural::TrainEvent) {
        if let lmlab_neural::TrainEvent::Step {
            step, max_steps, ..
        } = *event
        {
            (self.report)(DemoProgress::TrainingStep {
                done: step,
                total: max_steps,
            });
        }
    }
}

/// Evaluates `trained` on valid and test, writing both probability files as
/// `file_stem.{valid,test}.probs.tsv` under `out`.
fn score(
    name: &str,
    (record, file): (RunRecord, String),
    [valid, test]: [&Corpus; 2],
    out: &Path,
    file_stem: &str,
) -> Result<Entry> {
    let model = load_model(&record.model_path)?;
    let v = evaluate(model.as_ref(), valid, SequenceMode::Line, true, &|_, _| {});
    let t = evaluate(model.as_ref(), test, SequenceMode::Line, true, &|_, _| {});
    let [valid_probs, test_probs] =
        ["valid", "test"].map(|part| format!("{file_stem}.{part}.probs.tsv"));
    let entry = Entry {
        row: LeaderboardRow {
            name: name.to_string(),
            tokenizer: model.tokenizer().kind().to_string(),
            bits_per_byte: t.totals.bits_per_byte(),
            perplexity: t.totals.perplexity(),
            word_perplexity: t.totals.word_perplexity(),
            test_oov: t.totals.oov,
            train_cpu_seconds: record.compute.cpu_seconds,
            model_bytes: record.model_bytes,
            parameters: model.parameter_count(),
            reference: matches!(record.recipe.model, ModelChoice::Uniform),
            model_file: Some(file),
            valid_probs: Some(valid_probs.clone()),
            test_probs: Some(test_probs.clone()),
        },
        model,
        valid: v.probs.expect("rows kept"),
        test: t.probs.expect("rows kept"),
    };
    entry.valid.write(&out.join(valid_probs))?;
    entry.test.write(&out.join(test_probs))?;
    Ok(entry)
}

/// Member names with their ensemble weights.
type Weights = Vec<(String, f64)>;

/// Fits the EM ensemble of `entries` on valid and scores it on test: its leaderboard row, the
/// weights, and its probability file on test.
fn ensemble_row(
    tokenizer: &str,
    entries: &[Entry],
) -> Result<(LeaderboardRow, Weights, ProbsFile)> {
    let named = |pick: fn(&Entry) -> &ProbsFile| -> Vec<NamedProbs> {
        entries
            .iter()
            .map(|e| NamedProbs {
                path: PathBuf::from(&e.row.name),
                file: pick(e).clone(),
            })
            .collect()
    };
    let report = ensemble(&named(|e| &e.valid), &named(|e| &e.test), 500, 1e-9)?;
    let test_score = report.test.clone().expect("test files given");
    let words = report
        .mixture
        .header
        .words
        .unwrap_or(test_score.tokens as u64) as f64;
    let row = LeaderboardRow {
        name: format!("EM ensemble / {tokenizer}"),
        tokenizer: tokenizer.to_string(),
        bits_per_byte: test_score.bits_per_byte.unwrap_or(f64::NAN),
        perplexity: test_score.perplexity,
        word_perplexity: (-report.mixture.log_prob_sum() / words).exp(),
        // The members share the tokenizer, so their OOVs are the same tokens.
        test_oov: entries.iter().map(|e| e.row.test_oov).max().unwrap_or(0),
        train_cpu_seconds: entries.iter().map(|e| e.row.train_cpu_seconds).sum(),
        model_bytes: entries.iter().map(|e| e.row.model_bytes).sum(),
        parameters: entries.iter().map(|e| e.row.parameters).sum(),
        reference: false,
        model_file: None,
        valid_probs: None,
        test_probs: Some(format!("ensemble-{tokenizer}.test.probs.tsv")),
    };
    let weights = entries
        .iter()
        .zip(&report.em.weights)
        .map(|(e, &w)| (e.row.name.clone(), w))
        .collect();
    Ok((row, weights, report.mixture))
}

/// A few lines sampled from `model`.
fn sample_lines(model: &dyn LanguageModel, max_tokens: usize, seed: u64) -> Result<String> {
    let mut text = String::new();
    for line in 0..SAMPLE_LINES {
        let options = SamplingOptions {
            seed: seed.wrapping_add(line),
            max_tokens,
            ..SamplingOptions::default()
        };
        let ids = generate(model, &[], &options)?;
        text.push_str(&model.tokenizer().decode(&ids));
        text.push('\n');
    }
    Ok(text)
}

/// Runs the demo; `progress` hears of every stage (which model is training, being evaluated, ...)
/// and of every step of the neural models' training.
pub fn run_demo(options: &DemoOptions, progress: &dyn Fn(DemoProgress)) -> Result<DemoReport> {
    // Without --out: a folder removed at the end, on an error, on an interrupt, or by a later demo.
    let temp = lmlab_core::tempfiles::create_dir(&std::env::temp_dir(), "lmlab-demo-")?;
    let out = options
        .out_dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&out).map_err(|e| lmlab_core::Error::io(&out, e))?;
    let [train, valid, test] = split_corpus(DEMO_CORPUS);
    let split_lines = [&train, &valid, &test].map(|t| lines_of(t).count());
    let data = Data {
        train: out.join("train.txt"),
        valid: Some(out.join("valid.txt")),
        test: Some(out.join("test.txt")),
    };
    for (path, text) in data.splits().iter().zip([&train, &valid, &test]) {
        lmlab_core::atomic::write_bytes_atomically(path.1, text.as_bytes())?;
    }
    let valid = Corpus::from_text("tiny-shakespeare:valid", valid);
    let test = Corpus::from_text("tiny-shakespeare:test", test);

    let bpe = TokenizerChoice::for_kind("bpe", Some(DEMO_BPE_VOCAB), 0)?;
    let scaffold = TokenizerChoice::for_kind("scaffold-bpe", Some(DEMO_BPE_VOCAB), 0)?;
    let kn = |order, tokenizer: &TokenizerChoice| {
        line_recipe(
            ModelChoice::Ngram(NgramOptions {
                discount_fallback: Some(DEFAULT_FALLBACK),
                ..NgramOptions::with_order(order)
            }),
            tokenizer,
        )
    };
    let memory = |context, tokenizer: &TokenizerChoice| {
        line_recipe(
            ModelChoice::Memory(MemoryOptions::igtree(context)),
            tokenizer,
        )
    };
    let bigram = |smoothing, tokenizer: &TokenizerChoice| {
        line_recipe(
            ModelChoice::Baseline(BaselineChoice { smoothing }),
            tokenizer,
        )
    };
    let uniform = |tokenizer: &TokenizerChoice| line_recipe(ModelChoice::Uniform, tokenizer);
    let (words, bytes) = (TokenizerChoice::default(), TokenizerChoice::Bytes);
    // Equal vocabularies and the same model, so bits per byte compare BPE with Scaffold-BPE.
    let plans: [(&str, Vec<Recipe>, usize); 4] = [
        (
            "words",
            vec![
                kn(3, &words),
                memory(3, &words),
                bigram(Smoothing::WittenBell, &words),
                bigram(Smoothing::AddK { k: 0.01 }, &words),
                uniform(&words),
            ],
            20,
        ),
        (
            "bytes",
            vec![
                kn(7, &bytes),
                Recipe::parse(DEMO_TRANSFORMER)?,
                memory(7, &bytes),
                bigram(Smoothing::WittenBell, &bytes),
                uniform(&bytes),
            ],
            80,
        ),
        ("bpe", vec![kn(4, &bpe)], 30),
        ("scaffold-bpe", vec![kn(4, &scaffold)], 30),
    ];
    // Per model: training and evaluation; per tokenizer: the ensemble and the samples.
    let total = plans.iter().map(|p| 2 * p.1.len() + 2).sum::<usize>() + STORIES_STAGES;
    let mut stages = Stages {
        step: 0,
        total,
        report: progress,
    };
    let mut leaderboard = Vec::new();
    let mut ensemble_weights = Vec::new();
    let mut samples = Vec::new();
    for (tok_name, recipes, sample_tokens) in &plans {
        let mut entries = Vec::new();
        for recipe in recipes {
            let name = format!("{} / {tok_name}", recipe.model.describe());
            let stem = format!("{}-{tok_name}", recipe.model.slug());
            stages.begin(&format!("training {name}"));
            let trained = train_recipe(recipe, &data, &out, &stem, &stages)?;
            stages.begin(&format!("evaluating {name} on valid and test"));
            entries.push(score(&name, trained, [&valid, &test], &out, &stem)?);
        }
        stages.begin(&format!("fitting the ensemble of the {tok_name} models"));
        // Ensembles need one token stream: models over the same tokenizer only.
        let ensemble = if entries.len() > 1 {
            let (row, weights, mixture) = ensemble_row(tok_name, &entries)?;
            mixture.write(&out.join(format!("ensemble-{tok_name}.test.probs.tsv")))?;
            ensemble_weights.push((row.name.clone(), weights));
            Some(row)
        } else {
            None
        };

        stages.begin(&format!("sampling from the best {tok_name} model"));
        if let Some(best) = entries
            .iter()
            .min_by(|a, b| a.row.bits_per_byte.total_cmp(&b.row.bits_per_byte))
        {
            samples.push(Sample {
                model: best.row.name.clone(),
                text: sample_lines(best.model.as_ref(), *sample_tokens, options.seed)?,
            });
        }
        leaderboard.extend(entries.into_iter().map(|e| e.row));
        leaderboard.extend(ensemble);
    }
    leaderboard.sort_by(|a, b| a.bits_per_byte.total_cmp(&b.bits_per_byte));
    let stories = run_stories(&out, options.seed, &mut stages)?;
    let report = DemoReport {
        split_lines,
        leaderboard,
        ensemble_weights,
        samples,
        stories,
        out_dir: options.out_dir.clone(),
    };
    let json = serde_json::to_vec_pretty(&report).expect("report serializes");
    lmlab_core::atomic::write_bytes_atomically(&out.join("leaderboard.json"), &json)?;
    let svg = leaderboard_svg(
        &report.leaderboard,
        "lmlab demo: tiny-shakespeare test, bits per byte",
    )?;
    lmlab_core::atomic::write_bytes_atomically(&out.join("leaderboard.svg"), svg.as_bytes())?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_contiguous_and_complete() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let [a, b, c] = split_corpus(&text);
        assert_eq!(format!("{a}{b}{c}"), text);
        assert_eq!(
            [a.lines().count(), b.lines().count(), c.lines().count()],
            [90, 5, 5]
        );
    }
}
