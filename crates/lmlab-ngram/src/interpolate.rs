//! Stage 4: probabilities. Per context h: u(w | h) = (a(hw) − D(a(hw))) / Σₓ a(hx) and
//! γ(h) = (D₁N₁(h·) + D₂N₂(h·) + D₃N₃₊(h·)) / Σₓ a(hx); then order by order
//! p(w | h) = u(w | h) + γ(h)·p(w | h′), the unigrams interpolating with the uniform distribution
//! over every token but `<s>` (`<unk>` and unseen vocabulary entries take their share).
//! With pruning (lmplz's way), a pruned n-gram still counts in Σₓ a(hx) but not in N₁..N₃₊; its
//! adjusted count joins γ(h)'s numerator instead, so the pruned model stays normalised.
//!
//! The pass goes up the orders and hands each finished order to a [`TableSink`] as soon as its
//! backoffs are known (from the order above), so only two orders' values are held at once: the
//! probabilities of order n are computed first (they need the order below's in double precision),
//! then order n-1 is laid out from single-precision log10 values alone.

use crate::binary::Prelude;
use crate::count::{key_suffix, Counts, OrderCounts};
use crate::discount::Discount;
use crate::layout::{hash_order, unigram_table};
use crate::spill::{Column, SpillDir, Stored};
use crate::table::OrderTable;
use lmlab_core::cache::prefetch;
use lmlab_core::{Result, TokenId};

/// How many n-grams ahead the per-context arrays are prefetched (they are read and written at
/// random, by context rank).
const PREFETCH_AHEAD: usize = 16;

/// Where the finished model goes, order by order (unigrams first).
pub(crate) trait TableSink {
    /// Receives what comes before the tables, once, first.
    fn begin(&mut self, _prelude: &Prelude) -> Result<()> {
        Ok(())
    }

    /// Receives the next order's table.
    fn push(&mut self, table: OrderTable) -> Result<()>;
}

impl TableSink for Vec<OrderTable> {
    fn push(&mut self, table: OrderTable) -> Result<()> {
        Vec::push(self, table);
        Ok(())
    }
}

/// Turns adjusted counts and discounts into the model's tables (log10 values), handed to `sink`
/// order by order; returns the number of n-grams of each order. With `spill`, each order's
/// probabilities wait in a temporary file while the order below is laid out.
pub(crate) fn interpolate(
    counts: Counts,
    discounts: &[Discount],
    bos: TokenId,
    spill: Option<&SpillDir>,
    sink: &mut dyn TableSink,
) -> Result<Vec<usize>> {
    let mut sizes = Vec::with_capacity(discounts.len());
    // The order below: its probabilities, its counts (none for unigrams) and the ids of the
    // order below it in the stored model (none when that is unigrams: ids are token ids).
    let mut lower = unigram_probs(&counts.unigrams, &discounts[0]);
    let mut lower_counts: Option<OrderCounts> = None;
    let mut lower_ids: Option<Vec<u32>> = None;
    for (i, oc) in counts.higher.into_iter().enumerate() {
        let d = &discounts[i + 1];
        let gammas = context_backoffs(&oc, d, lower.len())?;
        let probs = probabilities(&oc, d, &gammas, &lower, spill)?;
        // Laid out from log10 values (half the size), the order below needs nothing else.
        let log_bows = log10_all(&gammas);
        drop(gammas);
        let log_probs = log10_all(&std::mem::take(&mut lower));
        let table = lay_out(
            lower_counts.as_ref(),
            &log_probs,
            Some(&log_bows),
            &mut lower_ids,
            bos,
        )?;
        drop((log_probs, log_bows));
        sizes.push(table.len());
        sink.push(table)?;
        // Hand back what the allocator keeps of this step before the next, larger one.
        lmlab_core::compute::release_free_heap();
        lower = probs.read()?.into_owned();
        lower_counts = Some(oc);
        crate::phases::mark(&format!("interpolate order {}", i + 2));
    }
    let log_probs = log10_all(&lower);
    drop(lower);
    let table = lay_out(lower_counts.as_ref(), &log_probs, None, &mut lower_ids, bos)?;
    sizes.push(table.len());
    sink.push(table)?;
    Ok(sizes)
}

/// The stored log10 of each probability or backoff.
fn log10_all(values: &[f64]) -> Vec<f32> {
    values.iter().map(|&x| x.log10() as f32).collect()
}

