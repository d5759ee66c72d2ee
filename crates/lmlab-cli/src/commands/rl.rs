//! `lmlab rl`: reinforcement learning with verifiable rewards (GRPO and its scaffolds) and pass@1.

use super::print_json;
use clap::{Args, Subcommand};
use lmlab_core::LanguageModel;
use lmlab_lab::rl::grpo::GrpoSettings;
use lmlab_lab::rl::{evaluate, train_grpo, GrpoOptions};
use lmlab_lab::tasks::read_tasks;
use lmlab_neural::TransformerModel;
use std::path::PathBuf;

/// `lmlab rl` subcommands.
#[derive(Subcommand, Debug)]
pub enum RlCommand {
    /// GRPO from a transformer run on a task file's training split: groups of sampled completions
    /// scored by the task's checker, group-normalised advantages, the clipped ratio objective, a
    /// k3 KL penalty to a frozen reference, AdamW; optionally scaffolded with hints.
    Grpo(Box<GrpoArgs>),
    /// Greedy pass@1 of a run on a task file's split, by difficulty.
    Eval(EvalArgs),
}

/// `lmlab rl grpo` (unset options take the library's defaults, see `GrpoSettings`).
#[derive(Args, Debug)]
pub struct GrpoArgs {
    /// The starting policy's run directory (`lmlab train transformer`).
    pub run: PathBuf,
    /// The task file (`lmlab tasks make`).
    #[arg(long)]
    pub task: PathBuf,
    /// Samples per prompt (at least 2). Default 8.
    #[arg(long)]
    pub group: Option<usize>,
    /// The output run directory.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The frozen reference's run directory (default: the starting policy).
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// none, scaf-grpo or decay. Default none.
    #[arg(long)]
    pub scaffold: Option<String>,
    /// Prompts per step. Default 8.
    #[arg(long)]
    pub prompts: Option<usize>,
    /// AdamW updates per batch of rollouts. Default 2.
    #[arg(long)]
    pub updates: Option<usize>,
    /// Clip range ε of the ratio. Default 0.2.
    #[arg(long)]
    pub clip: Option<f64>,
    /// KL weight β (0 allowed). Default 0.04.
    #[arg(long)]
    pub beta: Option<f64>,
    /// Learning rate. Default 1e-4.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Steps. Default 200.
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Seed. Default 1.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Sampling temperature. Default 1.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Reward for a well-formed completion. Default 0.
    #[arg(long)]
    pub format_reward: Option<f64>,
    /// Scaf-GRPO's guidance-free warm-up, a fraction of the steps. Default 0.15.
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Decay: the first step's hint probability. Default 0.5.
    #[arg(long)]
    pub hint_probability: Option<f64>,
    /// Stop once the run has spent this many CPU seconds (a checkpoint is kept).
    #[arg(long, allow_negative_numbers = true)]
    pub budget: Option<f64>,
    /// Pause after this many steps (continue with --resume).
    #[arg(long)]
    pub stop_after: Option<usize>,
    /// Continue the run in the output directory.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Start afresh in an output directory holding a run.
    #[arg(long)]
    pub force: bool,
    /// Print the final report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab rl eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A transformer run directory.
    pub run: PathBuf,
    /// The task file.
    #[arg(long)]
    pub task: PathBuf,
    /// train, valid or test.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `lmlab rl` subcommand.
pub fn run(command: RlCommand) -> anyhow::Result<()> {
    match command {
        RlCommand::Grpo(a) => grpo(*a),
        RlCommand::Eval(a) => {
            let model = TransformerModel::load(&a.run)?;
            let records = read_tasks(&a.task)?;
            let scores = evaluate(
                model.transformer(),
                model.tokenizer(),
                &records,
                a.split.parse()?,
            )?;
            if a.json {
                return print_json(&scores);
            }
            println!("difficulty  problems  solved  pass@1");
            for s in &scores {
                println!(
                    "{:>10}  {:>8}  {:>6}  {:>6.3}",
                    s.difficulty, s.problems, s.solved, s.pass_at_1
                );
            }
            Ok(())
        }
    }
}

fn grpo(a: GrpoArgs) -> anyhow::Result<()> {
    let d = GrpoSettings::default();
    let settings = GrpoSettings {
        group: a.group.unwrap_or(d.group),
        prompts_per_step: a.prompts.unwrap_or(d.prompts_per_step),
        updates: a.updates.unwrap_or(d.updates),
        clip_eps: a.clip.unwrap_or(d.clip_eps),
        kl_beta: a.beta.unwrap_or(d.kl_beta),
        learning_rate: a.lr.unwrap_or(d.learning_rate),
        max_steps: a.max_steps.unwrap_or(d.max_steps),
        seed: a.seed.unwrap_or(d.seed),
        temperature: a.temperature.unwrap_or(d.temperature),
        format_reward: a.format_reward.unwrap_or(d.format_reward),
        scaffold: match &a.scaffold {
            Some(s) => s.parse()?,
            None => d.scaffold,
        },
        warmup: a.warmup.unwrap_or(d.warmup),
        hint_probability: a.hint_probability.unwrap_or(d.hint_probability),
        ..d
    };
    let options = GrpoOptions {
        policy: a.run,
        reference: a.reference,
        task: a.task,
        output: a.output,
        settings,
        budget_cpu_seconds: a.budget,
        stop_after: a.stop_after,
        resume: a.resume,
        force: a.force,
    };
    let report = train_grpo(&options, &mut |e| {
        eprintln!(
            "step {}/{}  reward {:.3}  pass {:.3}  zero-adv groups {:.2}  rescued {}  hinted {}  kl {:.4}  clip {:.3}  {:.0} tok/s  {:.1} CPU-s",
            e.step,
            e.max_steps,
            e.reward,
            e.pass_rate,
            e.zero_advantage_groups,
            e.rescued_groups,
            e.hinted_samples,
            e.kl,
            e.clip_fraction,
            e.tokens_per_second,
            e.cpu_seconds
        );
    })?;
    if a.json {
        return print_json(&report);
    }
    println!(
        "{} steps ({:?}), {:.1} CPU-s, run in {}",
        report.steps,
        report.stop,
        report.cpu_seconds,
        report.output.display()
    );
    Ok(())
}
