//! `lmlab demo`: every model kind on the embedded corpus, evaluated, ensembled and sampled; then a
//! small transformer on the embedded TinyStories slice ([`crate::stories`]).

use crate::ensembles::{ensemble, NamedProbs};
use crate::plot::leaderboard_svg;
use crate::stories::{run_stories, StoriesReport, STORIES_STAGES};
use crate::training::{
    train_baseline, train_memory, train_ngram, BaselineRun, MemoryRun, NgramRun, TokenizerChoice,
};
use lmlab_baseline::{Smoothing, UniformModel};
use lmlab_core::compute::ComputeMeter;
use lmlab_core::corpus::lines_of;
use lmlab_core::evaluate::evaluate;
use lmlab_core::probs::ProbsFile;
use lmlab_core::sampling::{generate, SamplingOptions};
use lmlab_core::{Corpus, LanguageModel, Result, SequenceMode};
use lmlab_memory::MemoryOptions;
use lmlab_ngram::{NgramOptions, DEFAULT_FALLBACK};
use lmlab_tokenize::{BpeTrainer, WordsTrainer};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The embedded sample corpus (tiny-shakespeare; see data/PROVENANCE.md).
pub const DEMO_CORPUS: &str = include_str!("../../../data/tiny-shakespeare.txt");

/// The demo's transformer: byte-level, one sequence per line (so it joins the bytes ensemble), a
/// fixed number of steps so the result does not depend on the machine's speed.
const DEMO_TRANSFORMER: &str = r#"
tokenizer = "{tokenizer}"
sequences = "line"
[model]
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
seed = 1
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
    /// The model in the output folder: a model file, or a neural run directory (`None`: uniform
    /// models and ensembles, which have no file).
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

/// A model the demo trains.
#[derive(Clone, Copy, Debug)]
enum Recipe {
    /// Interpolated modified Kneser-Ney of this order, with KenLM's fallback discounts when needed.
    Ngram(usize),
    /// The baseline bigram.
    Bigram(Smoothing),
    /// A smoothed IGTree over this many previous tokens.
    Memory(usize),
    /// A small transformer trained for a fixed number of steps ([`DEMO_TRANSFORMER`]).
    Transformer,
    /// The uniform floor.
    Uniform,
}

impl Recipe {
    /// The name of the model's files in the output folder, e.g. `kn3-words`, `bigram-wb-bytes`.
    fn file_stem(&self, tokenizer: &str) -> String {
        match self {
            Recipe::Ngram(order) => format!("kn{order}-{tokenizer}"),
            Recipe::Bigram(Smoothing::WittenBell) => format!("bigram-wb-{tokenizer}"),
            Recipe::Bigram(Smoothing::AddK { .. }) => format!("bigram-addk-{tokenizer}"),
            Recipe::Memory(context) => format!("igtree{context}-{tokenizer}"),
            Recipe::Transformer => format!("transformer-{tokenizer}"),
            Recipe::Uniform => format!("uniform-{tokenizer}"),
        }
    }

    fn name(&self, tokenizer: &str) -> String {
        match self {
            Recipe::Ngram(order) => format!("KN {order}-gram / {tokenizer}"),
            Recipe::Bigram(smoothing) => format!("bigram {smoothing} / {tokenizer}"),
            Recipe::Memory(context) => format!("IGTree K={context} / {tokenizer}"),
            Recipe::Transformer => format!("transformer 2x64 / {tokenizer}"),
            Recipe::Uniform => format!("uniform / {tokenizer}"),
        }
    }

