//! One LSTM layer over a time-major batch (`[t, b, features]`), gates in PyTorch's order i, f, g, o:
//! `c' = f·c + i·g`, `h' = o·tanh(c')`, initial state zero. The input projection for all steps is one
//! GEMM; each step adds `h @ W_hhᵀ`; backward runs back through time and ends with three large GEMMs.

use crate::float::Float;
use crate::gemm::{matmul, Mat};
use crate::layers::linear;

/// Sizes of one LSTM call.
#[derive(Clone, Copy, Debug)]
pub struct LstmShape {
    /// Time steps.
    pub t: usize,
    /// Sequences in the batch.
    pub b: usize,
    /// Input features.
    pub d_in: usize,
    /// Hidden (and cell) size.
    pub h: usize,
}

fn sigmoid<F: Float>(x: F) -> F {
    F::ONE / (F::ONE + (-x).fast_exp())
}

/// Forward. `gates` (`[t·b, 4h]`) receives the activated gates, `cs`/`hs` (`[(t+1)·b, h]`) the cell and
/// hidden states with the zero initial state first, `tc` (`[t·b, h]`) `tanh(c)`. Outputs are `hs[b·h..]`.
#[allow(clippy::too_many_arguments)]
pub fn forward<F: Float>(
    gates: &mut [F],
    cs: &mut [F],
    hs: &mut [F],
    tc: &mut [F],
    x: &[F],
    w_ih: &[F],
    w_hh: &[F],
    bias: &[F],
    s: LstmShape,
) {
    let (t, b, h) = (s.t, s.b, s.h);
    let bh = b * h;
    linear::forward(gates, x, w_ih, Some(bias), t * b, s.d_in, 4 * h);
    cs[..bh].fill(F::ZERO);
    hs[..bh].fill(F::ZERO);
    for step in 0..t {
        let g = &mut gates[step * b * 4 * h..(step + 1) * b * 4 * h];
        let (h_prev, h_rest) = hs.split_at_mut((step + 1) * bh);
        let h_prev = &h_prev[step * bh..];
        matmul(
            Mat::new(h_prev, b, h),
            Mat::new(w_hh, 4 * h, h).t(),
            g,
            true,
        );
        let (c_prev, c_rest) = cs.split_at_mut((step + 1) * bh);
        let c_prev = &c_prev[step * bh..];
        let (c_new, h_new) = (&mut c_rest[..bh], &mut h_rest[..bh]);
        let tcs = &mut tc[step * bh..(step + 1) * bh];
        for r in 0..b {
            let gr = &mut g[r * 4 * h..(r + 1) * 4 * h];
            for j in 0..h {
                let i = sigmoid(gr[j]);
                let f = sigmoid(gr[h + j]);
                let gg = gr[2 * h + j].fast_tanh();
                let o = sigmoid(gr[3 * h + j]);
                gr[j] = i;
                gr[h + j] = f;
                gr[2 * h + j] = gg;
                gr[3 * h + j] = o;
                let c = f * c_prev[r * h + j] + i * gg;
                let th = c.fast_tanh();
                c_new[r * h + j] = c;
                tcs[r * h + j] = th;
                h_new[r * h + j] = o * th;
            }
        }
    }
}

