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

/// Checks a model's [`Stepper`](crate::Stepper) against its whole-context answers on `ids`: each
/// distribution equals [`LanguageModel::next_distribution`](crate::LanguageModel::next_distribution)
/// and each `score_next` the matching `log_probs` (within `tolerance`); going back with `truncate`
/// and pushing again gives the same distributions; a fork advances without moving its parent; and
/// `score_proposed` gives the rows of one step at a time. Panics on the first difference.
pub fn check_stepper(model: &dyn crate::LanguageModel, ids: &[crate::TokenId], tolerance: f64) {
    let close = |a: &[f64], b: &[f64], what: &str| {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tolerance, "{what}: id {i}: {x} vs {y}");
        }
    };
    let log_probs = model.log_probs(ids);
    let mut stepper = model.stepper();
    let v = stepper.vocab_len();
    assert_eq!(v, model.tokenizer().vocab().len());
    let mut scorer = model.stepper();
    let mut rows = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        assert_eq!(stepper.context_len(), i);
        let row = stepper.distribution();
        close(
            &row,
            &model.next_distribution(&ids[..i]),
            &format!("distribution {i}"),
        );
        let lp = scorer.score_next(id);
        assert!(
            (lp - log_probs[i]).abs() <= tolerance.max(1e-9),
            "score {i}: {lp} vs {}",
            log_probs[i]
        );
        rows.extend_from_slice(&row);
        stepper.push(id);
    }
    let cut = ids.len() / 2;
    let mut fork = stepper.fork();
    stepper.truncate(cut);
    assert_eq!(stepper.context_len(), cut);
    let mut proposed = vec![0.0; (ids.len() - cut + 1) * v];
    stepper.score_proposed(&ids[cut..], &mut proposed);
    assert_eq!(stepper.context_len(), ids.len());
    close(
        &proposed[..(ids.len() - cut) * v],
        &rows[cut * v..],
        "score_proposed",
    );
    close(
        &proposed[(ids.len() - cut) * v..],
        &model.next_distribution(ids),
        "score_proposed's last row",
    );
    fork.truncate(cut);
    for (i, &id) in ids.iter().enumerate().skip(cut) {
        close(
            &fork.distribution(),
            &rows[i * v..(i + 1) * v],
            &format!("fork after truncate {i}"),
        );
        fork.push(id);
    }
    stepper.reset();
    assert_eq!(stepper.context_len(), 0);
    if !ids.is_empty() {
        close(&stepper.distribution(), &rows[..v], "after reset");
    }
}
