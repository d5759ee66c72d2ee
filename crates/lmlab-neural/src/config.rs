//! Run configuration (model + training + data), read from TOML or JSON and validated with clear errors.

use lmlab_core::{Error, Result, SequenceMode};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Normalization before each sub-block and at the top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// LayerNorm (mean and variance, gain, optional bias).
    LayerNorm,
    /// RMSNorm (root mean square, gain).
    RmsNorm,
}

/// The feed-forward block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mlp {
    /// `fc2(gelu(fc(x)))`, GELU in its tanh form.
    Gelu,
    /// `fc2(silu(gate(x)) · up(x))`.
    SwiGlu,
}

/// The network family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Decoder-only transformer.
    #[default]
    Transformer,
    /// LSTM LM: embedding, `n_layer` LSTM layers of width `n_embd`, output head (Languini's recurrent
    /// baseline shape); `block_size` is the length of the backpropagation-through-time window.
    Lstm,
}

/// How positions enter the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Positions {
    /// A learned embedding per position, added to the token embedding.
    Learned,
    /// Rotary embeddings applied to queries and keys.
    Rope,
}

fn default_true() -> bool {
    true
}

/// The shape of a decoder-only transformer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The network family (default transformer).
    #[serde(default)]
    pub arch: Arch,
    /// Vocabulary size; 0 in a config file means "take it from the tokenizer".
    #[serde(default)]
    pub vocab_size: usize,
    /// Transformer blocks.
    pub n_layer: usize,
    /// Attention heads per block (transformer only).
    #[serde(default)]
    pub n_head: usize,
    /// Width of the residual stream.
    pub n_embd: usize,
    /// Hidden width of the MLP (0 = 4·n_embd for GELU, the nearest multiple of 8 to 8/3·n_embd for SwiGLU).
    #[serde(default)]
    pub d_ff: usize,
    /// Context length (tokens per training window, most tokens attended to).
    pub block_size: usize,
    /// Normalization kind.
    #[serde(default = "default_norm")]
    pub norm: Norm,
    /// Feed-forward kind.
    #[serde(default = "default_mlp")]
    pub mlp: Mlp,
    /// Position kind.
    #[serde(default = "default_positions")]
    pub positions: Positions,
    /// Tie the output head to the token embedding.
    #[serde(default = "default_true")]
    pub tied_head: bool,
    /// Biases in linear layers and LayerNorms.
    #[serde(default)]
    pub bias: bool,
    /// Dropout probability in [0, 1), during training only: for the transformer on the embeddings
    /// and on each attention and MLP residual branch; for the LSTM on the embeddings, between layers
    /// and before the head (never on the recurrent connections). 0 = off, and then left out of the
    /// recorded config so runs without dropout keep their bytes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropout: f64,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn default_norm() -> Norm {
    Norm::LayerNorm
}
fn default_mlp() -> Mlp {
    Mlp::Gelu
}
fn default_positions() -> Positions {
    Positions::Learned
}

