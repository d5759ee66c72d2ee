//! LayerNorm and RMSNorm over the last dimension, with per-row statistics kept for the backward pass.

use crate::float::Float;
use crate::simd::simd_dispatch;
use rayon::prelude::*;

/// Rows per parallel task.
const ROWS: usize = 32;
/// Up to this many rows (a KV cache's step or window change) the forward passes stay on the calling
/// thread.
const SERIAL_ROWS: usize = 4 * ROWS;

/// Epsilon added to the variance (LayerNorm) or mean square (RMSNorm), as PyTorch's default.
pub const EPS: f64 = 1e-5;

/// LayerNorm forward: `y = (x - mean) * rstd * g + b`; stores `mean` and `rstd` per row.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_forward<F: Float>(
    y: &mut [F],
    mean: &mut [F],
    rstd: &mut [F],
    x: &[F],
    g: &[F],
    b: Option<&[F]>,
    n: usize,
    d: usize,
) {
    if n <= SERIAL_ROWS {
        // On this thread (see `rms_norm_forward`).
        return layer_norm_rows(
            &mut y[..n * d],
            &mut mean[..n],
            &mut rstd[..n],
            &x[..n * d],
            g,
            b,
            n,
            d,
        );
    }
    y[..n * d]
        .par_chunks_mut(ROWS * d)
        .zip(mean[..n].par_chunks_mut(ROWS))
        .zip(rstd[..n].par_chunks_mut(ROWS))
        .zip(x[..n * d].par_chunks(ROWS * d))
        .for_each(|(((y, m), s), x)| layer_norm_rows(y, m, s, x, g, b, m.len(), d));
}

simd_dispatch! {
    #[allow(clippy::too_many_arguments)]
    fn layer_norm_rows<F: Float>(
        y: &mut [F],
        mean: &mut [F],
        rstd: &mut [F],
        x: &[F],
        g: &[F],
        b: Option<&[F]>,
        n: usize,
        d: usize,
    ) {
        let inv_d = F::from_f64(1.0 / d as f64);
        let eps = F::from_f64(EPS);
        let mut r = 0;
        while r < n {
            // Four rows' statistics together where four are left: their sums are independent
            // chains of adds, so they overlap instead of waiting on each other.
            let group = if r + ROW_GROUP <= n { ROW_GROUP } else { 1 };
            let (x_at, m_at) = (&x[r * d..], &mut mean[r..]);
            if group == ROW_GROUP {
                row_stats::<F, ROW_GROUP>(x_at, d, inv_d, m_at, &mut rstd[r..]);
            } else {
                row_stats::<F, 1>(x_at, d, inv_d, m_at, &mut rstd[r..]);
            }
            for r in r..r + group {
                let (m, s) = (mean[r], F::ONE / (rstd[r] + eps).sqrt());
                rstd[r] = s;
                let xr = &x[r * d..(r + 1) * d];
                let yr = &mut y[r * d..(r + 1) * d];
                match b {
                    Some(b) => {
                        for i in 0..d {
                            yr[i] = (xr[i] - m) * s * g[i] + b[i];
                        }
                    }
                    None => {
                        for i in 0..d {
                            yr[i] = (xr[i] - m) * s * g[i];
                        }
                    }
                }
            }
            r += group;
        }
    }
}

/// Rows whose statistics [`layer_norm_rows`] sums together.
const ROW_GROUP: usize = 4;

/// The mean and the variance (into `rstd`, before the square root) of `R` consecutive rows of `x`,
/// each summed left to right from −0 as `Iterator::sum` does, so the bits are those of one row alone.
#[inline(always)]
fn row_stats<F: Float, const R: usize>(x: &[F], d: usize, inv_d: F, mean: &mut [F], var: &mut [F]) {
    let mut s = [-F::ZERO; R];
    for i in 0..d {
        for (r, s) in s.iter_mut().enumerate() {
            *s += x[r * d + i];
        }
    }
    let m = s.map(|s| s * inv_d);
    let mut q = [-F::ZERO; R];
    for i in 0..d {
        for (r, q) in q.iter_mut().enumerate() {
            let v = x[r * d + i] - m[r];
            *q += v * v;
        }
    }
    mean[..R].copy_from_slice(&m);
    for (v, q) in var[..R].iter_mut().zip(q) {
        *v = q * inv_d;
    }
}

