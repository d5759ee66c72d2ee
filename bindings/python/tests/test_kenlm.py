"""``lmlab.kenlm`` answers as KenLM's Python module does, value for value: on a small model
trained here (exported to ARPA), and on Penn Treebank's test set with the PTB 5-gram of
``../shared`` (KenLM's own ARPA, and the same model as an lmlab file), every score, n-gram length
and OOV flag of every sentence to 1e-5.

KenLM's module is the ``kenlm`` package from PyPI; without it these tests skip, unless
``LMLAB_PYTHON`` is set (as ``.ci/run`` sets it), where they fail."""

import copy
import lzma
import math
import os
from pathlib import Path

import pytest

import lmlab.kenlm

from conftest import REPO

try:
    import kenlm
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("LMLAB_PYTHON"):
        raise
    kenlm = None

needs_kenlm = pytest.mark.skipif(kenlm is None, reason="KenLM's module: pip install kenlm")

SHARED = REPO.parent / "shared"
PTB_ARPA = SHARED / "fixtures/kenlm/ptb.o5.arpa.xz"
PTB_TEST = SHARED / "data/ptb/ptb.test.txt"

TOLERANCE = 1e-5


ALL_MODES = ((True, True), (False, True), (True, False), (False, False))


def assert_same_answers(ours, theirs, sentences, modes=ALL_MODES):
    """Every query of both modules agrees on every sentence, with and without ``<s>`` and
    ``</s>`` as ``modes`` say; returns the tokens compared."""
    assert ours.order == theirs.order
    tokens = 0
    for sentence in sentences:
        for bos, eos in modes:
            a = list(ours.full_scores(sentence, bos=bos, eos=eos))
            b = list(theirs.full_scores(sentence, bos=bos, eos=eos))
            assert len(a) == len(b), sentence
            for (pa, na, oa), (pb, nb, ob) in zip(a, b):
                assert abs(pa - pb) <= TOLERANCE, (sentence, pa, pb)
                assert (na, oa) == (nb, ob), (sentence, bos, eos)
            tokens += len(a)
            assert abs(ours.score(sentence, bos, eos) - theirs.score(sentence, bos, eos)) <= TOLERANCE
        p_ours, p_theirs = ours.perplexity(sentence), theirs.perplexity(sentence)
        assert abs(p_ours - p_theirs) <= TOLERANCE * p_theirs
    return tokens


def assert_same_states(ours, theirs, sentence):
    """Word-by-word scoring through states agrees, and equals ``score``."""
    states = [(lmlab.kenlm.State(), lmlab.kenlm.State()), (kenlm.State(), kenlm.State())]
    totals = []
    for model, (a, b) in zip((ours, theirs), states):
        model.BeginSentenceWrite(a)
        total, first = 0.0, copy.copy(a)
        for word in sentence.split() + ["</s>"]:
            total += model.BaseScore(a, word, b)
            a, b = b, a
        totals.append(total)
        full = model.BaseFullScore(first, sentence.split()[0], b)
        totals.append((full.log_prob, full.ngram_length, full.oov))
        # The same object as input and output state.
        model.NullContextWrite(a)
        model.BaseScore(a, sentence.split()[0], a)
        totals.append(a)
    assert abs(totals[0] - totals[3]) <= TOLERANCE
    assert abs(totals[1][0] - totals[4][0]) <= TOLERANCE
    assert totals[1][1:] == totals[4][1:]
    # Summed in double precision here, as full_scores' values would be.
    assert abs(totals[0] - sum(p for p, _, _ in ours.full_scores(sentence))) <= TOLERANCE
    assert len(totals[2]) == 1


@pytest.fixture(scope="module")
def small_arpa(runs, cli, tmp_path_factory):
    """The small trigram of the shared fixtures, as ARPA (``lmlab ngram export-arpa``)."""
    arpa = tmp_path_factory.mktemp("arpa") / "small.arpa"
    cli("ngram", "export-arpa", runs["ngram"][1], "-o", arpa)
    return arpa


