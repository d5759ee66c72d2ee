//! `lmlab experiment run` and `lmlab train --recipe`: plans validated before anything runs,
//! finished runs skipped, failures recorded while the rest go on, a killed experiment finished by
//! the next run with the same bytes, one run per folder at a time, data that changed refused.

mod common;

use common::{fails, lmlab, ok, s};
use std::path::{Path, PathBuf};

/// Train, valid and test texts in `dir` (a few hundred lines each, deterministic).
fn data(dir: &Path) {
    let words = [
        "the", "cat", "sat", "on", "a", "mat", "dog", "ran", "after", "big", "red", "ball",
    ];
    for (name, lines, salt) in [("train", 8000, 1), ("valid", 400, 2), ("test", 400, 3)] {
        let mut text = String::new();
        for i in 0..lines {
            let n = 3 + (i * 7 + salt) % 6;
            let line: Vec<&str> = (0..n)
                .map(|j| words[(i * 31 + j * 17 + salt * j) % words.len()])
                .collect();
            text.push_str(&line.join(" "));
            text.push('\n');
        }
        std::fs::write(dir.join(format!("{name}.txt")), text).unwrap();
    }
}

const HEAD: &str = r#"name = "t"
hypothesis = "longer contexts predict better"
claim = "arm:kn[order=4] < arm:bigram on test.bits_per_byte"
[data]
train = "train.txt"
valid = "valid.txt"
test = "test.txt"
"#;

const KN: &str = r#"
[[arm]]
name = "kn"
recipe = { model = { family = "ngram", discount_fallback = [0.5, 1.0, 1.5] }, tokenizer = { kind = "bytes" } }
sweep = { "model.order" = [2, 4] }
"#;

const BIGRAM: &str = r#"
[[arm]]
name = "bigram"
recipe = { model = { family = "baseline" } }
"#;

const MEMORY: &str = r#"
[[arm]]
name = "igtree"
recipe = { model = { family = "memory", context = 3 } }
"#;

/// An experiment file in `dir` made of `parts`.
fn experiment(dir: &Path, parts: &[&str]) -> PathBuf {
    let path = dir.join("exp.toml");
    std::fs::write(&path, parts.concat()).unwrap();
    path
}

