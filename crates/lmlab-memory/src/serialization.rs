//! The "memory" model file: the common header, then a payload of little-endian arrays.
//!
//! Payload (format version 1): algorithm (0 igtree, 1 tribl2), context `K`, pruned flag; the `K`
//! gain ratios; the feature order; the classes in order of first appearance; then per depth
//! 0..=K one varint section ([`crate::codec`]): the node count, then for every node its key (zigzag
//! delta from the previous node's key), its number of children, and — for childless nodes only —
//! its distribution: length, classes (first absolute, then gaps minus one), counts minus one.
//! Every other node's distribution is the sum of its children's and is rebuilt on load.

use crate::codec::{VarintReader, VarintWriter};
use crate::model::MemoryModel;
use crate::options::{Algorithm, MemoryOptions};
use crate::tree::{Level, Tree};
use crate::{KIND, KIND_VERSION};
use lmlab_core::model_file::{
    write_model_file, ModelFile, ModelHeader, PayloadReader, PayloadWriter, Provenance,
};
use lmlab_core::{Error, Result};
use std::path::Path;

impl MemoryModel {
    /// Writes the model file atomically.
    pub fn save(&self, path: &Path, provenance: Provenance) -> Result<()> {
        let header = ModelHeader::new(KIND, KIND_VERSION, self.tokenizer.as_ref(), provenance);
        write_model_file(path, &header, &self.payload())
    }

    fn payload(&self) -> Vec<u8> {
        let mut w = PayloadWriter::new();
        w.u64(match self.options.algorithm {
            Algorithm::IgTree => 0,
            Algorithm::Tribl2 => 1,
        });
        w.u64(self.options.context as u64);
        w.u64(self.options.prune as u64);
        for &x in &self.weights {
            w.f64(x);
        }
        let order: Vec<u32> = self.tree.order.iter().map(|&p| p as u32).collect();
        w.u32_slice(&order);
        w.u32_slice(&self.first_seen);
        for level in &self.tree.levels {
            let (len, words) = encode_level(level);
            w.u64(len);
            w.u32_slice(&words);
        }
        w.finish()
    }

    /// Loads a model file written by [`MemoryModel::save`].
    pub fn load(path: &Path) -> Result<MemoryModel> {
        let file = ModelFile::open(path)?;
        Self::from_file(&file)
    }

    /// Rebuilds the model from an opened model file, checking that every array agrees.
    pub fn from_file(file: &ModelFile) -> Result<MemoryModel> {
        let path = file.path();
        file.header().require_kind(path, KIND, KIND_VERSION)?;
        let tokenizer = lmlab_tokenize::tokenizer_from_json(&file.header().tokenizer)
            .map_err(|e| Error::bad_file(path, e.to_string()))?;
        let corrupt = |what: &str| {
            Error::bad_file(path, format!("memory model {what}; the file is corrupted"))
        };
        let vocab = tokenizer.vocab().len();
        let mut r = PayloadReader::new(path, file.payload());
        let algorithm = match r.u64()? {
            0 => Algorithm::IgTree,
            1 => Algorithm::Tribl2,
            other => return Err(corrupt(&format!("has unknown algorithm {other}"))),
        };
        let context = r.u64()?;
        if context == 0 || context > 255 {
            return Err(corrupt(&format!("has context {context}")));
        }
        let k = context as usize;
        let prune = match r.u64()? {
            0 => false,
            1 => true,
            _ => return Err(corrupt("has a bad pruning flag")),
        };
        let options = MemoryOptions {
            algorithm,
            context: k,
            prune,
        };
        let weights = (0..k).map(|_| r.f64()).collect::<Result<Vec<f64>>>()?;
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(corrupt("has a negative or non-finite feature weight"));
        }
        let order: Vec<usize> = r.u32_vec()?.into_iter().map(|p| p as usize).collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        if sorted != (0..k).collect::<Vec<_>>() {
            return Err(corrupt("feature order is not a permutation of the context"));
        }
        let first_seen = r.u32_vec()?;
        let mut seen = vec![false; vocab];
        for &c in &first_seen {
            match seen.get_mut(c as usize) {
                Some(s) if !*s => *s = true,
                _ => {
                    return Err(corrupt(
                        "class list repeats a class or leaves the vocabulary",
                    ))
                }
            }
        }
        let mut stored = Vec::with_capacity(k + 1);
        for d in 0..=k {
            let len = r.u64()?;
            let words = r.u32_vec()?;
            let level = VarintReader::new(len, &words)
                .and_then(decode_level)
                .ok_or_else(|| corrupt(&format!("section of depth {d} does not decode")))?;
            stored.push(level);
        }
        r.finish()?;
        let levels = rebuild_levels(stored, vocab).map_err(|what| corrupt(&what))?;
        if levels[0].len() != 1 || levels[0].totals_sum() == 0 {
            return Err(corrupt("has no root"));
        }
        if levels[0].classes.iter().any(|&c| !seen[c as usize]) {
            return Err(corrupt("class list misses a stored class"));
        }
        let tree = Tree { order, levels };
        Ok(MemoryModel::assemble(
            tokenizer, options, weights, tree, first_seen,
        ))
    }
}

/// One level as stored: keys, child starts, starts of the childless nodes' distributions, their
/// classes and counts.
type StoredLevel = (Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>);

