//! GRPO's per-token objective, in f64: the group-normalised advantage, the clipped importance ratio
//! (PPO's surrogate) and the k3 estimator of KL(π ‖ π_ref) (Schulman 2020), with the derivative of
//! each token's loss term with respect to its log-probability under the policy.

/// The knobs of the objective.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectiveParams {
    /// The ratio is clipped to [1 − ε, 1 + ε].
    pub clip_eps: f64,
    /// Weight of the KL penalty (0: no penalty).
    pub kl_beta: f64,
}

impl Default for ObjectiveParams {
    /// ε = 0.2 and β = 0.04, the values of the GRPO paper (DeepSeekMath).
    fn default() -> Self {
        ObjectiveParams {
            clip_eps: 0.2,
            kl_beta: 0.04,
        }
    }
}

/// Advantages normalised within one group: `(r − mean) / (std + 1e-6)` with the population standard
/// deviation; exactly zero for every sample when all rewards are equal (nothing to learn from).
pub fn group_advantages(rewards: &[f64]) -> Vec<f64> {
    let n = rewards.len() as f64;
    if rewards.iter().all(|&r| r == rewards[0]) {
        return vec![0.0; rewards.len()];
    }
    let mean = rewards.iter().sum::<f64>() / n;
    let var = rewards.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / n;
    let std = var.sqrt();
    rewards.iter().map(|r| (r - mean) / (std + 1e-6)).collect()
}

/// The k3 estimator of KL(π ‖ π_ref) at one sampled token: `e^(ref − lp) − (ref − lp) − 1`, never
/// negative and exactly 0 when the two log-probabilities are equal.
pub fn k3(logp: f64, logp_ref: f64) -> f64 {
    let d = logp_ref - logp;
    if d == 0.0 {
        return 0.0;
    }
    (d.exp() - d - 1.0).max(0.0)
}

/// One token's loss term and its derivative with respect to `logp`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenTerm {
    /// `−min(r·A, clip(r)·A) + β·k3`.
    pub loss: f64,
    /// `∂loss/∂logp`.
    pub dlogp: f64,
    /// The KL estimate k3 at this token.
    pub kl: f64,
    /// True when the clipped side of the minimum is active (no policy gradient through the ratio).
    pub clipped: bool,
}

/// The loss of one sampled token with log-probability `logp` under the policy, `logp_old` under the
/// policy that sampled it and `logp_ref` under the frozen reference, for a sequence of advantage
/// `adv`. The ratio `r = e^(logp − logp_old)`; the surrogate is `min(r·A, clip(r, 1−ε, 1+ε)·A)`,
/// whose gradient is zero where the clipped side is the smaller (r > 1+ε with A > 0, r < 1−ε with
/// A < 0).
pub fn token_objective(
    logp: f64,
    logp_old: f64,
    logp_ref: f64,
    adv: f64,
    p: ObjectiveParams,
) -> TokenTerm {
    let r = (logp - logp_old).exp();
    let rc = r.clamp(1.0 - p.clip_eps, 1.0 + p.clip_eps);
    let clipped = rc * adv < r * adv;
    let surrogate = if clipped { rc * adv } else { r * adv };
    let dsurrogate = if clipped { 0.0 } else { r * adv };
    let kl = k3(logp, logp_ref);
    // ∂k3/∂logp = 1 − e^(ref − lp).
    let dkl = 1.0 - (logp_ref - logp).exp();
    TokenTerm {
        loss: -surrogate + p.kl_beta * kl,
        dlogp: -dsurrogate + p.kl_beta * dkl,
        kl,
        clipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advantages_are_zero_for_equal_rewards() {
        for r in [0.0, 1.0, 0.1, 0.7] {
            assert!(group_advantages(&[r; 5]).iter().all(|&a| a == 0.0));
        }
        let a = group_advantages(&[1.0, 0.0, 0.0, 1.0]);
        assert!(a.iter().map(|x| x.abs()).all(|x| (x - 1.0).abs() < 1e-5));
        assert!(a.iter().sum::<f64>().abs() < 1e-12);
    }

    #[test]
    fn k3_is_non_negative_and_zero_when_equal() {
        for lp in [-5.0, -1.0, -0.01, 0.0] {
            assert_eq!(k3(lp, lp), 0.0);
            for d in [-3.0, -0.5, -1e-9, 1e-9, 0.5, 3.0] {
                assert!(k3(lp, lp + d) >= 0.0);
            }
        }
        assert!(k3(-1.0, -2.0) > 0.0);
    }

    #[test]
    fn clipped_side_has_zero_gradient() {
        let p = ObjectiveParams {
            clip_eps: 0.2,
            kl_beta: 0.0,
        };
        // A > 0 and r = e^0.5 > 1.2: clipped.
        let t = token_objective(-0.5, -1.0, -1.0, 1.0, p);
        assert!(t.clipped && t.dlogp == 0.0);
        // A < 0 and r = e^-0.5 < 0.8: clipped.
        let t = token_objective(-1.5, -1.0, -1.0, -1.0, p);
        assert!(t.clipped && t.dlogp == 0.0);
        // The unclipped sides keep the gradient −A·r.
        let t = token_objective(-1.5, -1.0, -1.0, 1.0, p);
        assert!(!t.clipped && (t.dlogp + (-0.5f64).exp()).abs() < 1e-15);
        let t = token_objective(-0.5, -1.0, -1.0, -1.0, p);
        assert!(!t.clipped && (t.dlogp - 0.5f64.exp()).abs() < 1e-15);
    }

    #[test]
    fn token_derivative_matches_finite_differences() {
        let p = ObjectiveParams {
            clip_eps: 0.2,
            kl_beta: 0.3,
        };
        for (lp, old, rf, a) in [(-1.1, -1.0, -0.7, 0.8), (-0.9, -1.0, -2.0, -1.3)] {
            let h = 1e-6;
            let num = (token_objective(lp + h, old, rf, a, p).loss
                - token_objective(lp - h, old, rf, a, p).loss)
                / (2.0 * h);
            let ana = token_objective(lp, old, rf, a, p).dlogp;
            assert!((num - ana).abs() < 1e-8, "{num} vs {ana}");
        }
    }
}
