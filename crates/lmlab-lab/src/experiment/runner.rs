//! Runs an experiment's runs: those already finished are skipped, the rest run `jobs` at a time,
//! each in its own process (so its CPU seconds and peak memory are its own), each writing only its
//! own folder. A failed run is recorded and the others go on. Killed at any moment, the next `run`
//! redoes the unfinished runs from scratch and keeps the finished ones.

use super::slurm::{SlurmOptions, SlurmRecord, Submission};
use super::spec::{ExperimentSpec, PlannedRun};
use super::{
    read_json, run_dir, utc_now, ExperimentState, RunEntry, RunFailure, FAILED_FILE, LOCK_FILE,
    RUNS_DIR, RUN_FILE,
};
use crate::run::{evaluate_run, train, Data, FileDigest, RunOptions};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result};
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where a run executes.
#[derive(Clone, Debug)]
pub enum Executor {
    /// In this process, one run at a time (`jobs` is taken as 1: runs sharing a process would
    /// share its CPU clock and memory high-water mark). For tests and the library.
    InProcess,
    /// A child process per run: `exe experiment run-one DIR ID`, with `RAYON_NUM_THREADS` set to
    /// `threads_per_run`.
    Subprocess {
        /// The lmlab executable.
        exe: PathBuf,
        /// Threads each run may use (its budget counts the CPU seconds of all of them).
        threads_per_run: usize,
    },
    /// A Slurm cluster: job arrays of `lmlab experiment run-one` tasks ([`super::slurm`]).
    Slurm(SlurmOptions),
}

