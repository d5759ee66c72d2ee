//! `explain`: why the model predicts what it predicts — which depth matched, how many stored
//! instances back the prediction, and the top candidates with their counts.

use crate::model::{MemoryModel, MemoryScorer};
use crate::options::Algorithm;
use crate::smoothing;
use crate::tribl2;
use lmlab_core::sampling::most_likely;
use lmlab_core::TokenId;
use serde::{Deserialize, Serialize};

/// One depth of the match path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplainedDepth {
    /// 0 for the root (no feature matched), then 1, 2, ...
    pub depth: usize,
    /// Which previous token this depth tested: `k` = `k` tokens back (1 = the nearest, shown as
    /// `-1`); `None` for the root.
    pub position: Option<usize>,
    /// The token matched at this depth; `None` for the root.
    pub token: Option<String>,
    /// Training instances below this node.
    pub instances: u64,
    /// Distinct next tokens among them.
    pub distinct: usize,
    /// The node's most frequent next token (its IGTree prediction).
    pub default: String,
}

/// A candidate next token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplainedCandidate {
    /// The token.
    pub token: String,
    /// Its id.
    pub id: TokenId,
    /// How many backing instances have it as their next token.
    pub count: u64,
    /// `count` over the backing instances.
    pub share: f64,
    /// Its smoothed probability (the `LanguageModel` distribution).
    pub probability: f64,
}

/// The explanation of one prediction; serializable for `--json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// `igtree` or `tribl2`.
    pub algorithm: String,
    /// `K`, the number of previous tokens the model looks at.
    pub context_size: usize,
    /// The `K` tokens used, oldest first (`<s>` where the sequence had not started).
    pub context: Vec<String>,
    /// Remarks, e.g. that a longer context was cut to its last `K` tokens.
    pub notes: Vec<String>,
    /// Token positions in the order the trie tests them: `k` = `k` tokens back (1 = the nearest).
    pub feature_order: Vec<usize>,
    /// How many features matched exactly (0..=K).
    pub matched_depth: usize,
    /// The match path, root first.
    pub path: Vec<ExplainedDepth>,
    /// Instances backing the prediction: below the deepest matched node (IGTree), or the nearest
    /// neighbours pooled (TRIBL2).
    pub instances: u64,
    /// TRIBL2 only: the weighted overlap distance of the nearest neighbours and how many distinct
    /// stored contexts were pooled.
    pub neighbours: Option<(f64, usize)>,
    /// The prediction: the most likely next token of the smoothed distribution (the model's
    /// [`LanguageModel::next_distribution`](lmlab_core::LanguageModel::next_distribution), ties to
    /// the lower id), the token `predict` and greedy generation give.
    pub prediction: String,
    /// The classifier's answer (TiMBL's): the most frequent next token among the backing instances,
    /// before smoothing. It can differ from `prediction` when backing off to shorter contexts moves
    /// mass to a token that is frequent there (often `</s>`).
    pub classifier_prediction: String,
    /// The top candidates, by count (ties as the classifier breaks them).
    pub top: Vec<ExplainedCandidate>,
}

/// Feature positions as lmlab prints them everywhere: `-k` is the token `k` positions back (so `-1`
/// is the nearest), in the order the trie tests them, e.g. `-1 -3 -2 (-k = k tokens back)`.
pub fn feature_order_text(order: &[usize]) -> String {
    let positions: Vec<String> = order.iter().map(|k| format!("-{k}")).collect();
    format!("{} (-k = k tokens back)", positions.join(" "))
}

