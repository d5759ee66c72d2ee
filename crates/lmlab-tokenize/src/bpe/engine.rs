//! The BPE merge loop shared by plain BPE and Scaffold-BPE.
//!
//! Words (pre-tokens with their counts) are symbol sequences; every adjacent pair has a count (over
//! all windows, overlapping ones included, as Hugging Face counts them) and the list of words it may
//! occur in. One lazy max-priority queue holds pair items (by pair count) and, for Scaffold-BPE,
//! scaffold-token items (by standalone count): an item is valid while its count is the current one.
//! A merge rewrites only the words of the merged pair and updates only the pair windows it touches.
//!
//! Order of the queue (the tie-breaks of Hugging Face and of the Scaffold-BPE oracle): higher count
//! first; on equal count a scaffold token before a pair; pairs by smaller (left id, right id).

use super::hash::FastMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What a training run learned, in expanded ids (base symbols 0..256, then merged tokens in
/// creation order).
#[derive(Clone, Debug, Default)]
#[allow(dead_code)] // final_freq and n_normal: kept for analysis and tests
pub struct Learned {
    /// The bytes of each expanded token.
    pub token_bytes: Vec<Vec<u8>>,
    /// Merges in order: (left, right, result).
    pub merges: Vec<(u32, u32, u32)>,
    /// Which expanded tokens are scaffold tokens at the end (always false for plain BPE).
    pub scaffold: Vec<bool>,
    /// Standalone count of each expanded token in the training words at the end.
    pub final_freq: Vec<i64>,
    /// Number of normal tokens (base symbols + normal merged tokens).
    pub n_normal: usize,
}

/// Options of one run.
pub struct EngineOptions<'p> {
    /// Stop when this many normal tokens (base symbols included) exist.
    pub target: usize,
    /// Stop when the head of the queue has a smaller count (at least 1).
    pub min_frequency: u64,
    /// Scaffold-BPE (true) or plain BPE.
    pub scaffold: bool,
    /// Called after each step with (normal tokens learned beyond the base, target beyond the base).
    pub progress: &'p dyn Fn(usize, usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Item {
    count: u64,
    /// A scaffold-token item (`a` is the token) beats a pair item of equal count.
    scaffold: bool,
    a: Reverse<u32>,
    b: Reverse<u32>,
}

struct Slot {
    a: u32,
    b: u32,
    count: i64,
    /// Words the pair may occur in (stale entries and duplicates allowed; cleaned when merged).
    words: Vec<u32>,
    /// Step at which the slot last changed (to list changed pairs once).
    stamp: u32,
}

struct State {
    words: Vec<Vec<u32>>,
    counts: Vec<i64>,
    index: FastMap<u64, u32>,
    slots: Vec<Slot>,
    changed: Vec<u32>,
    stamp: u32,
}

#[inline]
fn key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

impl State {
    #[inline]
    fn add(&mut self, a: u32, b: u32, delta: i64, word: Option<u32>) {
        let next = self.slots.len() as u32;
        let idx = *self.index.entry(key(a, b)).or_insert(next);
        if idx == next {
            self.slots.push(Slot {
                a,
                b,
                count: 0,
                words: Vec::new(),
                stamp: u32::MAX,
            });
        }
        let slot = &mut self.slots[idx as usize];
        slot.count += delta;
        if let Some(w) = word {
            slot.words.push(w);
        }
        if slot.stamp != self.stamp {
            slot.stamp = self.stamp;
            self.changed.push(idx);
        }
    }

    /// Merges every occurrence of slot `p`'s pair into `t`; returns the number of merged
    /// occurrences weighted by word counts.
    fn merge(&mut self, p: usize, t: u32) -> i64 {
        let (a, b) = (self.slots[p].a, self.slots[p].b);
        let mut list = std::mem::take(&mut self.slots[p].words);
        list.sort_unstable();
        list.dedup();
        let mut old = Vec::new();
        let mut old_flag: Vec<bool> = Vec::new();
        let mut new_flag: Vec<bool> = Vec::new();
        let mut total = 0i64;
        for &wi in &list {
            let w = &mut self.words[wi as usize];
            if !w.windows(2).any(|x| x[0] == a && x[1] == b) {
                continue;
            }
            old.clear();
            old.extend_from_slice(w);
            old_flag.clear();
            old_flag.resize(old.len(), false);
            new_flag.clear();
            w.clear();
            let mut i = 0;
            let mut k = 0i64;
            while i < old.len() {
                if i + 1 < old.len() && old[i] == a && old[i + 1] == b {
                    w.push(t);
                    new_flag.push(true);
                    old_flag[i] = true;
                    old_flag[i + 1] = true;
                    i += 2;
                    k += 1;
                } else {
                    w.push(old[i]);
                    new_flag.push(false);
                    i += 1;
                }
            }
            let c = self.counts[wi as usize];
            let new = std::mem::take(&mut self.words[wi as usize]);
            for j in 0..old.len() - 1 {
                if old_flag[j] || old_flag[j + 1] {
                    self.add(old[j], old[j + 1], -c, None);
                }
            }
            for j in 0..new.len().saturating_sub(1) {
                if new_flag[j] || new_flag[j + 1] {
                    self.add(new[j], new[j + 1], c, Some(wi));
                }
            }
            self.words[wi as usize] = new;
            total += k * c;
        }
        total
    }
}