/// What the runner hands the store, in this process, as it happens.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// A run finished.
    Finished(&'a RunEntry),
    /// A run failed.
    Failed(&'a RunFailure),
    /// A Slurm job array was submitted, or one of its tasks ended.
    Slurm(SlurmRecord<'a>),
}

/// What the runner is doing, for a progress view.
#[derive(Debug)]
pub enum RunnerEvent<'a> {
    /// The plan: how many runs, how many already finished.
    Planned {
        /// Runs in the plan.
        total: usize,
        /// Already finished (skipped).
        finished: usize,
        /// CPU seconds the pending neural runs may spend.
        pending_budget: f64,
    },
    /// A run started.
    Started(&'a PlannedRun),
    /// A run finished.
    Finished(&'a PlannedRun, &'a RunEntry),
    /// A run failed.
    Failed(&'a PlannedRun, &'a str),
    /// A run that Slurm ended is submitted again (why).
    Retried(&'a PlannedRun, &'a str),
    /// A Slurm job array was submitted.
    Submitted(&'a Submission),
    /// Something the user should know (e.g. an experiment folder other nodes may not see).
    Warning(&'a str),
}

/// What a `run` did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RunSummary {
    /// Runs in the plan.
    pub total: usize,
    /// Finished before this `run` (skipped).
    pub skipped: usize,
    /// Finished now.
    pub finished: usize,
    /// Failed now: id, arm, error.
    pub failed: Vec<(String, String, String)>,
}

/// A run of the plan and whether it has finished.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PlanRow {
    /// The run.
    pub run: PlannedRun,
    /// `finished`, `failed` (will be retried) or `pending`.
    pub status: &'static str,
}

/// The experiment's state for `spec` in `dir`: the data's digests, checked against those of
/// earlier runs of the experiment (a data file that changed is refused, by name).
pub fn state_for(spec: &ExperimentSpec, dir: &Path) -> Result<ExperimentState> {
    let data = spec.data.digests()?;
    if let Some(previous) = ExperimentState::load(dir)? {
        check_same_data(&previous.data, &data)?;
    }
    Ok(ExperimentState {
        spec: spec.clone(),
        data,
    })
}

/// Refuses data that differs from what the experiment's runs were trained and scored on.
fn check_same_data(
    before: &BTreeMap<String, FileDigest>,
    now: &BTreeMap<String, FileDigest>,
) -> Result<()> {
    for (split, old) in before {
        if let Some(new) = now.get(split) {
            if new.sha256 != old.sha256 {
                return Err(Error::Mismatch(format!(
                    "data.{split}: {} changed since this experiment's runs used it (sha256 {} \
                     then, {} now): runs on different data would not compare; restore the file \
                     or use a new experiment folder",
                    new.path.display(),
                    old.sha256,
                    new.sha256
                )));
            }
        }
    }
    Ok(())
}

/// The plan with each run's status in `dir`.
pub fn plan(state: &ExperimentState, dir: &Path) -> Result<Vec<PlanRow>> {
    Ok(state
        .spec
        .plan(&state.data_sha256())?
        .into_iter()
        .map(|run| {
            let folder = run_dir(dir, &run.id);
            let status = if folder.join(RUN_FILE).is_file() {
                "finished"
            } else if folder.join(FAILED_FILE).is_file() {
                "failed"
            } else {
                "pending"
            };
            PlanRow { run, status }
        })
        .collect())
}

/// Holds `DIR/lock` while alive: a second `run` on the same folder is refused.
pub struct DirLock {
    _file: std::fs::File,
}

impl DirLock {
    /// Takes the lock, or says who holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        use std::io::Write;
        use std::os::unix::io::AsRawFd;
        let path = dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        // flock: released by the kernel when the process dies, so a killed run leaves no stale
        // lock. (std's File::try_lock needs Rust 1.89; lmlab builds on 1.87.)
        let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !taken {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            return Err(Error::invalid(format!(
                "{} is held by another `lmlab experiment run` ({}): one run per experiment folder \
                 at a time",
                path.display(),
                holder.trim()
            )));
        }
        file.set_len(0).map_err(|e| Error::io(&path, e))?;
        write!(file, "pid {}", std::process::id()).map_err(|e| Error::io(&path, e))?;
        Ok(DirLock { _file: file })
    }
}

/// Runs every unfinished run of `spec` into `dir` (created if needed), `jobs` at a time.
/// `on_done` is called in this process for every run that finishes or fails (the store's
/// ingestion), in completion order, and for the Slurm executor's submissions and task ends.
pub fn run_experiment(
    spec: &ExperimentSpec,
    dir: &Path,
    jobs: usize,
    executor: &Executor,
    events: &(dyn Fn(RunnerEvent) + Sync),
    on_done: &(dyn Fn(Outcome) -> Result<()> + Sync),
) -> Result<RunSummary> {
    std::fs::create_dir_all(dir.join(RUNS_DIR)).map_err(|e| Error::io(dir, e))?;
    let _lock = DirLock::acquire(dir)?;
    let state = state_for(spec, dir)?;
    state.save(dir)?;
    let rows = plan(&state, dir)?;
    let pending: VecDeque<PlannedRun> = rows
        .iter()
        .filter(|r| r.status != "finished")
        .map(|r| r.run.clone())
        .collect();
    let mut summary = RunSummary {
        total: rows.len(),
        skipped: rows.len() - pending.len(),
        ..RunSummary::default()
    };
    events(RunnerEvent::Planned {
        total: rows.len(),
        finished: summary.skipped,
        pending_budget: pending
            .iter()
            .filter_map(PlannedRun::budget)
            .fold(0.0, |a, b| a + b),
    });
    let jobs = match executor {
        Executor::InProcess => 1,
        Executor::Subprocess { .. } => jobs.max(1),
        Executor::Slurm(_) if pending.iter().any(|r| !r.parents.is_empty()) => {
            let arm = &pending
                .iter()
                .find(|r| !r.parents.is_empty())
                .expect("one")
                .arm;
            return Err(Error::invalid(format!(
                "arm '{arm}' starts from other arms' runs, which the Slurm executor does not \
                 order yet; run this experiment with the local executor"
            )));
        }
        Executor::Slurm(options) => {
            let (finished, failed) =
                super::slurm::run_pending(options, dir, pending.into(), events, on_done)?;
            summary.finished = finished;
            summary.failed = failed;
            return Ok(summary);
        }
    };
    let done: BTreeMap<String, Option<String>> = rows
        .iter()
        .filter(|r| r.status == "finished")
        .map(|r| (r.run.id.clone(), None))
        .collect();
    let schedule = Schedule::new(pending, done);
    let results = Mutex::new((0usize, Vec::new(), None::<Error>));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while let Some((run, parent_failure)) = schedule.next() {
                    let outcome = match parent_failure {
                        Some(why) => Err(Box::new(fail_without_running(dir, &run, why))),
                        None => {
                            events(RunnerEvent::Started(&run));
                            execute(executor, dir, &run)
                        }
                    };
                    let mut results = results.lock().expect("results");
                    let stored = match &outcome {
                        Ok(entry) => {
                            events(RunnerEvent::Finished(&run, entry));
                            results.0 += 1;
                            on_done(Outcome::Finished(entry))
                        }
                        Err(failure) => {
                            events(RunnerEvent::Failed(&run, &failure.error));
                            results.1.push((
                                run.id.clone(),
                                run.arm.clone(),
                                failure.error.clone(),
                            ));
                            on_done(Outcome::Failed(failure.as_ref()))
                        }
                    };
                    let error = outcome.err().map(|f| f.error);
                    if let Err(e) = stored {
                        // The store could not take it: stop starting runs, report after the others.
                        results.2.get_or_insert(e);
                        schedule.stop();
                    }
                    drop(results);
                    schedule.done(&run.id, error);
                }
            });
        }
    });
    let (finished, failed, store_error) = results.into_inner().expect("results");
    if let Some(e) = store_error {
        return Err(e);
    }
    summary.finished = finished;
    summary.failed = failed;
    Ok(summary)
}

