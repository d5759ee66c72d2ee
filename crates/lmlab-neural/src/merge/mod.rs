//! `lmlab merge`: model soups, task arithmetic, TIES, DARE and SLERP over neural run directories,
//! configured by the subset of mergekit's YAML these methods use ([`config`]), each tensor merged
//! on its own as mergekit does ([`tensor`]); greedy soups in [`greedy`].
//!
//! Members must share the model configuration and the tokenizer; the merged model is written as a
//! run directory with a fresh optimizer ([`crate::derived_run`]): the base's (or first member's)
//! config, trainable further with `--resume`.

pub mod config;
pub mod greedy;
pub mod tensor;

use crate::checkpoint::{self, Checkpoint};
pub use crate::derived_run::{refuse_used_output, write_derived_run};
use crate::lm::load_parts;
use crate::model::params::{param_specs, ParamSpec};
use config::{MergeMethod, MergePlan};
use lmlab_core::{Error, Result, Tokenizer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use tensor::{Member, Sparsify, TaskVectorMerge};

/// A loaded member: its checkpoint and where it came from.
pub struct LoadedRun {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Its checkpoint.
    pub checkpoint: Checkpoint,
}

/// What a merge wrote.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MergeReport {
    /// The method.
    pub method: MergeMethod,
    /// The output run directory.
    pub output: PathBuf,
    /// Members merged (the base not counted).
    pub members: usize,
    /// Parameters written.
    pub parameters: usize,
    /// Greedy soup: each candidate's score and whether it joined.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub greedy: Vec<greedy::Candidate>,
}

/// The seed of DARE's masks when none is given.
pub const DEFAULT_SEED: u64 = 0;

/// Where DARE's keep-masks come from: `(member, tensor name, task vector, density) → mask`.
pub type MaskFn<'a> = dyn FnMut(usize, &str, &[f32], f64) -> Vec<bool> + 'a;

/// DARE's masks from a seeded ChaCha8 stream per member and tensor: entry kept when a uniform draw
/// in [0, 1) falls below the density. Same seed, same masks.
pub fn seeded_masks(seed: u64) -> impl FnMut(usize, &str, &[f32], f64) -> Vec<bool> {
    move |member, name, delta, density| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(member as u64);
        // Each tensor its own position in the member's stream, by a hash of its name.
        rng.set_word_pos(u128::from(fnv1a(name)) << 32);
        delta.iter().map(|_| rng.gen::<f64>() < density).collect()
    }
}

fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Loads a member run directory (a path to its `checkpoint.safetensors` is taken as the directory).
pub fn load_run(path: &Path) -> Result<(LoadedRun, Box<dyn Tokenizer>)> {
    let run_dir = if path.is_file() && path.file_name() == Some(checkpoint::FILE_NAME.as_ref()) {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        path.to_path_buf()
    };
    if !run_dir.exists() {
        return Err(Error::NotFound(run_dir));
    }
    if run_dir.is_file() {
        return Err(Error::bad_file(
            &run_dir,
            "not a neural run directory: merge members are directories written by \
             `lmlab train transformer|lstm` (or their checkpoint.safetensors)",
        ));
    }
    let (checkpoint, tokenizer) = load_parts(&run_dir)?;
    Ok((
        LoadedRun {
            run_dir,
            checkpoint,
        },
        tokenizer,
    ))
}

/// Refuses members whose model configuration or tokenizer differs from the first's, naming the
/// field (e.g. `model.n_embd`) or the tokenizer.
pub fn check_compatible(runs: &[LoadedRun]) -> Result<()> {
    let first = &runs[0];
    for other in &runs[1..] {
        let mut probe = other.checkpoint.config.clone();
        probe.train = first.checkpoint.config.train.clone();
        probe.tokenizer = first.checkpoint.config.tokenizer.clone();
        probe.sequences = first.checkpoint.config.sequences;
        if let Some(field) = first.checkpoint.config.first_difference(&probe) {
            return Err(Error::Mismatch(format!(
                "merge members differ in `{field}`: {} and {} must share the model configuration",
                first.run_dir.display(),
                other.run_dir.display()
            )));
        }
        if other.checkpoint.tokenizer_fingerprint != first.checkpoint.tokenizer_fingerprint {
            return Err(Error::Mismatch(format!(
                "merge members differ in `tokenizer`: {} and {} were trained with different tokenizers",
                first.run_dir.display(),
                other.run_dir.display()
            )));
        }
    }
    Ok(())
}

