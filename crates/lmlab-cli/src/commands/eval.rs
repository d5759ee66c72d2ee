use super::print_json;
use crate::args::EvalArgs;
use crate::progress::bar;
use lmlab_core::corpus::Corpus;
use lmlab_core::evaluate::evaluate;
use lmlab_lab::registry::load;
use serde::Serialize;

#[derive(Serialize)]
struct EvalOutput<'a> {
    model: String,
    input: String,
    sequence_mode: String,
    #[serde(flatten)]
    totals: &'a lmlab_core::metrics::EvalTotals,
    perplexity: f64,
    bits_per_byte: f64,
    word_perplexity: f64,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let loaded = load(&args.model)?;
    let model = loaded.model;
    let mode = args.sequences.sequences.unwrap_or(loaded.sequences);
    let corpus = Corpus::open(&args.input)?;
    let progress = bar(1, "evaluating");
    let evaluation = evaluate(
        model.as_ref(),
        &corpus,
        mode,
        args.probs.is_some(),
        &|done, total| {
            if done % 256 == 0 || done == 1 {
                progress.set_length(total as u64);
                progress.set_position(done as u64);
            }
        },
    );
    progress.finish_and_clear();
    if let (Some(path), Some(probs)) = (&args.probs, &evaluation.probs) {
        probs.write(path)?;
    }
    let t = &evaluation.totals;
    let output = EvalOutput {
        model: model.describe(),
        input: args.input.display().to_string(),
        sequence_mode: mode.to_string(),
        totals: t,
        perplexity: t.perplexity(),
        bits_per_byte: t.bits_per_byte(),
        word_perplexity: t.word_perplexity(),
    };
    if args.json {
        return print_json(&output);
    }
    println!("model            {}", output.model);
    println!(
        "input            {} ({} sequences, {mode})",
        output.input, t.sequences
    );
    println!("tokens           {} (incl. end tokens)", t.tokens);
    println!("OOVs             {}", t.oov);
    println!("bytes            {}", t.bytes);
    println!("perplexity       {:.4}", output.perplexity);
    println!("bits per byte    {:.5}", output.bits_per_byte);
    println!(
        "word perplexity  {:.4} ({} words incl. line ends)",
        output.word_perplexity, t.words
    );
    if let Some(path) = &args.probs {
        println!("probabilities    {}", path.display());
    }
    Ok(())
}