/// The runs left to start, in plan order (parents before children), and how the started ones
/// ended: a run is handed out once every run it depends on has ended, so `jobs` workers run what
/// is ready in parallel.
struct Schedule {
    state: Mutex<ScheduleState>,
    changed: std::sync::Condvar,
}

struct ScheduleState {
    pending: VecDeque<PlannedRun>,
    /// Ended runs: `None` finished, `Some(error)` failed.
    ended: BTreeMap<String, Option<String>>,
    running: usize,
}

impl Schedule {
    fn new(pending: VecDeque<PlannedRun>, ended: BTreeMap<String, Option<String>>) -> Schedule {
        Schedule {
            state: Mutex::new(ScheduleState {
                pending,
                ended,
                running: 0,
            }),
            changed: std::sync::Condvar::new(),
        }
    }

    /// The next run whose parents have all ended, waiting while runs it needs are running;
    /// with why it cannot run when a parent failed. `None`: nothing is left (or an interrupt).
    fn next(&self) -> Option<(PlannedRun, Option<String>)> {
        let mut state = self.state.lock().expect("schedule");
        loop {
            if state.pending.is_empty() || lmlab_core::interrupt::requested() {
                return None;
            }
            let ready = state
                .pending
                .iter()
                .position(|r| r.parents.iter().all(|p| state.ended.contains_key(&p.id)));
            if let Some(i) = ready {
                let run = state.pending.remove(i).expect("in the queue");
                let failed = run.parents.iter().find_map(|p| {
                    let error = state.ended[&p.id].as_ref()?;
                    Some(format!(
                        "its parent run {} (arm '{}') failed: {error}",
                        p.id, p.arm
                    ))
                });
                state.running += 1;
                return Some((run, failed));
            }
            if state.running == 0 {
                // Parents that are in no queue (a plan is ordered, so this does not happen).
                return None;
            }
            state = self.changed.wait(state).expect("schedule");
        }
    }

    /// Run `id` ended (`error`: it failed).
    fn done(&self, id: &str, error: Option<String>) {
        let mut state = self.state.lock().expect("schedule");
        state.ended.insert(id.to_string(), error);
        state.running -= 1;
        self.changed.notify_all();
    }

    /// Starts nothing more.
    fn stop(&self) {
        self.state.lock().expect("schedule").pending.clear();
        self.changed.notify_all();
    }
}

/// Records that `run` failed before it started, because `why`.
fn fail_without_running(dir: &Path, run: &PlannedRun, why: String) -> RunFailure {
    let folder = run_dir(dir, &run.id);
    let failure = RunFailure {
        id: run.id.clone(),
        experiment: String::new(),
        arm: run.arm.clone(),
        recipe: run.recipe.clone(),
        error: why,
        failed: utc_now(),
    };
    let _ = std::fs::create_dir_all(&folder);
    let _ = write_json(&folder.join(FAILED_FILE), &failure);
    failure
}

/// Runs one planned run with `executor`; its entry, or its failure (also written to its folder).
fn execute(
    executor: &Executor,
    dir: &Path,
    run: &PlannedRun,
) -> std::result::Result<RunEntry, Box<RunFailure>> {
    let result = match executor {
        Executor::InProcess => run_one(dir, &run.id),
        Executor::Subprocess {
            exe,
            threads_per_run,
        } => run_child(exe, *threads_per_run, dir, &run.id),
        Executor::Slurm(_) => unreachable!("Slurm runs go through slurm::run_pending"),
    };
    result.map_err(|e| {
        let folder = run_dir(dir, &run.id);
        // A child that wrote its failure said best what went wrong.
        match read_json::<RunFailure>(&folder.join(FAILED_FILE)) {
            Ok(Some(failure)) => Box::new(failure),
            _ => {
                let failure = RunFailure {
                    id: run.id.clone(),
                    experiment: String::new(),
                    arm: run.arm.clone(),
                    recipe: run.recipe.clone(),
                    error: e.to_string(),
                    failed: utc_now(),
                };
                let _ = write_json(&folder.join(FAILED_FILE), &failure);
                Box::new(failure)
            }
        }
    })
}

