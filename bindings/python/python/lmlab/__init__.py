"""lmlab from Python: load any lmlab model and score, evaluate or sample it; learn and use
tokenizers; train a run from a recipe; and :mod:`lmlab.kenlm`, a drop-in for KenLM's Python
module. The work happens in lmlab's Rust library (the extension module ``lmlab._lmlab``); long
calls release the GIL, and Ctrl-C interrupts them (``KeyboardInterrupt``) with no file written
half-way: training, evaluation, experiment runs, tokenizer training, and ``score`` /
``encode_batch`` of texts of a megabyte or more. A neural run stops at its next step with a
checkpoint, as ``lmlab train`` does; other work is left to end on its own thread, its result
dropped and nothing of it put in place.

>>> import lmlab
>>> model = lmlab.load("ptb.ngram")
>>> log_probs, tokens = model.score("the cat sat")
>>> model.evaluate("the cat sat\\n")["perplexity"]
"""

import atexit
import json
import os

from . import _lmlab
from ._errors import Error, FileError, FileNotFound, InvalidInput, InvalidType, require_str

__version__ = _lmlab.__version__

# A call interrupted by Ctrl-C may leave lmlab's work running on its thread (its result is
# dropped); such threads end with the process, so their temporary files are removed at exit.
atexit.register(_lmlab.remove_abandoned_files)

__all__ = [
    "Error",
    "FileError",
    "FileNotFound",
    "InvalidInput",
    "InvalidType",
    "Model",
    "Probs",
    "Tokenizer",
    "ensemble",
    "load",
    "read_probs",
    "train",
]


