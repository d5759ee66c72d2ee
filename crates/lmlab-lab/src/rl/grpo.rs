//! The GRPO loop: each step samples a group of completions for a few training prompts with the
//! KV-cache stepper, scores them with the task's checker, normalises the rewards within each group,
//! and takes several AdamW updates of the clipped-ratio objective with a k3 KL penalty to a frozen
//! reference. Every draw follows from the seed and the step, so a run resumed from its checkpoint
//! ends with the same bytes as one that never stopped; CPU seconds accumulate across sessions in
//! the run's compute ledger and a budget stops the run before a step that would not fit.

use super::groups::{context_ids, key, sample_groups, GroupPlan, Sample, SampleSetup};
use super::scaffold::Scaffold;
use crate::tasks::{read_tasks, HintTier, Split, TaskRecord};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::compute::{Budget, ComputeMeter};
use lmlab_core::hashing::sha256_hex;
use lmlab_core::{interrupt, Error, LanguageModel, Result, Tokenizer};
use lmlab_neural::checkpoint::{self, Checkpoint};
use lmlab_neural::data::RngState;
use lmlab_neural::grpo::{
    group_advantages, policy_step, token_log_probs, ObjectiveParams, PolicyBatch, PolicyStats,
};
use lmlab_neural::ledger::ComputeLedger;
use lmlab_neural::model::{Transformer, Workspace};
use lmlab_neural::optim::{clip_grad_norm, AdamW};
use lmlab_neural::train::files;
use lmlab_neural::TransformerModel;
use lmlab_tokenize::save_tokenizer_file;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The run's settings file (checked on resume).
pub const SETTINGS_FILE: &str = "grpo.json";
/// One JSON line per step.
pub const LOG_FILE: &str = "grpo_log.jsonl";
/// The final report.
pub const REPORT_FILE: &str = "grpo_report.json";

/// What determines a GRPO run's result (with the policy, the reference and the task file). In
/// serde forms, keys left out take [`GrpoSettings::default`] and unknown keys are refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpoSettings {
    /// Samples per prompt (G ≥ 2).
    pub group: usize,
    /// Prompts per step.
    pub prompts_per_step: usize,
    /// AdamW updates per batch of rollouts.
    pub updates: usize,
    /// The ratio's clip range ε.
    pub clip_eps: f64,
    /// The KL penalty's weight β (0 allowed).
    pub kl_beta: f64,
    /// AdamW's learning rate (constant).
    pub learning_rate: f64,
    /// Steps (a budget may stop the run before).
    pub max_steps: usize,
    /// The seed of every draw.
    pub seed: u64,
    /// Sampling temperature of the rollouts (> 0).
    pub temperature: f64,
    /// Tokens a completion may have (0: as many as the context window allows).
    pub max_new_tokens: usize,
    /// Reward added for a well-formed completion, right or wrong.
    pub format_reward: f64,
    /// Hints: none, Scaf-GRPO, or decaying.
    pub scaffold: Scaffold,
    /// Scaf-GRPO: the guidance-free warm-up, as a fraction of `max_steps`.
    pub warmup: f64,
    /// Decay: the probability of a hint at the first step.
    pub hint_probability: f64,
    /// Write a checkpoint every this many steps (and at the end).
    pub checkpoint_interval: usize,
}

impl Default for GrpoSettings {
    /// G = 8, 8 prompts a step, 2 updates, ε = 0.2, β = 0.04, learning rate 1e-4, 200 steps,
    /// seed 1, temperature 1, no format reward, no scaffold, a 15% warm-up (Scaf-GRPO's
    /// exemption period), a first hint probability of 0.5, a checkpoint every 10 steps.
    fn default() -> Self {
        let objective = ObjectiveParams::default();
        GrpoSettings {
            group: 8,
            prompts_per_step: 8,
            updates: 2,
            clip_eps: objective.clip_eps,
            kl_beta: objective.kl_beta,
            learning_rate: 1e-4,
            max_steps: 200,
            seed: 1,
            temperature: 1.0,
            max_new_tokens: 0,
            format_reward: 0.0,
            scaffold: Scaffold::None,
            warmup: 0.15,
            hint_probability: 0.5,
            checkpoint_interval: 10,
        }
    }
}

