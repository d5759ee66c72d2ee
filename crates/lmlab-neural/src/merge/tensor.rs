//! The merge methods on one tensor (a flat `f32` slice per model), as mergekit 0.1 defines them:
//! weighted sums in `f32` with the weights rounded to `f32` as torch does, task vectors against a
//! base, magnitude and random sparsification with mergekit's L1 rescaling, TIES sign election by
//! the sign of the summed weighted deltas, and SLERP with its near-colinear fall-back to a linear
//! interpolation.

/// One model's tensor with its per-model parameters.
#[derive(Clone, Copy, Debug)]
pub struct Member<'a> {
    /// The tensor, flat.
    pub values: &'a [f32],
    /// Its weight in the merge.
    pub weight: f64,
    /// The fraction of its task vector kept by sparsification, in (0, 1].
    pub density: f64,
}

/// `Σ wᵢ·xᵢ` (divided by `Σ wᵢ` when `normalize`): mergekit's `linear`.
pub fn linear(members: &[Member<'_>], normalize: bool) -> Vec<f32> {
    let mut out = vec![0f32; members[0].values.len()];
    for m in members {
        let w = m.weight as f32;
        for (o, x) in out.iter_mut().zip(m.values) {
            *o += w * x;
        }
    }
    if normalize {
        let total: f32 = members.iter().map(|m| m.weight as f32).sum();
        for o in &mut out {
            *o /= total;
        }
    }
    out
}

/// How a task vector is thinned before the deltas are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sparsify {
    /// Kept whole (task arithmetic).
    None,
    /// The largest `density` fraction by magnitude kept (TIES).
    Magnitude,
    /// Each entry kept with probability `density`, the mask supplied by the caller (DARE).
    Random,
}

/// Settings of a task-vector merge (mergekit's "generalized task arithmetic").
#[derive(Clone, Copy, Debug)]
pub struct TaskVectorMerge {
    /// How each task vector is thinned.
    pub sparsify: Sparsify,
    /// Keep only the deltas that agree with the elected sign (TIES).
    pub sign_consensus: bool,
    /// Divide the mixed delta by the sum of the weights (of the agreeing members, with consensus).
    pub normalize: bool,
    /// Rescale each thinned task vector to the L1 norm it had before thinning.
    pub rescale: bool,
    /// Scale of the mixed delta added to the base.
    pub lambda: f64,
}

/// A random sparsifier's keep-mask: `(member, task vector, density) → keep`.
pub type KeepMask<'a> = dyn FnMut(usize, &[f32], f64) -> Vec<bool> + 'a;

/// `base + λ · mix(sparsify(xᵢ − base) · wᵢ)`. With [`Sparsify::Random`], `mask(i, delta,
/// density)` gives member i's keep-mask of its task vector `delta`.
pub fn task_vectors(
    base: &[f32],
    members: &[Member<'_>],
    how: &TaskVectorMerge,
    mask: &mut KeepMask<'_>,
) -> Vec<f32> {
    let n = base.len();
    let weighted: Vec<Vec<f32>> = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let delta: Vec<f32> = m.values.iter().zip(base).map(|(x, b)| x - b).collect();
            let thinned = match how.sparsify {
                Sparsify::None => delta,
                Sparsify::Magnitude => magnitude(&delta, m.density, how.rescale),
                Sparsify::Random if m.density >= 1.0 => delta,
                Sparsify::Random => masked(&delta, &mask(i, &delta, m.density), how.rescale),
            };
            let w = m.weight as f32;
            thinned.into_iter().map(|d| d * w).collect()
        })
        .collect();
    let weights: Vec<f32> = members.iter().map(|m| m.weight as f32).collect();
    let mut out = vec![0f32; n];
    for (j, o) in out.iter_mut().enumerate() {
        let mut mixed = 0f32;
        let mut divisor = 0f32;
        if how.sign_consensus {
            let elected: f32 = weighted.iter().map(|d| d[j]).sum();
            let majority = if elected >= 0.0 { 1.0 } else { -1.0 };
            for (d, w) in weighted.iter().zip(&weights) {
                if sign(d[j]) == majority {
                    mixed += d[j];
                    divisor += w;
                }
            }
            if divisor == 0.0 {
                divisor = 1.0;
            }
        } else {
            mixed = weighted.iter().map(|d| d[j]).sum();
            divisor = weights.iter().sum();
            if divisor.abs() < 1e-8 {
                divisor = 1.0;
            }
        }
        if how.normalize {
            mixed /= divisor;
        }
        if how.lambda != 1.0 {
            mixed *= how.lambda as f32;
        }
        *o = base[j] + mixed;
    }
    out
}

