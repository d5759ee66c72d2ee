"""Summary tables of bench/equi_learning.sh: per run, its training (steps, CPU-s, validation bits
per character), He & Su's law at its first and last saved steps (prediction residual per layer,
fitted ratio, R², the spread of the layer-to-layer ratios), and its agreement with the 5-gram at
its saved steps (overall and by context length). Standard library only.

Usage: python3 bench/equi_learning_summary.py OUT RUN...
"""

import json
import math
import sys
from pathlib import Path


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    out = Path(sys.argv[1])
    runs = sys.argv[2:]
    print("\ntraining (equal CPU budget, one thread)")
    print(f"{'run':<6} {'params':>8} {'steps':>6} {'CPU-s':>6} {'val bpc':>8}")
    for name in runs:
        r = load(out / name / "report.json")
        bpc = r["val_loss"] / math.log(2)
        print(f"{name:<6} {r['parameters']:>8} {r['steps']:>6} "
              f"{r['compute']['cpu_seconds']:>6.1f} {bpc:>8.3f}")

    print("\nequi-learning law: PR per layer (first → last), ratio ρ = exp(slope of ln PR), R², "
          "layer-to-layer ratios mean ± sd")
    for name in runs:
        fits = load(out / name / "analysis" / "law.json")
        for fit in (fits[0], fits[-1]):
            prs = " ".join(f"{p:.3f}" for p in fit["residuals"])
            lr = fit["layer_ratios"]
            mean = sum(lr) / len(lr) if lr else float("nan")
            print(f"{name:<6} step {fit['step']:>5}  PR {prs:<48} ρ {fit['ratio']:.3f}  "
                  f"R² {fit['r_squared']:.3f}  ratios {mean:.3f} ± {fit['ratio_sd']:.3f}")

    print("\nagreement with the KN 5-gram on held-out lines: top-1 agreement (KL nats) by context "
          "length, and overall; accuracy of the run / of the 5-gram")
    shown = [0, 1, 2, 4, 8, 16, 32]
    header = " ".join(f"{'c=' + str(c):>13}" for c in shown)
    print(f"{'run':<6} {'step':>5} {header} {'all':>13} {'acc run/5g':>12}")
    for name in runs:
        a = load(out / name / "analysis" / "agreement.json")
        steps = a["steps"]
        picked = [steps[0], steps[len(steps) // 2], steps[-1]]
        for s in picked:
            by = {c["context"]: c for c in s["contexts"]}
            cells = " ".join(
                f"{by[c]['agreement']:.3f} ({by[c]['mean_kl']:.2f})" if c in by else f"{'-':>13}"
                for c in shown)
            print(f"{name:<6} {s['step']:>5} {cells} {s['all']['agreement']:.3f} ({s['all']['mean_kl']:.2f}) "
                  f"{s['all']['model_accuracy']:.3f}/{s['all']['reference_accuracy']:.3f}")
    print(f"\nplots: {out / 'plots'}")


if __name__ == "__main__":
    main()
