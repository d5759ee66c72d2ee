//! The Slurm executor: an experiment's pending runs go to a Slurm cluster as job arrays (one per
//! batch of runs that ask for the same CPUs and time), each task running `lmlab experiment
//! run-one DIR RUN_ID` on its node. This process stays the coordinator: it polls Slurm, ingests
//! each finished `run.json` into the store (the only writer of `results.sqlite`), retries tasks
//! that Slurm killed (time limit, memory, node failure, a cancelled task) up to `retries` times,
//! and records the rest as failed runs with Slurm's reason.
//!
//! `DIR/slurm/` holds what the coordinator writes for Slurm: the array scripts
//! (`array-N.sh`), the tasks' output (`JOB_TASK.out`), one `job-JOB.json` per submitted array
//! ([`Submission`]: which run each task runs) and, while `lmlab experiment cancel` stops the
//! experiment, the marker `cancelled`.
//!
//! Job states come from `sacct` when the cluster keeps accounting, else from `squeue
//! --states=all`, which the controller answers for `MinJobAge` seconds after a job ends.

use super::runner::{Outcome, RunnerEvent};
use super::spec::PlannedRun;
use super::{read_json, run_dir, utc_now, RunEntry, RunFailure, FAILED_FILE, RUN_FILE};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The folder of the coordinator's Slurm files, in the experiment folder.
pub const SLURM_DIR: &str = "slurm";
/// The marker `lmlab experiment cancel` leaves for a coordinator still running.
pub const CANCELLED_FILE: &str = "cancelled";
/// Time limit = budget × this factor (a run also loads data and evaluates after its budget).
pub const DEFAULT_TIME_FACTOR: f64 = 3.0;
/// Minutes added to every time limit for loading data and evaluating.
pub const EVALUATION_MINUTES: u64 = 5;
/// Time limit of a run without a budget (count-based and memory-based runs take what they take).
pub const UNBUDGETED_MINUTES: u64 = 60;
/// Times a run that Slurm killed is submitted again.
pub const DEFAULT_RETRIES: u32 = 2;
/// Seconds between two looks at the cluster.
pub const DEFAULT_POLL_SECONDS: f64 = 2.0;
/// Consecutive looks at which a running task is unknown to Slurm before it counts as lost.
const LOST_AFTER_POLLS: u32 = 3;

/// How runs go to Slurm.
#[derive(Clone, Debug)]
pub struct SlurmOptions {
    /// The lmlab executable, as the nodes see it.
    pub exe: PathBuf,
    /// CPUs per task (`--cpus-per-task`, and `RAYON_NUM_THREADS` of the run).
    pub threads_per_run: usize,
    /// `--partition`, if given.
    pub partition: Option<String>,
    /// `--account`, if given.
    pub account: Option<String>,
    /// Time limit = budget × this factor (+ [`EVALUATION_MINUTES`]).
    pub time_factor: f64,
    /// More `sbatch` arguments, passed as they are (e.g. `--mem=4G`, `--qos=short`).
    pub sbatch_args: Vec<String>,
    /// Times a run that Slurm killed is submitted again.
    pub retries: u32,
    /// Time between two looks at the cluster.
    pub poll: Duration,
}

impl SlurmOptions {
    /// The defaults, for `exe` with `threads_per_run` threads per run.
    pub fn new(exe: PathBuf, threads_per_run: usize) -> SlurmOptions {
        SlurmOptions {
            exe,
            threads_per_run: threads_per_run.max(1),
            partition: None,
            account: None,
            time_factor: DEFAULT_TIME_FACTOR,
            sbatch_args: Vec::new(),
            retries: DEFAULT_RETRIES,
            poll: Duration::from_secs_f64(DEFAULT_POLL_SECONDS),
        }
    }

    /// The time limit of `run`, in minutes.
    pub fn minutes(&self, run: &PlannedRun) -> u64 {
        match run.budget() {
            Some(budget) => {
                (budget * self.time_factor / 60.0).ceil().max(1.0) as u64 + EVALUATION_MINUTES
            }
            None => UNBUDGETED_MINUTES,
        }
    }
}

/// A job array as submitted: `job-JOB.json` in `DIR/slurm`, and rows of the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Slurm's job id of the array.
    pub job_id: String,
    /// The run of each task, by task index.
    pub runs: Vec<String>,
    /// The attempt of each task's run (1: first submission).
    pub attempts: Vec<u32>,
    /// CPUs per task.
    pub cpus: usize,
    /// Time limit per task, in minutes.
    pub minutes: u64,
    /// When it was submitted (RFC 3339, UTC).
    pub submitted: String,
}

