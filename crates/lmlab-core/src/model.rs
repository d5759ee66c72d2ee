//! The `LanguageModel` contract: what evaluation, probability files, ensembles and generation rely on.

use crate::corpus::{Sequence, SequenceMode};
use crate::tokenizer::Tokenizer;
use crate::vocab::TokenId;

/// A trained language model over a tokenizer's vocabulary.
pub trait LanguageModel: Send + Sync {
    /// The model kind as written in its file header (`baseline`, `ngram`, ...).
    fn kind(&self) -> &str;

    /// A one-line description for leaderboards and probability-file headers.
    fn describe(&self) -> String;

    /// The tokenizer the model was trained with.
    fn tokenizer(&self) -> &dyn Tokenizer;

    /// Natural-log probability of each `tokens[i]` given `<s>` followed by `tokens[..i]`.
    /// Callers append the end token themselves, so it is scored like every other token.
    fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64>;

    /// [`LanguageModel::log_probs`] of each of `sequences`, for models that score many short
    /// sequences faster together (a transformer: windows of several sequences in one batched forward
    /// pass); `None` where scoring them one by one is as fast. The numbers are those of `log_probs`.
    fn log_probs_batch(&self, _sequences: &[&[TokenId]]) -> Option<Vec<Vec<f64>>> {
        None
    }

    /// [`LanguageModel::log_probs`] appended to `out`: models that score a sequence without
    /// allocating override it, so that evaluating many short sequences allocates nothing per
    /// sequence. The numbers are those of `log_probs`.
    fn log_probs_into(&self, tokens: &[TokenId], out: &mut Vec<f64>) {
        out.extend(self.log_probs(tokens));
    }

    /// The distribution of the next token after `<s>` followed by `context`: one probability per
    /// vocabulary id, summing to 1, zero for `<s>`.
    fn next_distribution(&self, context: &[TokenId]) -> Vec<f64>;

    /// A [`Stepper`] at the start of a sequence (context = `<s>`). Every model has one: models
    /// without a stepper of their own get [`ContextStepper`], which asks
    /// [`LanguageModel::next_distribution`] for the whole context at each step.
    fn stepper(&self) -> Box<dyn Stepper<'_> + '_> {
        Box::new(ContextStepper::new(self))
    }

    /// True when scoring a sequence token by token through [`LanguageModel::stepper`] is faster
    /// than [`LanguageModel::log_probs`] (evaluation then steps); the numbers are the same.
    fn scores_by_steps(&self) -> bool {
        false
    }

    /// The most positions the model attends to at once, `<s>` included (a transformer's
    /// `block_size`); `None` when the context is unbounded or the model keeps a fixed-size state.
    fn context_window(&self) -> Option<usize> {
        None
    }

    /// Number of parameters (or stored n-gram entries) for compute accounting.
    fn parameter_count(&self) -> u64;

    /// For models with a top-1 classifier of their own (memory-based models: TiMBL's answer),
    /// its prediction of each `tokens[i]` from `<s>` and `tokens[..i]`; `None` for models whose
    /// top-1 is their distribution's most likely token.
    fn top1_predictions(&self, _tokens: &[TokenId]) -> Option<Vec<TokenId>> {
        None
    }
}

/// Carries a context token by token (an n-gram state, a KV cache, a recurrent state): pushes
/// tokens, gives the next-token distribution or a token's log-probability, goes back to an earlier
/// length, forks, and scores several proposed tokens in one call (speculative decoding).
///
/// The context is `<s>` followed by the tokens pushed; its length counts the pushed tokens only.
/// Outputs go into buffers the caller passes, so a step allocates nothing once the stepper has
/// grown to its longest context ([`Stepper::reserve`] grows it ahead).
pub trait Stepper<'m> {
    /// Vocabulary size: the length of one distribution.
    fn vocab_len(&self) -> usize;

    /// Tokens pushed since `<s>` (after truncations).
    fn context_len(&self) -> usize;

    /// Appends `token` to the context.
    fn push(&mut self, token: TokenId);

    /// Writes the next-token distribution (as [`LanguageModel::next_distribution`]: one
    /// probability per id, zero for `<s>`) into `out`, which holds [`Stepper::vocab_len`] values.
    fn distribution_into(&mut self, out: &mut [f64]);

    /// Natural-log probability of `token` in the current context; then `token` joins the context.
    fn score_next(&mut self, token: TokenId) -> f64;

    /// Goes back to the context of the first `len` pushed tokens (no change when `len` is not
    /// shorter than the context).
    fn truncate(&mut self, len: usize);

    /// A copy of this stepper with the same context, advancing independently.
    fn fork(&self) -> Box<dyn Stepper<'m> + 'm>;

    /// Back to the start of a sequence (context = `<s>`).
    fn reset(&mut self) {
        self.truncate(0);
    }

    /// Makes room for `additional` more tokens of context, so that pushing them allocates nothing.
    fn reserve(&mut self, _additional: usize) {}

    /// Scores `proposed` tokens in one call: writes `proposed.len() + 1` distributions into `out`
    /// (row `i` is the distribution after the current context and `proposed[..i]`), and pushes
    /// every proposed token. Models that can score several positions together (a transformer's one
    /// forward pass over them) override this; the rows equal those of one step at a time up to
    /// floating-point rounding.
    fn score_proposed(&mut self, proposed: &[TokenId], out: &mut [f64]) {
        let v = self.vocab_len();
        self.distribution_into(&mut out[..v]);
        for (i, &token) in proposed.iter().enumerate() {
            self.push(token);
            self.distribution_into(&mut out[(i + 1) * v..(i + 2) * v]);
        }
    }

    /// The next-token distribution as a new vector (allocates; loops use
    /// [`Stepper::distribution_into`]).
    fn distribution(&mut self) -> Vec<f64> {
        let mut out = vec![0.0; self.vocab_len()];
        self.distribution_into(&mut out);
        out
    }
}

