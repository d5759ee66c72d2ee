//! Two models' probability files over the same token stream, compared: the differences in bits per
//! byte, log-likelihood per token and perplexity (B − A) with 95% percentile intervals and two-sided
//! p-values from a seeded paired bootstrap over sequences, and where the difference comes from (the
//! tokens and contexts with the largest total log-probability gain each way, and the gain by token
//! frequency band).

use lmlab_core::probs::{check_same_stream, is_end_token, ProbRow, ProbsFile};
use lmlab_core::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How to compare.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// Bootstrap resamples (at least 1).
    pub resamples: usize,
    /// Seed of the resampling (ChaCha8): the same seed gives the same numbers.
    pub seed: u64,
    /// How many tokens (and contexts) to list each way.
    pub top: usize,
    /// Length of the contexts to list (preceding tokens in the same sequence); `None`: no contexts.
    pub context: Option<usize>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            resamples: 10_000,
            seed: 0,
            top: 10,
            context: None,
        }
    }
}

/// One model's file, scored over the rows both files share.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Side {
    /// The file.
    pub path: PathBuf,
    /// The model description from its header.
    pub model: String,
    /// Sum of the log-probabilities of the compared rows (nats).
    pub log_likelihood: f64,
    /// Mean log-probability per token (nats).
    pub log_likelihood_per_token: f64,
    /// Per-token perplexity.
    pub perplexity: f64,
    /// Bits per byte, when the byte count is known (see [`CompareReport::bits_per_byte`]).
    pub bits_per_byte: Option<f64>,
}

/// A difference B − A with its 95% bootstrap interval and two-sided p-value.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Delta {
    /// B − A on the whole stream.
    pub value: f64,
    /// 2.5th percentile of the resampled differences.
    pub ci_low: f64,
    /// 97.5th percentile of the resampled differences.
    pub ci_high: f64,
    /// Two-sided p-value for "no difference": twice the smaller share of resamples on either side
    /// of 0 (each count plus one over resamples plus one), at most 1.
    pub p_value: f64,
}

/// The total and mean gain (B's log-probability − A's, nats) of one token or context.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Contribution {
    /// The token (escaped, as in A's file) or the context (its tokens joined by spaces; `<s>` marks
    /// the start of a sequence when fewer tokens precede).
    pub key: String,
    /// Occurrences in the stream.
    pub count: usize,
    /// Sum of the gains (positive: B better).
    pub total_gain: f64,
    /// Mean gain per occurrence.
    pub mean_gain: f64,
}

/// The largest contributions each way.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TopGains {
    /// Largest positive total gains first (where B does better).
    pub toward_b: Vec<Contribution>,
    /// Largest negative total gains first (where A does better).
    pub toward_a: Vec<Contribution>,
}

/// The gain over the tokens whose frequency in the stream lies in one band.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FrequencyBand {
    /// The band, e.g. "2-10" (occurrences of a token in the compared stream).
    pub band: String,
    /// Distinct tokens in the band.
    pub types: usize,
    /// Occurrences of those tokens.
    pub tokens: usize,
    /// Sum of their gains (nats; positive: B better).
    pub total_gain: f64,
    /// Mean gain per occurrence (0 when the band is empty).
    pub mean_gain: f64,
}

/// What `lmlab compare` reports. Every difference is B − A.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CompareReport {
    /// The first file.
    pub a: Side,
    /// The second file.
    pub b: Side,
    /// Tokens compared.
    pub tokens: usize,
    /// Sequences the bootstrap resamples (see [`sequence_spans`]).
    pub sequences: usize,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// Bootstrap seed.
    pub seed: u64,
    /// Δ bits per byte (negative: B better), when the byte count is known.
    pub bits_per_byte: Option<Delta>,
    /// Why Δ bits per byte is unavailable, when it is.
    pub bits_per_byte_unavailable: Option<String>,
    /// Δ mean log-probability per token, nats (positive: B better).
    pub log_likelihood_per_token: Delta,
    /// Δ per-token perplexity (negative: B better).
    pub perplexity: Delta,
    /// Tokens with the largest total gain each way.
    pub tokens_by_gain: TopGains,
    /// Contexts of `context_length` tokens with the largest total gain each way.
    pub contexts_by_gain: Option<TopGains>,
    /// Length of the listed contexts.
    pub context_length: Option<usize>,
    /// The gain by token frequency band.
    pub frequency_bands: Vec<FrequencyBand>,
    /// What the alignment left out, one line each (empty when nothing was).
    pub notes: Vec<String>,
}