@needs_kenlm
def test_small_model_answers_as_kenlm(small_arpa, runs, corpus):
    theirs = kenlm.Model(str(small_arpa))
    sentences = corpus["test"].read_text(encoding="utf-8").splitlines()
    sentences += ["", "zebra", "the the the zebra </s> cat", "<s> the cat"]
    for path in (small_arpa, runs["ngram"][1]):
        ours = lmlab.kenlm.Model(path)
        assert assert_same_answers(ours, theirs, sentences) > 0
        assert_same_states(ours, theirs, sentences[0])
        for word in ("the", "zebra", "<unk>", "</s>", "<s>"):
            assert (word in ours) == (word in theirs), word


def test_state_is_comparable_and_hashable(runs):
    model = lmlab.kenlm.Model(runs["ngram"][1])
    a, b = lmlab.kenlm.State(), lmlab.kenlm.State()
    assert a == b and hash(a) == hash(b)
    model.BeginSentenceWrite(a)
    assert a != b
    model.BeginSentenceWrite(b)
    assert a == b and len({a, b}) == 1
    out = lmlab.kenlm.State()
    model.BaseScore(a, "the", out)
    assert out != a and len(out) == 2


def test_model_api(runs):
    path = Path(runs["ngram"][1])
    model = lmlab.kenlm.Model(path)
    assert model.order == 3
    assert model.path == str(path.resolve())
    assert repr(model) == f"<Model from {path.name}>"
    assert model.score(b"the cat") == model.score("the cat")
    scores = list(model.full_scores("the cat"))
    assert math.isclose(sum(s for s, _, _ in scores), model.score("the cat"), abs_tol=1e-5)
    assert lmlab.kenlm.LanguageModel is lmlab.kenlm.Model


def test_errors(tmp_path, runs):
    with pytest.raises(FileNotFoundError):
        lmlab.kenlm.Model(tmp_path / "missing.arpa")
    bad = tmp_path / "bad.arpa"
    bad.write_text("not an arpa file\n")
    with pytest.raises(ValueError):
        lmlab.kenlm.Model(bad)
    with pytest.raises(ValueError, match="lmlab.kenlm queries word models"):
        lmlab.kenlm.Model(runs["ngram-bpe"][1])


@pytest.fixture(scope="module")
def ptb(tmp_path_factory, cli):
    """The PTB 5-gram (KenLM's lmplz) as ARPA and as an lmlab file, and the test sentences."""
    if not (PTB_ARPA.exists() and PTB_TEST.exists()):
        pytest.skip(f"{SHARED} with the PTB 5-gram fixture is not there")
    folder = tmp_path_factory.mktemp("ptb")
    arpa = folder / "ptb.o5.arpa"
    with lzma.open(PTB_ARPA, "rb") as src, open(arpa, "wb") as dst:
        dst.write(src.read())
    model_file = folder / "ptb.o5.ngram"
    cli("ngram", "import-arpa", arpa, "-o", model_file)
    # The fixture was trained with PTB's `<unk>` spelled `<oov>` (its README).
    sentences = PTB_TEST.read_text(encoding="utf-8").replace("<unk>", "<oov>").splitlines()
    return arpa, model_file, sentences


@pytest.fixture(scope="module")
def ptb_kenlm(ptb):
    """KenLM's module on the PTB ARPA (loaded once: reading the ARPA takes seconds)."""
    if kenlm is None:
        pytest.skip("KenLM's module: pip install kenlm")
    return kenlm.Model(str(ptb[0]))


@needs_kenlm
@pytest.mark.parametrize("form", ["arpa", "lmlab file"])
def test_ptb_5gram_answers_as_kenlm(form, ptb, ptb_kenlm):
    arpa, model_file, sentences = ptb
    theirs = ptb_kenlm
    ours = lmlab.kenlm.Model(arpa if form == "arpa" else model_file)
    # Every sentence as KenLM's users score them; the first 500 in the other three modes too.
    tokens = assert_same_answers(ours, theirs, sentences, modes=[(True, True)])
    assert tokens == sum(len(s.split()) + 1 for s in sentences)
    assert assert_same_answers(ours, theirs, sentences[:500], modes=ALL_MODES[1:]) > 0
    for sentence in sentences[:50]:
        assert_same_states(ours, theirs, sentence)
    ours_total = sum(ours.score(s) for s in sentences)
    theirs_total = sum(theirs.score(s) for s in sentences)
    words = sum(len(s.split()) + 1 for s in sentences)
    assert 10 ** (-ours_total / words) == pytest.approx(10 ** (-theirs_total / words), rel=1e-6)
