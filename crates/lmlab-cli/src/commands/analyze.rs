use super::print_json;
use crate::args::AnalyzeArgs;
use lmlab_lab::dynamics::analyze_run;
use lmlab_neural::dynamics::analyze::AnalyzeOptions;
use lmlab_neural::dynamics::Metric;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<()> {
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
