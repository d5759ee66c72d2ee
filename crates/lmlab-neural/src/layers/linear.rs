//! Fully connected layer: `y = x @ Wᵀ + b`, `W` of shape `[out, in]`.

use crate::float::Float;
use crate::gemm::{matmul, Mat};

/// Forward: `y[n, out] = x[n, in] @ w[out, in]ᵀ + b[out]` (overwrites `y`).
pub fn forward<F: Float>(
    y: &mut [F],
    x: &[F],
    w: &[F],
    b: Option<&[F]>,
    n: usize,
    d_in: usize,
    d_out: usize,
) {
    let y = &mut y[..n * d_out];
    if n == 1 {
        // One row (an LSTM step): dot products, no GEMM packing of the whole weight.
        forward_rows(y, x, w, b, 1, d_in, d_out);
        return;
    }
    let accumulate = match b {
        Some(b) => {
            for row in y.chunks_exact_mut(d_out) {
                row.copy_from_slice(&b[..d_out]);
            }
            true
        }
        None => false,
    };
    matmul(
        Mat::new(x, n, d_in),
        Mat::new(w, d_out, d_in).t(),
        y,
        accumulate,
    );
}

/// [`forward`] with every element summed as [`dot`] sums it (tiled over outputs and rows): every
/// row's output is bit for bit what it is alone, and nothing is allocated (GEMM packs its operands
/// into buffers of its own). For the KV cache's attention scores and an LSTM's steps.
pub use super::row_tiles::forward as forward_rows;

/// Dot product with eight independent partial sums (so the compiler can keep them in one vector).
pub fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    let mut acc = [F::ZERO; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut sum = combine_lanes(&acc);
    for (&x, &y) in ra.iter().zip(rb) {
        sum += x * y;
    }
    sum
}

/// Eight partial sums combined pairwise in one fixed order (the reductions that keep eight lanes
/// use this, so every instruction set gives the same bits).
#[inline(always)]
pub(crate) fn combine_lanes<F: Float>(acc: &[F; 8]) -> F {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// Backward: `dx = dy @ w` (overwritten: no need to zero it first), `dw += dyᵀ @ x`,
/// `db += Σ_rows dy`.
#[allow(clippy::too_many_arguments)]
pub fn backward<F: Float>(
    dx: Option<&mut [F]>,
    dw: &mut [F],
    db: Option<&mut [F]>,
    dy: &[F],
    x: &[F],
    w: &[F],
    n: usize,
    d_in: usize,
    d_out: usize,
) {
    let dy_m = Mat::new(dy, n, d_out);
    if let Some(dx) = dx {
        matmul(dy_m, Mat::new(w, d_out, d_in), dx, false);
    }
    matmul(dy_m.t(), Mat::new(x, n, d_in), dw, true);
    if let Some(db) = db {
        for row in dy[..n * d_out].chunks_exact(d_out) {
            for (g, &v) in db.iter_mut().zip(row) {
                *g += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check, rand_vec};

    #[test]
    fn backward_matches_finite_differences() {
        let (n, di, dout) = (5, 4, 3);
        let x = rand_vec(n * di, 1);
        let w = rand_vec(dout * di, 2);
        let b = rand_vec(dout, 3);
        let r = rand_vec(n * dout, 4);
        let loss = |x: &[f64], w: &[f64], b: &[f64]| {
            let mut y = vec![0.0; n * dout];
            forward(&mut y, x, w, Some(b), n, di, dout);
            y.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>()
        };
        let (mut dx, mut dw, mut db) = (vec![0.0; n * di], vec![0.0; dout * di], vec![0.0; dout]);
        backward(
            Some(&mut dx),
            &mut dw,
            Some(&mut db),
            &r,
            &x,
            &w,
            n,
            di,
            dout,
        );
        check("linear dx", &x, &dx, |v| loss(v, &w, &b));
        check("linear dw", &w, &dw, |v| loss(&x, v, &b));
        check("linear db", &b, &db, |v| loss(&x, &w, v));
    }
}
