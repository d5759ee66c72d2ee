use super::print_json;
use crate::args::EnsembleArgs;
use lmlab_core::probs::ProbsFile;
use lmlab_lab::ensembles::{ensemble, NamedProbs, StreamScore};
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
    println!("EM dev log-likelihood (nats) per iteration:");
    for (i, ll) in report.em.log_likelihood.iter().enumerate() {
        println!("  {i:>4}  {ll:.6}");
    }
    let state = if report.em.converged {
        "converged"
    } else {
        "stopped at --max-iterations"
    };
    println!(
        "{state} after {} iterations ({:.1} ms)\n",
        report.em.log_likelihood.len() - 1,
        report.fit_seconds * 1e3
    );
    println!("{:>8}  {:<40} {:<34} test", "weight", "model", "dev");
    for m in &report.members {
        let test = m.test.as_ref().map(show).unwrap_or_default();
        println!(
            "{:>8.5}  {:<40} {:<34} {test}",
            m.weight,
            m.model,
            show(&m.dev)
        );
    }
    let test = report.test.as_ref().map(show).unwrap_or_default();
    println!(
        "{:>8}  {:<40} {:<34} {test}",
        "",
        "ENSEMBLE",
        show(&report.dev)
    );
    if let Some(path) = &args.write_probs {
        println!("\nwrote {}", path.display());
    }
    Ok(())
}
