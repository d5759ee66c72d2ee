"""A drop-in for KenLM's Python module (``import lmlab.kenlm as kenlm``): ``Model`` loads an ARPA
file (plain, ``.gz`` or ``.xz``) or an lmlab n-gram model file and answers the same queries with
the same numbers: log10 probabilities, sentence totals summed in single precision as KenLM sums
them, and word-by-word scoring through :class:`State`.

>>> import lmlab.kenlm as kenlm
>>> model = kenlm.Model("ptb.arpa")
>>> model.score("the cat sat", bos=True, eos=True)
"""

import os

from . import _lmlab
from ._errors import InvalidType

__all__ = ["FullScoreReturn", "LanguageModel", "Model", "State"]

#: A query state (the context words and their backoffs): pass it to
#: :meth:`Model.BeginSentenceWrite`, :meth:`Model.NullContextWrite`, :meth:`Model.BaseScore`.
State = _lmlab.State


def _text(value):
    """A sentence or word as ``str`` (KenLM takes ``bytes`` too)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    raise InvalidType(f"expected str or bytes, got {type(value).__name__}")


class FullScoreReturn:
    """What :meth:`Model.BaseFullScore` returns: the log10 probability, the length of the n-gram
    matched, and whether the word is unknown."""

    __slots__ = ("log_prob", "ngram_length", "oov")

    def __init__(self, log_prob, ngram_length, oov):
        self.log_prob = log_prob
        self.ngram_length = ngram_length
        self.oov = oov

    def __repr__(self):
        return (
            f"FullScoreReturn(log_prob={self.log_prob}, ngram_length={self.ngram_length}, "
            f"oov={self.oov})"
        )


class Model:
    """An n-gram model over words, queried as KenLM's ``kenlm.Model``."""

    def __init__(self, path, config=None):
        """Loads ``path``: an ARPA file or an lmlab n-gram model file. ``config`` (KenLM's load
        options) is accepted for compatibility; lmlab memory-maps its model files and reads
        ARPA files whole, whatever it says."""
        self.path = os.path.abspath(os.fspath(path))
        self._model = _lmlab.KenlmModel(self.path)

    @property
    def order(self):
        """The order N of the model."""
        return self._model.order

    def score(self, sentence, bos=True, eos=True):
        """log10 probability of the whitespace-separated words of ``sentence``, after ``<s>``
        when ``bos``, followed by ``</s>`` when ``eos``."""
        return self._model.score(_text(sentence), bos, eos)

    def perplexity(self, sentence):
        """Per-word perplexity of ``sentence`` with ``<s>`` and ``</s>`` (``</s>`` counts as a
        word), as KenLM computes it."""
        words = len(_text(sentence).split()) + 1
        return 10.0 ** (-self.score(sentence) / words)

    def full_scores(self, sentence, bos=True, eos=True):
        """An iterator of ``(log10 probability, n-gram length, oov)`` for every word, then for
        ``</s>`` when ``eos``."""
        return iter(self._model.full_scores(_text(sentence), bos, eos))

    def BeginSentenceWrite(self, state):
        """Sets ``state`` to the start of a sentence (the context ``<s>``)."""
        self._model.BeginSentenceWrite(state)

    def NullContextWrite(self, state):
        """Sets ``state`` to the empty context."""
        self._model.NullContextWrite(state)

    def BaseScore(self, in_state, word, out_state):
        """log10 p(``word`` | ``in_state``); ``out_state`` becomes the context after ``word``."""
        return self._model.BaseScore(in_state, _text(word), out_state)

    def BaseFullScore(self, in_state, word, out_state):
        """:class:`FullScoreReturn` of ``word`` after ``in_state``; ``out_state`` becomes the
        context after ``word``."""
        return FullScoreReturn(*self._model.BaseFullScore(in_state, _text(word), out_state))

    def __contains__(self, word):
        return self._model.__contains__(_text(word))

    def __reduce__(self):
        return (Model, (self.path,))

    def __repr__(self):
        return f"<Model from {os.path.basename(self.path)}>"


#: KenLM's older name of :class:`Model`.
LanguageModel = Model
