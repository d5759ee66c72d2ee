//! TRIBL2's nearest-neighbour step: below the node where exact matching stopped, find the stored
//! instances at the smallest weighted overlap distances (the sum of the weights of the features
//! that differ) and pool their class distributions.
//!
//! With k = 1 the vote pools every instance at the nearest distance. When that vote ties, the
//! instances at the next distance join the vote (TiMBL's way of resolving a tie by looking one
//! neighbour further); when it still ties, the class ranks decide (see [`crate::tree::best_class`]).
//!
//! The search walks the subtree depth-first, the matching child first, and cuts every branch whose
//! partial distance already exceeds the farthest distance still wanted (weights are never
//! negative).

use crate::tree::{best_class_tie, Tree};

/// Distances closer than this are equal.
const EPSILON: f64 = 1e-9;
/// Distances searched: the nearest, and the next one for tie resolution.
const RINGS: usize = 2;

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
    /// The predicted class, ties resolved.
    pub prediction: u32,
}

/// The nearest neighbours below `node` at depth `depth`, for feature values `ordered` (tree order)
/// and per-depth weights (`weights[d]` for the feature tested at depth `d + 1`); `rank` breaks ties.
pub(crate) fn nearest(
    tree: &Tree,
    depth: usize,
    node: usize,
    ordered: &[u32],
    weights: &[f64],
    rank: &[u32],
) -> Neighbours {
    let mut search = Search {
        tree,
        ordered,
        weights,
        rings: Vec::with_capacity(RINGS),
    };
    let level = &tree.levels[depth];
    if level.child_start[node] == level.child_start[node + 1] {
        search.rings.push((0.0, vec![(depth, node)]));
    } else {
        search.children(depth, node, 0.0);
    }
    let (distance, first) = search.rings[0].clone();
    let (classes, counts) = pool(tree, &first);
    let (mut prediction, tie) = best_class_tie(&classes, &counts, rank);
    if tie && search.rings.len() > 1 {
        let mut wider = first.clone();
        wider.extend_from_slice(&search.rings[1].1);
        let (c2, n2) = pool(tree, &wider);
        let (p2, tie2) = best_class_tie(&c2, &n2, rank);
        if !tie2 {
            prediction = p2;
        }
    }
    Neighbours {
        distance,
        instances: first.len(),
        classes,
        counts,
        prediction,
    }
}

/// Sums the distributions of `leaves` into one sorted (classes, counts) pair.
fn pool(tree: &Tree, leaves: &[(usize, usize)]) -> (Vec<u32>, Vec<u32>) {
    let mut pooled: Vec<(u32, u32)> = Vec::new();
    for &(d, i) in leaves {
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
    (classes, counts)
}

struct Search<'a> {
    tree: &'a Tree,
    ordered: &'a [u32],
    weights: &'a [f64],
    /// Up to `RINGS` distances, nearest first, each with its leaves.
    rings: Vec<(f64, Vec<(usize, usize)>)>,
}

impl Search<'_> {
    /// The farthest distance still of interest.
    fn bound(&self) -> f64 {
        if self.rings.len() < RINGS {
            f64::INFINITY
        } else {
            self.rings[RINGS - 1].0 + EPSILON
        }
    }

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
        for child in s..e {
            if mismatch > self.bound() {
                return;
            }
            if Some(child) != matching {
                self.visit(d + 1, child, mismatch);
            }
        }
    }

    fn visit(&mut self, d: usize, node: usize, cost: f64) {
        if cost > self.bound() {
            return;
        }
        let level = &self.tree.levels[d];
        if level.child_start[node] == level.child_start[node + 1] {
            self.add_leaf(cost, (d, node));
            return;
        }
        self.children(d, node, cost);
    }

    fn add_leaf(&mut self, cost: f64, leaf: (usize, usize)) {
        let mut at = self.rings.len();
        for (i, ring) in self.rings.iter_mut().enumerate() {
            if (ring.0 - cost).abs() <= EPSILON {
                ring.1.push(leaf);
                return;
            }
            if cost < ring.0 {
                at = i;
                break;
            }
        }
        if at < RINGS {
            self.rings.insert(at, (cost, vec![leaf]));
            self.rings.truncate(RINGS);
        }
    }
}