/// The stepper of a model without one of its own: keeps the context and asks
/// [`LanguageModel::next_distribution`] (or [`LanguageModel::log_probs`]) for the whole of it at each
/// step, which allocates and grows in cost with the context.
pub struct ContextStepper<'m, M: ?Sized> {
    model: &'m M,
    context: Vec<TokenId>,
}

impl<'m, M: LanguageModel + ?Sized> ContextStepper<'m, M> {
    /// A stepper at the start of a sequence.
    pub fn new(model: &'m M) -> Self {
        ContextStepper {
            model,
            context: Vec::new(),
        }
    }
}

impl<'m, M: LanguageModel + ?Sized> Stepper<'m> for ContextStepper<'m, M> {
    fn vocab_len(&self) -> usize {
        self.model.tokenizer().vocab().len()
    }

    fn context_len(&self) -> usize {
        self.context.len()
    }

    fn push(&mut self, token: TokenId) {
        self.context.push(token);
    }

    fn distribution_into(&mut self, out: &mut [f64]) {
        out.copy_from_slice(&self.model.next_distribution(&self.context));
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        self.context.push(token);
        let log_probs = self.model.log_probs(&self.context);
        log_probs[log_probs.len() - 1]
    }

    fn truncate(&mut self, len: usize) {
        self.context.truncate(len);
    }

    fn fork(&self) -> Box<dyn Stepper<'m> + 'm> {
        Box::new(ContextStepper {
            model: self.model,
            context: self.context.clone(),
        })
    }

    fn reserve(&mut self, additional: usize) {
        self.context.reserve(additional);
    }
}

/// A sequence of a corpus as token ids, with the counts evaluation needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenSequence {
    /// The ids to score, ending with the end token (stream mode: an end token after every line).
    pub ids: Vec<TokenId>,
    /// Ids the tokenizer could not represent (mapped to `<unk>`).
    pub oov: usize,
    /// The positions in `ids` of those OOVs.
    pub oov_at: Vec<usize>,
    /// UTF-8 bytes of the text, each line counting its newline.
    pub bytes: usize,
    /// Whitespace words plus one per line end.
    pub words: usize,
}

/// [`encode_sequence`]'s ids appended to `ids` and the positions of its OOVs (in `ids`) to
/// `oov_at`; returns the number of OOVs. Reusing the two vectors saves allocations per sequence.
pub fn encode_sequence_marking_oov(
    tokenizer: &dyn Tokenizer,
    sequence: &Sequence<'_>,
    mode: SequenceMode,
    ids: &mut Vec<TokenId>,
    oov_at: &mut Vec<usize>,
) -> usize {
    encode_lines(tokenizer, sequence, mode, ids, |text, out| {
        tokenizer.encode_into_marking_oov(text, out, oov_at)
    })
}

/// Encodes one corpus sequence: each line's ids followed by the end token in stream mode, the whole
/// text (its lines joined by their newlines) then one end token otherwise.
pub fn encode_sequence(
    tokenizer: &dyn Tokenizer,
    sequence: &Sequence<'_>,
    mode: SequenceMode,
) -> TokenSequence {
    let words = sequence.word_count();
    // Words and line ends: a word tokenizer's exact count of ids, a lower bound for most others.
    let mut ids = Vec::with_capacity(words);
    let mut oov_at = Vec::new();
    let oov = encode_sequence_marking_oov(tokenizer, sequence, mode, &mut ids, &mut oov_at);
    TokenSequence {
        ids,
        oov,
        oov_at,
        bytes: sequence.byte_count(),
        words,
    }
}

/// Appends the ids of one corpus sequence to `out` as [`encode_sequence`] makes them (end tokens
/// included); returns how many ids are out-of-vocabulary. Reusing `out` saves an allocation per
/// sequence when only the ids are needed.
pub fn encode_sequence_into(
    tokenizer: &dyn Tokenizer,
    sequence: &Sequence<'_>,
    mode: SequenceMode,
    out: &mut Vec<TokenId>,
) -> usize {
    encode_lines(tokenizer, sequence, mode, out, |text, out| {
        tokenizer.encode_into(text, out)
    })
}

/// Runs `encode` over the sequence's text as `mode` cuts it (each line, or the whole text), pushing
/// the end token after each; returns the sum of the OOV counts `encode` returns.
fn encode_lines(
    tokenizer: &dyn Tokenizer,
    sequence: &Sequence<'_>,
    mode: SequenceMode,
    out: &mut Vec<TokenId>,
    mut encode: impl FnMut(&str, &mut Vec<TokenId>) -> usize,
) -> usize {
    let eos = tokenizer.specials().eos;
    let mut oov = 0;
    match mode {
        SequenceMode::Stream => {
            for line in sequence.lines() {
                oov += encode(line, out);
                out.push(eos);
            }
        }
        SequenceMode::Line | SequenceMode::Paragraph => {
            oov += encode(sequence.text, out);
            out.push(eos);
        }
    }
    oov
}

/// Encodes every sequence of `text`.
pub fn encode_corpus(
    tokenizer: &dyn Tokenizer,
    text: &str,
    mode: SequenceMode,
) -> Vec<TokenSequence> {
    crate::corpus::split_sequences(text, mode)
        .iter()
        .map(|s| encode_sequence(tokenizer, s, mode))
        .collect()
}