/// Every file under `dir/runs` except the run records (whose timings differ), with its bytes.
fn run_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for run in std::fs::read_dir(dir.join("runs")).unwrap() {
        let run = run.unwrap().path();
        for f in std::fs::read_dir(&run).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if name != "run.json" && f.is_file() {
                let key = format!("{}/{name}", run.file_name().unwrap().to_string_lossy());
                files.push((key, std::fs::read(&f).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn an_experiment_runs_skips_what_is_finished_and_runs_only_a_new_arm() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    let out = dir.path().join("out");
    let exp = experiment(dir.path(), &[HEAD, KN, BIGRAM]);
    let plan = ok(&["experiment", "run", s(&exp), "--out", s(&out), "--plan"]);
    assert!(
        plan.contains("kn[order=2]") && plan.contains("bigram"),
        "{plan}"
    );
    assert!(plan.contains("3 runs, 3 to run"), "{plan}");
    assert!(!out.join("runs").exists(), "--plan runs nothing");

    let first = ok(&[
        "experiment",
        "run",
        s(&exp),
        "--out",
        s(&out),
        "--jobs",
        "2",
    ]);
    assert!(first.contains("3 runs, 3 finished now"), "{first}");
    let records: Vec<serde_json::Value> = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|r| {
            let text = std::fs::read_to_string(r.unwrap().path().join("run.json")).unwrap();
            serde_json::from_str(&text).unwrap()
        })
        .collect();
    assert_eq!(records.len(), 3);
    for r in &records {
        let bpb = r["record"]["eval"]["test"]["bits_per_byte"]
            .as_f64()
            .unwrap();
        assert!(bpb > 0.5 && bpb < 8.0, "{r}");
        assert!(r["record"]["compute"]["cpu_seconds"].as_f64().unwrap() > 0.0);
        assert_eq!(r["record"]["artifacts"]["test.probs"], "test.probs.tsv");
    }

    let again = ok(&["experiment", "run", s(&exp), "--out", s(&out)]);
    assert!(
        again.contains("0 finished now, 3 already finished"),
        "{again}"
    );

    let exp = experiment(dir.path(), &[HEAD, KN, BIGRAM, MEMORY]);
    let plan = ok(&["experiment", "run", s(&exp), "--out", s(&out), "--plan"]);
    assert!(plan.contains("4 runs, 1 to run"), "{plan}");
    let more = ok(&["experiment", "run", s(&exp), "--out", s(&out)]);
    assert!(
        more.contains("1 finished now, 3 already finished"),
        "{more}"
    );
}

#[test]
fn a_failing_run_is_recorded_the_others_go_on_and_the_exit_status_counts_failures() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    let out = dir.path().join("out");
    // Without fallback discounts, a 6-gram over so little text has out-of-range discounts.
    let failing = r#"
[[arm]]
name = "kn6"
recipe = { model = { family = "ngram", order = 6 }, tokenizer = { kind = "bytes" } }
"#;
    let exp = experiment(dir.path(), &[HEAD, KN, BIGRAM, failing]);
    let run = lmlab()
        .args(["experiment", "run", s(&exp), "--out", s(&out)])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "one run failed: {stdout}");
    assert!(
        stdout.contains("3 finished now") && stdout.contains("1 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("kn6") && stdout.contains("discount"),
        "{stdout}"
    );
    let failed: Vec<_> = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .filter(|r| r.as_ref().unwrap().path().join("failed.json").is_file())
        .collect();
    assert_eq!(failed.len(), 1);
    // The plan shows it failed; the next run retries it (and it fails again the same way).
    let plan = ok(&["experiment", "run", s(&exp), "--out", s(&out), "--plan"]);
    assert!(plan.contains("failed"), "{plan}");
}

#[test]
fn a_killed_experiment_is_finished_by_the_next_run_with_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    let exp = experiment(dir.path(), &[HEAD, KN, BIGRAM, MEMORY]);
    let whole = dir.path().join("whole");
    ok(&["experiment", "run", s(&exp), "--out", s(&whole)]);
    let expected = run_files(&whole);

    // Kill -9 at several moments: as soon as a run is under way, then as soon as one more run has
    // finished and another is under way (its folder made, its run.json not yet written). Waiting
    // for a run under way, not only for a count of finished ones, keeps the kills from all
    // falling between runs when the runs are quick.
    let out = dir.path().join("killed");
    let finished = |out: &Path| -> usize {
        std::fs::read_dir(out.join("runs")).map_or(0, |rd| {
            rd.filter(|r| r.as_ref().unwrap().path().join("run.json").is_file())
                .count()
        })
    };
    let started = |out: &Path| std::fs::read_dir(out.join("runs")).map_or(0, |rd| rd.count());
    let mut cut_mid_run = 0;
    for target in [0, 1, 2] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lmlab"))
            .args([
                "experiment",
                "run",
                s(&exp),
                "--out",
                s(&out),
                "--jobs",
                "2",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while (finished(&out) < target || started(&out) <= finished(&out))
            && child.try_wait().unwrap().is_none()
            && start.elapsed().as_secs() < 60
        {
            std::thread::yield_now();
        }
        child.kill().unwrap();
        child.wait().unwrap();
        if started(&out) > finished(&out) {
            cut_mid_run += 1;
        }
    }
    assert!(cut_mid_run > 0, "no kill landed in the middle of a run");
    let finish = ok(&["experiment", "run", s(&exp), "--out", s(&out)]);
    assert!(finish.contains("4 runs"), "{finish}");
    assert_eq!(
        run_files(&out)
            .iter()
            .map(|(name, _)| name.clone())
            .collect::<Vec<_>>(),
        expected
            .iter()
            .map(|(name, _)| name.clone())
            .collect::<Vec<_>>(),
        "the same runs and files"
    );
    assert!(
        run_files(&out) == expected,
        "models and probability files are byte-identical to an uninterrupted experiment"
    );
}

#[test]
fn a_second_run_on_the_same_folder_is_refused_naming_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    let out = dir.path().join("out");
    let exp = experiment(dir.path(), &[HEAD, KN, BIGRAM, MEMORY]);
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("lmlab"))
        .args(["experiment", "run", s(&exp), "--out", s(&out)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first holds the lock.
    let lock = out.join("lock");
    for _ in 0..200 {
        if std::fs::read_to_string(&lock).is_ok_and(|t| t.starts_with("pid")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let second = fails(&["experiment", "run", s(&exp), "--out", s(&out)]);
    first.wait().unwrap();
    assert!(
        second.contains("lock") && second.contains("held by another"),
        "{second}"
    );
    assert!(second.contains(&format!("pid {}", first.id())), "{second}");
}

#[test]
fn bad_experiments_are_refused_before_any_run_with_their_message() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    let out = dir.path().join("out");
    let missing_data = HEAD.replace("train.txt", "nope.txt");
    let cases: [(&[&str], &str); 6] = [
        (&[HEAD, "colour = \"red\"\n", BIGRAM], "colour"),
        (&[missing_data.as_str(), BIGRAM], "nope.txt"),
        (
            &[
                HEAD,
                "[[arm]]\nname = \"k\"\nrecipe = { model = { family = \"ngram\", order = 0 } }\n",
            ],
            "order must be at least 1",
        ),
        (&[HEAD, BIGRAM, BIGRAM], "named twice"),
        (&["budgets = [0]\n", HEAD, BIGRAM], "positive"),
        (&[HEAD, BIGRAM], "no arm named 'kn[order=4]'"),
    ];
    for (parts, message) in cases {
        let exp = experiment(dir.path(), parts);
        for extra in [&["--plan"][..], &[][..]] {
            let mut args = vec!["experiment", "run", s(&exp), "--out", s(&out)];
            args.extend_from_slice(extra);
            let err = fails(&args);
            assert!(err.contains(message), "expected '{message}' in: {err}");
        }
        assert!(!out.join("runs").exists(), "nothing ran for {message}");
    }
}

#[test]
fn data_that_changed_since_the_experiment_ran_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    let out = dir.path().join("out");
    let exp = experiment(dir.path(), &[HEAD, KN, BIGRAM]);
    ok(&["experiment", "run", s(&exp), "--out", s(&out)]);
    std::fs::write(dir.path().join("test.txt"), "something else entirely\n").unwrap();
    let err = fails(&["experiment", "run", s(&exp), "--out", s(&out)]);
    assert!(err.contains("test.txt") && err.contains("changed"), "{err}");
}

#[test]
fn train_recipe_trains_any_family_and_refuses_a_newer_recipe() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    let [train, valid, test] =
        ["train", "valid", "test"].map(|n| dir.path().join(format!("{n}.txt")));
    let recipe = dir.path().join("r.toml");
    std::fs::write(
        &recipe,
        "[tokenizer]\nkind = \"bpe\"\nvocab_size = 300\n[model]\nfamily = \"ngram\"\norder = 3\ndiscount_fallback = [0.5, 1.0, 1.5]\n",
    )
    .unwrap();
    let model = dir.path().join("m.lmlab");
    let out = ok(&[
        "train",
        "--recipe",
        s(&recipe),
        "--train",
        s(&train),
        "--valid",
        s(&valid),
        "--test",
        s(&test),
        "-o",
        s(&model),
        "--json",
    ]);
    let record: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(record["recipe"]["model"]["family"], "ngram");
    assert_eq!(record["recipe"]["tokenizer"]["vocab_size"], 300);
    assert!(record["eval"]["test"]["bits_per_byte"].as_f64().unwrap() > 0.0);
    assert_eq!(
        record["data"]["train"]["sha256"].as_str().unwrap().len(),
        64,
        "the data's sha256 is recorded"
    );
    // The model file is an ordinary model: eval reads it.
    let eval = ok(&["eval", s(&model), "--input", s(&test), "--json"]);
    let eval: serde_json::Value = serde_json::from_str(&eval).unwrap();
    assert_eq!(
        eval["bits_per_byte"].as_f64().unwrap(),
        record["eval"]["test"]["bits_per_byte"].as_f64().unwrap()
    );

    std::fs::write(&recipe, "format = 2\n[model]\nfamily = \"ngram\"\n").unwrap();
    let err = fails(&[
        "train",
        "--recipe",
        s(&recipe),
        "--train",
        s(&train),
        "-o",
        s(&model),
    ]);
    assert!(
        err.contains("format 2 is newer") && err.contains("r.toml"),
        "{err}"
    );
    let err = fails(&["train"]);
    assert!(err.contains("--recipe"), "{err}");
}

