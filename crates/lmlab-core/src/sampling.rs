//! Sampling text from any [`LanguageModel`] with a seeded, portable random generator.

use crate::error::{Error, Result};
use crate::model::LanguageModel;
use crate::vocab::TokenId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How to sample.
#[derive(Clone, Copy, Debug)]
pub struct SamplingOptions {
    /// Random seed: the same seed, model and prompt give the same text.
    pub seed: u64,
    /// Most tokens to generate (generation also stops at the end token).
    pub max_tokens: usize,
    /// Softmax temperature, >= 0; 0 is greedy decoding (always the most likely token, ties to the
    /// lower id; the seed then plays no part).
    pub temperature: f64,
    /// Keep only the k most likely tokens (0 = all).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = all).
    pub top_p: f64,
    /// Stop at the end token. Models trained on a stream (where `</s>` ends a line, not the text)
    /// leave this off and generate across lines; so does "ignore the end token".
    pub stop_at_eos: bool,
    /// Let byte-level tokenizers (bytes, byte-level BPE) emit any bytes. Off (the default), tokens
    /// whose bytes would make the text invalid UTF-8 or add a control character other than newline
    /// and tab get probability 0 before sampling (see [`TextGuard`]).
    pub raw_bytes: bool,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        SamplingOptions {
            seed: 0,
            max_tokens: 50,
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            stop_at_eos: true,
            raw_bytes: false,
        }
    }
}

impl SamplingOptions {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(Error::invalid(format!(
                "temperature must be 0 (greedy) or a positive number, got {}",
                self.temperature
            )));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(Error::invalid(format!(
                "top-p must lie in (0, 1], got {}",
                self.top_p
            )));
        }
        Ok(())
    }

    /// True when no token is cut before drawing (no top-k, no top-p): the draw needs no sorting.
    pub fn keeps_every_token(&self) -> bool {
        self.top_k == 0 && self.top_p >= 1.0
    }

    /// True when sampling is greedy decoding (temperature 0).
    pub fn is_greedy(&self) -> bool {
        self.temperature == 0.0
    }
}

/// The most likely token of `probs` (ties to the lower id); 0 when none has probability.
pub fn most_likely(probs: &[f64]) -> TokenId {
    let mut best = 0;
    for (id, &p) in probs.iter().enumerate() {
        if p > probs[best] {
            best = id;
        }
    }
    best as TokenId
}

/// Draws one token from `probs` after temperature, top-k and top-p (ties broken by lower id);
/// temperature 0 takes the most likely token. Allocates scratch; loops use a [`Sampler`].
pub fn sample_from(probs: &[f64], options: &SamplingOptions, rng: &mut impl Rng) -> TokenId {
    Sampler::default().sample(probs, options, rng)
}

/// Temperature, top-k and top-p over reusable scratch buffers, so sampling a token allocates
/// nothing once the buffers have grown to the vocabulary.
#[derive(Clone, Debug, Default)]
pub struct Sampler {
    /// Tokens with probability, with their log-probability over the temperature, most likely first.
    candidates: Vec<(TokenId, f64)>,
    /// The unnormalized weight of each kept candidate (with nothing cut and a temperature other than
    /// 1: of each id, in order).
    weights: Vec<f64>,
}

impl Sampler {
    /// Fills `candidates` and `weights` with the tokens `options` keeps from `probs` (sorted most
    /// likely first, ties to the lower id) and their unnormalized weights; not for greedy decoding.
    fn keep(&mut self, probs: &[f64], options: &SamplingOptions) {
        self.candidates.clear();
        self.candidates.extend(
            probs
                .iter()
                .enumerate()
                .filter(|(_, &p)| p > 0.0)
                .map(|(i, &p)| (i as TokenId, p.ln() / options.temperature)),
        );
        self.candidates
            .sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        if options.top_k > 0 {
            self.candidates.truncate(options.top_k);
        }
        self.weights.clear();
        let Some(&(_, max)) = self.candidates.first() else {
            return;
        };
        self.weights
            .extend(self.candidates.iter().map(|c| (c.1 - max).exp()));
        if options.top_p < 1.0 {
            let total: f64 = self.weights.iter().sum();
            let mut mass = 0.0;
            let keep = self
                .weights
                .iter()
                .position(|w| {
                    mass += w / total;
                    mass >= options.top_p
                })
                .map_or(self.weights.len(), |i| i + 1);
            self.weights.truncate(keep);
        }
    }

