"""Ctrl-C interrupts a long call: a subprocess running a long ``lmlab.train`` gets SIGINT and
raises ``KeyboardInterrupt`` within seconds, and neither the model file nor a temporary file is
left behind (while the call ran, its staging folder was there)."""

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
    import sys, lmlab
    recipe = {"model": {"family": "ngram", "order": 6, "discount_fallback": [0.5, 1.0, 1.5]}}
    print("training", flush=True)
    try:
        lmlab.train(recipe, sys.argv[1], output=sys.argv[2])
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        sys.exit(3)
    print("finished", flush=True)
    """
)


def long_corpus(path, words=6_000_000, seed=7):
    """Random words over a vocabulary of 20,000: order-6 training takes well over ten seconds."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(20_000)]
    drawn = rng.choices(vocabulary, k=words)
    with open(path, "w", encoding="utf-8") as out:
        for start in range(0, words, 20):
            out.write(" ".join(drawn[start : start + 20]) + "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a process is POSIX")
def test_ctrl_c_stops_a_long_train_and_leaves_no_file(tmp_path):
    corpus = tmp_path / "train.txt"
    long_corpus(corpus)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / "model.ngram"
    child = subprocess.Popen(
        [sys.executable, "-c", TRAIN, str(corpus), str(output)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "training"
        # Let the training get under way: its staging folder appears beside the output.
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
    assert "finished" not in stdout, "the training ended before the signal: make the corpus longer"
    assert stdout.strip() == "KeyboardInterrupt", stderr
    assert child.returncode == 3, stderr
    assert took < 5, f"KeyboardInterrupt came {took:.1f} s after SIGINT"
    assert os.listdir(out_dir) == [], "an interrupted train left files"
