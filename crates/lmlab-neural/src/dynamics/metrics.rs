//! pico-analyze's single-matrix metrics (github pico-lm/pico-analyze, `src/metrics/`), in f64 over
//! nalgebra: proportional effective rank, condition number, Gini and Hoyer sparsity, and the
//! Frobenius, nuclear and infinity norms. Each follows pico's code, including where that code's
//! definition differs from the textbook one (the "infinity norm" is the largest absolute entry, as
//! `torch.norm(p=inf)` of a matrix is); where pico's code returns NaN or fails, the doc says what
//! lmlab returns instead.

use nalgebra::DMatrix;

/// Singular values in descending order, or `None` when an entry is not finite (nalgebra's SVD
/// iterates without end on NaN).
pub(crate) fn singular_values(m: &DMatrix<f64>) -> Option<Vec<f64>> {
    if m.is_empty() || m.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some(m.singular_values().iter().copied().collect())
}

/// Proportional effective rank: exp of the entropy (natural log, as pico's code; its docstring says
/// log2) of the singular values normalised to sum 1, divided by their number, min(rows, cols).
/// A zero singular value contributes 0 (0·ln 0 = 0), so a singular matrix has a finite rank where
/// pico's code gives NaN; the zero matrix and non-finite input give NaN.
pub fn proportional_effective_rank(m: &DMatrix<f64>) -> f64 {
    let Some(s) = singular_values(m) else {
        return f64::NAN;
    };
    let total: f64 = s.iter().sum();
    if total == 0.0 {
        return f64::NAN;
    }
    let entropy: f64 = s
        .iter()
        .map(|v| v / total)
        .filter(|p| *p > 0.0)
        .map(|p| -p * p.ln())
        .sum();
    entropy.exp() / s.len() as f64
}

/// Largest over smallest singular value. A numerically singular matrix (smallest singular value
/// at most largest · max(rows, cols) · ε, numpy's `matrix_rank` tolerance) and the zero matrix
/// are reported as infinite; pico's code divides by whatever rounding left there. Non-finite
/// input gives NaN.
pub fn condition_number(m: &DMatrix<f64>) -> f64 {
    let Some(s) = singular_values(m) else {
        return f64::NAN;
    };
    let largest = s[0];
    let smallest = s[s.len() - 1];
    let tolerance = largest * m.nrows().max(m.ncols()) as f64 * f64::EPSILON;
    if largest == 0.0 || smallest <= tolerance {
        f64::INFINITY
    } else {
        largest / smallest
    }
}

/// Gini coefficient of the absolute entries: with x sorted ascending,
/// Σᵢ (2i − n − 1)·xᵢ / (n·Σx) for i = 1..n; 0 for an empty or all-zero matrix (pico's convention).
pub fn gini(m: &DMatrix<f64>) -> f64 {
    let mut x: Vec<f64> = m.iter().map(|v| v.abs()).collect();
    let n = x.len();
    let total: f64 = x.iter().sum();
    if n == 0 || total == 0.0 {
        return 0.0;
    }
    x.sort_by(f64::total_cmp);
    let numerator: f64 = x
        .iter()
        .enumerate()
        .map(|(i, v)| (2.0 * (i + 1) as f64 - n as f64 - 1.0) * v)
        .sum();
    numerator / (n as f64 * total)
}

/// Hoyer sparsity: (√n − ‖x‖₁/‖x‖₂) / (√n − 1) over all n entries. Undefined (NaN) for the zero
/// matrix and a single entry, where pico's code divides by zero.
pub fn hoyer(m: &DMatrix<f64>) -> f64 {
    let n = m.len() as f64;
    let l1: f64 = m.iter().map(|v| v.abs()).sum();
    let l2 = frobenius_norm(m);
    if l2 == 0.0 || n <= 1.0 {
        return f64::NAN;
    }
    (n.sqrt() - l1 / l2) / (n.sqrt() - 1.0)
}

/// Frobenius norm: the square root of the sum of squared entries.
pub fn frobenius_norm(m: &DMatrix<f64>) -> f64 {
    m.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Nuclear norm: the sum of the singular values (NaN for non-finite input).
pub fn nuclear_norm(m: &DMatrix<f64>) -> f64 {
    singular_values(m).map_or(f64::NAN, |s| s.iter().sum())
}

/// pico's "inf" norm, `torch.norm(x, p=inf)` with no `dim`: the largest absolute entry of the
/// flattened matrix (not the largest absolute row sum).
pub fn infinity_norm(m: &DMatrix<f64>) -> f64 {
    m.iter().fold(0.0, |acc: f64, v| acc.max(v.abs()))
}
