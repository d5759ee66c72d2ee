//! Scaffold-BPE (Lian et al., AAAI-25): BPE whose low-frequency intermediate tokens ("scaffold
//! tokens") are left out of the final vocabulary.
//!
//! Training ("scaffolding", in [`crate::bpe::engine`]) is ordinary BPE with one priority queue
//! holding both candidate pairs (by pair count) and scaffold tokens (by standalone count). After
//! each merge of (a, b) into t, a child x ∈ {a, b} that is not a byte and whose standalone count
//! falls strictly below the count at the head of the queue becomes a scaffold token: it leaves the
//! vocabulary count and enters the queue; when it reaches the head it re-enters the vocabulary.
//! Training stops when N normal tokens (bytes included) exist. Tie-breaks are those of
//! `shared/tools/scaffold_bpe_oracle.py`: higher count first; on equal count a scaffold token
//! before a pair; pairs by smaller (left id, right id); scaffold tokens by smaller id.
//!
//! Encoding ("demolition") runs BPE with every merge (the expanded vocabulary), then replaces each
//! scaffold token by its two parents, recursively, until only normal tokens remain; ids are compact
//! over the N normal tokens. [`demolition_table`] precomputes that replacement for every token.
//!
//! The tokenizer type is [`crate::bpe::BpeTokenizer`] (kind `scaffold-bpe`), trained by
//! [`crate::bpe::BpeTrainer`] with `scaffold: true`; [`ScaffoldBpeTrainer`] is a shorthand.

use crate::bpe::hash::FastMap;
use crate::bpe::{BpeTokenizer, BpeTrainer};
use lmlab_core::{Error, Result};

/// For every expanded token, the compact ids it encodes to (itself for a normal token, its
/// demolition for a scaffold token); and the expanded id of every compact id.
pub(crate) fn demolition_table(
    scaffold: &[bool],
    parents: &FastMap<u32, (u32, u32)>,
) -> Result<(Vec<Vec<u32>>, Vec<u32>)> {
    let mut compact = vec![u32::MAX; scaffold.len()];
    let mut compact_to_expanded = Vec::new();
    for (e, &is_scaffold) in scaffold.iter().enumerate() {
        if !is_scaffold {
            compact[e] = compact_to_expanded.len() as u32;
            compact_to_expanded.push(e as u32);
        }
    }
    let mut table: Vec<Vec<u32>> = Vec::with_capacity(scaffold.len());
    // Parents always have smaller expanded ids than their child, so one pass in id order works.
    for (e, &is_scaffold) in scaffold.iter().enumerate() {
        if !is_scaffold {
            table.push(vec![compact[e]]);
            continue;
        }
        let &(a, b) = parents.get(&(e as u32)).ok_or_else(|| {
            Error::invalid(format!(
                "Scaffold-BPE tokenizer: scaffold token {e} has no merge that made it"
            ))
        })?;
        if a as usize >= e || b as usize >= e {
            return Err(Error::invalid(format!(
                "Scaffold-BPE tokenizer: token {e} is made of later tokens"
            )));
        }
        let mut ids = table[a as usize].clone();
        ids.extend_from_slice(&table[b as usize]);
        table.push(ids);
    }
    Ok((table, compact_to_expanded))
}

/// Shorthand for [`BpeTrainer`] with `scaffold: true`: N = `vocab_size` normal tokens.
#[derive(Clone, Debug)]
pub struct ScaffoldBpeTrainer {
    /// The BPE options (its `scaffold` field is ignored: always on).
    pub bpe: BpeTrainer,
}

impl ScaffoldBpeTrainer {
    /// Trains a Scaffold-BPE tokenizer on `texts`.
    pub fn train(&self, texts: &[&str]) -> Result<BpeTokenizer> {
        BpeTrainer {
            scaffold: true,
            ..self.bpe.clone()
        }
        .train(texts)
    }
}

#[cfg(test)]
mod tests {
    use crate::bpe::engine::{run, EngineOptions, Learned};

    /// The oracle's self-test: 'ab' is made (count 11), then mostly absorbed by 'abc' (10 of 11),
    /// so its standalone count 1 falls below the next head ('xy', 5) and it becomes scaffold.
    fn train(target: usize, scaffold: bool) -> Learned {
        let base: Vec<Vec<u8>> = [b'a', b'b', b'c', b'x', b'y'].map(|b| vec![b]).to_vec();
        let words = vec![vec![0, 1, 2], vec![0, 1], vec![3, 4]];
        run(
            words,
            vec![10, 1, 5],
            base,
            &EngineOptions {
                target,
                min_frequency: 0,
                scaffold,
                progress: &|_, _| {},
            },
        )
    }

    fn names(learned: &Learned, ids: impl IntoIterator<Item = u32>) -> Vec<String> {
        ids.into_iter()
            .map(|t| String::from_utf8(learned.token_bytes[t as usize].clone()).unwrap())
            .collect()
    }

    #[test]
    fn oracle_selftest() {
        let m = train(7, true);
        assert_eq!(names(&m, m.merges.iter().map(|m| m.2)), ["ab", "abc", "xy"]);
        let scaffold = (0..m.scaffold.len() as u32).filter(|&t| m.scaffold[t as usize]);
        assert_eq!(names(&m, scaffold), ["ab"]);
        assert_eq!(m.n_normal, 7);
        assert_eq!(m.final_freq[5], 1);
        // One more slot: the queue holds only the scaffold token 'ab', which re-enters.
        let m2 = train(8, true);
        assert!(m2.scaffold.iter().all(|&s| !s));
        assert_eq!(m2.n_normal, 8);
        // Plain BPE with the same budget keeps 'ab'.
        let m3 = train(7, false);
        assert_eq!(names(&m3, m3.merges.iter().map(|m| m.2)), ["ab", "abc"]);
    }
}
