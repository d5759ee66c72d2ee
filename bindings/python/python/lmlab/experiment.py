"""Experiments from Python (``lmlab experiment run``): run an experiment file, see its plan with
each run's status, and read the finished runs as a list of dicts or a pandas DataFrame.

>>> from lmlab import experiment
>>> experiment.run("exp.toml", "results/exp", jobs=2, lmlab="target/release/lmlab")
>>> experiment.results("results/exp", pandas=True)
"""

import json
import os
import shutil

from . import _lmlab
from ._errors import InvalidType

__all__ = ["plan", "results", "run"]


def _path(name, value):
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    raise InvalidType(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")


def run(spec, out, jobs=1, lmlab=None, threads_per_run=1):
    """Runs every unfinished run of the experiment file ``spec`` into the folder ``out``
    (finished runs are skipped, as ``lmlab experiment run`` skips them). With ``lmlab`` (the
    path of the ``lmlab`` executable, or ``True`` for the one on ``PATH``) runs go ``jobs`` at a
    time in child processes; without it, one at a time in this process. Returns a dict: total,
    skipped, finished, failed (a list of dicts: id, arm, error)."""
    if lmlab is True:
        lmlab = shutil.which("lmlab")
        if lmlab is None:
            raise FileNotFoundError("no lmlab executable on PATH")
    total, skipped, finished, failed = _lmlab.experiment_run(
        _path("spec", spec),
        _path("out", out),
        int(jobs),
        None if lmlab is None else _path("lmlab", lmlab),
        int(threads_per_run),
    )
    return {
        "total": total,
        "skipped": skipped,
        "finished": finished,
        "failed": [{"id": i, "arm": a, "error": e} for i, a, e in failed],
    }


def plan(spec, out):
    """The runs of the experiment file ``spec`` in ``out``, each a dict with its ``run`` (id, arm,
    recipe, budget, seed) and ``status`` (``finished``, ``failed``: retried next time, or
    ``pending``)."""
    return json.loads(_lmlab.experiment_plan_json(_path("spec", spec), _path("out", out)))


def results(out, pandas=False, failed=False):
    """The finished runs of the experiment folder ``out``: a list of their ``run.json`` entries
    (id, experiment, arm, finished, record), or with ``pandas`` a DataFrame with one row per run
    and the record's fields flattened (``record.eval.test.bits_per_byte``, ...). With ``failed``,
    the failures (``failed.json``) instead."""
    found = json.loads(_lmlab.experiment_results_json(_path("out", out)))
    rows = found["failed" if failed else "runs"]
    if not pandas:
        return rows
    import pandas as pd

    return pd.json_normalize(rows)
