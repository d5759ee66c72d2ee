//! Speculative sampling against sampling from the target alone, on small hand-made model pairs:
//! token for token under greedy decoding, in distribution (chi-square) when sampling, and the mean
//! tokens per target call against the closed form.

use lmlab_core::sampling::{generate, Sampler, SamplingOptions};
use lmlab_core::speculative::{generate_speculative, MAX_DRAFT_TOKENS};
use lmlab_core::{LanguageModel, Specials, TokenId, Tokenizer, Vocab};

/// `<s>`, `</s>` and four words.
struct Words(Vocab, &'static str);

fn words(name: &'static str) -> Words {
    Words(
        Vocab::new(
            ["<s>", "</s>", "a", "b", "c", "d"]
                .map(String::from)
                .to_vec(),
        ),
        name,
    )
}

impl Tokenizer for Words {
    fn kind(&self) -> &str {
        "words"
    }
    fn vocab(&self) -> &Vocab {
        &self.0
    }
    fn specials(&self) -> Specials {
        Specials {
            bos: 0,
            eos: 1,
            unk: None,
        }
    }
    fn encode_into(&self, text: &str, out: &mut Vec<TokenId>) -> usize {
        out.extend(text.split_whitespace().filter_map(|w| self.0.id(w)));
        0
    }
    fn decode(&self, ids: &[TokenId]) -> String {
        let words: Vec<&str> = ids.iter().map(|&id| self.0.token(id)).collect();
        words.join(" ")
    }
    fn decode_bytes(&self, ids: &[TokenId]) -> Vec<u8> {
        self.decode(ids).into_bytes()
    }
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"kind": "words", "name": self.1})
    }
}

const V: usize = 6;

/// A bigram model from a table: row `last` (the previous token, `<s>` at the start) is the
/// next-token distribution; with `context_free`, row 0 whatever came before.
struct Table {
    tokenizer: Words,
    rows: Vec<[f64; V]>,
    context_free: bool,
}

/// Rows of pseudo-random weights from `seed` (zero for `<s>`), normalized.
fn table(seed: u64, context_free: bool) -> Table {
    let mut state = seed;
    let rows = (0..V)
        .map(|_| {
            let mut row = [0.0; V];
            for p in row.iter_mut().skip(1) {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *p = 0.05 + (state >> 40) as f64 / (1u64 << 24) as f64;
            }
            let total: f64 = row.iter().sum();
            row.map(|p| p / total)
        })
        .collect();
    Table {
        tokenizer: words("pair"),
        rows,
        context_free,
    }
}

impl Table {
    fn row(&self, context: &[TokenId]) -> &[f64; V] {
        let last = if self.context_free {
            0
        } else {
            context.last().copied().unwrap_or(0) as usize
        };
        &self.rows[last]
    }
}

impl LanguageModel for Table {
    fn kind(&self) -> &str {
        "table"
    }
    fn describe(&self) -> String {
        "bigram table".into()
    }
    fn tokenizer(&self) -> &dyn Tokenizer {
        &self.tokenizer
    }
    fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
        (0..tokens.len())
            .map(|i| self.row(&tokens[..i])[tokens[i] as usize].ln())
            .collect()
    }
    fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
        self.row(context).to_vec()
    }
    fn parameter_count(&self) -> u64 {
        (V * V) as u64
    }
}

fn options(seed: u64, max_tokens: usize) -> SamplingOptions {
    SamplingOptions {
        seed,
        max_tokens,
        stop_at_eos: false,
        raw_bytes: true,
        ..SamplingOptions::default()
    }
}

#[test]
fn greedy_speculative_output_is_the_targets_greedy_output() {
    let target = table(1, false);
    for draft in [table(2, false), table(1, false), table(3, true)] {
        for k in [1, 2, 5, 8] {
            for prompt in [&[][..], &[2, 3], &[5]] {
                for stop_at_eos in [false, true] {
                    let o = SamplingOptions {
                        temperature: 0.0,
                        stop_at_eos,
                        ..options(0, 40)
                    };
                    let alone = generate(&target, prompt, &o).unwrap();
                    let (fast, stats) =
                        generate_speculative(&target, &draft, prompt, &o, k).unwrap();
                    assert_eq!(fast, alone, "K {k} prompt {prompt:?}");
                    assert!(stats.target_calls <= stats.emitted.max(1));
                }
            }
        }
    }
}

/// The regularized upper incomplete gamma function Q(a, x) (series below a + 1, continued fraction
/// above, as in Numerical Recipes §6.2): the chi-square survival function is Q(dof/2, stat/2).
fn gamma_q(a: f64, x: f64) -> f64 {
    let ln_gamma_a = ln_gamma(a);
    if x < a + 1.0 {
        let (mut sum, mut term, mut n) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        1.0 - sum * (-x + a * x.ln() - ln_gamma_a).exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (-x + a * x.ln() - ln_gamma_a).exp() * h
    }
}

