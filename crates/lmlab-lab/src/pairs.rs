//! Minimal pairs (BLiMP and any jsonl of `sentence_good` / `sentence_bad`): a pair is right when the
//! model gives the good sentence the higher total log-probability, each sentence scored as one
//! sequence from `<s>` (end token included unless asked otherwise) — the BLiMP paper's "simple LM
//! method". Ties count as wrong. Accuracy is reported overall, per `linguistics_term` and per
//! paradigm (`UID`), beside the paper's published accuracies when they are found.

use lmlab_core::corpus::{Sequence, SequenceMode};
use lmlab_core::evaluate::{batch_len, score_sequence, score_sequences};
use lmlab_core::model::{encode_sequence, LanguageModel, TokenSequence};
use lmlab_core::TokenId;
use lmlab_core::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The folder beside BLiMP's jsonl files that holds the paper's accuracies.
pub const PUBLISHED_DIR: &str = "published";
/// The paper's per-paradigm model accuracies (one JSON object a line).
pub const MODELS_SUMMARY: &str = "models_summary.jsonl";
/// The paper's per-paradigm human agreement (CSV with a `total_mean` column).
pub const HUMAN_SUMMARY: &str = "human_validation_summary.csv";

/// One minimal pair as read from a jsonl line.
#[derive(Clone, Debug, PartialEq)]
pub struct MinimalPair {
    /// The acceptable sentence.
    pub good: String,
    /// The unacceptable sentence.
    pub bad: String,
    /// The paradigm: the line's `UID`, else the file's name without `.jsonl`.
    pub paradigm: String,
    /// The line's `linguistics_term`, when it has one.
    pub term: Option<String>,
}

/// The fields of a pairs line that lmlab reads; others are ignored.
#[derive(Deserialize)]
struct PairLine {
    sentence_good: String,
    sentence_bad: String,
    #[serde(rename = "UID")]
    uid: Option<String>,
    linguistics_term: Option<String>,
}

/// The jsonl files named by `inputs`: a file as it is, a directory as its `*.jsonl` files sorted by
/// name (not recursively). A directory without any is an error.
pub fn pair_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            files.push(input.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(input)
            .map_err(|e| Error::io(input, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        if found.is_empty() {
            return Err(Error::bad_file(input, "directory holds no *.jsonl files"));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Reads the pairs of every file of [`pair_files`], in order. Blank lines are skipped; invalid
/// JSON, a missing or non-string sentence field, or a file without pairs is an error naming the
/// file (and the line).
pub fn read_pairs(inputs: &[PathBuf]) -> Result<Vec<MinimalPair>> {
    let mut pairs = Vec::new();
    for file in pair_files(inputs)? {
        pairs.extend(read_pair_file(&file)?);
    }
    Ok(pairs)
}

/// Reads one jsonl file of pairs.
fn read_pair_file(path: &Path) -> Result<Vec<MinimalPair>> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => Error::bad_file(path, "not UTF-8 text"),
        _ => Error::io(path, e),
    })?;
    if text.is_empty() {
        return Err(Error::EmptyFile(path.to_path_buf()));
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: PairLine = serde_json::from_str(line).map_err(|e| {
            Error::bad_file(path, format!("line {}: {}", index + 1, json_reason(&e)))
        })?;
        pairs.push(MinimalPair {
            good: parsed.sentence_good,
            bad: parsed.sentence_bad,
            paradigm: parsed.uid.unwrap_or_else(|| stem.clone()),
            term: parsed.linguistics_term,
        });
    }
    if pairs.is_empty() {
        return Err(Error::bad_file(path, "no pairs (only blank lines)"));
    }
    Ok(pairs)
}

/// serde_json's message without its "at line 1 column N" (the line is the file's, given apart),
/// with the column kept when it helps.
fn json_reason(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let reason = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(reason, _)| reason);
    match error.classify() {
        serde_json::error::Category::Data => reason.to_string(),
        _ => format!("invalid JSON at column {}: {reason}", error.column()),
    }
}