impl MemoryModel {
    /// Explains the prediction after `<s>` + `context`, listing the `k` best candidates. A context
    /// longer than `K` is cut to its last `K` tokens, and the explanation says so.
    pub fn explain(&self, context: &[TokenId], k: usize) -> Explanation {
        let size = self.options.context;
        let vocab = self.tokenizer.vocab();
        let name = |id: TokenId| -> String {
            if (id as usize) < vocab.len() {
                vocab.token(id).to_string()
            } else {
                format!("#{id}")
            }
        };
        let mut notes = Vec::new();
        if context.len() > size {
            notes.push(format!(
                "the context has {} tokens; the model looks at the last {size}",
                context.len()
            ));
        }
        let used = &context[context.len().saturating_sub(size)..];
        let mut scorer = MemoryScorer::new(self);
        for &t in used {
            scorer.push(t);
        }
        let depth = scorer.descend();
        let path_nodes = scorer.path().to_vec();
        let ordered = scorer.ordered().to_vec();
        let bos = self.tokenizer.specials().bos;
        let mut shown: Vec<String> = vec![name(bos); size - used.len()];
        shown.extend(used.iter().map(|&t| name(t)));

        let path = path_nodes
            .iter()
            .enumerate()
            .map(|(d, &node)| {
                let level = &self.tree.levels[d];
                ExplainedDepth {
                    depth: d,
                    position: (d > 0).then(|| self.tree.order[d - 1] + 1),
                    token: (d > 0).then(|| name(ordered[d - 1])),
                    instances: level.totals[node] as u64,
                    distinct: level.distinct(node),
                    default: name(level.best[node]),
                }
            })
            .collect();
        let node = path_nodes[depth];
        let level = &self.tree.levels[depth];
        let (classes, counts, neighbours, predicted) = match self.options.algorithm {
            Algorithm::IgTree => {
                let (c, n) = level.distribution(node);
                (c.to_vec(), n.to_vec(), None, level.best[node])
            }
            Algorithm::Tribl2 => {
                let n = tribl2::nearest(
                    &self.tree,
                    depth,
                    node,
                    &ordered,
                    &self.depth_weights,
                    &self.rank,
                );
                let info = Some((n.distance, n.instances));
                (n.classes, n.counts, info, n.prediction)
            }
        };
        let instances: u64 = counts.iter().map(|&c| c as u64).sum();
        let smoothed =
            smoothing::distribution(&self.tree, &path_nodes, &self.predictable, &self.discounts);
        let prediction = name(most_likely(&smoothed));
        let mut ranked: Vec<(u32, u32)> = classes.into_iter().zip(counts).collect();
        let rank_of = |c: u32| self.rank.get(c as usize).copied().unwrap_or(u32::MAX);
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(rank_of(a.0).cmp(&rank_of(b.0))));
        let v = self.predictable_count();
        let top = ranked
            .into_iter()
            .take(k)
            .map(|(id, count)| ExplainedCandidate {
                token: name(id),
                id,
                count: count as u64,
                share: count as f64 / instances.max(1) as f64,
                probability: smoothing::probability(
                    &self.tree,
                    &path_nodes,
                    id,
                    v,
                    &self.discounts,
                ),
            })
            .collect();
        Explanation {
            algorithm: self.options.algorithm.to_string(),
            context_size: size,
            context: shown,
            notes,
            feature_order: self.feature_order(),
            matched_depth: depth,
            path,
            instances,
            neighbours,
            prediction,
            classifier_prediction: name(predicted),
            top,
        }
    }
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        writeln!(
            f,
            "{} over the last {} tokens: {}",
            self.algorithm,
            self.context_size,
            self.context.join(" ")
        )?;
        writeln!(
            f,
            "feature order: {}",
            feature_order_text(&self.feature_order)
        )?;
        for d in &self.path {
            match (&d.position, &d.token) {
                (Some(p), Some(t)) => writeln!(
                    f,
                    "  depth {}: token -{p} = {t:?} matched; {} instances, {} distinct, default {:?}",
                    d.depth, d.instances, d.distinct, d.default
                )?,
                _ => writeln!(
                    f,
                    "  depth 0 (root): {} instances, {} distinct, default {:?}",
                    d.instances, d.distinct, d.default
                )?,
            }
        }
        write!(
            f,
            "matched depth {} of {}; {} instances back the classifier's answer {:?}",
            self.matched_depth, self.context_size, self.instances, self.classifier_prediction
        )?;
        if let Some((distance, n)) = self.neighbours {
            write!(f, " ({n} nearest contexts at distance {distance:.4})")?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "prediction (most likely after smoothing): {:?}",
            self.prediction
        )?;
        for c in &self.top {
            writeln!(
                f,
                "  {:<16} count {:>8}  share {:.4}  p {:.6}",
                c.token, c.count, c.share, c.probability
            )?;
        }
        Ok(())
    }
}
