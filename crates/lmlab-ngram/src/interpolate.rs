//! Stage 4: probabilities. Per context h: u(w | h) = (a(hw) − D(a(hw))) / Σₓ a(hx) and
//! γ(h) = (D₁N₁(h·) + D₂N₂(h·) + D₃N₃₊(h·)) / Σₓ a(hx); then order by order
//! p(w | h) = u(w | h) + γ(h)·p(w | h′), the unigrams interpolating with the uniform distribution
//! over every token but `<s>` (`<unk>` and unseen vocabulary entries take their share).
//! With pruning (lmplz's way), a pruned n-gram still counts in Σₓ a(hx) but not in N₁..N₃₊; its
//! adjusted count joins γ(h)'s numerator instead, so the pruned model stays normalised.

use crate::count::{key_suffix, Counts};
use crate::discount::Discount;
use crate::layout::RankTable;
use crate::table::BOS_LOG10;
use lmlab_core::TokenId;

/// Turns adjusted counts and discounts into the model's tables (log10 values).
pub(crate) fn interpolate(
    counts: Counts,
    adjusted: Vec<Vec<u32>>,
    discounts: &[Discount],
    pruned: &[Vec<bool>],
    bos: TokenId,
) -> Vec<RankTable> {
    let order = adjusted.len();
    let vocab_size = adjusted[0].len();
    let mut tables: Vec<RankTable> = Vec::with_capacity(order);

    // Unigrams: one context, interpolated with the uniform distribution.
    let a1 = &adjusted[0];
    let d1 = &discounts[0];
    let total: u64 = a1.iter().map(|&a| u64::from(a)).sum();
    let mut by_class = [0u64; 4];
    for &a in a1 {
        by_class[a.min(3) as usize] += 1;
    }
    let gamma = backoff_mass(d1, &by_class) / total as f64;
    let uniform = 1.0 / (vocab_size.saturating_sub(1).max(1)) as f64;
    let mut lower: Vec<f64> = a1
        .iter()
        .map(|&a| (a as f64 - d1.get(a.into())) / total as f64 + gamma * uniform)
        .collect();
    let mut log_prob: Vec<f32> = lower.iter().map(|&p| p.log10() as f32).collect();
    log_prob[bos as usize] = BOS_LOG10;
    tables.push(RankTable {
        keys: Vec::new(),
        log_prob,
        log_bow: Vec::new(),
    });

    let mut adjusted = adjusted.into_iter().skip(1);
    for (i, oc) in counts.higher.into_iter().enumerate() {
        let n = i + 2;
        let a = adjusted.next().expect("one adjusted count array per order");
        let d = &discounts[n - 1];
        let contexts = lower.len();
        let mut denominator = vec![0u64; contexts];
        let mut classes = vec![[0u32; 3]; contexts];
        let pruned_here = pruned.get(i).filter(|p| !p.is_empty());
        let mut leftover = vec![0u64; if pruned_here.is_some() { contexts } else { 0 }];
        for (rank, (&c, &count)) in oc.context.iter().zip(&a).enumerate() {
            let count = u64::from(count);
            denominator[c as usize] += count;
            if pruned_here.is_some_and(|p| p[rank]) {
                leftover[c as usize] += count;
            } else {
                classes[c as usize][count.min(3) as usize - 1] += 1;
            }
        }
        let gammas: Vec<f64> = denominator
            .iter()
            .zip(&classes)
            .enumerate()
            .map(|(c, (&den, cls))| {
                if den == 0 {
                    1.0
                } else {
                    let mass = backoff_mass(d, &[0, cls[0] as u64, cls[1] as u64, cls[2] as u64]);
                    (mass + leftover.get(c).copied().unwrap_or(0) as f64) / den as f64
                }
            })
            .collect();
        let probs: Vec<f64> = oc
            .keys
            .iter()
            .zip(&oc.context)
            .zip(&a)
            .map(|((&key, &c), &count)| {
                let (c, count) = (c as usize, u64::from(count));
                (count as f64 - d.get(count)) / denominator[c] as f64
                    + gammas[c] * lower[key_suffix(key) as usize]
            })
            .collect();
        tables[n - 2].log_bow = gammas.iter().map(|&g| g.log10() as f32).collect();
        drop(classes);
        tables.push(RankTable {
            keys: oc.keys,
            log_prob: probs.iter().map(|&p| p.log10() as f32).collect(),
            log_bow: Vec::new(),
        });
        lower = probs;
    }
    tables
}

/// D₁N₁ + D₂N₂ + D₃N₃₊ for the counts of one context by class (index = min(count, 3)).
fn backoff_mass(d: &Discount, by_class: &[u64; 4]) -> f64 {
    d.amount[0] * by_class[1] as f64
        + d.amount[1] * by_class[2] as f64
        + d.amount[2] * by_class[3] as f64
}