/// The stored table of one order from its log10 probabilities and backoffs (`None` at the top
/// order); `ids` holds the ids of the order below and is replaced by this order's.
fn lay_out(
    counts: Option<&OrderCounts>,
    log_probs: &[f32],
    log_bows: Option<&[f32]>,
    ids: &mut Option<Vec<u32>>,
    bos: TokenId,
) -> Result<OrderTable> {
    match counts {
        None => Ok(unigram_table(log_probs, log_bows, bos)),
        Some(oc) => {
            let (table, next) = hash_order(oc, log_probs, log_bows, ids.as_deref())?;
            *ids = Some(next);
            Ok(table)
        }
    }
}

/// Unigram probabilities: one context, interpolated with the uniform distribution.
fn unigram_probs(a1: &[u32], d1: &Discount) -> Vec<f64> {
    let vocab_size = a1.len();
    let total: u64 = a1.iter().map(|&a| u64::from(a)).sum();
    let mut by_class = [0u64; 4];
    for &a in a1 {
        by_class[a.min(3) as usize] += 1;
    }
    let gamma = backoff_mass(d1, &by_class) / total as f64;
    let uniform = 1.0 / (vocab_size.saturating_sub(1).max(1)) as f64;
    a1.iter()
        .map(|&a| (a as f64 - d1.get(a.into())) / total as f64 + gamma * uniform)
        .collect()
}

/// Σₓ a(hx) of every context h (an n-gram of the order below), from the order's contexts and
/// adjusted counts.
fn denominators(context: &[u32], adjusted: &[u32], contexts: usize) -> Vec<u32> {
    // A context's sum is at most the number of token positions, below 2^32.
    let mut denominator = vec![0u32; contexts];
    for (rank, (&c, &count)) in context.iter().zip(adjusted).enumerate() {
        if let Some(&ahead) = context.get(rank + PREFETCH_AHEAD) {
            prefetch(&denominator[ahead as usize]);
        }
        denominator[c as usize] += count;
    }
    denominator
}

/// γ(h) of every context h of order `oc` (1 for a context with no extension).
fn context_backoffs(oc: &OrderCounts, d: &Discount, contexts: usize) -> Result<Vec<f64>> {
    let pruned = (!oc.pruned.is_empty()).then_some(&oc.pruned[..]);
    let (context, adjusted) = (oc.context.read()?, oc.adjusted.read()?);
    let denominator = denominators(&context, &adjusted, contexts);
    let mut classes = vec![[0u32; 3]; contexts];
    let mut leftover = vec![0u32; if pruned.is_some() { contexts } else { 0 }];
    for (rank, (&c, &count)) in context.iter().zip(adjusted.iter()).enumerate() {
        if let Some(&ahead) = context.get(rank + PREFETCH_AHEAD) {
            prefetch(&classes[ahead as usize]);
        }
        if pruned.is_some_and(|p| p[rank]) {
            leftover[c as usize] += count;
        } else {
            classes[c as usize][count.min(3) as usize - 1] += 1;
        }
    }
    drop((context, adjusted));
    Ok(denominator
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
        .collect())
}

/// p(w | h) of every n-gram of order `oc`, from the backoffs of its contexts and the
/// probabilities of the order below (in a file of `spill` if given).
fn probabilities(
    oc: &OrderCounts,
    d: &Discount,
    gammas: &[f64],
    lower: &[f64],
    spill: Option<&SpillDir>,
) -> Result<Stored<f64>> {
    let (context, adjusted) = (oc.context.read()?, oc.adjusted.read()?);
    let denominator = denominators(&context, &adjusted, gammas.len());
    let mut probs = Column::new(spill)?;
    let mut rank = 0;
    let mut result = Ok(());
    oc.keys.for_each_chunk(|keys| {
        for &key in keys {
            if let Some(&ahead) = context.get(rank + PREFETCH_AHEAD) {
                prefetch(&gammas[ahead as usize]);
                prefetch(&denominator[ahead as usize]);
            }
            let (c, count) = (context[rank] as usize, u64::from(adjusted[rank]));
            let p = (count as f64 - d.get(count)) / denominator[c] as f64
                + gammas[c] * lower[key_suffix(key) as usize];
            if result.is_ok() {
                result = probs.push(p);
            }
            rank += 1;
        }
    })?;
    result?;
    probs.finish()
}

/// D₁N₁ + D₂N₂ + D₃N₃₊ for the counts of one context by class (index = min(count, 3)).
fn backoff_mass(d: &Discount, by_class: &[u64; 4]) -> f64 {
    d.amount[0] * by_class[1] as f64
        + d.amount[1] * by_class[2] as f64
        + d.amount[2] * by_class[3] as f64
}
