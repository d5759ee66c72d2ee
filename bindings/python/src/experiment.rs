//! Experiments from Python: run one (`lmlab experiment run`), its plan with each run's status
//! (`--plan`), and the finished runs' entries, through the library's runner.

use crate::errors::{invalid, IntoPy};
use crate::interruptible::{self, OnInterrupt};
use lmlab_lab::experiment::runner::{plan, run_experiment, state_for, Executor};
use lmlab_lab::experiment::scan_runs;
use lmlab_lab::experiment::spec::ExperimentSpec;
use pyo3::prelude::*;
use std::path::PathBuf;

/// Runs every unfinished run of the experiment file `spec` into `out`; with `lmlab` (the
/// executable) `jobs` child processes at a time, otherwise one at a time in this process. Returns
/// (runs in the plan, skipped as finished, finished now, [(id, arm, error)] of the failed).
#[pyfunction]
#[pyo3(signature = (spec, out, jobs=1, lmlab=None, threads_per_run=1))]
#[allow(clippy::type_complexity)]
pub fn experiment_run(
    py: Python<'_>,
    spec: PathBuf,
    out: PathBuf,
    jobs: usize,
    lmlab: Option<PathBuf>,
    threads_per_run: usize,
) -> PyResult<(usize, usize, usize, Vec<(String, String, String)>)> {
    if jobs == 0 || threads_per_run == 0 {
        return Err(invalid("jobs and threads_per_run must be at least 1"));
    }
    let spec = ExperimentSpec::load(&spec).py_err()?;
    let executor = match lmlab {
        Some(exe) => Executor::Subprocess {
            exe,
            threads_per_run,
        },
        None => Executor::InProcess,
    };
    // Ctrl-C: the call raises at once and the runner starts no further run; the runs under way
    // end on their thread (a run's files are written whole or not at all).
    let summary = interruptible::run(py, OnInterrupt::RequestAndLeave, move |_| {
        run_experiment(&spec, &out, jobs, &executor, &|_| {}, &|_| Ok(()))
    })?
    .py_err()?;
    Ok((
        summary.total,
        summary.skipped,
        summary.finished,
        summary.failed,
    ))
}

/// The plan of the experiment file `spec` in `out` with each run's status (`finished`, `failed`,
/// `pending`), as JSON text (`lmlab experiment run --plan`'s rows).
#[pyfunction]
pub fn experiment_plan_json(py: Python<'_>, spec: PathBuf, out: PathBuf) -> PyResult<String> {
    let spec = ExperimentSpec::load(&spec).py_err()?;
    let rows = py
        .detach(|| {
            let state = state_for(&spec, &out)?;
            plan(&state, &out)
        })
        .py_err()?;
    Ok(serde_json::to_string(&rows).expect("a plan serializes"))
}

/// The finished runs (`runs/<id>/run.json`) and the failures of the experiment folder `out`, as
/// JSON text: `{"runs": [...], "failed": [...]}`.
#[pyfunction]
pub fn experiment_results_json(py: Python<'_>, out: PathBuf) -> PyResult<String> {
    let (runs, failed) = py.detach(|| scan_runs(&out)).py_err()?;
    let value = serde_json::json!({ "runs": runs, "failed": failed });
    Ok(value.to_string())
}
