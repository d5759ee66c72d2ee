//! The instance trie: level `d` holds the nodes that match the first `d` features (in gain-ratio
//! order); every node keeps the class distribution of the training instances below it, sorted by
//! class id, and its default (most frequent) class.
//!
//! Storage is flat, one [`Level`] per depth: a node's children are a contiguous, key-sorted range of
//! the next level, found by binary search.

use crate::instances::Instances;
use lmlab_core::TokenId;

/// The nodes at one depth.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Level {
    /// The feature value on the edge into each node (the root's is 0).
    pub keys: Vec<u32>,
    /// Node `i`'s children are `child_start[i]..child_start[i + 1]` of the next level.
    pub child_start: Vec<u32>,
    /// Node `i`'s distribution is `classes[dist_start[i]..dist_start[i + 1]]` with `counts`.
    pub dist_start: Vec<u32>,
    /// Class ids of every distribution of this level, sorted within each node.
    pub classes: Vec<u32>,
    /// Counts matching `classes`.
    pub counts: Vec<u32>,
    /// Derived: instances below each node.
    pub totals: Vec<u32>,
    /// Derived: each node's default class (most frequent; ties by class rank).
    pub best: Vec<u32>,
}

impl Level {
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True without nodes.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The distribution of node `i`: class ids and counts.
    pub fn distribution(&self, i: usize) -> (&[u32], &[u32]) {
        let (s, e) = (self.dist_start[i] as usize, self.dist_start[i + 1] as usize);
        (&self.classes[s..e], &self.counts[s..e])
    }

    /// The count of `class` at node `i`.
    pub fn count_of(&self, i: usize, class: TokenId) -> u32 {
        let (classes, counts) = self.distribution(i);
        classes.binary_search(&class).map_or(0, |j| counts[j])
    }

    /// Number of distinct classes at node `i`.
    pub fn distinct(&self, i: usize) -> usize {
        (self.dist_start[i + 1] - self.dist_start[i]) as usize
    }

    /// Recomputes `totals` and `best` from the distributions; `rank` orders tied classes.
    pub fn derive(&mut self, rank: &[u32]) {
        let n = self.len();
        let mut totals = Vec::with_capacity(n);
        let mut best = Vec::with_capacity(n);
        for i in 0..n {
            let (classes, counts) = self.distribution(i);
            totals.push(counts.iter().sum());
            best.push(best_class(classes, counts, rank));
        }
        self.totals = totals;
        self.best = best;
    }
}

/// The most frequent class; between equal counts the one of lower `rank` (TiMBL: globally more
/// frequent, then seen first). `u32::MAX` for an empty distribution.
pub fn best_class(classes: &[u32], counts: &[u32], rank: &[u32]) -> u32 {
    best_class_tie(classes, counts, rank).0
}

/// [`best_class`], and whether another class had the same count.
pub fn best_class_tie(classes: &[u32], counts: &[u32], rank: &[u32]) -> (u32, bool) {
    let mut best = u32::MAX;
    let mut best_count = 0;
    let mut tie = false;
    for (&c, &n) in classes.iter().zip(counts) {
        if n > best_count {
            best = c;
            best_count = n;
            tie = false;
        } else if n == best_count {
            tie = true;
            if rank_of(rank, c) < rank_of(rank, best) {
                best = c;
            }
        }
    }
    (best, tie)
}

fn rank_of(rank: &[u32], class: u32) -> u32 {
    rank.get(class as usize).copied().unwrap_or(u32::MAX)
}

/// The trie over features in gain-ratio order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    /// `order[d]` is the token position (0 = nearest) tested at depth `d + 1`.
    pub order: Vec<usize>,
    /// `levels[d]` holds the nodes matching `d` features; `levels[0]` is the root.
    pub levels: Vec<Level>,
}

impl Tree {
    /// Builds the full (unpruned) trie of `instances` with features tested in `order`. The derived
    /// `totals` and `best` are left empty: [`Level::derive`] fills them.
    pub(crate) fn build(instances: &Instances, order: &[usize]) -> Tree {
        let k = order.len();
        let n = instances.len();
        let column = |d: usize| &instances.columns[order[d]];
        // Sort rows by (feature order[0], ..., order[k-1], class): stable passes, last key first.
        let mut perm: Vec<u32> = (0..n as u32).collect();
        perm.sort_by_key(|&i| instances.classes[i as usize]);
        for d in (0..k).rev() {
            let col = column(d);
            perm.sort_by_key(|&i| col[i as usize]);
        }

        let mut levels: Vec<Level> = (0..=k).map(|_| Level::default()).collect();
        let mut row_start: Vec<Vec<u32>> = vec![Vec::new(); k + 1];
        levels[0].keys.push(0);
        levels[0].child_start.push(0);
        row_start[0].push(0);
        for (r, &i) in perm.iter().enumerate() {
            let i = i as usize;
            let first_diff = if r == 0 {
                0
            } else {
                let p = perm[r - 1] as usize;
                (0..k).find(|&d| column(d)[i] != column(d)[p]).unwrap_or(k)
            };
            for d in (first_diff + 1)..=k {
                let child_count = levels.get(d + 1).map_or(0, |l| l.keys.len() as u32);
                let level = &mut levels[d];
                level.keys.push(column(d - 1)[i]);
                level.child_start.push(child_count);
                row_start[d].push(r as u32);
            }
        }
        for starts in &mut row_start {
            starts.push(n as u32);
        }
        for d in 0..=k {
            let end = if d < k {
                levels[d + 1].keys.len() as u32
            } else {
                0
            };
            if d == k {
                levels[d].child_start = vec![0; levels[d].keys.len() + 1];
            } else {
                levels[d].child_start.push(end);
            }
        }
        // Distributions: gather each node's (class, count) rows, sort by class, merge.
        let mut scratch: Vec<(u32, u32)> = Vec::new();
        for d in 0..=k {
            let level = &mut levels[d];
            let starts = &row_start[d];
            level.dist_start.push(0);
            for w in starts.windows(2) {
                scratch.clear();
                scratch.extend(
                    perm[w[0] as usize..w[1] as usize]
                        .iter()
                        .map(|&i| (instances.classes[i as usize], instances.counts[i as usize])),
                );
                if d < k {
                    scratch.sort_unstable_by_key(|&(c, _)| c);
                }
                let mut last = None;
                for &(c, count) in &scratch {
                    if last == Some(c) {
                        *level.counts.last_mut().expect("a count") += count;
                    } else {
                        level.classes.push(c);
                        level.counts.push(count);
                        last = Some(c);
                    }
                }
                level.dist_start.push(level.classes.len() as u32);
            }
        }
        Tree {
            order: order.to_vec(),
            levels,
        }
    }

