//! Pruning a finished back-off model (an lmlab model file or an ARPA import), as opposed to
//! [`crate::prune`], which leaves n-grams out while building.
//!
//! Two criteria choose the n-grams (orders ≥ 2; unigrams are never pruned) to drop:
//! - [`PruneCriterion::Entropy`]: Stolcke (1998), "Entropy-based pruning of backoff language
//!   models", with the semantics of SRILM's `ngram -prune`: for each n-gram hw, the relative change
//!   of the model's perplexity if hw alone were removed and h's backoff weight recomputed,
//!   `10^ΔH − 1` with `ΔH = −P(h) · [p(w|h) · (log p(w|h') + log γ'(h) − log p(w|h)) +
//!   (1 − Σ_v p(v|h)) · (log γ'(h) − log γ(h))]` (log10; the sum over the n-grams hv stored in
//!   the model; `h'` is h without its first word; `P(h)` the chain-rule probability of the
//!   history, `</s>` standing for a leading `<s>`). The n-gram is dropped when that change is
//!   below the threshold. Every n-gram of an order is judged against the unpruned model (as
//!   SRILM does), orders from the highest down.
//! - [`PruneCriterion::Counts`]: lmplz's `--prune` thresholds (one per order, unigrams 0, not
//!   decreasing, the last repeating) applied to the n-grams' raw counts in the training text,
//!   which a finished model does not store: they are counted again from the given sequences.
//!
//! Either way an n-gram that a kept longer n-gram needs (as its context or as its suffix, which
//! lookups walk through) is kept; kept n-grams keep their probabilities; then every backoff weight
//! is recomputed from the pruned model, contexts of the lowest order first, so that each
//! context's distribution sums to 1 again: `γ(h) = (1 − Σ_kept p(w|h)) / (1 − Σ_kept p(w|h'))`.
//! Unlike build-time pruning (`lmlab train ngram --prune`), nothing is re-estimated: the kept
//! n-grams' probabilities are the unpruned model's.
//!
//! Where the issue was silent: a finished model stores no counts, so `--count` needs the training
//! text (`--input`), cut into sequences as the model's provenance says (one per line for ARPA);
//! the output is an lmlab model file, or ARPA when its name contains `.arpa`. Only back-off
//! n-gram models are pruned: the GLM (skipped histories) has no back-off form, and pruning it is
//! future work. On PTB, entropy pruning of the MKN 5-gram loses to count pruning at equal size
//! (BENCHMARKS.md), as Chelba et al. (2010) found for Kneser-Ney models.

use crate::model::NgramModel;
use crate::table::{OrderTable, EMPTY};
use lmlab_core::corpus::read_text_file;
use lmlab_core::model::encode_corpus;
use lmlab_core::model_file::{is_model_file, ModelFile, Provenance};
use lmlab_core::{Error, LanguageModel, Result, SequenceMode, TokenId, LMLAB_VERSION};
use std::path::Path;

/// What decides which n-grams go.
#[derive(Clone, Debug, PartialEq)]
pub enum PruneCriterion {
    /// Drop an n-gram when removing it raises the model's perplexity by less than this relative
    /// amount (SRILM's `-prune`, e.g. 1e-8).
    Entropy(f64),
    /// Drop an n-gram of order k when its raw count in `sequences` is at most `thresholds[k-1]`
    /// (lmplz's `--prune`: e.g. `[0, 0, 1]` drops singleton trigrams and above).
    Counts {
        /// One threshold per order from the unigrams (see [`crate::prune`]).
        thresholds: Vec<u64>,
        /// The training sequences, in the model's token ids, each ending with its end token (as
        /// [`lmlab_core::model::encode_corpus`] makes them).
        sequences: Vec<Vec<TokenId>>,
    },
}

