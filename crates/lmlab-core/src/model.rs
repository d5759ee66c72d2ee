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

    /// The distribution of the next token after `<s>` followed by `context`: one probability per
    /// vocabulary id, summing to 1, zero for `<s>`.
    fn next_distribution(&self, context: &[TokenId]) -> Vec<f64>;

    /// A stateful scorer, for models that can score token by token faster than by whole sequences.
    fn scorer(&self) -> Option<Box<dyn Scorer + '_>> {
        None
    }

    /// A stepper that yields next-token distributions token by token (a KV cache, an n-gram state),
    /// for models where that is cheaper than [`LanguageModel::next_distribution`] on a growing context.
    fn next_token_stepper(&self) -> Option<Box<dyn Stepper + '_>> {
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

/// Generates next-token distributions one token at a time, carrying the context as state.
pub trait Stepper {
    /// Appends `token` to the context.
    fn push(&mut self, token: TokenId);
    /// The next-token distribution after `<s>` and the tokens pushed so far (as
    /// [`LanguageModel::next_distribution`]: one probability per id, zero for `<s>`).
    fn distribution(&mut self) -> Vec<f64>;
}

/// Scores a sequence one token at a time, carrying the context as state (KenLM's `State` idea).
pub trait Scorer {
    /// Starts a new sequence (context = `<s>`).
    fn reset(&mut self);
    /// Natural-log probability of `token` in the current context; then `token` joins the context.
    fn score_next(&mut self, token: TokenId) -> f64;
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

/// Encodes one corpus sequence: each line's ids followed by the end token in stream mode, the whole
/// text (its lines joined by their newlines) then one end token otherwise.
pub fn encode_sequence(
    tokenizer: &dyn Tokenizer,
    sequence: &Sequence<'_>,
    mode: SequenceMode,
) -> TokenSequence {
    let mut ids = Vec::new();
    let mut oov_at = Vec::new();
    let oov = encode_lines(tokenizer, sequence, mode, &mut ids, |text, out| {
        tokenizer.encode_into_marking_oov(text, out, &mut oov_at)
    });
    TokenSequence {
        ids,
        oov,
        oov_at,
        bytes: sequence.byte_count(),
        words: sequence.word_count(),
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