/// torch's `sign`: −1, 0 or 1.
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Keeps the `⌊density · n⌋` entries of largest magnitude (ties by position), zeroing the rest.
pub fn magnitude(delta: &[f32], density: f64, rescale: bool) -> Vec<f32> {
    if density >= 1.0 {
        return delta.to_vec();
    }
    let k = ((density * delta.len() as f64) as usize).max(1);
    let mut order: Vec<usize> = (0..delta.len()).collect();
    order.sort_by(|&a, &b| delta[b].abs().total_cmp(&delta[a].abs()).then(a.cmp(&b)));
    let mut keep = vec![false; delta.len()];
    for &i in &order[..k] {
        keep[i] = true;
    }
    masked(delta, &keep, rescale)
}

/// `delta` with the entries outside `keep` zeroed; with `rescale`, multiplied back to the L1 norm
/// it had (unless either norm is below 1e-7, as mergekit).
pub fn masked(delta: &[f32], keep: &[bool], rescale: bool) -> Vec<f32> {
    let out: Vec<f32> = delta
        .iter()
        .zip(keep)
        .map(|(&d, &k)| if k { d } else { 0.0 })
        .collect();
    if !rescale {
        return out;
    }
    let before: f64 = delta.iter().map(|d| d.abs() as f64).sum();
    let after: f64 = out.iter().map(|d| d.abs() as f64).sum();
    if before < 1e-7 || after < 1e-7 {
        return out;
    }
    let scale = (before / after) as f32;
    out.into_iter().map(|d| d * scale).collect()
}

/// Spherical interpolation from `a` (t = 0) to `b` (t = 1) over the whole tensor, falling back to
/// the linear interpolation when the normalized tensors' dot product exceeds 0.9995 in magnitude
/// (mergekit's `slerp`; a tensor of norm ≤ 1e-8 is taken as it is).
pub fn slerp(t: f64, a: &[f32], b: &[f32]) -> Vec<f32> {
    let norm = |v: &[f32]| {
        v.iter()
            .map(|&x| (x as f64) * (x as f64))
            .sum::<f64>()
            .sqrt()
    };
    let scale = |n: f64| if n > 1e-8 { 1.0 / n } else { 1.0 };
    let (sa, sb) = (scale(norm(a)), scale(norm(b)));
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 * sa) * (y as f64 * sb))
        .sum();
    let (s0, s1) = if dot.abs() > 0.9995 {
        (1.0 - t, t)
    } else {
        let theta = dot.acos();
        let sin_theta = theta.sin();
        (
            (theta - theta * t).sin() / sin_theta,
            (theta * t).sin() / sin_theta,
        )
    };
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (s0 * x as f64 + s1 * y as f64) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(values: &[f32], weight: f64) -> Member<'_> {
        Member {
            values,
            weight,
            density: 1.0,
        }
    }

    #[test]
    fn linear_normalized_is_the_weighted_mean() {
        let (a, b) = ([1.0, 2.0], [3.0, 6.0]);
        let out = linear(&[member(&a, 1.0), member(&b, 3.0)], true);
        assert_eq!(out, vec![2.5, 5.0]);
    }

    #[test]
    fn ties_keeps_only_the_deltas_of_the_elected_sign() {
        let base = [0.0f32; 3];
        let (a, b) = ([1.0f32, -2.0, 0.5], [-3.0f32, -1.0, 0.5]);
        let how = TaskVectorMerge {
            sparsify: Sparsify::None,
            sign_consensus: true,
            normalize: true,
            rescale: false,
            lambda: 1.0,
        };
        let out = task_vectors(
            &base,
            &[member(&a, 1.0), member(&b, 1.0)],
            &how,
            &mut |_, _, _| unreachable!(),
        );
        // Position 0: sum −2 elects −, only b's −3 counts; 1: both agree; 2: both agree.
        assert_eq!(out, vec![-3.0, -1.5, 0.5]);
    }

    #[test]
    fn magnitude_keeps_the_largest_entries() {
        assert_eq!(
            magnitude(&[0.1, -0.5, 0.3, 0.2], 0.5, false),
            vec![0.0, -0.5, 0.3, 0.0]
        );
    }

    #[test]
    fn slerp_ends_are_the_inputs_and_colinear_tensors_interpolate_linearly() {
        let (a, b) = ([1.0f32, 0.0], [0.0f32, 2.0]);
        assert_eq!(slerp(0.0, &a, &b), a.to_vec());
        let end = slerp(1.0, &a, &b);
        assert!((end[0]).abs() < 1e-7 && (end[1] - 2.0).abs() < 1e-6);
        assert_eq!(slerp(0.5, &[1.0, 1.0], &[2.0, 2.0]), vec![1.5, 1.5]);
    }
}
