//! The chunk datastore: for each entry token, a prefix trie of the chunks that followed it and
//! every occurrence's entry state; retrieval is the best cosine among the entry token's states.

use crate::layers::linear::dot;
use lmlab_core::model_file::{PayloadReader, PayloadWriter};
use lmlab_core::{Error, Result, TokenId};
use std::collections::HashMap;
use std::path::Path;

/// Parent of a trie root (a root is an entry token).
const ROOT: u32 = u32::MAX;

/// Chunks keyed by entry token, with the target's hidden state at each occurrence's entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkStore {
    dim: usize,
    vocab: usize,
    /// Trie nodes: each one's parent ([`ROOT`] for an entry token's root) and token. A parent
    /// always comes before its children.
    parent: Vec<u32>,
    token: Vec<u32>,
    /// Occurrences of entry token `e`: `offsets[e]..offsets[e + 1]`.
    offsets: Vec<u64>,
    /// Each occurrence's last chunk node.
    ends: Vec<u32>,
    /// Each occurrence's entry state, `dim` values.
    states: Vec<f32>,
    /// 1 / ‖state‖ per occurrence (0 for a zero state), derived.
    inv_norms: Vec<f64>,
}

/// Collects occurrences in corpus order; [`StoreBuilder::finish`] groups them by entry token.
pub struct StoreBuilder {
    dim: usize,
    vocab: usize,
    parent: Vec<u32>,
    token: Vec<u32>,
    children: HashMap<(u32, u32), u32>,
    occurrences: Vec<(TokenId, u32)>,
    states: Vec<f32>,
}

impl StoreBuilder {
    /// An empty store for states of `dim` values over a vocabulary of `vocab` ids.
    pub fn new(dim: usize, vocab: usize) -> Self {
        StoreBuilder {
            dim,
            vocab,
            parent: Vec::new(),
            token: Vec::new(),
            children: HashMap::new(),
            occurrences: Vec::new(),
            states: Vec::new(),
        }
    }

    fn node(&mut self, parent: u32, token: TokenId) -> u32 {
        let next = self.parent.len() as u32;
        let id = *self.children.entry((parent, token)).or_insert(next);
        if id == next {
            self.parent.push(parent);
            self.token.push(token);
        }
        id
    }

    /// Adds one occurrence: `tokens` followed `entry`, whose state was `state`.
    pub fn add(&mut self, entry: TokenId, tokens: &[TokenId], state: &[f32]) {
        let mut at = self.node(ROOT, entry);
        for &t in tokens {
            at = self.node(at, t);
        }
        self.occurrences.push((entry, at));
        self.states.extend_from_slice(state);
    }

    /// Occurrences added so far.
    pub fn len(&self) -> usize {
        self.occurrences.len()
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.occurrences.is_empty()
    }

    /// The store: occurrences grouped by entry token, in the order they were added within each.
    pub fn finish(self) -> ChunkStore {
        let mut order: Vec<usize> = (0..self.occurrences.len()).collect();
        order.sort_by_key(|&o| self.occurrences[o].0);
        let mut offsets = vec![0u64; self.vocab + 1];
        for &(entry, _) in &self.occurrences {
            offsets[entry as usize + 1] += 1;
        }
        for e in 0..self.vocab {
            offsets[e + 1] += offsets[e];
        }
        let d = self.dim;
        let ends = order.iter().map(|&o| self.occurrences[o].1).collect();
        let mut states = Vec::with_capacity(self.states.len());
        for &o in &order {
            states.extend_from_slice(&self.states[o * d..(o + 1) * d]);
        }
        ChunkStore::from_parts(
            d,
            self.vocab,
            self.parent,
            self.token,
            offsets,
            ends,
            states,
        )
    }
}

impl ChunkStore {
    fn from_parts(
        dim: usize,
        vocab: usize,
        parent: Vec<u32>,
        token: Vec<u32>,
        offsets: Vec<u64>,
        ends: Vec<u32>,
        states: Vec<f32>,
    ) -> ChunkStore {
        let inv_norms = states.chunks_exact(dim.max(1)).map(inverse_norm).collect();
        ChunkStore {
            dim,
            vocab,
            parent,
            token,
            offsets,
            ends,
            states,
            inv_norms,
        }
    }

    /// Values per state (the target's `n_embd`).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Occurrences stored.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when no chunk is stored.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Distinct (entry, chunk) pairs: trie nodes some occurrence ends at.
    pub fn distinct_chunks(&self) -> usize {
        let mut ends = self.ends.clone();
        ends.sort_unstable();
        ends.dedup();
        ends.len()
    }

    /// Mean chunk length (tokens after the entry) over the occurrences.
    pub fn mean_chunk_len(&self) -> f64 {
        let total: usize = self.ends.iter().map(|&n| self.depth(n)).sum();
        total as f64 / self.len().max(1) as f64
    }

    /// Tokens after the entry on the path to `node`.
    fn depth(&self, mut node: u32) -> usize {
        let mut depth = 0;
        while self.parent[node as usize] != ROOT {
            node = self.parent[node as usize];
            depth += 1;
        }
        depth
    }

    /// The occurrence of entry token `entry` whose state is most cosine-similar to `state` (the
    /// first among equals) and that similarity; `None` when `entry` has none.
    pub fn best_match(&self, entry: TokenId, state: &[f32]) -> Option<(f64, usize)> {
        let e = entry as usize;
        if e >= self.vocab {
            return None;
        }
        let (from, to) = (self.offsets[e] as usize, self.offsets[e + 1] as usize);
        let inv = inverse_norm(state);
        let d = self.dim;
        let mut best: Option<(f64, usize)> = None;
        for o in from..to {
            let s = &self.states[o * d..(o + 1) * d];
            let cos = dot(s, state) as f64 * self.inv_norms[o] * inv;
            if best.is_none_or(|(b, _)| cos > b) {
                best = Some((cos, o));
            }
        }
        best
    }