impl GrpoSettings {
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(m));
        if self.group < 2 {
            return bad(format!(
                "--group {}: GRPO compares samples within a group, so it needs at least 2",
                self.group
            ));
        }
        if self.prompts_per_step == 0 || self.updates == 0 || self.max_steps == 0 {
            return bad(
                "prompts per step, updates per batch and max steps must be at least 1".into(),
            );
        }
        if self.checkpoint_interval == 0 {
            return bad("the checkpoint interval must be at least 1".into());
        }
        if !(self.clip_eps > 0.0 && self.clip_eps < 1.0) {
            return bad(format!("--clip {}: ε must be in (0, 1)", self.clip_eps));
        }
        if !(self.kl_beta >= 0.0 && self.kl_beta.is_finite()) {
            return bad(format!("--beta {}: β must be 0 or positive", self.kl_beta));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad(format!("--lr {}: must be positive", self.learning_rate));
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad(format!(
                "--temperature {}: must be positive",
                self.temperature
            ));
        }
        if !(0.0..=1.0).contains(&self.warmup) || !(0.0..=1.0).contains(&self.hint_probability) {
            return bad("the warm-up and the hint probability are fractions in [0, 1]".into());
        }
        if !(self.format_reward >= 0.0 && self.format_reward.is_finite()) {
            return bad(format!(
                "--format-reward {}: must be 0 or positive",
                self.format_reward
            ));
        }
        Ok(())
    }
}

/// A GRPO run.
#[derive(Clone, Debug)]
pub struct GrpoOptions {
    /// The run directory of the starting policy (a transformer).
    pub policy: PathBuf,
    /// The frozen reference's run directory (default: the starting policy).
    pub reference: Option<PathBuf>,
    /// The task file; its training split is sampled.
    pub task: PathBuf,
    /// The output run directory.
    pub output: PathBuf,
    /// The settings.
    pub settings: GrpoSettings,
    /// Stop once this many CPU seconds are spent (all sessions); positive.
    pub budget_cpu_seconds: Option<f64>,
    /// Pause after this many steps (a checkpoint is written; `resume` continues).
    pub stop_after: Option<usize>,
    /// Continue the output directory's run.
    pub resume: bool,
    /// Discard a previous run in the output directory.
    pub force: bool,
}

/// What the run records in its settings file, compared on resume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RunIdentity {
    policy: PathBuf,
    reference: PathBuf,
    task_sha256: String,
    settings: GrpoSettings,
}

/// One step's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GrpoEvent {
    /// Steps done.
    pub step: usize,
    /// Steps planned.
    pub max_steps: usize,
    /// Mean reward of the samples trained on.
    pub reward: f64,
    /// Share of unguided samples the checker accepted.
    pub pass_rate: f64,
    /// Share of groups whose advantages were all zero (equal rewards) after scaffolding.
    pub zero_advantage_groups: f64,
    /// Share of groups with no correct unguided sample.
    pub all_failed_groups: f64,
    /// Groups Scaf-GRPO rescued with a hint.
    pub rescued_groups: usize,
    /// Samples trained on with a hint in their context.
    pub hinted_samples: usize,
    /// Mean k3 KL to the reference over completion tokens (first update).
    pub kl: f64,
    /// Share of completion tokens on the clipped side (last update).
    pub clip_fraction: f64,
    /// The loss of the first update.
    pub loss: f64,
    /// Sampled completion tokens per wall second in this step.
    pub tokens_per_second: f64,
    /// CPU seconds of the run so far.
    pub cpu_seconds: f64,
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrpoStop {
    /// All steps done.
    Finished,
    /// The budget is spent.
    Budget,
    /// Paused at `stop_after`.
    Paused,
    /// Interrupted; the checkpoint is written.
    Interrupted,
}

/// The outcome of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrpoReport {
    /// Steps done.
    pub steps: usize,
    /// Why it stopped.
    pub stop: GrpoStop,
    /// The last step's figures.
    pub last: Option<GrpoEvent>,
    /// CPU seconds of the whole run.
    pub cpu_seconds: f64,
    /// The output directory (a run directory every lmlab command loads).
    pub output: PathBuf,
}