#[test]
fn a_run_that_fills_the_disk_fails_and_the_store_stays_intact() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    let out = dir.path().join("out");
    // A 5-gram over bytes is megabytes; the bigram and the store are far smaller. The file-size
    // limit (`ulimit -f`, in KiB, with SIGXFSZ ignored so writes fail with EFBIG) plays a full
    // disk for every process of the experiment.
    let big = r#"
[[arm]]
name = "kn5"
recipe = { model = { family = "ngram", order = 5, discount_fallback = [0.5, 1.0, 1.5] }, tokenizer = { kind = "bytes" } }
"#;
    let exp = experiment(
        dir.path(),
        &[HEAD.replace("claim", "# claim").as_str(), BIGRAM, big],
    );
    let lmlab_bin = assert_cmd::cargo::cargo_bin("lmlab");
    let script = format!(
        "trap '' XFSZ; ulimit -f 400; exec '{}' experiment run '{}' --out '{}'",
        lmlab_bin.display(),
        s(&exp),
        s(&out)
    );
    let run = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "one run failed: {stdout}");
    assert!(
        stdout.contains("kn5") && stdout.contains("1 failed"),
        "{stdout}"
    );
    assert!(
        stdout.to_lowercase().contains("file too large"),
        "the failure says why: {stdout}"
    );
    // The store is intact and holds the finished run and the failure.
    let status = ok(&["experiment", "status", s(&out)]);
    assert!(
        status.contains("1 finished, 1 failed") && status.contains("File too large"),
        "{status}"
    );
    let csv = ok(&["results", s(&out), "--format", "csv"]);
    assert!(csv.contains("bigram"), "{csv}");
    // With room again, the failed run is redone and the experiment finishes.
    let again = ok(&["experiment", "run", s(&exp), "--out", s(&out)]);
    assert!(
        again.contains("1 finished now, 1 already finished"),
        "{again}"
    );
}