/// Backward through time. `dh_out` (`[t·b, h]`) is the gradient of the outputs; writes `dx` (the
/// inputs' gradient, overwritten), adds into `dw_ih`, `dw_hh`, `db`; `dgates` (`[t·b, 4h]`), `dh_next` and `dc_next` (`[b, h]`) are scratch.
#[allow(clippy::too_many_arguments)]
pub fn backward<F: Float>(
    dx: &mut [F],
    dw_ih: &mut [F],
    dw_hh: &mut [F],
    db: &mut [F],
    dgates: &mut [F],
    dh_next: &mut [F],
    dc_next: &mut [F],
    dh_out: &[F],
    gates: &[F],
    cs: &[F],
    hs: &[F],
    tc: &[F],
    x: &[F],
    w_ih: &[F],
    w_hh: &[F],
    s: LstmShape,
) {
    let (t, b, h) = (s.t, s.b, s.h);
    let bh = b * h;
    dh_next[..bh].fill(F::ZERO);
    dc_next[..bh].fill(F::ZERO);
    for step in (0..t).rev() {
        let g = &gates[step * b * 4 * h..(step + 1) * b * 4 * h];
        let dg = &mut dgates[step * b * 4 * h..(step + 1) * b * 4 * h];
        let c_prev = &cs[step * bh..(step + 1) * bh];
        let tcs = &tc[step * bh..(step + 1) * bh];
        let dho = &dh_out[step * bh..(step + 1) * bh];
        for r in 0..b {
            let gr = &g[r * 4 * h..(r + 1) * 4 * h];
            let dgr = &mut dg[r * 4 * h..(r + 1) * 4 * h];
            for j in 0..h {
                let k = r * h + j;
                let (i, f, gg, o) = (gr[j], gr[h + j], gr[2 * h + j], gr[3 * h + j]);
                let dh = dho[k] + dh_next[k];
                let th = tcs[k];
                let dc = dc_next[k] + dh * o * (F::ONE - th * th);
                dc_next[k] = dc * f;
                dgr[j] = dc * gg * i * (F::ONE - i);
                dgr[h + j] = dc * c_prev[k] * f * (F::ONE - f);
                dgr[2 * h + j] = dc * i * (F::ONE - gg * gg);
                dgr[3 * h + j] = dh * th * o * (F::ONE - o);
            }
        }
        // dh_next = dgates[step] @ W_hh
        matmul(
            Mat::new(dg, b, 4 * h),
            Mat::new(w_hh, 4 * h, h),
            dh_next,
            false,
        );
    }
    let n = t * b;
    // dW_hh += dGᵀ @ H_prev (H_prev = hs[0..t]).
    matmul(
        Mat::new(dgates, n, 4 * h).t(),
        Mat::new(&hs[..n * h], n, h),
        dw_hh,
        true,
    );
    linear::backward(Some(dx), dw_ih, Some(db), dgates, x, w_ih, n, s.d_in, 4 * h);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check, rand_vec};

    #[test]
    fn backward_matches_finite_differences() {
        let s = LstmShape {
            t: 4,
            b: 2,
            d_in: 3,
            h: 3,
        };
        let (n, h) = (s.t * s.b, s.h);
        let x = rand_vec(n * s.d_in, 30);
        let w_ih = rand_vec(4 * h * s.d_in, 31);
        let w_hh = rand_vec(4 * h * h, 32);
        let bias = rand_vec(4 * h, 33);
        let r = rand_vec(n * h, 34);
        let bufs = || {
            (
                vec![0.0; n * 4 * h],
                vec![0.0; (s.t + 1) * s.b * h],
                vec![0.0; (s.t + 1) * s.b * h],
                vec![0.0; n * h],
            )
        };
        let loss = |x: &[f64], wi: &[f64], wh: &[f64], bi: &[f64]| {
            let (mut g, mut c, mut hs, mut tc) = bufs();
            forward(&mut g, &mut c, &mut hs, &mut tc, x, wi, wh, bi, s);
            hs[s.b * h..]
                .iter()
                .zip(&r)
                .map(|(a, b)| a * b)
                .sum::<f64>()
        };
        let (mut g, mut c, mut hs, mut tc) = bufs();
        forward(&mut g, &mut c, &mut hs, &mut tc, &x, &w_ih, &w_hh, &bias, s);
        let mut dx = vec![0.0; x.len()];
        let (mut dwi, mut dwh, mut db) = (
            vec![0.0; w_ih.len()],
            vec![0.0; w_hh.len()],
            vec![0.0; 4 * h],
        );
        let (mut dg, mut dhn, mut dcn) =
            (vec![0.0; n * 4 * h], vec![0.0; s.b * h], vec![0.0; s.b * h]);
        backward(
            &mut dx, &mut dwi, &mut dwh, &mut db, &mut dg, &mut dhn, &mut dcn, &r, &g, &c, &hs,
            &tc, &x, &w_ih, &w_hh, s,
        );
        check("lstm dx", &x, &dx, |v| loss(v, &w_ih, &w_hh, &bias));
        check("lstm dw_ih", &w_ih, &dwi, |v| loss(&x, v, &w_hh, &bias));
        check("lstm dw_hh", &w_hh, &dwh, |v| loss(&x, &w_ih, v, &bias));
        check("lstm db", &bias, &db, |v| loss(&x, &w_ih, &w_hh, v));
    }
}
