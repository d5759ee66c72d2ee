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

/// The Python interpreter that can `import module` for tests comparing against a Python peer:
/// `LMLAB_PYTHON` (`.ci/run` sets it), else `python3`. `None`, after [`report_skip`] saying what to
/// install (`install`), when it cannot; with `LMLAB_PYTHON` set that is a failure instead (panics).
pub fn python_with(module: &str, install: &str) -> Option<String> {
    use std::process::Command;
    let set = std::env::var("LMLAB_PYTHON").ok().filter(|p| !p.is_empty());
    let python = set.clone().unwrap_or_else(|| "python3".to_string());
    let probe = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output();
    let why = match probe {
        Ok(out) if out.status.success() => return Some(python),
        // The last line of Python's traceback says what failed.
        Ok(out) => String::from_utf8_lossy(&out.stderr)
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .to_string(),
        Err(e) => e.to_string(),
    };
    if set.is_some() {
        panic!("LMLAB_PYTHON={python} cannot import {module} ({why}); {install} in it");
    }
    report_skip(&format!(
        "{python} cannot import {module} ({why}); {install}, or set LMLAB_PYTHON to a python that \
         has it"
    ));
    None
}
