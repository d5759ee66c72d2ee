//! A trained run as an lmlab [`LanguageModel`]: whole-sequence scoring with sliding windows, the
//! next-token distribution, and [`Stepper`]s (a KV cache that scores proposed tokens in one forward
//! pass; the LSTM's recurrent state).

use crate::checkpoint::{self, Checkpoint};
use crate::config::{Arch, RunConfig};
use crate::model::{KvCache, LstmNet, LstmState, StepWeights, Transformer, Workspace};
use crate::train::load_run_tokenizer;
use lmlab_core::{Error, LanguageModel, Result, Stepper, TokenId, Tokenizer};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// A transformer with its tokenizer, loaded from a run directory.
pub struct TransformerModel {
    model: Transformer<f32>,
    tokenizer: Box<dyn Tokenizer>,
    config: RunConfig,
    step: usize,
    /// Forward-pass workspaces kept between [`LanguageModel::log_probs_batch`] calls (one per
    /// thread scoring at once), so batches after the first allocate and page-fault nothing.
    workspaces: Mutex<Vec<Workspace<f32>>>,
    /// The weights packed for KV-cache steps, made at the first stepper and shared by all (the
    /// parameters never change after loading).
    step_weights: OnceLock<Arc<StepWeights<f32>>>,
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
    /// Training steps completed when its weights were saved.
    fn step(&self) -> usize;
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
            step_weights: OnceLock::new(),
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

    /// An empty KV cache stepping with the model's packed weights (packed at the first call).
    fn new_cache(&self) -> KvCache<f32> {
        let weights = self.step_weights.get_or_init(|| self.model.step_weights());
        self.model.new_cache_with(Arc::clone(weights))
    }

    /// A fresh KV-cache stepper (concrete type; [`LanguageModel::stepper`] boxes the same).
    pub fn kv_scorer(&self) -> KvScorer<'_> {
        KvScorer {
            model: self,
            cache: self.new_cache(),
            inputs: vec![self.tokenizer.specials().bos],
            offset: 0,
            spare: None,
            stale: false,
            probs: vec![0.0; self.model.config.vocab_size],
            hidden: vec![0.0; self.model.config.n_embd],
        }
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

    /// The KV cache: generation costs one token's step per token, not a re-encoded prompt. Not
    /// `scores_by_steps`: scoring whole sequences through batched sliding windows is faster and gives
    /// the same numbers (the stepper uses the same contexts), so evaluation takes
    /// [`LanguageModel::log_probs`].
    fn stepper(&self) -> Box<dyn Stepper<'_> + '_> {
        Box::new(self.kv_scorer())
    }

    fn context_window(&self) -> Option<usize> {
        Some(self.model.config.block_size)
    }

    fn parameter_count(&self) -> u64 {
        self.model.parameter_count() as u64
    }
}

/// The model's probabilities with `<s>` removed and the rest renormalized.
pub fn distribution(probs: &[f32], bos: TokenId) -> Vec<f64> {
    let mut out = vec![0.0; probs.len()];
    distribution_into(probs, bos, &mut out);
    out
}

/// [`distribution`] written into `out`.
pub fn distribution_into(probs: &[f32], bos: TokenId, out: &mut [f64]) {
    for (o, &p) in out.iter_mut().zip(probs) {
        *o = p as f64;
    }
    out[bos as usize] = 0.0;
    let total: f64 = out.iter().sum();
    for p in out.iter_mut() {
        *p /= total;
    }
}

/// The probability of `token` with `<s>` removed and the rest renormalized.
pub(crate) fn renormalized_prob(probs: &[f32], token: TokenId, bos: TokenId) -> f64 {
    probs[token as usize] as f64 / (1.0 - probs[bos as usize] as f64)
}

/// The natural log of [`renormalized_prob`] (at least that of the smallest positive f64).
pub(crate) fn renormalized_log_prob(probs: &[f32], token: TokenId, bos: TokenId) -> f64 {
    renormalized_prob(probs, token, bos)
        .max(f64::MIN_POSITIVE)
        .ln()
}

