"""Ctrl-C interrupts a long call: a subprocess running a long ``lmlab.train`` gets SIGINT and
raises ``KeyboardInterrupt`` within seconds. An n-gram run leaves neither the model file nor a
temporary file (while the call ran, its staging folder was there); a neural run stops at its next
step with a checkpoint, as ``lmlab train`` does."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

TRAIN = textwrap.dedent(
    """
    import json, sys, lmlab
    recipe = json.loads(sys.argv[3])
    print("training", flush=True)
    try:
        lmlab.train(recipe, sys.argv[1], valid=sys.argv[1], output=sys.argv[2])
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        sys.exit(3)
    print("finished", flush=True)
    """
)


posix = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a process is POSIX")


def long_corpus(path, words=6_000_000, seed=7):
    """Random words over a vocabulary of 20,000: order-6 training takes well over ten seconds."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(20_000)]
    drawn = rng.choices(vocabulary, k=words)
    with open(path, "w", encoding="utf-8") as out:
        for start in range(0, words, 20):
            out.write(" ".join(drawn[start : start + 20]) + "\n")


def interrupt_training(recipe, corpus, out_dir, output):
    """Starts ``lmlab.train`` in a subprocess, sends SIGINT once the folder ``out_dir`` has an
    entry and a second has passed, and returns the seconds until the subprocess had raised
    ``KeyboardInterrupt`` and exited."""
    child = subprocess.Popen(
        [sys.executable, "-c", TRAIN, str(corpus), str(output), json.dumps(recipe)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "training"
        deadline = time.monotonic() + 30
        while not os.listdir(out_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.listdir(out_dir), "the training never started"
        time.sleep(1.0)
        child.send_signal(signal.SIGINT)
        sent = time.monotonic()
        stdout, stderr = child.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "finished" not in stdout, "the training ended before the signal: make it longer"
    assert stdout.strip() == "KeyboardInterrupt", stderr
    assert child.returncode == 3, stderr
    return took


@posix
def test_ctrl_c_stops_a_long_ngram_train_and_leaves_no_file(tmp_path):
    corpus = tmp_path / "train.txt"
    long_corpus(corpus)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    recipe = {"model": {"family": "ngram", "order": 6, "discount_fallback": [0.5, 1.0, 1.5]}}
    # The staging folder appears beside the output as the training starts.
    took = interrupt_training(recipe, corpus, out_dir, out_dir / "model.ngram")
    assert took < 5, f"KeyboardInterrupt came {took:.1f} s after SIGINT"
    assert os.listdir(out_dir) == [], "an interrupted train left files"


@posix
def test_ctrl_c_stops_a_neural_train_at_a_checkpoint(tmp_path):
    corpus = tmp_path / "train.txt"
    corpus.write_text("the cat sat on the mat and then it ran away\n" * 400, encoding="utf-8")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    recipe = {
        "model": {"family": "transformer", "n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 16},
        "tokenizer": {"kind": "bytes"},
        "sequences": "stream",
        "train": {"batch_size": 4, "max_steps": 10_000_000, "eval_interval": 10_000_000,
                  "checkpoint_interval": 10_000_000, "eval_iters": 1, "learning_rate": 3e-3,
                  "min_lr": 3e-4},
    }
    # The run directory's config is written as the training starts.
    took = interrupt_training(recipe, corpus, run_dir, run_dir)
    assert took < 5, f"KeyboardInterrupt came {took:.1f} s after SIGINT"
    assert (run_dir / "checkpoint.safetensors").is_file(), sorted(os.listdir(run_dir))
    assert [n for n in os.listdir(run_dir) if "tmp" in n or n.startswith(".")] == []
