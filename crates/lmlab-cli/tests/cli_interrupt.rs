//! Interrupted or crashed n-gram builds leave no temporary files: Ctrl-C removes the half-written
//! model (`.lmlab-tmp-<pid>-<n>` beside the output) and the count spill folder
//! (`lmlab-ngram-<pid>-<n>` under `--temp`) and exits 130; the ones a killed process could not
//! remove are removed by the next build once their process is gone.
#![cfg(target_os = "linux")]

mod common;
use common::{ok, s};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A pid no process has (past Linux's largest, 4,194,304).
const DEAD_PID: u32 = 999_999_999;

/// LCG-drawn words over 20,000 types, `lines` lines: large enough to count for seconds.
fn varied_text(lines: usize) -> String {
    let mut state: u64 = 11;
    let mut text = String::new();
    for line in 0..lines {
        for _ in 0..(5 + line % 9) {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push_str(&format!("w{} ", (state >> 33) % 20_000));
        }
        text.push('\n');
    }
    text
}

/// Entries of `dir` whose names start with one of lmlab's temporary prefixes.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(".lmlab-tmp-") || name.starts_with("lmlab-ngram-")
        })
        .collect()
}

/// `train ngram` arguments spilling counts to `temp` (1 KiB of counting memory).
fn train_args<'a>(input: &'a Path, temp: &'a Path, model: &'a Path) -> Vec<&'a str> {
    vec![
        "train",
        "ngram",
        "--order",
        "5",
        "--discount-fallback",
        "--memory",
        "1K",
        "--temp",
        s(temp),
        "--input",
        s(input),
        "-o",
        s(model),
    ]
}

#[test]
fn ctrl_c_during_train_ngram_exits_130_and_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("train.txt");
    std::fs::write(&input, varied_text(150_000)).unwrap();
    let (out_dir, temp) = (dir.path().join("out"), dir.path().join("spill"));
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::create_dir(&temp).unwrap();
    let model = out_dir.join("m.lmlab");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("lmlab"))
        .args(train_args(&input, &temp, &model))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the build has temporary files to lose, then interrupt it.
    let started = Instant::now();
    while temporaries(&temp).is_empty() && temporaries(&out_dir).is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the build ended before it could be interrupted; make the corpus larger"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no temporary files appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: sends SIGINT to the child this test started.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted; temporary files removed"),
        "{stderr}"
    );
    assert!(!model.exists(), "a model was written");
    assert_eq!(temporaries(&temp), Vec::<PathBuf>::new());
    assert_eq!(temporaries(&out_dir), Vec::<PathBuf>::new());
}

#[test]
fn a_later_build_removes_the_temporary_files_of_dead_processes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("train.txt");
    std::fs::write(&input, varied_text(200)).unwrap();
    let temp = dir.path().join("spill");
    std::fs::create_dir(&temp).unwrap();
    let stale_file = dir.path().join(format!(".lmlab-tmp-{DEAD_PID}-0"));
    let stale_dir = temp.join(format!("lmlab-ngram-{DEAD_PID}-3"));
    std::fs::write(&stale_file, vec![0u8; 4096]).unwrap();
    std::fs::create_dir(&stale_dir).unwrap();
    std::fs::write(stale_dir.join("counts"), b"x").unwrap();
    // This test process is alive: its entry is not stale and stays.
    let live = dir
        .path()
        .join(format!(".lmlab-tmp-{}-0", std::process::id()));
    std::fs::write(&live, b"x").unwrap();
    let model = dir.path().join("m.lmlab");
    ok(&train_args(&input, &temp, &model));
    assert!(model.exists());
    assert!(!stale_file.exists() && !stale_dir.exists());
    assert!(live.exists());
    assert_eq!(temporaries(&temp), Vec::<PathBuf>::new());
}
