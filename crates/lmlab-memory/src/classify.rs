//! Top-1 classification: IGTree's default class of the deepest matching node, or TRIBL2's
//! nearest-neighbour vote below the first mismatch.

use crate::model::{MemoryModel, MemoryScorer};
use crate::options::Algorithm;
use crate::tribl2;
use lmlab_core::TokenId;

impl MemoryModel {
    /// The top-1 prediction for the token after `<s>` + `context` (the last `K` tokens are used).
    pub fn predict(&self, context: &[TokenId]) -> TokenId {
        let mut scorer = MemoryScorer::new(self);
        let start = context.len().saturating_sub(self.options.context);
        for &t in &context[start..] {
            scorer.push(t);
        }
        self.predict_current(&mut scorer)
    }

    /// The top-1 prediction for every position of `tokens`, each from `<s>` + the tokens before it
    /// (aligned with [`lmlab_core::LanguageModel::log_probs`]).
    pub fn predictions(&self, tokens: &[TokenId]) -> Vec<TokenId> {
        let mut scorer = MemoryScorer::new(self);
        tokens
            .iter()
            .map(|&t| {
                let p = self.predict_current(&mut scorer);
                scorer.push(t);
                p
            })
            .collect()
    }

    fn predict_current(&self, scorer: &mut MemoryScorer<'_>) -> TokenId {
        let depth = scorer.descend();
        let node = scorer.path()[depth];
        match self.options.algorithm {
            Algorithm::IgTree => self.tree.levels[depth].best[node],
            Algorithm::Tribl2 => {
                let n = tribl2::nearest(
                    &self.tree,
                    depth,
                    node,
                    scorer.ordered(),
                    &self.depth_weights,
                    &self.rank,
                );
                n.prediction
            }
        }
    }
}
