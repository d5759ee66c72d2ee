//! Inverted dropout masks drawn from a counter-based hash: the mask of an element depends only on a
//! key and the element's index, so a run's masks follow from its seed and step (a resumed run draws
//! the same ones) and no RNG state needs saving.

use crate::float::Float;

/// SplitMix64's finalizer: a bijective 64-bit mix.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The key of dropout site `site` (0 = embeddings, then attention and MLP branch of each block)
/// under a step key.
pub fn site_key(key: u64, site: usize) -> u64 {
    mix64(key ^ mix64(site as u64 + 1))
}

/// Fills `mask` with 0 (probability `p`) or `1 / (1 − p)`, element `i` from `mix64(key + (i+1)·φ)`
/// (SplitMix64's stream), so the kept activations keep their expectation.
pub fn fill_mask<F: Float>(mask: &mut [F], p: f64, key: u64) {
    debug_assert!((0.0..1.0).contains(&p));
    let scale = F::from_f64(1.0 / (1.0 - p));
    // u < p · 2⁶⁴ ⇔ a uniform u/2⁶⁴ falls below p.
    let threshold = (p * 18_446_744_073_709_551_616.0) as u64;
    let mut state = key;
    for m in mask.iter_mut() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        *m = if mix64(state) < threshold {
            F::ZERO
        } else {
            scale
        };
    }
}

/// Fills one mask per dropout site, site `i` from [`site_key`]`(key, i)`.
pub fn fill_site_masks<F: Float>(masks: &mut [Vec<F>], p: f64, key: u64) {
    for (site, mask) in masks.iter_mut().enumerate() {
        fill_mask(mask, p, site_key(key, site));
    }
}

/// Drops in place: `x ⊙= mask` (also the backward of a dropped activation's gradient).
pub fn apply_mask<F: Float>(x: &mut [F], mask: &[F]) {
    for (v, &m) in x.iter_mut().zip(mask) {
        *v *= m;
    }
}

/// Drops into `out`: `out = x ⊙ mask`.
pub fn masked<F: Float>(out: &mut [F], x: &[F], mask: &[F]) {
    for ((o, &v), &m) in out.iter_mut().zip(x).zip(mask) {
        *o = v * m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_drop_about_p_and_rescale_the_rest() {
        let mut m = vec![0f32; 100_000];
        fill_mask(&mut m, 0.25, 42);
        let dropped = m.iter().filter(|&&x| x == 0.0).count() as f64 / m.len() as f64;
        assert!((dropped - 0.25).abs() < 0.01, "dropped {dropped}");
        assert!(m.iter().all(|&x| x == 0.0 || x == 1.0 / 0.75));
        let mut again = vec![0f32; 100_000];
        fill_mask(&mut again, 0.25, 42);
        assert_eq!(m, again, "same key, same mask");
        fill_mask(&mut again, 0.25, site_key(42, 1));
        assert_ne!(m, again, "another site, another mask");
        fill_mask(&mut again, 0.0, 7);
        assert!(again.iter().all(|&x| x == 1.0));
    }
}
