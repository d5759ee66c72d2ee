"""Experiments from Python run the same runs as ``lmlab experiment run``, with the same ids and
numbers, skip finished runs, and report their plan and results."""

import shutil

import pytest

from lmlab import experiment

SPEC = """
name = "python"
hypothesis = "a trigram beats a bigram on these words"
claim = "arm:kn[order=3] < arm:bigram on test.bits_per_byte"
budgets = [5]
seeds = [1]

[data]
train = "train.txt"
valid = "valid.txt"
test = "test.txt"

[[arm]]
name = "kn"
recipe = { model = { family = "ngram", discount_fallback = [0.5, 1.0, 1.5] } }
sweep = { "model.order" = [2, 3] }

[[arm]]
name = "bigram"
recipe = { model = { family = "baseline" } }
"""


@pytest.fixture()
def spec(corpus, tmp_path):
    folder = tmp_path / "exp"
    folder.mkdir()
    for split, path in corpus.items():
        shutil.copy(path, folder / f"{split}.txt")
    (folder / "exp.toml").write_text(SPEC)
    return folder / "exp.toml"


def test_run_plan_results_equal_the_cli(spec, tmp_path, cli):
    out = tmp_path / "out"
    before = experiment.plan(spec, out)
    assert [row["status"] for row in before] == ["pending"] * 3
    summary = experiment.run(spec, out)
    assert summary == {"total": 3, "skipped": 0, "finished": 3, "failed": []}
    assert [row["status"] for row in experiment.plan(spec, out)] == ["finished"] * 3
    again = experiment.run(spec, out)
    assert again["skipped"] == 3 and again["finished"] == 0
    ours = {r["id"]: r for r in experiment.results(out)}
    assert sorted(r["arm"] for r in ours.values()) == ["bigram", "kn[order=2]", "kn[order=3]"]

    cli_out = tmp_path / "cli-out"
    cli("experiment", "run", spec, "--out", cli_out)
    theirs = {r["id"]: r for r in experiment.results(cli_out)}
    assert sorted(ours) == sorted(theirs)
    for run_id, entry in ours.items():
        assert entry["record"]["eval"] == theirs[run_id]["record"]["eval"]
    assert experiment.results(out, failed=True) == []


def test_results_as_pandas(spec, tmp_path):
    pandas = pytest.importorskip("pandas")
    out = tmp_path / "out"
    experiment.run(spec, out)
    frame = experiment.results(out, pandas=True)
    assert isinstance(frame, pandas.DataFrame) and len(frame) == 3
    assert "record.eval.test.bits_per_byte" in frame.columns


def test_missing_spec(tmp_path):
    with pytest.raises(FileNotFoundError):
        experiment.run(tmp_path / "none.toml", tmp_path / "out")
