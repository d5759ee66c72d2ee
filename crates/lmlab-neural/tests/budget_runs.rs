//! Budgeted runs: validations at fractions of the budget and the schedule fitted to it (a tiny
//! model, budgets of two CPU seconds).

use lmlab_neural::config::RunConfig;
use lmlab_neural::optim::learning_rate;
use lmlab_neural::run_files::{self, FittedSchedule, MetricsLine};
use lmlab_neural::train::{StopReason, FIT_AFTER_STEPS};
use std::path::Path;

mod common;
use common::{run, CONFIG};

const BUDGET: f64 = 2.0;

/// A budget counts the CPU time of the whole process, so the tests of this file (threads of one
/// process) run one at a time: another test's work would count against the budget being tested.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The tiny model with a step bound far beyond what the budget allows and no periodic work.
fn config() -> RunConfig {
    let mut config = RunConfig::parse(CONFIG).unwrap();
    config.train.max_steps = 1_000_000;
    config.train.eval_interval = 0;
    config.train.checkpoint_interval = 0;
    config
}

fn metrics(dir: &Path) -> Vec<MetricsLine> {
    std::fs::read_to_string(dir.join(run_files::METRICS))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn evals(lines: &[MetricsLine]) -> Vec<(usize, f64)> {
    lines
        .iter()
        .filter_map(|l| match l {
            MetricsLine::Eval {
                step, cpu_seconds, ..
            } => Some((*step, *cpu_seconds)),
            MetricsLine::Step { .. } => None,
        })
        .collect()
}

/// `(step, lr)` of every logged step.
fn rates(lines: &[MetricsLine]) -> Vec<(usize, f64)> {
    lines
        .iter()
        .filter_map(|l| match l {
            MetricsLine::Step { step, lr, .. } => Some((*step, *lr)),
            MetricsLine::Eval { .. } => None,
        })
        .collect()
}

#[test]
fn validations_at_budget_fractions_come_once_each_and_the_run_stays_inside_its_budget() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let fractions = [0.25, 0.5, 0.75, 1.0];
    let report = run(&config(), dir.path(), |o| {
        o.budget_cpu_seconds = Some(BUDGET);
        o.eval_at_fractions = fractions.to_vec();
    })
    .unwrap();
    assert_eq!(report.stop, StopReason::Budget);
    let cpu = report.compute.cpu_seconds;
    assert!(cpu <= BUDGET && cpu > 0.8 * BUDGET, "{cpu} CPU-s");
    let evals = evals(&metrics(dir.path()));
    // Three at fractions, then the final one (1.0) once, at the last step.
    assert_eq!(evals.len(), 4, "{evals:?}");
    for (&(_, at), f) in evals.iter().zip(&fractions[..3]) {
        assert!(at >= f * BUDGET, "the {f} validation came at {at} CPU-s");
    }
    for pair in evals[..3].windows(2) {
        assert!(pair[0].0 < pair[1].0, "{evals:?}");
    }
    assert_eq!(evals[3].0, report.steps);
    assert_eq!(report.val_history.len(), 4);
}

#[test]
fn without_a_budget_fractions_are_ignored_and_bad_ones_are_refused_with_one() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let mut short = config();
    short.train.max_steps = 5;
    let report = run(&short, dir.path(), |o| o.eval_at_fractions = vec![0.5]).unwrap();
    assert_eq!(evals(&metrics(dir.path())).len(), 1);
    assert!(report.fitted_schedule.is_none());
    for bad in [0.0, 1.5, f64::NAN] {
        let err = run(&short, dir.path(), |o| {
            o.force = true;
            o.budget_cpu_seconds = Some(BUDGET);
            o.eval_at_fractions = vec![bad];
        })
        .unwrap_err();
        assert!(err.to_string().contains("eval_at_fractions"), "{err}");
    }
}

#[test]
fn a_fitted_schedule_decays_by_the_end_of_the_budget_and_an_unfitted_one_does_not() {
    let _alone = alone();
    let config = config();
    let (peak, min_lr) = (config.train.learning_rate, config.train.min_lr);

    let fitted_dir = tempfile::tempdir().unwrap();
    let report = run(&config, fitted_dir.path(), |o| {
        o.budget_cpu_seconds = Some(BUDGET);
        o.fit_schedule_to_budget = true;
    })
    .unwrap();
    let fitted = report.fitted_schedule.expect("a horizon was fitted");
    assert_eq!(fitted.fitted_at_step, FIT_AFTER_STEPS);
    assert_eq!(
        FittedSchedule::load(fitted_dir.path()).unwrap(),
        Some(fitted)
    );
    // The horizon is the steps the run took, give or take the noise of CPU time: 5-7% at a steady
    // load of 10 on two cores, but 47% once when a parallel build's load changed during the run
    // (the step cost is measured once, over steps 2-10). The bound checks the order of magnitude;
    // the decay below is what the fit is for.
    let steps = report.steps as f64;
    assert!(
        (fitted.horizon as f64 - steps).abs() <= 0.6 * steps,
        "horizon {} for {steps} steps",
        fitted.horizon
    );
    let last_lr = rates(&metrics(fitted_dir.path())).last().unwrap().1;
    assert!(
        last_lr < min_lr + 0.3 * (peak - min_lr),
        "ended at lr {last_lr}"
    );

    let plain_dir = tempfile::tempdir().unwrap();
    let report = run(&config, plain_dir.path(), |o| {
        o.budget_cpu_seconds = Some(BUDGET);
    })
    .unwrap();
    assert!(report.fitted_schedule.is_none());
    let last_lr = rates(&metrics(plain_dir.path())).last().unwrap().1;
    assert!(last_lr > 0.99 * peak, "ended at lr {last_lr}");
}

#[test]
fn a_resumed_run_continues_its_fitted_schedule() {
    let _alone = alone();
    let config = config();
    let dir = tempfile::tempdir().unwrap();
    let first = run(&config, dir.path(), |o| {
        o.budget_cpu_seconds = Some(BUDGET);
        o.fit_schedule_to_budget = true;
        o.stop_after = Some(FIT_AFTER_STEPS + 5);
    })
    .unwrap();
    assert_eq!(first.stop, StopReason::Paused);
    let fitted = first.fitted_schedule.expect("fitted before the pause");
    let second = run(&config, dir.path(), |o| {
        o.resume = true;
        o.budget_cpu_seconds = Some(BUDGET);
        o.fit_schedule_to_budget = true;
    })
    .unwrap();
    assert_eq!(second.fitted_schedule, Some(fitted));
    assert!(second.steps > first.steps);
    // Every step after the fit, in both sessions, took the fitted schedule's rate.
    for (step, lr) in rates(&metrics(dir.path())) {
        let expected = learning_rate(step - 1, &fitted.config_for(step - 1, &config.train));
        assert!(
            (lr - expected).abs() < 1e-15,
            "step {step}: {lr} vs {expected}"
        );
    }
}
