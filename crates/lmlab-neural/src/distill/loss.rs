//! The distillation loss on the student's next-token distributions and its gradient with respect
//! to the logits, in place of the cross-entropy's.
//!
//! Per scored row, with the student's logits `z`, its probabilities `q = softmax(z)`, the teacher's
//! distribution `p`, a temperature `τ` and a weight `α`:
//!
//! `loss = α·τ²·KL(p_τ ‖ q_τ) + (1 − α)·(−ln q[target])`, where `q_τ = softmax(z/τ)` and
//! `p_τ ∝ p^(1/τ)` (the teacher's distribution at the same temperature),
//!
//! `∂loss/∂z = α·τ·(q_τ − p_τ) + (1 − α)·(q − onehot(target))`.
//!
//! `q_τ` is computed from `q` as `q^(1/τ)` renormalised, which equals `softmax(z/τ)` (the forward
//! pass leaves probabilities, not logits, in its buffer).

use crate::float::Float;
use rayon::prelude::*;

/// The loss's two knobs, checked by [`super::DistillConfig::validate`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mix {
    /// τ > 0: both distributions are softened by it before the KL.
    pub temperature: f64,
    /// α ∈ [0, 1]: the KL term's share; `1 − α` goes to the cross-entropy.
    pub weight: f64,
}

/// Sums over the scored rows of one batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DistillSums {
    /// Σ −ln q[target].
    pub cross_entropy: f64,
    /// Σ KL(p_τ ‖ q_τ) in nats.
    pub kl: f64,
    /// Rows scored (targets other than `ignore`).
    pub rows: usize,
}

impl DistillSums {
    /// Σ of the mixed loss, `α·τ²·KL + (1 − α)·CE`.
    pub fn mixed(&self, mix: Mix) -> f64 {
        mix.weight * mix.temperature * mix.temperature * self.kl
            + (1.0 - mix.weight) * self.cross_entropy
    }

    fn add(self, o: DistillSums) -> DistillSums {
        DistillSums {
            cross_entropy: self.cross_entropy + o.cross_entropy,
            kl: self.kl + o.kl,
            rows: self.rows + o.rows,
        }
    }
}

/// `dist^(1/τ)` renormalised, in f64 (the distribution itself when τ = 1).
fn soften(dist: impl Iterator<Item = f64>, temperature: f64, out: &mut [f64]) {
    for (o, p) in out.iter_mut().zip(dist) {
        *o = if temperature == 1.0 {
            p
        } else {
            p.powf(1.0 / temperature)
        };
    }
    let sum: f64 = out.iter().sum();
    if sum > 0.0 {
        out.iter_mut().for_each(|o| *o /= sum);
    }
}

/// The loss terms of one row and, in place of the student's probabilities, `scale · ∂loss/∂z`.
/// `soft` is scratch of one row's length.
fn row_loss_and_gradient<F: Float>(
    probs: &mut [F],
    teacher: &[f64],
    target: usize,
    mix: Mix,
    scale: F,
    soft: &mut [f64],
) -> (f64, f64) {
    let cross_entropy = -probs[target].to_f64().max(f64::MIN_POSITIVE).ln();
    let (tau, alpha) = (mix.temperature, mix.weight);
    // The student at τ, then the teacher at τ next to it.
    let v = probs.len();
    let (student, teacher_soft) = soft.split_at_mut(v);
    soften(probs.iter().map(|q| q.to_f64()), tau, student);
    soften(teacher.iter().copied(), tau, teacher_soft);
    let mut kl = 0.0;
    for (&p, &q) in teacher_soft.iter().zip(student.iter()) {
        if p > 0.0 {
            kl += p * (p.ln() - q.max(f64::MIN_POSITIVE).ln());
        }
    }
    for (i, g) in probs.iter_mut().enumerate() {
        let onehot = if i == target { F::ONE } else { F::ZERO };
        let hard = *g - onehot;
        let soft_grad = F::from_f64(alpha * tau * (student[i] - teacher_soft[i]));
        *g = (F::from_f64(1.0 - alpha) * hard + soft_grad) * scale;
    }
    (cross_entropy, kl)
}