    /// Draws one token from `probs` after temperature, top-k and top-p (as [`sample_from`]).
    pub fn sample(
        &mut self,
        probs: &[f64],
        options: &SamplingOptions,
        rng: &mut impl Rng,
    ) -> TokenId {
        if options.is_greedy() {
            return most_likely(probs);
        }
        if options.keeps_every_token() {
            return match self.tempered(probs, options.temperature) {
                Some((weights, total)) => draw(weights, total, rng),
                None => 0,
            };
        }
        self.keep(probs, options);
        if self.weights.is_empty() {
            return 0;
        }
        let total: f64 = self.weights.iter().sum();
        let mut target = rng.gen::<f64>() * total;
        for (c, w) in self.candidates.iter().zip(&self.weights) {
            target -= w;
            if target <= 0.0 {
                return c.0;
            }
        }
        self.candidates[self.weights.len() - 1].0
    }

    /// Where no token is cut (no top-k, no top-p), the weights of the ids in order, with nothing to
    /// sort: `probs` itself at temperature 1, else `p^(1/T)` scaled by the largest one's (kept in
    /// `weights`), and their total; `None` when no token has probability.
    fn tempered<'a>(&'a mut self, probs: &'a [f64], temperature: f64) -> Option<(&'a [f64], f64)> {
        if temperature == 1.0 {
            let total: f64 = probs.iter().filter(|&&p| p > 0.0).sum();
            return (total > 0.0).then_some((probs, total));
        }
        let max = probs.iter().fold(0.0f64, |m, &p| m.max(p));
        if max <= 0.0 {
            return None;
        }
        let top = max.ln() / temperature;
        self.weights.clear();
        self.weights.extend(probs.iter().map(|&p| {
            if p > 0.0 {
                (p.ln() / temperature - top).exp()
            } else {
                0.0
            }
        }));
        Some((&self.weights, self.weights.iter().sum()))
    }

    /// Replaces `probs` by the distribution [`Sampler::sample`] draws from: temperature, top-k and
    /// top-p applied, renormalized (greedy decoding: 1 on the most likely token). All zeros stay
    /// all zeros. Speculative decoding applies this to the target's and the draft's distributions
    /// before its acceptance rule.
    pub fn shape(&mut self, probs: &mut [f64], options: &SamplingOptions) {
        if probs.iter().all(|&p| p <= 0.0) {
            return;
        }
        if options.is_greedy() {
            let best = most_likely(probs) as usize;
            probs.fill(0.0);
            probs[best] = 1.0;
            return;
        }
        if options.keeps_every_token() {
            let Some((_, total)) = self.tempered(probs, options.temperature) else {
                return;
            };
            if options.temperature == 1.0 {
                probs.iter_mut().for_each(|p| *p = p.max(0.0) / total);
            } else {
                for (p, w) in probs.iter_mut().zip(&self.weights) {
                    *p = w / total;
                }
            }
            return;
        }
        self.keep(probs, options);
        let total: f64 = self.weights.iter().sum();
        probs.fill(0.0);
        for (c, w) in self.candidates.iter().zip(&self.weights) {
            probs[c.0 as usize] = w / total;
        }
    }
}

/// Draws a token from `probs` (non-negative, summing to `total` > 0) by walking the ids in order.
pub fn draw(probs: &[f64], total: f64, rng: &mut impl Rng) -> TokenId {
    let mut target = rng.gen::<f64>() * total;
    let mut last = 0;
    for (id, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            target -= p;
            last = id;
            if target < 0.0 {
                return id as TokenId;
            }
        }
    }
    last as TokenId
}

/// How `bytes` read as text: `Some(n)` when they are valid UTF-8 but for an incomplete character in
/// their last `n` bytes, and hold no control character other than newline and tab; `None` otherwise
/// (an invalid sequence, or a control character such as 0x17 or a C1 control).
pub fn printable_utf8_tail(bytes: &[u8]) -> Option<usize> {
    let (text, tail) = match std::str::from_utf8(bytes) {
        Ok(text) => (text, 0),
        Err(e) if e.error_len().is_none() => (
            std::str::from_utf8(&bytes[..e.valid_up_to()]).expect("valid up to here"),
            bytes.len() - e.valid_up_to(),
        ),
        Err(_) => return None,
    };
    let printable = text
        .chars()
        .all(|c| !c.is_control() || c == '\n' || c == '\t');
    printable.then_some(tail)
}

