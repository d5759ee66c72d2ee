//! The compute law L(C) = E + A·C^(−α) fitted by least squares to an arm's per-budget means.
//!
//! Written here rather than taken from a crate: for a fixed α the model is linear in E and A, so
//! the fit is a one-dimensional search over α with a closed-form 2×2 least squares inside; that is
//! a few dozen lines, where a general non-linear least-squares crate would bring a linear-algebra
//! stack for one three-parameter curve.

use serde::Serialize;

/// A fitted law.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PowerLaw {
    /// The irreducible loss E.
    pub e: f64,
    /// The scale A.
    pub a: f64,
    /// The exponent α.
    pub alpha: f64,
    /// Root mean squared residual of the fit.
    pub rmse: f64,
}

impl PowerLaw {
    /// L(C).
    pub fn at(&self, c: f64) -> f64 {
        self.e + self.a * c.powf(-self.alpha)
    }
}

/// The range of α searched.
const ALPHA_MIN: f64 = 1e-3;
const ALPHA_MAX: f64 = 4.0;

/// Fits E + A·C^(−α) to `points` (C, L) with C > 0 and E ≥ 0; `None` with fewer than 3 distinct
/// C or non-finite values (with exactly 3 budgets the law can pass through every point: its
/// extrapolation is a guess, which the report says). α is found by a grid over its range then golden-section refinement of the
/// sum of squared residuals, E and A by linear least squares at each α.
pub fn fit_power_law(points: &[(f64, f64)]) -> Option<PowerLaw> {
    let ok = points
        .iter()
        .all(|&(c, l)| c.is_finite() && c > 0.0 && l.is_finite());
    let mut distinct: Vec<f64> = points.iter().map(|p| p.0).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if !ok || distinct.len() < 3 {
        return None;
    }
    let sse = |alpha: f64| linear_part(points, alpha).map_or(f64::INFINITY, |(_, _, s)| s);
    const GRID: usize = 400;
    let at = |i: usize| ALPHA_MIN * (ALPHA_MAX / ALPHA_MIN).powf(i as f64 / GRID as f64);
    let best = (0..=GRID)
        .min_by(|&i, &j| sse(at(i)).total_cmp(&sse(at(j))))
        .expect("grid is not empty");
    let (mut lo, mut hi) = (at(best.saturating_sub(1)), at((best + 1).min(GRID)));
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..100 {
        let (x1, x2) = (hi - ratio * (hi - lo), lo + ratio * (hi - lo));
        if sse(x1) < sse(x2) {
            hi = x2;
        } else {
            lo = x1;
        }
    }
    let alpha = (lo + hi) / 2.0;
    let (e, a, s) = linear_part(points, alpha)?;
    Some(PowerLaw {
        e,
        a,
        alpha,
        rmse: (s / points.len() as f64).sqrt(),
    })
}

/// E, A and the sum of squared residuals of the least-squares line L = E + A·x with x = C^(−α).
fn linear_part(points: &[(f64, f64)], alpha: f64) -> Option<(f64, f64, f64)> {
    let n = points.len() as f64;
    let xs: Vec<f64> = points.iter().map(|&(c, _)| c.powf(-alpha)).collect();
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mean_x).powi(2)).sum();
    if sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    let sxy: f64 = xs
        .iter()
        .zip(points)
        .map(|(x, p)| (x - mean_x) * (p.1 - mean_y))
        .sum();
    let (mut a, mut e) = (sxy / sxx, 0.0);
    e += mean_y - a * mean_x;
    if e < 0.0 {
        // A loss is never below 0: the best law with E = 0 instead (L = A·x through the origin).
        let sxx0: f64 = xs.iter().map(|x| x * x).sum();
        let sxy0: f64 = xs.iter().zip(points).map(|(x, p)| x * p.1).sum();
        (e, a) = (0.0, sxy0 / sxx0);
    }
    let sse = xs
        .iter()
        .zip(points)
        .map(|(x, p)| (p.1 - e - a * x).powi(2))
        .sum();
    Some((e, a, sse))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fit_recovers_a_known_law() {
        let truth = PowerLaw {
            e: 1.2,
            a: 3.0,
            alpha: 0.45,
            rmse: 0.0,
        };
        let points: Vec<(f64, f64)> = [1.0, 3.0, 10.0, 30.0, 100.0]
            .iter()
            .map(|&c| (c, truth.at(c)))
            .collect();
        let fit = fit_power_law(&points).unwrap();
        assert!((fit.e - 1.2).abs() < 1e-4, "{fit:?}");
        assert!((fit.a - 3.0).abs() < 1e-3, "{fit:?}");
        assert!((fit.alpha - 0.45).abs() < 1e-4, "{fit:?}");
        assert!(fit.rmse < 1e-6);
        // Extrapolation follows the law.
        assert!((fit.at(1000.0) - truth.at(1000.0)).abs() < 1e-3);
    }

    #[test]
    fn the_irreducible_loss_is_never_negative() {
        // Nearly flat points that an unconstrained fit explains with E ≈ −315 and α ≈ 0.001.
        let points = [(4.0, 2.60), (12.0, 2.45), (36.0, 2.33)];
        let fit = fit_power_law(&points).unwrap();
        assert!(fit.e >= 0.0, "{fit:?}");
        assert!(fit.at(360.0) > 0.0 && fit.at(360.0) < 2.33, "{fit:?}");
    }

    #[test]
    fn the_fit_needs_three_distinct_budgets() {
        assert!(fit_power_law(&[(1.0, 2.0), (2.0, 1.5), (2.0, 1.4)]).is_none());
        assert!(fit_power_law(&[(1.0, 2.0), (2.0, f64::NAN), (3.0, 1.4)]).is_none());
        assert!(fit_power_law(&[(1.0, 2.0), (2.0, 1.6), (3.0, 1.5)]).is_some());
    }
}