/// Parses an entropy-pruning threshold: a finite number ≥ 0 (0 prunes nothing).
pub fn parse_entropy_threshold(text: &str) -> Result<f64> {
    let value: f64 = text.trim().parse().map_err(|_| {
        Error::invalid(format!(
            "--entropy threshold '{text}' is not a number (a relative perplexity change such as 1e-8)"
        ))
    })?;
    if !value.is_finite() || value < 0.0 {
        return Err(Error::invalid(format!(
            "--entropy threshold {text} must be a finite number ≥ 0 (a relative perplexity change \
             such as 1e-8; 0 prunes nothing)"
        )));
    }
    Ok(value)
}

/// A copy of `model` without the n-grams `criterion` drops, backoff weights recomputed.
pub fn prune_model(model: NgramModel, criterion: &PruneCriterion) -> Result<NgramModel> {
    let kept = kept_ngrams(&model, criterion)?;
    let bows = recompute_backoffs(&model, &prefix_ids(&model), &kept);
    Ok(rebuild(model, &kept, &bows))
}

/// `kept[n][id]`: whether the n-gram `id` of `tables[n]` stays (false for empty slots).
fn kept_ngrams(model: &NgramModel, criterion: &PruneCriterion) -> Result<Vec<Vec<bool>>> {
    let order = model.order();
    let prefixes = prefix_ids(model);
    let mut kept: Vec<Vec<bool>> = model
        .tables
        .iter()
        .map(|t| t.entries().iter().map(|e| e.key != EMPTY).collect())
        .collect();
    let drop = match criterion {
        PruneCriterion::Entropy(threshold) => {
            if !threshold.is_finite() || *threshold < 0.0 {
                return Err(Error::invalid(format!(
                    "entropy pruning threshold {threshold} must be a finite number ≥ 0"
                )));
            }
            Decider::Entropy(*threshold)
        }
        PruneCriterion::Counts {
            thresholds,
            sequences,
        } => Decider::Counts {
            thresholds: crate::prune::thresholds(thresholds, order)?,
            counts: count_stored(model, sequences),
        },
    };
    // Highest order first: what a kept n-gram needs is known before its order is judged.
    for n in (1..order).rev() {
        let needed = needed_by(model, &prefixes, &kept, n);
        for (context, children) in children_by_context(&prefixes[n]) {
            let verdicts = drop.judge(model, n, context, &children);
            for (&child, prune) in children.iter().zip(verdicts) {
                if prune && !needed[child as usize] {
                    kept[n][child as usize] = false;
                }
            }
        }
    }
    Ok(kept)
}

/// The relative perplexity change (SRILM's "PPL-CHANGE") of removing the stored n-gram `words`
/// (text order, order ≥ 2) alone from `model`; `None` when it is not stored or its context's
/// backoff weight cannot be formed.
pub fn perplexity_change(model: &NgramModel, words: &[TokenId]) -> Option<f64> {
    if words.len() < 2 {
        return None;
    }
    let id = model.find_ngram(words)?;
    let context = model.find_ngram(&words[..words.len() - 1])?;
    let n = words.len() - 1;
    let prefixes = prefix_ids(model);
    let children: Vec<u32> = children_by_context(&prefixes[n])
        .find(|(c, _)| *c == context)
        .map(|(_, ch)| ch)?;
    let at = children.iter().position(|&c| c == id)?;
    entropy_changes(model, n, context, &children).map(|changes| changes[at])
}

/// How the n-grams of one context are judged.
enum Decider {
    Entropy(f64),
    Counts {
        thresholds: Vec<u64>,
        counts: Vec<Vec<u32>>,
    },
}

impl Decider {
    /// Whether each of `children` (ids in `tables[n]`, all with context `context` in
    /// `tables[n-1]`) would be dropped.
    fn judge(&self, model: &NgramModel, n: usize, context: u32, children: &[u32]) -> Vec<bool> {
        match self {
            Decider::Entropy(threshold) => match entropy_changes(model, n, context, children) {
                Some(changes) => changes
                    .iter()
                    .map(|&c| *threshold > 0.0 && c < *threshold)
                    .collect(),
                // SRILM leaves a context whose backoff weight cannot be formed alone.
                None => vec![false; children.len()],
            },
            Decider::Counts { thresholds, counts } => children
                .iter()
                .map(|&c| u64::from(counts[n][c as usize]) <= thresholds[n])
                .collect(),
        }
    }
}

