"""Models from Python give the numbers of the ``lmlab`` command on the same model and text."""

import math
from pathlib import Path

import numpy as np
import pytest

import lmlab
from conftest import RECIPES

FAMILIES = sorted(RECIPES)


def assert_same_report(ours, theirs, rel=1e-12):
    """Every field of two ``lmlab eval --json`` reports equal (numbers to ``rel``)."""
    assert sorted(ours) == sorted(theirs)
    for key, value in theirs.items():
        if isinstance(value, float):
            assert ours[key] == pytest.approx(value, rel=rel, abs=0), key
        else:
            assert ours[key] == value, key


@pytest.mark.parametrize("family", FAMILIES)
def test_evaluate_equals_lmlab_eval(family, runs, corpus, cli_json):
    _, path = runs[family]
    model = lmlab.load(path)
    theirs = cli_json("eval", path, "--input", corpus["test"], "--json")
    ours = model.evaluate(Path(corpus["test"]))
    assert_same_report(ours, theirs)
    assert math.isfinite(ours["perplexity"]) and ours["perplexity"] > 1


@pytest.mark.parametrize("family", FAMILIES)
def test_evaluate_on_text_equals_the_file(family, runs, corpus):
    model = lmlab.load(runs[family][1])
    from_file = model.evaluate(Path(corpus["test"]))
    from_text = model.evaluate(corpus["test"].read_text(encoding="utf-8"))
    assert from_text.pop("input") == "<text>"
    from_file.pop("input")
    assert from_text == from_file


@pytest.mark.parametrize("family", ["ngram", "memory"])
def test_accuracy_equals_lmlab_eval_accuracy(family, runs, corpus, cli_json):
    _, path = runs[family]
    theirs = cli_json("eval", path, "--input", corpus["test"], "--json", "--accuracy")
    ours = lmlab.load(path).evaluate(Path(corpus["test"]), accuracy=True)
    assert ours["accuracy"] == theirs["accuracy"]


@pytest.mark.parametrize("family", FAMILIES)
def test_run_record_evaluation_equals_evaluate(family, runs, corpus):
    record, path = runs[family]
    model = lmlab.load(path)
    assert record["model_path"] == str(path)
    for split in ("valid", "test"):
        report = model.evaluate(Path(corpus[split]))
        assert record["eval"][split]["perplexity"] == pytest.approx(report["perplexity"], rel=1e-12)
        assert record["eval"][split]["tokens"] == report["tokens"]


@pytest.mark.parametrize("family", ["baseline", "ngram", "ngram-bpe", "memory"])
def test_score_adds_up_to_the_evaluation(family, runs, corpus):
    model = lmlab.load(runs[family][1])
    lines = corpus["test"].read_text(encoding="utf-8").splitlines()
    total, tokens = 0.0, 0
    for line in lines:
        log_probs, toks = model.score(line)
        assert isinstance(log_probs, np.ndarray) and log_probs.dtype == np.float64
        assert len(toks) == len(log_probs) and toks[-1] == "</s>"
        assert np.all(log_probs <= 0)
        total += float(log_probs.sum())
        tokens += len(toks)
    report = model.evaluate(Path(corpus["test"]))
    assert tokens == report["tokens"]
    assert total == pytest.approx(report["log_prob_sum"], rel=1e-12)


def test_score_of_a_long_text_on_a_worker_thread_shares_token_strings(runs):
    model = lmlab.load(runs["ngram"][1])
    # Over a megabyte: scored on a worker thread that Ctrl-C can leave.
    text = "the cat sat on the mat " * 50_000
    log_probs, tokens = model.score(text)
    vocab = model.tokenizer.vocab
    assert tokens == [vocab[i] for i in model.tokenizer.encode(text)] + ["</s>"]
    # One str object per vocabulary id, shared by every list score returns.
    assert tokens[0] is tokens[6] and tokens[0] is model.score("the")[1][0]
    short, _ = model.score("the cat sat on the mat")
    assert list(log_probs[:6]) == list(short[:6])


@pytest.mark.parametrize("family", ["baseline", "ngram", "memory", "transformer"])
def test_distribution_agrees_with_score(family, runs):
    model = lmlab.load(runs[family][1])
    probs = model.distribution("the cat")
    assert probs.shape == (model.vocab_size,)
    assert probs.sum() == pytest.approx(1.0, abs=1e-9)
    log_probs, tokens = model.score("the cat sat")
    ids = model.tokenizer.encode("the cat sat")
    # The probability of the third token given the first two.
    prefix = model.tokenizer.decode(ids[:2])
    assert math.log(model.distribution(prefix)[ids[2]]) == pytest.approx(log_probs[2], abs=1e-6)


@pytest.mark.parametrize("family", ["ngram", "transformer"])
def test_generate_equals_lmlab_generate(family, runs, cli_json):
    _, path = runs[family]
    model = lmlab.load(path)
    options = {"prompt": "the", "max_tokens": 12, "seed": 7, "temperature": 0.8, "top_k": 5}
    theirs = cli_json(
        "generate", path, "--json", "--prompt", "the", "--max-tokens", 12, "--seed", 7,
        "--temperature", 0.8, "--top-k", 5, "--num-samples", 3,
    )
    assert model.generate(**options) == theirs["samples"][0]["text"]
    assert model.samples(3, **options) == [s["text"] for s in theirs["samples"]]
    assert model.generate(**options) == model.generate(**options)


def test_properties(runs):
    model = lmlab.load(runs["ngram"][1])
    assert model.kind == "ngram"
    assert model.sequences == "line"
    assert model.parameters > 0
    assert model.tokenizer.kind == "words"
    assert model.vocab_size == model.tokenizer.vocab_size
    assert "ngram" in repr(model)
    neural = lmlab.load(runs["transformer"][1])
    assert neural.sequences == "stream"


def test_run_record_fields(runs):
    record, _ = runs["transformer"]
    for key in ("recipe", "data", "compute", "model_path", "eval", "curve", "lmlab_version"):
        assert key in record
    assert record["recipe"]["model"]["family"] == "transformer"
    assert record["compute"]["cpu_seconds"] > 0


def test_recipe_as_toml_equals_recipe_as_dict(runs, corpus, tmp_path):
    toml = """
[model]
family = "ngram"
order = 3
discount_fallback = [0.5, 1.0, 1.5]
"""
    record = lmlab.train(toml, corpus["train"], test=corpus["test"], output=tmp_path / "m")
    assert record["eval"]["test"] == runs["ngram"][0]["eval"]["test"]
    assert (tmp_path / "m").read_bytes() == Path(runs["ngram"][1]).read_bytes()