    /// Trains the model and saves it under `out` as `file_stem.lmlab` (a transformer: the run
    /// directory `file_stem`), telling `stages` of each transformer step; returns it with its CPU
    /// seconds, its file size and its file's name (`None` for the uniform model, which has no file).
    fn train(
        &self,
        corpus: &Corpus,
        valid: &Corpus,
        tokenizer: &TokenizerChoice,
        out: &Path,
        file_stem: &str,
        stages: &Stages,
    ) -> Result<Trained> {
        let file_name = format!("{file_stem}.lmlab");
        let path = out.join(&file_name);
        let (model, cpu): (Box<dyn LanguageModel>, f64) = match *self {
            Recipe::Ngram(order) => {
                let run = NgramRun {
                    tokenizer: tokenizer.clone(),
                    options: NgramOptions {
                        discount_fallback: Some(DEFAULT_FALLBACK),
                        ..NgramOptions::with_order(order)
                    },
                    sequences: SequenceMode::Line,
                };
                let trained = train_ngram(corpus, &run)?;
                trained.model.save(&path, trained.provenance)?;
                (Box::new(trained.model), trained.compute.cpu_seconds)
            }
            Recipe::Bigram(smoothing) => {
                let run = BaselineRun {
                    tokenizer: tokenizer.clone(),
                    smoothing,
                    sequences: SequenceMode::Line,
                };
                let trained = train_baseline(corpus, &run)?;
                trained.model.save(&path, trained.provenance)?;
                (Box::new(trained.model), trained.compute.cpu_seconds)
            }
            Recipe::Memory(context) => {
                let run = MemoryRun {
                    tokenizer: tokenizer.clone(),
                    options: MemoryOptions::igtree(context),
                    sequences: SequenceMode::Line,
                };
                let trained = train_memory(corpus, &run)?;
                trained.model.save(&path, trained.provenance)?;
                (Box::new(trained.model), trained.compute.cpu_seconds)
            }
            Recipe::Transformer => {
                let run_dir = out.join(file_stem);
                let bytes_config = DEMO_TRANSFORMER.replace("{tokenizer}", "bytes");
                let config = lmlab_neural::RunConfig::parse(&bytes_config)?;
                let options = lmlab_neural::TrainOptions::replacing(&run_dir);
                let report = lmlab_neural::train(
                    &config,
                    corpus.text(),
                    valid.text(),
                    &options,
                    &mut |event| stages.train_event(event),
                )?;
                let model = lmlab_neural::load_model(&run_dir)?;
                let checkpoint = run_dir.join(lmlab_neural::checkpoint::FILE_NAME);
                return Ok(Trained {
                    model,
                    cpu: report.compute.cpu_seconds,
                    bytes: file_size(&checkpoint)?,
                    file: Some(file_stem.to_string()),
                });
            }
            Recipe::Uniform => {
                let meter = ComputeMeter::start();
                let model = UniformModel::new(tokenizer.build(corpus)?);
                return Ok(Trained {
                    model: Box::new(model),
                    cpu: meter.cpu_seconds(),
                    bytes: 0,
                    file: None,
                });
            }
        };
        Ok(Trained {
            model,
            cpu,
            bytes: file_size(&path)?,
            file: Some(file_name),
        })
    }
}

/// A trained demo model.
struct Trained {
    model: Box<dyn LanguageModel>,
    /// CPU seconds of training.
    cpu: f64,
    /// Size of its file (a transformer: its checkpoint) in bytes.
    bytes: u64,
    /// Its file or run directory in the output folder.
    file: Option<String>,
}

/// The size of the file at `path`.
fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .map_err(|e| lmlab_core::Error::io(path, e))?
        .len())
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
    recipe: Recipe,
    trained: Trained,
    [valid, test]: [&Corpus; 2],
    out: &Path,
    file_stem: &str,
) -> Result<Entry> {
    let model = trained.model;
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
            train_cpu_seconds: trained.cpu,
            model_bytes: trained.bytes,
            parameters: model.parameter_count(),
            reference: matches!(recipe, Recipe::Uniform),
            model_file: trained.file,
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
    let train = Corpus::from_text("tiny-shakespeare:train", train);
    let valid = Corpus::from_text("tiny-shakespeare:valid", valid);
    let test = Corpus::from_text("tiny-shakespeare:test", test);

    let bpe = |scaffold| {
        TokenizerChoice::Bpe(BpeTrainer {
            vocab_size: DEMO_BPE_VOCAB,
            scaffold,
            ..BpeTrainer::default()
        })
    };
    // Equal vocabularies and the same model, so bits per byte compare BPE with Scaffold-BPE.
    let plans: [(&str, TokenizerChoice, Vec<Recipe>, usize); 4] = [
        (
            "words",
            TokenizerChoice::Words(WordsTrainer::default()),
            vec![
                Recipe::Ngram(3),
                Recipe::Memory(3),
                Recipe::Bigram(Smoothing::WittenBell),
                Recipe::Bigram(Smoothing::AddK { k: 0.01 }),
                Recipe::Uniform,
            ],
            20,
        ),
        (
            "bytes",
            TokenizerChoice::Bytes,
            vec![
                Recipe::Ngram(7),
                Recipe::Transformer,
                Recipe::Memory(7),
                Recipe::Bigram(Smoothing::WittenBell),
                Recipe::Uniform,
            ],
            80,
        ),
        ("bpe", bpe(false), vec![Recipe::Ngram(4)], 30),
        ("scaffold-bpe", bpe(true), vec![Recipe::Ngram(4)], 30),
    ];
    // Per model: training and evaluation; per tokenizer: the ensemble and the samples.
    let total = plans.iter().map(|p| 2 * p.2.len() + 2).sum::<usize>() + STORIES_STAGES;
    let mut stages = Stages {
        step: 0,
        total,
        report: progress,
    };
    let mut leaderboard = Vec::new();
    let mut ensemble_weights = Vec::new();
    let mut samples = Vec::new();
    for (tok_name, choice, recipes, sample_tokens) in &plans {
        let mut entries = Vec::new();
        for recipe in recipes {
            let name = recipe.name(tok_name);
            let stem = recipe.file_stem(tok_name);
            stages.begin(&format!("training {name}"));
            let trained = recipe.train(&train, &valid, choice, &out, &stem, &stages)?;
            stages.begin(&format!("evaluating {name} on valid and test"));
            entries.push(score(
                &name,
                *recipe,
                trained,
                [&valid, &test],
                &out,
                &stem,
            )?);
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
