"""Shared fixtures: a small synthetic corpus, models of every family trained through
``lmlab.train``, and the ``lmlab`` command the numbers are compared with."""

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

import lmlab

REPO = Path(__file__).resolve().parents[3]

WORDS = (
    "the a cat dog sat ran on under mat rug big small red blue and then it was "
    "happy sad very quite home away"
).split()


def sentences(count, seed):
    """``count`` lines of 3 to 12 words drawn with a fixed seed."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) for _ in range(count)]


def lmlab_command():
    """The ``lmlab`` binary: ``$LMLAB_BIN``, else the repository's target folders, else ``PATH``."""
    candidates = [os.environ.get("LMLAB_BIN")]
    candidates += [str(REPO / "target" / p / "lmlab") for p in ("debug", "release")]
    candidates.append(shutil.which("lmlab"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def cli():
    """Runs ``lmlab ARGS`` and returns the completed process (skips when there is no binary:
    `cargo build -p lmlab-cli` makes one)."""
    command = lmlab_command()
    if command is None:
        pytest.skip("no lmlab binary (set LMLAB_BIN or run `cargo build -p lmlab-cli`)")

    def run(*args, check=True):
        done = subprocess.run(
            [command, *map(str, args)], capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"lmlab {' '.join(map(str, args))}: {done.stderr}")
        return done

    return run


@pytest.fixture(scope="session")
def cli_json(cli):
    """Runs ``lmlab ARGS`` and parses its JSON output."""
    return lambda *args: json.loads(cli(*args).stdout)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """Train, valid and test text files."""
    folder = tmp_path_factory.mktemp("corpus")
    files = {}
    for split, (count, seed) in {"train": (600, 1), "valid": (60, 2), "test": (80, 3)}.items():
        path = folder / f"{split}.txt"
        lines = sentences(count, seed)
        if split == "test":
            lines.append("the zebra sat on the unseen mat")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files[split] = path
    return files


RECIPES = {
    "uniform": {"model": {"family": "uniform"}},
    "baseline": {"model": {"family": "baseline"}},
    "ngram": {"model": {"family": "ngram", "order": 3, "discount_fallback": [0.5, 1.0, 1.5]}},
    "ngram-bpe": {
        "model": {"family": "ngram", "order": 4, "discount_fallback": [0.5, 1.0, 1.5]},
        "tokenizer": {"kind": "bpe", "vocab_size": 300},
    },
    "memory": {"model": {"family": "memory", "context": 2}},
    "transformer": {
        "model": {"family": "transformer", "n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 16},
        "tokenizer": {"kind": "bytes"},
        "sequences": "stream",
        "train": {"batch_size": 4, "max_steps": 20, "eval_iters": 1, "learning_rate": 3e-3, "min_lr": 3e-4},
    },
}


@pytest.fixture(scope="session")
def runs(corpus, tmp_path_factory):
    """Each recipe of ``RECIPES`` trained once: name → (run record, model path)."""
    folder = tmp_path_factory.mktemp("models")
    out = {}
    for name, recipe in RECIPES.items():
        output = folder / name
        record = lmlab.train(
            recipe, corpus["train"], valid=corpus["valid"], test=corpus["test"], output=output
        )
        out[name] = (record, output)
    return out
