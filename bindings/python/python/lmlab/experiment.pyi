import os
from typing import Any, Dict, List, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]

def run(
    spec: PathLike,
    out: PathLike,
    jobs: int = ...,
    lmlab: Union[None, bool, PathLike] = ...,
    threads_per_run: int = ...,
) -> Dict[str, Any]: ...
def plan(spec: PathLike, out: PathLike) -> List[Dict[str, Any]]: ...
def results(out: PathLike, pandas: bool = ..., failed: bool = ...) -> Any: ...