/// How a Slurm task ended, as recorded in the store.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskEnd {
    /// The array's job id.
    pub job_id: String,
    /// The task index.
    pub task: usize,
    /// `finished`, `failed`, `retried` or `cancelled`.
    pub outcome: &'static str,
    /// Slurm's state of the task when it was last seen (`COMPLETED`, `NODE_FAIL`, ...).
    pub state: String,
    /// Slurm's reason, when it gave one.
    pub reason: String,
}

/// What the Slurm executor reports to the store besides finished and failed runs.
#[derive(Debug)]
pub enum SlurmRecord<'a> {
    /// An array was submitted.
    Submitted(&'a Submission),
    /// A task ended.
    TaskEnded(&'a TaskEnd),
}

/// `DIR/slurm`.
pub fn slurm_dir(dir: &Path) -> PathBuf {
    dir.join(SLURM_DIR)
}

/// Refuses to go on when `sbatch` is not on PATH or the controller does not answer: nothing is
/// submitted then.
pub fn check_cluster() -> Result<()> {
    for tool in ["sbatch", "squeue", "scancel", "scontrol"] {
        if find_on_path(tool).is_none() {
            return Err(Error::invalid(format!(
                "--executor slurm: `{tool}` is not on PATH (run on a Slurm login node, or install \
                 Slurm's client commands); nothing submitted"
            )));
        }
    }
    let out = slurm_command("scontrol", &["ping"])?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() || !text.contains("is UP") {
        return Err(Error::invalid(format!(
            "--executor slurm: the Slurm controller does not answer (`scontrol ping`: {}); \
             nothing submitted",
            one_line(&text)
        )));
    }
    Ok(())
}

/// A warning when `dir` is on a filesystem that other nodes cannot see: a tmpfs, or under /tmp
/// or /dev/shm (each node has its own). `None` when it looks shared (lmlab cannot know more: a
/// local disk on a one-node cluster is fine).
pub fn unshared_warning(dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let node_local = ["/tmp", "/dev/shm", "/var/tmp", "/run"]
        .iter()
        .find(|p| dir.starts_with(p));
    let why = match node_local {
        Some(p) => format!("it is under {p}, which is each node's own"),
        None if is_tmpfs(&dir) => "it is on a tmpfs, in one node's memory".to_string(),
        None => return None,
    };
    Some(format!(
        "{}: {why}; the runs on other nodes write their results there, so put the experiment \
         folder on a filesystem every node sees (a home or project directory)",
        dir.display()
    ))
}

fn is_tmpfs(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    // statfs: std has no filesystem-type query.
    let ok = unsafe { libc::statfs(path.as_ptr(), &mut stat) } == 0;
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    ok && stat.f_type as i64 == TMPFS_MAGIC
}

/// Runs `pending` on the cluster until each has finished or failed (or the experiment is
/// cancelled, or this process is interrupted: tasks already submitted then go on, and a later
/// `status` or `run` ingests them). `on_done` gets each finished or failed run, each submission
/// and each task's end. Returns (finished, failed: id, arm, error).
pub fn run_pending(
    options: &SlurmOptions,
    dir: &Path,
    pending: Vec<PlannedRun>,
    events: &(dyn Fn(RunnerEvent) + Sync),
    on_done: &(dyn Fn(Outcome) -> Result<()> + Sync),
) -> Result<(usize, FailedRuns)> {
    check_cluster()?;
    if let Some(warning) = unshared_warning(dir) {
        events(RunnerEvent::Warning(&warning));
    }
    let folder = slurm_dir(dir);
    std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
    remove_if_present(&folder.join(CANCELLED_FILE))?;
    let (mut active, pending) = adopt_running(dir, pending, events)?;
    let mut to_submit: Vec<(PlannedRun, u32)> = pending.into_iter().map(|r| (r, 1)).collect();
    let (mut finished, mut failed) = (0usize, Vec::new());
    loop {
        if folder.join(CANCELLED_FILE).is_file() {
            for ((job_id, task), t) in std::mem::take(&mut active) {
                let reason = "cancelled by `lmlab experiment cancel`".to_string();
                let end = t.end(&job_id, task, "cancelled", "CANCELLED", &reason);
                on_done(Outcome::Slurm(SlurmRecord::TaskEnded(&end)))?;
                let failure = fail_run(dir, &t.run, &reason)?;
                events(RunnerEvent::Failed(&t.run, &failure.error));
                failed.push((t.run.id.clone(), t.run.arm.clone(), failure.error.clone()));
                on_done(Outcome::Failed(&failure))?;
            }
            for (run, _) in std::mem::take(&mut to_submit) {
                let failure = fail_run(dir, &run, "cancelled by `lmlab experiment cancel`")?;
                events(RunnerEvent::Failed(&run, &failure.error));
                failed.push((run.id.clone(), run.arm.clone(), failure.error.clone()));
                on_done(Outcome::Failed(&failure))?;
            }
            break;
        }
        if lmlab_core::interrupt::requested() {
            break;
        }
        for batch in batches(options, std::mem::take(&mut to_submit)) {
            let submission = submit(options, dir, &batch)?;
            on_done(Outcome::Slurm(SlurmRecord::Submitted(&submission)))?;
            events(RunnerEvent::Submitted(&submission));
            for (task, (run, attempt)) in batch.into_iter().enumerate() {
                events(RunnerEvent::Started(&run));
                let key = (submission.job_id.clone(), task);
                active.insert(key, Task::new(run, attempt));
            }
        }
        if active.is_empty() {
            break;
        }
        std::thread::sleep(options.poll);
        let jobs: Vec<&str> = active.keys().map(|(j, _)| j.as_str()).collect();
        let states = task_states(&jobs)?;
        // `cancel` leaves its marker before it cancels: tasks it cancelled are not retried.
        if folder.join(CANCELLED_FILE).is_file() {
            continue;
        }
        let keys: Vec<(String, usize)> = active.keys().cloned().collect();
        for key in keys {
            let t = active.get_mut(&key).expect("active");
            let seen = states.get(&key);
            let run_folder = run_dir(dir, &t.run.id);
            let state = seen.map_or(String::new(), |s| s.0.clone());
            let reason = seen.map_or(String::new(), |s| s.1.clone());
            if let Some(entry) = read_json::<RunEntry>(&run_folder.join(RUN_FILE))? {
                let t = active.remove(&key).expect("active");
                let shown = if state.is_empty() {
                    "COMPLETED"
                } else {
                    &state
                };
                let end = t.end(&key.0, key.1, "finished", shown, &reason);
                on_done(Outcome::Slurm(SlurmRecord::TaskEnded(&end)))?;
                events(RunnerEvent::Finished(&t.run, &entry));
                finished += 1;
                on_done(Outcome::Finished(&entry))?;
                continue;
            }
            match seen {
                Some((s, _)) if !is_terminal(s) => {
                    t.unseen = 0;
                    continue;
                }
                None => {
                    t.unseen += 1;
                    if t.unseen < LOST_AFTER_POLLS {
                        continue;
                    }
                }
                Some(_) => {}
            }
            let t = active.remove(&key).expect("active");
            let task_name = format!("{}_{}", key.0, key.1);
            let own_failure = read_json::<RunFailure>(&run_folder.join(FAILED_FILE))?;
            if let (Some(failure), true) = (
                own_failure,
                matches!(state.as_str(), "COMPLETED" | "FAILED"),
            ) {
                // The run failed by itself (an error it reported): the same inputs would fail
                // again, so it is not retried.
                let end = t.end(&key.0, key.1, "failed", &state, &failure.error);
                on_done(Outcome::Slurm(SlurmRecord::TaskEnded(&end)))?;
                events(RunnerEvent::Failed(&t.run, &failure.error));
                failed.push((t.run.id.clone(), t.run.arm.clone(), failure.error.clone()));
                on_done(Outcome::Failed(&failure))?;
                continue;
            }
            let why = if state.is_empty() {
                format!("Slurm task {task_name} is no longer known to Slurm and wrote no result")
            } else if reason.is_empty() || reason == "None" {
                format!("Slurm task {task_name} ended {state}")
            } else {
                format!("Slurm task {task_name} ended {state} (reason: {reason})")
            };
            let shown = if state.is_empty() { "UNKNOWN" } else { &state };
            if t.attempt <= options.retries {
                let end = t.end(&key.0, key.1, "retried", shown, &reason);
                on_done(Outcome::Slurm(SlurmRecord::TaskEnded(&end)))?;
                events(RunnerEvent::Retried(&t.run, &why));
                to_submit.push((t.run, t.attempt + 1));
            } else {
                let end = t.end(&key.0, key.1, "failed", shown, &reason);
                on_done(Outcome::Slurm(SlurmRecord::TaskEnded(&end)))?;
                let error = format!(
                    "{why}; attempt {} of {} (--retries {})",
                    t.attempt,
                    options.retries + 1,
                    options.retries
                );
                let failure = fail_run(dir, &t.run, &error)?;
                events(RunnerEvent::Failed(&t.run, &failure.error));
                failed.push((t.run.id.clone(), t.run.arm.clone(), failure.error.clone()));
                on_done(Outcome::Failed(&failure))?;
            }
        }
    }
    Ok((finished, failed))
}

/// The tasks of earlier submissions (of a coordinator that was stopped) that Slurm still runs or
/// queues, for runs of `pending`: waited for rather than submitted twice. Returns them and the
/// runs left to submit.
fn adopt_running(
    dir: &Path,
    pending: Vec<PlannedRun>,
    events: &(dyn Fn(RunnerEvent) + Sync),
) -> Result<(ActiveTasks, Vec<PlannedRun>)> {
    let mut active = BTreeMap::new();
    let earlier = submissions(dir)?;
    if earlier.is_empty() {
        return Ok((active, pending));
    }
    let jobs: Vec<&str> = earlier.iter().map(|s| s.job_id.as_str()).collect();
    let states = task_states(&jobs)?;
    let mut left = Vec::new();
    'runs: for run in pending {
        for s in &earlier {
            for (task, id) in s.runs.iter().enumerate() {
                let key = (s.job_id.clone(), task);
                let live = states.get(&key).is_some_and(|(st, _)| !is_terminal(st));
                if *id == run.id && live {
                    let attempt = s.attempts.get(task).copied().unwrap_or(1);
                    events(RunnerEvent::Started(&run));
                    active.insert(key, Task::new(run, attempt));
                    continue 'runs;
                }
            }
        }
        left.push(run);
    }
    Ok((active, left))
}

