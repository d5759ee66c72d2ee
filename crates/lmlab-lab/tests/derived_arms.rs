//! Experiment arms that start from other arms' runs (issue 15): a tiny experiment whose
//! continue / grow / prune / merge children and an `arm:` distillation student run after their
//! parents, land in the store and charge their ancestors' CPU seconds; an `rl` child runs GRPO
//! from its supervised parent (issue 16); a failed parent fails its children without running them.

use lmlab_lab::experiment::runner::{run_experiment, Executor, Outcome};
use lmlab_lab::experiment::spec::ExperimentSpec;
use lmlab_lab::experiment::{run_dir, scan_runs, store, RunEntry};
use lmlab_neural::checkpoint::Checkpoint;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// Train, valid and test texts in `dir` (deterministic, a few KB).
fn data(dir: &Path) {
    let words = [
        "the", "cat", "sat", "on", "a", "mat", "dog", "ran", "red", "ball",
    ];
    for (name, lines, salt) in [("train", 300, 1), ("valid", 40, 2), ("test", 40, 3)] {
        let text: String = (0..lines)
            .map(|i| {
                let n = 3 + (i * 7 + salt) % 5;
                let line: Vec<&str> = (0..n)
                    .map(|j| words[(i * 31 + j * 17 + salt * j) % words.len()])
                    .collect();
                line.join(" ") + "\n"
            })
            .collect();
        std::fs::write(dir.join(format!("{name}.txt")), text).unwrap();
    }
}

/// An experiment file's seeds (1 and 2) and the data files `data` writes (after its `name` line).
const DATA: &str = r#"seeds = [1, 2]
[data]
train = "train.txt"
valid = "valid.txt"
test = "test.txt"
"#;

/// The `base` arm every other arm of the tests descends from.
const HEAD: &str = r#"
[[arm]]
name = "base"
[arm.recipe]
tokenizer = { kind = "bytes" }
model = { family = "transformer", n_layer = 1, n_head = 1, n_embd = 8, block_size = 8 }
train = { batch_size = 2, max_steps = 3, learning_rate = 1e-3, min_lr = 1e-4, eval_iters = 1 }
"#;

const CHILDREN: &str = r#"
[[arm]]
name = "ft"
start = { from = "base", op = "continue" }
sweep = { "start.seed_offset" = [10, 20] }

[[arm]]
name = "soup"
start = { from = "ft", op = "merge", budget = 0 }

[[arm]]
name = "grown"
start = { from = "base", op = "grow", n_layer = 2 }

[[arm]]
name = "pruned"
start = { from = "base", op = "prune", method = "magnitude", sparsity = 0.5, budget = 0 }

[[arm]]
name = "kn"
recipe = { model = { family = "ngram", order = 3, discount_fallback = [0.5, 1.0, 1.5] }, tokenizer = { kind = "bytes" } }

[[arm]]
name = "student"
start = { from = "base", op = "continue" }
recipe = { train = { distill = { teacher = "arm:kn" } } }
"#;

/// Runs the experiment file made of `text` in `dir` in this process; the runs finished and
/// failed, in the order the runner reported them, and the store's rows.
fn run(dir: &Path, text: &str) -> (Vec<RunEntry>, Vec<(String, String)>) {
    std::fs::write(dir.join("exp.toml"), text).unwrap();
    let spec = ExperimentSpec::load(&dir.join("exp.toml")).unwrap();
    let out = dir.join("out");
    let finished = Mutex::new(Vec::new());
    let failed = Mutex::new(Vec::new());
    let recorder = store::Recorder::start(&out).unwrap();
    run_experiment(&spec, &out, 2, &Executor::InProcess, &|_| {}, &|o| {
        match &o {
            Outcome::Finished(e) => finished.lock().unwrap().push((*e).clone()),
            Outcome::Failed(f) => failed
                .lock()
                .unwrap()
                .push((f.arm.clone(), f.error.clone())),
            Outcome::Slurm(_) => {}
        }
        recorder.record(o)
    })
    .unwrap();
    (finished.into_inner().unwrap(), failed.into_inner().unwrap())
}

fn checkpoint(out: &Path, entry: &RunEntry) -> Checkpoint {
    let path = run_dir(out, &entry.id).join(&entry.record.model_path);
    Checkpoint::load(&path.join(lmlab_neural::checkpoint::FILE_NAME)).unwrap()
}

fn params(out: &Path, entry: &RunEntry) -> Vec<f32> {
    checkpoint(out, entry).params
}