/// Compares two probability files of the same token stream (checked as for ensembles: the error
/// names the first row that differs). An imported file may lack the first token; the other's first
/// row is then left out and [`CompareReport::notes`] says so.
pub fn compare(
    (a_path, a): (&Path, &ProbsFile),
    (b_path, b): (&Path, &ProbsFile),
    options: &CompareOptions,
) -> Result<CompareReport> {
    if options.resamples == 0 {
        return Err(Error::invalid("--resamples must be at least 1"));
    }
    let skips = check_same_stream(&[(a_path, a), (b_path, b)])?;
    let (a_rows, b_rows) = (&a.rows[skips[0]..], &b.rows[skips[1]..]);
    if a_rows.is_empty() {
        return Err(Error::invalid(
            "the files have no rows in common to compare",
        ));
    }
    let gains: Vec<f64> = a_rows
        .iter()
        .zip(b_rows)
        .map(|(x, y)| y.logp - x.logp)
        .collect();
    let spans = sequence_spans(a_rows);
    let units = unit_sums(a_rows, &gains, &spans);
    let bytes = byte_count(a, b, &skips);
    let known_bytes = bytes.as_ref().ok().copied();
    let resampled = bootstrap(&units, options);
    let tokens = a_rows.len();
    // 0 − x, not −x: no difference prints as 0, not -0.
    let to_bpb =
        |delta_ll: f64, bytes: u64| (0.0 - delta_ll) * tokens as f64 / (LN_2 * bytes as f64);
    let ll_delta = delta(per_token_delta(&units.total()), &resampled.ll);
    Ok(CompareReport {
        a: side(a_path, a, a_rows, known_bytes),
        b: side(b_path, b, b_rows, known_bytes),
        tokens,
        sequences: spans.len(),
        resamples: options.resamples,
        seed: options.seed,
        bits_per_byte: known_bytes.map(|n| map_delta(&ll_delta, |d| to_bpb(d, n))),
        bits_per_byte_unavailable: bytes.err(),
        perplexity: delta(perplexity_delta(&units.total()), &resampled.ppl),
        log_likelihood_per_token: ll_delta,
        tokens_by_gain: top_gains(by_key(&gains, |i| a_rows[i].token.clone()), options.top),
        contexts_by_gain: options.context.map(|n| {
            let keys = context_keys(a_rows, &spans, n);
            top_gains(by_key(&gains, |i| keys[i].clone()), options.top)
        }),
        context_length: options.context,
        frequency_bands: frequency_bands(a_rows, &gains),
        notes: alignment_notes(&[(a_path, skips[0]), (b_path, skips[1])]),
    })
}

const LN_2: f64 = std::f64::consts::LN_2;

/// The rows of each sequence the bootstrap resamples, as index ranges: a sequence ends where the
/// `seq` column changes or after an end token (`</s>`, `<eos>`), so that an imported file, which
/// records its whole text as one sequence, is resampled by sentence too.
pub fn sequence_spans(rows: &[ProbRow]) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0;
    for i in 1..=rows.len() {
        let ends =
            i == rows.len() || rows[i].seq != rows[i - 1].seq || is_end_token(&rows[i - 1].token);
        if ends {
            spans.push(start..i);
            start = i;
        }
    }
    spans
}

/// Per-sequence sums: tokens, A's log-likelihood and the gain (B − A), each summed in row order so
/// that identical files give gains of exactly 0.
#[derive(Clone, Copy, Default, Debug)]
struct UnitSum {
    tokens: f64,
    a_log_likelihood: f64,
    gain: f64,
}