/// How the sentences of a pair are scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairOptions {
    /// Score the end token `</s>` after each sentence (the paper's method; default true).
    pub end_token: bool,
}

impl Default for PairOptions {
    fn default() -> Self {
        PairOptions { end_token: true }
    }
}

/// The scores of one pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairScore {
    /// Total natural-log probability of the good sentence.
    pub good: f64,
    /// Total natural-log probability of the bad sentence.
    pub bad: f64,
    /// Words of the two sentences the tokenizer could not represent (scored as `<unk>`).
    pub oov: usize,
    /// Tokens scored over the two sentences.
    pub tokens: usize,
}

impl PairScore {
    /// The good sentence scored strictly higher (a tie is wrong).
    pub fn correct(&self) -> bool {
        self.good > self.bad
    }

    /// Both sentences scored the same.
    pub fn tie(&self) -> bool {
        self.good == self.bad
    }
}

/// Total log-probability of one sentence as one sequence (end token as `options` says) and its OOVs.
pub fn score_sentence(
    model: &dyn LanguageModel,
    sentence: &str,
    options: PairOptions,
) -> (f64, usize) {
    let encoded = encode_sentence(model, sentence, options);
    (exact_sum(&score_sequence(model, &encoded.ids)), encoded.oov)
}

/// One sentence as one sequence from `<s>`, with the end token or without as `options` says.
fn encode_sentence(
    model: &dyn LanguageModel,
    sentence: &str,
    options: PairOptions,
) -> TokenSequence {
    let mut encoded = encode_sequence(
        model.tokenizer(),
        &Sequence { text: sentence },
        SequenceMode::Line,
    );
    if !options.end_token {
        encoded.ids.pop();
    }
    encoded
}

/// The correctly rounded sum of `values` (Shewchuk's algorithm, as Python's `math.fsum`): it does
/// not depend on their order, so two sentences whose tokens score the same multiset of
/// log-probabilities (a reordering backed off to the same n-grams) tie exactly, as they should,
/// instead of differing in the last bit by summation order.
pub fn exact_sum(values: &[f64]) -> f64 {
    // Non-overlapping partial sums, increasing in magnitude, whose exact sum is the total so far.
    let mut partials: Vec<f64> = Vec::new();
    for &value in values {
        let mut x = value;
        let mut kept = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        partials.truncate(kept);
        partials.push(x);
    }
    round_partials(&partials)
}

/// Adds Shewchuk partials from the largest down, rounding half-even once at the end (CPython's
/// `math.fsum` final step).
fn round_partials(partials: &[f64]) -> f64 {
    let Some((&top, rest)) = partials.split_last() else {
        return 0.0;
    };
    let (mut hi, mut lo) = (top, 0.0);
    let mut n = rest.len();
    while n > 0 {
        n -= 1;
        let (x, y) = (hi, partials[n]);
        hi = x + y;
        lo = y - (hi - x);
        if lo != 0.0 {
            break;
        }
    }
    // A half-way case: the next partial decides which way to round.
    if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        if y == x - hi {
            hi = x;
        }
    }
    hi
}

