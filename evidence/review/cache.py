"""Results that one build's kernels share: a deterministic result computed once per build.

``evidence build`` runs each notebook in a kernel of its own, and several notebooks load the
same data and fit the same networks (the overview, the claims page and each condition page fit
the condition's network). During a build, ``EVIDENCE_CACHE`` names a private folder that lives
as long as the build; :func:`cached` keeps each result there as a pickle under a digest of its
key, and the next kernel that asks for the same key reads it instead of computing it again.

The key is every argument that the result depends on plus the bytes of every file it reads
(:func:`files_key`) or the content of the frame it is computed from (:func:`frame_key`), so a
notebook that passes other data gets a result of its own. Outside a build (``EVIDENCE_CACHE``
unset: JupyterLab, a script, the tests) nothing is cached and everything is computed; every
caller gets its own copy of a cached result (it is unpickled anew).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["CACHE_ENV", "cached", "files_key", "frame_key"]

#: The environment variable that names the cache folder (set by ``evidence build``).
CACHE_ENV = "EVIDENCE_CACHE"
T = TypeVar("T")


def cached(kind: str, key: Callable[[], tuple], compute: Callable[[], T]) -> T:
    """``compute()``, or the result a kernel of this build already computed for ``key()``
    (called only in a build: outside one, no file is hashed).

    Errors are never cached (``compute`` raises as usual); two kernels that miss at once both
    compute, and the second file write replaces the first atomically.

    Examples
    --------
    >>> import os, tempfile
    >>> calls = []
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.environ[CACHE_ENV] = d
    ...     a = cached("demo", lambda: (1,), lambda: calls.append(1) or [1, 2])
    ...     b = cached("demo", lambda: (1,), lambda: calls.append(1) or [1, 2])
    ...     del os.environ[CACHE_ENV]
    >>> a == b == [1, 2], a is b, len(calls)
    (True, False, 1)
    """
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        return compute()
    digest = hashlib.sha256(repr((kind, *key())).encode("utf-8")).hexdigest()[:40]
    path = Path(folder) / f"{kind}-{digest}.pickle"
    try:
        return pickle.loads(path.read_bytes())
    except FileNotFoundError:
        pass
    value = compute()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(tmp, path)
    return value


def files_key(*paths: str | Path) -> tuple[tuple[str, str], ...]:
    """(path, SHA-256 of the bytes) of every file at or under ``paths``, sorted.

    >>> from evidence.review.data import default_path
    >>> key = files_key(default_path() / "protocol.toml")
    >>> len(key), len(key[0][1])
    (1, 64)
    """
    files = []
    for p in map(Path, paths):
        found = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
        files += [(str(f.resolve()), _digest(f)) for f in found]
    return tuple(files)


def _digest(path: Path) -> str:
    """SHA-256 of a file's bytes; an unreadable file keys as such (its loader reports it)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc}"


def frame_key(frame) -> str:
    """SHA-256 of a DataFrame's columns, dtypes, index and values."""
    import pandas as pd

    h = hashlib.sha256(repr((list(frame.columns), [str(t) for t in frame.dtypes])).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()
