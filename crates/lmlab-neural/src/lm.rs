//! A trained run as an lmlab [`LanguageModel`]: whole-sequence scoring with sliding windows, the
//! next-token distribution, and a KV-cache [`Scorer`].

use crate::checkpoint::{self, Checkpoint};
use crate::config::RunConfig;
use crate::model::{KvCache, Transformer, Workspace};
use crate::train::load_run_tokenizer;
use lmlab_core::{Error, LanguageModel, Result, Scorer, TokenId, Tokenizer};
use std::path::Path;

/// A transformer with its tokenizer, loaded from a run directory.
pub struct TransformerModel {
    model: Transformer<f32>,
    tokenizer: Box<dyn Tokenizer>,
    config: RunConfig,
    step: usize,
}

impl TransformerModel {
    /// Loads `run_dir/checkpoint.safetensors` and `run_dir/tokenizer.json`; refuses a checkpoint
    /// whose vocabulary or tokenizer does not match.
    pub fn load(run_dir: &Path) -> Result<TransformerModel> {
        let path = run_dir.join(checkpoint::FILE_NAME);
        let ck = Checkpoint::load(&path)?;
        let tokenizer = load_run_tokenizer(run_dir)?;
        if tokenizer.vocab().len() != ck.config.model.vocab_size {
            return Err(Error::Mismatch(format!(
                "{}: the checkpoint's vocabulary has {} tokens but the run's tokenizer has {}",
                path.display(),
                ck.config.model.vocab_size,
                tokenizer.vocab().len()
            )));
        }
        if tokenizer.fingerprint() != ck.tokenizer_fingerprint {
            return Err(Error::Mismatch(format!(
                "{}: the checkpoint was trained with another tokenizer than {}",
                path.display(),
                run_dir.join(crate::train::files::TOKENIZER).display()
            )));
        }
        Self::from_parts(ck.config, ck.params, tokenizer, ck.step)
    }

    /// A model from its config, flat parameters and tokenizer.
    pub fn from_parts(
        config: RunConfig,
        params: Vec<f32>,
        tokenizer: Box<dyn Tokenizer>,
        step: usize,
    ) -> Result<TransformerModel> {
        let mut model = Transformer::zeros(&config.model)?;
        if params.len() != model.params.len() {
            return Err(Error::Mismatch(format!(
                "{} parameters given, the config needs {}",
                params.len(),
                model.params.len()
            )));
        }
        model.params = params;
        Ok(TransformerModel {
            model,
            tokenizer,
            config,
            step,
        })
    }

    /// The engine model.
    pub fn transformer(&self) -> &Transformer<f32> {
        &self.model
    }

    /// The run config.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// A fresh KV-cache scorer (concrete type; [`LanguageModel::scorer`] boxes the same).
    pub fn kv_scorer(&self) -> KvScorer<'_> {
        let mut s = KvScorer {
            model: self,
            cache: self.model.new_cache(),
            history: Vec::new(),
            probs: vec![0.0; self.model.config.vocab_size],
        };
        s.reset();
        s
    }
}

impl LanguageModel for TransformerModel {
    fn kind(&self) -> &str {
        "transformer"
    }

    fn describe(&self) -> String {
        let m = &self.config.model;
        format!(
            "transformer L{} d{} H{} T{} {:?}/{:?}/{:?}{} ({} params, step {}, {} tokenizer)",
            m.n_layer,
            m.n_embd,
            m.n_head,
            m.block_size,
            m.norm,
            m.mlp,
            m.positions,
            if m.tied_head { " tied" } else { "" },
            self.model.parameter_count(),
            self.step,
            self.tokenizer.kind()
        )
    }

    fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    /// Scores with windows of `block_size` inputs advancing by half a window: every token after the
    /// first window sees at least half a window of context.
    fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
        if tokens.is_empty() {
            return Vec::new();
        }
        let bos = self.tokenizer.specials().bos;
        let v = self.model.config.vocab_size;
        let mut inputs = Vec::with_capacity(tokens.len());
        inputs.push(bos);
        inputs.extend_from_slice(&tokens[..tokens.len() - 1]);
        let len = inputs.len();
        let t = self.model.config.block_size.min(len);
        let stride = (t / 2).max(1);
        let mut ws = Workspace::<f32>::new(&self.model.config, 1, t);
        let mut out = vec![0.0; len];
        let mut scored = 0;
        while scored < len {
            let end = if scored == 0 {
                t
            } else {
                (scored + stride).min(len)
            };
            let start = end - t;
            self.model.forward(&mut ws, &inputs[start..end], None, None);
            for i in scored..end {
                let row = &ws.logits[(i - start) * v..(i - start + 1) * v];
                out[i] = renormalized_log_prob(row, tokens[i], bos);
            }
            scored = end;
        }
        out
    }

    fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
        let bos = self.tokenizer.specials().bos;
        let v = self.model.config.vocab_size;
        let mut inputs = vec![bos];
        inputs.extend_from_slice(context);
        let t = self.model.config.block_size.min(inputs.len());
        let window = &inputs[inputs.len() - t..];
        let mut ws = Workspace::<f32>::new(&self.model.config, 1, t);
        self.model.forward(&mut ws, window, None, None);
        distribution(&ws.logits[(t - 1) * v..t * v], bos)
    }

    fn scorer(&self) -> Option<Box<dyn Scorer + '_>> {
        Some(Box::new(self.kv_scorer()))
    }

    fn parameter_count(&self) -> u64 {
        self.model.parameter_count() as u64
    }
}

/// The model's probabilities with `<s>` removed and the rest renormalized.
pub fn distribution(probs: &[f32], bos: TokenId) -> Vec<f64> {
    let mut out: Vec<f64> = probs.iter().map(|&p| p as f64).collect();
    out[bos as usize] = 0.0;
    let total: f64 = out.iter().sum();
    for p in out.iter_mut() {
        *p /= total;
    }
    out
}

fn renormalized_log_prob(probs: &[f32], token: TokenId, bos: TokenId) -> f64 {
    let rest = 1.0 - probs[bos as usize] as f64;
    (probs[token as usize] as f64 / rest)
        .max(f64::MIN_POSITIVE)
        .ln()
}

/// Token-by-token scoring with a key/value cache. When the context reaches `block_size`, the cache is
/// rebuilt from the last half window, so each token costs at most one window's attention.
pub struct KvScorer<'a> {
    model: &'a TransformerModel,
    cache: KvCache<f32>,
    history: Vec<TokenId>,
    probs: Vec<f32>,
}

impl KvScorer<'_> {
    /// Next-token probabilities in the current context (`<s>` included, unnormalized removal left to callers).
    pub fn probs(&self) -> &[f32] {
        &self.probs
    }

    /// Appends `token` to the context.
    pub fn push(&mut self, token: TokenId) {
        let t = self.model.model.config.block_size;
        self.history.push(token);
        if self.cache.len() == t {
            self.cache.clear();
            let keep = (t / 2).max(1).min(self.history.len());
            let start = self.history.len() - keep;
            for i in start..self.history.len() {
                let p = self.model.model.step(&mut self.cache, self.history[i]);
                if i + 1 == self.history.len() {
                    self.probs.copy_from_slice(p);
                }
            }
        } else {
            let p = self.model.model.step(&mut self.cache, token);
            self.probs.copy_from_slice(p);
        }
    }
}

impl Scorer for KvScorer<'_> {
    fn reset(&mut self) {
        self.cache.clear();
        self.history.clear();
        let bos = self.model.tokenizer.specials().bos;
        self.push(bos);
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        let bos = self.model.tokenizer.specials().bos;
        let lp = renormalized_log_prob(&self.probs, token, bos);
        self.push(token);
        lp
    }
}