    /// The number of features (`K`).
    pub fn depth(&self) -> usize {
        self.order.len()
    }

    /// The child of `node` at depth `d` whose key is `value`.
    pub fn child(&self, d: usize, node: usize, value: u32) -> Option<usize> {
        let level = &self.levels[d];
        let (s, e) = (
            level.child_start[node] as usize,
            level.child_start[node + 1] as usize,
        );
        if s == e {
            return None;
        }
        let keys = &self.levels[d + 1].keys[s..e];
        keys.binary_search(&value).ok().map(|j| s + j)
    }

    /// Exact-match descent with feature values in tree order; fills `path` with the node index at
    /// every matched depth (`path[0]` is the root) and returns the matched depth.
    pub fn descend(&self, ordered: &[u32], path: &mut Vec<usize>) -> usize {
        path.clear();
        path.push(0);
        let mut node = 0;
        for (d, &value) in ordered.iter().enumerate() {
            match self.child(d, node, value) {
                Some(next) => {
                    node = next;
                    path.push(node);
                }
                None => break,
            }
        }
        path.len() - 1
    }

    /// Removes the subtrees below nodes whose instances all share one class. Derived fields must be
    /// recomputed afterwards.
    pub fn prune_unambiguous(&mut self) {
        let k = self.depth();
        // keep[d][i]: a node survives when its parent survives and is ambiguous.
        let mut keep: Vec<Vec<bool>> = vec![vec![true; self.levels[0].len()]];
        for d in 0..k {
            let level = &self.levels[d];
            let mut next = vec![false; self.levels[d + 1].len()];
            for (i, &kept) in keep[d].iter().enumerate() {
                if kept && level.distinct(i) > 1 {
                    let (s, e) = (
                        level.child_start[i] as usize,
                        level.child_start[i + 1] as usize,
                    );
                    next[s..e].iter_mut().for_each(|x| *x = true);
                }
            }
            keep.push(next);
        }
        for d in 0..=k {
            // kept_before[j]: surviving nodes of the next level before old index j.
            let kept_before: Vec<u32> = match keep.get(d + 1) {
                Some(next) => std::iter::once(0)
                    .chain(next.iter().scan(0u32, |acc, &x| {
                        *acc += x as u32;
                        Some(*acc)
                    }))
                    .collect(),
                None => vec![0; self.levels[d].child_start.len()],
            };
            let level = &self.levels[d];
            let mut child_start: Vec<u32> = keep[d]
                .iter()
                .enumerate()
                .filter(|&(_, &x)| x)
                .map(|(i, _)| kept_before[level.child_start[i] as usize])
                .collect();
            child_start.push(*kept_before.last().expect("nonempty"));
            if d == k {
                child_start.iter_mut().for_each(|x| *x = 0);
            }
            self.levels[d].retain_nodes(&keep[d], child_start);
        }
    }

    /// Every stored distribution entry plus every node: the model's size for compute accounting.
    pub fn entry_count(&self) -> u64 {
        self.levels
            .iter()
            .map(|l| (l.len() + l.classes.len()) as u64)
            .sum()
    }
}

impl Level {
    /// Keeps only the nodes marked in `keep`, with their distributions; `child_start` is the
    /// already renumbered child ranges of the kept nodes.
    fn retain_nodes(&mut self, keep: &[bool], child_start: Vec<u32>) {
        let mut out = Level::default();
        out.dist_start.push(0);
        for (i, &k) in keep.iter().enumerate() {
            if !k {
                continue;
            }
            out.keys.push(self.keys[i]);
            let (classes, counts) = self.distribution(i);
            out.classes.extend_from_slice(classes);
            out.counts.extend_from_slice(counts);
            out.dist_start.push(out.classes.len() as u32);
        }
        out.child_start = child_start;
        *self = out;
    }
}
