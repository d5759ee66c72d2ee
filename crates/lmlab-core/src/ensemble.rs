//! Linear interpolation of models with weights fitted by EM on held-out probabilities.

use crate::error::{Error, Result};

/// The outcome of EM: the weights and the dev log-likelihood of every iteration.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EmFit {
    /// One weight per model, summing to 1.
    pub weights: Vec<f64>,
    /// Total dev log-likelihood (nats) of the weights at the start of each iteration and, last, of the
    /// final weights. EM guarantees it never decreases.
    pub log_likelihood: Vec<f64>,
    /// True when the relative improvement fell below the tolerance before `max_iterations`.
    pub converged: bool,
}

/// Fits interpolation weights by EM: rᵢₜ = λᵢpᵢₜ / Σⱼλⱼpⱼₜ, λᵢ ← meanₜ rᵢₜ, starting from uniform
/// weights, until the relative log-likelihood gain is below `tolerance` or `max_iterations` pass.
/// `probs[i][t]` is model i's probability of token t.
pub fn fit_weights(probs: &[&[f64]], max_iterations: usize, tolerance: f64) -> Result<EmFit> {
    let models = probs.len();
    if models == 0 {
        return Err(Error::invalid("an ensemble needs at least one model"));
    }
    let tokens = probs[0].len();
    if tokens == 0 || probs.iter().any(|p| p.len() != tokens) {
        return Err(Error::invalid(
            "every model needs the same, non-zero number of probabilities",
        ));
    }
    if max_iterations == 0 {
        return Err(Error::invalid("max iterations must be at least 1"));
    }
    if tolerance.is_nan() || tolerance < 0.0 {
        return Err(Error::invalid("tolerance must be a number ≥ 0"));
    }
    let mut weights = vec![1.0 / models as f64; models];
    let mut history = Vec::new();
    let mut converged = false;
    let mut responsibility = vec![0.0; models];
    for iteration in 0..=max_iterations {
        responsibility.iter_mut().for_each(|r| *r = 0.0);
        let mut log_likelihood = 0.0;
        // `probs` is model-major, so one token's probabilities are gathered by index.
        #[allow(clippy::needless_range_loop)]
        for t in 0..tokens {
            let mixture: f64 = (0..models).map(|i| weights[i] * probs[i][t]).sum();
            log_likelihood += mixture.ln();
            for i in 0..models {
                responsibility[i] += weights[i] * probs[i][t] / mixture;
            }
        }
        let previous = history.last().copied();
        history.push(log_likelihood);
        if let Some(previous) = previous {
            if (log_likelihood - previous) <= tolerance * previous.abs() {
                converged = true;
                break;
            }
        }
        if iteration == max_iterations {
            break;
        }
        for i in 0..models {
            weights[i] = responsibility[i] / tokens as f64;
        }
    }
    Ok(EmFit {
        weights,
        log_likelihood: history,
        converged,
    })
}

/// Natural-log probabilities of the interpolated model: ln Σᵢ λᵢ pᵢₜ.
pub fn mixture_log_probs(weights: &[f64], probs: &[&[f64]]) -> Vec<f64> {
    let tokens = probs.first().map_or(0, |p| p.len());
    (0..tokens)
        .map(|t| {
            weights
                .iter()
                .zip(probs)
                .map(|(w, p)| w * p[t])
                .sum::<f64>()
                .ln()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_model_gets_weight_one() {
        let p = [0.5, 0.25, 0.125];
        let fit = fit_weights(&[&p], 50, 1e-9).unwrap();
        assert_eq!(fit.weights, vec![1.0]);
        assert!(fit.converged);
    }

    #[test]
    fn likelihood_never_decreases_and_better_model_wins() {
        let good: Vec<f64> = (0..1000)
            .map(|i| 0.3 + 0.2 * ((i % 7) as f64 / 7.0))
            .collect();
        let bad: Vec<f64> = (0..1000)
            .map(|i| 0.01 + 0.5 * ((i % 3 == 0) as u8 as f64))
            .collect();
        let fit = fit_weights(&[&good, &bad], 500, 1e-12).unwrap();
        for pair in fit.log_likelihood.windows(2) {
            assert!(pair[1] >= pair[0], "{pair:?}");
        }
        assert!(fit.weights[0] > fit.weights[1]);
        assert!((fit.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let mixed: f64 = mixture_log_probs(&fit.weights, &[&good, &bad]).iter().sum();
        assert!((mixed - fit.log_likelihood.last().unwrap()).abs() < 1e-6);
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(fit_weights(&[], 10, 1e-9).is_err());
        let p = [0.5];
        assert!(fit_weights(&[&p], 0, 1e-9)
            .unwrap_err()
            .to_string()
            .contains("at least 1"));
        assert!(fit_weights(&[&p], 10, -1.0).is_err());
    }
}
