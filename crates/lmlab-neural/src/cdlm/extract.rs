//! Cuts chunks from one sequence as the target reads it: maximal runs of confidently predicted
//! tokens, each entered by the token before it, and the suffixes of longer runs.

use super::ChunkOptions;
use lmlab_core::TokenId;

/// One chunk occurrence: `tokens` follow `entry` at input `at` of the sequence, where the target's
/// final hidden state was `state`.
#[derive(Clone, Debug, PartialEq)]
pub struct Occurrence<'s> {
    /// Index of the entry among the inputs (0 is `<s>`).
    pub at: usize,
    /// The entry token.
    pub entry: TokenId,
    /// The chunk's tokens after the entry.
    pub tokens: &'s [TokenId],
    /// The target's final hidden state at the entry.
    pub state: &'s [f32],
}

/// Reads the rows of one sequence in order (row `i`: the hidden state at input `i` and the
/// target's probability of input `i + 1`) and hands out the chunk occurrences each finished run
/// gives. Holds only the current run's states.
pub struct RunExtractor {
    options: ChunkOptions,
    dim: usize,
    /// The entry index of the run being read.
    run_entry: Option<usize>,
    /// Hidden states of inputs `run_entry..`, `dim` each.
    states: Vec<f32>,
}

impl RunExtractor {
    /// An extractor for hidden states of `dim` values.
    pub fn new(options: ChunkOptions, dim: usize) -> Self {
        RunExtractor {
            options,
            dim,
            run_entry: None,
            states: Vec::new(),
        }
    }

    /// Row `i` of `inputs` (`<s>` then the sequence): `state` is the hidden state at `inputs[i]`,
    /// `next_prob` the target's probability of `inputs[i + 1]` (`None` at the last input). Calls
    /// `emit` for each occurrence of a run that ends here.
    pub fn row(
        &mut self,
        inputs: &[TokenId],
        i: usize,
        state: &[f32],
        next_prob: Option<f64>,
        mut emit: impl FnMut(Occurrence<'_>),
    ) {
        if next_prob.is_some_and(|p| p > self.options.threshold) {
            if self.run_entry.is_none() {
                self.run_entry = Some(i);
                self.states.clear();
            }
            self.states.extend_from_slice(state);
            return;
        }
        // The run (if any) covers inputs entry + 1 ..= i.
        let Some(entry) = self.run_entry.take() else {
            return;
        };
        for start in entry..=i {
            if i - start < self.options.min_tokens {
                break;
            }
            let k = start - entry;
            emit(Occurrence {
                at: start,
                entry: inputs[start],
                tokens: &inputs[start + 1..=i],
                state: &self.states[k * self.dim..(k + 1) * self.dim],
            });
        }
    }
}

/// Every occurrence of a sequence given its inputs, the probability of each input after the first,
/// and a state per input (flat, `dim` each): the whole-sequence form of [`RunExtractor`].
pub fn occurrences(
    options: ChunkOptions,
    inputs: &[TokenId],
    probs: &[f64],
    states: &[f32],
    dim: usize,
) -> Vec<(usize, TokenId, Vec<TokenId>, Vec<f32>)> {
    let mut out = Vec::new();
    let mut extractor = RunExtractor::new(options, dim);
    for i in 0..inputs.len() {
        let state = &states[i * dim..(i + 1) * dim];
        extractor.row(inputs, i, state, probs.get(i).copied(), |o| {
            out.push((o.at, o.entry, o.tokens.to_vec(), o.state.to_vec()))
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs `<s>`=0, 10, 11, ..., with hand-made probabilities of inputs 1.. and state i = [i].
    fn cut(probs: &[f64], min_tokens: usize) -> Vec<(usize, TokenId, Vec<TokenId>, Vec<f32>)> {
        let inputs: Vec<TokenId> = std::iter::once(0)
            .chain((0..probs.len() as TokenId).map(|i| 10 + i))
            .collect();
        let states: Vec<f32> = (0..inputs.len()).map(|i| i as f32).collect();
        let options = ChunkOptions {
            threshold: 0.3,
            min_tokens,
        };
        occurrences(options, &inputs, probs, &states, 1)
    }

    #[test]
    fn runs_above_the_threshold_become_chunks_entered_by_the_token_before() {
        // Inputs: <s> 10 11 12 13 14 15 16 17; probabilities of 10..17:
        //          0.9 0.1 0.5 0.6 0.7 0.3 0.8 0.31
        let got = cut(&[0.9, 0.1, 0.5, 0.6, 0.7, 0.3, 0.8, 0.31], 2);
        // Run {10} (one token, entry <s>): too short. Run {12 13 14} entered by 11 (input 2), and
        // its suffix {13 14} entered by 12; {14} alone is too short. 0.3 does not exceed 0.3. Run
        // {16 17} entered by 15, ending with the sequence.
        assert_eq!(
            got,
            vec![
                (2, 11, vec![12, 13, 14], vec![2.0]),
                (3, 12, vec![13, 14], vec![3.0]),
                (6, 15, vec![16, 17], vec![6.0]),
            ]
        );
        // The authors' minimum of one token: every suffix, and the one-token runs.
        let theirs = cut(&[0.9, 0.1, 0.5, 0.6, 0.7, 0.3, 0.8, 0.31], 1);
        let starts: Vec<(usize, Vec<TokenId>)> = theirs.into_iter().map(|o| (o.0, o.2)).collect();
        assert_eq!(
            starts,
            vec![
                (0, vec![10]),
                (2, vec![12, 13, 14]),
                (3, vec![13, 14]),
                (4, vec![14]),
                (6, vec![16, 17]),
                (7, vec![17]),
            ]
        );
    }

    #[test]
    fn nothing_above_the_threshold_gives_no_chunk() {
        assert!(cut(&[0.1, 0.2, 0.3, 0.05], 1).is_empty());
        assert!(cut(&[], 1).is_empty());
    }
}
