//! The samples of one GRPO step: a group of completions per prompt, the scaffold's hints, rewards.

use super::scaffold::{decayed_probability, past_warmup, Scaffold};
use crate::tasks::{HintTier, TaskRecord};
use lmlab_core::Tokenizer;
use lmlab_neural::grpo::sample_completion;
use lmlab_neural::layers::dropout::mix64;
use lmlab_neural::model::Transformer;
use rayon::prelude::*;

/// One sampled completion.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    /// `<s>` and the (possibly hinted) prompt.
    pub context: Vec<u32>,
    /// The sampled tokens, ending with `</s>` unless cut by the window or `max_new`.
    pub completion: Vec<u32>,
    /// The checker accepted it.
    pub correct: bool,
    /// Its reward.
    pub reward: f64,
    /// The hint it was given.
    pub hint: Option<HintTier>,
}

/// What sampling needs besides the model.
pub(crate) struct SampleSetup<'a> {
    pub tokenizer: &'a dyn Tokenizer,
    pub max_new: usize,
    pub temperature: f64,
    pub format_reward: f64,
}

/// The context of `text`: `<s>` then its ids.
pub(crate) fn context_ids(tokenizer: &dyn Tokenizer, text: &str) -> Vec<u32> {
    let mut ids = vec![tokenizer.specials().bos];
    tokenizer.encode_into(text, &mut ids);
    ids
}

/// A seed from a run seed and a path of indices.
pub(crate) fn key(seed: u64, path: &[u64]) -> u64 {
    path.iter().fold(mix64(seed ^ 0x6E90_5EED), |k, &x| {
        mix64(k ^ mix64(x.wrapping_add(1)))
    })
}

/// Samples one completion per `(record, hint, seed)` job, in parallel, each through its own KV
/// cache; the results are in job order and do not depend on the threads.
pub(crate) fn sample_all(
    model: &Transformer<f32>,
    setup: &SampleSetup<'_>,
    jobs: &[(&TaskRecord, Option<HintTier>, u64)],
) -> Vec<Sample> {
    let specials = setup.tokenizer.specials();
    let weights = model.step_weights();
    jobs.par_iter()
        .map_init(
            || model.new_cache_with(weights.clone()),
            |cache, &(record, hint, seed)| {
                let prompt = match hint {
                    Some(tier) => record.guided_prompt(tier),
                    None => record.prompt.clone(),
                };
                let context = context_ids(setup.tokenizer, &prompt);
                let completion = sample_completion(
                    model,
                    cache,
                    &context,
                    setup.max_new,
                    (specials.bos, specials.eos),
                    setup.temperature,
                    seed,
                );
                let (correct, reward) = score(setup, record, &completion, specials.eos);
                Sample {
                    context,
                    completion,
                    correct,
                    reward,
                    hint,
                }
            },
        )
        .collect()
}

/// Correct (reward 1) when the completion ends with `</s>` and the checker accepts the text before
/// it; plus `format_reward` when that text is well formed.
fn score(
    setup: &SampleSetup<'_>,
    record: &TaskRecord,
    completion: &[u32],
    eos: u32,
) -> (bool, f64) {
    let Some((&last, body)) = completion.split_last() else {
        return (false, 0.0);
    };
    if last != eos {
        return (false, 0.0);
    }
    let text = setup.tokenizer.decode(body);
    let correct = record.is_correct(&text);
    let formed = record.is_well_formed(&text);
    let reward = correct as u8 as f64 + if formed { setup.format_reward } else { 0.0 };
    (correct, reward)
}

/// How a step's groups are sampled.
pub(crate) struct GroupPlan {
    pub scaffold: Scaffold,
    pub group: usize,
    pub seed: u64,
    pub step: usize,
    pub max_steps: usize,
    pub warmup: f64,
    pub hint_probability: f64,
}

/// A step's groups (one per prompt) and how many Scaf-GRPO guided.
pub(crate) struct Groups {
    pub groups: Vec<Vec<Sample>>,
    /// Groups where no unguided sample was correct.
    pub all_failed: usize,
    /// Groups Scaf-GRPO rescued with a hint.
    pub rescued: usize,
}

/// Samples `plan.group` completions for each prompt, with the scaffold's hints.
pub(crate) fn sample_groups(
    model: &Transformer<f32>,
    setup: &SampleSetup<'_>,
    prompts: &[&TaskRecord],
    plan: &GroupPlan,
) -> Groups {
    let g = plan.group;
    let p_hint = match plan.scaffold {
        Scaffold::Decay => decayed_probability(plan.hint_probability, plan.step, plan.max_steps),
        _ => 0.0,
    };
    let jobs: Vec<(&TaskRecord, Option<HintTier>, u64)> = prompts
        .iter()
        .enumerate()
        .flat_map(|(pi, &r)| {
            (0..g).map(move |gi| {
                let k = key(plan.seed, &[plan.step as u64, pi as u64, gi as u64]);
                // The hint draw and the sampling use separate streams of the same key.
                let u = (mix64(k ^ 0xD1CE) >> 11) as f64 / (1u64 << 53) as f64;
                let hint = (u < p_hint).then(|| HintTier::ALL[(mix64(k ^ 0x7133) % 3) as usize]);
                (r, hint, k)
            })
        })
        .collect();
    let flat = sample_all(model, setup, &jobs);
    let mut groups: Vec<Vec<Sample>> = flat.chunks(g).map(<[Sample]>::to_vec).collect();
    let all_failed = groups
        .iter()
        .filter(|s| s.iter().all(|x| !x.correct))
        .count();
    let mut rescued = 0;
    if plan.scaffold == Scaffold::ScafGrpo && past_warmup(plan.warmup, plan.step, plan.max_steps) {
        for (pi, group) in groups.iter_mut().enumerate() {
            if group.iter().any(|x| x.correct) {
                continue;
            }
            for (ti, tier) in HintTier::ALL.into_iter().enumerate() {
                let jobs: Vec<_> = (0..g)
                    .map(|gi| {
                        let k = key(
                            plan.seed,
                            &[plan.step as u64, pi as u64, gi as u64, 1 + ti as u64],
                        );
                        (prompts[pi], Some(tier), k)
                    })
                    .collect();
                let guided = sample_all(model, setup, &jobs);
                if let Some(hit) = guided.into_iter().find(|x| x.correct) {
                    // The group's last sample failed like all the others: the guided success
                    // takes its place.
                    group[g - 1] = hit;
                    rescued += 1;
                    break;
                }
            }
        }
    }
    Groups {
        groups,
        all_failed,
        rescued,
    }
}
