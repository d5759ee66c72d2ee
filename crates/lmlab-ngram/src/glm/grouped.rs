//! Scoring sequences a group of positions at a time (the positions of several short sequences
//! share a group). A GLM query visits every skip pattern, and each visit is a chain of dependent
//! cache misses (row index slot → row record → the row's entry slot). One position's chain cannot
//! go faster, but the chains of different positions are independent: so for each pattern, every
//! position of the group takes one step of its chain and asks for the next step's memory (a
//! prefetch) before any position takes the next step, and the misses of the group overlap. Same arithmetic as [`GlmModel::prob`], so the same
//! bits (test). Positions near the start of a sequence, whose history is shorter than N − 1 words,
//! skip the patterns they do not reach.
//!
//! Patterns are visited children first, and a probe whose answer is already known is not made: a
//! history seen in a pattern is seen in each of its children (the same occurrence, one word fewer,
//! counted raw or as a continuation), and so is a (history, word) entry. So where one child's
//! history was not seen, the pattern's is not either, and where one child's entry was not seen,
//! the pattern's entry is not either (its row, if seen, then gives `γ · lower` alone). On PTB test
//! at order 5 this leaves 12.0 of the 14.4 row lookups per token and 7.9 entry lookups (counted
//! once, by hand).

use super::model::{lower_mean, GlmModel};
use super::options::MAX_ORDER;
use super::pattern::{children, full, kept_words};
use super::table::RowProbe;
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
    probe: RowProbe,
    row: Option<usize>,
    /// Whether the history is looked up at this pattern.
    probe_row: bool,
    /// Whether the row's entry for `word` is looked up at this pattern.
    probe_entry: bool,
    entry_slot: usize,
    /// The patterns (bit per mask) whose history / (history, word) entry was seen so far.
    rows_seen: u64,
    entries_seen: u64,
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
            probe: RowProbe::default(),
            row: None,
            probe_row: false,
            probe_entry: false,
            entry_slot: 0,
            rows_seen: 0,
            entries_seen: 0,
        }; GROUP];
        for chunk in positions.chunks(GROUP) {
            // Position i of a sequence predicts its tokens[i] from `<s>` tokens[..i], of which it
            // reads the last N − 1 words.
            for (p, &(q, i, base)) in group.iter_mut().zip(chunk) {
                p.word = sequences[q][i];
                p.history_len = n.min(i + 1);
                p.history_start = base + i + 1 - p.history_len;
                p.rows_seen = 0;
                p.entries_seen = 0;
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

    /// Fills `values[g]` with the estimate of every pattern position g's history reaches, probing
    /// only where every child saw the history (the entry) too (see the module doc).
    fn score_group(&self, context: &[TokenId], group: &mut [Position], values: &mut [[f64; 64]]) {
        let uniform = self.uniform();
        for table in self.reachable(self.order - 1) {
            let (below, nb) = children(table.mask, self.skips);
            let bit = 1u64 << table.mask;
            let below_bits = below[..nb].iter().fold(0u64, |b, &c| b | 1 << c);
            let reaches = |p: &Position| table.mask < 1 << p.history_len;
            for p in group.iter_mut().filter(|p| reaches(p)) {
                p.row = None;
                p.probe_entry = false;
                p.probe_row = p.rows_seen & below_bits == below_bits;
                if p.probe_row {
                    let history = &context[p.history_start..p.history_start + p.history_len];
                    p.kept_len = kept_words(table.mask, history, &mut p.kept);
                    p.probe = table.home_slot(&p.kept[..p.kept_len]);
                    table.prefetch_slot(p.probe);
                }
            }
            for p in group.iter().filter(|p| reaches(p) && p.probe_row) {
                table.prefetch_row_at(p.probe);
            }
            for p in group.iter_mut().filter(|p| reaches(p) && p.probe_row) {
                p.row = table.row_from(p.probe, &p.kept[..p.kept_len]);
                if let Some(r) = p.row {
                    p.rows_seen |= bit;
                    if p.entries_seen & below_bits == below_bits {
                        p.entry_slot = table.entry_home(r, p.word);
                        p.probe_entry = true;
                    }
                }
            }
            for (p, v) in group
                .iter_mut()
                .zip(values.iter_mut())
                .filter(|(p, _)| reaches(p))
            {
                let lower = lower_mean(&below[..nb], v, uniform);
                let seen = p.row.map(|r| {
                    let count = p
                        .probe_entry
                        .then(|| table.count_from(r, p.word, p.entry_slot))
                        .flatten();
                    if count.is_some() {
                        p.entries_seen |= bit;
                    }
                    (r, count.unwrap_or(0))
                });
                v[table.mask as usize] = table.estimate(seen, lower);
            }
        }
    }
}