/// Over `targets.len()` rows of `probs` (`rows × v`, the student's next-token probabilities as
/// the forward pass leaves them) and the teacher's distributions `teacher` (same shape): returns
/// the loss sums and overwrites `probs` with `scale · ∂loss/∂logits`, zero for rows whose target is
/// `ignore` (they are not scored, as in the cross-entropy).
pub fn distill_loss_backward<F: Float>(
    probs: &mut [F],
    teacher: &[f64],
    targets: &[u32],
    ignore: Option<u32>,
    v: usize,
    mix: Mix,
    scale: F,
) -> DistillSums {
    // Chunks of sixteen rows summed in order, as the cross-entropy's forward pass sums them: with
    // α = 0 the loss has the same bits.
    probs[..targets.len() * v]
        .par_chunks_mut(v * ROWS_PER_TASK)
        .zip(teacher.par_chunks(v * ROWS_PER_TASK))
        .zip(targets.par_chunks(ROWS_PER_TASK))
        .map(|((rows, t_rows), tgts)| {
            let mut soft = vec![0f64; 2 * v];
            let mut sums = DistillSums::default();
            for ((row, t_row), &t) in rows
                .chunks_exact_mut(v)
                .zip(t_rows.chunks_exact(v))
                .zip(tgts)
            {
                if Some(t) == ignore {
                    row.fill(F::ZERO);
                    continue;
                }
                let (cross_entropy, kl) =
                    row_loss_and_gradient(row, t_row, t as usize, mix, scale, &mut soft);
                sums = sums.add(DistillSums {
                    cross_entropy,
                    kl,
                    rows: 1,
                });
            }
            sums
        })
        .collect::<Vec<_>>()
        .into_iter()
        .fold(DistillSums::default(), DistillSums::add)
}

/// Rows per parallel task (the cross-entropy's chunking).
const ROWS_PER_TASK: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check, rand_vec};
    use crate::layers::loss::{
        softmax_cross_entropy_backward, softmax_cross_entropy_forward, softmax_in_place,
    };

    fn teacher_rows(n: usize, v: usize) -> Vec<f64> {
        let mut t: Vec<f64> = rand_vec(n * v, 7).iter().map(|x| (2.0 * x).exp()).collect();
        t[3] = 0.0; // a token the teacher never gives (as `<s>`)
        for row in t.chunks_exact_mut(v) {
            let s: f64 = row.iter().sum();
            row.iter_mut().for_each(|x| *x /= s);
        }
        t
    }

    /// The mean mixed loss of logits `z`, via the function under test's forward sums.
    fn mean_loss(z: &[f64], teacher: &[f64], targets: &[u32], v: usize, mix: Mix) -> f64 {
        let mut q = z.to_vec();
        for row in q.chunks_exact_mut(v) {
            softmax_in_place(row);
        }
        let s = distill_loss_backward(&mut q, teacher, targets, Some(0), v, mix, 1.0);
        s.mixed(mix) / s.rows as f64
    }

    #[test]
    fn gradient_matches_central_finite_differences_in_f64() {
        let (n, v) = (4, 6);
        let z: Vec<f64> = rand_vec(n * v, 23).iter().map(|x| x * 3.0).collect();
        let teacher = teacher_rows(n, v);
        let targets = [1u32, 4, 0, 5];
        for (temperature, weight) in [(1.0, 0.5), (2.0, 0.7), (0.5, 1.0), (3.0, 0.0)] {
            let mix = Mix {
                temperature,
                weight,
            };
            let mut g = z.clone();
            for row in g.chunks_exact_mut(v) {
                softmax_in_place(row);
            }
            let sums =
                distill_loss_backward(&mut g, &teacher, &targets, Some(0), v, mix, 1.0 / 3.0);
            assert_eq!(sums.rows, 3);
            assert!(g[2 * v..3 * v].iter().all(|&x| x == 0.0), "ignored row");
            check(
                &format!("distill τ={temperature} α={weight}"),
                &z,
                &g,
                |z| mean_loss(z, &teacher, &targets, v, mix),
            );
        }
    }

    #[test]
    fn weight_zero_is_the_cross_entropy_bit_for_bit() {
        let (n, v) = (5, 9);
        let z: Vec<f32> = rand_vec(n * v, 3)
            .iter()
            .map(|&x| (x * 4.0) as f32)
            .collect();
        let targets = [2u32, 0, 8, 1, 5];
        let teacher = teacher_rows(n, v);
        let (mut a, mut b) = (z.clone(), z);
        let (ce, rows) = softmax_cross_entropy_forward(&mut a, &targets, Some(0), v);
        softmax_cross_entropy_backward(&mut a, &targets, Some(0), v, 0.25);
        for row in b.chunks_exact_mut(v) {
            softmax_in_place(row);
        }
        let mix = Mix {
            temperature: 2.0,
            weight: 0.0,
        };
        let s = distill_loss_backward(&mut b, &teacher, &targets, Some(0), v, mix, 0.25);
        assert_eq!(s.rows, rows);
        assert_eq!(s.mixed(mix).to_bits(), ce.to_bits());
        assert_eq!(
            a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_kl_is_zero_when_the_student_is_the_teacher() {
        let v = 5;
        let z = rand_vec(v, 11);
        let mut q = z.clone();
        softmax_in_place(&mut q);
        let teacher = q.clone();
        let mix = Mix {
            temperature: 2.0,
            weight: 1.0,
        };
        let s = distill_loss_backward(&mut q, &teacher, &[3], None, v, mix, 1.0);
        assert!(s.kl.abs() < 1e-12, "{}", s.kl);
        assert!(q.iter().all(|g| g.abs() < 1e-12));
    }
}