impl ModelConfig {
    /// Values per attention head.
    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head.max(1)
    }

    /// The MLP hidden width after defaults.
    pub fn ff(&self) -> usize {
        if self.d_ff > 0 {
            self.d_ff
        } else {
            match self.mlp {
                Mlp::Gelu => 4 * self.n_embd,
                Mlp::SwiGlu => (8 * self.n_embd / 3).div_ceil(8) * 8,
            }
        }
    }

    /// Outputs of the MLP's first projection: [`ModelConfig::ff`], twice that for SwiGLU (gate
    /// and value side by side).
    pub fn ff_in(&self) -> usize {
        match self.mlp {
            Mlp::Gelu => self.ff(),
            Mlp::SwiGlu => 2 * self.ff(),
        }
    }

    /// Checks every field; the message names the field at fault.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(format!("model config: {m}")));
        if self.n_layer == 0 {
            return bad("n_layer must be at least 1, got 0".into());
        }
        if self.n_embd == 0 {
            return bad("n_embd must be at least 1, got 0".into());
        }
        if self.block_size == 0 {
            return bad("block_size must be at least 1, got 0".into());
        }
        if self.vocab_size < 3 {
            return bad(format!(
                "vocab_size must be at least 3 (it comes from the tokenizer), got {}",
                self.vocab_size
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if self.arch == Arch::Lstm {
            return Ok(());
        }
        if self.n_head == 0 {
            return bad("n_head must be at least 1, got 0 (or missing)".into());
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return bad(format!(
                "n_embd ({}) must be divisible by n_head ({})",
                self.n_embd, self.n_head
            ));
        }
        if self.positions == Positions::Rope && !self.head_dim().is_multiple_of(2) {
            return bad(format!(
                "rope positions need an even head size, n_embd / n_head = {}",
                self.head_dim()
            ));
        }
        Ok(())
    }
}

/// Optimizer, schedule and loop settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Sequences per micro-batch.
    pub batch_size: usize,
    /// Micro-batches whose gradients are summed before one optimizer step.
    #[serde(default = "one")]
    pub grad_accum: usize,
    /// Optimizer steps.
    pub max_steps: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Final learning rate of the cosine decay.
    pub min_lr: f64,
    /// Linear warmup steps.
    #[serde(default)]
    pub warmup_steps: usize,
    /// Step at which the cosine reaches `min_lr` (0 = `max_steps`).
    #[serde(default)]
    pub lr_decay_steps: usize,
    /// AdamW β₁.
    #[serde(default = "beta1")]
    pub beta1: f64,
    /// AdamW β₂.
    #[serde(default = "beta2")]
    pub beta2: f64,
    /// AdamW ε.
    #[serde(default = "eps")]
    pub eps: f64,
    /// Decoupled weight decay (applied to matrices and embeddings, not to gains and biases).
    #[serde(default)]
    pub weight_decay: f64,
    /// Clip the global gradient norm to this (0 = off).
    #[serde(default)]
    pub grad_clip: f64,
    /// Seed of initialization and batch sampling.
    #[serde(default)]
    pub seed: u64,
    /// Validate every this many steps (0 = only at the end).
    #[serde(default)]
    pub eval_interval: usize,
    /// Batches per validation estimate.
    #[serde(default = "eval_iters")]
    pub eval_iters: usize,
    /// Write a checkpoint every this many steps (0 = only at the end).
    #[serde(default)]
    pub checkpoint_interval: usize,
    /// Learning-dynamics checkpoints (`analysis = { every = N, batch = "valid" }`); none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<crate::dynamics::capture::AnalysisConfig>,
    /// Distillation from a teacher (`distill = { teacher = "kn5.ngram", temperature = 2.0,
    /// weight = 0.5 }`); plain training when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distill: Option<crate::distill::DistillConfig>,
    /// The matrix products of training ([`Precision`]; `f32` when absent, and then not written,
    /// so the configs and checkpoints of f32 runs are as before the setting existed).
    #[serde(default, skip_serializing_if = "Precision::is_f32")]
    pub precision: Precision,
}

/// What training multiplies in (issue 20 §3). Weights, gradients, optimizer state and every
/// element-wise step stay f32 either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32 products (`matrixmultiply`).
    #[default]
    F32,
    /// Both operands of every matrix product of the run (forward, backward, its validation
    /// estimates) rounded to bf16, the products summed in f32 (`vdpbf16ps`, CPUs with
    /// AVX512_BF16 only: elsewhere the run is refused). The trained model is an f32 model:
    /// `lmlab eval` and `generate` in another process multiply in f32.
    Bf16,
}

impl Precision {
    /// True for [`Precision::F32`].
    pub fn is_f32(&self) -> bool {
        *self == Precision::F32
    }
}

impl std::str::FromStr for Precision {
    type Err = Error;

    fn from_str(s: &str) -> Result<Precision> {
        match s {
            "f32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            other => Err(Error::invalid(format!(
                "precision must be f32 or bf16, got {other:?}"
            ))),
        }
    }
}

fn one() -> usize {
    1
}
fn beta1() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.95
}
fn eps() -> f64 {
    1e-8
}
fn eval_iters() -> usize {
    20
}

impl TrainConfig {
    /// Checks every field; the message names the field at fault.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(format!("train config: {m}")));
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1, got 0".into());
        }
        if self.grad_accum == 0 {
            return bad("grad_accum must be at least 1, got 0".into());
        }
        if self.max_steps == 0 {
            return bad("max_steps must be at least 1, got 0".into());
        }
        for (name, v) in [
            ("learning_rate", self.learning_rate),
            ("min_lr", self.min_lr),
            ("weight_decay", self.weight_decay),
            ("grad_clip", self.grad_clip),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!("{name} must be a finite number ≥ 0, got {v}"));
            }
        }
        for (name, v) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&v) {
                return bad(format!("{name} must be in [0, 1), got {v}"));
            }
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return bad(format!("eps must be a positive number, got {}", self.eps));
        }
        if self.eval_iters == 0 {
            return bad("eval_iters must be at least 1, got 0".into());
        }
        if let Some(analysis) = &self.analysis {
            analysis.validate()?;
        }
        if let Some(distill) = &self.distill {
            distill.validate()?;
        }
        Ok(())
    }
}