/// Below this, a negative backoff numerator or denominator is rounding and counts as 0 (SRILM's
/// `Prob_Epsilon`).
const EPSILON: f64 = 3e-6;

/// The relative perplexity change of removing each of `children` (ids in `tables[n]`) of the
/// context `context` (an id in `tables[n-1]`), each alone; `None` when the context's backoff
/// numerator or denominator is out of range (an improper model).
fn entropy_changes(
    model: &NgramModel,
    n: usize,
    context: u32,
    children: &[u32],
) -> Option<Vec<f64>> {
    let history = model.ngram_words(n, context);
    let unpruned = View::unpruned(model);
    let (probs, backoff_probs) = unpruned.child_probs(n, &history, children);
    let (numerator, denominator) = backoff_terms(&probs, &backoff_probs)?;
    let bow = f64::from(model.tables[n - 1].bow(context));
    let history_prob = 10f64.powf(unpruned.history_log10_prob(&history));
    Some(
        probs
            .iter()
            .zip(&backoff_probs)
            .map(|(&p, &backoff)| {
                let new_bow = (numerator + 10f64.powf(p)).log10()
                    - (denominator + 10f64.powf(backoff)).log10();
                let delta = -history_prob
                    * (10f64.powf(p) * (backoff + new_bow - p) + numerator * (new_bow - bow));
                10f64.powf(delta) - 1.0
            })
            .collect(),
    )
}

/// `(1 − Σ 10^probs, 1 − Σ 10^backoff_probs)` with rounding below [`EPSILON`] cleared; `None`
/// when either is negative beyond rounding, or the denominator vanishes while the numerator
/// does not.
fn backoff_terms(probs: &[f64], backoff_probs: &[f64]) -> Option<(f64, f64)> {
    let clear = |x: f64| if x < 0.0 && x > -EPSILON { 0.0 } else { x };
    let numerator = clear(1.0 - probs.iter().map(|p| 10f64.powf(*p)).sum::<f64>());
    let denominator = clear(1.0 - backoff_probs.iter().map(|p| 10f64.powf(*p)).sum::<f64>());
    if numerator < 0.0 || denominator < 0.0 || (denominator == 0.0 && numerator > EPSILON) {
        return None;
    }
    Some((numerator, denominator))
}

/// The last word of the n-gram `id` of `tables[n]`.
fn last_word(model: &NgramModel, n: usize, id: u32) -> TokenId {
    let mut id = id;
    for level in (1..=n).rev() {
        id = (model.tables[level].entry(id).key >> 32) as u32;
    }
    id
}

/// `prefixes[n][id]`: the id in `tables[n-1]` of the context (all words but the last) of the
/// n-gram `id` of `tables[n]` (n ≥ 1; unigram contexts are token ids); `prefixes[0]` is empty.
fn prefix_ids(model: &NgramModel) -> Vec<Vec<u32>> {
    let mut prefixes: Vec<Vec<u32>> = vec![Vec::new()];
    for n in 1..model.order() {
        let table = &model.tables[n];
        let ids = table
            .entries()
            .iter()
            .map(|e| {
                if e.key == EMPTY {
                    return u32::MAX;
                }
                let (suffix, first) = ((e.key >> 32) as u32, e.key as u32);
                if n == 1 {
                    return first;
                }
                // The prefix of (first, suffix…) is first followed by the prefix of the suffix;
                // a stored n-gram's prefix is stored (ARPA and lmplz keep contexts).
                model.tables[n - 1]
                    .find(prefixes[n - 1][suffix as usize], first)
                    .unwrap_or(u32::MAX)
            })
            .collect();
        prefixes.push(ids);
    }
    prefixes
}

