//! The smoothed distribution: Witten-Bell interpolation of every depth of the match path.
//!
//! Let the match path be the root (depth 0, the unigram counts) and the nodes matched at depths
//! 1..=D. With n_d instances and T_d distinct classes at the node of depth d, and c_d(w) the count
//! of w there:
//!
//! ```text
//! p_{-1}(w) = 1 / V                         (V = predictable tokens: every id but <s>)
//! p_d(w)    = (c_d(w) + T_d · p_{d-1}(w)) / (n_d + T_d)      for d = 0, 1, ..., D
//! ```
//!
//! and the model's probability is p_D. The rule is fixed (no weights to fit): a node backed by few
//! instances spread over many classes gives much weight to the shorter context, and every
//! predictable token, seen or not, keeps a probability above zero.

use crate::tree::Tree;
use lmlab_core::TokenId;

/// p(token) after the match `path` (node index per depth, root first), for `v` predictable tokens.
pub fn probability(tree: &Tree, path: &[usize], token: TokenId, v: usize) -> f64 {
    let mut p = 1.0 / v as f64;
    for (d, &node) in path.iter().enumerate() {
        let level = &tree.levels[d];
        let n = level.totals[node] as f64;
        let t = level.distinct(node) as f64;
        let c = level.count_of(node, token) as f64;
        p = (c + t * p) / (n + t);
    }
    p
}

/// The whole smoothed distribution after the match `path`; `predictable[id]` says which ids get the
/// uniform base mass.
pub fn distribution(tree: &Tree, path: &[usize], predictable: &[bool]) -> Vec<f64> {
    let v = predictable.iter().filter(|&&x| x).count() as f64;
    let mut probs: Vec<f64> = predictable
        .iter()
        .map(|&ok| if ok { 1.0 / v } else { 0.0 })
        .collect();
    for (d, &node) in path.iter().enumerate() {
        let level = &tree.levels[d];
        let n = level.totals[node] as f64;
        let t = level.distinct(node) as f64;
        let scale = t / (n + t);
        probs.iter_mut().for_each(|p| *p *= scale);
        let (classes, counts) = level.distribution(node);
        for (&c, &k) in classes.iter().zip(counts) {
            if let Some(p) = probs.get_mut(c as usize) {
                *p += k as f64 / (n + t);
            }
        }
    }
    probs
}
