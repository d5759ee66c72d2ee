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

__all__ = ["FullScoreReturn", "LanguageModel", "Model", "State"]

#: A query state (the context words and their backoffs): pass it to
#: :meth:`Model.BeginSentenceWrite`, :meth:`Model.NullContextWrite`, :meth:`Model.BaseScore`.
State = _lmlab.State


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


class Model(_lmlab.KenlmModel):
    """An n-gram model over words, queried as KenLM's ``kenlm.Model``. Sentences and words are
    ``str`` or UTF-8 ``bytes``. The queries are the native methods themselves (no Python frame
    per call, as KenLM's Cython class):

    - ``score(sentence, bos=True, eos=True)``: log10 probability of the whitespace-separated words
      of ``sentence``, after ``<s>`` when ``bos``, followed by ``</s>`` when ``eos``;
    - ``full_scores(sentence, bos=True, eos=True)``: an iterator of ``(log10 probability, n-gram
      length, oov)`` for every word, then for ``</s>`` when ``eos``;
    - ``BeginSentenceWrite(state)`` / ``NullContextWrite(state)``: sets ``state`` to the start of
      a sentence (the context ``<s>``) or to the empty context;
    - ``BaseScore(in_state, word, out_state)``: log10 p(``word`` | ``in_state``); ``out_state``
      becomes the context after ``word``;
    - ``word in model``: whether ``word`` is in the vocabulary;
    - ``order``: the order N of the model.
    """

    def __init__(self, path, config=None):
        """Loads ``path``: an ARPA file or an lmlab n-gram model file. ``config`` (KenLM's load
        options) is accepted for compatibility; lmlab memory-maps its model files and reads
        ARPA files whole, whatever it says."""
        self.path = os.path.abspath(os.fspath(path))

    def __new__(cls, path, config=None):
        return super().__new__(cls, os.path.abspath(os.fspath(path)), config)

    def perplexity(self, sentence):
        """Per-word perplexity of ``sentence`` with ``<s>`` and ``</s>`` (``</s>`` counts as a
        word), as KenLM computes it."""
        log10 = self.score(sentence)
        if isinstance(sentence, bytes):
            sentence = sentence.decode("utf-8")
        return 10.0 ** (-log10 / (len(sentence.split()) + 1))

    def BaseFullScore(self, in_state, word, out_state):
        """:class:`FullScoreReturn` of ``word`` after ``in_state``; ``out_state`` becomes the
        context after ``word``."""
        return FullScoreReturn(*super().BaseFullScore(in_state, word, out_state))

    def __reduce__(self):
        return (Model, (self.path,))

    def __repr__(self):
        return f"<Model from {os.path.basename(self.path)}>"


#: KenLM's older name of :class:`Model`.
LanguageModel = Model
