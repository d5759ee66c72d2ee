//! Stage 3: the per-order modified Kneser-Ney discounts D1, D2, D3+ from counts-of-counts
//! (Chen & Goodman eq. 26), computed in single precision as lmplz does, with KenLM's fallback.

use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// The discounts of one order: `amount[k-1]` is subtracted from an adjusted count k (3 for all ≥ 3).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discount {
    /// D1, D2, D3+.
    pub amount: [f64; 3],
}

impl Discount {
    /// Discounts (D1, D2, D3+).
    pub fn new(amount: [f64; 3]) -> Self {
        Discount { amount }
    }

    /// The discount of an adjusted count (0 for a count of 0).
    pub fn get(&self, count: u64) -> f64 {
        match count {
            0 => 0.0,
            1 => self.amount[0],
            2 => self.amount[1],
            _ => self.amount[2],
        }
    }
}

/// Counts-of-counts of one order: `t[k]` = number of n-grams with adjusted count k, k = 1..=4.
pub type CountsOfCounts = [u64; 5];

/// Counts how many adjusted counts equal 1, 2, 3 and 4.
pub fn counts_of_counts(adjusted: &[u32]) -> CountsOfCounts {
    let mut t = [0u64; 5];
    for &a in adjusted {
        if (1..5).contains(&a) {
            t[a as usize] += 1;
        }
    }
    t
}

/// The discounts of order `n` (1-based) from its counts-of-counts. Out-of-range discounts are an
/// error naming the order and the count, unless `fallback` is given: then the fallback is used and
/// a warning is returned with it.
pub fn discounts_for_order(
    n: usize,
    t: &CountsOfCounts,
    fallback: Option<Discount>,
) -> Result<(Discount, Option<String>)> {
    match closed_form(n, t) {
        Ok(d) => Ok((d, None)),
        Err(problem) => match fallback {
            Some(f) => Ok((
                f,
                Some(format!(
                    "{problem}; using the fallback discounts {} {} {} for {n}-grams",
                    f.amount[0], f.amount[1], f.amount[2]
                )),
            )),
            None => Err(Error::invalid(format!(
                "{problem}. Modified Kneser-Ney cannot estimate discounts from these counts \
                 (small or artificial data?); rerun with --discount-fallback to use the fallback \
                 discounts 0.5 1 1.5 (or give your own: --discount-fallback D1 D2 D3)"
            ))),
        },
    }
}

/// Chen & Goodman's closed form, in f32 arithmetic like lmplz so results agree to the last digit.
fn closed_form(n: usize, t: &CountsOfCounts) -> std::result::Result<Discount, String> {
    if let Some(k) = (1..4).find(|&k| t[k] == 0) {
        return Err(format!(
            "{n}-gram discount for adjusted count {} cannot be computed: no {n}-grams have \
             adjusted count {k}",
            k + 1
        ));
    }
    let y = t[1] as f32 / (t[1] as f64 + 2.0 * t[2] as f64) as f32;
    let mut amount = [0.0f64; 3];
    for k in 1..4 {
        let d = k as f32 - (k + 1) as f32 * y * t[k + 1] as f32 / t[k] as f32;
        if !(0.0..=k as f32).contains(&d) {
            return Err(format!(
                "{n}-gram discount out of range for adjusted count {k}: {d} (counts-of-counts \
                 t1..t4 = {} {} {} {})",
                t[1], t[2], t[3], t[4]
            ));
        }
        amount[k - 1] = d as f64;
    }
    Ok(Discount { amount })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_matches_hand_computation() {
        let t = [0, 100, 40, 20, 10];
        let (d, warning) = discounts_for_order(2, &t, None).unwrap();
        assert!(warning.is_none());
        let y = 100.0 / 180.0;
        assert!((d.amount[0] - (1.0 - 2.0 * y * 40.0 / 100.0)).abs() < 1e-6);
        assert!((d.amount[1] - (2.0 - 3.0 * y * 20.0 / 40.0)).abs() < 1e-6);
        assert!((d.amount[2] - (3.0 - 4.0 * y * 10.0 / 20.0)).abs() < 1e-6);
        assert_eq!(d.get(0), 0.0);
        assert_eq!(d.get(7), d.amount[2]);
    }

    #[test]
    fn out_of_range_names_order_and_count_then_falls_back() {
        let t = [0, 1, 1, 1, 9];
        let err = discounts_for_order(3, &t, None).unwrap_err().to_string();
        assert!(
            err.contains("3-gram discount out of range for adjusted count 3"),
            "{err}"
        );
        assert!(err.contains("--discount-fallback"), "{err}");
        let fallback = Discount::new([0.5, 1.0, 1.5]);
        let (d, warning) = discounts_for_order(3, &t, Some(fallback)).unwrap();
        assert_eq!(d, fallback);
        assert!(warning.unwrap().contains("3-gram"));
        let missing = discounts_for_order(1, &[0, 5, 0, 1, 0], None)
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("no 1-grams have adjusted count 2"),
            "{missing}"
        );
    }
}
