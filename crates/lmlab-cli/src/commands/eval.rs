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
    perplexity_excluding_oov: f64,
    oov_rate: f64,
    bits_per_byte: f64,
    word_perplexity: f64,
    comparable_across_tokenizers: bool,
    oov_warning: Option<String>,
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
        perplexity_excluding_oov: t.perplexity_excluding_oov(),
        oov_rate: t.oov_rate(),
        bits_per_byte: t.bits_per_byte(),
        word_perplexity: t.word_perplexity(),
        comparable_across_tokenizers: t.comparable_across_tokenizers(),
        oov_warning: t.oov_warning(),
    };
    if let Some(warning) = &output.oov_warning {
        eprintln!("warning: {warning}");
    }
    if args.json {
        return print_json(&output);
    }
    println!("model            {}", output.model);
    println!(
        "input            {} ({} sequences, {mode})",
        output.input, t.sequences
    );
    println!("tokens           {} (incl. end tokens)", t.tokens);
    println!(
        "OOVs             {} ({:.2}% of tokens)",
        t.oov,
        100.0 * output.oov_rate
    );
    println!("bytes            {}", t.bytes);
    println!("perplexity       {:.4} (incl. OOVs)", output.perplexity);
    println!(
        "perplexity       {:.4} (excl. OOVs)",
        output.perplexity_excluding_oov
    );
    // With OOVs, every unseen word is one cheap `<unk>`: the per-text figures are not comparable.
    let caveat = if output.comparable_across_tokenizers {
        ""
    } else {
        " (not comparable across tokenizers: OOVs scored as <unk>)"
    };
    println!("bits per byte    {:.5}{caveat}", output.bits_per_byte);
    println!(
        "word perplexity  {:.4} ({} words incl. line ends){caveat}",
        output.word_perplexity, t.words
    );
    if let Some(path) = &args.probs {
        println!("probabilities    {}", path.display());
    }
    Ok(())
}
