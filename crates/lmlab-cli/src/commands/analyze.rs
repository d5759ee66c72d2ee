use super::print_json;
use crate::args::AnalyzeArgs;
use lmlab_lab::agreement::{agreement_run, AgreementOptions};
use lmlab_lab::dynamics::{analyze_run, law_run};
use lmlab_neural::dynamics::analyze::AnalyzeOptions;
use lmlab_neural::dynamics::Metric;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<()> {
    if args.law {
        return law(&args);
    }
    if let (Some(reference), Some(input)) = (&args.agree_with, &args.input) {
        return agreement(&args, reference, input);
    }
    let metrics = args
        .metrics
        .iter()
        .map(|m| Metric::parse(m.trim()))
        .collect::<lmlab_core::Result<Vec<_>>>()?;
    let options = AnalyzeOptions {
        metrics,
        layers: args.layers,
        compare_to: args.compare_to,
    };
    let out = analyze_run(&args.run, &options, args.plot_heads)?;
    if args.json {
        return print_json(&out.analysis);
    }
    let a = &out.analysis;
    let steps: Vec<String> = a.steps.iter().map(|s| s.step.to_string()).collect();
    let values: usize = a.steps.iter().map(|s| s.values.len()).sum();
    println!("steps       {}", steps.join(", "));
    println!("metrics     {}", a.metrics.join(", "));
    println!("layers      {:?}", a.layers);
    println!("compare to  step {} (CKA, PWCCA)", a.compare_to);
    println!("values      {values}");
    println!("json        {}", out.json.display());
    println!(
        "plots       {} in {}",
        out.plots.len(),
        out.json
            .with_file_name(lmlab_lab::dynamics::PLOTS_DIR)
            .display()
    );
    Ok(())
}

fn law(args: &AnalyzeArgs) -> anyhow::Result<()> {
    let out = law_run(&args.run)?;
    if args.json {
        return print_json(&out.fits);
    }
    println!(
        "{:>8}  {:>8}  {:>6}  {:>8}  prediction residual per layer",
        "step", "ratio", "R²", "sd"
    );
    for f in &out.fits {
        let prs: Vec<String> = f.residuals.iter().map(|r| format!("{r:.4}")).collect();
        println!(
            "{:>8}  {:>8.4}  {:>6.3}  {:>8.4}  {}",
            f.step,
            f.ratio,
            f.r_squared,
            f.ratio_sd,
            prs.join(" ")
        );
    }
    println!("json        {}", out.json.display());
    println!("plot        {}", out.plot.display());
    Ok(())
}

fn agreement(
    args: &AnalyzeArgs,
    reference: &std::path::Path,
    input: &std::path::Path,
) -> anyhow::Result<()> {
    let options = AgreementOptions {
        max_context: args.max_context,
    };
    let out = agreement_run(&args.run, reference, input, &options)?;
    if args.json {
        return print_json(&out.report);
    }
    let r = &out.report;
    println!("reference   {}", r.reference_model);
    println!(
        "input       {} ({} sequences, {} positions)",
        r.input,
        r.sequences,
        r.steps.first().map_or(0, |s| s.curve.all.positions)
    );
    println!(
        "{:>8}  {:>9}  {:>8}  {:>8}  {:>8}  top-1 agreement by context length 0..{} (last: that or more)",
        "step", "agreement", "KL nats", "acc run", "acc ref", r.max_context
    );
    for s in &r.steps {
        let a = &s.curve.all;
        let per: Vec<String> = s
            .curve
            .contexts
            .iter()
            .map(|c| format!("{:.3}", c.agreement.agreement))
            .collect();
        println!(
            "{:>8}  {:>9.4}  {:>8.4}  {:>8.4}  {:>8.4}  {}",
            s.step,
            a.agreement,
            a.mean_kl,
            a.model_accuracy,
            a.reference_accuracy,
            per.join(" ")
        );
    }
    println!("json        {}", out.json.display());
    println!("plots       {}", out.plots.len());
    Ok(())
}