/// A [`TextGuard`]'s state: the bytes of an incomplete character (at most 3), without allocating.
#[derive(Clone, Copy, Debug, Default)]
pub struct GuardMark {
    bytes: [u8; 4],
    len: usize,
}

/// Keeps sampled text printable UTF-8: which tokens may come next after the bytes so far. Tokens are
/// read through [`Tokenizer::decode_bytes`](crate::Tokenizer::decode_bytes), so a byte-level model's
/// single bytes and partial characters are judged together with the incomplete character before them.
pub struct TextGuard {
    /// The bytes of every token.
    token_bytes: Vec<Vec<u8>>,
    /// Whether each token is allowed when no character is pending.
    allowed_at_boundary: Vec<bool>,
    /// The bytes of an incomplete character at the end of the text so far.
    pending: Vec<u8>,
}

impl TextGuard {
    /// A guard for the tokens of `tokenizer`, at a character boundary.
    pub fn new(tokenizer: &dyn crate::Tokenizer) -> TextGuard {
        let token_bytes: Vec<Vec<u8>> = (0..tokenizer.vocab().len() as TokenId)
            .map(|id| tokenizer.decode_bytes(&[id]))
            .collect();
        let allowed_at_boundary = token_bytes
            .iter()
            .map(|b| printable_utf8_tail(b).is_some())
            .collect();
        TextGuard {
            token_bytes,
            allowed_at_boundary,
            pending: Vec::new(),
        }
    }

    /// True when the text so far ends on a whole character.
    pub fn at_boundary(&self) -> bool {
        self.pending.is_empty()
    }

    /// True when `id` may come next.
    pub fn allows(&self, id: TokenId) -> bool {
        self.allows_with(id, &mut Vec::new())
    }

    /// [`TextGuard::allows`], joining the pending bytes and the token's in `scratch` (reused
    /// across tokens, so masking a vocabulary allocates once).
    fn allows_with(&self, id: TokenId, scratch: &mut Vec<u8>) -> bool {
        let Some(bytes) = self.token_bytes.get(id as usize) else {
            return false;
        };
        if self.pending.is_empty() {
            return self.allowed_at_boundary[id as usize];
        }
        scratch.clear();
        scratch.extend_from_slice(&self.pending);
        scratch.extend_from_slice(bytes);
        printable_utf8_tail(scratch).is_some()
    }

    /// Sets the probability of every token that may not come next to 0.
    pub fn mask(&self, probs: &mut [f64]) {
        let mut scratch = Vec::new();
        for (id, p) in probs.iter_mut().enumerate() {
            if *p > 0.0 && !self.allows_with(id as TokenId, &mut scratch) {
                *p = 0.0;
            }
        }
    }

    /// The guard's state (the pending bytes), to go back to with [`TextGuard::restore`].
    pub fn mark(&self) -> GuardMark {
        let mut mark = GuardMark::default();
        let n = self.pending.len().min(mark.bytes.len());
        mark.bytes[..n].copy_from_slice(&self.pending[self.pending.len() - n..]);
        mark.len = n;
        mark
    }

    /// Back to the state of `mark`.
    pub fn restore(&mut self, mark: &GuardMark) {
        self.pending.clear();
        self.pending.extend_from_slice(&mark.bytes[..mark.len]);
    }

    /// Appends `id`'s bytes to the text so far.
    pub fn push(&mut self, id: TokenId) {
        if let Some(bytes) = self.token_bytes.get(id as usize) {
            self.pending.extend_from_slice(bytes);
        }
        let tail = printable_utf8_tail(&self.pending).unwrap_or(0);
        self.pending.drain(..self.pending.len() - tail);
    }
}

