use crate::args::{ExportArgs, ImportArgs};
use lmlab_core::probs::{export_one_per_line, import_one_per_line, ProbsFile};

pub fn import(args: ImportArgs) -> anyhow::Result<()> {
    let model = args.model.unwrap_or_else(|| {
        args.probs
            .file_stem()
            .map_or_else(|| "imported".into(), |s| s.to_string_lossy().into_owned())
    });
    let file = import_one_per_line(&args.words, &args.probs, &model)?;
    file.write(&args.output)?;
    if args.json {
        return super::print_json(&serde_json::json!({
            "output": args.output.display().to_string(),
            "model": file.header.model,
            "tokens": file.rows.len(),
            "log_prob_sum": file.log_prob_sum(),
            "perplexity": file.perplexity(),
        }));
    }
    println!(
        "wrote {}: {} tokens, perplexity {:.4}",
        args.output.display(),
        file.rows.len(),
        file.perplexity()
    );
    Ok(())
}

pub fn export(args: ExportArgs) -> anyhow::Result<()> {
    let file = ProbsFile::read(&args.input)?;
    export_one_per_line(&file, &args.output, args.words.as_deref())?;
    println!(
        "wrote {} ({} lines)",
        args.output.display(),
        file.rows.len()
    );
    Ok(())
}
