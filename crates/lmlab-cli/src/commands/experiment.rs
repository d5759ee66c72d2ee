use super::print_json;
use crate::args::{ExecutorChoice, ExperimentDirArgs, ExperimentRunArgs, RunOneArgs};
use crate::progress::bar;
use lmlab_lab::experiment::results::{budget_label, status as experiment_status};
use lmlab_lab::experiment::runner::{
    plan, run_experiment, run_one as run_one_run, state_for, Executor, RunnerEvent,
};
use lmlab_lab::experiment::slurm::{cancel as cancel_jobs, SlurmOptions};
use lmlab_lab::experiment::spec::ExperimentSpec;
use lmlab_lab::experiment::store::{reindex as reindex_store, Recorder};
use std::sync::Mutex;

pub fn run(args: ExperimentRunArgs) -> anyhow::Result<()> {
    let spec = ExperimentSpec::load(&args.experiment)?;
    if args.plan {
        return print_plan(&spec, &args);
    }
    let executor = executor(&args)?;
    // The store is opened (a damaged one refused) and caught up before any run starts.
    let recorder = Recorder::start(&args.out)?;
    let progress = bar(0, "runs");
    let lines = progress.is_hidden();
    let counts = Mutex::new((0usize, 0usize, 0usize, 0.0f64)); // done, running, failed, budget left
    let show = |counts: &(usize, usize, usize, f64)| {
        let jobs = args.jobs as f64;
        let message = format!(
            "runs: {} done, {} running, {} failed; ~{:.0} CPU-s of budgets left (~{:.0} s at {} at a time)",
            counts.0,
            counts.1,
            counts.2,
            counts.3.max(0.0),
            counts.3.max(0.0) / jobs,
            args.jobs
        );
        if lines {
            eprintln!("{message}");
        }
        progress.set_message(message);
    };
    let events = |event: RunnerEvent| {
        let mut c = counts.lock().expect("counts");
        match event {
            RunnerEvent::Planned {
                total,
                finished,
                pending_budget,
            } => {
                progress.set_length(total as u64);
                progress.set_position(finished as u64);
                *c = (finished, 0, 0, pending_budget);
                if finished > 0 {
                    eprintln!("{finished} of {total} runs already finished: skipped");
                }
                if finished == total {
                    return;
                }
            }
            RunnerEvent::Started(run) => {
                c.1 += 1;
                if lines {
                    eprintln!("started {} {} ({})", run.id, run.arm, run.recipe.describe());
                }
            }
            RunnerEvent::Warning(warning) => {
                progress.suspend(|| eprintln!("warning: {warning}"));
            }
            RunnerEvent::Submitted(job) => {
                progress.suspend(|| {
                    eprintln!(
                        "submitted Slurm job array {} ({} runs, {} CPUs and {} min each)",
                        job.job_id,
                        job.runs.len(),
                        job.cpus,
                        job.minutes
                    )
                });
            }
            RunnerEvent::Retried(run, why) => {
                c.1 -= 1;
                progress
                    .suspend(|| eprintln!("run {} ({}) submitted again: {why}", run.id, run.arm));
            }
            RunnerEvent::Finished(run, _) | RunnerEvent::Failed(run, _) => {
                c.1 -= 1;
                c.3 -= run.budget().unwrap_or(0.0);
                if let RunnerEvent::Failed(_, error) = event {
                    c.2 += 1;
                    progress.suspend(|| eprintln!("run {} ({}) failed: {error}", run.id, run.arm));
                } else {
                    c.0 += 1;
                }
                progress.inc(1);
            }
        }
        show(&c);
    };
    let summary = run_experiment(
        &spec,
        &args.out,
        args.jobs as usize,
        &executor,
        &events,
        &|outcome| recorder.record(outcome),
    )?;
    recorder.finish()?;
    progress.finish_and_clear();
    if args.json {
        print_json(&summary)?;
    } else {
        println!(
            "{}: {} runs, {} finished now, {} already finished, {} failed",
            spec.name,
            summary.total,
            summary.finished,
            summary.skipped,
            summary.failed.len()
        );
        for (id, arm, error) in &summary.failed {
            println!("  failed {id} ({arm}): {error}");
        }
    }
    if lmlab_core::interrupt::requested() {
        std::process::exit(lmlab_core::interrupt::INTERRUPTED_EXIT_CODE);
    }
    if !summary.failed.is_empty() {
        // The exit status says how many runs failed (at most 100).
        std::process::exit(summary.failed.len().min(100) as i32);
    }
    Ok(())
}