/// Token-by-token scoring with a key/value cache, lazily: pushing a token only records it, and the
/// tokens not yet in the cache go through the model together when a distribution is asked for, so
/// [`Stepper::score_proposed`] scores a proposal (and the token before it) in one forward pass, and
/// going back is forgetting cache positions. When the context reaches `block_size`, the cache is
/// rebuilt from the last half window (the contexts `log_probs` uses), so each token costs at most one
/// window's attention and a rebuild every half window. The window left behind is kept as a spare:
/// going back into it (a speculative proposal that crossed the boundary, then was rejected) takes
/// it up again where it stopped, and crossing again takes up the newer one, so neither window is
/// rebuilt each time a proposal crosses (which made speculative decoding slower than the target
/// alone near every boundary).
#[derive(Clone)]
pub struct KvScorer<'a> {
    model: &'a TransformerModel,
    cache: KvCache<f32>,
    /// `<s>`, then every pushed token.
    inputs: Vec<TokenId>,
    /// The cache holds `inputs[offset..offset + cache.len()]`.
    offset: usize,
    /// Another window's cache and its offset (made at the first window change), holding
    /// `inputs[offset..offset + len()]` of that window.
    spare: Option<(usize, KvCache<f32>)>,
    /// The model's probabilities after the last input in the cache (unless `stale`).
    probs: Vec<f32>,
    /// The final hidden state (the LM head's input) at the last input in the cache (unless
    /// `stale`).
    hidden: Vec<f32>,
    /// True when a truncation kept the cache's last row (the input is the same, at the same
    /// position) but `probs` and `hidden` are another input's: asked for before anything else is
    /// fed, that input is fed again. So after a speculative round's truncation and the next token's
    /// push, the next verification feeds K + 1 rows, not K + 2.
    stale: bool,
}

