use super::print_json;
use crate::args::EvalProbesArgs;
use lmlab_lab::probes::{run_probes, ProbeResult, ProbeSettings, ProbesReport};
use lmlab_lab::registry::load;
use serde::Serialize;

#[derive(Serialize)]
struct EvalProbesOutput<'a> {
    model: String,
    input: String,
    #[serde(flatten)]
    report: &'a ProbesReport,
}

/// Reads the text, runs the probes with the model and prints their scores.
pub fn run(args: EvalProbesArgs) -> anyhow::Result<()> {
    let text = lmlab_lab::probes::read_text(&args.input)?;
    let defaults = ProbeSettings::default();
    let settings = ProbeSettings {
        seed: args.seed.unwrap_or(defaults.seed),
        max_examples: args
            .max_examples
            .map_or(defaults.max_examples, |n| n as usize),
        cut_every: args.cut_every.map_or(defaults.cut_every, |n| n as usize),
        ..defaults
    };
    let model = load(&args.model)?.model;
    let report = run_probes(model.as_ref(), &text, &settings)?;
    let output = EvalProbesOutput {
        model: model.describe(),
        input: args.input.display().to_string(),
        report: &report,
    };
    if args.json {
        return print_json(&output);
    }
    print_text(&output);
    Ok(())
}

/// One line per probe: its score, standard error and example count, or why it did not apply.
fn print_text(output: &EvalProbesOutput) {
    let report = output.report;
    println!("model      {}", output.model);
    println!(
        "input      {} ({} documents, seed {})",
        output.input, report.documents, report.settings.seed
    );
    println!(
        "\n{:13} {:>10} {:>10} {:>8}  statistic",
        "probe", "score", "std err", "examples"
    );
    for (name, result) in report.probes() {
        match result {
            ProbeResult::Scored {
                score,
                statistic,
                std_error,
                examples,
                same_tokenization,
                ..
            } => {
                let same = same_tokenization.map_or(String::new(), |s| {
                    format!("; {:.1}% of texts tokenize the same cut", 100.0 * s)
                });
                let what = match name {
                    "negation" => "loss change (negated − original)",
                    _ => "Jensen–Shannon divergence",
                };
                println!(
                    "{name:13} {score:>10.6} {std_error:>10.6} {examples:>8}  {statistic} {what}{same}"
                );
            }
            ProbeResult::NotApplicable { reason } => {
                println!("{name:13} not applicable: {reason}");
            }
        }
    }
}
