//! `lmlab demo`: every model kind on the embedded corpus, evaluated, ensembled and sampled.

use crate::ensembles::{ensemble, NamedProbs};
use crate::training::{train_baseline, BaselineRun, TokenizerChoice};
use lmlab_baseline::{Smoothing, UniformModel};
use lmlab_core::compute::ComputeMeter;
use lmlab_core::corpus::lines_of;
use lmlab_core::evaluate::evaluate;
use lmlab_core::probs::ProbsFile;
use lmlab_core::sampling::{generate, SamplingOptions};
use lmlab_core::{Corpus, LanguageModel, Result, SequenceMode};
use lmlab_tokenize::WordsTrainer;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The embedded sample corpus (tiny-shakespeare; see data/PROVENANCE.md).
pub const DEMO_CORPUS: &str = include_str!("../../../data/tiny-shakespeare.txt");

/// Lines sampled from each tokenizer's best bigram.
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
    /// Test bits per byte (comparable across tokenizers).
    pub bits_per_byte: f64,
    /// Test perplexity per token.
    pub perplexity: f64,
    /// Test perplexity per whitespace word (comparable across tokenizers).
    pub word_perplexity: f64,
    /// CPU seconds spent training (tokenizer included; an ensemble sums its members).
    pub train_cpu_seconds: f64,
    /// Size of the model file in bytes (an ensemble sums its members).
    pub model_bytes: u64,
    /// Parameters or stored entries.
    pub parameters: u64,
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
    pub ensemble_weights: Vec<(String, Vec<(String, f64)>)>,
    /// Samples.
    pub samples: Vec<Sample>,
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
    valid: ProbsFile,
    test: ProbsFile,
}

fn score(
    name: &str,
    model: &dyn LanguageModel,
    cpu: f64,
    model_bytes: u64,
    valid: &Corpus,
    test: &Corpus,
) -> Entry {
    let v = evaluate(model, valid, SequenceMode::Line, true, &|_| {});
    let t = evaluate(model, test, SequenceMode::Line, true, &|_| {});
    Entry {
        row: LeaderboardRow {
            name: name.to_string(),
            tokenizer: model.tokenizer().kind().to_string(),
            bits_per_byte: t.totals.bits_per_byte(),
            perplexity: t.totals.perplexity(),
            word_perplexity: t.totals.word_perplexity(),
            train_cpu_seconds: cpu,
            model_bytes,
            parameters: model.parameter_count(),
        },
        valid: v.probs.expect("rows kept"),
        test: t.probs.expect("rows kept"),
    }
}

