//! TRIBL2's nearest-neighbour step: below the node where exact matching stopped, find the stored
//! instances at the smallest weighted overlap distance (the sum of the weights of the features that
//! differ) and pool their class distributions (k = 1: every instance at the nearest distance).
//!
//! The search walks the subtree depth-first, the matching child first, and cuts every branch whose
//! partial distance already exceeds the best complete one (weights are never negative).

use crate::tree::Tree;

/// Distances closer than this are equal.
const EPSILON: f64 = 1e-9;

/// The pooled (class, count) distribution of the nearest instances below `node` at depth `depth`,
/// for feature values `ordered` (tree order) and per-depth weights `weights` (`weights[d]` for the
/// feature tested at depth `d + 1`). Also returns the distance and how many leaves were pooled.
pub(crate) fn nearest(
    tree: &Tree,
    depth: usize,
    node: usize,
    ordered: &[u32],
    weights: &[f64],
) -> Neighbours {
    let mut search = Search {
        tree,
        ordered,
        weights,
        best: f64::INFINITY,
        leaves: Vec::new(),
    };
    if depth == tree.depth()
        || tree.levels[depth].child_start[node] == tree.levels[depth].child_start[node + 1]
    {
        search.best = 0.0;
        search.leaves.push((depth, node));
    } else {
        search.children(depth, node, 0.0);
    }
    let mut pooled: Vec<(u32, u32)> = Vec::new();
    for &(d, i) in &search.leaves {
        let (classes, counts) = tree.levels[d].distribution(i);
        pooled.extend(classes.iter().copied().zip(counts.iter().copied()));
    }
    pooled.sort_unstable_by_key(|&(c, _)| c);
    let mut classes: Vec<u32> = Vec::new();
    let mut counts: Vec<u32> = Vec::new();
    for (c, n) in pooled {
        if classes.last() == Some(&c) {
            *counts.last_mut().expect("a count") += n;
        } else {
            classes.push(c);
            counts.push(n);
        }
    }
    Neighbours {
        distance: search.best,
        instances: search.leaves.len(),
        classes,
        counts,
    }
}

/// The nearest neighbours' pooled distribution.
pub(crate) struct Neighbours {
    /// Their distance.
    pub distance: f64,
    /// How many distinct stored instances (leaves) were pooled.
    pub instances: usize,
    /// Pooled classes, sorted.
    pub classes: Vec<u32>,
    /// Pooled counts.
    pub counts: Vec<u32>,
}

struct Search<'a> {
    tree: &'a Tree,
    ordered: &'a [u32],
    weights: &'a [f64],
    best: f64,
    leaves: Vec<(usize, usize)>,
}

impl Search<'_> {
    /// Visits the children (depth `d + 1`) of `node` at depth `d`, which has partial distance `cost`.
    fn children(&mut self, d: usize, node: usize, cost: f64) {
        let level = &self.tree.levels[d];
        let (s, e) = (
            level.child_start[node] as usize,
            level.child_start[node + 1] as usize,
        );
        let keys = &self.tree.levels[d + 1].keys[s..e];
        let matching = keys.binary_search(&self.ordered[d]).ok().map(|j| s + j);
        if let Some(m) = matching {
            self.visit(d + 1, m, cost);
        }
        let mismatch = cost + self.weights[d];
        if mismatch > self.best + EPSILON {
            return;
        }
        for child in s..e {
            if Some(child) != matching {
                if mismatch > self.best + EPSILON {
                    return;
                }
                self.visit(d + 1, child, mismatch);
            }
        }
    }

    fn visit(&mut self, d: usize, node: usize, cost: f64) {
        let level = &self.tree.levels[d];
        if d == self.tree.depth() || level.child_start[node] == level.child_start[node + 1] {
            if cost < self.best - EPSILON {
                self.best = cost;
                self.leaves.clear();
                self.leaves.push((d, node));
            } else if cost <= self.best + EPSILON {
                self.leaves.push((d, node));
            }
            return;
        }
        self.children(d, node, cost);
    }
}
