use crate::args::{ExportArpaArgs, ImportArpaArgs};
use crate::progress::spinner;
use lmlab_core::model_file::Provenance;
use lmlab_core::{LanguageModel, SequenceMode, LMLAB_VERSION};
use lmlab_ngram::arpa::{read_arpa, write_arpa};
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