#[test]
fn derived_children_run_after_their_parents_and_are_charged_their_ancestors() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    let (finished, failed) = run(
        dir.path(),
        &format!("name = \"derived\"\n{DATA}{HEAD}{CHILDREN}"),
    );
    assert!(failed.is_empty(), "{failed:?}");
    let out = dir.path().join("out");
    // base 2, ft 4, soup 2, grown 2, pruned 2, kn 1, student 2.
    assert_eq!(finished.len(), 15);
    let by_id: BTreeMap<&str, &RunEntry> = finished.iter().map(|e| (e.id.as_str(), e)).collect();
    let position = |id: &str| finished.iter().position(|e| e.id == id).unwrap();
    for entry in &finished {
        let Some(derived) = &entry.record.derived else {
            assert!(
                ["base", "kn"].contains(&entry.arm.as_str()),
                "{}",
                entry.arm
            );
            continue;
        };
        let mut ancestors_cpu = 0.0;
        for parent in &derived.parents {
            assert!(position(&parent.id) < position(&entry.id), "parent first");
            let p = by_id[parent.id.as_str()];
            // Paired by seed: a neural parent has the child's seed before its offset.
            if p.arm != "kn" {
                assert_eq!(entry.record.recipe.seed % 10, p.record.recipe.seed % 10);
            }
            ancestors_cpu += p.record.compute.cpu_seconds;
        }
        assert_eq!(derived.own_cpu_seconds, entry.record.compute.cpu_seconds);
        let total = derived.own_cpu_seconds + derived.ancestors.values().sum::<f64>();
        assert_eq!(derived.total_cpu_seconds, total);
        assert!(derived.total_cpu_seconds >= derived.own_cpu_seconds + ancestors_cpu - 1e-9);
        assert!(entry.record.eval["test"].bits_per_byte.is_finite());
    }
    // The soup is the mean of its two fine-tunes, and is charged the base once.
    for soup in finished.iter().filter(|e| e.arm == "soup") {
        let derived = soup.record.derived.as_ref().unwrap();
        assert_eq!(derived.op.as_deref(), Some("merge"));
        assert_eq!(
            derived.ancestors.len(),
            3,
            "two fine-tunes and their one base"
        );
        assert_eq!(soup.record.stop.as_deref(), Some("NotTrained"));
        let members: Vec<Vec<f32>> = derived
            .parents
            .iter()
            .map(|p| params(&out, by_id[p.id.as_str()]))
            .collect();
        for (i, x) in params(&out, soup).iter().enumerate() {
            assert!((x - (members[0][i] + members[1][i]) / 2.0).abs() < 1e-6);
        }
    }
    // Grown: two blocks, trained its max_steps from the parent's weights.
    for grown in finished.iter().filter(|e| e.arm == "grown") {
        assert_eq!(grown.record.recipe.model.network().unwrap().n_layer, 2);
        assert_eq!(grown.record.stop.as_deref(), Some("Finished"));
        assert_eq!(checkpoint(&out, grown).step, 3);
    }
    // Pruned, not trained: half the block matrices' entries (one block of width 8: 4·8·8
    // attention + 2·8·32 MLP = 768) are zero.
    for pruned in finished.iter().filter(|e| e.arm == "pruned") {
        let zeros = params(&out, pruned).iter().filter(|x| **x == 0.0).count();
        assert!(zeros >= 384, "{zeros}");
    }
    // The student distilled from the n-gram run, whose cost it is charged.
    let kn = finished.iter().find(|e| e.arm == "kn").unwrap();
    for student in finished.iter().filter(|e| e.arm == "student") {
        let derived = student.record.derived.as_ref().unwrap();
        assert!(derived.ancestors.contains_key(&kn.id));
        let distill = student
            .record
            .recipe
            .train
            .as_ref()
            .unwrap()
            .distill
            .as_ref();
        assert!(distill.unwrap().teacher[0].starts_with(run_dir(&out, &kn.id)));
    }
    // The store has every run; a second run skips them all.
    let (entries, failures) = scan_runs(&out).unwrap();
    assert_eq!((entries.len(), failures.len()), (15, 0));
    let recorded = store::Store::open(&out).unwrap().recorded().unwrap();
    assert_eq!(recorded.len(), 15);
    let (again, _) = run(
        dir.path(),
        &format!("name = \"derived\"\n{DATA}{HEAD}{CHILDREN}"),
    );
    assert!(again.is_empty());
}