impl KvScorer<'_> {
    /// Inputs in the cache, counted from the first.
    fn fed(&self) -> usize {
        self.offset + self.cache.len()
    }

    /// Feeds `inputs[fed..]` into the cache, as few forward passes as the window allows; `row`
    /// receives each input's index, probabilities and final hidden state from `from` on, once, from
    /// the window that first feeds it (a window rebuilt at `block_size` feeds some inputs again).
    /// `probs` and `hidden` end as the last's.
    fn feed(&mut self, from: usize, mut row: impl FnMut(usize, &[f32], &[f32])) {
        self.refresh();
        let mut next = from;
        let t = self.model.model.config.block_size;
        let (v, d) = (self.probs.len(), self.hidden.len());
        while self.fed() < self.inputs.len() {
            if self.cache.len() == t {
                let fed = self.fed();
                self.use_window(self.window_start(fed), fed);
            }
            let start = self.fed();
            let end = self.inputs.len().min(start + t - self.cache.len());
            // A rebuilt window's inputs before `next` were given out before: only their keys and
            // values are needed (the last row always gives `probs` and `hidden`).
            let first_out = next.saturating_sub(start).min(end - start - 1);
            self.model
                .model
                .step_rows(&mut self.cache, &self.inputs[start..end], first_out);
            let (probs, hidden) = self.cache.last_rows(end - start);
            self.probs.copy_from_slice(&probs[(end - start - 1) * v..]);
            let rows = probs.chunks_exact(v).zip(hidden.chunks_exact(d));
            for (i, (p, h)) in (start..end).zip(rows) {
                if i >= next {
                    row(i, p, h);
                    next = i + 1;
                }
            }
            self.hidden
                .copy_from_slice(&hidden[(end - start - 1) * d..(end - start) * d]);
            self.stale = false;
        }
    }

    /// Where `probs` and `hidden` are stale and nothing waits to be fed, forgets the cache's last
    /// row, so that feeding gives them again.
    fn refresh(&mut self) {
        if self.stale && self.fed() == self.inputs.len() {
            self.cache.truncate(self.cache.len() - 1);
            self.stale = false;
        }
    }

    /// Makes the cache of the window starting at input `start` the active one: the spare if it is
    /// that window, else an empty cache, the previously active one becoming the spare. Both keep at
    /// most the rows of the inputs before `keep`.
    fn use_window(&mut self, start: usize, keep: usize) {
        if start != self.offset {
            let (spare_start, mut spare) = self
                .spare
                .take()
                .unwrap_or_else(|| (usize::MAX, self.model.new_cache()));
            std::mem::swap(&mut self.cache, &mut spare);
            if spare_start != start {
                self.cache.clear();
            }
            let spare_start = std::mem::replace(&mut self.offset, start);
            spare.truncate(keep.saturating_sub(spare_start));
            self.spare = Some((spare_start, spare));
        }
        self.cache.truncate(keep.saturating_sub(start));
    }

    /// The first input of the window that feeds input `i`: windows of `block_size` inputs move by
    /// half a window, as those of `log_probs` (the first holds inputs `0..t`, and input `t` starts the
    /// next one from `stride`), whatever the order of pushes, truncations and proposals.
    fn window_start(&self, i: usize) -> usize {
        let t = self.model.model.config.block_size;
        let stride = (t / 2).max(1);
        if i < t {
            0
        } else {
            ((i - t) / stride + 1) * stride
        }
    }

    /// Brings the cache up to every input, so `probs` is the next-token distribution.
    fn catch_up(&mut self) {
        let from = self.inputs.len();
        self.feed(from, |_, _, _| {});
    }

    /// Appends `token` to the context (compatibility name of [`Stepper::push`]).
    pub fn push_token(&mut self, token: TokenId) {
        self.inputs.push(token);
    }

    /// The final hidden state (after the final norm: the vector the LM head reads) at the last
    /// pushed token (`<s>` when none), feeding the pending tokens first.
    pub fn hidden_state(&mut self) -> &[f32] {
        self.catch_up();
        &self.hidden
    }

    /// Pushes `tokens` and feeds every pending input, handing `row` each newly fed input's index
    /// (0 is `<s>`), the model's next-token probabilities after it (`<s>` included, not
    /// renormalized) and its final hidden state, in order, once each: a whole text in as few forward
    /// passes as the window allows, with the contexts of `log_probs`.
    pub fn push_with_rows(&mut self, tokens: &[TokenId], row: impl FnMut(usize, &[f32], &[f32])) {
        let from = self.fed();
        self.inputs.extend_from_slice(tokens);
        self.feed(from, row);
    }
}

impl<'a> Stepper<'a> for KvScorer<'a> {
    fn vocab_len(&self) -> usize {
        self.probs.len()
    }

    fn context_len(&self) -> usize {
        self.inputs.len() - 1
    }

    fn push(&mut self, token: TokenId) {
        self.inputs.push(token);
    }

    fn distribution_into(&mut self, out: &mut [f64]) {
        self.catch_up();
        distribution_into(&self.probs, self.model.tokenizer.specials().bos, out);
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        self.catch_up();
        let lp = renormalized_log_prob(&self.probs, token, self.model.tokenizer.specials().bos);
        self.inputs.push(token);
        lp
    }

    fn truncate(&mut self, len: usize) {
        if len + 1 >= self.inputs.len() {
            return;
        }
        self.inputs.truncate(len + 1);
        if let Some((start, spare)) = &mut self.spare {
            spare.truncate((len + 1).saturating_sub(*start));
        }
        if self.fed() > len + 1 {
            // The window of the new last input, its row kept where it is in the cache; its
            // probabilities are fed again only if asked for before the next push.
            self.use_window(self.window_start(len), len + 1);
            self.stale = self.fed() == len + 1;
        }
    }

    fn fork(&self) -> Box<dyn Stepper<'a> + 'a> {
        Box::new(self.clone())
    }

    fn reserve(&mut self, additional: usize) {
        self.inputs.reserve(additional);
    }

    /// The tokens not yet in the cache (the last pushed one, and the proposal) go through the model
    /// in one forward pass over their positions.
    fn score_proposed(&mut self, proposed: &[TokenId], out: &mut [f64]) {
        self.refresh();
        let bos = self.model.tokenizer.specials().bos;
        let v = self.probs.len();
        let last = self.inputs.len() - 1;
        let from = if self.fed() == self.inputs.len() {
            distribution_into(&self.probs, bos, &mut out[..v]);
            last + 1
        } else {
            last
        };
        self.inputs.extend_from_slice(proposed);
        self.feed(from, |i, p, _| {
            let r = i - last;
            distribution_into(p, bos, &mut out[r * v..(r + 1) * v]);
        });
    }
}