/// Which tokenizer a run uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerSpec {
    /// Characters seen in the training text (plus `<unk>`).
    Chars,
    /// Bytes (256 ids plus specials).
    Bytes,
    /// A tokenizer file written by `lmlab tokenize train` (any kind).
    File(std::path::PathBuf),
}

fn default_tokenizer() -> TokenizerSpec {
    TokenizerSpec::Chars
}

fn default_sequences() -> SequenceMode {
    SequenceMode::Stream
}

/// Everything a training run is made of; recorded in every checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The model.
    pub model: ModelConfig,
    /// The training loop.
    pub train: TrainConfig,
    /// The tokenizer.
    #[serde(default = "default_tokenizer")]
    pub tokenizer: TokenizerSpec,
    /// How text splits into sequences: `stream` (default: one stream, `</s>` after each line),
    /// `line` or `paragraph` (each sequence starts after `<s>`).
    #[serde(default = "default_sequences")]
    pub sequences: SequenceMode,
}

impl RunConfig {
    /// Parses TOML (or JSON when the text starts with `{`) and validates everything but the vocabulary.
    pub fn parse(text: &str) -> Result<RunConfig> {
        let config: RunConfig = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| Error::invalid(format!("config: {e}")))?
        } else {
            toml::from_str(text).map_err(|e| Error::invalid(format!("config: {e}")))?
        };
        config.train.validate()?;
        let mut probe = config.model.clone();
        probe.vocab_size = probe.vocab_size.max(3);
        probe.validate()?;
        Ok(config)
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<RunConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        RunConfig::parse(&text).map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// The sequence mode.
    pub fn sequence_mode(&self) -> SequenceMode {
        self.sequences
    }

    /// The name of the first field (dotted path) whose value differs between two configs.
    pub fn first_difference(&self, other: &RunConfig) -> Option<String> {
        let a = serde_json::to_value(self).ok()?;
        let b = serde_json::to_value(other).ok()?;
        diff(&a, &b, "")
    }
}

fn diff(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = diff(u, v, &p) {
                            return Some(d);
                        }
                    }
                    _ => return Some(p),
                }
            }
            None
        }
        _ if a != b => Some(path.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[model]
n_layer = 2
n_head = 2
n_embd = 8
block_size = 4

[train]
batch_size = 2
max_steps = 3
learning_rate = 1e-3
min_lr = 1e-4
"#;

    #[test]
    fn good_config_parses_in_toml_and_json() {
        let c = RunConfig::parse(GOOD).unwrap();
        assert_eq!(c.model.ff(), 32);
        assert!(c.model.tied_head);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(RunConfig::parse(&json).unwrap(), c);
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        let err = |t: String| RunConfig::parse(&t).unwrap_err().to_string();
        assert!(err(GOOD.replace("n_embd = 8", "n_embd = 9")).contains("divisible by n_head"));
        assert!(err(GOOD.replace("n_layer = 2", "n_layer = 0")).contains("n_layer"));
        assert!(err(GOOD.replace("batch_size = 2", "batch_size = 0")).contains("batch_size"));
        assert!(err(GOOD.replace("n_head = 2", "n_head = 2\nwidth = 3")).contains("width"));
        assert!(err(GOOD.replace("min_lr = 1e-4", "")).contains("min_lr"));
        let bad_mode = err(format!("sequences = \"sentences\"\n{GOOD}"));
        assert!(
            bad_mode.contains("sentences") && bad_mode.contains("paragraph"),
            "{bad_mode}"
        );
        let c = RunConfig::parse(&format!("sequences = \"paragraph\"\n{GOOD}")).unwrap();
        assert_eq!(c.sequence_mode(), SequenceMode::Paragraph);
        assert_eq!(
            RunConfig::parse(GOOD).unwrap().sequence_mode(),
            SequenceMode::Stream
        );
    }

    #[test]
    fn first_difference_names_the_field() {
        let a = RunConfig::parse(GOOD).unwrap();
        let mut b = a.clone();
        assert_eq!(a.first_difference(&b), None);
        b.train.learning_rate = 2e-3;
        assert_eq!(
            a.first_difference(&b).as_deref(),
            Some("train.learning_rate")
        );
    }
}