/// The stored n-grams of an order grouped by context: `(context id, child ids)`, contexts in id
/// order, children in id order.
fn children_by_context(prefixes: &[u32]) -> impl Iterator<Item = (u32, Vec<u32>)> + '_ {
    let mut pairs: Vec<(u32, u32)> = prefixes
        .iter()
        .enumerate()
        .filter(|(_, &p)| p != u32::MAX)
        .map(|(id, &p)| (p, id as u32))
        .collect();
    pairs.sort_unstable();
    let mut groups: Vec<(u32, Vec<u32>)> = Vec::new();
    for (context, child) in pairs {
        match groups.last_mut() {
            Some((c, children)) if *c == context => children.push(child),
            _ => groups.push((context, vec![child])),
        }
    }
    groups.into_iter()
}

/// Which n-grams of `tables[n]` a kept n-gram of `tables[n+1]` needs, as its context or suffix.
fn needed_by(model: &NgramModel, prefixes: &[Vec<u32>], kept: &[Vec<bool>], n: usize) -> Vec<bool> {
    let mut needed = vec![false; model.tables[n].entries().len()];
    if let Some(higher) = model.tables.get(n + 1) {
        for (id, entry) in higher.entries().iter().enumerate() {
            if kept[n + 1][id] {
                needed[(entry.key >> 32) as usize] = true;
                needed[prefixes[n + 1][id] as usize] = true;
            }
        }
    }
    needed
}

/// `counts[n][id]`: how often the n-gram `id` of `tables[n]` occurs in `sequences` (each read
/// after `<s>`), found as a query finds it.
fn count_stored(model: &NgramModel, sequences: &[Vec<TokenId>]) -> Vec<Vec<u32>> {
    let mut counts: Vec<Vec<u32>> = model
        .tables
        .iter()
        .map(|t| vec![0; t.entries().len()])
        .collect();
    let specials = model.tokenizer.specials();
    let vocab = model.tables[0].len() as TokenId;
    // Ids outside the vocabulary count as `<unk>` (or the last id), as queries score them.
    let clamp = |w: TokenId| {
        if w < vocab {
            w
        } else {
            specials.unk.unwrap_or(vocab - 1)
        }
    };
    let mut words = Vec::new();
    for sequence in sequences {
        words.clear();
        words.push(specials.bos);
        words.extend(sequence.iter().map(|&w| clamp(w)));
        for end in 1..words.len() {
            let mut id = words[end];
            for n in 1..model.order().min(end + 1) {
                match model.tables[n].find(id, words[end - n]) {
                    Some(found) => {
                        id = found;
                        counts[n][id as usize] = counts[n][id as usize].saturating_add(1);
                    }
                    None => break,
                }
            }
        }
    }
    counts
}

/// The back-off model as some n-grams are dropped and backoff weights replaced: the unpruned
/// model, or the pruned one as its backoffs are being recomputed.
struct View<'m> {
    model: &'m NgramModel,
    kept: Option<&'m [Vec<bool>]>,
    bows: Option<&'m [Vec<f32>]>,
}

