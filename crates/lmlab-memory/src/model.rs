//! [`MemoryModel`]: the trained trie with its feature weights, and the `LanguageModel` contract.

use crate::instances::query_features;
use crate::options::MemoryOptions;
use crate::smoothing;
use crate::tree::Tree;
use lmlab_core::{LanguageModel, Stepper, TokenId, Tokenizer};

/// A memory-based language model (IGTree or TRIBL2) over a tokenizer's vocabulary.
pub struct MemoryModel {
    pub(crate) tokenizer: Box<dyn Tokenizer>,
    pub(crate) options: MemoryOptions,
    /// Gain ratio of each token position (0 = nearest).
    pub(crate) weights: Vec<f64>,
    pub(crate) tree: Tree,
    /// Classes in the order they were first seen in training (TiMBL's last tie-break).
    pub(crate) first_seen: Vec<u32>,
    /// Derived: tie-break rank of every id (lower wins); `u32::MAX` for ids never seen as a class.
    pub(crate) rank: Vec<u32>,
    /// Derived: which ids may be predicted (all but `<s>`).
    pub(crate) predictable: Vec<bool>,
    /// Derived: `weights` in tree order.
    pub(crate) depth_weights: Vec<f64>,
    /// Derived: the smoothing discount of every depth.
    pub(crate) discounts: Vec<f64>,
}

/// Tie-break ranks: classes by decreasing training frequency, then by first appearance.
pub(crate) fn class_ranks(global: &[(u32, u32)], first_seen: &[u32], vocab: usize) -> Vec<u32> {
    let mut count = vec![0u32; vocab];
    for &(c, n) in global {
        if let Some(x) = count.get_mut(c as usize) {
            *x = n;
        }
    }
    let mut seen: Vec<(usize, u32)> = first_seen.iter().copied().enumerate().collect();
    seen.sort_by(|a, b| {
        let (ca, cb) = (count[a.1 as usize], count[b.1 as usize]);
        cb.cmp(&ca).then(a.0.cmp(&b.0))
    });
    let mut rank = vec![u32::MAX; vocab];
    for (r, &(_, class)) in seen.iter().enumerate() {
        rank[class as usize] = r as u32;
    }
    rank
}

impl MemoryModel {
    /// Assembles a model and derives its lookup tables.
    pub(crate) fn assemble(
        tokenizer: Box<dyn Tokenizer>,
        options: MemoryOptions,
        weights: Vec<f64>,
        tree: Tree,
        first_seen: Vec<u32>,
    ) -> MemoryModel {
        let mut model = MemoryModel {
            tokenizer,
            options,
            weights,
            tree,
            first_seen,
            rank: Vec::new(),
            predictable: Vec::new(),
            depth_weights: Vec::new(),
            discounts: Vec::new(),
        };
        model.derive();
        model
    }

    /// Recomputes the derived tables (ranks, node totals and defaults, per-depth weights).
    pub(crate) fn derive(&mut self) {
        let vocab = self.tokenizer.vocab().len();
        self.predictable = (0..vocab as TokenId)
            .map(|id| self.tokenizer.is_predictable(id))
            .collect();
        let root = &self.tree.levels[0];
        let (classes, counts) = root.distribution(0);
        let global: Vec<(u32, u32)> = classes
            .iter()
            .copied()
            .zip(counts.iter().copied())
            .collect();
        self.rank = class_ranks(&global, &self.first_seen, vocab);
        self.depth_weights = self.tree.order.iter().map(|&p| self.weights[p]).collect();
        for level in &mut self.tree.levels {
            level.derive(&self.rank);
        }
        self.discounts = smoothing::discounts(&self.tree);
    }

    /// The training options.
    pub fn options(&self) -> &MemoryOptions {
        &self.options
    }

    /// The gain ratio of each token position (index 0 = the nearest previous token).
    pub fn feature_weights(&self) -> &[f64] {
        &self.weights
    }

    /// Token positions in the order the trie tests them (1 = the nearest previous token), by
    /// decreasing gain ratio.
    pub fn feature_order(&self) -> Vec<usize> {
        self.tree.order.iter().map(|&p| p + 1).collect()
    }

    /// The smoothing discount of every depth (root first); see [`crate::smoothing`].
    pub fn discounts(&self) -> &[f64] {
        &self.discounts
    }

    /// The trie.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Number of training instances stored.
    pub fn instance_count(&self) -> u64 {
        self.tree.levels[0].totals[0] as u64
    }

    /// True when the model was pruned (and so takes no incremental training).
    pub fn is_pruned(&self) -> bool {
        self.options.prune
    }

