use super::print_json;
use crate::args::EvalArgs;
use crate::progress::bar;
use lmlab_lab::evaluation::{evaluate_path, write_lm_eval_output, EvalOptions};

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    if let Some(chunks) = &args.chunks {
        return super::chunks::eval(&args, chunks);
    }
    let options = EvalOptions {
        sequences: args.sequences.sequences,
        keep_probs: args.probs.is_some(),
        accuracy: args.accuracy,
        keep_sequences: args.output_path.is_some(),
    };
    let progress = bar(1, "evaluating");
    let result = evaluate_path(&args.model, &args.input, &options, &|done, total| {
        if done % 256 == 0 || done == 1 || done == total {
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        }
    })?;
    progress.finish_and_clear();
    if let (Some(path), Some(probs)) = (&args.probs, &result.probs) {
        probs.write(path)?;
    }
    if let Some(dir) = &args.output_path {
        for path in write_lm_eval_output(dir, &result)? {
            eprintln!("wrote {}", path.display());
        }
    }
    let output = &result.report;
    let t = &output.totals;
    let mode = &output.sequence_mode;
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
    if let Some(a) = &output.accuracy {
        let source = if a.top1_from_classifier {
            " (the classifier's answer; the distribution's: "
        } else {
            " ("
        };
        println!(
            "top-1 accuracy   {:.4}%{source}{:.4}%)",
            100.0 * a.top1_accuracy,
            100.0 * a.distribution_top1_accuracy
        );
        println!("top-5 accuracy   {:.4}%", 100.0 * a.top5_accuracy);
        println!(
            "calibration      ECE {:.4} of the top-1 probability; reliability:",
            a.expected_calibration_error
        );
        println!(
            "  {:>11}  {:>9}  {:>10}  {:>8}",
            "top-1 prob", "tokens", "confidence", "accuracy"
        );
        for row in a.reliability.iter().filter(|r| r.count > 0) {
            println!(
                "  {:.3}-{:.3}  {:>9}  {:>10.4}  {:>8.4}",
                row.lower, row.upper, row.count, row.confidence, row.accuracy
            );
        }
    }
    if let Some(path) = &args.probs {
        println!("probabilities    {}", path.display());
    }
    Ok(())
}
