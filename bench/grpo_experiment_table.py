#!/usr/bin/env python3
"""Experiment 6's table from an experiment folder of experiments/grpo-scaffolds.toml: for every
run, its arm, seed, own CPU-s and CPU-s charged with its parent, test bits/byte on the worked
solutions, GRPO's zero-advantage share of groups, mean over its steps (RL arms, from grpo_log.jsonl), and greedy pass@1 by
difficulty on the task's test split (`lmlab rl eval`, run here for every run so that the
supervised arms are scored the same way as the RL ones).
Usage: bench/grpo_experiment_table.py OUT_DIR TASK_FILE [LMLAB_BINARY]"""
import json, os, subprocess, sys

out, task = sys.argv[1], sys.argv[2]
lmlab = sys.argv[3] if len(sys.argv) > 3 else "target/release/lmlab"
rows = []
for run_id in sorted(os.listdir(os.path.join(out, "runs"))):
    folder = os.path.join(out, "runs", run_id)
    path = os.path.join(folder, "run.json")
    if not os.path.exists(path):
        continue
    entry = json.load(open(path))
    record = entry.get("record", entry)
    arm = entry.get("arm", "?")
    model = os.path.join(folder, record["model_path"])
    scores = json.loads(subprocess.run([lmlab, "rl", "eval", model, "--task", task, "--json"],
                                       check=True, capture_output=True, text=True).stdout)
    derived = record.get("derived") or {}
    zero = ""
    log = os.path.join(model, "grpo_log.jsonl")
    if os.path.exists(log):
        steps = [json.loads(line) for line in open(log)]
        if steps:
            share = sum(s["zero_advantage_groups"] for s in steps) / len(steps)
            zero = f"{share:.2f} over {len(steps)} steps"
    rows.append((arm, record["recipe"]["seed"], record["compute"]["cpu_seconds"],
                 derived.get("total_cpu_seconds", record["compute"]["cpu_seconds"]),
                 record["eval"]["test"]["bits_per_byte"], zero,
                 [s["pass_at_1"] for s in sorted(scores, key=lambda s: s["difficulty"])]))
order = ["sft", "supervised-continued", "grpo", "scaf-grpo", "decaying-hints"]
rows.sort(key=lambda r: (order.index(r[0]) if r[0] in order else 99, r[1]))
print("| arm | seed | own CPU-s | charged CPU-s | test bits/byte | zero-advantage groups | pass@1, 1 / 2 / 3 / 4 / 5 digits |")
print("|---|---|---|---|---|---|---|")
for arm, seed, own, total, bpb, zero, p in rows:
    print(f"| {arm} | {seed} | {own:.1f} | {total:.1f} | {bpb:.4f} | {zero} | {' / '.join(f'{x:.3f}' for x in p)} |")
