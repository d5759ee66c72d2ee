//! A fully connected layer over a few rows (the KV cache's steps: one token, or a speculative
//! proposal's K + 1), computed in tiles of [`OUTS`] output features × [`ROWS`] input rows.
//!
//! Every output element is summed exactly as [`super::linear::dot`] sums it: eight lanes, lane `j`
//! adding `w[8i + j] · x[8i + j]` for `i` in order, the lanes combined by `combine_lanes`, then the
//! tail left to right, then the bias. So a row's outputs are bit for bit the same whatever the number
//! of rows fed with it and whatever the instruction set (the lanes are independent, multiplies and
//! adds stay separate), and a speculative verification gives the probabilities of single steps.
//! The tiles give the CPU independent sums to overlap (one `dot` waits on its own additions) and
//! read each weight tile once for all rows; nothing is allocated.

use super::linear::combine_lanes;
use crate::float::Float;
use crate::simd::simd_dispatch;

/// Output features per tile: their weight rows stay in L1 while every input row passes over them.
const OUTS: usize = 4;
/// Input rows per tile (`OUTS × ROWS` eight-lane sums are live at once: 8 AVX registers).
const ROWS: usize = 2;

simd_dispatch! {
    /// `y[n, d_out] = x[n, d_in] @ w[d_out, d_in]ᵀ + b` (overwrites `y`), each element summed as
    /// [`super::linear::dot`] sums it. Runtime-dispatched SIMD.
    pub fn forward<F: Float>(
        y: &mut [F],
        x: &[F],
        w: &[F],
        b: Option<&[F]>,
        n: usize,
        d_in: usize,
        d_out: usize,
    ) {
        let mut o = 0;
        while o < d_out {
            let outs = OUTS.min(d_out - o);
            // The next tile's weight rows, asked for now, arrive while the rows pass over these.
            prefetch_rows(w, (o + outs) * d_in..((o + outs + OUTS) * d_in).min(w.len()));
            let mut r = 0;
            while r < n {
                let rows = ROWS.min(n - r);
                let ws = &w[o * d_in..(o + outs) * d_in];
                let xs = &x[r * d_in..(r + rows) * d_in];
                match (outs, rows) {
                    (OUTS, ROWS) => store(y, tile::<F, OUTS, ROWS>(ws, xs, d_in), b, o, r, d_out),
                    (OUTS, 1) => store(y, tile::<F, OUTS, 1>(ws, xs, d_in), b, o, r, d_out),
                    (_, ROWS) => {
                        for k in 0..outs {
                            let ws = &ws[k * d_in..(k + 1) * d_in];
                            store(y, tile::<F, 1, ROWS>(ws, xs, d_in), b, o + k, r, d_out);
                        }
                    }
                    _ => {
                        for k in 0..outs {
                            let ws = &ws[k * d_in..(k + 1) * d_in];
                            store(y, tile::<F, 1, 1>(ws, xs, d_in), b, o + k, r, d_out);
                        }
                    }
                }
                r += rows;
            }
            o += outs;
        }
    }
}

/// The `O × R` sums of weight rows `ws` (`O` rows of `d_in`) with input rows `xs` (`R` rows),
/// `[o][r]`, each summed as [`super::linear::dot`] sums it.
#[inline(always)]
fn tile<F: Float, const O: usize, const R: usize>(ws: &[F], xs: &[F], d_in: usize) -> [[F; R]; O] {
    let full = d_in / 8 * 8;
    let mut sums = avx::combined_f32::<F, O, R>(ws, xs, d_in).unwrap_or_else(|| {
        let mut acc = [[[F::ZERO; 8]; R]; O];
        for i in (0..full).step_by(8) {
            for (k, acc_k) in acc.iter_mut().enumerate() {
                let wk = lanes(ws, k * d_in + i);
                for (r, a) in acc_k.iter_mut().enumerate() {
                    add_products(a, wk, lanes(xs, r * d_in + i));
                }
            }
        }
        acc.map(|row| row.map(|a| combine_lanes(&a)))
    });
    for (k, row) in sums.iter_mut().enumerate() {
        for (r, sum) in row.iter_mut().enumerate() {
            for t in full..d_in {
                *sum += ws[k * d_in + t] * xs[r * d_in + t];
            }
        }
    }
    sums
}

/// f32 tiles through AVX intrinsics. The portable loop above computes the same lanes, but the
/// compiler kept its `O × R` eight-lane accumulators (arrays of arrays) partly on the stack and
/// checked bounds in the inner loop: a speculative verification of 10 rows cost about 0.45 ms per
/// row against 0.81 ms for a whole single step (`lmlab generate`, the 4 × 256 byte target of
/// bench/speculative.sh). Each lane still adds `w · x` (a vector multiply, then a vector add: no
/// fused multiply-add) in order, and the lanes are combined as `combine_lanes` combines them, so the
/// sums are bit for bit the portable loop's.
mod avx {
    use crate::float::Float;
    use std::any::TypeId;

    /// The `[o][r]` sums of the tile over the first `d_in / 8 * 8` elements (lanes combined), or
    /// `None` where `F` is not f32 or the CPU has no AVX (the portable loop then runs).
    #[inline(always)]
    pub(super) fn combined_f32<F: Float, const O: usize, const R: usize>(
        ws: &[F],
        xs: &[F],
        d_in: usize,
    ) -> Option<[[F; R]; O]> {
        #[cfg(target_arch = "x86_64")]
        {
            if TypeId::of::<F>() == TypeId::of::<f32>()
                && std::arch::is_x86_feature_detected!("avx")
            {
                assert!(
                    ws.len() >= O * d_in && xs.len() >= R * d_in,
                    "tile out of its slices"
                );
                // SAFETY: F is f32 (checked above), so the slices are f32 slices; the bounds are
                // checked above and AVX is present.
                let sums = unsafe {
                    x86::tile(ws.as_ptr().cast::<f32>(), xs.as_ptr().cast::<f32>(), d_in)
                };
                // F is f32: the conversions are exact.
                return Some(sums.map(|row: [f32; R]| row.map(|x| F::from_f64(f64::from(x)))));
            }
        }
        let _ = (ws, xs, d_in);
        None
    }

    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use std::arch::x86_64::*;

