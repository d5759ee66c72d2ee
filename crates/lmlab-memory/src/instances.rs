//! Instances as OLIFANT builds them: the `K` tokens before each position (nearest first, `<s>`
//! where the sequence has not started yet) and the token at that position, stored column-wise.

use lmlab_core::model::TokenSequence;
use lmlab_core::TokenId;

/// Weighted instances, column-wise: `columns[j][i]` is the token `j + 1` positions before the class
/// `classes[i]`, which was seen `counts[i]` times in that context.
#[derive(Clone, Debug, Default)]
pub(crate) struct Instances {
    pub columns: Vec<Vec<TokenId>>,
    pub classes: Vec<TokenId>,
    pub counts: Vec<u32>,
}

impl Instances {
    /// No instances over `context` features.
    pub fn new(context: usize) -> Instances {
        Instances {
            columns: vec![Vec::new(); context],
            classes: Vec::new(),
            counts: Vec::new(),
        }
    }

    /// Number of (weighted) rows.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Appends one instance per token of every sequence; each sequence starts from `pad`.
    pub fn extend_from_sequences(&mut self, sequences: &[TokenSequence], pad: TokenId) {
        let total: usize = sequences.iter().map(|s| s.ids.len()).sum();
        for column in &mut self.columns {
            column.reserve(total);
        }
        self.classes.reserve(total);
        self.counts.reserve(total);
        for sequence in sequences {
            let ids = &sequence.ids;
            for (i, &token) in ids.iter().enumerate() {
                for (j, column) in self.columns.iter_mut().enumerate() {
                    column.push(if i > j { ids[i - 1 - j] } else { pad });
                }
                self.classes.push(token);
                self.counts.push(1);
            }
        }
        debug_assert!(self.columns.iter().all(|c| c.len() == self.classes.len()));
    }

    /// Appends one weighted row; `context` is nearest first.
    pub fn push(&mut self, context: &[TokenId], class: TokenId, count: u32) {
        for (column, &value) in self.columns.iter_mut().zip(context) {
            column.push(value);
        }
        self.classes.push(class);
        self.counts.push(count);
    }
}

/// The feature values of a query: the last `k` tokens of `<s>` + `context`, nearest first, `pad`
/// where the context is too short.
pub(crate) fn query_features(context: &[TokenId], k: usize, pad: TokenId, out: &mut Vec<TokenId>) {
    out.clear();
    for j in 0..k {
        out.push(if j < context.len() {
            context[context.len() - 1 - j]
        } else {
            pad
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_nearest_first_and_padded() {
        let seq = TokenSequence {
            ids: vec![5, 6, 7],
            ..Default::default()
        };
        let mut inst = Instances::new(2);
        inst.extend_from_sequences(&[seq], 1);
        assert_eq!(inst.classes, vec![5, 6, 7]);
        assert_eq!(inst.columns[0], vec![1, 5, 6]);
        assert_eq!(inst.columns[1], vec![1, 1, 5]);
        let mut q = Vec::new();
        query_features(&[5, 6, 7], 2, 1, &mut q);
        assert_eq!(q, vec![7, 6]);
        query_features(&[], 2, 1, &mut q);
        assert_eq!(q, vec![1, 1]);
    }
}
