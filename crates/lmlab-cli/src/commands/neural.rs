use super::print_json;
use crate::args::NeuralArgs;
use crate::progress::bar;
use indicatif::ProgressStyle;
use lmlab_lab::recipe::Recipe;
use lmlab_lab::run::{self, neural_report, Data, RunEvent, RunOptions};
use lmlab_neural::config::Arch;
use lmlab_neural::distill::DistillConfig;
use lmlab_neural::train::StopReason;
use lmlab_neural::{RunConfig, TrainEvent};

pub fn train(args: NeuralArgs, arch: Arch) -> anyhow::Result<()> {
    let mut config = RunConfig::load(&args.config)?;
    if config.model.arch != arch {
        anyhow::bail!(
            "{}: model.arch is {:?}, but this is `lmlab train {}`",
            args.config.display(),
            config.model.arch,
            if arch == Arch::Lstm {
                "lstm"
            } else {
                "transformer"
            }
        );
    }
    if let Some(steps) = args.max_steps {
        config.train.max_steps = steps as usize;
    }
    if let Some(precision) = &args.precision {
        config.train.precision = precision.parse()?;
    }
    if !args.teacher.is_empty() {
        let mut distill = DistillConfig::new(args.teacher.clone());
        distill.temperature = args.distill_temperature.unwrap_or(distill.temperature);
        distill.weight = args.distill_weight.unwrap_or(distill.weight);
        distill.validate()?;
        config.train.distill = Some(distill);
    }
    let recipe = Recipe {
        budget_cpu_seconds: args.budget,
        ..Recipe::from_run_config(&config)
    };
    let data = Data {
        train: args.train.clone(),
        valid: Some(args.valid.clone()),
        test: None,
    };
    let options = RunOptions {
        resume: args.resume,
        force: args.force,
        stop_after: args.stop_after.map(|n| n as usize),
        checkpoint_on_interrupt: true,
        log_interval: 10,
        ..RunOptions::default()
    };
    let progress = bar(config.train.max_steps as u64, "training");
    progress.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} steps ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    // Without a terminal the bar is hidden: print the logged steps as lines (nanoGPT's log).
    let lines = progress.is_hidden();
    let mut last_val = None;
    let record = run::train(&recipe, &data, &args.output, &options, &mut |event| {
        if let RunEvent::Neural(event) = event {
            match event {
                TrainEvent::Step {
                    step,
                    max_steps,
                    loss,
                    tokens_per_second,
                    eta_seconds,
                    ..
                } => {
                    progress.set_position(*step as u64);
                    let val = last_val.map_or(String::new(), |v: f64| format!(" val {v:.4}"));
                    let message = format!("loss {loss:.4}{val} {:.0} tok/s", tokens_per_second);
                    if lines {
                        eprintln!("step {step}/{max_steps}: {message}, ETA {eta_seconds:.0} s");
                    }
                    progress.set_message(message);
                }
                TrainEvent::Eval { step, val_loss } => {
                    last_val = Some(*val_loss);
                    if lines {
                        eprintln!("step {step}: val loss {val_loss:.4}");
                    }
                }
                TrainEvent::Checkpoint { .. } => {}
            }
        }
    })?;
    progress.finish_and_clear();
    let report = neural_report(&record.model_path)?;
    if args.json {
        print_json(&report)?;
    } else {
        println!(
            "{:?} after {} steps: train loss {:.4}, val loss {:.4} ({:.4} bits/token), {:.0} tokens/s, \
             {} parameters, {:.1} CPU-s, peak RSS {:.0} MiB",
            report.stop,
            report.steps,
            report.train_loss,
            report.val_loss,
            report.val_loss / std::f64::consts::LN_2,
            report.tokens_per_second,
            report.parameters,
            report.compute.cpu_seconds,
            report.compute.peak_rss_bytes as f64 / (1 << 20) as f64
        );
        println!("run directory: {}", report.run_dir.display());
    }
    if report.stop == StopReason::Interrupted {
        eprintln!(
            "interrupted at step {}: checkpoint written; continue with the same command and --resume",
            report.steps
        );
        std::process::exit(lmlab_core::interrupt::INTERRUPTED_EXIT_CODE);
    }
    Ok(())
}
