"""Probability files from Python: written as ``lmlab eval --probs`` writes them, read into numpy
columns (and pandas), written back byte for byte, and ensembled as ``lmlab ensemble``."""

from pathlib import Path

import numpy as np
import pytest

import lmlab


@pytest.fixture(scope="module")
def probs(runs, corpus, tmp_path_factory):
    """valid and test probability files of the n-gram and the baseline, written from Python."""
    folder = tmp_path_factory.mktemp("probs")
    files = {}
    for family in ("ngram", "baseline"):
        model = lmlab.load(runs[family][1])
        for split in ("valid", "test"):
            path = folder / f"{family}.{split}.probs.tsv"
            model.evaluate(Path(corpus[split]), probs=path)
            files[family, split] = path
    return files


def test_evaluate_writes_what_lmlab_eval_writes(probs, runs, corpus, cli, tmp_path):
    theirs = tmp_path / "cli.probs.tsv"
    cli("eval", runs["ngram"][1], "--input", corpus["test"], "--probs", theirs)
    assert probs["ngram", "test"].read_bytes() == theirs.read_bytes()


def test_read_gives_numpy_columns(probs, runs, corpus):
    table = lmlab.read_probs(probs["ngram", "test"])
    report = lmlab.load(runs["ngram"][1]).evaluate(Path(corpus["test"]))
    assert len(table) == report["tokens"]
    assert table.logp.dtype == np.float64 and table.seq.dtype == np.uint32
    assert float(table.logp.sum()) == pytest.approx(report["log_prob_sum"], rel=1e-12)
    assert table.perplexity() == pytest.approx(report["perplexity"], rel=1e-12)
    assert table.header["bytes"] == report["bytes"]
    assert table.seq[-1] == report["sequences"] - 1
    assert table.token[table.pos.tolist().index(0, 1) - 1] == "</s>"


def test_write_round_trips_byte_for_byte(probs, tmp_path):
    table = lmlab.read_probs(probs["baseline", "valid"])
    again = tmp_path / "again.probs.tsv"
    table.write(again)
    assert again.read_bytes() == probs["baseline", "valid"].read_bytes()


def test_columns_of_different_lengths_are_refused(probs, tmp_path):
    table = lmlab.read_probs(probs["baseline", "valid"])
    table.logp = table.logp[:-1]
    with pytest.raises(ValueError, match="the columns differ in length"):
        table.write(tmp_path / "bad.probs.tsv")


def test_pandas(probs):
    pandas = pytest.importorskip("pandas")
    frame = lmlab.read_probs(probs["ngram", "valid"]).to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == ["seq", "pos", "token", "logp"]


def test_ensemble_equals_lmlab_ensemble(probs, cli_json, tmp_path):
    dev = [probs["ngram", "valid"], probs["baseline", "valid"]]
    test = [probs["ngram", "test"], probs["baseline", "test"]]
    ours = lmlab.ensemble(dev, test, write_probs=tmp_path / "ours.probs.tsv")
    theirs = cli_json(
        "ensemble", "--dev", *dev, "--test", *test, "--json",
        "--write-probs", tmp_path / "theirs.probs.tsv",
    )
    ours.pop("fit_seconds")
    theirs.pop("fit_seconds")
    assert ours == theirs
    assert (tmp_path / "ours.probs.tsv").read_bytes() == (tmp_path / "theirs.probs.tsv").read_bytes()
    assert sum(m["weight"] for m in ours["members"]) == pytest.approx(1.0)


def test_ensemble_of_mismatched_files(probs):
    with pytest.raises(lmlab.InvalidInput):
        lmlab.ensemble([probs["ngram", "valid"], probs["baseline", "test"]])


def test_ensemble_of_models_with_different_tokenizers(runs, corpus, cli, tmp_path):
    files = []
    for family in ("ngram", "ngram-bpe"):
        path = tmp_path / f"{family}.probs.tsv"
        lmlab.load(runs[family][1]).evaluate(Path(corpus["valid"]), probs=path)
        files.append(path)
    with pytest.raises(lmlab.InvalidInput) as caught:
        lmlab.ensemble(files)
    done = cli("ensemble", "--dev", *files, check=False)
    assert done.returncode != 0
    assert done.stderr.strip().endswith(str(caught.value))