/// Failed runs: id, arm, error.
pub type FailedRuns = Vec<(String, String, String)>;

/// The tasks the coordinator waits for, by (job id, task index).
type ActiveTasks = BTreeMap<(String, usize), Task>;

/// A submitted task the coordinator waits for.
struct Task {
    run: PlannedRun,
    attempt: u32,
    /// Consecutive looks at which Slurm did not know the task.
    unseen: u32,
}

impl Task {
    fn new(run: PlannedRun, attempt: u32) -> Task {
        Task {
            run,
            attempt,
            unseen: 0,
        }
    }

    fn end(
        &self,
        job_id: &str,
        task: usize,
        outcome: &'static str,
        state: &str,
        reason: &str,
    ) -> TaskEnd {
        TaskEnd {
            job_id: job_id.to_string(),
            task,
            outcome,
            state: state.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Writes the run's `failed.json` (the coordinator's account of a task Slurm ended).
fn fail_run(dir: &Path, run: &PlannedRun, error: &str) -> Result<RunFailure> {
    let folder = run_dir(dir, &run.id);
    std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
    let failure = RunFailure {
        id: run.id.clone(),
        experiment: String::new(),
        arm: run.arm.clone(),
        recipe: run.recipe.clone(),
        error: error.to_string(),
        failed: utc_now(),
    };
    write_json(&folder.join(FAILED_FILE), &failure)?;
    Ok(failure)
}

/// Groups runs that ask for the same CPUs and time: one array each, in the order first met.
fn batches(options: &SlurmOptions, runs: Vec<(PlannedRun, u32)>) -> Vec<Vec<(PlannedRun, u32)>> {
    let mut groups: Vec<(u64, Vec<(PlannedRun, u32)>)> = Vec::new();
    for (run, attempt) in runs {
        let minutes = options.minutes(&run);
        match groups.iter_mut().find(|(m, _)| *m == minutes) {
            Some((_, group)) => group.push((run, attempt)),
            None => groups.push((minutes, vec![(run, attempt)])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// Writes the array's script and submits it with `sbatch --array`; Slurm's own message when it
/// refuses (an unknown partition, account, ...).
fn submit(options: &SlurmOptions, dir: &Path, batch: &[(PlannedRun, u32)]) -> Result<Submission> {
    let folder = slurm_dir(dir);
    let dir = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let number = std::fs::read_dir(&folder)
        .map_err(|e| Error::io(&folder, e))?
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("array-"))
        })
        .count();
    let script_path = folder.join(format!("array-{number}.sh"));
    let minutes = options.minutes(&batch[0].0);
    let ids: Vec<&str> = batch.iter().map(|(r, _)| r.id.as_str()).collect();
    write_bytes_atomically(&script_path, array_script(options, &dir, &ids).as_bytes())?;
    let mut args: Vec<String> = vec![
        "--parsable".into(),
        // lmlab retries itself (and records each attempt); Slurm's own requeue would hide them.
        "--no-requeue".into(),
        format!("--array=0-{}", batch.len() - 1),
        format!("--cpus-per-task={}", options.threads_per_run),
        format!("--time={minutes}"),
        format!(
            "--job-name=lmlab-{}",
            dir.file_name().unwrap_or_default().to_string_lossy()
        ),
        format!(
            "--output={}/%A_%a.out",
            folder.canonicalize().unwrap_or(folder.clone()).display()
        ),
    ];
    if let Some(p) = &options.partition {
        args.push(format!("--partition={p}"));
    }
    if let Some(a) = &options.account {
        args.push(format!("--account={a}"));
    }
    args.extend(options.sbatch_args.iter().cloned());
    args.push(script_path.to_string_lossy().into_owned());
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = slurm_ok("sbatch", &arg_refs, "sbatch refused the job array")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // --parsable prints "JOBID" or "JOBID;CLUSTER".
    let job_id = stdout.trim().split(';').next().unwrap_or("").to_string();
    if job_id.is_empty() || !job_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(format!(
            "sbatch printed no job id (stdout: {}, stderr: {})",
            one_line(&stdout),
            one_line(&String::from_utf8_lossy(&out.stderr))
        )));
    }
    let submission = Submission {
        job_id,
        runs: ids.iter().map(|s| s.to_string()).collect(),
        attempts: batch.iter().map(|(_, a)| *a).collect(),
        cpus: options.threads_per_run,
        minutes,
        submitted: utc_now(),
    };
    write_json(
        &folder.join(format!("job-{}.json", submission.job_id)),
        &submission,
    )?;
    Ok(submission)
}

/// The array's batch script: task i runs `run-one DIR ids[i]`.
fn array_script(options: &SlurmOptions, dir: &Path, ids: &[&str]) -> String {
    format!(
        "#!/bin/sh\n# Written by `lmlab experiment run --executor slurm`: task i runs run i.\n\
         set -- {}\nshift \"$SLURM_ARRAY_TASK_ID\"\n\
         export RAYON_NUM_THREADS={}\nexec {} experiment run-one {} \"$1\"\n",
        ids.join(" "),
        options.threads_per_run,
        shell_quote(&options.exe.to_string_lossy()),
        shell_quote(&dir.to_string_lossy()),
    )
}

/// `text` in single quotes for sh.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The state and reason of every task of `jobs` that Slurm still knows: from `sacct` when the
/// cluster keeps accounting, else from `squeue --states=all`.
fn task_states(jobs: &[&str]) -> Result<HashMap<(String, usize), (String, String)>> {
    let mut unique: Vec<&str> = jobs.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let list = unique.join(",");
    let mut states = HashMap::new();
    if let Ok(out) = slurm_command(
        "sacct",
        &["-n", "-P", "-X", "-j", &list, "-o", "JobID,State,Reason"],
    ) {
        if out.status.success() {
            parse_states(&String::from_utf8_lossy(&out.stdout), &mut states);
        }
    }
    let out = slurm_command(
        "squeue",
        &["-h", "-r", "--states=all", "-j", &list, "-o", "%i|%T|%r"],
    )?;
    // squeue exits non-zero when none of the jobs is known any more; that is an empty answer.
    // What it knows is newer than sacct's records.
    parse_states(&String::from_utf8_lossy(&out.stdout), &mut states);
    Ok(states)
}

/// Parses `JOB_TASK|STATE|REASON` lines (sacct's `CANCELLED by 0` is taken as `CANCELLED`;
/// lines of job steps and of whole arrays, `JOB_[0-3]`, are skipped: their tasks have no state
/// of their own yet).
fn parse_states(text: &str, states: &mut HashMap<(String, usize), (String, String)>) {
    for line in text.lines() {
        let mut fields = line.split('|');
        let (Some(id), Some(state)) = (fields.next(), fields.next()) else {
            continue;
        };
        let reason = fields.next().unwrap_or("").trim().to_string();
        let Some((job, task)) = id.trim().split_once('_') else {
            continue;
        };
        let Ok(task) = task.parse::<usize>() else {
            continue;
        };
        let state = state.split_whitespace().next().unwrap_or("").to_string();
        states.insert((job.to_string(), task), (state, reason));
    }
}

/// True for the states of a task that has ended.
fn is_terminal(state: &str) -> bool {
    !matches!(
        state,
        "PENDING"
            | "CONFIGURING"
            | "RUNNING"
            | "COMPLETING"
            | "SUSPENDED"
            | "REQUEUED"
            | "REQUEUE_HOLD"
            | "REQUEUE_FED"
            | "RESIZING"
            | "SIGNALING"
            | "STAGE_OUT"
            | "STOPPED"
            | "RESV_DEL_HOLD"
    )
}

/// `lmlab experiment cancel DIR`: marks the experiment cancelled (a coordinator still running
/// records its remaining runs as failed and stops) and cancels every job array it submitted.
/// Returns the job ids passed to `scancel`.
pub fn cancel(dir: &Path) -> Result<Vec<String>> {
    let folder = slurm_dir(dir);
    let submissions = submissions(dir)?;
    if submissions.is_empty() {
        return Err(Error::invalid(format!(
            "{}: no Slurm jobs were submitted for this experiment folder (nothing to cancel)",
            dir.display()
        )));
    }
    write_bytes_atomically(&folder.join(CANCELLED_FILE), utc_now().as_bytes())?;
    let ids: Vec<String> = submissions.into_iter().map(|s| s.job_id).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    slurm_ok("scancel", &refs, "scancel failed")?;
    Ok(ids)
}

/// Every submission recorded in `DIR/slurm`, in job-id order.
pub fn submissions(dir: &Path) -> Result<Vec<Submission>> {
    let folder = slurm_dir(dir);
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&folder) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(&folder, e)),
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("job-") && name.ends_with(".json") {
            if let Some(s) = read_json::<Submission>(&entry.path())? {
                out.push(s);
            }
        }
    }
    out.sort_by_key(|s| s.job_id.parse::<u64>().unwrap_or(u64::MAX));
    Ok(out)
}

