"""Input guards and named choices of the pooling engine (stage 3: **pooling**, its boundary).

Every public entry point validates here before fitting: :func:`check_inputs` (yi, vi),
:func:`check_groups` (grouping labels), :func:`check_aligned` (pandas indexes), and ``_name``,
which resolves a method, test or prediction-interval rule to its canonical spelling
(:data:`METHODS`, :data:`TESTS`, :data:`PI_RULES`; ``CE``/``EE`` and ``HKSJ`` as aliases).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

METHODS = ("FE", "DL", "HE", "HS", "SJ", "PM", "EB", "ML", "REML")
TESTS = ("z", "knha", "adhoc")
PI_RULES = ("metafor", "higgins", "t_k1")
_ALIASES = {"CE": "FE", "EE": "FE", "HKSJ": "knha"}

#: Effects this large overflow when squared (Q, weighted residual sums): refused with a message.
MAX_ABS = 1e150


def _vector(name: str, x: Sequence[float] | np.ndarray) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(x, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{name}: values must be numeric") from None
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a one-dimensional sequence, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name}: non-finite value (NaN or inf) at position {bad[0]}")
    return arr


def _pandas(named: Mapping) -> list[tuple[str, pd.Series | pd.DataFrame]]:
    """The pandas Series and DataFrames among ``named``, looking inside mappings (``{"x": s}``)."""
    out = []
    for n, x in named.items():
        if isinstance(x, (pd.Series, pd.DataFrame)):
            out.append((n, x))
        elif isinstance(x, Mapping):
            out += _pandas({f"{n}[{key!r}]": val for key, val in x.items()})
    return out


def check_aligned(**named) -> pd.Index | None:
    """Refuse pandas inputs whose indexes disagree (they would be paired by position).

    Every pair of pandas objects among the arguments (Series, DataFrames, and Series inside a
    mapping such as ``{"year": s}``) must carry the same index in the same order; otherwise a
    ``ValueError`` names both arguments and the first position where they differ. Returns that
    shared index (None when no argument is a pandas object), so that an output can keep it.

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.Series([0.1, 0.2], index=["b", "a"])
    >>> list(check_aligned(yi=y, vi=[0.01, 0.02]))
    ['b', 'a']
    >>> check_aligned(yi=y, vi=y.sort_index())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: yi and vi are pandas objects with different indexes (first difference at ...
    """
    found = _pandas(named)
    for (n0, a), (n1, b) in zip(found, found[1:], strict=False):
        if not a.index.equals(b.index):
            diff = next(
                (i for i, (p, q) in enumerate(zip(a.index, b.index, strict=False)) if p != q),
                min(len(a), len(b)),
            )
            raise ValueError(
                f"{n0} and {n1} are pandas objects with different indexes (first difference at "
                f"position {diff}); they would be paired by position: align them first "
                f"(e.g. {n1}.reindex({n0}.index)) or pass arrays"
            )
    return found[0][1].index if found else None


def check_groups(groups, k: int, what: str = "groups") -> tuple[np.ndarray, list]:
    """Integer codes (order of first appearance) and unique values of a grouping variable.

    Missing labels (None, NaN of any float type, ``pd.NA``, ``pd.NaT``) raise ``ValueError``
    naming every position; so do distinct values that print identically (``1`` and ``"1"``),
    which would show as one group in every table while being counted as two.

    Examples
    --------
    >>> codes, values = check_groups(["CBT", "WL", "CBT"], 3)
    >>> codes.tolist(), values
    ([0, 1, 0], ['CBT', 'WL'])
    """
    labels = list(groups)
    if len(labels) != k:
        raise ValueError(f"{what} has {len(labels)} entries for {k} studies")
    miss = [i for i, x in enumerate(labels) if np.ndim(x) == 0 and bool(pd.isna(x))]
    if miss:
        raise ValueError(f"{what}: missing label at position {miss[0]} (all positions: {miss})")
    codes, uniq = pd.factorize(pd.Series(labels, dtype=object), sort=False)
    shown = pd.Series([str(u) for u in uniq])
    dup = shown[shown.duplicated(keep=False)]
    if dup.size:
        text = dup.iloc[0]
        pos = [i for i, x in enumerate(labels) if str(x) == text]
        kinds = sorted({type(labels[i]).__name__ for i in pos})
        raise ValueError(
            f"{what}: values of different types print as the same label {text!r} "
            f"({', '.join(kinds)}; positions {pos}); convert them to one type"
        )
    return np.asarray(codes), list(uniq)


def check_inputs(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``yi`` and ``vi``: numeric, finite, equal length, k >= 1, vi > 0, |yi| < 1e150.

    pandas Series must share their index (see :func:`check_aligned`).
    """
    check_aligned(yi=yi, vi=vi)
    y, v = _vector("yi", yi), _vector("vi", vi)
    if y.size != v.size:
        raise ValueError(f"yi and vi have unequal lengths ({y.size} and {v.size})")
    if y.size == 0:
        raise ValueError("no studies to pool (k = 0)")
    bad = np.flatnonzero(v <= 0)
    if bad.size:
        raise ValueError(f"vi: sampling variances must be positive; vi <= 0 at position {bad[0]}")
    big = np.flatnonzero((np.abs(y) >= MAX_ABS) | (v >= MAX_ABS**2))
    if big.size:
        raise ValueError(
            f"yi or vi too large to square in double precision at position {big[0]} "
            f"(|yi| must be < {MAX_ABS:g}); rescale the effect sizes"
        )
    return y, v


def _name(value: str, allowed: tuple[str, ...], what: str) -> str:
    key = _ALIASES.get(str(value).upper(), _ALIASES.get(str(value), str(value)))
    for a in allowed:
        if key.upper() == a.upper():
            return a
    raise ValueError(f"unknown {what} {value!r}; choose one of {allowed}")
