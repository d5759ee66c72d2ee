//! GRPO end to end on a tiny supervised start: same bytes after a resume, scaffolds that do what
//! they say, GRPO from a parent run as an experiment arm calls it, and the bad inputs of issue 16
//! refused with their messages.

use lmlab_lab::rl::from_parent::OUTCOME_FILE;
use lmlab_lab::rl::grpo::GrpoSettings;
use lmlab_lab::rl::{
    evaluate, grpo_from_parent, train_grpo, GrpoOptions, GrpoStop, RlOutcome, RlStart, Scaffold,
};
use lmlab_lab::tasks::{make, sft_text, write_tasks, MakeOptions, SftOptions, Split, TaskKind};
use lmlab_neural::config::RunConfig;
use lmlab_neural::{train, TrainOptions};
use std::path::{Path, PathBuf};

const CONFIG: &str = r#"
tokenizer = "chars"
sequences = "line"
[model]
n_layer = 1
n_head = 2
n_embd = 16
block_size = 48
[train]
batch_size = 8
max_steps = 40
learning_rate = 1e-2
min_lr = 1e-3
warmup_steps = 2
seed = 3
eval_iters = 1
eval_interval = 0
checkpoint_interval = 0
"#;

/// A task file of 1-2 digit additions and a short supervised run on its training split (hinted
/// lines included, so hint characters are in the vocabulary).
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let records = additions(300, 2);
    let task = dir.join("add.jsonl");
    write_tasks(&task, &records).unwrap();
    let hinted = |split| SftOptions {
        hinted: 0.5,
        ..SftOptions::new(split)
    };
    let text = sft_text(&records, &hinted(Split::Train)).unwrap();
    let valid = sft_text(&records, &hinted(Split::Valid)).unwrap();
    let run = dir.join("sft");
    train_run(&run, &text, &valid, None);
    (run, task)
}

/// `n` additions of up to `digits` digits.
fn additions(n: usize, digits: u32) -> Vec<lmlab_lab::tasks::TaskRecord> {
    make(&MakeOptions {
        kind: TaskKind::Addition,
        n,
        seed: 1,
        max_difficulty: digits,
        split_seed: 0,
    })
    .unwrap()
}

/// Trains the test's transformer into `run` (for `steps` steps when given).
fn train_run(run: &Path, text: &str, valid: &str, steps: Option<usize>) {
    let mut config = RunConfig::parse(CONFIG).unwrap();
    if let Some(steps) = steps {
        config.train.max_steps = steps;
    }
    train(&config, text, valid, &TrainOptions::new(run), &mut |_| {}).unwrap();
}

fn options(run: &Path, task: &Path, out: &Path) -> GrpoOptions {
    GrpoOptions {
        policy: run.to_path_buf(),
        reference: None,
        task: task.to_path_buf(),
        output: out.to_path_buf(),
        settings: GrpoSettings {
            group: 4,
            prompts_per_step: 3,
            max_steps: 4,
            checkpoint_interval: 3,
            learning_rate: 1e-3,
            ..GrpoSettings::default()
        },
        budget_cpu_seconds: None,
        stop_after: None,
        resume: false,
        force: false,
    }
}

fn err(o: &GrpoOptions) -> String {
    train_grpo(o, &mut |_| {}).unwrap_err().to_string()
}