/// LayerNorm backward: adds into `dx`, `dg` and `db`.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward<F: Float>(
    dx: &mut [F],
    dg: &mut [F],
    db: Option<&mut [F]>,
    dy: &[F],
    x: &[F],
    mean: &[F],
    rstd: &[F],
    g: &[F],
    n: usize,
    d: usize,
) {
    dx[..n * d]
        .par_chunks_mut(ROWS * d)
        .enumerate()
        .for_each(|(blk, dx)| {
            let r0 = blk * ROWS;
            let rows = dx.len() / d;
            layer_norm_dx(
                dx,
                &dy[r0 * d..(r0 + rows) * d],
                &x[r0 * d..(r0 + rows) * d],
                &mean[r0..r0 + rows],
                &rstd[r0..r0 + rows],
                g,
                rows,
                d,
            )
        });
    layer_norm_param_grads(dg, db, dy, x, mean, rstd, n, d);
}

simd_dispatch! {
    /// LayerNorm's gain and bias gradients, summed over rows in row order (SIMD across features).
    #[allow(clippy::too_many_arguments)]
    fn layer_norm_param_grads<F: Float>(
        dg: &mut [F],
        mut db: Option<&mut [F]>,
        dy: &[F],
        x: &[F],
        mean: &[F],
        rstd: &[F],
        n: usize,
        d: usize,
    ) {
        let (dg, x, dy) = (&mut dg[..d], &x[..n * d], &dy[..n * d]);
        for r in 0..n {
            let (m, s) = (mean[r], rstd[r]);
            let xr = &x[r * d..(r + 1) * d];
            let dyr = &dy[r * d..(r + 1) * d];
            for ((g, &dyi), &xi) in dg.iter_mut().zip(dyr).zip(xr) {
                *g += dyi * (xi - m) * s;
            }
            if let Some(db) = db.as_deref_mut() {
                for (b, &dyi) in db[..d].iter_mut().zip(dyr) {
                    *b += dyi;
                }
            }
        }
    }
}

simd_dispatch! {
    #[allow(clippy::too_many_arguments)]
    fn layer_norm_dx<F: Float>(
        dx: &mut [F],
        dy: &[F],
        x: &[F],
        mean: &[F],
        rstd: &[F],
        g: &[F],
        n: usize,
        d: usize,
    ) {
        let inv_d = F::from_f64(1.0 / d as f64);
        for r in 0..n {
            let (m, s) = (mean[r], rstd[r]);
            let xr = &x[r * d..(r + 1) * d];
            let dyr = &dy[r * d..(r + 1) * d];
            let mut mean_dn = F::ZERO;
            let mut mean_dn_xhat = F::ZERO;
            for i in 0..d {
                let dn = dyr[i] * g[i];
                mean_dn += dn;
                mean_dn_xhat += dn * (xr[i] - m) * s;
            }
            mean_dn *= inv_d;
            mean_dn_xhat *= inv_d;
            let dxr = &mut dx[r * d..(r + 1) * d];
            for i in 0..d {
                let xhat = (xr[i] - m) * s;
                dxr[i] += s * (dyr[i] * g[i] - mean_dn - xhat * mean_dn_xhat);
            }
        }
    }
}

/// RMSNorm forward: `y = x * rstd * g` with `rstd = 1 / sqrt(mean(x²) + eps)`; stores `rstd`.
pub fn rms_norm_forward<F: Float>(
    y: &mut [F],
    rstd: &mut [F],
    x: &[F],
    g: &[F],
    n: usize,
    d: usize,
) {
    if n <= SERIAL_ROWS {
        // On this thread: a parallel iterator called from outside the pool hands its tasks to pool
        // threads and waits for them, a thread switch per call (KV-cache steps, window changes).
        return rms_norm_rows(&mut y[..n * d], &mut rstd[..n], &x[..n * d], g, n, d);
    }
    y[..n * d]
        .par_chunks_mut(ROWS * d)
        .zip(rstd[..n].par_chunks_mut(ROWS))
        .zip(x[..n * d].par_chunks(ROWS * d))
        .for_each(|((y, s), x)| rms_norm_rows(y, s, x, g, s.len(), d));
}

simd_dispatch! {
    fn rms_norm_rows<F: Float>(y: &mut [F], rstd: &mut [F], x: &[F], g: &[F], n: usize, d: usize) {
        let inv_d = F::from_f64(1.0 / d as f64);
        let eps = F::from_f64(EPS);
        for r in 0..n {
            let xr = &x[r * d..(r + 1) * d];
            let ms = xr.iter().map(|&v| v * v).sum::<F>() * inv_d;
            let s = F::ONE / (ms + eps).sqrt();
            rstd[r] = s;
            let yr = &mut y[r * d..(r + 1) * d];
            for i in 0..d {
                yr[i] = xr[i] * s * g[i];
            }
        }
    }
}

