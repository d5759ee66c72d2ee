//! Causal multi-head self-attention core: head split/merge and `softmax(q kᵀ / √hd + mask) v`,
//! parallel across (batch, head) pairs. Heads are stored head-major, `[b, h, t, hd]`, so each
//! pair owns one contiguous block.

use crate::float::Float;
use crate::gemm::{matmul_serial, matmul_serial_ld, Mat};
use crate::layers::loss::scaled_softmax_in_place;
use crate::simd::simd_dispatch;

/// Query rows per block of the causal products (keys beyond a block's last row are never computed).
const ROWS: usize = 32;
use rayon::prelude::*;

/// Sizes of one attention call.
#[derive(Clone, Copy, Debug)]
pub struct AttnShape {
    /// Sequences in the batch.
    pub b: usize,
    /// Tokens per sequence.
    pub t: usize,
    /// Heads.
    pub h: usize,
    /// Values per head.
    pub hd: usize,
}

impl AttnShape {
    fn d(&self) -> usize {
        self.h * self.hd
    }
}

/// Splits `qkv` rows `[q | k | v]` (`[b, t, 3d]`) into head-major `q`, `k`, `v` (`[b, h, t, hd]`).
pub fn split_heads<F: Float>(q: &mut [F], k: &mut [F], v: &mut [F], qkv: &[F], s: AttnShape) {
    let d = s.d();
    for bi in 0..s.b {
        for ti in 0..s.t {
            let row = &qkv[(bi * s.t + ti) * 3 * d..][..3 * d];
            for hi in 0..s.h {
                let dst = ((bi * s.h + hi) * s.t + ti) * s.hd;
                let src = hi * s.hd;
                q[dst..dst + s.hd].copy_from_slice(&row[src..src + s.hd]);
                k[dst..dst + s.hd].copy_from_slice(&row[d + src..d + src + s.hd]);
                v[dst..dst + s.hd].copy_from_slice(&row[2 * d + src..2 * d + src + s.hd]);
            }
        }
    }
}

/// Inverse of [`split_heads`] for gradients: writes `dqkv` (overwrites) from `dq`, `dk`, `dv`.
pub fn split_heads_backward<F: Float>(dqkv: &mut [F], dq: &[F], dk: &[F], dv: &[F], s: AttnShape) {
    let d = s.d();
    for bi in 0..s.b {
        for ti in 0..s.t {
            let row = &mut dqkv[(bi * s.t + ti) * 3 * d..][..3 * d];
            for hi in 0..s.h {
                let src = ((bi * s.h + hi) * s.t + ti) * s.hd;
                let dst = hi * s.hd;
                row[dst..dst + s.hd].copy_from_slice(&dq[src..src + s.hd]);
                row[d + dst..d + dst + s.hd].copy_from_slice(&dk[src..src + s.hd]);
                row[2 * d + dst..2 * d + dst + s.hd].copy_from_slice(&dv[src..src + s.hd]);
            }
        }
    }
}

/// Merges head-major `y` (`[b, h, t, hd]`) into rows `[b, t, d]` (overwrites `out`).
pub fn merge_heads<F: Float>(out: &mut [F], y: &[F], s: AttnShape) {
    let d = s.d();
    for bi in 0..s.b {
        for hi in 0..s.h {
            for ti in 0..s.t {
                let src = ((bi * s.h + hi) * s.t + ti) * s.hd;
                let dst = (bi * s.t + ti) * d + hi * s.hd;
                out[dst..dst + s.hd].copy_from_slice(&y[src..src + s.hd]);
            }
        }
    }
}

/// Inverse of [`merge_heads`] for gradients: head-major `dy` (overwrites) from row gradients.
pub fn merge_heads_backward<F: Float>(dy: &mut [F], dout: &[F], s: AttnShape) {
    let d = s.d();
    for bi in 0..s.b {
        for hi in 0..s.h {
            for ti in 0..s.t {
                let dst = ((bi * s.h + hi) * s.t + ti) * s.hd;
                let src = (bi * s.t + ti) * d + hi * s.hd;
                dy[dst..dst + s.hd].copy_from_slice(&dout[src..src + s.hd]);
            }
        }
    }
}

