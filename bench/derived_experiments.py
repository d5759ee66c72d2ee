#!/usr/bin/env python3
"""Tables of issue 15's experiment files (experiments/model-soup.toml, pruning.toml, growth.toml,
distillation.toml) from an experiment folder's run records (runs/*/run.json), as Markdown.

Usage: bench/derived_experiments.py soup|pruning|growth|distillation OUT_DIR

Every figure is read from the records: test bits/byte (`eval.test.bits_per_byte`), a run's own CPU
seconds (`compute.cpu_seconds`) and, for runs that start from other runs, the total charged to it
with every run it descends from (`derived.total_cpu_seconds`). Means are over the seeds.
"""
import glob
import json
import os
import sys
from statistics import mean


def load(out):
    runs = []
    for path in sorted(glob.glob(os.path.join(out, "runs", "*", "run.json"))):
        with open(path) as f:
            runs.append(json.load(f))
    failed = glob.glob(os.path.join(out, "runs", "*", "failed.json"))
    if failed:
        print(f"warning: {len(failed)} failed runs in {out}", file=sys.stderr)
    return runs


def bpb(run):
    return run["record"]["eval"]["test"]["bits_per_byte"]


def own(run):
    return run["record"]["compute"]["cpu_seconds"]


def total(run):
    d = run["record"].get("derived")
    return d["total_cpu_seconds"] if d else own(run)


def seed_of(run, by_id):
    """The seed a run pairs by: its own for a root run, its first parent's otherwise."""
    d = run["record"].get("derived")
    if d and d.get("op"):
        return seed_of(by_id[d["parents"][0]["id"]], by_id)
    return run["record"]["recipe"]["seed"]


def by_arm_and_seed(runs):
    by_id = {r["id"]: r for r in runs}
    table = {}
    for r in runs:
        table.setdefault(r["arm"], {})[seed_of(r, by_id)] = r
    return table


def row(name, runs_by_seed, seeds, charge=total):
    cells = [f"{bpb(runs_by_seed[s]):.4f}" for s in seeds]
    cpu = mean(charge(runs_by_seed[s]) for s in seeds)
    m = mean(bpb(runs_by_seed[s]) for s in seeds)
    return f"| {name} | " + " | ".join(cells) + f" | **{m:.4f}** | {cpu:.1f} |"


def header(first, seeds):
    cols = " | ".join(f"seed {s}" for s in seeds)
    print(f"| {first} | {cols} | mean | CPU-s charged (mean) |")
    print("|---|" + "---|" * len(seeds) + "---|---|")


def soup(runs):
    t = by_arm_and_seed(runs)
    seeds = sorted(t["base"])
    header("model (test bits/byte)", seeds)
    print(row("parent (6 CPU-s)", t["base"], seeds))
    members = sorted(a for a in t if a.startswith("ft["))
    for a in members:
        print(row(f"fine-tune {a}", t[a], seeds))
    best = {s: min((t[a][s] for a in members), key=bpb) for s in seeds}
    print(row("best member (per seed)", best, seeds))
    print(row("**uniform soup of the 4**", t["soup"], seeds))
    for a in sorted(a for a in t if a.startswith("scratch")):
        print(row(f"from scratch {a}", t[a], seeds))


def pruning(runs):
    t = by_arm_and_seed(runs)
    seeds = sorted(t["base"])
    print("| method | sparsity | no recovery (seeds; mean) | + 3 CPU-s recovery (seeds; mean) |")
    print("|---|---|---|---|")
    fmt = lambda rs: "; ".join(f"{bpb(rs[s]):.4f}" for s in seeds) + f"; **{mean(bpb(rs[s]) for s in seeds):.4f}**"
    print(f"| none (dense) | 0 | {fmt(t['base'])} | {fmt(t['dense'])} |")
    for method in ["magnitude", "heads", "neurons"]:
        for sp in ["0.3", "0.6", "0.9"]:
            plain = t[f"{method}[budget=0,sparsity={sp}]"]
            rec = t[f"{method}[budget=3,sparsity={sp}]"]
            params = plain[seeds[0]]["record"]["compute"]["parameters"]
            print(f"| {method} | {sp} ({params} parameters) | {fmt(plain)} | {fmt(rec)} |")


def curve(run, by_id):
    """(CPU-s, validation loss) points, a derived run's after its first parent's, shifted by the
    CPU-s charged to its ancestors."""
    d = run["record"].get("derived")
    points = [(p["cpu_seconds"], p["val_loss"]) for p in run["record"]["curve"]]
    if not d:
        return points
    before = curve(by_id[d["parents"][0]["id"]], by_id)
    shift = d["total_cpu_seconds"] - d["own_cpu_seconds"]
    return before + [(c + shift, l) for c, l in points]


def reach(points, target):
    """The first CPU-s at which the curve reaches `target` (linear between points), or None."""
    prev = None
    for c, l in points:
        if l <= target:
            if prev is None or prev[1] == l:
                return c
            (c0, l0) = prev
            return c0 + (c - c0) * (l0 - target) / (l0 - l)
        prev = (c, l)
    return None


def growth(runs):
    by_id = {r["id"]: r for r in runs}
    t = by_arm_and_seed(runs)
    seeds = sorted(t["scratch"])
    print("| seed | final val loss: grown / scratch (nats/token) | target | CPU-s to reach it: grown (incl. its 2-block parent) / scratch | test bits/byte: grown / scratch | CPU-s charged: grown / scratch |")
    print("|---|---|---|---|---|---|")
    for s in seeds:
        g, sc = t["grown"][s], t["scratch"][s]
        cg, cs = curve(g, by_id), curve(sc, by_id)
        target = max(cg[-1][1], cs[-1][1])
        rg, rs = reach(cg, target), reach(cs, target)
        print(f"| {s} | {cg[-1][1]:.4f} / {cs[-1][1]:.4f} | {target:.4f} | "
              f"{rg:.1f} / {rs:.1f} | {bpb(g):.4f} / {bpb(sc):.4f} | {total(g):.1f} / {total(sc):.1f} |")


def distillation(runs):
    t = by_arm_and_seed(runs)
    seeds = sorted(t["plain"])
    kn = next(iter(t["kn5"].values()))
    print(f"Teachers: KN 5-gram {bpb(kn):.4f} bits/byte ({own(kn):.1f} CPU-s); 4-block transformer "
          + "; ".join(f"seed {s} {bpb(t['big'][s]):.4f}" for s in seeds)
          + f" ({mean(own(t['big'][s]) for s in seeds):.1f} CPU-s).\n")
    print("| student (test bits/byte) | " + " | ".join(f"seed {s}" for s in seeds)
          + " | mean | own CPU-s (mean) | CPU-s charged with teachers/parents (mean) |")
    print("|---|" + "---|" * len(seeds) + "---|---|---|")
    for arm, name in [("plain", "data alone"), ("from-kn5", "KN 5-gram teacher"),
                      ("from-big", "4-block teacher"), ("from-mix", "EM mixture teacher"),
                      ("subnet", "4-block's 2 strongest blocks, distilled from it")]:
        rs = t[arm]
        cells = " | ".join(f"{bpb(rs[s]):.4f}" for s in seeds)
        print(f"| {name} | {cells} | **{mean(bpb(rs[s]) for s in seeds):.4f}** | "
              f"{mean(own(rs[s]) for s in seeds):.1f} | {mean(total(rs[s]) for s in seeds):.1f} |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    {"model": soup, "soup": soup, "pruning": pruning, "growth": growth, "distillation": distillation}[sys.argv[1]](
        load(sys.argv[2]))
