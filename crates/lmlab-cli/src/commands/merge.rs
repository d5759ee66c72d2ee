//! `lmlab merge CONFIG.yaml -o OUT`.

use super::print_json;
use clap::Args;
use lmlab_neural::merge::config::MergeConfig;
use lmlab_neural::merge::{merge, DEFAULT_SEED};
use std::path::PathBuf;

/// `lmlab merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The merge configuration: mergekit's YAML (`merge_method`, `base_model`, `models` with
    /// `weight` and `density`, `parameters` with `normalize`, `lambda`, `rescale`, `t`); member
    /// paths are neural run directories. Greedy soup: `merge_method: greedy_soup` with
    /// `parameters: {validation: FILE}`.
    pub config: PathBuf,
    /// The run directory to write (new or empty).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Seed of DARE's random masks.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Print what was written as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: MergeArgs) -> anyhow::Result<()> {
    let plan = MergeConfig::load(&args.config)?.plan()?;
    let report = merge(&plan, &args.output, args.seed)?;
    if args.json {
        return print_json(&report);
    }
    for c in &report.greedy {
        println!(
            "{} {}: {:.4} bits/byte alone, soup {:.4}",
            if c.joined { "joined " } else { "left out" },
            c.run,
            c.bits_per_byte,
            c.soup_bits_per_byte
        );
    }
    println!(
        "wrote {}: {} of {} members, {} parameters",
        report.output.display(),
        lmlab_neural::merge::config::name(report.method),
        report.members,
        report.parameters
    );
    Ok(())
}
