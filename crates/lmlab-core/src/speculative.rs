//! Speculative sampling (Leviathan et al. 2023; Chen et al. 2023): a cheap draft model proposes up
//! to K tokens one at a time, the target scores all of them in one call
//! ([`Stepper::score_proposed`](crate::Stepper::score_proposed)), and an acceptance rule keeps the
//! output distributed exactly as sampling from the target alone.
//!
//! Both distributions are first shaped by the same [`SamplingOptions`]: the printable-text mask
//! (unless `raw_bytes`), then temperature, top-k and top-p ([`Sampler::shape`]), each on its own
//! model's distribution; the rule then runs on the shaped p and q. Draft token x ~ q is accepted when
//! u < p(x)/q(x) (u uniform in [0, 1)); the first rejected one is replaced by a draw from
//! norm(max(0, p − q)) and the round ends; after K accepted tokens one bonus token comes from the
//! target's next distribution. With temperature 0 both shaped distributions are one-hot, so the
//! output is the target's greedy output token for token.

use crate::error::{Error, Result};
use crate::model::LanguageModel;
use crate::sampling::{draw, Guard, Sampler, SamplingOptions};
use crate::vocab::TokenId;
use crate::Stepper;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Draft tokens per target call when the caller does not say.
pub const DEFAULT_DRAFT_TOKENS: usize = 4;

/// The most draft tokens per target call accepted: past this the chance that all are accepted is
/// negligible for any real pair, and the target's scoring buffers grow with K.
pub const MAX_DRAFT_TOKENS: usize = 64;

/// What one speculative generation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct SpeculativeStats {
    /// Tokens emitted (before an incomplete final character is dropped; end token included when
    /// it ended the text).
    pub emitted: usize,
    /// Calls of the target's [`Stepper::score_proposed`](crate::Stepper::score_proposed).
    pub target_calls: usize,
    /// Draft tokens proposed.
    pub proposed: usize,
    /// Draft tokens accepted.
    pub accepted: usize,
}

impl SpeculativeStats {
    /// Accepted over proposed draft tokens (0 when none was proposed).
    pub fn acceptance_rate(&self) -> f64 {
        ratio(self.accepted, self.proposed)
    }

    /// Tokens emitted per target call: 1 for target-only sampling, up to K + 1.
    pub fn tokens_per_target_call(&self) -> f64 {
        ratio(self.emitted, self.target_calls)
    }

    /// Target calls per emitted token.
    pub fn target_calls_per_token(&self) -> f64 {
        ratio(self.target_calls, self.emitted)
    }