/// Continues `prompt` (ids after `<s>`) for up to `max_tokens` tokens (stopping at the end token
/// when asked); returns the new ids without a final end token. Steps through the model's
/// [`Stepper`](crate::Stepper), so the cost per token does not grow with the context, and reuses
/// one distribution buffer and one [`Sampler`]: a token allocates nothing in the steady state.
///
/// Unless `options.raw_bytes`, tokens that would break the text (see [`TextGuard`]) are masked out
/// before sampling, generation stops early when the model gives no allowed token any probability,
/// and trailing tokens that leave a character incomplete at the end are dropped.
pub fn generate(
    model: &dyn LanguageModel,
    prompt: &[TokenId],
    options: &SamplingOptions,
) -> Result<Vec<TokenId>> {
    options.validate()?;
    let eos = model.tokenizer().specials().eos;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut guard = Guard::new(model, prompt, options);
    let mut stepper = model.stepper();
    stepper.reserve(prompt.len() + options.max_tokens + 1);
    prompt.iter().for_each(|&t| stepper.push(t));
    let mut sampler = Sampler::default();
    let mut distribution = vec![0.0; stepper.vocab_len()];
    let mut generated = Vec::with_capacity(options.max_tokens);
    for _ in 0..options.max_tokens {
        stepper.distribution_into(&mut distribution);
        if !guard.mask(&mut distribution) {
            break;
        }
        let next = sampler.sample(&distribution, options, &mut rng);
        if next == eos && options.stop_at_eos {
            break;
        }
        stepper.push(next);
        generated.push(next);
        guard.push(next, generated.len());
    }
    guard.finish(&mut generated);
    Ok(generated)
}

/// The [`TextGuard`] of a generation when it has one (unless `raw_bytes`), with how many generated
/// tokens end on a whole character (public for generation loops outside this crate, e.g. CD-LM's).
pub struct Guard {
    guard: Option<TextGuard>,
    whole: usize,
}

impl Guard {
    /// The guard for `model`'s tokenizer after `prompt`; none with `options.raw_bytes`.
    pub fn new(model: &dyn LanguageModel, prompt: &[TokenId], options: &SamplingOptions) -> Guard {
        let guard = (!options.raw_bytes).then(|| {
            let mut guard = TextGuard::new(model.tokenizer());
            prompt.iter().for_each(|&t| guard.push(t));
            guard
        });
        Guard { guard, whole: 0 }
    }

    /// Masks the tokens that may not come next; false when no allowed token has probability.
    pub fn mask(&self, distribution: &mut [f64]) -> bool {
        match &self.guard {
            Some(guard) => {
                guard.mask(distribution);
                distribution.iter().any(|&p| p > 0.0)
            }
            None => true,
        }
    }

    /// Records generated token `id`, the `count`-th.
    pub fn push(&mut self, id: TokenId, count: usize) {
        if let Some(guard) = self.guard.as_mut() {
            guard.push(id);
            if guard.at_boundary() {
                self.whole = count;
            }
        }
    }

    /// The guard's state, for [`Guard::restore`]; `None` without a guard.
    pub fn mark(&self) -> Option<GuardMark> {
        self.guard.as_ref().map(TextGuard::mark)
    }

    /// Back to a state from [`Guard::mark`], with `whole` tokens on a whole character.
    pub fn restore(&mut self, mark: Option<GuardMark>, whole: usize) {
        if let (Some(guard), Some(mark)) = (self.guard.as_mut(), mark) {
            guard.restore(&mark);
        }
        self.whole = whole;
    }

    /// Generated tokens ending on a whole character so far.
    pub fn whole(&self) -> usize {
        self.whole
    }

    /// Drops trailing tokens that leave a character incomplete.
    pub fn finish(&self, generated: &mut Vec<TokenId>) {
        if self.guard.is_some() {
            generated.truncate(self.whole);
        }
    }
}

/// The part of `prompt` that fits the model's context window with `<s>` before it (the last
/// `window − 1` tokens), and how many tokens were dropped from its front (0 when it fits, or the
/// model has no window).
pub fn fit_prompt<'a>(model: &dyn LanguageModel, prompt: &'a [TokenId]) -> (&'a [TokenId], usize) {
    match model.context_window() {
        Some(window) if prompt.len() + 1 > window => {
            let dropped = prompt.len() + 1 - window;
            (&prompt[dropped..], dropped)
        }
        _ => (prompt, 0),
    }
}