/// ln Γ(x), Lanczos approximation (g = 7, 9 terms).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Chi-square p-value of `counts` (first three tokens, id triples as `a * V² + b * V + c`) against
/// the target's exact probabilities of each triple under `o`'s shaping; cells expecting fewer than
/// 5 draws are pooled.
fn p_value(target: &Table, counts: &[u64], o: &SamplingOptions) -> f64 {
    let n: u64 = counts.iter().sum();
    let mut sampler = Sampler::default();
    let shaped = |context: &[TokenId], sampler: &mut Sampler| {
        let mut row = target.next_distribution(context);
        sampler.shape(&mut row, o);
        row
    };
    let (mut stat, mut cells, mut pooled_expected, mut pooled_count) = (0.0, 0, 0.0, 0.0);
    let first = shaped(&[], &mut sampler);
    for a in 0..V {
        let second = shaped(&[a as TokenId], &mut sampler);
        for b in 0..V {
            let third = shaped(&[a as TokenId, b as TokenId], &mut sampler);
            for (c, &pc) in third.iter().enumerate() {
                let expected = n as f64 * first[a] * second[b] * pc;
                let count = counts[a * V * V + b * V + c] as f64;
                if expected == 0.0 {
                    assert_eq!(count, 0.0, "a triple the target never gives was drawn");
                } else if expected < 5.0 {
                    pooled_expected += expected;
                    pooled_count += count;
                } else {
                    stat += (count - expected).powi(2) / expected;
                    cells += 1;
                }
            }
        }
    }
    if pooled_expected > 0.0 {
        stat += (pooled_count - pooled_expected).powi(2) / pooled_expected;
        cells += 1;
    }
    gamma_q((cells - 1) as f64 / 2.0, stat / 2.0)
}

#[test]
fn the_chi_square_helper_gives_known_p_values() {
    // χ² = 3.84 with 1 degree of freedom and 18.31 with 10 sit at p = 0.05.
    assert!((gamma_q(0.5, 3.841_458_8 / 2.0) - 0.05).abs() < 1e-6);
    assert!((gamma_q(5.0, 18.307_038 / 2.0) - 0.05).abs() < 1e-6);
}

#[test]
fn the_first_three_tokens_follow_the_targets_distribution() {
    let target = table(11, false);
    let draft = table(12, false);
    let samples = 20_000;
    let shapes = [
        options(0, 3),
        SamplingOptions {
            temperature: 0.7,
            top_k: 4,
            ..options(0, 3)
        },
    ];
    for shape in shapes {
        let (mut fast, mut alone) = (vec![0u64; V * V * V], vec![0u64; V * V * V]);
        let mut proposed = 0;
        for seed in 0..samples {
            let o = SamplingOptions { seed, ..shape };
            let (ids, stats) = generate_speculative(&target, &draft, &[], &o, 2).unwrap();
            proposed += stats.proposed;
            fast[(ids[0] as usize * V + ids[1] as usize) * V + ids[2] as usize] += 1;
            let ids = generate(&target, &[], &o).unwrap();
            alone[(ids[0] as usize * V + ids[1] as usize) * V + ids[2] as usize] += 1;
        }
        assert!(proposed > 0);
        let (p_fast, p_alone) = (
            p_value(&target, &fast, &shape),
            p_value(&target, &alone, &shape),
        );
        assert!(p_fast > 0.01, "speculative: p = {p_fast}");
        assert!(p_alone > 0.01, "target alone: p = {p_alone}");
    }
}

#[test]
fn tokens_per_target_call_follow_the_closed_form() {
    // Context-free models: every position has the same acceptance rate α = Σ min(p, q).
    let target = table(21, true);
    let draft = table(22, true);
    let (p, q) = (&target.rows[0], &draft.rows[0]);
    let alpha: f64 = p.iter().zip(q).map(|(a, b)| a.min(*b)).sum();
    assert!(alpha > 0.5 && alpha < 0.98, "alpha {alpha}");
    for k in [1, 3, 6] {
        let mut total = lmlab_core::speculative::SpeculativeStats::default();
        for seed in 0..20 {
            let (_, stats) =
                generate_speculative(&target, &draft, &[], &options(seed, 2000), k).unwrap();
            total.add(&stats);
        }
        let expected = (1.0 - alpha.powi(k as i32 + 1)) / (1.0 - alpha);
        let measured = total.tokens_per_target_call();
        assert!(
            (measured / expected - 1.0).abs() < 0.05,
            "K {k}: measured {measured}, expected {expected} (α {alpha})"
        );
        if k == 1 {
            // One proposal per call: its acceptance rate is α itself.
            assert!((total.acceptance_rate() - alpha).abs() < 0.02);
        }
    }
}

#[test]
fn a_draft_equal_to_the_target_is_always_accepted() {
    let target = table(31, false);
    let draft = table(31, false);
    let (ids, stats) = generate_speculative(&target, &draft, &[2], &options(4, 100), 4).unwrap();
    assert_eq!(ids.len(), 100);
    assert_eq!(stats.accepted, stats.proposed);
    assert_eq!(stats.emitted, 100);
    assert_eq!(stats.target_calls, 20);
}

#[test]
fn bad_pairs_and_draft_lengths_are_refused_with_their_message() {
    let target = table(1, false);
    let mut other = table(1, false);
    other.tokenizer = words("another vocabulary");
    let err = generate_speculative(&target, &other, &[], &options(0, 5), 2)
        .unwrap_err()
        .to_string();
    assert!(err.contains("draft model's tokenizer"), "{err}");
    for k in [0, MAX_DRAFT_TOKENS + 1, usize::MAX] {
        let err = generate_speculative(&target, &target, &[], &options(0, 5), k)
            .unwrap_err()
            .to_string();
        assert!(err.contains("draft tokens must lie in 1..=64"), "{err}");
    }
}
