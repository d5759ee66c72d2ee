//! What fitting the learning-rate schedule to a CPU budget buys: the same config, data, seed and
//! budget trained twice, once with the cosine horizon fitted to the steps the budget allows and
//! once on `train.max_steps` (a budget-stopped run that never decays), each then evaluated on the
//! whole validation text.
//!
//! Usage: `cargo run --release -p lmlab-neural --example budget_schedule -- CONFIG.toml TRAIN.txt
//! VALID.txt BUDGET_CPU_S OUT_DIR`; prints one JSON object per setting.

use lmlab_core::corpus::Corpus;
use lmlab_core::evaluate::evaluate;
use lmlab_core::LanguageModel;
use lmlab_neural::config::RunConfig;
use lmlab_neural::train::{train, TrainOptions};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, train_path, valid_path, budget, out] = args.as_slice() else {
        return Err(
            "usage: budget_schedule CONFIG.toml TRAIN.txt VALID.txt BUDGET_CPU_S OUT_DIR".into(),
        );
    };
    let config = RunConfig::load(Path::new(config))?;
    let budget: f64 = budget.parse()?;
    let train_text = std::fs::read_to_string(train_path)?;
    let valid_text = std::fs::read_to_string(valid_path)?;
    for fit in [true, false] {
        let run_dir = Path::new(out).join(if fit { "fitted" } else { "max_steps" });
        let options = TrainOptions {
            budget_cpu_seconds: Some(budget),
            fit_schedule_to_budget: fit,
            ..TrainOptions::replacing(&run_dir)
        };
        let report = train(&config, &train_text, &valid_text, &options, &mut |_| {})?;
        let model = lmlab_neural::load_model(&run_dir)?;
        let lm: &dyn LanguageModel = model.as_ref();
        let corpus = Corpus::open(Path::new(valid_path))?;
        let totals = evaluate(lm, &corpus, config.sequence_mode(), false, &|_, _| {}).totals;
        println!(
            "{}",
            serde_json::json!({
                "fit_schedule_to_budget": fit,
                "budget_cpu_seconds": budget,
                "cpu_seconds": report.compute.cpu_seconds,
                "steps": report.steps,
                "horizon": report.fitted_schedule.map(|s| s.horizon),
                "valid_bits_per_byte": totals.bits_per_byte(),
            })
        );
    }
    Ok(())
}
