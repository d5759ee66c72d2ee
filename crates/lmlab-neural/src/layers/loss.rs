//! Softmax cross-entropy over the vocabulary, fused and in place.

use crate::float::Float;
use crate::layers::linear::combine_lanes;
use crate::simd::simd_dispatch;
use rayon::prelude::*;

/// Turns each row of `logits` (`n × v`) into probabilities in place and returns
/// `(Σ −ln p[target], number of scored rows)`. Rows whose target is `ignore` are not scored.
pub fn softmax_cross_entropy_forward<F: Float>(
    logits: &mut [F],
    targets: &[u32],
    ignore: Option<u32>,
    v: usize,
) -> (f64, usize) {
    let losses: Vec<(f64, usize)> = logits[..targets.len() * v]
        .par_chunks_mut(v * 16)
        .zip(targets.par_chunks(16))
        .map(|(rows, tgts)| {
            let mut sum = 0.0;
            let mut count = 0;
            for (row, &t) in rows.chunks_exact_mut(v).zip(tgts) {
                softmax_in_place(row);
                if Some(t) != ignore {
                    sum -= row[t as usize].to_f64().max(f64::MIN_POSITIVE).ln();
                    count += 1;
                }
            }
            (sum, count)
        })
        .collect();
    losses
        .iter()
        .fold((0.0, 0), |(s, c), &(a, b)| (s + a, c + b))
}

/// Backward in place: `probs` becomes `scale · (probs − onehot(target))`, zero for ignored rows.
pub fn softmax_cross_entropy_backward<F: Float>(
    probs: &mut [F],
    targets: &[u32],
    ignore: Option<u32>,
    v: usize,
    scale: F,
) {
    probs[..targets.len() * v]
        .par_chunks_mut(v)
        .zip(targets.par_iter())
        .for_each(|(row, &t)| {
            if Some(t) == ignore {
                row.fill(F::ZERO);
            } else {
                row[t as usize] -= F::ONE;
                for p in row.iter_mut() {
                    *p *= scale;
                }
            }
        });
}

simd_dispatch! {
    /// Numerically stable softmax of one row, in place.
    ///
    /// Compiled for the best SIMD extension the CPU has (runtime dispatch). The exponentials are one
    /// loop and their sum another, kept in eight partial sums combined in a fixed order
    /// ([`lane_sum`]): both vectorize, and the order of every addition is written out, so every
    /// instruction set gives the same bits.
    pub fn softmax_in_place<F: Float>(row: &mut [F]) {
        softmax_body(row);
    }

    /// `row ← softmax(scale · row)` in place (attention scores), as [`softmax_in_place`] after
    /// scaling each element, in one dispatched pass.
    pub fn scaled_softmax_in_place<F: Float>(row: &mut [F], scale: F) {
        for x in row.iter_mut() {
            *x *= scale;
        }
        softmax_body(row);
    }
}

/// The softmax itself, inlined into each dispatched version.
#[inline(always)]
fn softmax_body<F: Float>(row: &mut [F]) {
    let max = lane_max(row);
    for x in row.iter_mut() {
        *x = (*x - max).fast_exp();
    }
    let sum = lane_sum(row);
    let inv = F::ONE / sum;
    for x in row.iter_mut() {
        *x *= inv;
    }
}

/// Partial results kept by [`lane_sum`] and [`lane_max`]: one AVX2 register of f32. A single
/// running sum is a chain of dependent additions (4,096 of them, ~4 µs, for a BPE vocabulary row);
/// eight independent ones vectorize.
const LANES: usize = 8;

/// Σ row in eight interleaved partial sums, combined pairwise, then the tail left to right: the same
/// additions in the same order on every instruction set.
#[inline(always)]
fn lane_sum<F: Float>(row: &[F]) -> F {
    let mut acc = [F::ZERO; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for j in 0..LANES {
            acc[j] += chunk[j];
        }
    }
    let mut sum = combine_lanes(&acc);
    for &x in tail {
        sum += x;
    }
    sum
}

/// The largest element of a non-empty row, in eight partial maxima (the maximum does not depend on
/// the order; the lanes only break the dependency chain).
#[inline(always)]
fn lane_max<F: Float>(row: &[F]) -> F {
    let mut acc = [row[0]; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for j in 0..LANES {
            acc[j] = acc[j].max(chunk[j]);
        }
    }
    tail.iter()
        .fold(acc.into_iter().fold(row[0], F::max), |m, &x| m.max(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check, rand_vec};

    #[test]
    fn lane_softmax_matches_the_f64_softmax_with_lanes_and_a_tail() {
        for v in [1usize, 7, 8, 4099] {
            let logits: Vec<f64> = rand_vec(v, 5).iter().map(|x| x * 9.0).collect();
            let mut row: Vec<f32> = logits.iter().map(|&x| x as f32).collect();
            softmax_in_place(&mut row);
            let max = logits.iter().copied().fold(f64::MIN, f64::max);
            let z: f64 = logits.iter().map(|&x| (x - max).exp()).sum();
            for (&p, &x) in row.iter().zip(&logits) {
                let want = (x - max).exp() / z;
                assert!(
                    (p as f64 - want).abs() <= 4e-6 * want,
                    "v {v}: {p} vs {want}"
                );
            }
            assert_eq!(
                lane_max(&row[..]),
                row.iter().copied().fold(row[0], f32::max)
            );
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        let (n, v) = (4, 5);
        let logits: Vec<f64> = rand_vec(n * v, 19).iter().map(|x| x * 3.0).collect();
        let targets = [1u32, 4, 0, 3];
        let loss = |l: &[f64]| {
            let mut l = l.to_vec();
            let (s, c) = softmax_cross_entropy_forward(&mut l, &targets, Some(0), v);
            s / c as f64
        };
        let mut g = logits.clone();
        let (_, c) = softmax_cross_entropy_forward(&mut g, &targets, Some(0), v);
        softmax_cross_entropy_backward(&mut g, &targets, Some(0), v, 1.0 / c as f64);
        check("cross-entropy dlogits", &logits, &g, loss);
    }
}
