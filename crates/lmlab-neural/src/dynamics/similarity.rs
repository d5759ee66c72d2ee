//! pico-analyze's comparative metrics between two activation matrices of one site at two
//! checkpoints (samples × features each): linear CKA in feature space (Kornblith et al. 2019, as
//! pico's `lib/cka.py`) and PWCCA (Morcos et al. 2018, as pico's `lib/svcca/`), in f64 over nalgebra.

use lmlab_core::{Error, Result};
use nalgebra::{DMatrix, SymmetricEigen};

/// Each column minus its mean.
fn centre_columns(x: &DMatrix<f64>) -> DMatrix<f64> {
    let mut c = x.clone();
    for mut col in c.column_iter_mut() {
        let mean = col.mean();
        col.add_scalar_mut(-mean);
    }
    c
}

fn check_same_samples(source: &DMatrix<f64>, target: &DMatrix<f64>, metric: &str) -> Result<()> {
    if source.nrows() != target.nrows() {
        return Err(Error::Mismatch(format!(
            "{metric}: source has {} samples and target {}; both must be activations of the same batch",
            source.nrows(),
            target.nrows()
        )));
    }
    if source.nrows() < 2 {
        return Err(Error::InvalidArgument(format!(
            "{metric} needs at least 2 samples, got {}",
            source.nrows()
        )));
    }
    Ok(())
}

/// Linear CKA between `source` and `target` (rows are samples): with both centred by column,
/// ‖XᵀY‖²_F / (‖XᵀX‖_F · ‖YᵀY‖_F), pico's `feature_space_linear_cka` without debiasing. NaN when
/// either side is constant.
pub fn cka(source: &DMatrix<f64>, target: &DMatrix<f64>) -> Result<f64> {
    check_same_samples(source, target, "CKA")?;
    let x = centre_columns(source);
    let y = centre_columns(target);
    let xty = x.transpose() * &y;
    let xtx = x.transpose() * &x;
    let yty = y.transpose() * &y;
    Ok(xty.norm_squared() / (xtx.norm() * yty.norm()))
}

/// `a^(−1/2)` of a symmetric positive semi-definite matrix as pico computes it: the square root of
/// its pseudo-inverse (eigenvalues at most 1e-15 × the largest magnitude count as zero, numpy's
/// `pinv` default); a clearly negative eigenvalue gives NaN, as `np.sqrt` does.
fn inverse_sqrt(a: DMatrix<f64>) -> DMatrix<f64> {
    let eigen = SymmetricEigen::new(a);
    let cutoff = 1e-15
        * eigen
            .eigenvalues
            .iter()
            .fold(0.0, |m: f64, v| m.max(v.abs()));
    let scaled = eigen.eigenvalues.map(|l| {
        if l.abs() <= cutoff {
            0.0
        } else {
            (1.0 / l).sqrt()
        }
    });
    &eigen.eigenvectors * DMatrix::from_diagonal(&scaled) * eigen.eigenvectors.transpose()
}

/// Flips each column whose largest-magnitude entry is negative, so an SVD's left singular vectors
/// have one sign whatever the algorithm (the fixture applies the same rule to numpy's SVD).
fn canonical_signs(u: &mut DMatrix<f64>) {
    for mut col in u.column_iter_mut() {
        let pivot = col.iter().copied().fold(
            0.0,
            |best: f64, v| if v.abs() > best.abs() { v } else { best },
        );
        if pivot < 0.0 {
            col.neg_mut();
        }
    }
}

/// PWCCA between `source` and `target` (rows are samples, columns neurons), as pico-analyze's
/// `PWCCAMetric`: the canonical correlations of the two activation sets, weighted by how much of
/// the source's neurons each canonical direction accounts for.
///
/// Follows pico's `compute_pwcca` step by step: the joint sample covariance (n − 1), each block
/// scaled by its largest magnitude, `Σxx^(−1/2) Σxy Σyy^(−1/2)` and its SVD (canonical correlations
/// s, left vectors u), "directions" uᵀ(X − μ) + μ per source neuron (Google's code adds the means
/// back and skips `Σxx^(−1/2)`; kept as pico has it), an orthonormal basis of those by QR, weights
/// Σⱼ |⟨basisᵢ, neuronⱼ⟩| normalised to sum 1, and Σᵢ weightᵢ·sᵢ. The value depends on the signs of
/// u; lmlab fixes them (largest-magnitude entry positive) where numpy takes LAPACK's.
///
/// Errors where pico's code fails: fewer samples than source neurons plus one, or more source
/// neurons than target neurons. NaN when an activation set is constant or not finite.
pub fn pwcca(source: &DMatrix<f64>, target: &DMatrix<f64>) -> Result<f64> {
    check_same_samples(source, target, "PWCCA")?;
    let (samples, nx, ny) = (source.nrows(), source.ncols(), target.ncols());
    if nx >= samples {
        return Err(Error::InvalidArgument(format!(
            "PWCCA needs more samples than neurons: {samples} samples of {nx} neurons"
        )));
    }
    if nx > ny {
        return Err(Error::Mismatch(format!(
            "PWCCA (as pico-analyze computes it) needs the source to have no more neurons than the target: {nx} > {ny}"
        )));
    }
    if source.iter().chain(target.iter()).any(|v| !v.is_finite()) {
        return Ok(f64::NAN);
    }
    let xc = centre_columns(source);
    let yc = centre_columns(target);
    let denominator = (samples - 1) as f64;
    let mut sxx = xc.transpose() * &xc / denominator;
    let mut syy = yc.transpose() * &yc / denominator;
    let mut sxy = xc.transpose() * &yc / denominator;
    let xmax = sxx.amax();
    let ymax = syy.amax();
    if xmax == 0.0 || ymax == 0.0 {
        return Ok(f64::NAN);
    }
    sxx /= xmax;
    syy /= ymax;
    sxy /= (xmax * ymax).sqrt();
    let arr = inverse_sqrt(sxx) * sxy * inverse_sqrt(syy);
    if arr.iter().any(|v| !v.is_finite()) {
        return Ok(f64::NAN);
    }
    let svd = arr.svd(true, false);
    let mut u = svd.u.expect("SVD computed with u");
    canonical_signs(&mut u);
    let correlations = svd.singular_values.map(f64::abs);

    // Directions: row i = uᵢᵀ (X − μ) + μᵢ over the samples; stored transposed (samples × nx).
    let means: Vec<f64> = source.column_iter().map(|c| c.mean()).collect();
    let mut directions = &xc * &u;
    for (i, mut col) in directions.column_iter_mut().enumerate() {
        col.add_scalar_mut(means[i]);
    }
    let basis = directions.qr().q();
    let projections = basis.transpose() * source;
    let weights: Vec<f64> = projections
        .row_iter()
        .map(|row| row.iter().map(|v| v.abs()).sum())
        .collect();
    let total: f64 = weights.iter().sum();
    Ok(weights
        .iter()
        .zip(correlations.iter())
        .map(|(w, s)| w / total * s)
        .sum())
}
