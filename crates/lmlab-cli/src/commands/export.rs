use super::print_json;
use crate::args::ExportRunArgs;
use lmlab_neural::export::export_run;

pub fn run(args: ExportRunArgs) -> anyhow::Result<()> {
    let exported = export_run(&args.run, &args.output)?;
    if args.json {
        return print_json(&exported);
    }
    println!(
        "wrote {}: {} parameters at step {}, {} bytes (the run's checkpoint with optimizer state: {} bytes)",
        args.output.display(),
        exported.parameters,
        exported.step,
        exported.model_bytes,
        exported.checkpoint_bytes
    );
    Ok(())
}