/// Forward: `probs = softmax(q kᵀ/√hd + causal mask)` (`[b, h, t, t]`, kept for backward), `y = probs v`.
pub fn forward<F: Float>(y: &mut [F], probs: &mut [F], q: &[F], k: &[F], v: &[F], s: AttnShape) {
    let (t, hd) = (s.t, s.hd);
    let scale = F::from_f64(1.0 / (hd as f64).sqrt());
    let pairs = s.b * s.h;
    y[..pairs * t * hd]
        .par_chunks_mut(t * hd)
        .zip(probs[..pairs * t * t].par_chunks_mut(t * t))
        .enumerate()
        .for_each(|(i, (y, p))| {
            let off = i * t * hd;
            let (q, k, v) = (
                &q[off..off + t * hd],
                &k[off..off + t * hd],
                &v[off..off + t * hd],
            );
            // Causal: row block [r0, r1) needs keys 0..r1 only.
            for r0 in (0..t).step_by(ROWS) {
                let r1 = (r0 + ROWS).min(t);
                let qb = Mat::new(&q[r0 * hd..r1 * hd], r1 - r0, hd);
                let kb = Mat::new(&k[..r1 * hd], r1, hd);
                matmul_serial_ld(qb, kb.t(), &mut p[r0 * t..], t, false);
            }
            for r in 0..t {
                let row = &mut p[r * t..(r + 1) * t];
                scaled_softmax_in_place(&mut row[..=r], scale);
                row[r + 1..].fill(F::ZERO);
            }
            for r0 in (0..t).step_by(ROWS) {
                let r1 = (r0 + ROWS).min(t);
                let pb = Mat::strided(&p[r0 * t..], r1 - r0, r1, t, 1);
                let vb = Mat::new(&v[..r1 * hd], r1, hd);
                matmul_serial(pb, vb, &mut y[r0 * hd..r1 * hd], false);
            }
        });
}

/// Backward: adds into `dq`, `dk`, `dv`; `scratch` (`[b, h, t, t]`) is overwritten.
#[allow(clippy::too_many_arguments)]
pub fn backward<F: Float>(
    dq: &mut [F],
    dk: &mut [F],
    dv: &mut [F],
    scratch: &mut [F],
    dy: &[F],
    probs: &[F],
    q: &[F],
    k: &[F],
    v: &[F],
    s: AttnShape,
) {
    let (t, hd) = (s.t, s.hd);
    let scale = F::from_f64(1.0 / (hd as f64).sqrt());
    let pairs = s.b * s.h;
    let blk = t * hd;
    (
        dq[..pairs * blk].par_chunks_mut(blk),
        dk[..pairs * blk].par_chunks_mut(blk),
        dv[..pairs * blk].par_chunks_mut(blk),
        scratch[..pairs * t * t].par_chunks_mut(t * t),
    )
        .into_par_iter()
        .enumerate()
        .for_each(|(i, (dq, dk, dv, ds))| {
            let off = i * blk;
            let (q, k, v) = (&q[off..off + blk], &k[off..off + blk], &v[off..off + blk]);
            let pr = &probs[i * t * t..(i + 1) * t * t];
            let dy = &dy[off..off + blk];
            for r0 in (0..t).step_by(ROWS) {
                let r1 = (r0 + ROWS).min(t);
                let pb = Mat::strided(&pr[r0 * t..], r1 - r0, r1, t, 1);
                let dyb = Mat::new(&dy[r0 * hd..r1 * hd], r1 - r0, hd);
                // dv[0..r1] += pᵀ dy ; dp = dy vᵀ (keys 0..r1 only)
                matmul_serial(pb.t(), dyb, &mut dv[..r1 * hd], true);
                matmul_serial_ld(
                    dyb,
                    Mat::new(&v[..r1 * hd], r1, hd).t(),
                    &mut ds[r0 * t..],
                    t,
                    false,
                );
                for r in r0..r1 {
                    let drow = &mut ds[r * t..(r + 1) * t];
                    softmax_backward_row(&mut drow[..=r], &pr[r * t..=r * t + r], scale);
                    drow[r + 1..r1].fill(F::ZERO);
                }
                let dsb = Mat::strided(&ds[r0 * t..], r1 - r0, r1, t, 1);
                matmul_serial(
                    dsb,
                    Mat::new(&k[..r1 * hd], r1, hd),
                    &mut dq[r0 * hd..r1 * hd],
                    true,
                );
                matmul_serial(
                    dsb.t(),
                    Mat::new(&q[r0 * hd..r1 * hd], r1 - r0, hd),
                    &mut dk[..r1 * hd],
                    true,
                );
            }
        });
}