impl<'m> View<'m> {
    fn unpruned(model: &'m NgramModel) -> View<'m> {
        View {
            model,
            kept: None,
            bows: None,
        }
    }

    fn stored(&self, n: usize, id: u32) -> bool {
        self.kept.is_none_or(|k| k[n][id as usize])
    }

    fn bow(&self, n: usize, id: u32) -> f64 {
        f64::from(match self.bows {
            Some(b) => b[n][id as usize],
            None => self.model.tables[n].bow(id),
        })
    }

    /// The id in `tables[n]` of the n-gram (suffix id `suffix`, first word `first`) if kept.
    fn find(&self, n: usize, suffix: u32, first: TokenId) -> Option<u32> {
        self.model.tables[n]
            .find(suffix, first)
            .filter(|&id| self.stored(n, id))
    }

    /// log10 p(word | context) (context in text order, all of it used up to N−1 words), by the
    /// backoff rule.
    fn log10_prob(&self, context: &[TokenId], word: TokenId) -> f64 {
        let context = &context[context.len().saturating_sub(self.model.order() - 1)..];
        let mut prob = f64::from(self.model.tables[0].prob(word));
        let mut id = word;
        let mut matched = 0;
        for (j, &w) in context.iter().rev().enumerate() {
            match self.find(j + 1, id, w) {
                Some(found) => {
                    id = found;
                    prob = f64::from(self.model.tables[j + 1].prob(found));
                    matched = j + 1;
                }
                None => break,
            }
        }
        // Backoffs of the context's suffixes longer than the match.
        let mut context_id = match context.last() {
            Some(&w) => w,
            None => return prob,
        };
        for length in 1..=context.len() {
            if length > 1 {
                match self.find(length - 1, context_id, context[context.len() - length]) {
                    Some(found) => context_id = found,
                    None => break,
                }
            }
            if length > matched {
                prob += self.bow(length - 1, context_id);
            }
        }
        prob
    }

    /// For `children` (ids in `tables[n]`) of the context `history`: their stored log10
    /// probabilities, and what the backoff rule gives their words after `history` without its
    /// first word.
    fn child_probs(&self, n: usize, history: &[TokenId], children: &[u32]) -> (Vec<f64>, Vec<f64>) {
        let table = &self.model.tables[n];
        let probs = children.iter().map(|&c| f64::from(table.prob(c))).collect();
        let backoff_probs = children
            .iter()
            .map(|&c| self.log10_prob(&history[1..], last_word(self.model, n, c)))
            .collect();
        (probs, backoff_probs)
    }

    /// log10 P(history) by the chain rule, a leading `<s>` scored as `</s>` (its marginal
    /// probability is that of a sentence end, as SRILM's `computeContextProb`).
    fn history_log10_prob(&self, history: &[TokenId]) -> f64 {
        let specials = self.model.tokenizer.specials();
        history
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                let w = if i == 0 && w == specials.bos {
                    specials.eos
                } else {
                    w
                };
                self.log10_prob(&history[..i], w)
            })
            .sum()
    }
}

/// Backoff weights of the pruned model, contexts of the lowest order first (a context's weight
/// uses the weights of the shorter contexts). `bows[n][id]` for every slot of `tables[n]`.
fn recompute_backoffs(
    model: &NgramModel,
    prefixes: &[Vec<u32>],
    kept: &[Vec<bool>],
) -> Vec<Vec<f32>> {
    let mut bows: Vec<Vec<f32>> = model
        .tables
        .iter()
        .map(|t| vec![0.0; t.entries().len()])
        .collect();
    for n in 1..model.order() {
        let kept_prefixes: Vec<u32> = prefixes[n]
            .iter()
            .enumerate()
            .map(|(id, &p)| if kept[n][id] { p } else { u32::MAX })
            .collect();
        let mut new = vec![0f32; model.tables[n - 1].entries().len()];
        {
            let view = View {
                model,
                kept: Some(kept),
                bows: Some(&bows),
            };
            for (context, children) in children_by_context(&kept_prefixes) {
                let history = model.ngram_words(n, context);
                let (probs, backoff_probs) = view.child_probs(n, &history, &children);
                new[context as usize] = match backoff_terms(&probs, &backoff_probs) {
                    Some((num, den)) if num > 0.0 && den > 0.0 => {
                        (num.log10() - den.log10()) as f32
                    }
                    Some(_) => 0.0,
                    // Improper context (the model's own probabilities sum past 1): keep its weight.
                    None => model.tables[n - 1].bow(context),
                };
            }
        }
        bows[n - 1] = new;
    }
    bows
}