    /// Fills `ordered` with the feature values of `<s>` + `context` in tree order.
    pub(crate) fn ordered_features(
        &self,
        context: &[TokenId],
        scratch: &mut Vec<u32>,
        ordered: &mut Vec<u32>,
    ) {
        let bos = self.tokenizer.specials().bos;
        query_features(context, self.options.context, bos, scratch);
        ordered.clear();
        ordered.extend(self.tree.order.iter().map(|&p| scratch[p]));
    }

    /// Predictable-token count for the uniform floor.
    pub(crate) fn predictable_count(&self) -> usize {
        self.predictable.iter().filter(|&&x| x).count()
    }

    /// The id scored in place of `token`: ids outside the vocabulary count as `<unk>` (or, for a
    /// tokenizer without one, as an id never seen, which gets the uniform floor).
    pub(crate) fn scored_id(&self, token: TokenId) -> TokenId {
        if (token as usize) < self.predictable.len() {
            token
        } else {
            self.tokenizer.specials().unk.unwrap_or(token)
        }
    }
}

impl LanguageModel for MemoryModel {
    fn kind(&self) -> &str {
        crate::KIND
    }

    fn describe(&self) -> String {
        format!(
            "memory {} (context {}{}) over {} tokens, absolute-discounted match path",
            self.options.algorithm,
            self.options.context,
            if self.options.prune { ", pruned" } else { "" },
            self.tokenizer.kind()
        )
    }

    fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
        let mut scorer = MemoryScorer::new(self);
        tokens.iter().map(|&t| scorer.score_next(t)).collect()
    }

    fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
        let (mut scratch, mut ordered, mut path) = (Vec::new(), Vec::new(), Vec::new());
        self.ordered_features(context, &mut scratch, &mut ordered);
        self.tree.descend(&ordered, &mut path);
        smoothing::distribution(&self.tree, &path, &self.predictable, &self.discounts)
    }

    fn stepper(&self) -> Box<dyn Stepper<'_> + '_> {
        Box::new(MemoryScorer::new(self))
    }

    fn scores_by_steps(&self) -> bool {
        true
    }

    fn parameter_count(&self) -> u64 {
        self.tree.entry_count()
    }

    fn top1_predictions(&self, tokens: &[TokenId]) -> Option<Vec<TokenId>> {
        Some(self.predictions(tokens))
    }
}

/// Scores token by token, carrying the context (the features read its last `K` tokens).
#[derive(Clone)]
pub(crate) struct MemoryScorer<'a> {
    model: &'a MemoryModel,
    /// Every token pushed (oldest first).
    history: Vec<TokenId>,
    scratch: Vec<u32>,
    ordered: Vec<u32>,
    path: Vec<usize>,
    v: usize,
}

impl<'a> MemoryScorer<'a> {
    pub(crate) fn new(model: &'a MemoryModel) -> Self {
        MemoryScorer {
            model,
            history: Vec::new(),
            scratch: Vec::new(),
            ordered: Vec::new(),
            path: Vec::new(),
            v: model.predictable_count(),
        }
    }

    /// Descends for the current context; the match path is left in `self.path`.
    pub(crate) fn descend(&mut self) -> usize {
        self.model
            .ordered_features(&self.history, &mut self.scratch, &mut self.ordered);
        self.model.tree.descend(&self.ordered, &mut self.path)
    }

    /// Adds `token` to the context.
    pub(crate) fn push(&mut self, token: TokenId) {
        self.history.push(token);
    }

    pub(crate) fn ordered(&self) -> &[u32] {
        &self.ordered
    }

    pub(crate) fn path(&self) -> &[usize] {
        &self.path
    }
}

impl<'a> Stepper<'a> for MemoryScorer<'a> {
    fn vocab_len(&self) -> usize {
        self.model.predictable.len()
    }

    fn context_len(&self) -> usize {
        self.history.len()
    }

    fn push(&mut self, token: TokenId) {
        MemoryScorer::push(self, token);
    }

    fn distribution_into(&mut self, out: &mut [f64]) {
        self.descend();
        smoothing::distribution_into(
            &self.model.tree,
            &self.path,
            &self.model.predictable,
            &self.model.discounts,
            out,
        );
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        self.descend();
        let id = self.model.scored_id(token);
        let p = smoothing::probability(
            &self.model.tree,
            &self.path,
            id,
            self.v,
            &self.model.discounts,
        );
        self.push(token);
        p.ln()
    }

    fn truncate(&mut self, len: usize) {
        self.history.truncate(len);
    }

    fn fork(&self) -> Box<dyn Stepper<'a> + 'a> {
        Box::new(self.clone())
    }

    fn reserve(&mut self, additional: usize) {
        self.history.reserve(additional);
    }
}

impl std::fmt::Debug for MemoryModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryModel")
            .field("options", &self.options)
            .field("tokenizer", &self.tokenizer.kind())
            .field("feature_order", &self.feature_order())
            .field("instances", &self.instance_count())
            .finish()
    }
}