def _path(name, value):
    """``value`` as a path string (``str`` or ``os.PathLike``)."""
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    raise InvalidType(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")


class Model:
    """A language model of any lmlab kind (baseline, uniform, n-gram, memory-based, neural), loaded
    with :func:`load`."""

    def __init__(self, native):
        self._native = native

    @property
    def path(self):
        """The file or run directory the model was loaded from."""
        return str(self._native.path)

    @property
    def kind(self):
        """The model kind (``baseline``, ``uniform``, ``ngram``, ``memory``, ``neural``)."""
        return self._native.kind

    @property
    def sequences(self):
        """How the training text was cut into sequences: ``line``, ``paragraph`` or ``stream``."""
        return self._native.sequences

    @property
    def vocab_size(self):
        """Vocabulary size, special tokens included."""
        return self._native.vocab_size

    @property
    def parameters(self):
        """Number of parameters (stored n-grams for n-gram models)."""
        return self._native.parameters

    @property
    def tokenizer(self):
        """A copy of the model's tokenizer."""
        return Tokenizer(self._native.tokenizer)

    def describe(self):
        """A one-line description of the model."""
        return self._native.describe()

    def score(self, text):
        """Scores ``text`` as one sequence (in the model's sequence mode: in ``stream`` mode each
        line ends with ``</s>``, otherwise the whole text does).

        Returns ``(log_probs, tokens)``: a float64 numpy array of the natural-log probability of
        every token, the end token included, and the token strings."""
        return self._native.score(require_str("text", text))

    def evaluate(self, text_or_path, sequences=None, accuracy=False, probs=None):
        """What ``lmlab eval --json`` prints, as a dict: perplexity, bits per byte, word
        perplexity, OOVs, and with ``accuracy`` top-1/top-5 accuracy and calibration.

        A ``str`` is the text itself (nothing is written to disk; ``input`` is ``"<text>"``); a
        ``pathlib.Path`` (any ``os.PathLike``) is a text file. ``sequences`` overrides the
        model's sequence mode (``line``, ``paragraph``, ``stream``). With ``probs`` (a path), the
        per-token probability file is written there, as ``lmlab eval --probs``."""
        if isinstance(text_or_path, os.PathLike):
            source, is_path = os.fspath(text_or_path), True
        else:
            source, is_path = require_str("text_or_path", text_or_path), False
        if sequences is not None:
            require_str("sequences", sequences)
        probs = None if probs is None else _path("probs", probs)
        report = self._native.evaluate_json(source, is_path, sequences, bool(accuracy), probs)
        return json.loads(report)

    def distribution(self, context=""):
        """The distribution of the next token after ``<s>`` and ``context``: a float64 numpy array
        with one probability per vocabulary id (0 for ``<s>``), summing to 1."""
        return self._native.distribution(require_str("context", context))

    def generate(
        self,
        prompt="",
        max_tokens=50,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        seed=0,
        greedy=False,
        ignore_eos=False,
        raw_bytes=False,
    ):
        """Continues ``prompt``, as ``lmlab generate`` with the same options: up to
        ``max_tokens`` tokens, stopping at the end token unless ``ignore_eos`` (models trained on
        a stream never stop there); ``temperature`` 0 or ``greedy`` picks the most likely token;
        ``top_k`` (0: all) and ``top_p`` (1: all) restrict sampling. Returns the prompt followed
        by the generated text. The same seed gives the same text."""
        return self.samples(
            1, prompt, max_tokens, temperature, top_k, top_p, seed, greedy, ignore_eos, raw_bytes
        )[0]

    def samples(
        self,
        num_samples,
        prompt="",
        max_tokens=50,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        seed=0,
        greedy=False,
        ignore_eos=False,
        raw_bytes=False,
    ):
        """``num_samples`` continuations of ``prompt`` (sample i is :meth:`generate` with seed
        ``seed + i``), as ``lmlab generate --num-samples``."""
        require_str("prompt", prompt)
        return self._native.samples(
            prompt,
            int(max_tokens),
            0.0 if greedy else float(temperature),
            int(top_k),
            float(top_p),
            int(seed),
            int(num_samples),
            bool(ignore_eos),
            bool(raw_bytes),
        )

    def __repr__(self):
        return repr(self._native)


def load(path):
    """Loads a model file of any kind, or a neural run directory."""
    return Model(_lmlab.Model.load(_path("path", path)))


class Tokenizer:
    """A tokenizer of any lmlab kind: ``bytes``, ``chars``, ``words``, ``bpe``, ``scaffold-bpe``."""

    def __init__(self, native):
        self._native = native

    @staticmethod
    def load(path):
        """Loads a tokenizer file (as ``lmlab tokenizer train`` writes)."""
        return Tokenizer(_lmlab.Tokenizer.load(_path("path", path)))

    @staticmethod
    def train(kind, texts, vocab_size=None, min_count=0, pattern=None, specials=(), nfc=False):
        """Learns a tokenizer of ``kind`` from ``texts`` (a str or a list of str) with the
        defaults of an lmlab recipe: ``vocab_size`` counts learned entries, special tokens not
        included (BPE: 256 bytes + merges, default 4096; words and chars: a cap, default none);
        ``min_count`` drops rarer entries; BPE's pre-tokenizer ``pattern`` is ``gpt2`` (default)
        or ``cl100k``; ``specials`` adds special tokens (BPE, chars); ``nfc`` normalizes (chars)."""
        require_str("kind", kind)
        if isinstance(texts, str):
            texts = [texts]
        texts = [require_str("texts[]", t) for t in texts]
        return Tokenizer(
            _lmlab.Tokenizer.train(
                kind, texts, vocab_size, int(min_count), pattern, list(specials), bool(nfc)
            )
        )

    def save(self, path):
        """Writes the tokenizer file (atomically)."""
        self._native.save(_path("path", path))

    @property
    def kind(self):
        """The tokenizer kind."""
        return self._native.kind

    @property
    def vocab_size(self):
        """Vocabulary size, special tokens included."""
        return self._native.vocab_size

    @property
    def vocab(self):
        """The token strings, by id."""
        return self._native.vocab

    def token_to_id(self, token):
        """The id of ``token``, or None."""
        return self._native.token_to_id(require_str("token", token))

    def id_to_token(self, id):
        """The token string of ``id``."""
        return self._native.id_to_token(int(id))

    def encode(self, text):
        """The token ids of ``text`` (no start or end token)."""
        return self._native.encode(require_str("text", text))

    def encode_batch(self, texts):
        """The ids of every text, encoded in parallel on all cores with the GIL released."""
        return self._native.encode_batch([require_str("texts[]", t) for t in texts])

    def decode(self, ids):
        """The text of ``ids``."""
        return self._native.decode([int(i) for i in ids])

    def stats(self, text):
        """What ``lmlab tokenizer stats`` reports on ``text``, as a dict: bytes per token, tokens
        per word, OOVs, vocabulary use."""
        return json.loads(self._native.stats_json(require_str("text", text)))

    def to_json(self):
        """The tokenizer file's content, as a dict."""
        return json.loads(self._native.to_json())

    def __len__(self):
        return self.vocab_size

    def __repr__(self):
        return repr(self._native)


def train(recipe, train, valid=None, test=None, *, output):
    """Trains one run of ``recipe`` (a dict, or the TOML of an lmlab recipe file) on the text
    file ``train``, writes the model to ``output`` (a directory for neural families), evaluates
    it on ``valid`` and ``test`` when given, and returns the run record as a dict (what
    ``lmlab train --recipe ... --json`` prints)."""
    if isinstance(recipe, dict):
        text = json.dumps(recipe)
    else:
        text = require_str("recipe", recipe)
    record = _lmlab.train_json(
        text,
        _path("train", train),
        _path("output", output),
        None if valid is None else _path("valid", valid),
        None if test is None else _path("test", test),
    )
    return json.loads(record)



class Probs:
    """A probability file (``*.probs.tsv``) as columns: ``seq`` and ``pos`` (uint32 numpy arrays),
    ``token`` (a list of str, escaped as in the file), ``logp`` (float64 numpy array of natural-log
    probabilities), and ``header`` (a dict: model, tokenizer, corpus_sha256, bytes, words)."""

    HEADER = ("model", "tokenizer", "corpus_sha256", "bytes", "words")

    def __init__(self, header, seq, pos, token, logp):
        self.header = dict(header)
        self.seq, self.pos, self.token, self.logp = seq, pos, token, logp

    def __len__(self):
        return len(self.token)

    def perplexity(self):
        """exp(−mean ln p) over the rows."""
        import math

        return math.exp(-float(self.logp.sum()) / max(len(self), 1))

    def to_pandas(self):
        """The rows as a pandas DataFrame (columns seq, pos, token, logp); needs pandas."""
        import pandas

        return pandas.DataFrame(
            {"seq": self.seq, "pos": self.pos, "token": self.token, "logp": self.logp}
        )

    def write(self, path):
        """Writes the probability file (atomically); ``lmlab ensemble`` and ``compare`` read it."""
        import numpy

        header = tuple(self.header.get(k) for k in self.HEADER)
        _lmlab.write_probs(
            _path("path", path),
            (str(header[0]), str(header[1]), str(header[2]), header[3], header[4]),
            numpy.ascontiguousarray(self.seq, dtype=numpy.uint32),
            numpy.ascontiguousarray(self.pos, dtype=numpy.uint32),
            [require_str("token[]", t) for t in self.token],
            numpy.ascontiguousarray(self.logp, dtype=numpy.float64),
        )

    def __repr__(self):
        return f"<lmlab.Probs of {len(self)} rows from {self.header['model']!r}>"


def read_probs(path):
    """Reads a probability file (``lmlab eval --probs``, ``Model.evaluate(probs=...)``)."""
    header, seq, pos, token, logp = _lmlab.read_probs(_path("path", path))
    return Probs(dict(zip(Probs.HEADER, header)), seq, pos, token, logp)


def ensemble(dev, test=(), max_iterations=1000, tolerance=1e-10, write_probs=None):
    """What ``lmlab ensemble --json`` prints, as a dict: EM interpolation weights fitted on the
    ``dev`` probability files (one per model), and the mixture's dev and test scores on the
    ``test`` files of the same models in the same order. ``write_probs`` writes the mixture's own
    probability file (of test, or of dev without test)."""
    report = _lmlab.ensemble_json(
        [_path("dev[]", p) for p in dev],
        [_path("test[]", p) for p in test],
        int(max_iterations),
        float(tolerance),
        None if write_probs is None else _path("write_probs", write_probs),
    )
    return json.loads(report)
