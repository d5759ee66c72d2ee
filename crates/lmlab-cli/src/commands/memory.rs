use super::print_json;
use super::train::report;
use crate::args::{AddArgs, ExplainArgs};
use lmlab_core::model_file::ModelFile;
use lmlab_core::{Corpus, LanguageModel};
use lmlab_lab::training::add_to_memory;
use lmlab_memory::{feature_order_text, MemoryModel};

pub fn explain(args: ExplainArgs) -> anyhow::Result<()> {
    let model = MemoryModel::load(&args.model)?;
    let context = model.tokenizer().encode(&args.context);
    let e = model.explain(&context, args.top_k as usize);
    if args.json {
        return print_json(&e);
    }
    for note in &e.notes {
        println!("note: {note}");
    }
    println!(
        "{} with K = {}: context {}",
        e.algorithm,
        e.context_size,
        e.context.join(" ")
    );
    println!("feature order: {}", feature_order_text(&e.feature_order));
    println!(
        "matched depth {} of {}; {} instances back the classifier's answer",
        e.matched_depth, e.context_size, e.instances
    );
    for d in &e.path {
        let test = match (&d.position, &d.token) {
            (Some(p), Some(t)) => format!("token -{p} = {t}"),
            _ => "root".to_string(),
        };
        println!(
            "  depth {:>2}  {test:<28} {:>9} instances {:>7} distinct  default {}",
            d.depth, d.instances, d.distinct, d.default
        );
    }
    if let Some((distance, pooled)) = e.neighbours {
        println!("nearest neighbours: distance {distance:.4}, {pooled} stored contexts pooled");
    }
    println!(
        "classifier's answer (most frequent among the backing instances): {}",
        e.classifier_prediction
    );
    println!("prediction (most likely after smoothing): {}", e.prediction);
    println!("{:>9} {:>8} {:>11}  token", "count", "share", "smoothed p");
    for c in &e.top {
        println!(
            "{:>9} {:>8.4} {:>11.6}  {}",
            c.count, c.share, c.probability, c.token
        );
    }
    Ok(())
}

pub fn add(args: AddArgs) -> anyhow::Result<()> {
    let file = ModelFile::open(&args.model)?;
    let mut model = MemoryModel::from_file(&file)?;
    let mut provenance = file.header().provenance.clone();
    drop(file);
    let corpus = Corpus::open(&args.input)?;
    let compute = add_to_memory(&mut model, &mut provenance, &corpus)?;
    model.save(&args.output, provenance)?;
    report(&args.output, &compute, false)
}
