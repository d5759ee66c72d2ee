//! One module per subcommand: each reads its arguments, calls the library and prints.

mod analyze;
mod chunks;
mod compare;
mod demo;
mod ensemble;
mod eval;
mod eval_pairs;
mod eval_probes;
mod experiment;
mod export;
mod generate;
pub mod grow;
mod info;
mod memory;
pub mod merge;
mod neural;
mod ngram;
mod predict;
mod probs;
pub mod prune;
mod report;
mod results;
pub(crate) mod rl;
pub(crate) mod tasks;
mod tokenizer;
mod train;

use crate::args::{
    ChunksCommand, Cli, Command, ExperimentCommand, MemoryCommand, NgramCommand, ProbsCommand,
    TokenizerCommand, TrainArgs, TrainCommand,
};
use lmlab_neural::config::Arch;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => match *args {
            TrainArgs {
                command: Some(command),
                ..
            } => match command {
                TrainCommand::Baseline(args) => train::baseline(args),
                TrainCommand::Ngram(args) => train::ngram(args),
                TrainCommand::Glm(args) => train::glm(args),
                TrainCommand::Memory(args) => train::memory(args),
                TrainCommand::Transformer(args) => neural::train(args, Arch::Transformer),
                TrainCommand::Lstm(args) => neural::train(args, Arch::Lstm),
            },
            TrainArgs {
                recipe: Some(args), ..
            } => train::recipe(args),
            TrainArgs { .. } => anyhow::bail!(
                "lmlab train needs a family (lmlab train ngram ...) or --recipe FILE; see lmlab train --help"
            ),
        },
        Command::Memory(MemoryCommand::Explain(args)) => memory::explain(args),
        Command::Memory(MemoryCommand::Add(args)) => memory::add(args),
        Command::Ngram(NgramCommand::ExportArpa(args)) => ngram::export_arpa(args),
        Command::Ngram(NgramCommand::ImportArpa(args)) => ngram::import_arpa(args),
        Command::Ngram(NgramCommand::Prune(args)) => ngram::prune(args),
        Command::Chunks(ChunksCommand::Build(args)) => chunks::build(args),
        Command::Predict(args) => predict::run(args),
        Command::Tokenizer(TokenizerCommand::Train(args)) => tokenizer::train(args),
        Command::Tokenizer(TokenizerCommand::Encode(args)) => tokenizer::encode(args),
        Command::Tokenizer(TokenizerCommand::Decode(args)) => tokenizer::decode(args),
        Command::Tokenizer(TokenizerCommand::Stats(args)) => tokenizer::stats(args),
        Command::Tokenizer(TokenizerCommand::ExportHf(args)) => tokenizer::export_hf(args),
        Command::Eval(args) => eval::run(args),
        Command::EvalPairs(args) => eval_pairs::run(args),
        Command::Ensemble(args) => ensemble::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Probs(ProbsCommand::Import(args)) => probs::import(args),
        Command::Probs(ProbsCommand::Export(args)) => probs::export(args),
        Command::Generate(args) => generate::run(args),
        Command::Info(args) => info::run(args),
        Command::Export(args) => export::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Experiment(ExperimentCommand::Run(args)) => experiment::run(args),
        Command::Experiment(ExperimentCommand::RunOne(args)) => experiment::run_one(args),
        Command::Report(args) => report::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Experiment(ExperimentCommand::Status(args)) => experiment::status(args),
        Command::Experiment(ExperimentCommand::Reindex(args)) => experiment::reindex(args),
        Command::Experiment(ExperimentCommand::Cancel(args)) => experiment::cancel(args),
        Command::Results(args) => results::run(args),
        Command::EvalProbes(args) => eval_probes::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Grow(args) => grow::run(args),
        Command::Prune(args) => prune::run(args),
        Command::Tasks(command) => tasks::run(command),
        Command::Rl(command) => rl::run(command),
    }
}

/// Prints a value as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `text` cut to at most `width` characters, ending in "…" when cut.
fn fit_width(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept: String = text.chars().take(width - 1).collect();
    format!("{kept}…")
}
