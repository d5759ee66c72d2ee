"""Bad input raises the Python exception of its kind with the message the ``lmlab`` command
prints (after its ``error: ``)."""

from pathlib import Path

import pytest

import lmlab


def cli_message(cli, *args):
    """The message of a failing ``lmlab`` command."""
    done = cli(*args, check=False)
    assert done.returncode != 0
    # The message may span lines (a TOML error points into the file).
    start = done.stderr.rfind("error: ")
    assert start == 0 or done.stderr[start - 1] == "\n", done.stderr
    return done.stderr[start + len("error: "):].rstrip("\n")


def test_missing_model_file(tmp_path, cli, corpus):
    missing = tmp_path / "no-such.model"
    with pytest.raises(FileNotFoundError) as caught:
        lmlab.load(missing)
    assert isinstance(caught.value, lmlab.Error)
    assert str(caught.value) == cli_message(cli, "eval", missing, "--input", corpus["test"])


def test_missing_text_file(tmp_path, runs, cli):
    _, path = runs["ngram"]
    missing = tmp_path / "no-such.txt"
    with pytest.raises(lmlab.FileNotFound) as caught:
        lmlab.load(path).evaluate(missing)
    assert str(caught.value) == cli_message(cli, "eval", path, "--input", missing)


@pytest.mark.parametrize("family", ["ngram", "baseline", "memory"])
def test_truncated_model_file(family, tmp_path, runs, cli, corpus):
    full = Path(runs[family][1]).read_bytes()
    truncated = tmp_path / "truncated.model"
    truncated.write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError) as caught:
        lmlab.load(truncated)
    assert isinstance(caught.value, lmlab.Error)
    assert str(caught.value) == cli_message(cli, "eval", truncated, "--input", corpus["test"])


def test_recipe_with_an_unknown_key(tmp_path, corpus, cli):
    recipe = '[model]\nfamily = "ngram"\norder = 3\nordr = 4\n'
    with pytest.raises(ValueError, match="unknown field `ordr`") as caught:
        lmlab.train(recipe, corpus["train"], output=tmp_path / "m")
    assert isinstance(caught.value, lmlab.Error)
    recipe_file = tmp_path / "recipe.toml"
    recipe_file.write_text(recipe)
    message = cli_message(
        cli, "train", "--recipe", recipe_file, "--train", corpus["train"], "-o", tmp_path / "m2"
    )
    # The command names the file before the library's message.
    assert message == f"{recipe_file}: {caught.value}"
    with pytest.raises(lmlab.InvalidInput, match="unknown field `ordr`"):
        lmlab.train({"model": {"family": "ngram", "ordr": 4}}, corpus["train"], output=tmp_path / "m")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("bad", [None, 3, b"the cat", ["the", "cat"]])
def test_non_str_text(bad, runs):
    model = lmlab.load(runs["ngram"][1])
    for call in (model.score, model.distribution, model.evaluate, model.tokenizer.encode):
        with pytest.raises(TypeError, match="must be a str") as caught:
            call(bad)
        assert isinstance(caught.value, lmlab.Error)


def test_tokenizer_file_that_is_a_model(runs, cli, tmp_path):
    _, path = runs["ngram"]
    with pytest.raises(ValueError) as caught:
        lmlab.Tokenizer.load(path)
    assert isinstance(caught.value, lmlab.Error)
    text = tmp_path / "t.txt"
    text.write_text("the cat\n")
    assert str(caught.value) == cli_message(cli, "tokenizer", "stats", path, "--input", text)


def test_bad_sampling_options(runs):
    model = lmlab.load(runs["ngram"][1])
    with pytest.raises(lmlab.InvalidInput, match="top-p must lie in"):
        model.generate(top_p=1.5)
    with pytest.raises(ValueError, match="temperature"):
        model.generate(temperature=-1)


def test_unknown_sequence_mode(runs):
    model = lmlab.load(runs["ngram"][1])
    with pytest.raises(ValueError, match="unknown sequence mode 'lines'"):
        model.evaluate("the cat\n", sequences="lines")
