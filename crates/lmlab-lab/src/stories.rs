//! The demo's TinyStories run: a byte-level BPE tokenizer and a small transformer trained on the
//! embedded TinyStories slice for a fixed number of steps, scored in bits per byte on the embedded
//! validation stories, and sampled from the start of a paragraph.

use crate::demo::Stages;
use lmlab_core::evaluate::evaluate;
use lmlab_core::sampling::{generate, SamplingOptions};
use lmlab_core::{Corpus, Result, SequenceMode};
use lmlab_tokenize::{save_tokenizer_file, BpeTrainer};
use serde::Serialize;
use std::path::Path;

/// The first 944 KB of the TinyStories train split (see data/PROVENANCE.md).
pub const STORIES_TRAIN: &str = include_str!("../../../data/tinystories-train.txt");
/// The first 200 KB of the TinyStories validation split, cut at a story boundary.
pub const STORIES_VALID: &str = include_str!("../../../data/tinystories-valid.txt");

/// Learned vocabulary of the stories' BPE tokenizer.
const STORIES_BPE_VOCAB: usize = 2000;

/// Stories sampled from the model.
const STORIES_SAMPLED: u64 = 3;

/// Tokens per sampled story at most.
const STORY_TOKENS: usize = 120;

/// The stories transformer: one paragraph per sequence (the slice separates paragraphs, not
/// stories, by blank lines), a fixed number of steps (about 1.4 passes over
/// the train slice) so that the figures do not depend on the machine's speed. The tokenizer is
/// filled in with the BPE file trained just before.
const STORIES_TRANSFORMER: &str = r#"
sequences = "paragraph"
[model]
n_layer = 2
n_head = 4
n_embd = 128
block_size = 64
norm = "layernorm"
mlp = "gelu"
positions = "learned"
tied_head = true
bias = false
[train]
batch_size = 16
max_steps = 400
learning_rate = 2e-3
min_lr = 2e-4
warmup_steps = 50
lr_decay_steps = 400
beta1 = 0.9
beta2 = 0.99
weight_decay = 0.1
grad_clip = 1.0
seed = 1337
eval_interval = 400
eval_iters = 10
checkpoint_interval = 400
"#;

/// What the TinyStories run found.
#[derive(Clone, Debug, Serialize)]
pub struct StoriesReport {
    /// Bytes of training and validation text.
    pub text_bytes: [usize; 2],
    /// The model.
    pub model: String,
    /// Validation bits per byte.
    pub bits_per_byte: f64,
    /// Validation perplexity per token.
    pub perplexity: f64,
    /// CPU seconds spent training (tokenizer and transformer).
    pub train_cpu_seconds: f64,
    /// Parameters of the transformer.
    pub parameters: u64,
    /// Stories sampled from `<s>`.
    pub samples: Vec<String>,
}

/// The stages [`run_stories`] reports: the tokenizer, the transformer, scoring and sampling.
pub const STORIES_STAGES: usize = 3;

/// Trains, scores and samples the TinyStories model, keeping its tokenizer and run directory under
/// `out`; tells `stages` of its [`STORIES_STAGES`] stages and of each transformer step.
pub fn run_stories(out: &Path, seed: u64, stages: &mut Stages) -> Result<StoriesReport> {
    stages.begin("TinyStories: training a byte-level BPE tokenizer");
    let meter = lmlab_core::compute::ComputeMeter::start();
    let tokenizer = BpeTrainer {
        vocab_size: STORIES_BPE_VOCAB,
        ..BpeTrainer::default()
    }
    .train(&[STORIES_TRAIN])?;
    let tokenizer_path = out.join("stories-bpe.json");
    save_tokenizer_file(&tokenizer, &tokenizer_path)?;
    let tokenizer_seconds = meter.cpu_seconds();

    let mut config = lmlab_neural::RunConfig::parse(STORIES_TRANSFORMER)?;
    config.tokenizer = lmlab_neural::config::TokenizerSpec::File(tokenizer_path);
    let run_dir = out.join("stories-transformer");
    stages.begin("TinyStories: training a transformer");
    let report = lmlab_neural::train(
        &config,
        STORIES_TRAIN,
        STORIES_VALID,
        &lmlab_neural::TrainOptions::replacing(&run_dir),
        &mut |event| stages.train_event(event),
    )?;
    stages.begin("TinyStories: scoring the valid stories and sampling");
    let model = lmlab_neural::load_model(&run_dir)?;
    let valid = Corpus::from_text("tinystories:valid", STORIES_VALID.to_string());
    let scored = evaluate(
        model.as_ref(),
        &valid,
        SequenceMode::Paragraph,
        false,
        &|_, _| {},
    );
    let samples = (0..STORIES_SAMPLED)
        .map(|i| {
            let options = SamplingOptions {
                seed: seed.wrapping_add(i),
                max_tokens: STORY_TOKENS,
                temperature: 0.8,
                ..SamplingOptions::default()
            };
            let ids = generate(model.as_ref(), &[], &options)?;
            Ok(model.tokenizer().decode(&ids))
        })
        .collect::<Result<Vec<String>>>()?;
    Ok(StoriesReport {
        text_bytes: [STORIES_TRAIN.len(), STORIES_VALID.len()],
        model: format!(
            "transformer 2x128 / bpe {STORIES_BPE_VOCAB}, {} steps",
            report.steps
        ),
        bits_per_byte: scored.totals.bits_per_byte(),
        perplexity: scored.totals.perplexity(),
        train_cpu_seconds: tokenizer_seconds + report.compute.cpu_seconds,
        parameters: report.parameters,
        samples,
    })
}
