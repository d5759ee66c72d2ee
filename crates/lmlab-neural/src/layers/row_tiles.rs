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
    let mut acc = [[[F::ZERO; 8]; R]; O];
    let full = d_in / 8 * 8;
    for i in (0..full).step_by(8) {
        for (k, acc_k) in acc.iter_mut().enumerate() {
            let wk = lanes(ws, k * d_in + i);
            for (r, a) in acc_k.iter_mut().enumerate() {
                add_products(a, wk, lanes(xs, r * d_in + i));
            }
        }
    }
    std::array::from_fn(|k| {
        std::array::from_fn(|r| {
            let mut sum = combine_lanes(&acc[k][r]);
            for t in full..d_in {
                sum += ws[k * d_in + t] * xs[r * d_in + t];
            }
            sum
        })
    })
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
