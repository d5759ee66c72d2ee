//! Element-wise activations: GELU (tanh approximation) and SwiGLU.

use crate::float::Float;
use crate::simd::simd_dispatch;
use rayon::prelude::*;

/// Elements per parallel task.
const CHUNK: usize = 8192;
/// Up to this many elements (a few microseconds of work) the forward pass stays on the calling thread.
const SERIAL_UP_TO: usize = 16 * CHUNK;

const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const GELU_C: f64 = 0.044_715;

/// GELU (tanh form, as GPT-2): `y = x/2 · (1 + tanh(√(2/π)(x + 0.044715x³)))`.
pub fn gelu_forward<F: Float>(y: &mut [F], x: &[F]) {
    if y.len() <= SERIAL_UP_TO {
        // On this thread: a parallel iterator called from outside the pool hands its tasks to pool
        // threads and waits for them, a thread switch per call; a KV-cache step of 9 rows (two
        // chunks) lost ~140 µs per block to it, more than the GELU itself.
        return gelu_forward_serial(y, x);
    }
    y.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(y, x)| gelu_forward_serial(y, x));
}

simd_dispatch! {
    fn gelu_forward_serial<F: Float>(y: &mut [F], x: &[F]) {
        let (k, c, half) = (
            F::from_f64(SQRT_2_OVER_PI),
            F::from_f64(GELU_C),
            F::from_f64(0.5),
        );
        for (o, &v) in y.iter_mut().zip(x) {
            *o = half * v * (F::ONE + (k * (v + c * v * v * v)).fast_tanh());
        }
    }
}

/// GELU backward: `dx = dy · gelu'(x)` (overwritten).
pub fn gelu_backward<F: Float>(dx: &mut [F], dy: &[F], x: &[F]) {
    dx.par_chunks_mut(CHUNK)
        .zip(dy.par_chunks(CHUNK))
        .zip(x.par_chunks(CHUNK))
        .for_each(|((dx, dy), x)| gelu_backward_serial(dx, dy, x));
}

simd_dispatch! {
    fn gelu_backward_serial<F: Float>(dx: &mut [F], dy: &[F], x: &[F]) {
        let (k, c, half) = (
            F::from_f64(SQRT_2_OVER_PI),
            F::from_f64(GELU_C),
            F::from_f64(0.5),
        );
        let three_c = F::from_f64(3.0 * GELU_C);
        for ((g, &d), &v) in dx.iter_mut().zip(dy).zip(x) {
            let t = (k * (v + c * v * v * v)).fast_tanh();
            let dt = (F::ONE - t * t) * k * (F::ONE + three_c * v * v);
            *g = d * (half * (F::ONE + t) + half * v * dt);
        }
    }
}

simd_dispatch! {
    /// SwiGLU: input rows `[gate (f) | up (f)]`, output `silu(gate) · up`, `f` features per row.
    pub fn swiglu_forward<F: Float>(y: &mut [F], x: &[F], n: usize, f: usize) {
        for r in 0..n {
            let (gate, up) = x[r * 2 * f..(r + 1) * 2 * f].split_at(f);
            for i in 0..f {
                let s = F::ONE / (F::ONE + (-gate[i]).fast_exp());
                y[r * f + i] = gate[i] * s * up[i];
            }
        }
    }
}

simd_dispatch! {
    /// SwiGLU backward: writes `dx` (rows `[dgate | dup]`, overwritten).
    pub fn swiglu_backward<F: Float>(dx: &mut [F], dy: &[F], x: &[F], n: usize, f: usize) {
        for r in 0..n {
            let (gate, up) = x[r * 2 * f..(r + 1) * 2 * f].split_at(f);
            let (dgate, dup) = dx[r * 2 * f..(r + 1) * 2 * f].split_at_mut(f);
            for i in 0..f {
                let s = F::ONE / (F::ONE + (-gate[i]).fast_exp());
                let d = dy[r * f + i];
                dup[i] = d * gate[i] * s;
                dgate[i] = d * up[i] * s * (F::ONE + gate[i] * (F::ONE - s));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check, rand_vec};

    #[test]
    fn gelu_backward_matches_finite_differences() {
        let x: Vec<f64> = rand_vec(12, 12).iter().map(|v| v * 3.0).collect();
        let r = rand_vec(12, 13);
        let loss = |x: &[f64]| {
            let mut y = vec![0.0; 12];
            gelu_forward(&mut y, x);
            y.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>()
        };
        let mut dx = vec![0.0; 12];
        gelu_backward(&mut dx, &r, &x);
        check("gelu dx", &x, &dx, loss);
    }

    #[test]
    fn swiglu_backward_matches_finite_differences() {
        let (n, f) = (3, 4);
        let x: Vec<f64> = rand_vec(n * 2 * f, 14).iter().map(|v| v * 3.0).collect();
        let r = rand_vec(n * f, 15);
        let loss = |x: &[f64]| {
            let mut y = vec![0.0; n * f];
            swiglu_forward(&mut y, x, n, f);
            y.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>()
        };
        let mut dx = vec![0.0; n * 2 * f];
        swiglu_backward(&mut dx, &r, &x, n, f);
        check("swiglu dx", &x, &dx, loss);
    }
}