/// `count` samples continuing `prompt`: sample `i` is [`generate`] with seed `options.seed + i`
/// (wrapping), so the first is the single sample of the same seed and each can be redrawn alone.
pub fn generate_samples(
    model: &dyn LanguageModel,
    prompt: &[TokenId],
    options: &SamplingOptions,
    count: usize,
) -> Result<Vec<Vec<TokenId>>> {
    (0..count as u64)
        .map(|i| {
            let one = SamplingOptions {
                seed: options.seed.wrapping_add(i),
                ..*options
            };
            generate(model, prompt, &one)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_one_is_greedy_and_sampling_follows_the_distribution() {
        let probs = [0.1, 0.6, 0.3];
        let opts = SamplingOptions {
            top_k: 1,
            ..SamplingOptions::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        assert_eq!(sample_from(&probs, &opts, &mut rng), 1);
        let all = SamplingOptions { top_k: 0, ..opts };
        let mut counts = [0usize; 3];
        for _ in 0..20_000 {
            counts[sample_from(&probs, &all, &mut rng) as usize] += 1;
        }
        let freq = counts[1] as f64 / 20_000.0;
        assert!((freq - 0.6).abs() < 0.02, "{counts:?}");
        let negative = SamplingOptions {
            temperature: -1.0,
            ..opts
        };
        assert!(negative
            .validate()
            .unwrap_err()
            .to_string()
            .contains("temperature"));
    }

    /// Without top-k or top-p nothing is sorted (the weights are taken in id order); the shaped
    /// distribution is the one of the sorted path (top-k = every token), and draws follow it.
    #[test]
    fn keeping_every_token_shapes_and_samples_as_the_sorted_path() {
        let probs = [0.05, 0.0, 0.4, 0.25, 0.3, 0.0];
        for temperature in [1.0, 0.7, 1.6] {
            let plain = SamplingOptions {
                temperature,
                ..SamplingOptions::default()
            };
            let sorted = SamplingOptions {
                top_k: probs.len(),
                ..plain
            };
            assert!(plain.keeps_every_token() && !sorted.keeps_every_token());
            let mut sampler = Sampler::default();
            let (mut a, mut b) = (probs, probs);
            sampler.shape(&mut a, &plain);
            sampler.shape(&mut b, &sorted);
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (x - y).abs() < 1e-12,
                    "temperature {temperature}: {a:?} vs {b:?}"
                );
            }
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let mut counts = [0usize; 6];
            for _ in 0..40_000 {
                counts[sampler.sample(&probs, &plain, &mut rng) as usize] += 1;
            }
            for (c, p) in counts.iter().zip(&a) {
                let freq = *c as f64 / 40_000.0;
                assert!(
                    (freq - p).abs() < 0.01,
                    "temperature {temperature}: {counts:?}"
                );
            }
        }
        let mut zeros = [0.0; 3];
        Sampler::default().shape(&mut zeros, &SamplingOptions::default());
        assert_eq!(zeros, [0.0; 3]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(
            sample_from(&zeros, &SamplingOptions::default(), &mut rng),
            0
        );
    }

    /// 256 byte tokens, then `<s>` and `</s>`, as lmlab's bytes tokenizer.
    struct ByteTokens(crate::Vocab);

    impl ByteTokens {
        fn new() -> ByteTokens {
            let mut tokens: Vec<String> = (0..256).map(|b| format!("<0x{b:02X}>")).collect();
            tokens.extend(["<s>".to_string(), "</s>".to_string()]);
            ByteTokens(crate::Vocab::new(tokens))
        }
    }

    impl crate::Tokenizer for ByteTokens {
        fn kind(&self) -> &str {
            "bytes"
        }
        fn vocab(&self) -> &crate::Vocab {
            &self.0
        }
        fn specials(&self) -> crate::Specials {
            crate::Specials {
                bos: 256,
                eos: 257,
                unk: None,
            }
        }
        fn encode_into(&self, text: &str, out: &mut Vec<TokenId>) -> usize {
            out.extend(text.bytes().map(TokenId::from));
            0
        }
        fn decode(&self, ids: &[TokenId]) -> String {
            String::from_utf8_lossy(&self.decode_bytes(ids)).into_owned()
        }
        fn decode_bytes(&self, ids: &[TokenId]) -> Vec<u8> {
            ids.iter()
                .filter_map(|&id| match id {
                    257 => Some(b'\n'),
                    id => u8::try_from(id).ok(),
                })
                .collect()
        }
        fn to_json(&self) -> serde_json::Value {
            serde_json::json!({"kind": "bytes"})
        }
    }

    /// A byte model that gives every byte and `</s>` the same probability, whatever the context.
    struct UniformBytes(ByteTokens);

    impl LanguageModel for UniformBytes {
        fn kind(&self) -> &str {
            "uniform"
        }
        fn describe(&self) -> String {
            "uniform bytes".into()
        }
        fn tokenizer(&self) -> &dyn crate::Tokenizer {
            &self.0
        }
        fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
            vec![-(257f64).ln(); tokens.len()]
        }
        fn next_distribution(&self, _context: &[TokenId]) -> Vec<f64> {
            let mut probs = vec![1.0 / 257.0; 258];
            probs[256] = 0.0;
            probs
        }
        fn parameter_count(&self) -> u64 {
            0
        }
    }

    #[test]
    fn printable_utf8_tail_tells_incomplete_from_invalid_and_controls() {
        assert_eq!(printable_utf8_tail(b"plain\ttext\n"), Some(0));
        assert_eq!(printable_utf8_tail("h\u{e9}".as_bytes()), Some(0));
        assert_eq!(printable_utf8_tail(&[b'h', 0xC3]), Some(1));
        assert_eq!(printable_utf8_tail(&[0xE2, 0x82]), Some(2));
        assert_eq!(printable_utf8_tail(&[0x17]), None, "ETB is a control");
        assert_eq!(printable_utf8_tail(b"\r"), None);
        assert_eq!(printable_utf8_tail(&[0xC2, 0x85]), None, "C1 control");
        assert_eq!(printable_utf8_tail(&[0x80]), None, "lone continuation");
        assert_eq!(printable_utf8_tail(&[0xC3, b'a']), None);
        assert_eq!(printable_utf8_tail(&[0xFF]), None);
    }

    #[test]
    fn byte_models_sample_printable_utf8_unless_raw_bytes_is_asked() {
        let model = UniformBytes(ByteTokens::new());
        let tokenizer = model.tokenizer();
        for seed in 0..20 {
            let options = SamplingOptions {
                seed,
                max_tokens: 200,
                stop_at_eos: false,
                ..SamplingOptions::default()
            };
            let ids = generate(&model, &[], &options).unwrap();
            let bytes = tokenizer.decode_bytes(&ids);
            let text = std::str::from_utf8(&bytes).expect("valid UTF-8");
            assert!(
                text.chars()
                    .all(|c| !c.is_control() || c == '\n' || c == '\t'),
                "{text:?}"
            );
            assert!(!ids.is_empty());
        }
        // Uniform over all bytes, the raw stream is almost surely broken.
        let raw = SamplingOptions {
            max_tokens: 200,
            stop_at_eos: false,
            raw_bytes: true,
            ..SamplingOptions::default()
        };
        let bytes = tokenizer.decode_bytes(&generate(&model, &[], &raw).unwrap());
        assert!(printable_utf8_tail(&bytes).is_none());
    }

    #[test]
    fn guard_follows_a_pending_character() {
        let tokens = ByteTokens::new();
        let mut guard = TextGuard::new(&tokens);
        assert!(guard.allows(b'a' as TokenId) && guard.allows(257) && !guard.allows(0x17));
        assert!(!guard.allows(0x80) && guard.allows(0xE2));
        guard.push(0xE2);
        assert!(!guard.at_boundary());
        assert!(!guard.allows(b'a' as TokenId) && !guard.allows(257) && guard.allows(0x82));
        guard.push(0x82);
        guard.push(0xAC);
        assert!(guard.at_boundary() && guard.allows(b'a' as TokenId));
    }

    #[test]
    fn greedy_takes_the_most_likely_token_and_samples_follow_their_seeds() {
        let probs = [0.2, 0.4, 0.4, 0.0];
        let greedy = SamplingOptions {
            temperature: 0.0,
            ..SamplingOptions::default()
        };
        greedy.validate().unwrap();
        for seed in 0..5 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            assert_eq!(
                sample_from(&probs, &greedy, &mut rng),
                1,
                "ties to the lower id"
            );
        }
        let model = UniformBytes(ByteTokens::new());
        let options = SamplingOptions {
            seed: 9,
            max_tokens: 30,
            stop_at_eos: false,
            ..SamplingOptions::default()
        };
        let many = generate_samples(&model, &[], &options, 3).unwrap();
        assert_eq!(many.len(), 3);
        assert_eq!(many[0], generate(&model, &[], &options).unwrap());
        let third = SamplingOptions {
            seed: 11,
            ..options
        };
        assert_eq!(many[2], generate(&model, &[], &third).unwrap());
        assert_ne!(many[0], many[1]);
    }
}
