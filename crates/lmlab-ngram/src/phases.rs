//! Build-phase reports for measuring where time and memory go: with the environment variable
//! `LMLAB_NGRAM_PHASES` set, each [`mark`] prints the phase name, process CPU seconds and the
//! current and peak resident memory (Linux `/proc/self/status`) to stderr. Nothing otherwise.

use std::sync::OnceLock;

/// True when phase reports are on (read once).
fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("LMLAB_NGRAM_PHASES").is_some())
}

/// The value in MiB of a `/proc/self/status` line such as `VmRSS:` (0 when unknown).
fn status_mib(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

/// Reports that `phase` has ended (when `LMLAB_NGRAM_PHASES` is set).
pub fn mark(phase: &str) {
    if !enabled() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    eprintln!(
        "[phase] {phase:<28} cpu {:7.2} s  rss {:6} MiB  peak {:6} MiB",
        lmlab_core::compute::process_cpu_seconds(),
        status_mib(&status, "VmRSS:"),
        status_mib(&status, "VmHWM:"),
    );
}
