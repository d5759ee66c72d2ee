//! Feature weighting by gain ratio (Quinlan), as TiMBL computes it by default, and the feature order
//! it implies.
//!
//! For feature f with values v over the weighted instances: H(C) = −Σ_c p(c) log₂ p(c);
//! H(C|f) = Σ_v p(v) H(C | f = v); information gain IG = H(C) − H(C|f); split info
//! SI = −Σ_v p(v) log₂ p(v); gain ratio = IG / SI (0 when SI = 0). Features are ordered by
//! decreasing gain ratio; equal ratios keep the nearer token first.

/// Entropy in bits of a distribution given by its counts and their total.
fn entropy(counts: impl Iterator<Item = u64>, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let t = total as f64;
    let mut h = 0.0;
    for c in counts {
        if c > 0 {
            let p = c as f64 / t;
            h -= p * p.log2();
        }
    }
    h
}

/// Gain ratio of one feature column against the classes, each row weighted by `counts`.
pub fn gain_ratio(column: &[u32], classes: &[u32], counts: &[u32]) -> f64 {
    let total: u64 = counts.iter().map(|&c| c as u64).sum();
    if total == 0 {
        return 0.0;
    }
    // Sort (value, class) keys to group rows without hashing.
    let mut keyed: Vec<(u64, u32)> = column
        .iter()
        .zip(classes)
        .zip(counts)
        .map(|((&v, &c), &n)| (((v as u64) << 32) | c as u64, n))
        .collect();
    keyed.sort_unstable_by_key(|&(k, _)| k);
    let mut class_totals: Vec<(u32, u64)> = classes
        .iter()
        .zip(counts)
        .map(|(&c, &n)| (c, n as u64))
        .collect();
    class_totals.sort_unstable_by_key(|&(c, _)| c);
    let class_counts = runs(class_totals.iter().map(|&(c, n)| (c as u64, n)));
    let h_c = entropy(class_counts.iter().copied(), total);

    let t = total as f64;
    let mut h_cond = 0.0;
    let mut split = 0.0;
    let mut i = 0;
    while i < keyed.len() {
        let value = keyed[i].0 >> 32;
        let mut j = i;
        while j < keyed.len() && keyed[j].0 >> 32 == value {
            j += 1;
        }
        let group = runs(keyed[i..j].iter().map(|&(k, n)| (k, n as u64)));
        let n_v: u64 = group.iter().sum();
        let p_v = n_v as f64 / t;
        h_cond += p_v * entropy(group.iter().copied(), n_v);
        split -= p_v * p_v.log2();
        i = j;
    }
    if split <= 0.0 {
        0.0
    } else {
        ((h_c - h_cond) / split).max(0.0)
    }
}

/// Sums of the weights of equal consecutive keys.
fn runs(items: impl Iterator<Item = (u64, u64)>) -> Vec<u64> {
    let mut out = Vec::new();
    let mut last = None;
    for (k, n) in items {
        if last == Some(k) {
            *out.last_mut().expect("a run") += n;
        } else {
            out.push(n);
            last = Some(k);
        }
    }
    out
}

/// Positions (0 = nearest token) ordered by decreasing weight; ties keep the nearer token first.
pub fn order_by_weight(weights: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfectly_predictive_feature_beats_a_useless_one() {
        let classes = [1, 1, 2, 2];
        let counts = [1, 1, 1, 1];
        let good = gain_ratio(&[7, 7, 8, 8], &classes, &counts);
        let useless = gain_ratio(&[7, 8, 7, 8], &classes, &counts);
        assert!((good - 1.0).abs() < 1e-12, "{good}");
        assert!(useless.abs() < 1e-12, "{useless}");
        assert_eq!(order_by_weight(&[useless, good]), vec![1, 0]);
        // Weighted rows count like repeated rows.
        let w = gain_ratio(&[7, 8], &[1, 2], &[2, 2]);
        assert!((w - 1.0).abs() < 1e-12);
        assert_eq!(gain_ratio(&[3, 3], &[1, 2], &[1, 1]), 0.0);
    }
}