simd_dispatch! {
    /// Gradient through one softmax row, in place: `dp` (∂L/∂p) becomes `scale · p ⊙ (dp − p·dp)`.
    /// Runtime-dispatched SIMD; the dot product is summed left to right, so the bits do not depend on
    /// the instruction set.
    fn softmax_backward_row<F: Float>(dp: &mut [F], p: &[F], scale: F) {
        let dot = p
            .iter()
            .zip(dp.iter())
            .fold(F::ZERO, |s, (&a, &b)| s + a * b);
        for (d, &pj) in dp.iter_mut().zip(p) {
            *d = pj * (*d - dot) * scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check, rand_vec};

    #[test]
    fn backward_matches_finite_differences() {
        check_shape(AttnShape {
            b: 2,
            t: 4,
            h: 2,
            hd: 3,
        });
        // Longer than one block of query rows: the causal blocks must add up.
        check_shape(AttnShape {
            b: 1,
            t: ROWS + 5,
            h: 1,
            hd: 2,
        });
    }

    fn check_shape(s: AttnShape) {
        let n = s.b * s.t * s.h * s.hd;
        let q = rand_vec(n, 22);
        let k = rand_vec(n, 23);
        let v = rand_vec(n, 24);
        let r = rand_vec(n, 25);
        let pairs = s.b * s.h * s.t * s.t;
        let loss = |q: &[f64], k: &[f64], v: &[f64]| {
            let (mut y, mut p) = (vec![0.0; n], vec![0.0; pairs]);
            forward(&mut y, &mut p, q, k, v, s);
            y.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>()
        };
        let (mut y, mut p) = (vec![0.0; n], vec![0.0; pairs]);
        forward(&mut y, &mut p, &q, &k, &v, s);
        let (mut dq, mut dk, mut dv, mut sc) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; pairs]);
        backward(&mut dq, &mut dk, &mut dv, &mut sc, &r, &p, &q, &k, &v, s);
        check("attention dq", &q, &dq, |x| loss(x, &k, &v));
        check("attention dk", &k, &dk, |x| loss(&q, x, &v));
        check("attention dv", &v, &dv, |x| loss(&q, &k, x));
    }

    #[test]
    fn split_and_merge_are_inverse_permutations() {
        let s = AttnShape {
            b: 2,
            t: 3,
            h: 2,
            hd: 2,
        };
        let d = s.h * s.hd;
        let qkv = rand_vec(s.b * s.t * 3 * d, 26);
        let n = s.b * s.t * d;
        let (mut q, mut k, mut v) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        split_heads(&mut q, &mut k, &mut v, &qkv, s);
        let mut back = vec![0.0; qkv.len()];
        split_heads_backward(&mut back, &q, &k, &v, s);
        assert_eq!(back, qkv);
        let mut rows = vec![0.0; n];
        merge_heads(&mut rows, &q, s);
        let mut heads = vec![0.0; n];
        merge_heads_backward(&mut heads, &rows, s);
        assert_eq!(heads, q);
    }
}
