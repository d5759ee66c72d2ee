//! Greedy pass@1 by difficulty: the share of problems whose greedy completion the checker accepts.

use super::groups::{sample_all, SampleSetup};
use crate::tasks::{Split, TaskRecord};
use lmlab_core::{Result, Tokenizer};
use lmlab_neural::model::Transformer;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Pass@1 at one difficulty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DifficultyScore {
    /// The difficulty.
    pub difficulty: u32,
    /// Problems of the split at it.
    pub problems: usize,
    /// Solved by the greedy completion.
    pub solved: usize,
    /// `solved / problems`.
    pub pass_at_1: f64,
}

/// Greedy pass@1 of `model` on the records of `split`, by difficulty (ascending).
pub fn evaluate(
    model: &Transformer<f32>,
    tokenizer: &dyn Tokenizer,
    records: &[TaskRecord],
    split: Split,
) -> Result<Vec<DifficultyScore>> {
    let chosen: Vec<&TaskRecord> = records.iter().filter(|r| r.split == split).collect();
    super::grpo::check_prompts_fit(model, tokenizer, &chosen, false)?;
    let setup = SampleSetup {
        tokenizer,
        max_new: model.config.block_size,
        temperature: 0.0,
        format_reward: 0.0,
    };
    let jobs: Vec<_> = chosen.iter().map(|&r| (r, None, 0)).collect();
    let samples = sample_all(model, &setup, &jobs);
    let mut by: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    for (r, s) in chosen.iter().zip(&samples) {
        let e = by.entry(r.difficulty).or_default();
        e.0 += 1;
        e.1 += s.correct as usize;
    }
    Ok(by
        .into_iter()
        .map(|(difficulty, (problems, solved))| DifficultyScore {
            difficulty,
            problems,
            solved,
            pass_at_1: solved as f64 / problems as f64,
        })
        .collect())
}
