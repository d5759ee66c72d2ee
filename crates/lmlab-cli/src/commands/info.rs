use crate::args::InfoArgs;
use lmlab_core::model_file::ModelFile;
use lmlab_lab::registry::load_model;

pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let file = ModelFile::open(&args.model)?;
    let header = file.header();
    let model = load_model(&args.model)?;
    let p = &header.provenance;
    println!(
        "kind        {} (format {})",
        header.kind, header.kind_version
    );
    println!("model       {}", model.describe());
    println!("parameters  {}", model.parameter_count());
    println!(
        "tokenizer   {} ({} tokens, fingerprint {})",
        model.tokenizer().kind(),
        model.tokenizer().vocab().len(),
        header.tokenizer_fingerprint
    );
    println!("corpus      {} (sha256 {})", p.corpus_name, p.corpus_sha256);
    println!("sequences   {}", p.sequences);
    println!("options     {}", p.options);
    println!("lmlab       {}", p.lmlab_version);
    Ok(())
}