    /// Writes occurrence `o`'s chunk tokens (after its entry) into `out`, replacing its contents.
    pub fn chunk_into(&self, o: usize, out: &mut Vec<TokenId>) {
        out.clear();
        let mut node = self.ends[o];
        while self.parent[node as usize] != ROOT {
            out.push(self.token[node as usize]);
            node = self.parent[node as usize];
        }
        out.reverse();
    }

    /// The payload of a chunks file.
    pub fn to_payload(&self) -> Vec<u8> {
        let mut w = PayloadWriter::new();
        w.u64(self.dim as u64);
        w.u64(self.vocab as u64);
        w.u32_slice(&self.parent);
        w.u32_slice(&self.token);
        w.u64_slice(&self.offsets);
        w.u32_slice(&self.ends);
        let bits: Vec<u32> = self.states.iter().map(|s| s.to_bits()).collect();
        w.u32_slice(&bits);
        w.finish()
    }

    /// Reads [`ChunkStore::to_payload`]'s bytes, checking every index (`path` names the file).
    pub fn from_payload(path: &Path, bytes: &[u8]) -> Result<ChunkStore> {
        let mut r = PayloadReader::new(path, bytes);
        let dim = r.u64()? as usize;
        let vocab = r.u64()? as usize;
        let parent = r.u32_vec()?;
        let token = r.u32_vec()?;
        let offsets = r.u64_vec()?;
        let ends = r.u32_vec()?;
        let states: Vec<f32> = r.u32_vec()?.into_iter().map(f32::from_bits).collect();
        r.finish()?;
        let bad = |what: String| Err(Error::bad_file(path, what));
        let nodes = parent.len();
        if token.len() != nodes {
            return bad(format!("{} trie tokens for {nodes} nodes", token.len()));
        }
        for (i, (&p, &t)) in parent.iter().zip(&token).enumerate() {
            if (p != ROOT && p as usize >= i) || t as usize >= vocab {
                return bad(format!(
                    "trie node {i} (parent {p}, token {t}) is out of order"
                ));
            }
        }
        let n = ends.len();
        let monotone = offsets.windows(2).all(|w| w[0] <= w[1]);
        if offsets.len() != vocab + 1 || offsets[0] != 0 || !monotone || offsets[vocab] != n as u64
        {
            return bad(format!(
                "the entry offsets do not index {n} occurrences over {vocab} tokens"
            ));
        }
        if dim == 0 || states.len() != n * dim {
            return bad(format!(
                "{} state values for {n} occurrences of dimension {dim}",
                states.len()
            ));
        }
        let store = ChunkStore::from_parts(dim, vocab, parent, token, offsets, ends, states);
        for e in 0..vocab {
            for o in store.offsets[e] as usize..store.offsets[e + 1] as usize {
                let end = store.ends[o] as usize;
                if end >= nodes || store.root_token(store.ends[o]) != e as TokenId {
                    return bad(format!("occurrence {o} does not end in entry {e}'s trie"));
                }
                if store.parent[end] == ROOT {
                    return bad(format!("occurrence {o} holds no chunk token"));
                }
            }
        }
        Ok(store)
    }

    fn root_token(&self, mut node: u32) -> TokenId {
        while self.parent[node as usize] != ROOT {
            node = self.parent[node as usize];
        }
        self.token[node as usize]
    }
}

/// 1 / ‖v‖ in f64, 0 for a zero vector (whose cosine with anything is then 0).
fn inverse_norm(v: &[f32]) -> f64 {
    let norm = v
        .iter()
        .map(|&x| (x as f64) * (x as f64))
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 {
        1.0 / norm
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> ChunkStore {
        let mut b = StoreBuilder::new(2, 6);
        b.add(3, &[4, 5], &[1.0, 0.0]);
        b.add(1, &[2, 2], &[0.0, 1.0]);
        b.add(3, &[4], &[0.6, 0.8]);
        b.add(3, &[4, 5], &[-1.0, 0.0]);
        b.finish()
    }

    #[test]
    fn retrieval_takes_the_most_similar_state_of_the_entry() {
        let s = store();
        assert_eq!((s.len(), s.distinct_chunks()), (4, 3));
        let (cos, o) = s.best_match(3, &[2.0, 0.1]).unwrap();
        let mut chunk = Vec::new();
        s.chunk_into(o, &mut chunk);
        assert_eq!(chunk, vec![4, 5]);
        assert!((cos - 2.0 / (4.01f64).sqrt()).abs() < 1e-6);
        let (cos, o) = s.best_match(3, &[0.0, 1.0]).unwrap();
        s.chunk_into(o, &mut chunk);
        assert_eq!(
            (chunk.as_slice(), (cos - 0.8).abs() < 1e-6),
            (&[4][..], true)
        );
        assert_eq!(s.best_match(2, &[1.0, 0.0]), None);
        assert_eq!(s.best_match(99, &[1.0, 0.0]), None);
    }

    #[test]
    fn a_payload_reads_back_and_a_damaged_one_is_refused() {
        let s = store();
        let path = Path::new("chunks.lmlab");
        assert_eq!(ChunkStore::from_payload(path, &s.to_payload()).unwrap(), s);
        let mut bad = s.clone();
        bad.ends[0] = 0; // a root: no chunk token
        let err = ChunkStore::from_payload(path, &bad.to_payload()).unwrap_err();
        assert!(err.to_string().contains("occurrence 0"), "{err}");
    }
}
