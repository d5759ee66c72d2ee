//! CD-LM from the command line: `lmlab chunks build`, `generate --chunks`, `eval --chunks`.

use super::generate::{fitted_prompt, print_samples, sampling_options, Generated};
use super::print_json;
use crate::args::{ChunksBuildArgs, EvalArgs, GenerateArgs};
use crate::progress::spinner;
use lmlab_core::compute::ComputeMeter;
use lmlab_core::SequenceMode;
use lmlab_lab::cdlm::{build_chunks_file, evaluate_with_chunks, Target};
use lmlab_neural::cdlm::{generate_samples, ChunkOptions, DEFAULT_SIMILARITY};
use std::path::Path;

pub fn build(args: ChunksBuildArgs) -> anyhow::Result<()> {
    let defaults = ChunkOptions::default();
    let options = ChunkOptions {
        threshold: args.threshold.unwrap_or(defaults.threshold),
        min_tokens: args.min_tokens.unwrap_or(defaults.min_tokens),
    };
    let spin = spinner("running the target over the corpus");
    let report = build_chunks_file(
        &args.target,
        &args.input,
        &args.output,
        &options,
        args.sequences.sequences,
    )?;
    spin.finish_and_clear();
    if args.json {
        return print_json(&report);
    }
    println!(
        "wrote {}: {} chunk occurrences ({} distinct, {:.2} tokens each on average) from {} tokens; \
         threshold {}, at least {} tokens after the entry",
        report.output,
        report.info.occurrences,
        report.info.distinct_chunks,
        report.mean_chunk_tokens,
        report.tokens,
        report.info.threshold,
        report.info.min_tokens
    );
    Ok(())
}

pub fn generate(args: &GenerateArgs, chunks: &Path) -> anyhow::Result<()> {
    let target = Target::open(&args.model)?;
    let (store, _) = target.chunks(chunks)?;
    let stop_at_eos = !args.ignore_eos && target.sequences != SequenceMode::Stream;
    let (prompt, dropped) = fitted_prompt(args, target.model());
    let options = sampling_options(args, stop_at_eos);
    let similarity = args.similarity.unwrap_or(DEFAULT_SIMILARITY);
    let meter = ComputeMeter::start();
    let (samples, stats) = generate_samples(
        target.transformer(),
        &store,
        similarity,
        &prompt,
        &options,
        args.num_samples as usize,
    )?;
    let (seconds, cpu_seconds) = (meter.wall_seconds(), meter.cpu_seconds());
    let cdlm = serde_json::json!({
        "chunks": chunks,
        "similarity": similarity,
        "chunk_fraction": stats.chunk_fraction(),
        "target_calls_per_token": stats.target_calls_per_token(),
        "counts": stats,
    });
    let generated = Generated {
        prompt: &prompt,
        dropped,
        options: &options,
        samples: &samples,
        seconds,
        cpu_seconds,
    };
    print_samples(args, target.model(), &generated, ("cdlm", Some(cdlm)))
}

pub fn eval(args: &EvalArgs, chunks: &Path) -> anyhow::Result<()> {
    let similarities = if args.similarity.is_empty() {
        vec![DEFAULT_SIMILARITY]
    } else {
        args.similarity.clone()
    };
    let spin = spinner("evaluating with chunks");
    let evals = evaluate_with_chunks(
        &args.model,
        chunks,
        &args.input,
        &similarities,
        args.sequences.sequences,
    )?;
    spin.finish_and_clear();
    let rows: Vec<serde_json::Value> = evals
        .iter()
        .map(|e| {
            serde_json::json!({
                "similarity": e.similarity,
                "perplexity": e.perplexity(),
                "target_perplexity": e.target_perplexity(),
                "retrieved_fraction": e.retrieved as f64 / e.tokens.max(1) as f64,
                "retrieved_matching_fraction":
                    e.retrieved_matching as f64 / e.retrieved.max(1) as f64,
                "totals": e,
            })
        })
        .collect();
    if args.json {
        return print_json(&serde_json::json!({
            "model": args.model,
            "chunks": chunks,
            "input": args.input,
            "cdlm": rows,
        }));
    }
    println!("model            {}", args.model.display());
    println!("chunks           {}", chunks.display());
    println!(
        "tokens           {} (incl. end tokens)",
        evals.first().map_or(0, |e| e.tokens)
    );
    if let Some(e) = evals.first() {
        println!("target ppl       {:.4}", e.target_perplexity());
    }
    for e in &evals {
        println!(
            "S = {:<6}       CD-LM ppl {:.4}; a chunk retrieved before {:.1}% of tokens, {:.1}% of \
             them right",
            e.similarity,
            e.perplexity(),
            100.0 * e.retrieved as f64 / e.tokens.max(1) as f64,
            100.0 * e.retrieved_matching as f64 / e.retrieved.max(1) as f64
        );
    }
    Ok(())
}
