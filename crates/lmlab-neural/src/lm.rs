//! A trained run as an lmlab [`LanguageModel`]: whole-sequence scoring with sliding windows, the
//! next-token distribution, and a KV-cache [`Scorer`].

use crate::checkpoint::{self, Checkpoint};
use crate::config::{Arch, RunConfig};
use crate::model::{KvCache, LstmNet, LstmState, Transformer, Workspace};
use crate::train::load_run_tokenizer;
use lmlab_core::model::Stepper;
use lmlab_core::{Error, LanguageModel, Result, Scorer, TokenId, Tokenizer};
use std::path::Path;
use std::sync::Mutex;

/// A transformer with its tokenizer, loaded from a run directory.
pub struct TransformerModel {
    model: Transformer<f32>,
    tokenizer: Box<dyn Tokenizer>,
    config: RunConfig,
    step: usize,
    /// Forward-pass workspaces kept between [`LanguageModel::log_probs_batch`] calls (one per
    /// thread scoring at once), so batches after the first allocate and page-fault nothing.
    workspaces: Mutex<Vec<Workspace<f32>>>,
}

/// Reads a run's checkpoint and tokenizer and checks that they belong together.
pub(crate) fn load_parts(run_dir: &Path) -> Result<(Checkpoint, Box<dyn Tokenizer>)> {
    let path = run_dir.join(checkpoint::FILE_NAME);
    if run_dir.is_dir() && !path.exists() {
        return Err(Error::bad_file(
            run_dir,
            format!(
                "a directory without {}: not a neural run directory (give a model file, or a \
                 directory made by `lmlab train transformer|lstm`)",
                checkpoint::FILE_NAME
            ),
        ));
    }
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
    Ok((ck, tokenizer))
}

/// A neural LM of this crate: a [`LanguageModel`] (with a stepper and a scorer) and its run config.
pub trait NeuralLm: LanguageModel {
    /// The run's config.
    fn run_config(&self) -> &RunConfig;
    /// The transformer, when it is one.
    fn as_transformer(&self) -> Option<&TransformerModel> {
        None
    }
}

/// Loads the model of a run directory, transformer or LSTM.
pub fn load_model(run_dir: &Path) -> Result<Box<dyn NeuralLm>> {
    let (ck, tokenizer) = load_parts(run_dir)?;
    model_from_parts(ck.config, ck.params, tokenizer, ck.step)
}

/// The model its config's architecture names, from flat parameters and a tokenizer.
pub fn model_from_parts(
    config: RunConfig,
    params: Vec<f32>,
    tokenizer: Box<dyn Tokenizer>,
    step: usize,
) -> Result<Box<dyn NeuralLm>> {
    Ok(match config.model.arch {
        Arch::Transformer => Box::new(TransformerModel::from_parts(
            config, params, tokenizer, step,
        )?),
        Arch::Lstm => Box::new(LstmModel::from_parts(config, params, tokenizer, step)?),
    })
}

