"""Type stubs of the ``lmlab`` package (see the docstrings in ``__init__.py``)."""

import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._errors import Error as Error
from ._errors import FileError as FileError
from ._errors import FileNotFound as FileNotFound
from ._errors import InvalidInput as InvalidInput
from ._errors import InvalidType as InvalidType

__version__: str

PathLike = Union[str, "os.PathLike[str]"]

class Model:
    @property
    def path(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def sequences(self) -> str: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def parameters(self) -> int: ...
    @property
    def tokenizer(self) -> Tokenizer: ...
    def describe(self) -> str: ...
    def score(self, text: str) -> Tuple[npt.NDArray[np.float64], List[str]]: ...
    def evaluate(
        self,
        text_or_path: Union[str, "os.PathLike[str]"],
        sequences: Optional[str] = ...,
        accuracy: bool = ...,
        probs: Optional[PathLike] = ...,
    ) -> Dict[str, Any]: ...
    def distribution(self, context: str = ...) -> npt.NDArray[np.float64]: ...
    def generate(
        self,
        prompt: str = ...,
        max_tokens: int = ...,
        temperature: float = ...,
        top_k: int = ...,
        top_p: float = ...,
        seed: int = ...,
        greedy: bool = ...,
        ignore_eos: bool = ...,
        raw_bytes: bool = ...,
    ) -> str: ...
    def samples(
        self,
        num_samples: int,
        prompt: str = ...,
        max_tokens: int = ...,
        temperature: float = ...,
        top_k: int = ...,
        top_p: float = ...,
        seed: int = ...,
        greedy: bool = ...,
        ignore_eos: bool = ...,
        raw_bytes: bool = ...,
    ) -> List[str]: ...

def load(path: PathLike) -> Model: ...

class Tokenizer:
    @staticmethod
    def load(path: PathLike) -> Tokenizer: ...
    @staticmethod
    def train(
        kind: str,
        texts: Union[str, Iterable[str]],
        vocab_size: Optional[int] = ...,
        min_count: int = ...,
        pattern: Optional[str] = ...,
        specials: Sequence[str] = ...,
        nfc: bool = ...,
    ) -> Tokenizer: ...
    def save(self, path: PathLike) -> None: ...
    @property
    def kind(self) -> str: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def vocab(self) -> List[str]: ...
    def token_to_id(self, token: str) -> Optional[int]: ...
    def id_to_token(self, id: int) -> str: ...
    def encode(self, text: str) -> List[int]: ...
    def encode_batch(self, texts: Sequence[str]) -> List[List[int]]: ...
    def decode(self, ids: Sequence[int]) -> str: ...
    def stats(self, text: str) -> Dict[str, Any]: ...
    def to_json(self) -> Dict[str, Any]: ...
    def __len__(self) -> int: ...

def train(
    recipe: Union[str, Dict[str, Any]],
    train: PathLike,
    valid: Optional[PathLike] = ...,
    test: Optional[PathLike] = ...,
    *,
    output: PathLike,
) -> Dict[str, Any]: ...

class Probs:
    HEADER: Tuple[str, ...]
    header: Dict[str, Any]
    seq: npt.NDArray[np.uint32]
    pos: npt.NDArray[np.uint32]
    token: List[str]
    logp: npt.NDArray[np.float64]
    def __init__(
        self,
        header: Dict[str, Any],
        seq: npt.ArrayLike,
        pos: npt.ArrayLike,
        token: List[str],
        logp: npt.ArrayLike,
    ) -> None: ...
    def __len__(self) -> int: ...
    def perplexity(self) -> float: ...
    def to_pandas(self) -> Any: ...
    def write(self, path: PathLike) -> None: ...

def read_probs(path: PathLike) -> Probs: ...
def ensemble(
    dev: Sequence[PathLike],
    test: Sequence[PathLike] = ...,
    max_iterations: int = ...,
    tolerance: float = ...,
    write_probs: Optional[PathLike] = ...,
) -> Dict[str, Any]: ...
