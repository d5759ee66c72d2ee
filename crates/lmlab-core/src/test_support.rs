//! Support for the workspace's tests (public so every crate's integration tests share it).

/// Tells the person running the tests that the current test is skipped, and why: one line on the
/// terminal even under libtest's output capture (which holds back `eprintln!` of passing tests but
/// not writes to the stderr handle), so a skip never reads as a silent pass.
pub fn report_skip(reason: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
}