        /// The sums of `O` weight rows at `w` with `R` input rows at `x` (each `d_in` floats) over
        /// the first `d_in / 8 * 8` elements, eight lanes combined.
        ///
        /// # Safety
        /// AVX must be present; `w` must hold `O * d_in` floats and `x` `R * d_in`.
        #[target_feature(enable = "avx")]
        pub(super) unsafe fn tile<const O: usize, const R: usize>(
            w: *const f32,
            x: *const f32,
            d_in: usize,
        ) -> [[f32; R]; O] {
            let mut acc = [[_mm256_setzero_ps(); R]; O];
            let full = d_in / 8 * 8;
            let mut i = 0;
            while i < full {
                let mut xv = [_mm256_setzero_ps(); R];
                for (r, v) in xv.iter_mut().enumerate() {
                    *v = _mm256_loadu_ps(x.add(r * d_in + i));
                }
                for (k, acc_k) in acc.iter_mut().enumerate() {
                    let wv = _mm256_loadu_ps(w.add(k * d_in + i));
                    for (a, &v) in acc_k.iter_mut().zip(&xv) {
                        *a = _mm256_add_ps(*a, _mm256_mul_ps(wv, v));
                    }
                }
                i += 8;
            }
            // Loops, not `map`: closures do not inherit the target feature, so the stores in
            // them became calls. The lanes combine as `combine_lanes` combines them.
            let mut out = [[0f32; R]; O];
            let mut a = [0f32; 8];
            for k in 0..O {
                for r in 0..R {
                    _mm256_storeu_ps(a.as_mut_ptr(), acc[k][r]);
                    out[k][r] = ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
                }
            }
            out
        }
    }
}

/// Asks for the cache lines of `v[range]` (a hint; nothing on other targets).
#[inline(always)]
fn prefetch_rows<F>(v: &[F], range: std::ops::Range<usize>) {
    #[cfg(target_arch = "x86_64")]
    {
        let step = 64 / std::mem::size_of::<F>().max(1);
        for at in range.step_by(step.max(1)) {
            // SAFETY: `at` is within `v` (the range is clamped by the caller to v.len()); a
            // prefetch never faults and reads nothing architecturally.
            unsafe {
                std::arch::x86_64::_mm_prefetch(
                    v.as_ptr().add(at).cast::<i8>(),
                    std::arch::x86_64::_MM_HINT_T0,
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (v, range);
}

/// The eight elements of `v` from `at`.
#[inline(always)]
fn lanes<F>(v: &[F], at: usize) -> &[F; 8] {
    v[at..at + 8].try_into().expect("eight lanes")
}

/// `acc[j] += w[j] · x[j]` for the eight lanes (one vector multiply and one add).
#[inline(always)]
fn add_products<F: Float>(acc: &mut [F; 8], w: &[F; 8], x: &[F; 8]) {
    for j in 0..8 {
        acc[j] += w[j] * x[j];
    }
}

/// Writes a tile's sums (plus the bias) at output features `o..` of rows `r..` of `y`.
#[inline(always)]
fn store<F: Float, const O: usize, const R: usize>(
    y: &mut [F],
    sums: [[F; R]; O],
    b: Option<&[F]>,
    o: usize,
    r: usize,
    d_out: usize,
) {
    for (k, row) in sums.iter().enumerate() {
        for (ri, &s) in row.iter().enumerate() {
            y[(r + ri) * d_out + o + k] = b.map_or(s, |b| s + b[o + k]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::rand_vec;
    use crate::layers::linear::dot;

    /// Every shape's edge (outputs and rows not multiples of the tile, inputs not of eight): each
    /// element equals `dot` bit for bit, and a row's outputs do not depend on the rows beside it.
    #[test]
    fn tiles_sum_as_dot_whatever_the_rows_fed_together() {
        for (n, d_in, d_out) in [(1, 8, 4), (2, 19, 7), (5, 64, 9), (9, 37, 13)] {
            let x: Vec<f32> = rand_vec(n * d_in, 3).iter().map(|&v| v as f32).collect();
            let w: Vec<f32> = rand_vec(d_out * d_in, 4)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let b: Vec<f32> = rand_vec(d_out, 5).iter().map(|&v| v as f32).collect();
            let mut y = vec![0.0f32; n * d_out];
            forward(&mut y, &x, &w, Some(&b), n, d_in, d_out);
            for r in 0..n {
                let xr = &x[r * d_in..(r + 1) * d_in];
                let mut alone = vec![0.0f32; d_out];
                forward(&mut alone, xr, &w, Some(&b), 1, d_in, d_out);
                assert_eq!(alone, y[r * d_out..(r + 1) * d_out]);
                for o in 0..d_out {
                    let want = dot(&w[o * d_in..(o + 1) * d_in], xr) + b[o];
                    assert_eq!(
                        y[r * d_out + o].to_bits(),
                        want.to_bits(),
                        "{n}x{d_in}x{d_out}"
                    );
                }
            }
        }
    }
}
