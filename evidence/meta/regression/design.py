"""Design of a meta-regression (stage 5: **analyses**, meta-regression): R's ``model.matrix``
with treatment contrasts (:func:`design_matrix`), which columns belong to which moderator, and
the choice of coefficients for a Wald test (metafor ``btt``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def design_matrix(moderators, k: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Intercept plus one column per continuous moderator and treatment dummies per factor.

    Categorical columns (object, string, category, bool) become dummies for every level but the
    first, as R's ``model.matrix`` does (levels sorted, or the categorical's own order). Column
    names follow R: ``intrcpt``, ``year``, ``formatgroup``. Missing values raise ``ValueError``
    naming the moderator and the row.
    """
    if moderators is None:
        return np.ones((k, 1)), ("intrcpt",)
    if isinstance(moderators, pd.Series):
        moderators = moderators.to_frame(moderators.name or "x")
    elif isinstance(moderators, Mapping):
        moderators = pd.DataFrame({str(c): list(v) for c, v in moderators.items()})
    elif not isinstance(moderators, pd.DataFrame):
        arr = np.asarray(moderators)
        if arr.ndim == 1:
            arr = arr[:, None]
        moderators = pd.DataFrame(arr, columns=[f"x{i + 1}" for i in range(arr.shape[1])])
    if len(moderators) != k:
        raise ValueError(f"moderators have {len(moderators)} rows for {k} studies")
    cols, names = [np.ones(k)], ["intrcpt"]
    for name in moderators.columns:
        col = moderators[name]
        missing = np.flatnonzero(pd.isna(col).to_numpy())
        if missing.size:
            raise ValueError(f"moderator {name!r}: missing value at row {missing[0]}")
        categorical = isinstance(col.dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        )
        if categorical:
            if isinstance(col.dtype, pd.CategoricalDtype):
                levels = [c for c in col.cat.categories if (col == c).any()]
            else:
                levels = sorted(pd.unique(col), key=lambda x: (str(type(x)), x))
            for lev in levels[1:]:
                cols.append((col == lev).to_numpy(dtype=float))
                names.append(f"{name}{lev}")
        else:
            vals = col.to_numpy(dtype=float)
            bad = np.flatnonzero(~np.isfinite(vals))
            if bad.size:
                raise ValueError(f"moderator {name!r}: non-finite value at row {bad[0]}")
            cols.append(vals)
            names.append(str(name))
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError(f"design matrix is rank deficient (columns {names}); drop a moderator")
    if X.shape[1] >= k:
        raise ValueError(f"{X.shape[1]} coefficients need more than {k} studies")
    return X, tuple(names)


def _coef_index(btt, names) -> list[int]:
    """Coefficient positions from indices or names; refuses unknown or repeated ones."""
    items = [btt] if isinstance(btt, (int, str, np.integer)) else list(btt)
    out = []
    for b in items:
        if isinstance(b, str):
            if b not in names:
                raise ValueError(f"btt: unknown coefficient {b!r}; choose from {names}")
            out.append(names.index(b))
        elif isinstance(b, (int, np.integer)) and 0 <= int(b) < len(names):
            out.append(int(b))
        else:
            raise ValueError(f"btt: {b!r} is not a coefficient index in 0..{len(names) - 1}")
    if not out or len(set(out)) != len(out):
        raise ValueError(f"btt must name distinct coefficients, got {btt!r}")
    return out


def _terms(moderators, k: int) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Which design columns belong to which moderator (all dummies of a factor together)."""
    if moderators is None:
        return ()
    frame = moderators
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(frame.name or "x")
    elif isinstance(frame, Mapping):
        frame = pd.DataFrame({str(c): list(v) for c, v in frame.items()})
    elif not isinstance(frame, pd.DataFrame):
        arr = np.asarray(frame)
        arr = arr[:, None] if arr.ndim == 1 else arr
        frame = pd.DataFrame(arr, columns=[f"x{i + 1}" for i in range(arr.shape[1])])
    out, start = [], 1
    for name in frame.columns:
        width = design_matrix(frame[[name]], k)[0].shape[1] - 1
        out.append((str(name), tuple(range(start, start + width))))
        start += width
    return tuple(out)