/// Refuses records whose prompt has characters the tokenizer does not know, or whose `<s>`,
/// prompt, worked solution and `</s>` (with each hint in front when `with_hints`) do not fit the
/// model's context window.
pub(crate) fn check_prompts_fit(
    model: &Transformer<f32>,
    tokenizer: &dyn Tokenizer,
    records: &[&TaskRecord],
    with_hints: bool,
) -> Result<()> {
    let window = model.config.block_size;
    let unk = tokenizer.specials().unk;
    for r in records {
        let solution = tokenizer.encode(&r.solution).len();
        let mut prompts = vec![r.prompt.clone()];
        if with_hints {
            prompts.extend(HintTier::ALL.map(|t| r.guided_prompt(t)));
        }
        for prompt in prompts {
            let ids = context_ids(tokenizer, &prompt);
            if unk.is_some_and(|u| ids.contains(&u)) {
                return Err(Error::Mismatch(format!(
                    "task {}: the prompt {prompt:?} has characters the policy's tokenizer does not know",
                    r.id
                )));
            }
            // Inputs are <s>, the prompt and the completion but its last token (</s>).
            let need = ids.len() + solution;
            if need > window {
                return Err(Error::Mismatch(format!(
                    "task {}: the prompt {prompt:?} is too long for the policy: <s>, the prompt and \
                     the worked solution take {need} positions, its context window has {window}",
                    r.id
                )));
            }
        }
    }
    Ok(())
}

/// Lays the samples out as a [`PolicyBatch`]: each row `<s>`, prompt, completion; completion
/// tokens weighted `1 / (sequences · completion length)`; `logp_old` and `logp_ref` left empty.
fn layout(samples: &[&Sample], advantages: &[f64]) -> PolicyBatch {
    let b = samples.len();
    let t = samples
        .iter()
        .map(|s| s.context.len() + s.completion.len() - 1)
        .max()
        .unwrap_or(1);
    let mut batch = PolicyBatch {
        b,
        t,
        tokens: vec![0; b * t],
        targets: vec![0; b * t],
        weights: vec![0.0; b * t],
        advantages: advantages.to_vec(),
        ..PolicyBatch::default()
    };
    for (row, s) in samples.iter().enumerate() {
        let seq: Vec<u32> = s.context.iter().chain(&s.completion).copied().collect();
        let at = row * t;
        let n = seq.len() - 1;
        batch.tokens[at..at + n].copy_from_slice(&seq[..n]);
        batch.targets[at..at + n].copy_from_slice(&seq[1..]);
        let w = 1.0 / (b as f64 * s.completion.len() as f64);
        batch.weights[at + s.context.len() - 1..at + n].fill(w);
    }
    batch
}

fn identity(o: &GrpoOptions) -> Result<RunIdentity> {
    let bytes = std::fs::read(&o.task).map_err(|e| Error::io(&o.task, e))?;
    Ok(RunIdentity {
        policy: o.policy.clone(),
        reference: o.reference.clone().unwrap_or_else(|| o.policy.clone()),
        task_sha256: sha256_hex(&bytes),
        settings: o.settings.clone(),
    })
}

