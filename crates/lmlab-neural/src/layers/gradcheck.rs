//! Central finite differences in f64 for the layer tests.

/// Deterministic pseudo-random values in [-1, 1).
pub fn rand_vec(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// Largest relative error of `analytic` against central differences of `f` at `x`; panics above 1e-6.
pub fn check(name: &str, x: &[f64], analytic: &[f64], f: impl Fn(&[f64]) -> f64) -> f64 {
    let h = 1e-6;
    let mut worst: f64 = 0.0;
    let mut probe = x.to_vec();
    for i in 0..x.len() {
        probe[i] = x[i] + h;
        let up = f(&probe);
        probe[i] = x[i] - h;
        let down = f(&probe);
        probe[i] = x[i];
        let numeric = (up - down) / (2.0 * h);
        let err = (numeric - analytic[i]).abs() / (numeric.abs() + analytic[i].abs()).max(1e-3);
        worst = worst.max(err);
    }
    eprintln!("gradcheck {name}: max relative error {worst:.2e}");
    assert!(worst < 1e-6, "{name}: max relative error {worst:.2e}");
    worst
}
