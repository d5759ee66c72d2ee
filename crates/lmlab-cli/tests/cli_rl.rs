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
    ok(&["tasks", "sft", s(&task), "--hinted", "0.3", "-o", s(&text)]);
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
    ok(&[
        "rl",
        "grpo",
        s(&run),
        "--task",
        s(&task),
        "--group",
        "2",
        "--prompts",
        "2",
        "--max-steps",
        "2",
        "--scaffold",
        "scaf-grpo",
        "-o",
        s(&grpo),
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
    assert!(fails(&[
        "rl",
        "grpo",
        s(&run),
        "--task",
        s(&task),
        "--group",
        "1",
        "-o",
        s(&grpo)
    ])
    .contains("--group 1"));
    assert!(fails(&[
        "rl",
        "grpo",
        s(&run),
        "--task",
        s(&task),
        "--scaffold",
        "hints",
        "-o",
        s(&grpo)
    ])
    .contains("unknown scaffold `hints`"));
}
