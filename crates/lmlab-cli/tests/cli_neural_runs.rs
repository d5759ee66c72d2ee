//! Neural runs a user can trust with their time: budgets that hold, everything included; runs that
//! are not overwritten, not resumed on other data, and not lost to Ctrl-C; a learning curve.

mod common;
use common::{fails, lmlab, ok, s, texts, TinyNet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A small transformer over bytes whose validation (`eval_iters` batches) is dear next to a step,
/// as in nanoGPT's recipes: a budget checked only before each step overshoots by the validation.
fn config(dir: &Path, max_steps: usize, eval_iters: usize) -> PathBuf {
    TinyNet {
        arch: "transformer",
        n_layer: 2,
        n_head: 2,
        n_embd: 64,
        block_size: 32,
        batch_size: 8,
        max_steps,
        eval_interval: 0,
        eval_iters,
        checkpoint_interval: 0,
    }
    .write(dir.join(format!("t{max_steps}-{eval_iters}.toml")))
}

fn train_args<'a>(cfg: &'a Path, train: &'a Path, valid: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "train",
        "transformer",
        "--config",
        s(cfg),
        "--train",
        s(train),
        "--valid",
        s(valid),
        "-o",
        s(out),
    ]
}

/// Runs lmlab and returns (exit status, stdout, CPU seconds of that process: user + system).
// The child is reaped by wait4, which also gives its resource usage.
#[allow(clippy::zombie_processes)]
fn run_measured(args: &[&str]) -> (std::process::ExitStatus, String, f64) {
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lmlab"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut text).unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for this one child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
    (
        std::os::unix::process::ExitStatusExt::from_raw(status),
        text,
        cpu,
    )
}

#[test]
fn a_budget_holds_everything_included() {
    let dir = tempfile::tempdir().unwrap();
    let (train, valid) = texts(dir.path());
    let cfg = config(dir.path(), 1_000_000, 1500);
    for budget in [2.0f64, 4.0] {
        let out = dir.path().join(format!("run-{budget}"));
        let budget_arg = budget.to_string();
        let mut args = train_args(&cfg, &train, &valid, &out);
        args.extend(["--budget", &budget_arg, "--json"]);
        let (status, stdout, cpu) = run_measured(&args);
        assert!(status.success(), "{stdout}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["stop"], "budget");
        let tolerance = (0.05 * budget).max(0.5);
        // The whole process, start to exit: within 5% (or 0.5 s) of the budget.
        assert!(
            (cpu - budget).abs() <= tolerance,
            "budget {budget}: the process spent {cpu:.3} CPU-s ({report})"
        );
        assert!(report["steps"].as_u64().unwrap() > 0, "{report}");
        // The final validation was cut to what the budget allowed, and says so.
        let batches = report["val_batches"].as_u64().unwrap();
        assert!((1..1500).contains(&batches), "{report}");
    }
}

#[test]
fn a_run_directory_is_not_overwritten_nor_resumed_on_other_data() {
    let dir = tempfile::tempdir().unwrap();
    let (train, valid) = texts(dir.path());
    let cfg = config(dir.path(), 6, 2);
    let out = dir.path().join("run");
    let args = train_args(&cfg, &train, &valid, &out);
    ok(&args);
    let checkpoint = std::fs::read(out.join("checkpoint.safetensors")).unwrap();
    // Again without --resume: refused, naming both ways on; the checkpoint is untouched.
    let msg = fails(&args);
    assert!(
        msg.contains("--resume") && msg.contains("--force") && msg.contains("step 6"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(out.join("checkpoint.safetensors")).unwrap(),
        checkpoint
    );
    // --force starts afresh: same inputs, same checkpoint bytes.
    let mut forced = args.clone();
    forced.push("--force");
    ok(&forced);
    assert_eq!(
        std::fs::read(out.join("checkpoint.safetensors")).unwrap(),
        checkpoint
    );
    // --resume on another training text is refused, naming both hashes.
    let other = dir.path().join("other.txt");
    std::fs::write(&other, "something else entirely\n".repeat(50)).unwrap();
    let mut resumed = train_args(&cfg, &other, &valid, &out);
    resumed.push("--resume");
    let msg = fails(&resumed);
    let hash = |p: &Path| lmlab_core::hashing::sha256_hex(&std::fs::read(p).unwrap());
    assert!(
        msg.contains("training text differs")
            && msg.contains(&hash(&train))
            && msg.contains(&hash(&other)),
        "{msg}"
    );
}

#[test]
fn every_run_keeps_a_learning_curve() {
    let dir = tempfile::tempdir().unwrap();
    let (train, valid) = texts(dir.path());
    let cfg = config(dir.path(), 6, 2);
    let out = dir.path().join("run");
    ok(&train_args(&cfg, &train, &valid, &out));
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let steps: Vec<u64> = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == "step")
        .map(|v| v["step"].as_u64().unwrap())
        .collect();
    // Six steps: short runs log every step (at least twenty points a run).
    assert_eq!(steps, vec![1, 2, 3, 4, 5, 6]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["train_history"].as_array().unwrap().len(), 6);
    // Without a terminal the progress is printed as lines.
    let out2 = dir.path().join("run2");
    let output = lmlab()
        .args(train_args(&cfg, &train, &valid, &out2))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("step 6/6: loss"), "{stderr}");
}

