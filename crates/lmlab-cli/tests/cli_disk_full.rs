//! A disk that fills up while counting spills to `--temp` gives a clear error, not a hang or a
//! panic. The full disk is simulated with a file-size limit (RLIMIT_FSIZE) on the child process:
//! writes past it fail as they would on a full file system, and nothing needs mounting.
#![cfg(target_os = "linux")]

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Most bytes any file of the child may reach.
const FILE_LIMIT: libc::rlim_t = 32 * 1024;

/// A corpus whose counts outgrow `FILE_LIMIT` many times over (LCG-drawn words, 2,000 types).
fn varied_text() -> String {
    let mut state: u64 = 7;
    let mut text = String::new();
    for line in 0..4000 {
        for _ in 0..(5 + line % 9) {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push_str(&format!("w{} ", (state >> 33) % 2000));
        }
        text.push('\n');
    }
    text
}

#[test]
fn a_full_disk_under_the_temp_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("train.txt");
    std::fs::write(&input, varied_text()).unwrap();
    let temp = dir.path().join("spill");
    std::fs::create_dir(&temp).unwrap();
    let model = dir.path().join("m.lmlab");
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("lmlab"));
    command.args(["train", "ngram", "--order", "4", "--memory", "1K", "--temp"]);
    command
        .arg(&temp)
        .arg("--input")
        .arg(&input)
        .arg("-o")
        .arg(&model);
    // SAFETY: between fork and exec only async-signal-safe calls (setrlimit, signal) run.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: FILE_LIMIT,
                rlim_max: FILE_LIMIT,
            };
            // A write past the limit then fails with EFBIG instead of killing the process.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("temporary directory") && stderr.contains("--temp"),
        "{stderr}"
    );
    assert!(!model.exists(), "a model was written despite the failure");
    let left = std::fs::read_dir(&temp).unwrap().count();
    assert_eq!(left, 0, "temporary files were left behind");
}