/// Runs GRPO as `o` says, calling `progress` after every step.
pub fn train_grpo(o: &GrpoOptions, progress: &mut dyn FnMut(&GrpoEvent)) -> Result<GrpoReport> {
    let s = &o.settings;
    s.validate()?;
    let budget = o
        .budget_cpu_seconds
        .map(|b| Budget::cpu_seconds(b).map(|_| b))
        .transpose()?;
    let meter = ComputeMeter::start();
    let id = identity(o)?;
    let policy = TransformerModel::load(&o.policy)?;
    let reference = TransformerModel::load(&id.reference)?;
    let tokenizer = policy.tokenizer();
    if tokenizer.fingerprint() != reference.tokenizer().fingerprint() {
        return Err(Error::Mismatch(format!(
            "the policy {} and the reference {} have different tokenizers; the KL penalty compares \
             their probabilities of the same tokens, so they must share one",
            o.policy.display(),
            id.reference.display()
        )));
    }
    let records = read_tasks(&o.task)?;
    let train: Vec<&TaskRecord> = records.iter().filter(|r| r.split == Split::Train).collect();
    if train.is_empty() {
        return Err(Error::bad_file(&o.task, "no records in the train split"));
    }
    let mut model = policy.transformer().clone();
    for m in [&model, reference.transformer()] {
        check_prompts_fit(m, tokenizer, &train, s.scaffold != Scaffold::None)?;
    }
    let out = &o.output;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let ckpt_path = out.join(checkpoint::FILE_NAME);
    let mut opt = AdamW::new(&model.layout.specs);
    let mut step = 0usize;
    let mut cpu_before = 0.0;
    let mut tokens_seen = 0u64;
    let run_config = policy.config().clone();
    if o.resume {
        let recorded: RunIdentity = read_json(&out.join(SETTINGS_FILE))?;
        if recorded != id {
            return Err(Error::Mismatch(format!(
                "--resume refused: {} records another policy, reference, task file or settings",
                out.join(SETTINGS_FILE).display()
            )));
        }
        let ck = Checkpoint::load(&ckpt_path)?;
        if ck.params.len() != model.params.len() || ck.adam_m.is_empty() {
            return Err(Error::bad_file(
                &ckpt_path,
                "not a checkpoint of this GRPO run",
            ));
        }
        model.params = ck.params;
        opt.m = ck.adam_m;
        opt.v = ck.adam_v;
        opt.t = ck.adam_t;
        step = ck.step;
        tokens_seen = ck.tokens_seen;
        cpu_before = ComputeLedger::load(out)?.cpu_seconds;
        truncate_log(&out.join(LOG_FILE), step)?;
    } else {
        if ckpt_path.exists() && !o.force {
            return Err(Error::invalid(format!(
                "{} holds a run; give --resume to continue it or --force to start afresh",
                out.display()
            )));
        }
        for f in [LOG_FILE, REPORT_FILE, lmlab_neural::ledger::FILE_NAME] {
            let _ = std::fs::remove_file(out.join(f));
        }
        let config_json = serde_json::to_string_pretty(&run_config).expect("config serializes");
        write_bytes_atomically(&out.join(files::CONFIG), config_json.as_bytes())?;
        save_tokenizer_file(tokenizer, &out.join(files::TOKENIZER))?;
        write_json(&out.join(SETTINGS_FILE), &id)?;
    }
    let _cooperative = interrupt::Cooperative::enter();
    let objective = ObjectiveParams {
        clip_eps: s.clip_eps,
        kl_beta: s.kl_beta,
    };
    let mut train_config = run_config.train.clone();
    train_config.learning_rate = s.learning_rate;
    let setup = SampleSetup {
        tokenizer,
        max_new: if s.max_new_tokens == 0 {
            model.config.block_size
        } else {
            s.max_new_tokens
        },
        temperature: s.temperature,
        format_reward: s.format_reward,
    };
    let save =
        |model: &Transformer<f32>, opt: &AdamW, step: usize, tokens_seen: u64| -> Result<()> {
            ComputeLedger {
                cpu_seconds: cpu_before + meter.cpu_seconds(),
                step,
            }
            .save(out)?;
            Checkpoint {
                config: run_config.clone(),
                params: model.params.clone(),
                adam_m: opt.m.clone(),
                adam_v: opt.v.clone(),
                adam_t: opt.t,
                step,
                rng: RngState {
                    seed: [0; 32],
                    word_pos: 0,
                },
                tokens_seen,
                tokenizer_fingerprint: tokenizer.fingerprint(),
                val_history: Vec::new(),
            }
            .save(&ckpt_path)
        };
    let mut last_cost = 0.0f64;
    let mut last_event = None;
    let mut stop = GrpoStop::Finished;
    while step < s.max_steps {
        if o.stop_after.is_some_and(|n| step >= n) {
            stop = GrpoStop::Paused;
            break;
        }
        if interrupt::requested() {
            stop = GrpoStop::Interrupted;
            break;
        }
        let spent = cpu_before + meter.cpu_seconds();
        if budget.is_some_and(|b| spent + last_cost > b) {
            stop = GrpoStop::Budget;
            break;
        }
        let cpu0 = meter.cpu_seconds();
        let wall0 = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(key(s.seed, &[step as u64, u64::MAX]));
        let picks =
            rand::seq::index::sample(&mut rng, train.len(), s.prompts_per_step.min(train.len()));
        let prompts: Vec<&TaskRecord> = picks.iter().map(|i| train[i]).collect();
        let plan = GroupPlan {
            scaffold: s.scaffold,
            group: s.group,
            seed: s.seed,
            step,
            max_steps: s.max_steps,
            warmup: s.warmup,
            hint_probability: s.hint_probability,
        };
        let groups = sample_groups(&model, &setup, &prompts, &plan);
        let sampled: usize = groups
            .groups
            .iter()
            .flatten()
            .map(|x| x.completion.len())
            .sum();
        let mut samples: Vec<&Sample> = Vec::new();
        let mut advantages = Vec::new();
        let mut zero_groups = 0;
        for g in &groups.groups {
            let rewards: Vec<f64> = g.iter().map(|x| x.reward).collect();
            let adv = group_advantages(&rewards);
            zero_groups += adv.iter().all(|&a| a == 0.0) as usize;
            samples.extend(g);
            advantages.extend(adv);
        }
        let mut batch = layout(&samples, &advantages);
        let mut ws = Workspace::new(&model.config, batch.b, batch.t);
        batch.logp_old = token_log_probs(&model, &mut ws, &batch.tokens, &batch.targets);
        let mut ref_ws = Workspace::new(&reference.transformer().config, batch.b, batch.t);
        batch.logp_ref = token_log_probs(
            reference.transformer(),
            &mut ref_ws,
            &batch.tokens,
            &batch.targets,
        );
        let mut grads = vec![0f32; model.params.len()];
        let mut first: Option<PolicyStats> = None;
        let mut stats = PolicyStats::default();
        for _ in 0..s.updates {
            grads.fill(0.0);
            stats = policy_step(&model, &mut ws, &batch, objective, &mut grads);
            first.get_or_insert(stats);
            let norm = clip_grad_norm(&mut grads, train_config.grad_clip);
            if !stats.loss.is_finite() || !norm.is_finite() {
                return Err(Error::Mismatch(format!(
                    "GRPO diverged at step {}: loss {}, gradient norm {norm}",
                    step + 1,
                    stats.loss
                )));
            }
            opt.step(&mut model.params, &grads, s.learning_rate, &train_config);
        }
        step += 1;
        tokens_seen += sampled as u64;
        let first = first.unwrap_or_default();
        let unguided: Vec<&Sample> = groups
            .groups
            .iter()
            .flatten()
            .filter(|x| x.hint.is_none())
            .collect();
        let n_groups = groups.groups.len() as f64;
        let event = GrpoEvent {
            step,
            max_steps: s.max_steps,
            reward: samples.iter().map(|x| x.reward).sum::<f64>() / samples.len() as f64,
            pass_rate: unguided.iter().filter(|x| x.correct).count() as f64
                / unguided.len().max(1) as f64,
            zero_advantage_groups: zero_groups as f64 / n_groups,
            all_failed_groups: groups.all_failed as f64 / n_groups,
            rescued_groups: groups.rescued,
            hinted_samples: samples.iter().filter(|x| x.hint.is_some()).count(),
            kl: first.kl,
            clip_fraction: stats.clip_fraction,
            loss: first.loss,
            tokens_per_second: sampled as f64 / wall0.elapsed().as_secs_f64().max(1e-9),
            cpu_seconds: cpu_before + meter.cpu_seconds(),
        };
        append_log(&out.join(LOG_FILE), &event)?;
        progress(&event);
        last_event = Some(event);
        if step.is_multiple_of(s.checkpoint_interval) || step == s.max_steps {
            save(&model, &opt, step, tokens_seen)?;
        }
        last_cost = meter.cpu_seconds() - cpu0;
    }
    if !step.is_multiple_of(s.checkpoint_interval) && step != s.max_steps
        || stop == GrpoStop::Interrupted
    {
        save(&model, &opt, step, tokens_seen)?;
    }
    let report = GrpoReport {
        steps: step,
        stop,
        last: last_event,
        cpu_seconds: cpu_before + meter.cpu_seconds(),
        output: out.clone(),
    };
    write_json(&out.join(REPORT_FILE), &report)?;
    Ok(report)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_string_pretty(value).expect("serializes");
    write_bytes_atomically(path, json.as_bytes())
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::bad_file(path, format!("unreadable: {e}")))
}

fn append_log(path: &Path, event: &GrpoEvent) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    writeln!(
        f,
        "{}",
        serde_json::to_string(event).expect("event serializes")
    )
    .map_err(|e| Error::io(path, e))
}

/// Keeps the log lines of steps up to `step` (the checkpoint's): the steps after it are redone.
fn truncate_log(path: &Path, step: usize) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|l| serde_json::from_str::<GrpoEvent>(l).is_ok_and(|e| e.step <= step))
        .map(|l| format!("{l}\n"))
        .collect();
    write_bytes_atomically(path, kept.as_bytes())
}