/// Encodes one level (see the module documentation).
fn encode_level(level: &Level) -> (u64, Vec<u32>) {
    let mut w = VarintWriter::default();
    w.u64(level.len() as u64);
    let mut previous = 0i64;
    for i in 0..level.len() {
        w.i64(level.keys[i] as i64 - previous);
        previous = level.keys[i] as i64;
        let children = level.child_start[i + 1] - level.child_start[i];
        w.u64(children as u64);
        if children == 0 {
            let (classes, counts) = level.distribution(i);
            w.u64(classes.len() as u64);
            let mut last = None;
            for (&c, &n) in classes.iter().zip(counts) {
                w.u64(match last {
                    None => c as u64,
                    Some(l) => (c - l - 1) as u64,
                });
                last = Some(c);
                w.u64(n as u64 - 1);
            }
        }
    }
    w.finish()
}

/// Decodes one level; `None` when the bytes are not a level.
fn decode_level(mut r: VarintReader) -> Option<StoredLevel> {
    let n = usize::try_from(r.u64()?).ok()?;
    // Every node takes at least two bytes: refuse absurd counts before allocating.
    if n > r.remaining() / 2 {
        return None;
    }
    let (mut keys, mut child_start) = (Vec::with_capacity(n), vec![0u32]);
    let (mut starts, mut classes, mut counts) = (vec![0u32], Vec::new(), Vec::new());
    let mut previous = 0i64;
    for _ in 0..n {
        let key = previous.checked_add(r.i64()?)?;
        keys.push(u32::try_from(key).ok()?);
        previous = key;
        let children = r.u32()?;
        child_start.push(child_start.last()?.checked_add(children)?);
        if children == 0 {
            let len = usize::try_from(r.u64()?).ok()?;
            if len == 0 || len > r.remaining() {
                return None;
            }
            let mut last: Option<u32> = None;
            for _ in 0..len {
                let gap = r.u32()?;
                let class = match last {
                    None => gap,
                    Some(l) => l.checked_add(gap)?.checked_add(1)?,
                };
                classes.push(class);
                last = Some(class);
                counts.push(r.u32()?.checked_add(1)?);
            }
            starts.push(u32::try_from(classes.len()).ok()?);
        }
    }
    r.is_done()
        .then_some((keys, child_start, starts, classes, counts))
}

/// Checks the stored arrays and rebuilds every interior node's distribution from its children's,
/// deepest level first.
fn rebuild_levels(
    stored: Vec<StoredLevel>,
    vocab: usize,
) -> std::result::Result<Vec<Level>, String> {
    let k = stored.len() - 1;
    let mut levels: Vec<Level> = (0..=k).map(|_| Level::default()).collect();
    for d in (0..=k).rev() {
        let (keys, child_start, starts, classes, counts) = &stored[d];
        let n = keys.len();
        let next_len = if d < k { levels[d + 1].len() } else { 0 };
        let ok = child_start.len() == n + 1
            && child_start.first() == Some(&0)
            && child_start.windows(2).all(|w| w[0] <= w[1])
            && child_start.last().map(|&x| x as usize) == Some(next_len)
            && classes.len() == counts.len()
            && starts.first() == Some(&0)
            && starts.windows(2).all(|w| w[0] < w[1])
            && starts.last().map(|&x| x as usize) == Some(classes.len())
            && counts.iter().all(|&c| c > 0)
            && classes.iter().all(|&c| (c as usize) < vocab)
            && keys.iter().all(|&x| (x as usize) < vocab || d == 0);
        if !ok {
            return Err(format!("arrays of depth {d} disagree"));
        }
        let childless = child_start.windows(2).filter(|w| w[0] == w[1]).count();
        if childless != starts.len() - 1 {
            return Err(format!(
                "depth {d} stores the wrong number of distributions"
            ));
        }
        if d < k {
            for w in child_start.windows(2) {
                let range = &levels[d + 1].keys[w[0] as usize..w[1] as usize];
                if range.windows(2).any(|p| p[0] >= p[1]) {
                    return Err(format!("children at depth {} are not sorted", d + 1));
                }
            }
        }
        let mut level = Level {
            keys: keys.clone(),
            child_start: child_start.clone(),
            dist_start: vec![0],
            ..Level::default()
        };
        let mut next_stored = 0usize;
        let mut scratch: Vec<(u32, u32)> = Vec::new();
        for i in 0..n {
            scratch.clear();
            let (s, e) = (child_start[i] as usize, child_start[i + 1] as usize);
            if s == e {
                let (a, b) = (
                    starts[next_stored] as usize,
                    starts[next_stored + 1] as usize,
                );
                next_stored += 1;
                if classes[a..b].windows(2).any(|p| p[0] >= p[1]) {
                    return Err(format!("a distribution at depth {d} is not sorted"));
                }
                scratch.extend(
                    classes[a..b]
                        .iter()
                        .copied()
                        .zip(counts[a..b].iter().copied()),
                );
            } else {
                let below = &levels[d + 1];
                for child in s..e {
                    let (c, m) = below.distribution(child);
                    scratch.extend(c.iter().copied().zip(m.iter().copied()));
                }
                scratch.sort_unstable_by_key(|&(c, _)| c);
            }
            for &(c, m) in &scratch {
                if level.classes.len() > *level.dist_start.last().expect("start") as usize
                    && level.classes.last() == Some(&c)
                {
                    let last = level.counts.last_mut().expect("a count");
                    *last = last.checked_add(m).ok_or("a count overflows")?;
                } else {
                    level.classes.push(c);
                    level.counts.push(m);
                }
            }
            let start = *level.dist_start.last().expect("a start") as usize;
            let total: u64 = level.counts[start..].iter().map(|&c| c as u64).sum();
            if total > u32::MAX as u64 / 2 {
                return Err(format!("a node at depth {d} holds too many instances"));
            }
            level.dist_start.push(level.classes.len() as u32);
        }
        levels[d] = level;
    }
    Ok(levels)
}

impl Level {
    fn totals_sum(&self) -> u64 {
        self.counts.iter().map(|&c| c as u64).sum()
    }
}