/// Scores every pair, in parallel over chunks of pairs, each chunk's sentences through the model's
/// batched scoring where it has one ([`LanguageModel::log_probs_batch`]); the scores are in the order
/// of `pairs` and the same on every run.
pub fn score_pairs(
    model: &dyn LanguageModel,
    pairs: &[MinimalPair],
    options: PairOptions,
) -> Vec<PairScore> {
    pairs
        .par_chunks(batch_len(2 * pairs.len()).div_ceil(2))
        .flat_map_iter(|chunk| {
            let encoded: Vec<TokenSequence> = chunk
                .iter()
                .flat_map(|pair| [&pair.good, &pair.bad])
                .map(|sentence| encode_sentence(model, sentence, options))
                .collect();
            let ids: Vec<&[TokenId]> = encoded.iter().map(|e| e.ids.as_slice()).collect();
            let totals: Vec<f64> = score_sequences(model, &ids)
                .iter()
                .map(|log_probs| exact_sum(log_probs))
                .collect();
            (0..chunk.len())
                .map(|k| PairScore {
                    good: totals[2 * k],
                    bad: totals[2 * k + 1],
                    oov: encoded[2 * k].oov + encoded[2 * k + 1].oov,
                    tokens: encoded[2 * k].ids.len() + encoded[2 * k + 1].ids.len(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Counts over a group of pairs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Pairs in the group.
    pub pairs: u64,
    /// Pairs whose good sentence scored strictly higher.
    pub correct: u64,
    /// Pairs whose sentences scored the same (counted wrong).
    pub ties: u64,
    /// OOV words over both sentences of every pair.
    pub oov_words: u64,
    /// Pairs with at least one OOV word.
    pub pairs_with_oov: u64,
    /// Tokens scored over both sentences of every pair.
    pub tokens: u64,
}

impl Tally {
    /// Adds one scored pair.
    fn add(&mut self, score: &PairScore) {
        self.pairs += 1;
        self.correct += u64::from(score.correct());
        self.ties += u64::from(score.tie());
        self.oov_words += score.oov as u64;
        self.pairs_with_oov += u64::from(score.oov > 0);
        self.tokens += score.tokens as u64;
    }

    /// Correct pairs over pairs (0 for none).
    pub fn accuracy(&self) -> f64 {
        if self.pairs == 0 {
            0.0
        } else {
            self.correct as f64 / self.pairs as f64
        }
    }
}

/// The paper's accuracies (fractions) for one paradigm or the mean over a group's paradigms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Published {
    /// 5-gram trained on Gigaword.
    pub ngram: f64,
    /// LSTM.
    pub lstm: f64,
    /// Transformer-XL.
    pub txl: f64,
    /// GPT-2.
    pub gpt2: f64,
    /// Human agreement, when the human summary has the paradigm.
    pub human: Option<f64>,
}

/// The paper's per-paradigm accuracies by `UID`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PublishedTable {
    /// Where the table was read from.
    pub source: PathBuf,
    /// Accuracies by paradigm.
    pub paradigms: BTreeMap<String, Published>,
}

/// One row of the models summary.
#[derive(Deserialize)]
struct ModelsRow {
    #[serde(rename = "UID")]
    uid: String,
    ngram: f64,
    lstm: f64,
    txl: f64,
    gpt2: f64,
}

impl PublishedTable {
    /// Reads `dir`'s models summary (required) and human summary (optional); the summary's `overall`
    /// rows are left out (group figures are recomputed over the paradigms present).
    pub fn read(dir: &Path) -> Result<PublishedTable> {
        let models = dir.join(MODELS_SUMMARY);
        let text = std::fs::read_to_string(&models).map_err(|e| Error::io(&models, e))?;
        let mut paradigms = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let row: ModelsRow = serde_json::from_str(line).map_err(|e| {
                Error::bad_file(&models, format!("line {}: {}", index + 1, json_reason(&e)))
            })?;
            if row.uid != "overall" {
                let published = Published {
                    ngram: row.ngram,
                    lstm: row.lstm,
                    txl: row.txl,
                    gpt2: row.gpt2,
                    human: None,
                };
                paradigms.insert(row.uid, published);
            }
        }
        let human = dir.join(HUMAN_SUMMARY);
        if human.is_file() {
            for (uid, mean) in read_human(&human)? {
                if let Some(p) = paradigms.get_mut(&uid) {
                    p.human = Some(mean);
                }
            }
        }
        Ok(PublishedTable {
            source: dir.to_path_buf(),
            paradigms,
        })
    }

    /// The table beside the inputs: `published/` in the first input directory (or a file's
    /// directory) that has a models summary.
    pub fn find(inputs: &[PathBuf]) -> Option<PathBuf> {
        inputs
            .iter()
            .filter_map(|input| {
                if input.is_dir() {
                    Some(input.as_path())
                } else {
                    input.parent()
                }
            })
            .map(|dir| dir.join(PUBLISHED_DIR))
            .find(|dir| dir.join(MODELS_SUMMARY).is_file())
    }

    /// The mean of the published accuracies over `paradigms`, when the table has every one of
    /// them (human: when it has every human figure too).
    fn mean_over<'a>(&self, paradigms: impl Iterator<Item = &'a str>) -> Option<Published> {
        let rows: Vec<&Published> = paradigms
            .map(|p| self.paradigms.get(p))
            .collect::<Option<_>>()?;
        if rows.is_empty() {
            return None;
        }
        let n = rows.len() as f64;
        let mean = |f: fn(&Published) -> f64| rows.iter().map(|r| f(r)).sum::<f64>() / n;
        let human: Option<Vec<f64>> = rows.iter().map(|r| r.human).collect();
        Some(Published {
            ngram: mean(|r| r.ngram),
            lstm: mean(|r| r.lstm),
            txl: mean(|r| r.txl),
            gpt2: mean(|r| r.gpt2),
            human: human.map(|h| h.iter().sum::<f64>() / n),
        })
    }
}

/// Reads the human summary's `Condition` and `total_mean` columns (a plain CSV: quoted names, no
/// commas inside fields).
fn read_human(path: &Path) -> Result<Vec<(String, f64)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines();
    let fields = |line: &str| -> Vec<String> {
        line.split(',')
            .map(|f| f.trim().trim_matches('"').to_string())
            .collect()
    };
    let header = fields(lines.next().unwrap_or_default());
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::bad_file(path, format!("no '{name}' column")))
    };
    let (uid_at, mean_at) = (column("Condition")?, column("total_mean")?);
    let mut rows = Vec::new();
    for (index, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row = fields(line);
        let mean = row.get(mean_at).and_then(|m| m.parse::<f64>().ok());
        match (row.get(uid_at), mean) {
            (Some(uid), Some(mean)) => rows.push((uid.clone(), mean)),
            _ => {
                let reason = format!("line {}: no condition or total_mean number", index + 2);
                return Err(Error::bad_file(path, reason));
            }
        }
    }
    Ok(rows)
}