impl TransformerModel {
    /// Loads `run_dir/checkpoint.safetensors` and `run_dir/tokenizer.json`; refuses a checkpoint
    /// whose vocabulary or tokenizer does not match, or that holds an LSTM.
    pub fn load(run_dir: &Path) -> Result<TransformerModel> {
        let (ck, tokenizer) = load_parts(run_dir)?;
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
            workspaces: Mutex::new(Vec::new()),
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

/// Input positions per batched forward pass when scoring (windows of several sequences stacked).
const BATCH_ROWS: usize = 2048;

/// One scoring window: inputs `start..end` of sequence `seq`, scoring the targets from `first` on.
#[derive(Clone, Copy)]
struct Window {
    seq: usize,
    start: usize,
    end: usize,
    first: usize,
}

/// Windows of at most `t` inputs over `len` inputs advancing by half a window: the first covers
/// `0..t`, then one ends every `t / 2` inputs (the last may be shorter); each scores the inputs after
/// the previous window's end.
fn windows(seq: usize, len: usize, t: usize) -> Vec<Window> {
    let t = t.min(len);
    let stride = (t / 2).max(1);
    let mut out = vec![Window {
        seq,
        start: 0,
        end: t,
        first: 0,
    }];
    let mut scored = t;
    while scored < len {
        let end = (scored + stride).min(len);
        out.push(Window {
            seq,
            start: scored + stride - t,
            end,
            first: scored,
        });
        scored = end;
    }
    out
}

impl TransformerModel {
    /// Natural-log probabilities of every sequence's tokens. Windows of the same length share a
    /// forward pass (at most [`BATCH_ROWS`] positions), so each sequence gets the numbers it gets alone,
    /// bit for bit: nothing is padded (padding is exact in arithmetic but moves the last bits, through
    /// the vector loops' tails), and every output row of the engine's products is computed the same way
    /// whatever the other rows are.
    fn score_windows(&self, sequences: &[&[TokenId]]) -> Vec<Vec<f64>> {
        let bos = self.tokenizer.specials().bos;
        let v = self.model.config.vocab_size;
        let block = self.model.config.block_size;
        // Input i of a sequence is `<s>` for i = 0 and token i − 1 after it (read in place below).
        let mut all: Vec<Window> = sequences
            .iter()
            .enumerate()
            .filter(|(_, tokens)| !tokens.is_empty())
            .flat_map(|(seq, tokens)| windows(seq, tokens.len(), block))
            .collect();
        // Stable: equal lengths keep sequence order, so the batches are the same on every run.
        all.sort_by_key(|w| w.end - w.start);
        let mut out: Vec<Vec<f64>> = sequences.iter().map(|s| vec![0.0; s.len()]).collect();
        let mut batch_inputs = Vec::with_capacity(BATCH_ROWS + block);
        let pooled = self.workspaces.lock().map(|mut pool| pool.pop());
        let mut ws = match pooled {
            Ok(Some(ws)) => ws,
            _ => Workspace::<f32>::new(&self.model.config, 1, 1),
        };
        let mut rest = &all[..];
        while !rest.is_empty() {
            let t = rest[0].end - rest[0].start;
            // One-input windows go alone: a one-row product takes the engine's dot-product path,
            // several rows its GEMM, and the two round differently.
            let most = if t == 1 { 1 } else { (BATCH_ROWS / t).max(1) };
            let take = rest
                .iter()
                .take(most)
                .take_while(|w| w.end - w.start == t)
                .count();
            let (group, tail) = rest.split_at(take);
            rest = tail;
            batch_inputs.clear();
            for w in group {
                let tokens = sequences[w.seq];
                if w.start == 0 {
                    batch_inputs.push(bos);
                    batch_inputs.extend_from_slice(&tokens[..w.end - 1]);
                } else {
                    batch_inputs.extend_from_slice(&tokens[w.start - 1..w.end - 1]);
                }
            }
            ws.reshape_for_inference(&self.model.config, group.len(), t);
            self.model.forward(&mut ws, &batch_inputs, None, None);
            for (k, w) in group.iter().enumerate() {
                let tokens = sequences[w.seq];
                for i in w.first..w.end {
                    let r = k * t + i - w.start;
                    out[w.seq][i] =
                        renormalized_log_prob(&ws.logits[r * v..(r + 1) * v], tokens[i], bos);
                }
            }
        }
        if let Ok(mut pool) = self.workspaces.lock() {
            pool.push(ws);
        }
        out
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
        self.score_windows(&[tokens]).pop().unwrap_or_default()
    }

    /// The windows of every sequence (as [`LanguageModel::log_probs`] cuts them) go through the model
    /// together, those of one length in one forward pass of up to [`BATCH_ROWS`] positions.
    fn log_probs_batch(&self, sequences: &[&[TokenId]]) -> Option<Vec<Vec<f64>>> {
        Some(self.score_windows(sequences))
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

    /// None: scoring whole sequences through batched sliding windows is faster than the KV cache's
    /// one-token steps and gives the same numbers (see [`TransformerModel::kv_scorer`], which uses the
    /// same contexts), so evaluation takes [`LanguageModel::log_probs`].
    fn scorer(&self) -> Option<Box<dyn Scorer + '_>> {
        None
    }

    /// The KV cache: generation costs one token's step per token, not a re-encoded prompt.
    fn next_token_stepper(&self) -> Option<Box<dyn Stepper + '_>> {
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
/// rebuilt from the last half window (the contexts `log_probs` uses), so each token costs at most one
/// window's attention and a rebuild every half window.
pub struct KvScorer<'a> {
    model: &'a TransformerModel,
    cache: KvCache<f32>,
    history: Vec<TokenId>,
    probs: Vec<f32>,
}

impl Stepper for KvScorer<'_> {
    fn push(&mut self, token: TokenId) {
        self.push_token(token)
    }

    fn distribution(&mut self) -> Vec<f64> {
        distribution(&self.probs, self.model.tokenizer.specials().bos)
    }
}

impl KvScorer<'_> {
    /// Appends `token` to the context (rebuilding the cache from the last window when it is full).
    pub fn push_token(&mut self, token: TokenId) {
        let t = self.model.model.config.block_size;
        self.history.push(token);
        if self.cache.len() == t {
            self.cache.clear();
            // Keep what the sliding windows of `log_probs` keep: the window moves by `stride`.
            let stride = (t / 2).max(1);
            let keep = (t - stride + 1).min(self.history.len());
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

impl NeuralLm for TransformerModel {
    fn run_config(&self) -> &RunConfig {
        &self.config
    }
    fn as_transformer(&self) -> Option<&TransformerModel> {
        Some(self)
    }
}

/// An LSTM LM with its tokenizer. Scoring carries the recurrent state through the whole sequence.
pub struct LstmModel {
    model: LstmNet<f32>,
    tokenizer: Box<dyn Tokenizer>,
    config: RunConfig,
    step: usize,
}

impl LstmModel {
    /// A model from its config, flat parameters and tokenizer.
    pub fn from_parts(
        config: RunConfig,
        params: Vec<f32>,
        tokenizer: Box<dyn Tokenizer>,
        step: usize,
    ) -> Result<LstmModel> {
        let mut model = LstmNet::zeros(&config.model)?;
        if params.len() != model.params.len() {
            return Err(Error::Mismatch(format!(
                "{} parameters given, the config needs {}",
                params.len(),
                model.params.len()
            )));
        }
        model.params = params;
        Ok(LstmModel {
            model,
            tokenizer,
            config,
            step,
        })
    }

    fn lstm_stepper(&self) -> LstmStepper<'_> {
        let mut s = LstmStepper {
            model: self,
            state: self.model.new_state(),
            probs: vec![0.0; self.model.config.vocab_size],
        };
        s.reset();
        s
    }
}

impl LanguageModel for LstmModel {
    fn kind(&self) -> &str {
        "lstm"
    }

    fn describe(&self) -> String {
        let m = &self.config.model;
        format!(
            "lstm L{} d{} T{}{} ({} params, step {}, {} tokenizer)",
            m.n_layer,
            m.n_embd,
            m.block_size,
            if m.tied_head { " tied" } else { "" },
            self.model.parameter_count(),
            self.step,
            self.tokenizer.kind()
        )
    }

    fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
        let mut s = self.lstm_stepper();
        tokens.iter().map(|&t| s.score_next(t)).collect()
    }

    fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
        let mut s = self.lstm_stepper();
        for &t in context {
            s.push(t);
        }
        distribution(&s.probs, self.tokenizer.specials().bos)
    }

    fn scorer(&self) -> Option<Box<dyn Scorer + '_>> {
        Some(Box::new(self.lstm_stepper()))
    }

    fn next_token_stepper(&self) -> Option<Box<dyn Stepper + '_>> {
        Some(Box::new(self.lstm_stepper()))
    }

    fn parameter_count(&self) -> u64 {
        self.model.parameter_count() as u64
    }
}

impl NeuralLm for LstmModel {
    fn run_config(&self) -> &RunConfig {
        &self.config
    }
}

/// Token-by-token LSTM scoring: the recurrent state is the context.
pub struct LstmStepper<'a> {
    model: &'a LstmModel,
    state: LstmState<f32>,
    probs: Vec<f32>,
}

impl Stepper for LstmStepper<'_> {
    fn push(&mut self, token: TokenId) {
        let p = self.model.model.step(&mut self.state, token);
        self.probs.copy_from_slice(p);
    }

    fn distribution(&mut self) -> Vec<f64> {
        distribution(&self.probs, self.model.tokenizer.specials().bos)
    }
}

impl Scorer for LstmStepper<'_> {
    fn reset(&mut self) {
        self.state = self.model.model.new_state();
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
