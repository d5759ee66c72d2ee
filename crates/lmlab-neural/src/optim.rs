//! AdamW with decoupled weight decay, the warmup + cosine learning-rate schedule, and global-norm
//! gradient clipping, all over the flat parameter buffer.

use crate::config::TrainConfig;
use crate::model::params::{total_len, ParamSpec};
use crate::simd::simd_dispatch;
use rayon::prelude::*;

/// Parameters per parallel task.
const CHUNK: usize = 1 << 14;

/// AdamW state: first and second moments per parameter and the step count.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW {
    /// First moments.
    pub m: Vec<f32>,
    /// Second moments.
    pub v: Vec<f32>,
    /// Updates taken so far.
    pub t: u64,
    /// Per parameter tensor: its range and whether it is decayed.
    decay: Vec<(usize, usize, bool)>,
}

impl AdamW {
    /// Zero state for the parameters described by `specs`.
    pub fn new(specs: &[ParamSpec]) -> AdamW {
        let total = total_len(specs);
        AdamW {
            m: vec![0.0; total],
            v: vec![0.0; total],
            t: 0,
            decay: specs
                .iter()
                .map(|s| (s.span.off, s.span.len, s.decay))
                .collect(),
        }
    }

    /// One update at learning rate `lr` (PyTorch's AdamW: decay `θ ← θ(1 − lr·wd)`, then the Adam step
    /// with bias correction).
    pub fn step(&mut self, params: &mut [f32], grads: &[f32], lr: f64, c: &TrainConfig) {
        self.t += 1;
        let (b1, b2) = (c.beta1 as f32, c.beta2 as f32);
        let bc1 = 1.0 - c.beta1.powi(self.t as i32);
        let bc2 = 1.0 - c.beta2.powi(self.t as i32);
        let step_size = (lr / bc1) as f32;
        let inv_sqrt_bc2 = (1.0 / bc2.sqrt()) as f32;
        let eps = c.eps as f32;
        for &(off, len, decay) in &self.decay {
            let shrink = if decay {
                (1.0 - lr * c.weight_decay) as f32
            } else {
                1.0
            };
            let range = off..off + len;
            params[range.clone()]
                .par_chunks_mut(CHUNK)
                .zip(grads[range.clone()].par_chunks(CHUNK))
                .zip(self.m[range.clone()].par_chunks_mut(CHUNK))
                .zip(self.v[range].par_chunks_mut(CHUNK))
                .for_each(|(((p, g), m), v)| {
                    let k = AdamWStep {
                        shrink,
                        b1,
                        b2,
                        step_size,
                        inv_sqrt_bc2,
                        eps,
                    };
                    adamw_update(p, g, m, v, k);
                });
        }
    }
}

/// The constants of one AdamW update.
#[derive(Clone, Copy)]
struct AdamWStep {
    shrink: f32,
    b1: f32,
    b2: f32,
    step_size: f32,
    inv_sqrt_bc2: f32,
    eps: f32,
}

simd_dispatch! {
    /// One AdamW update of a chunk of parameters (decoupled decay, then the Adam step); element-wise,
    /// compiled for the best SIMD extension the CPU has.
    fn adamw_update(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], k: AdamWStep) {
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
            *p *= k.shrink;
            *m = k.b1 * *m + (1.0 - k.b1) * g;
            *v = k.b2 * *v + (1.0 - k.b2) * g * g;
            *p -= k.step_size * *m / (v.sqrt() * k.inv_sqrt_bc2 + k.eps);
        }
    }
}

/// Learning rate at `step` (0-based): linear warmup to `learning_rate`, cosine decay to `min_lr` at
/// `lr_decay_steps` (default `max_steps`), `min_lr` after.
pub fn learning_rate(step: usize, c: &TrainConfig) -> f64 {
    let decay_end = if c.lr_decay_steps > 0 {
        c.lr_decay_steps
    } else {
        c.max_steps
    };
    if step < c.warmup_steps {
        return c.learning_rate * (step + 1) as f64 / (c.warmup_steps + 1) as f64;
    }
    if step >= decay_end || decay_end <= c.warmup_steps {
        return c.min_lr;
    }
    let ratio = (step - c.warmup_steps) as f64 / (decay_end - c.warmup_steps) as f64;
    let coeff = 0.5 * (1.0 + (std::f64::consts::PI * ratio).cos());
    c.min_lr + coeff * (c.learning_rate - c.min_lr)
}

/// Scales `grads` so their global L2 norm is at most `max_norm` (0 = no clipping); returns the norm
/// before clipping (NaN or infinite when a gradient is).
pub fn clip_grad_norm(grads: &mut [f32], max_norm: f64) -> f64 {
    let norm = grads
        .iter()
        .map(|&g| g as f64 * g as f64)
        .sum::<f64>()
        .sqrt();
    if max_norm > 0.0 && norm.is_finite() && norm > max_norm {
        let s = (max_norm / (norm + 1e-6)) as f32;
        for g in grads.iter_mut() {
            *g *= s;
        }
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;

    fn config() -> TrainConfig {
        RunConfig::parse(
            "[model]\nn_layer=1\nn_head=1\nn_embd=2\nblock_size=2\n[train]\nbatch_size=1\nmax_steps=100\n\
             learning_rate=1e-3\nmin_lr=1e-4\nwarmup_steps=10\nweight_decay=0.1\n",
        )
        .unwrap()
        .train
    }

    #[test]
    fn schedule_warms_up_then_decays_to_min_lr() {
        let c = config();
        assert!((learning_rate(0, &c) - 1e-3 / 11.0).abs() < 1e-15);
        assert!((learning_rate(10, &c) - 1e-3).abs() < 1e-15);
        assert!((learning_rate(55, &c) - 5.5e-4).abs() < 1e-12);
        assert!((learning_rate(100, &c) - 1e-4).abs() < 1e-15);
        assert!(learning_rate(30, &c) > learning_rate(60, &c));
    }

    #[test]
    fn adamw_matches_a_hand_computed_step() {
        let c = config();
        let mut opt = AdamW {
            m: vec![0.0; 2],
            v: vec![0.0; 2],
            t: 0,
            decay: vec![(0, 1, true), (1, 1, false)],
        };
        let mut p = vec![1.0f32, 1.0];
        opt.step(&mut p, &[0.5, 0.5], 1e-2, &c);
        // First step: m̂ = g, v̂ = g², update = lr·g/|g| = lr; decay shrinks the first by lr·wd.
        assert!(
            (p[0] - (1.0 * (1.0 - 1e-3) - 1e-2)).abs() < 1e-6,
            "{}",
            p[0]
        );
        assert!((p[1] - (1.0 - 1e-2)).abs() < 1e-6);
    }

    #[test]
    fn clipping_scales_to_the_max_norm() {
        let mut g = vec![3.0f32, 4.0];
        assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
        assert!((g[0] - 0.6).abs() < 1e-5 && (g[1] - 0.8).abs() < 1e-5);
        assert!(clip_grad_norm(&mut [f32::NAN], 1.0).is_nan());
    }
}