/// Runs the demo; `progress` receives (step, total steps, what is happening).
pub fn run_demo(
    options: &DemoOptions,
    progress: &dyn Fn(usize, usize, &str),
) -> Result<DemoReport> {
    let temp = tempfile::tempdir().map_err(|e| lmlab_core::Error::io(Path::new("/tmp"), e))?;
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

    let tokenizers = [
        ("words", TokenizerChoice::Words(WordsTrainer::default())),
        ("bytes", TokenizerChoice::Bytes),
    ];
    let smoothings = [Smoothing::WittenBell, Smoothing::AddK { k: 0.01 }];
    let total = tokenizers.len() * (smoothings.len() + 3);
    let mut step = 0;
    let mut tick = |what: &str| {
        step += 1;
        progress(step, total, what);
    };
    let mut leaderboard = Vec::new();
    let mut ensemble_weights = Vec::new();
    let mut samples = Vec::new();
    for (tok_name, choice) in &tokenizers {
        let mut entries = Vec::new();
        let mut best_bigram = None;
        for smoothing in smoothings {
            let name = format!("bigram {smoothing} / {tok_name}");
            tick(&format!("training {name}"));
            let run = BaselineRun {
                tokenizer: choice.clone(),
                smoothing,
                sequences: SequenceMode::Line,
            };
            let trained = train_baseline(&train, &run)?;
            let path = out.join(format!("bigram-{smoothing}-{tok_name}.lmlab"));
            trained.model.save(&path, trained.provenance.clone())?;
            let bytes = std::fs::metadata(&path)
                .map_err(|e| lmlab_core::Error::io(&path, e))?
                .len();
            let entry = score(
                &name,
                &trained.model,
                trained.compute.cpu_seconds,
                bytes,
                &valid,
                &test,
            );
            if best_bigram
                .as_ref()
                .is_none_or(|(bpb, _, _)| entry.row.bits_per_byte < *bpb)
            {
                best_bigram = Some((entry.row.bits_per_byte, name.clone(), trained.model));
            }
            entries.push(entry);
        }
        tick(&format!("uniform / {tok_name}"));
        let meter = ComputeMeter::start();
        let uniform = UniformModel::new(choice.build(&train)?);
        let cpu = meter.cpu_seconds();
        entries.push(score(
            &format!("uniform / {tok_name}"),
            &uniform,
            cpu,
            0,
            &valid,
            &test,
        ));

        tick(&format!("ensemble of the {tok_name} models"));
        let named = |pick: fn(&Entry) -> &ProbsFile| -> Vec<NamedProbs> {
            entries
                .iter()
                .map(|e| NamedProbs {
                    path: PathBuf::from(&e.row.name),
                    file: pick(e).clone(),
                })
                .collect()
        };
        let report = ensemble(&named(|e| &e.valid), &named(|e| &e.test), 200, 1e-9)?;
        let test_score = report.test.clone().expect("test files given");
        let totals = |f: fn(&LeaderboardRow) -> f64| entries.iter().map(|e| f(&e.row)).sum::<f64>();
        let words = report
            .mixture
            .header
            .words
            .unwrap_or(test_score.tokens as u64) as f64;
        let log_sum = report.mixture.log_prob_sum();
        let ensemble_row = LeaderboardRow {
            name: format!("EM ensemble / {tok_name}"),
            tokenizer: tok_name.to_string(),
            bits_per_byte: test_score.bits_per_byte.unwrap_or(f64::NAN),
            perplexity: test_score.perplexity,
            word_perplexity: (-log_sum / words).exp(),
            train_cpu_seconds: totals(|r| r.train_cpu_seconds),
            model_bytes: entries.iter().map(|e| e.row.model_bytes).sum(),
            parameters: entries.iter().map(|e| e.row.parameters).sum(),
        };
        ensemble_weights.push((
            ensemble_row.name.clone(),
            entries
                .iter()
                .zip(&report.em.weights)
                .map(|(e, &w)| (e.row.name.clone(), w))
                .collect(),
        ));
        report
            .mixture
            .write(&out.join(format!("ensemble-{tok_name}.test.probs.tsv")))?;
        leaderboard.extend(entries.into_iter().map(|e| e.row));
        leaderboard.push(ensemble_row);

        tick(&format!("sampling from the best {tok_name} bigram"));
        if let Some((_, name, model)) = best_bigram {
            let max_tokens = if *tok_name == "bytes" { 80 } else { 20 };
            let mut text = String::new();
            for line in 0..SAMPLE_LINES {
                let options = SamplingOptions {
                    seed: options.seed.wrapping_add(line),
                    max_tokens,
                    temperature: 1.0,
                    top_k: 0,
                };
                let ids = generate(&model, &[], &options)?;
                text.push_str(&model.tokenizer().decode(&ids));
                text.push('\n');
            }
            samples.push(Sample { model: name, text });
        }
    }
    leaderboard.sort_by(|a, b| a.bits_per_byte.total_cmp(&b.bits_per_byte));
    let report = DemoReport {
        split_lines,
        leaderboard,
        ensemble_weights,
        samples,
        out_dir: options.out_dir.clone(),
    };
    let json = serde_json::to_vec_pretty(&report).expect("report serializes");
    lmlab_core::atomic::write_bytes_atomically(&out.join("leaderboard.json"), &json)?;
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
