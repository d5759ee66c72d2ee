//! Scoring sequences a group of positions at a time (the positions of several short sequences
//! share a group). A GLM query visits every skip
//! pattern, and each visit is a chain of dependent cache misses (history index slot → row data →
//! entry index slot → entry). One position's chain cannot go faster, but the chains of different
//! positions are independent: so for each pattern, every position of the group takes one step of
//! its chain and asks for the next step's memory (a prefetch) before any position takes the next
//! step, and the misses of the group overlap. Same arithmetic as [`GlmModel::prob`], so the same
//! bits (test). Positions near the start of a sequence, whose history is shorter than N − 1 words,
//! skip the patterns they do not reach.

use super::model::{lower_mean, GlmModel};
use super::options::MAX_ORDER;
use super::pattern::{children, full, kept_words};
use lmlab_core::TokenId;

/// Positions scored together: enough independent misses in flight to fill the core's miss
/// buffers (measured on PTB at order 5: 16 was slower than 64; 128 no faster).
const GROUP: usize = 64;

/// One position of a group.
#[derive(Clone, Copy)]
struct Position {
    word: TokenId,
    /// Where its history starts in the context, and how many words it has (N − 1 but near the
    /// start of the sequence).
    history_start: usize,
    history_len: usize,
    kept: [u32; 8],
    kept_len: usize,
    slot: usize,
    row: Option<usize>,
    entry_slot: usize,
}

impl GlmModel {
    /// ln P of every token of each of `sequences`, each after `<s>` and its tokens before it: the
    /// positions of all sequences go through [`GlmModel::score_group`] a group at a time.
    pub(crate) fn grouped_log_probs(&self, sequences: &[&[TokenId]]) -> Vec<Vec<f64>> {
        let n = self.order - 1;
        // Every sequence's context, `<s>` first, one after the other.
        let mut context = Vec::with_capacity(sequences.iter().map(|s| s.len() + 1).sum());
        // (sequence, position in it, where its context starts) of every position.
        let mut positions = Vec::with_capacity(context.capacity());
        for (q, tokens) in sequences.iter().enumerate() {
            let base = context.len();
            context.push(self.bos);
            context.extend_from_slice(tokens);
            positions.extend((0..tokens.len()).map(|i| (q, i, base)));
        }
        let mut out: Vec<Vec<f64>> = sequences
            .iter()
            .map(|s| Vec::with_capacity(s.len()))
            .collect();
        let mut values = vec![[0f64; 1 << (MAX_ORDER - 1)]; GROUP];
        let mut group = [Position {
            word: 0,
            history_start: 0,
            history_len: 0,
            kept: [0; 8],
            kept_len: 0,
            slot: 0,
            row: None,
            entry_slot: 0,
        }; GROUP];
        for chunk in positions.chunks(GROUP) {
            // Position i of a sequence predicts its tokens[i] from `<s>` tokens[..i], of which it
            // reads the last N − 1 words.
            for (p, &(q, i, base)) in group.iter_mut().zip(chunk) {
                p.word = sequences[q][i];
                p.history_len = n.min(i + 1);
                p.history_start = base + i + 1 - p.history_len;
            }
            let group = &mut group[..chunk.len()];
            self.score_group(&context, group, &mut values);
            for ((p, v), &(q, _, _)) in group.iter().zip(&values).zip(chunk) {
                out[q].push(if p.word == self.bos {
                    f64::NEG_INFINITY
                } else {
                    v[full(p.history_len) as usize].ln()
                });
            }
        }
        out
    }

    /// Fills `values[g]` with the estimate of every pattern position g's history reaches.
    fn score_group(&self, context: &[TokenId], group: &mut [Position], values: &mut [[f64; 64]]) {
        let uniform = self.uniform();
        for table in self.reachable(self.order - 1) {
            let (below, nb) = children(table.mask, self.skips);
            let reaches = |p: &Position| table.mask < 1 << p.history_len;
            for p in group.iter_mut().filter(|p| reaches(p)) {
                let history = &context[p.history_start..p.history_start + p.history_len];
                p.kept_len = kept_words(table.mask, history, &mut p.kept);
                p.slot = table.home_slot(&p.kept[..p.kept_len]);
                table.prefetch_slot(p.slot);
            }
            for p in group.iter().filter(|p| reaches(p)) {
                table.prefetch_row_at(p.slot);
            }
            for p in group.iter_mut().filter(|p| reaches(p)) {
                p.row = table.row_from(p.slot, &p.kept[..p.kept_len]);
                if let Some(r) = p.row {
                    p.entry_slot = table.entry_home(r, p.word);
                }
            }
            for p in group.iter().filter(|p| reaches(p)) {
                if p.row.is_some() {
                    table.prefetch_entry_at(p.entry_slot);
                }
            }
            for (p, v) in group
                .iter()
                .zip(values.iter_mut())
                .filter(|(p, _)| reaches(p))
            {
                let lower = lower_mean(&below[..nb], v, uniform);
                let seen = p
                    .row
                    .map(|r| (r, table.count_from(r, p.word, p.entry_slot)));
                v[table.mask as usize] = table.estimate(seen, lower);
            }
        }
    }
}
