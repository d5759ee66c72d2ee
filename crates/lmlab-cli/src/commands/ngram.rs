use crate::args::{ExportArpaArgs, ImportArpaArgs, PruneArgs};
use crate::progress::spinner;
use lmlab_core::model_file::Provenance;
use lmlab_core::{LanguageModel, SequenceMode, LMLAB_VERSION};
use lmlab_ngram::arpa::{read_arpa, write_arpa};
use lmlab_ngram::prune_built::{prune_file, PruneSpec};
use lmlab_ngram::NgramModel;

pub fn export_arpa(args: ExportArpaArgs) -> anyhow::Result<()> {
    let model = NgramModel::load(&args.model)?;
    let spin = spinner("writing ARPA");
    write_arpa(&model, &args.output)?;
    spin.finish_and_clear();
    println!(
        "wrote {}: order {}, n-grams per order {:?}",
        args.output.display(),
        model.order(),
        model.ngram_counts()
    );
    Ok(())
}

pub fn import_arpa(args: ImportArpaArgs) -> anyhow::Result<()> {
    let spin = spinner("reading ARPA");
    let model = read_arpa(&args.arpa)?;
    let provenance = Provenance {
        corpus_sha256: String::new(),
        corpus_name: format!("imported from {}", args.arpa.display()),
        sequences: SequenceMode::Line,
        options: serde_json::json!({ "imported_arpa": args.arpa.display().to_string() }),
        seed: None,
        lmlab_version: LMLAB_VERSION.to_string(),
    };
    model.save(&args.output, provenance)?;
    spin.finish_and_clear();
    println!(
        "wrote {}: order {}, n-grams per order {:?}, {} entries",
        args.output.display(),
        model.order(),
        model.ngram_counts(),
        model.parameter_count()
    );
    Ok(())
}

pub fn prune(args: PruneArgs) -> anyhow::Result<()> {
    let spec = match (args.count, args.entropy, args.input) {
        (Some(thresholds), None, Some(training_text)) => PruneSpec::Counts {
            thresholds,
            training_text,
        },
        (None, Some(threshold), _) => PruneSpec::Entropy(threshold),
        _ => unreachable!("clap requires exactly one of --count (with --input) and --entropy"),
    };
    let spin = spinner("pruning");
    let summary = prune_file(&args.model, &args.output, &spec)?;
    spin.finish_and_clear();
    println!(
        "wrote {}: n-grams per order {:?} (before: {:?})",
        args.output.display(),
        summary.after,
        summary.before
    );
    Ok(())
}
