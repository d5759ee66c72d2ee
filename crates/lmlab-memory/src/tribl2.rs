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
/// Distances searched by the branch-and-bound fallback: the nearest, and the next one for ties.
const RINGS: usize = 2;
/// Up to this many features after the mismatch, mismatch patterns are enumerated by distance.
const MAX_PATTERN_BITS: usize = 10;

/// A leaf: (depth, node).
type Leaf = (usize, usize);

/// The neighbours ring by ring (all leaves at one distance), nearest first.
enum Rings<'a> {
    /// Already found, in order.
    Done(Vec<(f64, Vec<Leaf>)>),
    /// Found on demand.
    Patterns(Patterns<'a>),
}

impl Rings<'_> {
    fn next(&mut self) -> Option<(f64, Vec<Leaf>)> {
        match self {
            Rings::Done(rings) => (!rings.is_empty()).then(|| rings.remove(0)),
            Rings::Patterns(p) => p.next_ring(),
        }
    }
}

/// Exact search by mismatch pattern. Below the mismatch node every instance differs on the first
/// feature after the match; the features after that either match or not, so each instance falls in
/// one of 2^m patterns whose distance is known in advance. Patterns are tried in order of distance,
/// each by a descent that follows the query value where the pattern says "match" (one binary
/// search) and every other value where it says "differ".
struct Patterns<'a> {
    tree: &'a Tree,
    depth: usize,
    node: usize,
    ordered: &'a [u32],
    /// (distance, mask of the differing features after the first), by distance.
    order: Vec<(f64, u32)>,
    next: usize,
}

impl<'a> Patterns<'a> {
    fn new(tree: &'a Tree, depth: usize, node: usize, ordered: &'a [u32], weights: &[f64]) -> Self {
        let bits = tree.depth() - depth - 1;
        let mut order: Vec<(f64, u32)> = (0..1u32 << bits)
            .map(|mask| {
                let extra: f64 = (0..bits)
                    .filter(|b| mask & (1 << b) != 0)
                    .map(|b| weights[depth + 1 + b])
                    .sum();
                (weights[depth] + extra, mask)
            })
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        Patterns {
            tree,
            depth,
            node,
            ordered,
            order,
            next: 0,
        }
    }

    fn next_ring(&mut self) -> Option<(f64, Vec<Leaf>)> {
        while self.next < self.order.len() {
            let distance = self.order[self.next].0;
            let mut leaves = Vec::new();
            while self.next < self.order.len() && self.order[self.next].0 <= distance + EPSILON {
                let mask = self.order[self.next].1;
                self.collect(self.depth, self.node, mask, &mut leaves);
                self.next += 1;
            }
            if !leaves.is_empty() {
                return Some((distance, leaves));
            }
        }
        None
    }

    /// Whether `mask` wants the feature tested at depth `d + 1` to differ from the query.
    fn differs(&self, d: usize, mask: u32) -> bool {
        d == self.depth || mask & (1 << (d - self.depth - 1)) != 0
    }

    /// "Differ at depth d + 1, match at d + 2" for the children `s..e` of a node at depth `d`: the
    /// grandchildren of those children are one contiguous run of depth `d + 2`, scanned for the query
    /// value in one pass (cheaper than a binary search below each of thousands of children).
    fn differ_then_match(&self, d: usize, s: usize, e: usize, mask: u32, leaves: &mut Vec<Leaf>) {
        let children = &self.tree.levels[d + 1];
        let (gs, ge) = (
            children.child_start[s] as usize,
            children.child_start[e] as usize,
        );
        let keys = &self.tree.levels[d + 2].keys[gs..ge];
        let (query, wanted) = (self.ordered[d], self.ordered[d + 1]);
        let mut child = s;
        for (chunk_index, chunk) in keys.chunks(16).enumerate() {
            if !chunk.iter().fold(false, |hit, &k| hit | (k == wanted)) {
                continue;
            }
            for (j, &key) in chunk.iter().enumerate() {
                if key != wanted {
                    continue;
                }
                let g = gs + chunk_index * 16 + j;
                while children.child_start[child + 1] as usize <= g {
                    child += 1;
                }
                if children.keys[child] != query {
                    self.collect(d + 2, g, mask, leaves);
                }
            }
        }
    }