impl UnitSum {
    fn add(&mut self, other: &UnitSum) {
        self.tokens += other.tokens;
        self.a_log_likelihood += other.a_log_likelihood;
        self.gain += other.gain;
    }
}

struct Units(Vec<UnitSum>);

impl Units {
    /// The sums over all sequences, in order.
    fn total(&self) -> UnitSum {
        let mut total = UnitSum::default();
        self.0.iter().for_each(|u| total.add(u));
        total
    }
}

fn unit_sums(rows: &[ProbRow], gains: &[f64], spans: &[std::ops::Range<usize>]) -> Units {
    Units(
        spans
            .iter()
            .map(|span| UnitSum {
                tokens: span.len() as f64,
                a_log_likelihood: rows[span.clone()].iter().map(|r| r.logp).sum(),
                gain: gains[span.clone()].iter().sum(),
            })
            .collect(),
    )
}

/// Δ mean log-probability per token (B − A).
fn per_token_delta(s: &UnitSum) -> f64 {
    s.gain / s.tokens
}

/// Δ perplexity (B − A): exactly 0 when the gain is 0.
fn perplexity_delta(s: &UnitSum) -> f64 {
    let a = (-s.a_log_likelihood / s.tokens).exp();
    let b = (-(s.a_log_likelihood + s.gain) / s.tokens).exp();
    b - a
}

/// The resampled differences, one per resample.
struct Resampled {
    ll: Vec<f64>,
    ppl: Vec<f64>,
}

/// The paired bootstrap: each resample draws as many sequence indices as there are sequences, with
/// replacement (ChaCha8 seeded with `options.seed`), and sums their rows in both files.
fn bootstrap(units: &Units, options: &CompareOptions) -> Resampled {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let n = units.0.len();
    let (mut ll, mut ppl) = (Vec::with_capacity(options.resamples), Vec::new());
    for _ in 0..options.resamples {
        let mut s = UnitSum::default();
        for _ in 0..n {
            s.add(&units.0[rng.gen_range(0..n)]);
        }
        ll.push(per_token_delta(&s));
        ppl.push(perplexity_delta(&s));
    }
    Resampled { ll, ppl }
}

/// The difference with its 95% percentile interval and two-sided p-value from `resampled`.
fn delta(value: f64, resampled: &[f64]) -> Delta {
    let mut sorted = resampled.to_vec();
    sorted.sort_by(f64::total_cmp);
    let r = sorted.len();
    let low = ((r as f64 * 0.025).floor() as usize).min(r - 1);
    let high = ((r as f64 * 0.975).ceil() as usize).clamp(1, r) - 1;
    let at_most_zero = sorted.iter().filter(|&&d| d <= 0.0).count();
    let at_least_zero = sorted.iter().filter(|&&d| d >= 0.0).count();
    let tail = (at_most_zero.min(at_least_zero) + 1) as f64 / (r + 1) as f64;
    Delta {
        value,
        ci_low: sorted[low],
        ci_high: sorted[high],
        p_value: (2.0 * tail).min(1.0),
    }
}

/// `d` with its value and interval mapped through `f` (which may reverse the order), same p-value.
fn map_delta(d: &Delta, f: impl Fn(f64) -> f64) -> Delta {
    let (x, y) = (f(d.ci_low), f(d.ci_high));
    Delta {
        value: f(d.value),
        ci_low: x.min(y),
        ci_high: x.max(y),
        p_value: d.p_value,
    }
}

/// The byte count of the compared text, or why it is unknown. Bytes per sequence are not in the
/// files, so a resample's bytes are taken in proportion to its tokens: Δ bits per byte is then
/// −Δ log-likelihood per token × tokens / (ln 2 × bytes), interval included.
fn byte_count(a: &ProbsFile, b: &ProbsFile, skips: &[usize]) -> std::result::Result<u64, String> {
    if skips.iter().any(|&s| s > 0) {
        return Err(
            "rows were left out to align the files, and the byte count covers the whole text"
                .into(),
        );
    }
    a.header.bytes.or(b.header.bytes).ok_or_else(|| {
        "neither file's header records the byte count (imported files do not)".into()
    })
}