/// Accuracy of one group of pairs, with the paper's figures when known.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupRow {
    /// The group: `overall`, a `linguistics_term` or a paradigm.
    pub name: String,
    /// Counts.
    #[serde(flatten)]
    pub tally: Tally,
    /// Correct pairs over pairs.
    pub accuracy: f64,
    /// The paper's accuracies: the paradigm's, or the mean over the group's paradigms.
    pub published: Option<Published>,
}

/// Minimal-pair accuracy overall, per term and per paradigm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairsReport {
    /// Whether each sentence's end token was scored.
    pub end_token: bool,
    /// Where the published accuracies come from, when found.
    pub published_source: Option<String>,
    /// Every pair.
    pub overall: GroupRow,
    /// Per `linguistics_term`, sorted by name (pairs without a term are in none).
    pub terms: Vec<GroupRow>,
    /// Per paradigm, sorted by name.
    pub paradigms: Vec<GroupRow>,
}

/// Tallies `scores` (in the order of `pairs`) into a report, with `published` beside each group.
pub fn report(
    pairs: &[MinimalPair],
    scores: &[PairScore],
    options: PairOptions,
    published: Option<&PublishedTable>,
) -> PairsReport {
    let mut overall = Tally::default();
    // Each group's tally and the paradigms it holds (for the published means).
    let mut terms: BTreeMap<&str, (Tally, Vec<&str>)> = BTreeMap::new();
    let mut paradigms: BTreeMap<&str, Tally> = BTreeMap::new();
    for (pair, score) in pairs.iter().zip(scores) {
        overall.add(score);
        paradigms.entry(&pair.paradigm).or_default().add(score);
        if let Some(term) = &pair.term {
            let (tally, members) = terms.entry(term).or_default();
            tally.add(score);
            if !members.contains(&pair.paradigm.as_str()) {
                members.push(&pair.paradigm);
            }
        }
    }
    let row = |name: &str, tally: Tally, members: &[&str]| GroupRow {
        name: name.to_string(),
        tally,
        accuracy: tally.accuracy(),
        published: published.and_then(|t| t.mean_over(members.iter().copied())),
    };
    let all: Vec<&str> = paradigms.keys().copied().collect();
    PairsReport {
        end_token: options.end_token,
        published_source: published.map(|t| t.source.display().to_string()),
        overall: row("overall", overall, &all),
        terms: terms
            .iter()
            .map(|(name, (tally, members))| row(name, *tally, members))
            .collect(),
        paradigms: paradigms
            .iter()
            .map(|(name, tally)| row(name, *tally, &[name]))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(paradigm: &str, term: &str) -> MinimalPair {
        MinimalPair {
            good: "a".into(),
            bad: "b".into(),
            paradigm: paradigm.into(),
            term: Some(term.into()),
        }
    }

    fn score(good: f64, bad: f64, oov: usize) -> PairScore {
        PairScore {
            good,
            bad,
            oov,
            tokens: 0,
        }
    }

    #[test]
    fn exact_sum_is_correctly_rounded_in_any_order() {
        let values = [1e16, 1.0, -1e16, 0.1, 0.2, 0.3];
        let mut reversed = values;
        reversed.reverse();
        assert_eq!(exact_sum(&values), 1.6);
        assert_eq!(exact_sum(&reversed), 1.6);
        assert_eq!(exact_sum(&[]), 0.0);
        let logs = [-std::f64::consts::LN_10, -7.1, -0.000123, -13.000000000001];
        let rotated = [logs[2], logs[3], logs[0], logs[1]];
        assert_eq!(exact_sum(&logs), exact_sum(&rotated));
    }

    #[test]
    fn ties_count_wrong_and_groups_are_sorted() {
        let pairs = [pair("p2", "t"), pair("p1", "t"), pair("p1", "t")];
        let scores = [
            score(-1.0, -2.0, 0),
            score(-3.0, -3.0, 2),
            score(-5.0, -4.0, 0),
        ];
        let report = report(&pairs, &scores, PairOptions::default(), None);
        assert_eq!(report.overall.tally.correct, 1);
        assert_eq!(report.overall.tally.ties, 1);
        assert_eq!(report.overall.tally.oov_words, 2);
        assert_eq!(report.overall.tally.pairs_with_oov, 1);
        let names: Vec<&str> = report.paradigms.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["p1", "p2"]);
        assert_eq!(report.paradigms[0].accuracy, 0.0);
        assert_eq!(report.terms[0].tally.pairs, 3);
    }

    #[test]
    fn published_group_figures_are_means_over_present_paradigms() {
        let mut table = PublishedTable::default();
        for (uid, acc) in [("p1", 0.5), ("p2", 1.0)] {
            let p = Published {
                ngram: acc,
                lstm: acc,
                txl: acc,
                gpt2: acc,
                human: Some(acc),
            };
            table.paradigms.insert(uid.to_string(), p);
        }
        let pairs = [pair("p1", "t"), pair("p2", "t"), pair("p3", "u")];
        let scores = [score(0.0, -1.0, 0); 3];
        let report = report(&pairs, &scores, PairOptions::default(), Some(&table));
        assert_eq!(report.terms[0].published.unwrap().ngram, 0.75);
        assert_eq!(report.terms[1].published, None, "p3 is not in the table");
        assert_eq!(report.overall.published, None);
    }
}
