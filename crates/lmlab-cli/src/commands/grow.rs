//! `lmlab grow RUN --n-layer L --n-embd D -o OUT`.

use super::print_json;
use clap::Args;
use lmlab_neural::grow::grow_run;
use std::path::PathBuf;

/// `lmlab grow`.
#[derive(Args, Debug)]
pub struct GrowArgs {
    /// The transformer run directory to grow.
    pub run: PathBuf,
    /// Blocks of the grown model (at least the run's; new blocks go on top).
    #[arg(long)]
    pub n_layer: usize,
    /// Width of the grown model: the run's times a whole number.
    #[arg(long)]
    pub n_embd: usize,
    /// The run directory to write (new or empty); train it further with
    /// `lmlab train transformer --config OUT/config.json ... -o OUT --resume`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print what was written as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: GrowArgs) -> anyhow::Result<()> {
    let grown = grow_run(&args.run, args.n_layer, args.n_embd, &args.output)?;
    if args.json {
        return print_json(&grown);
    }
    println!(
        "wrote {}: {}→{} layers, width {}→{}, {}→{} heads, {}→{} parameters (fresh optimizer, step 0)",
        args.output.display(),
        grown.n_layer.0,
        grown.n_layer.1,
        grown.n_embd.0,
        grown.n_embd.1,
        grown.n_head.0,
        grown.n_head.1,
        grown.parameters.0,
        grown.parameters.1
    );
    Ok(())
}