#[test]
fn ctrl_c_finishes_the_step_writes_a_checkpoint_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let (train, valid) = texts(dir.path());
    let cfg = config(dir.path(), 1_000_000, 2);
    let out = dir.path().join("run");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lmlab"))
        .args(train_args(&cfg, &train, &valid, &out))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until training is under way (a step is logged), then interrupt.
    let started = Instant::now();
    let metrics = out.join("metrics.jsonl");
    while !std::fs::read_to_string(&metrics).is_ok_and(|m| m.contains("\"step\"")) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no step logged"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("--resume") && stderr.contains("checkpoint written"),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["stop"], "interrupted");
    let step = report["steps"].as_u64().unwrap();
    assert!(step >= 1);
    // The checkpoint holds that step: resuming continues from it.
    let until = (step + 2).to_string();
    let mut resumed = train_args(&cfg, &train, &valid, &out);
    resumed.extend(["--resume", "--stop-after", &until, "--json"]);
    let report: serde_json::Value = serde_json::from_str(&ok(&resumed)).unwrap();
    assert_eq!(report["steps"].as_u64().unwrap(), step + 2);
    assert_eq!(report["stop"], "paused");
}

#[test]
fn an_exported_run_is_a_model_file_every_command_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (train, valid) = texts(dir.path());
    let cfg = config(dir.path(), 6, 2);
    let out = dir.path().join("run");
    ok(&train_args(&cfg, &train, &valid, &out));
    let file = dir.path().join("run.lmlab");
    let exported: serde_json::Value =
        serde_json::from_str(&ok(&["export", s(&out), "-o", s(&file), "--json"])).unwrap();
    assert_eq!(exported["step"], 6);
    // Without the optimizer's two moments the file is about a third of the checkpoint.
    let (model_bytes, ckpt_bytes) = (
        exported["model_bytes"].as_u64().unwrap(),
        exported["checkpoint_bytes"].as_u64().unwrap(),
    );
    assert!(model_bytes * 2 < ckpt_bytes, "{exported}");
    // The same model: the same scores to the bit, the same samples.
    let eval = |m: &Path| {
        let v: serde_json::Value =
            serde_json::from_str(&ok(&["eval", s(m), "--input", s(&valid), "--json"])).unwrap();
        v["log_prob_sum"].clone()
    };
    assert_eq!(eval(&out), eval(&file));
    let gen = |m: &Path| ok(&["generate", s(m), "--seed", "4", "--max-tokens", "20"]);
    assert_eq!(gen(&out), gen(&file));
    let info = ok(&["info", s(&file)]);
    assert!(
        info.contains("transformer") && info.contains("step 6"),
        "{info}"
    );
    ok(&["predict", s(&file), "--context", "the"]);
    // Same run, same bytes.
    let again = dir.path().join("again.lmlab");
    ok(&["export", s(&out), "-o", s(&again)]);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(&again).unwrap()
    );
    // A model file or a plain directory is not a run.
    let msg = fails(&["export", s(&file), "-o", s(&again)]);
    assert!(msg.contains("not a neural run directory"), "{msg}");
    let msg = fails(&["export", s(dir.path()), "-o", s(&again)]);
    assert!(msg.contains("not a neural run directory"), "{msg}");
}
