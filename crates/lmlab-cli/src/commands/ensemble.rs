use super::{fit_width, print_json};
use crate::args::EnsembleArgs;
use lmlab_core::probs::ProbsFile;
use lmlab_lab::ensembles::{ensemble, EnsembleReport, NamedProbs, StreamScore};
use std::path::PathBuf;

fn read_all(paths: &[PathBuf]) -> anyhow::Result<Vec<NamedProbs>> {
    paths
        .iter()
        .map(|p| {
            Ok(NamedProbs {
                path: p.clone(),
                file: ProbsFile::read(p)?,
            })
        })
        .collect()
}

fn show(score: &StreamScore) -> String {
    match score.bits_per_byte {
        Some(bpb) => format!("ppl {:>10.4}  bpb {bpb:.5}", score.perplexity),
        None => format!("ppl {:>10.4}", score.perplexity),
    }
}

/// Width of the model column; longer names end in "…" (the full names are in `--json`).
const MODEL_WIDTH: usize = 40;

/// One table row: weight, model (fitted to its column), dev and test scores.
fn table_row(weight: &str, model: &str, dev: &str, test: &str) {
    println!(
        "{weight:>8}  {:<width$} {dev:<34} {test}",
        fit_width(model, MODEL_WIDTH),
        width = MODEL_WIDTH
    );
}

/// The EM summary: iterations, how it stopped, final dev perplexity; every iteration with `verbose`.
fn print_em(report: &EnsembleReport, verbose: bool) {
    if verbose {
        println!("EM dev log-likelihood (nats) per iteration:");
        for (i, ll) in report.em.log_likelihood.iter().enumerate() {
            println!("  {i:>4}  {ll:.6}");
        }
    }
    let state = if report.em.converged {
        "converged"
    } else {
        "stopped at --max-iterations"
    };
    println!(
        "EM {state} after {} iterations ({:.1} ms): dev perplexity {:.4}\n",
        report.em.log_likelihood.len() - 1,
        report.fit_seconds * 1e3,
        report.dev.perplexity
    );
}

pub fn run(args: EnsembleArgs) -> anyhow::Result<()> {
    let dev = read_all(&args.dev)?;
    let test = read_all(&args.test)?;
    let report = ensemble(&dev, &test, args.max_iterations as usize, args.tolerance)?;
    if let Some(path) = &args.write_probs {
        report.mixture.write(path)?;
    }
    if args.json {
        return print_json(&report);
    }
    for note in &report.notes {
        println!("note: {note}");
    }
    print_em(&report, args.verbose);
    table_row("weight", "model", "dev", "test");
    for m in &report.members {
        let test = m.test.as_ref().map(show).unwrap_or_default();
        table_row(&format!("{:.5}", m.weight), &m.model, &show(&m.dev), &test);
    }
    let test = report.test.as_ref().map(show).unwrap_or_default();
    table_row("", "ENSEMBLE", &show(&report.dev), &test);
    if let Some(path) = &args.write_probs {
        println!("\nwrote {}", path.display());
    }
    Ok(())
}