/// The merged flat parameters of `plan` over `base` (when the method has one) and `members`
/// (flat parameters in the plan's member order), tensor by tensor over `specs`.
pub fn merge_params(
    plan: &MergePlan,
    specs: &[ParamSpec],
    base: Option<&[f32]>,
    members: &[&[f32]],
    masks: &mut MaskFn<'_>,
) -> Vec<f32> {
    let total = crate::model::params::total_len(specs);
    let mut out = vec![0f32; total];
    for spec in specs {
        let tensors: Vec<Member<'_>> = plan
            .members
            .iter()
            .zip(members)
            .map(|(m, params)| Member {
                values: spec.span.of(params),
                weight: m.weight,
                density: m.density,
            })
            .collect();
        let base = base.map(|b| spec.span.of(b));
        let merged = match plan.method {
            MergeMethod::Linear | MergeMethod::GreedySoup => {
                tensor::linear(&tensors, plan.normalize)
            }
            MergeMethod::Slerp => tensor::slerp(plan.t, base.expect("checked"), tensors[0].values),
            method => {
                let how = task_vector_merge(plan, method);
                let mut mask =
                    |i: usize, delta: &[f32], density: f64| masks(i, &spec.name, delta, density);
                tensor::task_vectors(base.expect("checked"), &tensors, &how, &mut mask)
            }
        };
        spec.span.of_mut(&mut out).copy_from_slice(&merged);
    }
    out
}

fn task_vector_merge(plan: &MergePlan, method: MergeMethod) -> TaskVectorMerge {
    let (sparsify, sign_consensus) = match method {
        MergeMethod::Ties => (Sparsify::Magnitude, true),
        MergeMethod::DareLinear => (Sparsify::Random, false),
        MergeMethod::DareTies => (Sparsify::Random, true),
        _ => (Sparsify::None, false),
    };
    TaskVectorMerge {
        sparsify,
        sign_consensus,
        normalize: plan.normalize,
        rescale: plan.rescale,
        lambda: plan.lambda,
    }
}

/// Runs the merge `plan` describes into the new run directory `out`; DARE's masks are drawn from
/// `seed`.
pub fn merge(plan: &MergePlan, out: &Path, seed: u64) -> Result<MergeReport> {
    refuse_used_output(out)?;
    let mut paths: Vec<&Path> = plan.base.iter().map(PathBuf::as_path).collect();
    paths.extend(plan.members.iter().map(|m| m.run_dir.as_path()));
    let mut runs = Vec::new();
    let mut tokenizer = None;
    for path in paths {
        let (run, tok) = load_run(path)?;
        runs.push(run);
        tokenizer.get_or_insert(tok);
    }
    check_compatible(&runs)?;
    let tokenizer = tokenizer.expect("a plan has members");
    let (base, members) = match plan.base {
        Some(_) => (Some(&runs[0]), &runs[1..]),
        None => (None, &runs[..]),
    };
    let config = base.unwrap_or(&members[0]).checkpoint.config.clone();
    let specs = param_specs(&config.model);
    let mut greedy_log = Vec::new();
    let params = if plan.method == MergeMethod::GreedySoup {
        let soup = greedy::greedy_soup(plan, members, tokenizer.as_ref())?;
        greedy_log = soup.candidates;
        soup.params
    } else {
        let member_params: Vec<&[f32]> = members
            .iter()
            .map(|r| r.checkpoint.params.as_slice())
            .collect();
        let base_params = base.map(|b| b.checkpoint.params.as_slice());
        merge_params(
            plan,
            &specs,
            base_params,
            &member_params,
            &mut seeded_masks(seed),
        )
    };
    write_derived_run(out, config, params, tokenizer.as_ref())?;
    Ok(MergeReport {
        method: plan.method,
        output: out.to_path_buf(),
        members: members.len(),
        parameters: specs.iter().map(|s| s.span.len).sum(),
        greedy: greedy_log,
    })
}
