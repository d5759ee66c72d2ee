//! `lmlab tasks` and `lmlab rl` from the command line: a task file, its training text, a short
//! supervised run, two GRPO steps and pass@1; bad input named.

mod common;
use common::{fails, ok, s};

#[test]
fn tasks_sft_grpo_and_eval_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let task = d.join("sort.jsonl");
    let out = ok(&[
        "tasks",
        "make",
        "sorting",
        "--n",
        "200",
        "--max-difficulty",
        "3",
        "-o",
        s(&task),
    ]);
    assert!(out.starts_with("200 sorting problems"), "{out}");
    let text = d.join("train.txt");
    let out = ok(&[
        "tasks",
        "sft",
        s(&task),
        "--hinted",
        "0.3",
        "--max-difficulty",
        "3",
        "--balance",
        "-o",
        s(&text),
    ]);
    assert!(out.contains("lines to"), "{out}");
    let too_easy = fails(&[
        "tasks",
        "sft",
        s(&task),
        "--max-difficulty",
        "1",
        "-o",
        s(&text),
    ]);
    assert!(too_easy.contains("of difficulty at most 1"), "{too_easy}");
    let config = d.join("c.toml");
    std::fs::write(
        &config,
        "tokenizer = \"chars\"\nsequences = \"line\"\n[model]\nn_layer = 1\nn_head = 1\nn_embd = 8\n\
         block_size = 64\n[train]\nbatch_size = 4\nmax_steps = 3\nlearning_rate = 1e-2\nmin_lr = 1e-3\n\
         warmup_steps = 0\neval_iters = 1\n",
    )
    .unwrap();
    let run = d.join("sft");
    ok(&[
        "train",
        "transformer",
        "--config",
        s(&config),
        "--train",
        s(&text),
        "--valid",
        s(&text),
        "-o",
        s(&run),
    ]);
    let grpo = d.join("grpo");
    // `lmlab rl grpo RUN --task TASK ... -o GRPO` with the options between.
    let grpo_args = |options: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = vec![
            "rl".into(),
            "grpo".into(),
            s(&run).into(),
            "--task".into(),
            s(&task).into(),
        ];
        args.extend(options.iter().map(|o| o.to_string()));
        args.extend(["-o".to_string(), s(&grpo).to_string()]);
        args
    };
    let run_ok = |options: &[&'static str]| {
        let args = grpo_args(options);
        ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let run_fails = |options: &[&'static str]| {
        let args = grpo_args(options);
        fails(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    run_ok(&[
        "--group",
        "2",
        "--prompts",
        "2",
        "--max-steps",
        "2",
        "--scaffold",
        "scaf-grpo",
    ]);
    let log = std::fs::read_to_string(grpo.join("grpo_log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2);
    let table = ok(&["rl", "eval", s(&grpo), "--task", s(&task)]);
    assert!(
        table.starts_with("difficulty  problems  solved  pass@1"),
        "{table}"
    );

    assert!(fails(&[
        "tasks",
        "make",
        "multiplication",
        "--n",
        "5",
        "-o",
        s(&task)
    ])
    .contains("unknown task kind `multiplication`"));
    assert!(run_fails(&["--group", "1"]).contains("--group 1"));
    assert!(run_fails(&["--scaffold", "hints"]).contains("unknown scaffold `hints`"));
}