/// Runs `exe experiment run-one DIR ID` and reads the entry it wrote.
fn run_child(exe: &Path, threads: usize, dir: &Path, id: &str) -> Result<RunEntry> {
    let mut command = std::process::Command::new(exe);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // A run dies with its coordinator (even one killed with SIGKILL), so no orphan goes on
        // writing a run folder that the next `run` redoes.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let output = command
        .args(["experiment", "run-one"])
        .arg(dir)
        .arg(id)
        .env("RAYON_NUM_THREADS", threads.max(1).to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| Error::io(exe, e))?;
    let folder = run_dir(dir, id);
    if output.status.success() {
        if let Some(entry) = read_json::<RunEntry>(&folder.join(RUN_FILE))? {
            return Ok(entry);
        }
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    Err(Error::invalid(format!(
        "run {id}: the run process ended with {} ({})",
        output.status,
        last.unwrap_or("no message")
    )))
}

/// Runs run `id` of the experiment in `dir` (its `experiment.json` says what it is): clears the
/// run's folder, trains, evaluates on valid and test with probability files, and writes
/// `run.json` last. On an error, writes `failed.json` and returns the error.
pub fn run_one(dir: &Path, id: &str) -> Result<RunEntry> {
    let state = ExperimentState::load(dir)?.ok_or_else(|| {
        Error::invalid(format!(
            "{} has no {}: not an experiment folder",
            dir.display(),
            super::STATE_FILE
        ))
    })?;
    let run = state
        .spec
        .plan(&state.data_sha256())?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| {
            Error::invalid(format!("experiment '{}' has no run {id}", state.spec.name))
        })?;
    let folder = run_dir(dir, id);
    let result = train_and_evaluate(&state, dir, &run, &folder);
    if let Err(e) = &result {
        let failure = RunFailure {
            id: id.to_string(),
            experiment: state.spec.name.clone(),
            arm: run.arm.clone(),
            recipe: run.recipe.clone(),
            error: e.to_string(),
            failed: utc_now(),
        };
        // The failure is best kept; when even that cannot be written (a full disk), the
        // coordinating process records the error.
        let _ = write_json(&folder.join(FAILED_FILE), &failure);
    }
    result
}

fn train_and_evaluate(
    state: &ExperimentState,
    dir: &Path,
    run: &PlannedRun,
    folder: &Path,
) -> Result<RunEntry> {
    // Whatever an interrupted attempt left is redone from scratch.
    if folder.exists() {
        std::fs::remove_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    }
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    let data: &Data = &state.spec.data;
    let model_name = if run.recipe.model.is_neural() {
        "model"
    } else {
        "model.lmlab"
    };
    let options = RunOptions {
        force: true,
        checkpoint_on_interrupt: false,
        eval_at_fractions: state.spec.eval_points.clone(),
        ..RunOptions::default()
    };
    let model_path = folder.join(model_name);
    let mut record = if run.parents.is_empty() {
        train(&run.recipe, data, &model_path, &options, &mut |_| {})?
    } else {
        super::derive::train_with_parents(state, dir, run, &model_path, &options)?
    };
    check_same_data(&state.data, &record.data)?;
    evaluate_run(&mut record, data, Some(folder))?;
    record.relativize(folder);
    let entry = RunEntry {
        id: run.id.clone(),
        experiment: state.spec.name.clone(),
        arm: run.arm.clone(),
        finished: utc_now(),
        record,
    };
    write_json(&folder.join(RUN_FILE), &entry)?;
    Ok(entry)
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let json = serde_json::to_vec_pretty(value).expect("serializes");
    write_bytes_atomically(path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::derive::{Parent, Role};
    use crate::recipe::{ModelChoice, Recipe};

    fn run(id: &str, parents: &[&str]) -> PlannedRun {
        PlannedRun {
            id: id.into(),
            arm: id.into(),
            recipe: Recipe::new(ModelChoice::Uniform),
            start: None,
            parents: parents
                .iter()
                .map(|p| Parent {
                    role: Role::From,
                    arm: p.to_string(),
                    id: p.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_child_waits_for_its_parents_while_ready_runs_go_ahead() {
        let pending = [run("a", &[]), run("child", &["a", "b"]), run("b", &[])];
        let schedule = Schedule::new(pending.into_iter().collect(), BTreeMap::new());
        let (first, _) = schedule.next().unwrap();
        let (second, _) = schedule.next().unwrap();
        // The child is skipped while its parents run; the next ready run goes first.
        assert_eq!((first.id.as_str(), second.id.as_str()), ("a", "b"));
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| schedule.next());
            schedule.done("a", None);
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!waiter.is_finished(), "b is still running");
            schedule.done("b", Some("out of memory".into()));
            let (child, failed) = waiter.join().unwrap().unwrap();
            assert_eq!(child.id, "child");
            let why = failed.expect("a parent failed");
            assert!(
                why.contains("parent run b") && why.contains("out of memory"),
                "{why}"
            );
        });
        schedule.done("child", None);
        assert!(schedule.next().is_none());
    }
}
