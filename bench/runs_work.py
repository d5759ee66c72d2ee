"""The work of each finished run of an experiment folder, as the experiment benchmarks count it: its
training (the record's compute.wall_seconds) plus its evaluation on valid and test with probability
files (from the end of training, the last write of the model file or of a neural run's checkpoint
and report, to the write of run.json; file modification times, nanosecond resolution)."""
import json
import os


def runs_work(out):
    """(arm, training wall s, evaluation s, budget or None, CPU s) of every run in `out`, by id."""
    rows = []
    for run_id in sorted(os.listdir(os.path.join(out, "runs"))):
        folder = os.path.join(out, "runs", run_id)
        entry = json.load(open(os.path.join(folder, "run.json")))
        record = entry["record"]
        model = os.path.join(folder, record["model_path"])
        if os.path.isdir(model):
            trained = max(os.stat(os.path.join(model, f)).st_mtime_ns
                          for f in ("checkpoint.safetensors", "report.json"))
        else:
            trained = os.stat(model).st_mtime_ns
        evaluation = (os.stat(os.path.join(folder, "run.json")).st_mtime_ns - trained) / 1e9
        rows.append((entry["arm"], record["compute"]["wall_seconds"], evaluation,
                     record["recipe"].get("budget_cpu_seconds"), record["compute"]["cpu_seconds"]))
    return rows
