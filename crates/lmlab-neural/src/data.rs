//! Training data: the token stream of a text and seeded random windows over it (nanoGPT's `get_batch`).

use lmlab_core::model::encode_corpus;
use lmlab_core::{Error, Result, SequenceMode, Tokenizer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The ids of `text`: each sequence as `<s>` followed by its ids and `</s>` (stream mode: one sequence).
pub fn token_stream(tokenizer: &dyn Tokenizer, text: &str, mode: SequenceMode) -> Vec<u32> {
    let bos = tokenizer.specials().bos;
    let mut out = Vec::new();
    for seq in encode_corpus(tokenizer, text, mode) {
        out.push(bos);
        out.extend_from_slice(&seq.ids);
    }
    out
}

/// Checks that a stream holds at least one window of `block_size` inputs plus a target.
pub fn check_length(stream: &[u32], block_size: usize, what: &str) -> Result<()> {
    if stream.len() < block_size + 1 {
        return Err(Error::invalid(format!(
            "the {what} text has {} tokens, fewer than one context window (block_size {} + 1)",
            stream.len(),
            block_size
        )));
    }
    Ok(())
}

/// The state of a batch sampler: a ChaCha8 seed and word position (saved in checkpoints).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngState {
    /// Seed.
    pub seed: [u8; 32],
    /// Position in the ChaCha stream.
    pub word_pos: u128,
}

/// Draws batches of random windows.
#[derive(Clone, Debug)]
pub struct Batcher {
    rng: ChaCha8Rng,
}

impl Batcher {
    /// A sampler seeded with `seed`.
    pub fn new(seed: u64) -> Batcher {
        Batcher {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Its state, to resume exactly here.
    pub fn state(&self) -> RngState {
        RngState {
            seed: self.rng.get_seed(),
            word_pos: self.rng.get_word_pos(),
        }
    }

    /// A sampler continuing from `state`.
    pub fn from_state(state: RngState) -> Batcher {
        let mut rng = ChaCha8Rng::from_seed(state.seed);
        rng.set_word_pos(state.word_pos);
        Batcher { rng }
    }

    /// Fills `x` and `y` (`b × t` each) with windows `data[i..i+t]` and `data[i+1..i+t+1]`.
    pub fn fill(&mut self, data: &[u32], b: usize, t: usize, x: &mut [u32], y: &mut [u32]) {
        for r in 0..b {
            let i = self.rng.gen_range(0..data.len() - t);
            x[r * t..(r + 1) * t].copy_from_slice(&data[i..i + t]);
            y[r * t..(r + 1) * t].copy_from_slice(&data[i + 1..i + t + 1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_sampler_continues_identically() {
        let data: Vec<u32> = (0..100).collect();
        let (mut x, mut y) = (vec![0; 8], vec![0; 8]);
        let mut a = Batcher::new(7);
        a.fill(&data, 2, 4, &mut x, &mut y);
        assert_eq!(x[1] + 1, y[1]);
        let mut b = Batcher::from_state(a.state());
        let (mut x2, mut y2) = (vec![0; 8], vec![0; 8]);
        a.fill(&data, 2, 4, &mut x, &mut y);
        b.fill(&data, 2, 4, &mut x2, &mut y2);
        assert_eq!((x, y), (x2, y2));
        assert!(check_length(&data, 100, "training").is_err());
    }
}