/// The executor the flags ask for; Slurm's flags with the local executor are refused.
fn executor(args: &ExperimentRunArgs) -> anyhow::Result<Executor> {
    let exe = std::env::current_exe()?;
    let threads_per_run = args.threads_per_run as usize;
    if args.executor == ExecutorChoice::Local {
        if args.partition.is_some() || args.account.is_some() || !args.sbatch_arg.is_empty() {
            anyhow::bail!("--partition, --account and --sbatch-arg need --executor slurm");
        }
        return Ok(Executor::Subprocess {
            exe,
            threads_per_run,
        });
    }
    if !(args.time_factor.is_finite() && args.time_factor > 0.0) {
        anyhow::bail!(
            "--time-factor must be a positive number, got {}",
            args.time_factor
        );
    }
    if !(args.poll_seconds.is_finite() && args.poll_seconds > 0.0) {
        anyhow::bail!(
            "--poll-seconds must be a positive number, got {}",
            args.poll_seconds
        );
    }
    Ok(Executor::Slurm(SlurmOptions {
        partition: args.partition.clone(),
        account: args.account.clone(),
        time_factor: args.time_factor,
        sbatch_args: args.sbatch_arg.clone(),
        retries: args.retries,
        poll: std::time::Duration::from_secs_f64(args.poll_seconds),
        ..SlurmOptions::new(exe, threads_per_run)
    }))
}

fn print_plan(spec: &ExperimentSpec, args: &ExperimentRunArgs) -> anyhow::Result<()> {
    let state = state_for(spec, &args.out)?;
    let rows = plan(&state, &args.out)?;
    if args.json {
        return print_json(&rows);
    }
    println!(
        "{:<16}  {:<9}  {:<8}  {:>6}  {:<28}  recipe",
        "run", "status", "budget", "seed", "arm"
    );
    for row in &rows {
        let budget = row.run.budget().map_or("-".to_string(), |b| format!("{b}"));
        println!(
            "{:<16}  {:<9}  {:<8}  {:>6}  {:<28}  {}",
            row.run.id,
            row.status,
            budget,
            row.run.recipe.seed,
            super::fit_width(&row.run.arm, 28),
            row.run.recipe.describe()
        );
    }
    let pending: Vec<_> = rows.iter().filter(|r| r.status != "finished").collect();
    // An empty float sum is −0.0: start from +0.0 so "0 CPU-s" prints without a sign.
    let budget: f64 = pending
        .iter()
        .filter_map(|r| r.run.budget())
        .fold(0.0, |a, b| a + b);
    let unbudgeted = pending.iter().filter(|r| r.run.budget().is_none()).count();
    println!(
        "{} runs, {} to run: {budget:.0} CPU-s of neural budgets (~{:.0} s at {} at a time), \
         plus {unbudgeted} runs without a budget (count-based, memory-based, derived and not \
         trained), which take what they take",
        rows.len(),
        pending.len(),
        budget / args.jobs as f64,
        args.jobs
    );
    Ok(())
}

pub fn run_one(args: RunOneArgs) -> anyhow::Result<()> {
    run_one_run(&args.dir, &args.id)?;
    Ok(())
}

pub fn status(args: ExperimentDirArgs) -> anyhow::Result<()> {
    let status = experiment_status(&args.dir)?;
    if args.json {
        return print_json(&status);
    }
    if status.running {
        println!("an `lmlab experiment run` is working in this folder: it records its runs itself");
    }
    if status.ingested > 0 {
        println!("recorded {} runs the store lacked", status.ingested);
    }
    println!(
        "{}: {} runs planned: {} finished, {} failed, {} pending",
        status.experiment,
        status.runs.len(),
        status.count("finished"),
        status.count("failed"),
        status.count("pending")
    );
    if status.unplanned > 0 {
        println!(
            "{} recorded runs are not in the experiment's plan (an edited experiment file)",
            status.unplanned
        );
    }
    for (run, state) in &status.runs {
        if *state != "finished" {
            println!(
                "  {state:<8}  {}  {}  budget {}  seed {}",
                run.id,
                run.arm,
                budget_label(run.budget()),
                run.recipe.seed
            );
        }
    }
    for failure in &status.failures {
        println!(
            "failed {} ({}) at {}: {}",
            failure.id, failure.arm, failure.failed, failure.error
        );
    }
    Ok(())
}

pub fn reindex(args: ExperimentDirArgs) -> anyhow::Result<()> {
    let (finished, failed) = reindex_store(&args.dir)?;
    if args.json {
        return print_json(&serde_json::json!({ "finished": finished, "failed": failed }));
    }
    println!(
        "{}: rebuilt from {finished} finished and {failed} failed runs",
        lmlab_lab::experiment::store::store_path(&args.dir).display()
    );
    Ok(())
}

pub fn cancel(args: ExperimentDirArgs) -> anyhow::Result<()> {
    let jobs = cancel_jobs(&args.dir)?;
    if args.json {
        return print_json(&serde_json::json!({ "cancelled_jobs": jobs }));
    }
    println!(
        "{}: cancelled Slurm job arrays {}",
        args.dir.display(),
        jobs.join(", ")
    );
    Ok(())
}