fn side(path: &Path, file: &ProbsFile, rows: &[ProbRow], bytes: Option<u64>) -> Side {
    let log_likelihood: f64 = rows.iter().map(|r| r.logp).sum();
    let per_token = log_likelihood / rows.len() as f64;
    Side {
        path: path.to_path_buf(),
        model: file.header.model.clone(),
        log_likelihood,
        log_likelihood_per_token: per_token,
        perplexity: (-per_token).exp(),
        bits_per_byte: bytes.map(|n| -log_likelihood / (LN_2 * n as f64)),
    }
}

/// Occurrences and total gain per key (the key of row `i` is `key(i)`).
fn by_key(gains: &[f64], key: impl Fn(usize) -> String) -> HashMap<String, (usize, f64)> {
    let mut sums: HashMap<String, (usize, f64)> = HashMap::new();
    for (i, &gain) in gains.iter().enumerate() {
        let entry = sums.entry(key(i)).or_default();
        entry.0 += 1;
        entry.1 += gain;
    }
    sums
}

/// The `top` largest total gains each way, ties broken by key (the same order every run).
fn top_gains(sums: HashMap<String, (usize, f64)>, top: usize) -> TopGains {
    let mut all: Vec<Contribution> = sums
        .into_iter()
        .map(|(key, (count, total_gain))| Contribution {
            key,
            count,
            total_gain,
            mean_gain: total_gain / count as f64,
        })
        .collect();
    all.sort_by(|x, y| {
        y.total_gain
            .total_cmp(&x.total_gain)
            .then_with(|| x.key.cmp(&y.key))
    });
    let toward_b = all
        .iter()
        .filter(|c| c.total_gain > 0.0)
        .take(top)
        .cloned()
        .collect();
    let toward_a = all
        .iter()
        .rev()
        .filter(|c| c.total_gain < 0.0)
        .take(top)
        .cloned()
        .collect();
    TopGains { toward_b, toward_a }
}

/// For each row, the `n` tokens before it in its sequence joined by spaces, `<s>` first when fewer
/// than `n` precede.
fn context_keys(rows: &[ProbRow], spans: &[std::ops::Range<usize>], n: usize) -> Vec<String> {
    let mut keys = Vec::with_capacity(rows.len());
    for span in spans {
        for i in span.clone() {
            let from = i.saturating_sub(n).max(span.start);
            let mut words: Vec<&str> = Vec::with_capacity(n + 1);
            if i - from < n {
                words.push("<s>");
            }
            words.extend(rows[from..i].iter().map(|r| r.token.as_str()));
            keys.push(words.join(" "));
        }
    }
    keys
}

/// Frequency bands by a token's occurrences in the stream: lower bound and name.
const BANDS: [(usize, &str); 5] = [
    (1, "1"),
    (2, "2-10"),
    (11, "11-100"),
    (101, "101-1000"),
    (1001, ">1000"),
];

/// The gain summed over the tokens of each frequency band.
fn frequency_bands(rows: &[ProbRow], gains: &[f64]) -> Vec<FrequencyBand> {
    let sums = by_key(gains, |i| rows[i].token.clone());
    let mut bands: Vec<FrequencyBand> = BANDS
        .iter()
        .map(|&(_, name)| FrequencyBand {
            band: name.into(),
            types: 0,
            tokens: 0,
            total_gain: 0.0,
            mean_gain: 0.0,
        })
        .collect();
    let mut sorted: Vec<_> = sums.into_iter().collect();
    sorted.sort_by(|x, y| x.0.cmp(&y.0));
    for (_, (count, total)) in sorted {
        let band = &mut bands[BANDS
            .iter()
            .rposition(|&(low, _)| count >= low)
            .unwrap_or(0)];
        band.types += 1;
        band.tokens += count;
        band.total_gain += total;
    }
    for band in &mut bands {
        if band.tokens > 0 {
            band.mean_gain = band.total_gain / band.tokens as f64;
        }
    }
    bands
}

