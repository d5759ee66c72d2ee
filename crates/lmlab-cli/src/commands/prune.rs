//! `lmlab prune RUN -o OUT --method magnitude|heads|neurons|layers --sparsity S`.

use super::print_json;
use clap::{Args, ValueEnum};
use lmlab_neural::prune::{prune_run, PruneMethod, PruneScope};
use std::path::PathBuf;

/// What to prune.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Method {
    /// The smallest-magnitude entries of the block matrices.
    Magnitude,
    /// Whole attention heads of least weight norm (zeroed).
    Heads,
    /// MLP units of least weight norm (removed: a smaller model).
    Neurons,
    /// Whole blocks of least output weight norm (removed: a shallower model).
    Layers,
}

/// Over what magnitude pruning ranks.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Scope {
    /// All block matrices together.
    Global,
    /// Each matrix on its own.
    Layer,
}

/// `lmlab prune`.
#[derive(Args, Debug)]
pub struct PruneArgs {
    /// The transformer run directory to prune.
    pub run: PathBuf,
    /// The run directory to write (new or empty); recover with
    /// `lmlab train transformer --config OUT/config.json ... -o OUT --resume [--budget S]`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// What to prune.
    #[arg(long, value_enum)]
    pub method: Method,
    /// Fraction removed, in [0, 1).
    #[arg(long, allow_negative_numbers = true)]
    pub sparsity: f64,
    /// Magnitude pruning: rank over all block matrices (global, the default) or per matrix.
    #[arg(long, value_enum)]
    pub scope: Option<Scope>,
    /// Print what was written as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: PruneArgs) -> anyhow::Result<()> {
    let method = match args.method {
        Method::Magnitude => PruneMethod::Magnitude,
        Method::Heads => PruneMethod::Heads,
        Method::Neurons => PruneMethod::Neurons,
        Method::Layers => PruneMethod::Layers,
    };
    let scope = match args.scope {
        None => PruneScope::default(),
        Some(Scope::Global) => PruneScope::Global,
        Some(Scope::Layer) => PruneScope::Layer,
    };
    let pruned = prune_run(&args.run, &args.output, method, scope, args.sparsity)?;
    if args.json {
        return print_json(&pruned);
    }
    println!(
        "wrote {}: {} parameters → {}, {} zeros kept zero in training (fresh optimizer, step 0)",
        args.output.display(),
        pruned.parameters.0,
        pruned.parameters.1,
        pruned.zeros
    );
    Ok(())
}
