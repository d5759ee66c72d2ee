//! `lmlab tasks`: task files with checkable answers, and the supervised text made from them.

use clap::{Args, Subcommand};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_lab::tasks::{self, MakeOptions, SftOptions, Split, TaskKind};
use std::path::PathBuf;

/// `lmlab tasks` subcommands.
#[derive(Subcommand, Debug)]
pub enum TasksCommand {
    /// Draw problems of one kind (addition, sorting, countdown) into a task file (JSON lines: prompt,
    /// answer, worked solution, checker, difficulty, hint tiers, split by a seeded hash of the prompt).
    Make(MakeArgs),
    /// Write the worked solutions of one split as training text (one `prompt solution` a line) for
    /// `lmlab train transformer` with `sequences = "line"`.
    Sft(SftArgs),
}

/// `lmlab tasks make`.
#[derive(Args, Debug)]
pub struct MakeArgs {
    /// addition, sorting or countdown.
    pub kind: String,
    /// Distinct problems to draw.
    #[arg(long)]
    pub n: usize,
    /// Seed of the draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The hardest difficulty, drawn uniformly from the easiest up to it: operand digits (addition,
    /// from 1), list length (sorting, from 2), numbers given (countdown, from 2). Default: 5, 8, 4.
    #[arg(long)]
    pub max_difficulty: Option<u32>,
    /// Seed of the split hash (the same prompt falls in the same split for the same seed).
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// The task file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// `lmlab tasks sft`.
#[derive(Args, Debug)]
pub struct SftArgs {
    /// The task file.
    pub task: PathBuf,
    /// train, valid or test.
    #[arg(long, default_value = "train")]
    pub split: String,
    /// Fraction of records written a second time with a hint (of a tier drawn uniformly) in front.
    #[arg(long, default_value_t = 0.0)]
    pub hinted: f64,
    /// Seed of the hint draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only problems of at most this difficulty (default: all).
    #[arg(long)]
    pub max_difficulty: Option<u32>,
    /// Repeat each difficulty's problems so each difficulty has about as many lines as the most
    /// common one.
    #[arg(long)]
    pub balance: bool,
    /// The text file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Runs a `lmlab tasks` subcommand.
pub fn run(command: TasksCommand) -> anyhow::Result<()> {
    match command {
        TasksCommand::Make(a) => {
            let kind: TaskKind = a.kind.parse()?;
            let records = tasks::make(&MakeOptions {
                kind,
                n: a.n,
                seed: a.seed,
                max_difficulty: a.max_difficulty.unwrap_or(kind.default_max_difficulty()),
                split_seed: a.split_seed,
            })?;
            tasks::write_tasks(&a.output, &records)?;
            let count = |s: Split| records.iter().filter(|r| r.split == s).count();
            println!(
                "{} {kind} problems to {} (train {}, valid {}, test {})",
                records.len(),
                a.output.display(),
                count(Split::Train),
                count(Split::Valid),
                count(Split::Test)
            );
        }
        TasksCommand::Sft(a) => {
            let records = tasks::read_tasks(&a.task)?;
            let text = tasks::sft_text(
                &records,
                &SftOptions {
                    split: a.split.parse()?,
                    hinted: a.hinted,
                    seed: a.seed,
                    max_difficulty: a.max_difficulty,
                    balance: a.balance,
                },
            )?;
            write_bytes_atomically(&a.output, text.as_bytes())?;
            println!("{} lines to {}", text.lines().count(), a.output.display());
        }
    }
    Ok(())
}