/// Runs BPE (or Scaffold-BPE) over `words` (symbol sequences over `base` base symbols, whose
/// bytes are `base_bytes`) with their counts.
pub fn run(
    words: Vec<Vec<u32>>,
    counts: Vec<i64>,
    base_bytes: Vec<Vec<u8>>,
    options: &EngineOptions<'_>,
) -> Learned {
    let n_base = base_bytes.len();
    let mut token_bytes = base_bytes;
    let mut token_index: FastMap<Vec<u8>, u32> = token_bytes
        .iter()
        .enumerate()
        .map(|(i, b)| (b.clone(), i as u32))
        .collect();
    let mut freq = vec![0i64; n_base];
    for (w, &c) in words.iter().zip(&counts) {
        for &s in w {
            freq[s as usize] += c;
        }
    }
    let mut state = State {
        words,
        counts,
        index: FastMap::default(),
        slots: Vec::new(),
        changed: Vec::new(),
        stamp: 0,
    };
    for wi in 0..state.words.len() {
        let c = state.counts[wi];
        for j in 0..state.words[wi].len().saturating_sub(1) {
            let (a, b) = (state.words[wi][j], state.words[wi][j + 1]);
            state.add(a, b, c, Some(wi as u32));
        }
    }
    state.changed.clear();
    let mut heap: BinaryHeap<Item> = state
        .slots
        .iter()
        .filter(|s| s.count > 0)
        .map(|s| pair_item(s.a, s.b, s.count))
        .collect();
    let mut is_scaffold = vec![false; n_base];
    let mut merges = Vec::new();
    let mut n_normal = n_base;
    let min_count = options.min_frequency.max(1);
    let total = options.target.saturating_sub(n_base);
    let mut shown = 0;

    let valid = |item: &Item, state: &State, is_scaffold: &[bool], freq: &[i64]| -> bool {
        let count = item.count as i64;
        if item.scaffold {
            let t = item.a.0 as usize;
            is_scaffold[t] && freq[t] == count
        } else {
            state
                .index
                .get(&key(item.a.0, item.b.0))
                .is_some_and(|&i| state.slots[i as usize].count == count)
        }
    };

    while n_normal < options.target {
        while heap
            .peek()
            .is_some_and(|top| !valid(top, &state, &is_scaffold, &freq))
        {
            heap.pop();
        }
        let Some(top) = heap.pop() else { break };
        if top.count < min_count {
            break;
        }
        if top.scaffold {
            // A scaffold token reached the head: it re-enters the vocabulary.
            is_scaffold[top.a.0 as usize] = false;
            n_normal += 1;
        } else {
            let (a, b) = (top.a.0, top.b.0);
            let mut bytes = token_bytes[a as usize].clone();
            bytes.extend_from_slice(&token_bytes[b as usize]);
            let t = match token_index.get(&bytes) {
                Some(&t) => {
                    // The same string reached by another pair (rare): no new token.
                    if is_scaffold[t as usize] {
                        is_scaffold[t as usize] = false;
                        n_normal += 1;
                    }
                    t
                }
                None => {
                    let t = token_bytes.len() as u32;
                    token_index.insert(bytes.clone(), t);
                    token_bytes.push(bytes);
                    freq.push(0);
                    is_scaffold.push(false);
                    n_normal += 1;
                    t
                }
            };
            merges.push((a, b, t));
            state.stamp = state.stamp.wrapping_add(1);
            let p = state.index[&key(a, b)] as usize;
            let k = state.merge(p, t);
            for &idx in &state.changed {
                let slot = &state.slots[idx as usize];
                if slot.count > 0 {
                    heap.push(pair_item(slot.a, slot.b, slot.count));
                }
            }
            state.changed.clear();
            freq[a as usize] -= k;
            freq[b as usize] -= k;
            freq[t as usize] += k;
            if options.scaffold {
                let kids: Vec<u32> = if a == b { vec![a] } else { vec![a, b] };
                let kids: Vec<u32> = kids
                    .into_iter()
                    .filter(|&x| (x as usize) >= n_base)
                    .collect();
                for &x in &kids {
                    if is_scaffold[x as usize] && freq[x as usize] > 0 {
                        heap.push(scaffold_item(x, freq[x as usize]));
                    }
                }
                while heap
                    .peek()
                    .is_some_and(|top| !valid(top, &state, &is_scaffold, &freq))
                {
                    heap.pop();
                }
                let head = heap.peek().map_or(0, |top| top.count as i64);
                for &x in &kids {
                    let x = x as usize;
                    if !is_scaffold[x] && freq[x] < head {
                        is_scaffold[x] = true;
                        n_normal -= 1;
                        if freq[x] > 0 {
                            heap.push(scaffold_item(x as u32, freq[x]));
                        }
                    }
                }
            }
        }
        let done = n_normal - n_base;
        if done > shown || n_normal >= options.target {
            shown = shown.max(done);
            (options.progress)(shown.min(total), total);
        }
    }
    Learned {
        token_bytes,
        merges,
        scaffold: is_scaffold,
        final_freq: freq,
        n_normal,
    }
}

fn pair_item(a: u32, b: u32, count: i64) -> Item {
    Item {
        count: count as u64,
        scaffold: false,
        a: Reverse(a),
        b: Reverse(b),
    }
}

fn scaffold_item(t: u32, count: i64) -> Item {
    Item {
        count: count as u64,
        scaffold: true,
        a: Reverse(t),
        b: Reverse(u32::MAX),
    }
}