impl NeuralLm for TransformerModel {
    fn run_config(&self) -> &RunConfig {
        &self.config
    }
    fn step(&self) -> usize {
        self.step
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
        let mut state = self.model.new_state();
        self.model.step(&mut state, self.tokenizer.specials().bos);
        let stride = state.saved_len();
        let mut saved = vec![0.0; stride];
        state.save(&mut saved);
        LstmStepper {
            model: self,
            state,
            saved,
            stride,
            len: 0,
        }
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
        s.distribution()
    }

    fn stepper(&self) -> Box<dyn Stepper<'_> + '_> {
        Box::new(self.lstm_stepper())
    }

    fn scores_by_steps(&self) -> bool {
        true
    }

    fn parameter_count(&self) -> u64 {
        self.model.parameter_count() as u64
    }
}

impl NeuralLm for LstmModel {
    fn run_config(&self) -> &RunConfig {
        &self.config
    }
    fn step(&self) -> usize {
        self.step
    }
}

/// Token-by-token LSTM scoring: the recurrent state is the context. The state after every context
/// length (`h`, `c` and the next-token probabilities) is kept in one flat array, so going back is
/// choosing an earlier one, and a step (restore, one LSTM step, save) allocates nothing once the
/// array has grown ([`Stepper::reserve`] grows it ahead).
#[derive(Clone)]
pub struct LstmStepper<'a> {
    model: &'a LstmModel,
    /// The state being stepped.
    state: LstmState<f32>,
    /// `saved[i * stride..][..stride]`: the state after `<s>` and `i` pushed tokens.
    saved: Vec<f32>,
    stride: usize,
    len: usize,
}

impl LstmStepper<'_> {
    /// The next-token probabilities after the context (the end of its saved state).
    fn probs(&self) -> &[f32] {
        let v = self.model.model.config.vocab_size;
        &self.saved[(self.len + 1) * self.stride - v..(self.len + 1) * self.stride]
    }
}

impl<'a> Stepper<'a> for LstmStepper<'a> {
    fn vocab_len(&self) -> usize {
        self.model.model.config.vocab_size
    }

    fn context_len(&self) -> usize {
        self.len
    }

    fn push(&mut self, token: TokenId) {
        let stride = self.stride;
        self.state
            .restore(&self.saved[self.len * stride..(self.len + 1) * stride]);
        self.model.model.step(&mut self.state, token);
        self.len += 1;
        self.saved
            .resize(self.saved.len().max((self.len + 1) * stride), 0.0);
        self.state
            .save(&mut self.saved[self.len * stride..(self.len + 1) * stride]);
    }

    fn distribution_into(&mut self, out: &mut [f64]) {
        distribution_into(self.probs(), self.model.tokenizer.specials().bos, out);
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        let bos = self.model.tokenizer.specials().bos;
        let lp = renormalized_log_prob(self.probs(), token, bos);
        self.push(token);
        lp
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    fn fork(&self) -> Box<dyn Stepper<'a> + 'a> {
        let mut fork = self.clone();
        fork.saved.truncate((self.len + 1) * self.stride);
        Box::new(fork)
    }

    fn reserve(&mut self, additional: usize) {
        self.saved.reserve(additional * self.stride);
    }
}