    /// Adds another generation's counts.
    pub fn add(&mut self, other: &SpeculativeStats) {
        self.emitted += other.emitted;
        self.target_calls += other.target_calls;
        self.proposed += other.proposed;
        self.accepted += other.accepted;
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Refuses a draft whose tokenizer is not the target's (compared by fingerprint).
pub fn check_pair(target: &dyn LanguageModel, draft: &dyn LanguageModel) -> Result<()> {
    let (t, d) = (target.tokenizer(), draft.tokenizer());
    if t.fingerprint() != d.fingerprint() || t.vocab().len() != d.vocab().len() {
        return Err(Error::Mismatch(format!(
            "the draft model's tokenizer ({} kind, {} tokens, fingerprint {}) is not the target's \
             ({} kind, {} tokens, fingerprint {}): speculative decoding needs one tokenizer for both",
            d.kind(),
            d.vocab().len(),
            d.fingerprint(),
            t.kind(),
            t.vocab().len(),
            t.fingerprint()
        )));
    }
    Ok(())
}

/// Checks the number of draft tokens per target call: 1 to [`MAX_DRAFT_TOKENS`].
pub fn check_draft_tokens(k: usize) -> Result<()> {
    if k == 0 || k > MAX_DRAFT_TOKENS {
        return Err(Error::invalid(format!(
            "draft tokens must lie in 1..={MAX_DRAFT_TOKENS}, got {k}"
        )));
    }
    Ok(())
}

/// The buffers of one generation, allocated once.
struct Buffers {
    /// The draft's shaped distributions, one row per proposed position.
    q: Vec<f64>,
    /// The target's distributions, one row per proposed position and one after them.
    p: Vec<f64>,
    proposed: Vec<TokenId>,
    residual: Vec<f64>,
}

/// [`crate::sampling::generate`] with `draft` proposing up to `draft_tokens` tokens per call of
/// `target`: the same output distribution (the same tokens under greedy decoding), fewer target
/// calls. The models must share a tokenizer ([`check_pair`]). Returns the new ids (as `generate`)
/// and what the rounds did.
pub fn generate_speculative(
    target: &dyn LanguageModel,
    draft: &dyn LanguageModel,
    prompt: &[TokenId],
    options: &SamplingOptions,
    draft_tokens: usize,
) -> Result<(Vec<TokenId>, SpeculativeStats)> {
    options.validate()?;
    check_draft_tokens(draft_tokens)?;
    check_pair(target, draft)?;
    let eos = target.tokenizer().specials().eos;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut guard = Guard::new(target, prompt, options);
    let (mut t, mut d) = (target.stepper(), draft.stepper());
    for s in [&mut t, &mut d] {
        s.reserve(prompt.len() + options.max_tokens + draft_tokens + 2);
        prompt.iter().for_each(|&id| s.push(id));
    }
    let v = t.vocab_len();
    let mut b = Buffers {
        q: vec![0.0; draft_tokens * v],
        p: vec![0.0; (draft_tokens + 1) * v],
        proposed: Vec::with_capacity(draft_tokens),
        residual: vec![0.0; v],
    };
    let mut sampler = Sampler::default();
    let mut stats = SpeculativeStats::default();
    let mut generated = Vec::with_capacity(options.max_tokens + draft_tokens + 1);
    while generated.len() < options.max_tokens {
        let base = prompt.len() + generated.len();
        let k = draft_tokens.min(options.max_tokens - generated.len() - 1);
        let (mark, whole) = (guard.mark(), guard.whole());
        propose(
            d.as_mut(),
            k,
            &mut guard,
            &mut sampler,
            options,
            &mut rng,
            &mut b,
            eos,
        );
        guard.restore(mark, whole);
        t.score_proposed(&b.proposed, &mut b.p[..(b.proposed.len() + 1) * v]);
        stats.target_calls += 1;
        stats.proposed += b.proposed.len();
        let round = accept(&mut guard, &mut sampler, options, &mut rng, &mut b, v);
        stats.accepted += round.accepted;
        let mut ended = false;
        for &id in b.proposed[..round.accepted]
            .iter()
            .chain(round.next.as_ref())
        {
            stats.emitted += 1;
            if id == eos && options.stop_at_eos {
                ended = true;
                break;
            }
            generated.push(id);
            guard.push(id, generated.len());
        }
        // Without a next token the target gives no allowed token any probability: stop, as
        // `generate` does.
        let Some(next) = round.next.filter(|_| !ended) else {
            break;
        };
        for s in [&mut t, &mut d] {
            s.truncate(base + round.accepted);
            s.push(next);
        }
    }
    generated.truncate(options.max_tokens);
    guard.finish(&mut generated);
    Ok((generated, stats))
}

/// The draft proposes up to `k` tokens into `b.proposed`, each drawn from its shaped distribution
/// (kept in `b.q`), the guard following them; it stops early at the end token (when generation
/// stops there) or when it gives no allowed token any probability.
#[allow(clippy::too_many_arguments)]
fn propose(
    draft: &mut dyn Stepper<'_>,
    k: usize,
    guard: &mut Guard,
    sampler: &mut Sampler,
    options: &SamplingOptions,
    rng: &mut ChaCha8Rng,
    b: &mut Buffers,
    eos: TokenId,
) {
    let v = draft.vocab_len();
    b.proposed.clear();
    for i in 0..k {
        let q = &mut b.q[i * v..(i + 1) * v];
        draft.distribution_into(q);
        if !guard.mask(q) {
            break;
        }
        sampler.shape(q, options);
        let x = draw(q, 1.0, rng);
        b.proposed.push(x);
        if x == eos && options.stop_at_eos {
            break;
        }
        draft.push(x);
        guard.push(x, 0);
    }
}

/// The outcome of one round's acceptance rule.
struct Round {
    /// Draft tokens accepted (a prefix of the proposal).
    accepted: usize,
    /// The token after them: the replacement of the first rejected draft token, or the bonus token;
    /// `None` when the target gives no allowed token any probability there.
    next: Option<TokenId>,
}

/// Runs the acceptance rule over `b.proposed` against the target's rows in `b.p`.
fn accept(
    guard: &mut Guard,
    sampler: &mut Sampler,
    options: &SamplingOptions,
    rng: &mut ChaCha8Rng,
    b: &mut Buffers,
    v: usize,
) -> Round {
    let (mark, whole) = (guard.mark(), guard.whole());
    let mut round = Round {
        accepted: 0,
        next: None,
    };
    for (i, &x) in b.proposed.iter().enumerate() {
        let p = &mut b.p[i * v..(i + 1) * v];
        if !guard.mask(p) {
            guard.restore(mark, whole);
            return round;
        }
        sampler.shape(p, options);
        let q = &b.q[i * v..(i + 1) * v];
        let u: f64 = rng.gen();
        if u * q[x as usize] < p[x as usize] {
            round.accepted += 1;
            guard.push(x, 0);
            continue;
        }
        let mut total = 0.0;
        for ((r, &pi), &qi) in b.residual.iter_mut().zip(p.iter()).zip(q) {
            *r = (pi - qi).max(0.0);
            total += *r;
        }
        round.next = Some(if total > 0.0 {
            draw(&b.residual, total, rng)
        } else {
            draw(p, 1.0, rng)
        });
        guard.restore(mark, whole);
        return round;
    }
    let i = b.proposed.len();
    let p = &mut b.p[i * v..(i + 1) * v];
    if guard.mask(p) {
        sampler.shape(p, options);
        round.next = Some(draw(p, 1.0, rng));
    }
    guard.restore(mark, whole);
    round
}

/// `count` samples continuing `prompt` with [`generate_speculative`]: sample `i` uses seed
/// `options.seed + i` (wrapping), as [`crate::sampling::generate_samples`]. Returns the samples and
/// the counts of all of them together.
pub fn generate_samples_speculative(
    target: &dyn LanguageModel,
    draft: &dyn LanguageModel,
    prompt: &[TokenId],
    options: &SamplingOptions,
    draft_tokens: usize,
    count: usize,
) -> Result<(Vec<Vec<TokenId>>, SpeculativeStats)> {
    let mut total = SpeculativeStats::default();
    let mut samples = Vec::with_capacity(count);
    for i in 0..count as u64 {
        let one = SamplingOptions {
            seed: options.seed.wrapping_add(i),
            ..*options
        };
        let (ids, stats) = generate_speculative(target, draft, prompt, &one, draft_tokens)?;
        total.add(&stats);
        samples.push(ids);
    }
    Ok((samples, total))
}