#[test]
fn grpo_resumes_to_the_same_bytes_and_scaffolds_guide() {
    let dir = tempfile::tempdir().unwrap();
    let (run, task) = setup(dir.path());
    let whole = dir.path().join("whole");
    let mut events = Vec::new();
    let report = train_grpo(&options(&run, &task, &whole), &mut |e| {
        events.push(e.clone())
    })
    .unwrap();
    assert_eq!((report.steps, report.stop), (4, GrpoStop::Finished));
    assert_eq!(events.len(), 4);
    assert!(events
        .iter()
        .all(|e| e.kl >= 0.0 && (0.0..=1.0).contains(&e.pass_rate)));
    // The first update of the first step compares the policy with itself.
    assert_eq!(events[0].kl, 0.0);

    let parts = dir.path().join("parts");
    let mut o = options(&run, &task, &parts);
    o.stop_after = Some(2);
    assert_eq!(train_grpo(&o, &mut |_| {}).unwrap().stop, GrpoStop::Paused);
    o.stop_after = None;
    o.resume = true;
    assert_eq!(train_grpo(&o, &mut |_| {}).unwrap().steps, 4);
    let ck = |d: &Path| std::fs::read(d.join("checkpoint.safetensors")).unwrap();
    assert_eq!(
        ck(&whole),
        ck(&parts),
        "a resumed run ends with other bytes"
    );
    // Resuming with other settings is refused.
    o.settings.group = 5;
    assert!(err(&o).contains("--resume refused"));

    // Decay with a first probability of 1 hints every sample of the first step.
    let mut d = options(&run, &task, &dir.path().join("decay"));
    d.settings.scaffold = Scaffold::Decay;
    d.settings.hint_probability = 1.0;
    d.settings.max_steps = 2;
    let mut first = None;
    train_grpo(&d, &mut |e| {
        first.get_or_insert(e.clone());
    })
    .unwrap();
    assert_eq!(first.unwrap().hinted_samples, 12);

    // Scaf-GRPO without warm-up: each rescued group trains on exactly one hinted sample, and only
    // groups with no correct sample are rescued.
    let mut s = options(&run, &task, &dir.path().join("scaf"));
    s.settings.scaffold = Scaffold::ScafGrpo;
    s.settings.warmup = 0.0;
    let mut seen = Vec::new();
    train_grpo(&s, &mut |e| seen.push(e.clone())).unwrap();
    for e in &seen {
        assert_eq!(e.hinted_samples, e.rescued_groups);
        assert!(e.rescued_groups as f64 <= e.all_failed_groups * 3.0 + 1e-9);
    }

    // Pass@1 by difficulty covers the test split.
    let model = lmlab_neural::TransformerModel::load(&whole).unwrap();
    let records = lmlab_lab::tasks::read_tasks(&task).unwrap();
    let scores = evaluate(
        model.transformer(),
        lmlab_core::LanguageModel::tokenizer(&model),
        &records,
        Split::Test,
    )
    .unwrap();
    let tests = records.iter().filter(|r| r.split == Split::Test).count();
    assert_eq!(scores.iter().map(|s| s.problems).sum::<usize>(), tests);
    assert_eq!(
        scores.iter().map(|s| s.difficulty).collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[test]
fn bad_inputs_are_refused_with_their_messages() {
    let dir = tempfile::tempdir().unwrap();
    let (run, task) = setup(dir.path());
    let out = dir.path().join("out");
    let mut o = options(&run, &task, &out);
    o.settings.group = 1;
    assert!(err(&o).contains("--group 1: GRPO compares samples within a group"));
    let mut o = options(&run, &task, &out);
    o.budget_cpu_seconds = Some(0.0);
    assert!(err(&o).contains("a budget must be a positive number of CPU seconds, got 0"));

    // A reference trained with another tokenizer (other characters).
    let other = dir.path().join("other");
    let text = "abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz\n".repeat(20);
    train_run(&other, &text, &text, Some(1));
    let mut o = options(&run, &task, &out);
    o.reference = Some(other);
    assert!(err(&o).contains("have different tokenizers"));

    // Problems too long for the window (48): 12- to 15-digit additions.
    let long = additions(5, 15)
        .into_iter()
        .map(|mut r| {
            r.split = Split::Train;
            r
        })
        .filter(|r| r.difficulty >= 12)
        .collect::<Vec<_>>();
    assert!(!long.is_empty());
    let long_task = dir.path().join("long.jsonl");
    write_tasks(&long_task, &long).unwrap();
    let e = err(&options(&run, &long_task, &out));
    assert!(
        e.contains("is too long for the policy") && e.contains("context window has 48"),
        "{e}"
    );

    // A task file with a record missing its answer.
    let broken = dir.path().join("broken.jsonl");
    let line = std::fs::read_to_string(&task)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut v: serde_json::Value = serde_json::from_str(&line).unwrap();
    v.as_object_mut().unwrap().remove("answer");
    std::fs::write(&broken, format!("{v}\n")).unwrap();
    let e = err(&options(&run, &broken, &out));
    assert!(
        e.contains("broken.jsonl") && e.contains("missing field `answer`"),
        "{e}"
    );

    // An output directory holding a run is not overwritten without --force.
    train_grpo(&options(&run, &task, &out), &mut |_| {}).unwrap();
    assert!(err(&options(&run, &task, &out)).contains("--force"));
}

#[test]
fn grpo_from_a_parent_run_leaves_a_run_every_command_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (run, task) = setup(dir.path());
    let start = RlStart {
        settings: GrpoSettings {
            scaffold: Scaffold::ScafGrpo,
            format_reward: 0.5,
            ..options(&run, &task, dir.path()).settings
        },
        ..RlStart::new(&task)
    };
    let out = dir.path().join("rl");
    let outcome = grpo_from_parent(&run, &start, 1e6, 7, &out, &mut |_| {}).unwrap();
    assert_eq!((outcome.steps, outcome.stop), (4, GrpoStop::Finished));
    assert!(outcome.cpu_seconds > 0.0 && outcome.eval_cpu_seconds > 0.0);
    let records = lmlab_lab::tasks::read_tasks(&task).unwrap();
    let tests = records.iter().filter(|r| r.split == Split::Test).count();
    assert_eq!(
        outcome.test.iter().map(|s| s.problems).sum::<usize>(),
        tests
    );
    let written: RlOutcome =
        serde_json::from_slice(&std::fs::read(out.join(OUTCOME_FILE)).unwrap()).unwrap();
    assert_eq!(written, outcome);

    // It is GRPO with the run's seed: the same bytes as `train_grpo` with seed 7.
    let mut direct = options(&run, &task, &dir.path().join("direct"));
    direct.settings.scaffold = Scaffold::ScafGrpo;
    direct.settings.format_reward = 0.5;
    direct.settings.seed = 7;
    train_grpo(&direct, &mut |_| {}).unwrap();
    let ck = |d: &Path| std::fs::read(d.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ck(&out), ck(&direct.output));

    // The output loads through the registry as any neural run, with weights of its own (the
    // format reward gives the all-failing groups advantages to learn from).
    let tuned = lmlab_lab::registry::load_model(&out).unwrap();
    let parent = lmlab_lab::registry::load_model(&run).unwrap();
    let ids = tuned.tokenizer().encode("12+34=64>46");
    let (a, b) = (tuned.log_probs(&ids), parent.log_probs(&ids));
    assert!(a.iter().all(|x| x.is_finite()));
    assert_ne!(a, b);

    // Called again into the same directory it replaces the run, to the same bytes; a budget spent
    // on loading stops before the first step.
    let again = grpo_from_parent(&run, &start, 1e6, 7, &out, &mut |_| {}).unwrap();
    assert_eq!((again.steps, again.test), (outcome.steps, outcome.test));
    assert_eq!(ck(&out), ck(&direct.output));
    let spent = grpo_from_parent(&run, &start, 1e-9, 7, &out, &mut |_| {}).unwrap();
    assert_eq!((spent.steps, spent.stop), (0, GrpoStop::Budget));
    let e = grpo_from_parent(&run, &start, 0.0, 7, &out, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("a budget must be a positive number"), "{e}");
}