#[test]
fn a_failed_parent_fails_its_children_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    let bad = format!("name = \"derived\"\n{DATA}{HEAD}").replace(
        "eval_iters = 1 }",
        "eval_iters = 1, distill = { teacher = \"no-such-teacher.lmlab\" } }",
    );
    let child = "\n[[arm]]\nname = \"ft\"\nstart = { from = \"base\", op = \"continue\" }\n";
    let (finished, failed) = run(dir.path(), &format!("{bad}{child}"));
    assert!(finished.is_empty());
    assert_eq!(failed.len(), 4);
    let base_failures = failed.iter().filter(|(arm, _)| arm == "base").count();
    assert_eq!(base_failures, 2);
    for (arm, error) in failed.iter().filter(|(arm, _)| arm == "ft") {
        assert!(
            error.contains("parent run") && error.contains("'base'"),
            "{arm}: {error}"
        );
        assert!(error.contains("no-such-teacher"), "{error}");
    }
    let (_, failures) = scan_runs(&dir.path().join("out")).unwrap();
    assert_eq!(failures.len(), 4);
}

/// An `op = "rl"` arm: GRPO from each seed's supervised run on the task file (its path relative to
/// the experiment file), for at most `max_steps`; its record holds GRPO's CPU seconds and stop,
/// points at the pass@1 outcome, is evaluated on the experiment's text and charged its parent.
#[test]
fn an_rl_child_runs_grpo_from_its_supervised_parent() {
    use lmlab_lab::rl::RlOutcome;
    use lmlab_lab::tasks::{make, sft_text, write_tasks, MakeOptions, SftOptions, Split, TaskKind};
    let dir = tempfile::tempdir().unwrap();
    let records = make(&MakeOptions {
        kind: TaskKind::Addition,
        n: 200,
        seed: 1,
        max_difficulty: 2,
        split_seed: 0,
    })
    .unwrap();
    write_tasks(&dir.path().join("add.jsonl"), &records).unwrap();
    for (name, split) in [
        ("train", Split::Train),
        ("valid", Split::Valid),
        ("test", Split::Test),
    ] {
        let options = SftOptions {
            hinted: 0.5,
            ..SftOptions::new(split)
        };
        let text = sft_text(&records, &options).unwrap();
        std::fs::write(dir.path().join(format!("{name}.txt")), text).unwrap();
    }
    let arms = r#"
[[arm]]
name = "sft"
[arm.recipe]
tokenizer = { kind = "chars" }
model = { family = "transformer", n_layer = 1, n_head = 2, n_embd = 16, block_size = 48 }
train = { batch_size = 8, max_steps = 40, learning_rate = 1e-2, min_lr = 1e-3, warmup_steps = 2, eval_iters = 1 }

[[arm]]
name = "grpo"
start = { from = "sft", op = "rl", task = "add.jsonl", group = 4, prompts_per_step = 2, max_steps = 2, format_reward = 0.5, budget = 1000 }
"#;
    let (finished, failed) = run(dir.path(), &format!("name = \"rl\"\n{DATA}{arms}"));
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(finished.len(), 4);
    let out = dir.path().join("out");
    for rl in finished.iter().filter(|e| e.arm == "grpo") {
        let derived = rl.record.derived.as_ref().unwrap();
        assert_eq!(derived.op.as_deref(), Some("rl"));
        let parent = finished
            .iter()
            .find(|e| e.id == derived.parents[0].id)
            .unwrap();
        assert_eq!(parent.arm, "sft");
        assert_eq!(parent.record.recipe.seed, rl.record.recipe.seed);
        assert_eq!(rl.record.stop.as_deref(), Some("Finished"));
        let outcome_path = run_dir(&out, &rl.id).join(&rl.record.artifacts["rl_outcome"]);
        let outcome: RlOutcome =
            serde_json::from_slice(&std::fs::read(outcome_path).unwrap()).unwrap();
        assert_eq!(outcome.steps, 2);
        assert_eq!(rl.record.compute.cpu_seconds, outcome.cpu_seconds);
        let tests = records.iter().filter(|r| r.split == Split::Test).count();
        assert_eq!(
            outcome.test.iter().map(|s| s.problems).sum::<usize>(),
            tests
        );
        assert!(rl.record.eval["test"].bits_per_byte.is_finite());
        assert!(derived.total_cpu_seconds > derived.own_cpu_seconds);
        // Its model is GRPO's output, loadable as any run.
        assert_eq!(
            outcome.output,
            run_dir(&out, &rl.id).join(&rl.record.model_path)
        );
        assert_eq!(params(&out, rl).len(), params(&out, parent).len());
    }
}