    /// Leaves below `node` (depth `d`) whose features from depth `d + 1` on follow `mask`.
    fn collect(&self, d: usize, node: usize, mask: u32, leaves: &mut Vec<Leaf>) {
        if d == self.tree.depth() {
            leaves.push((d, node));
            return;
        }
        let level = &self.tree.levels[d];
        let (s, e) = (
            level.child_start[node] as usize,
            level.child_start[node + 1] as usize,
        );
        let keys = &self.tree.levels[d + 1].keys[s..e];
        let query = self.ordered[d];
        let differ = self.differs(d, mask);
        if differ && d + 1 < self.tree.depth() && !self.differs(d + 1, mask) {
            self.differ_then_match(d, s, e, mask, leaves);
        } else if differ {
            for (j, &key) in keys.iter().enumerate() {
                if key != query {
                    self.collect(d + 1, s + j, mask, leaves);
                }
            }
        } else if let Ok(j) = keys.binary_search(&query) {
            self.collect(d + 1, s + j, mask, leaves);
        }
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
    let level = &tree.levels[depth];
    let childless = level.child_start[node] == level.child_start[node + 1];
    let mut rings = if childless {
        Rings::Done(vec![(0.0, vec![(depth, node)])])
    } else if tree.depth() - depth - 1 <= MAX_PATTERN_BITS {
        Rings::Patterns(Patterns::new(tree, depth, node, ordered, weights))
    } else {
        let mut search = Search {
            tree,
            ordered,
            weights,
            rings: Vec::with_capacity(RINGS),
        };
        search.children(depth, node, 0.0);
        Rings::Done(search.rings)
    };
    let (distance, first) = rings.next().expect("a node has instances below it");
    let (classes, counts) = pool(tree, &first);
    let (mut prediction, tie) = best_class_tie(&classes, &counts, rank);
    if let Some((_, second)) = tie.then(|| rings.next()).flatten() {
        let mut wider = first.clone();
        wider.extend_from_slice(&second);
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

thread_local! {
    /// Per-thread dense count accumulator for [`pool`], all zeros between calls.
    static ACCUMULATOR: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Sums the distributions of `leaves` into one sorted (classes, counts) pair.
fn pool(tree: &Tree, leaves: &[(usize, usize)]) -> (Vec<u32>, Vec<u32>) {
    if let [(d, i)] = leaves {
        let (classes, counts) = tree.levels[*d].distribution(*i);
        return (classes.to_vec(), counts.to_vec());
    }
    ACCUMULATOR.with(|cell| {
        let mut acc = cell.borrow_mut();
        let mut classes: Vec<u32> = Vec::new();
        for &(d, i) in leaves {
            let (cs, ns) = tree.levels[d].distribution(i);
            for (&c, &n) in cs.iter().zip(ns) {
                let c = c as usize;
                if c >= acc.len() {
                    acc.resize(c + 1, 0);
                }
                if acc[c] == 0 {
                    classes.push(c as u32);
                }
                acc[c] += n;
            }
        }
        classes.sort_unstable();
        let counts = classes
            .iter()
            .map(|&c| std::mem::take(&mut acc[c as usize]))
            .collect();
        (classes, counts)
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instances::Instances;
    use crate::weights::{gain_ratio, order_by_weight};
    use lmlab_core::model::TokenSequence;

    /// The pattern search and the branch-and-bound fallback find the same two nearest rings.
    #[test]
    fn pattern_search_equals_branch_and_bound() {
        // A pseudo-random token stream over 6 ids, so that contexts repeat and differ.
        let mut x = 12345u64;
        let ids: Vec<u32> = (0..3000)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 33) % 6) as u32 + 2
            })
            .collect();
        let k = 6;
        let mut inst = Instances::new(k);
        inst.extend_from_sequences(
            &[TokenSequence {
                ids: ids.clone(),
                ..Default::default()
            }],
            1,
        );
        let weights: Vec<f64> = inst
            .columns
            .iter()
            .map(|c| gain_ratio(c, &inst.classes, &inst.counts))
            .collect();
        let order = order_by_weight(&weights);
        let tree = Tree::build(&inst, &order);
        let depth_weights: Vec<f64> = order.iter().map(|&p| weights[p]).collect();
        let mut path = Vec::new();
        let mut compared = 0;
        for q in 0..400 {
            // Queries: stored contexts with one or two values replaced by an unseen id.
            let mut query: Vec<u32> = (0..k).map(|j| ids[(q * 7 + j) % ids.len()]).collect();
            query[q % k] = 99;
            if q % 3 == 0 {
                query[(q / 3) % k] = 98;
            }
            let depth = tree.descend(&query, &mut path);
            if depth == k {
                continue;
            }
            let node = path[depth];
            let mut patterns = Patterns::new(&tree, depth, node, &query, &depth_weights);
            let mut search = Search {
                tree: &tree,
                ordered: &query,
                weights: &depth_weights,
                rings: Vec::new(),
            };
            search.children(depth, node, 0.0);
            for ring in search.rings {
                let (distance, mut leaves) = patterns.next_ring().expect("a ring");
                assert!((distance - ring.0).abs() < 1e-9, "query {q}");
                let mut expected = ring.1.clone();
                leaves.sort_unstable();
                expected.sort_unstable();
                assert_eq!(leaves, expected, "query {q}");
                compared += 1;
            }
        }
        assert!(compared > 300, "{compared}");
    }
}