/// RMSNorm backward: adds into `dx` and `dg`.
#[allow(clippy::too_many_arguments)]
pub fn rms_norm_backward<F: Float>(
    dx: &mut [F],
    dg: &mut [F],
    dy: &[F],
    x: &[F],
    rstd: &[F],
    g: &[F],
    n: usize,
    d: usize,
) {
    let inv_d = F::from_f64(1.0 / d as f64);
    for r in 0..n {
        let s = rstd[r];
        let xr = &x[r * d..(r + 1) * d];
        let dyr = &dy[r * d..(r + 1) * d];
        let mut mean_dn_xhat = F::ZERO;
        for i in 0..d {
            mean_dn_xhat += dyr[i] * g[i] * xr[i] * s;
        }
        mean_dn_xhat *= inv_d;
        let dxr = &mut dx[r * d..(r + 1) * d];
        for i in 0..d {
            let xhat = xr[i] * s;
            dxr[i] += s * (dyr[i] * g[i] - xhat * mean_dn_xhat);
            dg[i] += dyr[i] * xhat;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check, rand_vec};

    /// Rows normalized four at a time give the bits of `Iterator::sum`'s statistics row by row, for
    /// any number of rows (groups and the rows left over), a row of negative zeros included.
    #[test]
    fn grouped_statistics_give_the_bits_of_one_row_at_a_time() {
        let (n, d) = (11, 37);
        let mut x: Vec<f32> = rand_vec(n * d, 3).iter().map(|&v| v as f32 * 3.0).collect();
        x[4 * d..5 * d].fill(-0.0);
        let g: Vec<f32> = rand_vec(d, 4).iter().map(|&v| v as f32).collect();
        let (mut y, mut mean, mut rstd) = (vec![0.0f32; n * d], vec![0.0f32; n], vec![0.0f32; n]);
        layer_norm_rows(&mut y, &mut mean, &mut rstd, &x, &g, None, n, d);
        let inv_d = 1.0 / d as f64;
        for r in 0..n {
            let xr = &x[r * d..(r + 1) * d];
            let m = xr.iter().copied().sum::<f32>() * inv_d as f32;
            let var = xr.iter().map(|&v| (v - m) * (v - m)).sum::<f32>() * inv_d as f32;
            let s = 1.0 / (var + EPS as f32).sqrt();
            assert_eq!(
                (mean[r].to_bits(), rstd[r].to_bits()),
                (m.to_bits(), s.to_bits())
            );
            for i in 0..d {
                assert_eq!(y[r * d + i].to_bits(), ((xr[i] - m) * s * g[i]).to_bits());
            }
        }
    }

    #[test]
    fn layer_norm_backward_matches_finite_differences() {
        let (n, d) = (3, 6);
        let x = rand_vec(n * d, 5);
        let g = rand_vec(d, 6);
        let b = rand_vec(d, 7);
        let r = rand_vec(n * d, 8);
        let loss = |x: &[f64], g: &[f64], b: &[f64]| {
            let (mut y, mut m, mut s) = (vec![0.0; n * d], vec![0.0; n], vec![0.0; n]);
            layer_norm_forward(&mut y, &mut m, &mut s, x, g, Some(b), n, d);
            y.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>()
        };
        let (mut y, mut m, mut s) = (vec![0.0; n * d], vec![0.0; n], vec![0.0; n]);
        layer_norm_forward(&mut y, &mut m, &mut s, &x, &g, Some(&b), n, d);
        let (mut dx, mut dg, mut db) = (vec![0.0; n * d], vec![0.0; d], vec![0.0; d]);
        layer_norm_backward(&mut dx, &mut dg, Some(&mut db), &r, &x, &m, &s, &g, n, d);
        check("layernorm dx", &x, &dx, |v| loss(v, &g, &b));
        check("layernorm dg", &g, &dg, |v| loss(&x, v, &b));
        check("layernorm db", &b, &db, |v| loss(&x, &g, v));
    }

    #[test]
    fn rms_norm_backward_matches_finite_differences() {
        let (n, d) = (3, 6);
        let x = rand_vec(n * d, 9);
        let g = rand_vec(d, 10);
        let r = rand_vec(n * d, 11);
        let loss = |x: &[f64], g: &[f64]| {
            let (mut y, mut s) = (vec![0.0; n * d], vec![0.0; n]);
            rms_norm_forward(&mut y, &mut s, x, g, n, d);
            y.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>()
        };
        let (mut y, mut s) = (vec![0.0; n * d], vec![0.0; n]);
        rms_norm_forward(&mut y, &mut s, &x, &g, n, d);
        let (mut dx, mut dg) = (vec![0.0; n * d], vec![0.0; d]);
        rms_norm_backward(&mut dx, &mut dg, &r, &x, &s, &g, n, d);
        check("rmsnorm dx", &x, &dx, |v| loss(v, &g));
        check("rmsnorm dg", &g, &dg, |v| loss(&x, v));
    }
}
