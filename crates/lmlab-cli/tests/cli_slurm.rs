//! `lmlab experiment run --executor slurm` against a real Slurm: a one-node cluster on this
//! machine (bench/slurm_local.sh: Debian's slurmctld, slurmd and munge; needs root). The tests
//! skip with a message where those are missing, and fail instead when `LMLAB_SLURM=1` (as in
//! .ci/run). Every cluster a test starts is stopped, by PID, when the test ends, pass or fail.
//! The tests take turns (one lock): they share two CPUs and time the tasks they kill.

mod common;

use common::s;
use lmlab_lab::experiment::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A one-node cluster, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts one, or says why not: `None` when Slurm or root is missing (a failure under
    /// `LMLAB_SLURM=1`).
    fn start() -> Option<Cluster> {
        let missing: Vec<&str> = [
            "sbatch",
            "squeue",
            "scontrol",
            "slurmctld",
            "slurmd",
            "munged",
        ]
        .into_iter()
        .filter(|tool| !on_path(tool))
        .collect();
        let root = unsafe { libc::geteuid() } == 0;
        if !missing.is_empty() || !root {
            let why = if missing.is_empty() {
                "the local Slurm daemons need root".to_string()
            } else {
                format!(
                    "{} not installed (apt-get install slurmctld slurmd slurm-client munge)",
                    missing.join(", ")
                )
            };
            assert!(
                std::env::var("LMLAB_SLURM").as_deref() != Ok("1"),
                "LMLAB_SLURM=1 but {why}"
            );
            lmlab_core::test_support::report_skip(&why);
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        // Ports of our own per cluster: two helpers' tests must not meet on one controller.
        let n = NEXT_PORT.fetch_add(2, Ordering::SeqCst);
        let port = 20000 + (std::process::id() % 2000) as u16 * 10 + n;
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .env("SLURM_LOCAL_PORT", port.to_string())
            .output()
            .unwrap();
        let cluster = Cluster { dir };
        assert!(
            out.status.success(),
            "bench/slurm_local.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(cluster)
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("slurm.conf")
    }

    /// A Slurm command against this cluster.
    fn slurm(&self, tool: &str, args: &[&str]) -> String {
        let out = Command::new(tool)
            .args(args)
            .env("SLURM_CONF", self.conf())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `lmlab args...` with this cluster's configuration.
    fn lmlab(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lmlab"));
        command.args(args).env("SLURM_CONF", self.conf());
        command
    }

    /// Returns the node to service (slurmd may already have brought it back: ReturnToService=2)
    /// and waits until it takes jobs.
    fn bring_node_back(&self) {
        let start = Instant::now();
        loop {
            let _ = Command::new("scontrol")
                .args(["update", "NodeName=localhost", "State=RESUME"])
                .env("SLURM_CONF", self.conf())
                .output();
            let state = self.slurm("sinfo", &["-h", "-N", "-o", "%T"]);
            if ["idle", "mixed", "allocated"].contains(&state.trim()) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "node stays {state}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The task `JOB_TASK` of the experiment in `out` running (Slurm's state RUNNING) one of
    /// `runs`, once there is one.
    fn running_task(&self, out: &Path, runs: &[String]) -> String {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(120) {
            let tasks = submitted_tasks(out);
            let states = Command::new("squeue")
                .args(["-h", "-r", "--states=RUNNING", "-o", "%i"])
                .env("SLURM_CONF", self.conf())
                .output()
                .unwrap();
            for line in String::from_utf8_lossy(&states.stdout).lines() {
                if let Some((_, run)) = tasks.iter().find(|(t, _)| t == line.trim()) {
                    if runs.contains(run) {
                        return line.trim().to_string();
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no task of {runs:?} ran within 120 s");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/slurm_local.sh")
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// `(JOB_TASK, run id)` of every task submitted for the experiment in `out`.
fn submitted_tasks(out: &Path) -> Vec<(String, String)> {
    let mut tasks = Vec::new();
    let Ok(entries) = std::fs::read_dir(out.join("slurm")) else {
        return tasks;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("job-") && name.ends_with(".json") {
            let job: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for (i, run) in job["runs"].as_array().unwrap().iter().enumerate() {
                let id = format!("{}_{i}", job["job_id"].as_str().unwrap());
                tasks.push((id, run.as_str().unwrap().to_string()));
            }
        }
    }
    tasks
}

/// Data and an experiment file in `dir`: a bigram and a trigram over bytes, and a tiny
/// transformer of `steps` steps (within a budget of `budget` CPU seconds) for each of `seeds`.
fn experiment(dir: &Path, steps: usize, budget: u32, seeds: &str, count_based: bool) -> PathBuf {
    common::cat_splits(dir);
    let counted = r#"
[[arm]]
name = "kn"
recipe = { model = { family = "ngram", order = 3, discount_fallback = [0.5, 1.0, 1.5] }, tokenizer = { kind = "bytes" } }
[[arm]]
name = "bigram"
recipe = { model = { family = "baseline" }, tokenizer = { kind = "bytes" } }
"#;
    let text = format!(
        r#"name = "slurm"
hypothesis = "a trigram over bytes beats a bigram"
budgets = [{budget}]
seeds = {seeds}
[data]
train = "train.txt"
valid = "valid.txt"
test = "test.txt"
{}
[[arm]]
name = "tiny"
[arm.recipe]
tokenizer = {{ kind = "bytes" }}
model = {{ family = "transformer", n_layer = 1, n_head = 2, n_embd = 16, block_size = 16 }}
train = {{ batch_size = 4, max_steps = {steps}, learning_rate = 3e-3, min_lr = 3e-4, eval_iters = 2 }}
"#,
        if count_based { counted } else { "" }
    );
    let path = dir.join("exp.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The ids of the planned runs of `arm` (from `--plan --json`).
fn run_ids(cluster: &Cluster, exp: &Path, out: &Path, arm: &str) -> Vec<String> {
    let plan = cluster
        .lmlab(&[
            "experiment",
            "run",
            s(exp),
            "--out",
            s(out),
            "--plan",
            "--json",
        ])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["run"]["arm"] == arm)
        .map(|r| r["run"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// Starts `lmlab experiment run --executor slurm` in the background.
fn spawn_slurm_run(cluster: &Cluster, exp: &Path, out: &Path, extra: &[&str]) -> Child {
    let mut args = vec![
        "experiment",
        "run",
        s(exp),
        "--out",
        s(out),
        "--executor",
        "slurm",
        "--poll-seconds",
        "0.2",
    ];
    args.extend_from_slice(extra);
    cluster
        .lmlab(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file of the runs except those that hold timings (run.json, and a neural run's compute,
/// metrics and report files), with its bytes.
fn run_files(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![out.join("runs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if !["run.json", "compute.json", "metrics.jsonl", "report.json"]
                .contains(&name.as_str())
            {
                let rel = path.strip_prefix(out).unwrap().display().to_string();
                files.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// A run's final evaluations: (split, metric, value).
type Evaluations = Vec<(String, String, f64)>;

/// The final evaluations of every run in the store, by run.
fn store_numbers(out: &Path) -> Vec<(String, Evaluations)> {
    let store = Store::open(out).unwrap();
    store
        .run_numbers()
        .unwrap()
        .into_iter()
        .map(|mut r| {
            r.metrics.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            (r.id, r.metrics)
        })
        .collect()
}

#[test]
fn slurm_runs_match_the_local_runs_and_a_cancelled_task_is_retried() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // 3,000 steps: a tiny run long enough (about a second) that the task seen running is still
    // running when it is cancelled (with 600 steps it once finished first, and nothing was retried).
    let exp = experiment(work.path(), 3000, 120, "[1, 2]", true);
    let local = work.path().join("local");
    let out = work.path().join("slurm");
    let tiny = run_ids(&cluster, &exp, &out, "tiny");
    assert_eq!(tiny.len(), 2);

    let child = spawn_slurm_run(&cluster, &exp, &out, &["--retries", "1"]);
    let killed = cluster.running_task(&out, &tiny);
    cluster.slurm("scancel", &[&killed]);
    let done = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&done);
    assert!(done.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("4 runs, 4 finished now, 0 already finished, 0 failed"),
        "{stdout}"
    );
    // The experiment folder is under /tmp: warned, as other nodes would not see it.
    assert!(
        stderr.contains("warning:") && stderr.contains("under /tmp"),
        "{stderr}"
    );
    assert!(
        stderr.contains("submitted again: Slurm task") && stderr.contains("ended CANCELLED"),
        "{stderr}"
    );

    // The store knows every task's job id; the cancelled one was retried and its second
    // attempt finished.
    let tasks = Store::open(&out).unwrap().slurm_tasks().unwrap();
    let (job, task) = killed.split_once('_').unwrap();
    let cancelled = tasks
        .iter()
        .find(|t| t.job_id == job && t.task.to_string() == task)
        .unwrap();
    assert_eq!(cancelled.outcome.as_deref(), Some("retried"));
    assert_eq!(cancelled.state.as_deref(), Some("CANCELLED"));
    let second = tasks
        .iter()
        .find(|t| t.run_id == cancelled.run_id && t.attempt == 2)
        .unwrap();
    assert_eq!(second.outcome.as_deref(), Some("finished"));
    let finished: std::collections::BTreeSet<&str> = tasks
        .iter()
        .filter(|t| t.outcome.as_deref() == Some("finished"))
        .map(|t| t.run_id.as_str())
        .collect();
    assert_eq!(finished.len(), 4, "{tasks:?}");

    // The same results as the local executor: the same bytes of every model and probability
    // file (the transformer stops at its step count, so it is deterministic too), the same
    // numbers in the store.
    let local_run = Command::new(env!("CARGO_BIN_EXE_lmlab"))
        .args([
            "experiment",
            "run",
            s(&exp),
            "--out",
            s(&local),
            "--jobs",
            "2",
        ])
        .output()
        .unwrap();
    assert!(local_run.status.success(), "{:?}", text(&local_run));
    let (slurm_files, local_files) = (run_files(&out), run_files(&local));
    assert!(slurm_files.len() >= 4 * 3, "{}", slurm_files.len());
    assert_eq!(
        slurm_files.iter().map(|f| &f.0).collect::<Vec<_>>(),
        local_files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for (a, b) in slurm_files.iter().zip(&local_files) {
        assert!(a.1 == b.1, "{} differs between Slurm and local", a.0);
    }
    assert_eq!(store_numbers(&out), store_numbers(&local));

    // `status` (what a user who logged out runs) sees the same.
    let status = cluster
        .lmlab(&["experiment", "status", s(&out)])
        .output()
        .unwrap();
    assert!(
        text(&status).0.contains("4 finished, 0 failed, 0 pending"),
        "{:?}",
        text(&status)
    );
}

#[test]
fn a_run_whose_node_died_is_retried_then_failed_with_slurms_reason() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // One run that would go on for a minute: its node dies under it, twice.
    let exp = experiment(work.path(), 1_000_000, 60, "[1]", false);
    let out = work.path().join("out");
    let tiny = run_ids(&cluster, &exp, &out, "tiny");
    let mut child = spawn_slurm_run(&cluster, &exp, &out, &["--retries", "1"]);
    let mut killed = Vec::new();
    for attempt in 1..=2 {
        let task = cluster.running_task(&out, &tiny);
        assert!(!killed.contains(&task), "attempt {attempt} reran {task}");
        cluster.slurm(
            "scontrol",
            &[
                "update",
                "NodeName=localhost",
                "State=DOWN",
                "Reason=lmlab-test",
            ],
        );
        // The coordinator sees the task end, then submits it again (or gives up).
        let start = Instant::now();
        while submitted_tasks(&out).len() < attempt + 1 && attempt == 1 {
            assert!(start.elapsed() < Duration::from_secs(60), "no resubmission");
            std::thread::sleep(Duration::from_millis(100));
        }
        if attempt == 2 {
            let start = Instant::now();
            while child.try_wait().unwrap().is_none() {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "coordinator hangs"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        cluster.bring_node_back();
        killed.push(task);
    }
    let done = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&done);
    assert_eq!(done.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ended NODE_FAIL (reason: NodeDown); attempt 2 of 2 (--retries 1)"),
        "{stdout}"
    );
    let failed =
        std::fs::read_to_string(out.join("runs").join(&tiny[0]).join("failed.json")).unwrap();
    assert!(failed.contains("NODE_FAIL"), "{failed}");
    let tasks = Store::open(&out).unwrap().slurm_tasks().unwrap();
    let outcomes: Vec<(Option<&str>, Option<&str>)> = tasks
        .iter()
        .map(|t| (t.outcome.as_deref(), t.state.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Some("retried"), Some("NODE_FAIL")),
            (Some("failed"), Some("NODE_FAIL"))
        ]
    );
    assert_eq!(
        Store::open(&out).unwrap().failures().unwrap()[0].error,
        failed_error(&out, &tiny[0])
    );
}

fn failed_error(out: &Path, id: &str) -> String {
    let text = std::fs::read_to_string(out.join("runs").join(id).join("failed.json")).unwrap();
    let failure: serde_json::Value = serde_json::from_str(&text).unwrap();
    failure["error"].as_str().unwrap().to_string()
}

#[test]
fn cancel_stops_the_experiment_and_its_jobs() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let exp = experiment(work.path(), 1_000_000, 60, "[1, 2]", false);
    let out = work.path().join("out");
    let tiny = run_ids(&cluster, &exp, &out, "tiny");
    let child = spawn_slurm_run(&cluster, &exp, &out, &[]);
    let running = cluster.running_task(&out, &tiny);
    let cancel = cluster
        .lmlab(&["experiment", "cancel", s(&out)])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&cancel);
    let job = running.split_once('_').unwrap().0;
    assert!(
        cancel.status.success() && stdout.contains(&format!("cancelled Slurm job arrays {job}")),
        "{stdout}\n{stderr}"
    );
    let done = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&done);
    assert_eq!(done.status.code(), Some(2), "{stdout}\n{stderr}");
    assert_eq!(
        stdout
            .matches("cancelled by `lmlab experiment cancel`")
            .count(),
        2,
        "{stdout}"
    );
    // Slurm ended the tasks (no retry: nothing new was submitted).
    assert_eq!(submitted_tasks(&out).len(), 2);
    // (A cancelled task passes through COMPLETING while its node cleans up.)
    let start = Instant::now();
    loop {
        let states = cluster.slurm(
            "squeue",
            &["-h", "-r", "--states=all", "-j", job, "-o", "%T"],
        );
        if states.lines().all(|l| l.trim() == "CANCELLED") {
            break;
        }
        assert!(
            states
                .lines()
                .all(|l| ["CANCELLED", "COMPLETING"].contains(&l.trim()))
                && start.elapsed() < Duration::from_secs(60),
            "{states}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs `lmlab experiment run --executor slurm EXTRA` on a one-run experiment in `work`, with the
/// environment `env` sets; expects a clean refusal (exit 1). Returns the experiment folder and
/// the stderr.
fn refused_run(work: &Path, env: impl FnOnce(&mut Command), extra: &[&str]) -> (PathBuf, String) {
    let exp = experiment(work, 10, 60, "[1]", false);
    let out = work.join("out");
    let mut command = Command::new(env!("CARGO_BIN_EXE_lmlab"));
    command.args([
        "experiment",
        "run",
        s(&exp),
        "--out",
        s(&out),
        "--executor",
        "slurm",
    ]);
    command.args(extra);
    env(&mut command);
    let run = command.output().unwrap();
    let (_, stderr) = text(&run);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out, stderr)
}

#[test]
fn an_unknown_partition_passes_slurms_message_on_and_submits_nothing() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let (out, stderr) = refused_run(
        work.path(),
        |c| {
            c.env("SLURM_CONF", cluster.conf());
        },
        &["--partition", "nosuchpartition"],
    );
    assert!(
        stderr.contains("sbatch refused the job array")
            && stderr.contains("invalid partition specified: nosuchpartition"),
        "{stderr}"
    );
    assert!(submitted_tasks(&out).is_empty());
}

#[test]
fn a_controller_that_does_not_answer_is_an_error_and_nothing_is_submitted() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::start() else {
        return;
    };
    // The cluster's configuration, its daemons stopped.
    let stopped = Command::new("bash")
        .arg(script())
        .arg("stop")
        .arg(cluster.dir.path())
        .status()
        .unwrap();
    assert!(stopped.success());
    let work = tempfile::tempdir().unwrap();
    let (out, stderr) = refused_run(
        work.path(),
        |c| {
            c.env("SLURM_CONF", cluster.conf());
        },
        &[],
    );
    assert!(
        stderr.contains("the Slurm controller does not answer")
            && stderr.contains("is DOWN")
            && stderr.contains("nothing submitted"),
        "{stderr}"
    );
    assert!(!out.join("slurm").exists());
}

#[test]
fn without_sbatch_on_path_nothing_is_submitted() {
    // Needs no Slurm: runs everywhere.
    let work = tempfile::tempdir().unwrap();
    let empty = work.path().join("bin");
    std::fs::create_dir(&empty).unwrap();
    let (out, stderr) = refused_run(
        work.path(),
        |c| {
            c.env("PATH", &empty);
        },
        &[],
    );
    assert!(
        stderr.contains("`sbatch` is not on PATH") && stderr.contains("nothing submitted"),
        "{stderr}"
    );
    assert!(!out.join("slurm").exists());
    // Cancelling an experiment that never went to Slurm says so.
    let cancel = Command::new(env!("CARGO_BIN_EXE_lmlab"))
        .args(["experiment", "cancel", s(&out)])
        .output()
        .unwrap();
    assert_eq!(cancel.status.code(), Some(1));
    assert!(
        text(&cancel).1.contains("no Slurm jobs were submitted"),
        "{:?}",
        text(&cancel)
    );
    // Slurm's flags without the Slurm executor are refused.
    let exp = work.path().join("exp.toml");
    let local = Command::new(env!("CARGO_BIN_EXE_lmlab"))
        .args([
            "experiment",
            "run",
            s(&exp),
            "--out",
            s(&out),
            "--partition",
            "p",
        ])
        .output()
        .unwrap();
    assert!(
        text(&local).1.contains("need --executor slurm"),
        "{:?}",
        text(&local)
    );
}
