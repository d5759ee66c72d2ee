//! How the GLM build spends a `--memory` bound. The token stream (4 bytes per position) stays in
//! memory, since every skip pattern's pass reads it; the rest of the bound is one pattern's
//! working space, patterns being counted one at a time. A pattern whose occurrences (16 or 32
//! bytes each while sorted) and counts (at most one entry per occurrence: word, count, row start
//! and its kept history words, 12 + 4k bytes) fit that space is counted in memory, as without a
//! bound; otherwise its counts go to files under `--temp` as they are made and its occurrences
//! are sorted in runs of what the space holds, spilled there and merged ([`super::sort`]).
//! `lmlab train glm` writes each pattern into the model file as soon as it is counted, so the
//! finished patterns do not add up. Outside the bound: the vocabulary-sized arrays, the I/O
//! buffers (1 MiB per spilled array) and the merge's heap (one item per run).

use lmlab_core::{Error, Result};
use std::path::PathBuf;

/// Bytes of one token position in the stream.
const STREAM_BYTES_PER_POSITION: u64 = 4;

/// The least working space a bound must leave beside the stream: 64 KiB (4,096 packed
/// occurrences sorted at a time).
pub(crate) const MIN_WORKING_BYTES: u64 = 64 << 10;

/// A memory bound on counting and where its temporary files go.
#[derive(Clone, Debug)]
pub(crate) struct Budget {
    /// Bytes for one pattern's sorting and counts.
    working: u64,
    /// The directory under which spill files go.
    pub temp: PathBuf,
}

impl Budget {
    /// The budget of `memory` bytes for a stream of `positions`, or an error naming the least
    /// bound that works.
    pub fn new(memory: u64, positions: usize, temp: PathBuf) -> Result<Budget> {
        let stream = (positions as u64).saturating_mul(STREAM_BYTES_PER_POSITION);
        let floor = stream.saturating_add(MIN_WORKING_BYTES);
        if memory < floor {
            return Err(Error::invalid(format!(
                "--memory {memory} bytes is below what a GLM build needs: {stream} bytes for \
                 the token stream ({positions} positions of 4 bytes, read by every skip \
                 pattern's pass) plus {MIN_WORKING_BYTES} to sort in, {floor} bytes in all \
                 (--memory {}K or more; or leave --memory out)",
                floor.div_ceil(1024)
            )));
        }
        Ok(Budget {
            working: memory - stream,
            temp,
        })
    }

    /// A budget of `working` bytes beside the stream, spilling under the system temp dir.
    #[cfg(test)]
    pub fn with_working(working: u64) -> Budget {
        Budget {
            working,
            temp: std::env::temp_dir(),
        }
    }

    /// Whether a pattern with up to `occurrences` occurrences of `item_bytes` each, keeping `kept`
    /// history words, fits the working space with its counts.
    pub fn fits(&self, occurrences: usize, item_bytes: usize, kept: usize) -> bool {
        let per = (item_bytes + count_bytes(kept)) as u64;
        (occurrences as u64).saturating_mul(per) <= self.working
    }

    /// How many occurrences of `item_bytes` one sorted run holds when the counts are spilled.
    pub fn run_capacity(&self, item_bytes: usize) -> usize {
        usize::try_from(self.working / item_bytes as u64)
            .unwrap_or(usize::MAX)
            .max(1)
    }
}

/// The most bytes of counts per occurrence: word, count, row start, `kept` history words.
fn count_bytes(kept: usize) -> usize {
    12 + 4 * kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_below_the_stream_is_refused_and_the_floor_is_named() {
        let err = Budget::new(1 << 20, 1 << 20, PathBuf::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("4259840 bytes in all"), "{err}");
        assert!(err.contains("--memory 4160K or more"), "{err}");
        let budget = Budget::new((4 << 20) + MIN_WORKING_BYTES, 1 << 20, PathBuf::new()).unwrap();
        assert_eq!(budget.run_capacity(16), 4096);
        assert!(budget.fits(2048, 16, 1));
        assert!(!budget.fits(4096, 16, 0));
    }
}