/// The pruned model: kept n-grams with their probabilities and the new backoff weights, in fresh
/// hash tables (slot ids change, so keys are rewritten order by order).
fn rebuild(model: NgramModel, kept: &[Vec<bool>], bows: &[Vec<f32>]) -> NgramModel {
    let unigrams = &model.tables[0];
    let mut tables = vec![OrderTable::unigrams(
        unigrams
            .entries()
            .iter()
            .zip(&bows[0])
            .map(|(e, &b)| (e.prob, b)),
    )];
    // new_ids[id] for the order below: unigram ids are token ids.
    let mut new_ids: Vec<u32> = (0..unigrams.len() as u32).collect();
    for n in 1..model.order() {
        let old = &model.tables[n];
        let count = kept[n].iter().filter(|&&k| k).count();
        let mut table = OrderTable::hashed(count);
        let mut ids = vec![u32::MAX; old.entries().len()];
        for (id, entry) in old.entries().iter().enumerate() {
            if !kept[n][id] {
                continue;
            }
            let suffix = new_ids[(entry.key >> 32) as usize];
            let key = (u64::from(suffix) << 32) | (entry.key & 0xffff_ffff);
            ids[id] = table
                .insert(key, entry.prob, bows[n][id])
                .expect("distinct n-grams have distinct keys");
        }
        tables.push(table);
        new_ids = ids;
    }
    NgramModel::from_parts(
        model.tokenizer,
        tables,
        model.discounts,
        model.warnings,
        model.training_tokens,
    )
}

/// The pruning criterion as given for files: counts come from a training text.
#[derive(Clone, Debug, PartialEq)]
pub enum PruneSpec {
    /// [`PruneCriterion::Entropy`].
    Entropy(f64),
    /// [`PruneCriterion::Counts`] with the sequences of `training_text`, cut as the model's own
    /// training text was (its provenance; one sequence per line for an ARPA file).
    Counts {
        /// lmplz-style thresholds, unigrams first.
        thresholds: Vec<u64>,
        /// The text the model was trained on.
        training_text: std::path::PathBuf,
    },
}

/// What [`prune_file`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct PruneSummary {
    /// N-grams per order before.
    pub before: Vec<usize>,
    /// N-grams per order after.
    pub after: Vec<usize>,
}

/// Prunes the finished n-gram model at `input` (an lmlab model file of kind `ngram`, or an ARPA
/// file, plain, .gz or .xz) and writes the result atomically to `output`: as ARPA when its name
/// contains `.arpa`, else as an lmlab model file whose provenance is the input's plus the pruning.
pub fn prune_file(input: &Path, output: &Path, spec: &PruneSpec) -> Result<PruneSummary> {
    let (model, mut provenance) = if is_model_file(input) {
        let file = ModelFile::open(input)?;
        let provenance = file.header().provenance.clone();
        (NgramModel::load(input)?, provenance)
    } else {
        let model = crate::arpa::read_arpa(input)?;
        let provenance = Provenance {
            corpus_sha256: String::new(),
            corpus_name: format!("imported from {}", input.display()),
            sequences: SequenceMode::Line,
            options: serde_json::json!({ "imported_arpa": input.display().to_string() }),
            seed: None,
            lmlab_version: LMLAB_VERSION.to_string(),
        };
        (model, provenance)
    };
    let before = model.ngram_counts();
    let (criterion, record) = match spec {
        PruneSpec::Entropy(threshold) => (
            PruneCriterion::Entropy(*threshold),
            serde_json::json!({ "entropy": threshold }),
        ),
        PruneSpec::Counts {
            thresholds,
            training_text,
        } => {
            let text = read_text_file(training_text)?;
            let sequences = encode_corpus(model.tokenizer(), &text, provenance.sequences)
                .into_iter()
                .map(|s| s.ids)
                .collect();
            let record = serde_json::json!({
                "count": thresholds,
                "training_text": training_text.display().to_string(),
            });
            (
                PruneCriterion::Counts {
                    thresholds: thresholds.clone(),
                    sequences,
                },
                record,
            )
        }
    };
    let pruned = prune_model(model, &criterion)?;
    if output.to_string_lossy().contains(".arpa") {
        crate::arpa::write_arpa(&pruned, output)?;
    } else {
        provenance.options = serde_json::json!({
            "pruned_from": input.display().to_string(),
            "pruning": record,
            "unpruned": provenance.options,
        });
        pruned.save(output, provenance)?;
    }
    Ok(PruneSummary {
        before,
        after: pruned.ngram_counts(),
    })
}