/// Runs a Slurm command; an error names the command when it cannot be started.
fn slurm_command(tool: &str, args: &[&str]) -> Result<std::process::Output> {
    Command::new(tool)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::invalid(format!("could not run `{tool}`: {e}")))
}

/// Runs a Slurm command that must succeed; otherwise `what`, then its stderr on one line (Slurm's
/// own message: an unknown partition, account, ...).
fn slurm_ok(tool: &str, args: &[&str], what: &str) -> Result<std::process::Output> {
    let out = slurm_command(tool, args)?;
    if !out.status.success() {
        return Err(Error::invalid(format!(
            "{what}: {}",
            one_line(&String::from_utf8_lossy(&out.stderr))
        )));
    }
    Ok(out)
}

fn find_on_path(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|p| p.join(tool))
        .find(|p| p.is_file())
}

fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        "no message".to_string()
    } else {
        lines.join("; ")
    }
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let json = serde_json::to_vec_pretty(value).expect("serializes");
    write_bytes_atomically(path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_of_sacct_and_squeue_lines() {
        let mut states = HashMap::new();
        parse_states(
            "12_0|COMPLETED|None\n12_1|CANCELLED by 0|None\n12_[2-3]|PENDING|Resources\n\
             13_4|NODE_FAIL|NodeDown\n13.batch|COMPLETED|\n",
            &mut states,
        );
        assert_eq!(states.len(), 3);
        assert_eq!(states[&("12".into(), 1)].0, "CANCELLED");
        assert_eq!(
            states[&("13".into(), 4)],
            ("NODE_FAIL".into(), "NodeDown".into())
        );
        assert!(is_terminal("NODE_FAIL") && is_terminal("TIMEOUT"));
        assert!(!is_terminal("RUNNING") && !is_terminal("PENDING"));
    }

    #[test]
    fn a_quote_in_a_path_stays_quoted() {
        assert_eq!(shell_quote("/a b/it's"), "'/a b/it'\\''s'");
    }

    #[test]
    fn folders_under_tmp_are_warned_and_others_are_not() {
        let warning = unshared_warning(Path::new("/tmp/x/y")).unwrap();
        assert!(warning.contains("under /tmp"), "{warning}");
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        if !here.starts_with("/tmp") && !is_tmpfs(here) {
            assert!(unshared_warning(here).is_none());
        }
    }
}
