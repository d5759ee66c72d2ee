//! The teacher's next-token distributions at every position of a batch of training windows, from
//! any [`LanguageModel`] through its [`lmlab_core::Stepper`].
//!
//! A window is a slice of the training stream (`<s> ids </s> <s> ids </s> ...`). The teacher sees
//! what the student sees: the window's own tokens, from `<s>`. At a `<s>` inside the window its
//! context starts afresh (a new sequence); a window that starts inside a sequence is given to it
//! as `<s>` followed by the window's tokens. Each stretch between `<s>` tokens is one
//! [`lmlab_core::Stepper::score_proposed`] call, which a transformer teacher answers with one
//! forward pass. Windows are scored in parallel, each with its own stepper; the numbers do not
//! depend on the thread count.

use lmlab_core::LanguageModel;
use rayon::prelude::*;

/// Writes into `out` (`x.len() × vocab` values) the teacher's distribution of the token after each
/// position of the `x.len() / t` windows of `t` tokens in `x`.
pub fn teacher_distributions(
    teacher: &dyn LanguageModel,
    x: &[u32],
    t: usize,
    bos: u32,
    out: &mut [f64],
) {
    let v = out.len() / x.len().max(1);
    out.par_chunks_mut(t * v)
        .zip(x.par_chunks(t))
        .for_each(|(rows, window)| window_distributions(teacher, window, bos, v, rows));
}

/// One window's rows.
fn window_distributions(
    teacher: &dyn LanguageModel,
    window: &[u32],
    bos: u32,
    v: usize,
    rows: &mut [f64],
) {
    let mut stepper = teacher.stepper();
    let mut scratch = vec![0f64; (window.len() + 1) * v];
    let mut start = 0;
    while start < window.len() {
        let end = window[start + 1..]
            .iter()
            .position(|&id| id == bos)
            .map_or(window.len(), |i| start + 1 + i);
        // From `<s>`: a stretch that starts with `<s>` feeds the tokens after it, and its first
        // row is `<s>`'s own; one that starts mid-sequence feeds all its tokens, and the row
        // before them (after `<s>` alone) is not needed.
        let (fed, skip) = if window[start] == bos {
            (&window[start + 1..end], 0)
        } else {
            (&window[start..end], 1)
        };
        stepper.reset();
        let got = &mut scratch[..(fed.len() + 1) * v];
        stepper.score_proposed(fed, got);
        rows[start * v..end * v].copy_from_slice(&got[skip * v..(skip + end - start) * v]);
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlab_core::{TokenId, Tokenizer};
    use lmlab_tokenize::BytesTokenizer;

    /// A model whose distribution puts its mass on (context length + last token) mod vocab.
    struct Counter(BytesTokenizer);

    impl LanguageModel for Counter {
        fn kind(&self) -> &str {
            "counter"
        }
        fn describe(&self) -> String {
            "counter".into()
        }
        fn tokenizer(&self) -> &dyn Tokenizer {
            &self.0
        }
        fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
            (0..tokens.len())
                .map(|i| self.next_distribution(&tokens[..i])[tokens[i] as usize].ln())
                .collect()
        }
        fn next_distribution(&self, context: &[TokenId]) -> Vec<f64> {
            let v = self.0.vocab().len();
            let mut d = vec![0.5 / (v - 2) as f64; v];
            d[self.0.specials().bos as usize] = 0.0;
            let last = context.last().map_or(0, |&c| c as usize);
            let peak = (context.len() + last) % v;
            d[peak] += 0.5;
            d
        }
        fn parameter_count(&self) -> u64 {
            0
        }
    }

    #[test]
    fn each_position_gets_the_distribution_after_its_sequence_so_far() {
        let model = Counter(BytesTokenizer::new());
        let v = model.0.vocab().len();
        let bos = model.0.specials().bos;
        // Two windows of 5: one starting mid-sequence with a `<s>` inside, one starting at `<s>`.
        let x = [7, 8, bos, 9, 10, bos, 11, 12, bos, bos];
        let mut out = vec![0.0; x.len() * v];
        teacher_distributions(&model, &x, 5, bos, &mut out);
        let contexts: [&[u32]; 10] = [
            &[7],
            &[7, 8],
            &[],
            &[9],
            &[9, 10],
            &[],
            &[11],
            &[11, 12],
            &[],
            &[],
        ];
        for (i, ctx) in contexts.iter().enumerate() {
            assert_eq!(
                &out[i * v..(i + 1) * v],
                &model.next_distribution(ctx)[..],
                "row {i}"
            );
        }
    }
}