fn alignment_notes(skips: &[(&Path, usize)]) -> Vec<String> {
    skips
        .iter()
        .filter(|(_, s)| *s > 0)
        .map(|(path, s)| {
            format!(
                "left out the first {s} row(s) of {}, which the other file does not score",
                path.display()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlab_core::probs::ProbsHeader;

    /// A file of `sequences` sequences of `len` tokens each ("w<k>" tokens and `</s>`), with log-
    /// probabilities from `logp(row index)`.
    fn file(sequences: u32, len: u32, logp: impl Fn(usize) -> f64) -> ProbsFile {
        let mut rows = Vec::new();
        for seq in 0..sequences {
            for pos in 0..len {
                let token = if pos + 1 == len {
                    "</s>".to_string()
                } else {
                    format!("w{}", (seq * 7 + pos * pos) % 13)
                };
                let i = rows.len();
                rows.push(ProbRow {
                    seq,
                    pos,
                    token,
                    logp: logp(i),
                });
            }
        }
        ProbsFile {
            header: ProbsHeader {
                model: "m".into(),
                tokenizer: "t".into(),
                corpus_sha256: "c".into(),
                bytes: Some(u64::from(sequences * len) * 4),
                words: None,
            },
            rows,
        }
    }

    fn base(i: usize) -> f64 {
        -1.0 - (i % 5) as f64 * 0.3
    }

    fn run(a: &ProbsFile, b: &ProbsFile, options: &CompareOptions) -> CompareReport {
        compare((Path::new("A"), a), (Path::new("B"), b), options).unwrap()
    }

    fn quick() -> CompareOptions {
        CompareOptions {
            resamples: 2000,
            seed: 7,
            top: 3,
            context: Some(2),
        }
    }

    #[test]
    fn compare_identical_files_gives_exactly_zero() {
        let a = file(40, 6, base);
        let r = run(&a, &a, &quick());
        for d in [
            &r.log_likelihood_per_token,
            &r.perplexity,
            r.bits_per_byte.as_ref().unwrap(),
        ] {
            assert_eq!(
                (d.value, d.ci_low, d.ci_high, d.p_value),
                (0.0, 0.0, 0.0, 1.0),
                "{d:?}"
            );
        }
        assert!(r.tokens_by_gain.toward_a.is_empty() && r.tokens_by_gain.toward_b.is_empty());
        assert_eq!(r.sequences, 40);
    }

    #[test]
    fn compare_shifted_file_finds_the_shift() {
        let a = file(40, 6, base);
        let b = file(40, 6, |i| base(i) - 0.1);
        let r = run(&a, &b, &quick());
        let d = &r.log_likelihood_per_token;
        assert!((d.value + 0.1).abs() < 1e-12, "{d:?}");
        assert!(d.ci_low > -0.1 - 1e-9 && d.ci_high < -0.1 + 1e-9, "{d:?}");
        assert!(d.p_value < 0.001, "{d:?}");
        let bpb = r.bits_per_byte.as_ref().unwrap();
        // 240 tokens over 960 bytes: 0.1 nats a token is 0.1 / 4 / ln 2 bits a byte.
        assert!((bpb.value - 0.1 / 4.0 / LN_2).abs() < 1e-12, "{bpb:?}");
        assert!(bpb.ci_low > 0.0 && r.perplexity.ci_low > 0.0);
        assert!((r.b.perplexity / r.a.perplexity - 0.1f64.exp()).abs() < 1e-12);
        // Every token loses 0.1 a time: the most frequent lose the most in total.
        let worst = &r.tokens_by_gain.toward_a[0];
        assert_eq!((worst.key.as_str(), worst.count), ("</s>", 40));
        assert!((worst.mean_gain + 0.1).abs() < 1e-12);
        let bands: usize = r.frequency_bands.iter().map(|b| b.tokens).sum();
        assert_eq!(bands, 240);
    }

    #[test]
    fn compare_with_noise_is_deterministic_per_seed() {
        let a = file(50, 5, base);
        let noise = |i: usize| ((i * 2_654_435_761) % 1000) as f64 / 1000.0 - 0.5;
        let b = file(50, 5, |i| (base(i) + noise(i)).min(0.0));
        let json = |options: &CompareOptions| serde_json::to_string(&run(&a, &b, options)).unwrap();
        assert_eq!(json(&quick()), json(&quick()));
        let other = CompareOptions { seed: 8, ..quick() };
        assert_ne!(json(&quick()), json(&other));
        let r = run(&a, &b, &quick());
        let d = &r.log_likelihood_per_token;
        assert!(d.ci_low <= d.value && d.value <= d.ci_high, "{d:?}");
        assert!(d.p_value > 0.0 && d.p_value <= 1.0);
    }

    #[test]
    fn compare_refuses_different_streams_and_zero_resamples() {
        let a = file(3, 4, base);
        let mut b = a.clone();
        b.rows[5].token = "zebra".into();
        let msg = compare((Path::new("A"), &a), (Path::new("B"), &b), &quick())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("differ at row 6") && msg.contains("'zebra'"),
            "{msg}"
        );
        let none = CompareOptions {
            resamples: 0,
            ..quick()
        };
        let msg = compare((Path::new("A"), &a), (Path::new("A"), &a), &none)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("at least 1"), "{msg}");
    }

    #[test]
    fn compare_contexts_and_bands_sum_the_gains() {
        let a = file(4, 3, |_| -1.0);
        // B gains 0.5 on every second-position token.
        let b = file(4, 3, |i| if i % 3 == 1 { -0.5 } else { -1.0 });
        let r = run(&a, &b, &quick());
        let contexts = r.contexts_by_gain.unwrap();
        assert!(contexts.toward_a.is_empty());
        // The token after "<s> w<k>" gains; each of the 4 contexts once.
        assert_eq!(contexts.toward_b.len(), 3);
        assert!(contexts
            .toward_b
            .iter()
            .all(|c| c.key.starts_with("<s> w") && c.count == 1));
        let total: f64 = r.frequency_bands.iter().map(|b| b.total_gain).sum();
        assert!((total - 2.0).abs() < 1e-12);
        assert_eq!(r.frequency_bands[2].band, "11-100");
    }

    #[test]
    fn compare_sequences_split_at_end_tokens_for_imported_files() {
        let mut a = file(5, 3, base);
        a.rows.iter_mut().for_each(|r| r.seq = 0);
        assert_eq!(sequence_spans(&a.rows).len(), 5);
    }

    #[test]
    fn compare_own_file_with_imported_one_lacking_the_first_token() {
        let own = file(10, 4, base);
        // As imported from Herel & Mikolov: one sequence, `<eos>` ends, the first token unscored.
        let mut imported = own.clone();
        imported.rows.remove(0);
        for (i, row) in imported.rows.iter_mut().enumerate() {
            (row.seq, row.pos, row.logp) = (0, i as u32, row.logp - 0.2);
            if row.token == "</s>" {
                row.token = "<eos>".into();
            }
        }
        imported.header.tokenizer = lmlab_core::probs::EXTERNAL_TOKENIZER.into();
        imported.header.bytes = None;
        let r = run(&own, &imported, &quick());
        assert_eq!((r.tokens, r.sequences), (39, 10));
        assert!((r.log_likelihood_per_token.value + 0.2).abs() < 1e-12);
        assert!(r.notes[0].contains("first 1 row(s) of A"), "{:?}", r.notes);
        assert!(r.bits_per_byte.is_none());
        let why = r.bits_per_byte_unavailable.unwrap();
        assert!(why.contains("rows were left out"), "{why}");
    }
}
