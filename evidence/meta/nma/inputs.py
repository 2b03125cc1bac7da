"""Network meta-analysis, input checks: validation at the boundary, naming row and study.

Input stage of :func:`evidence.meta.nma.network`: treatment and study labels, method and test
names, the contrast rows (lengths, ``treat1 == treat2``, ``vi <= 0``), the treatment order with
the reference first and the connectedness of the network, the full within-study covariance
(block diagonal by study, ``vi`` on its diagonal) and each multi-contrast study's block (positive
definite, contrasts linearly independent).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import _Blocks


def _strings(name: str, x) -> np.ndarray:
    arr = np.asarray(x if hasattr(x, "__len__") else list(x), dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a one-dimensional sequence")
    missing = np.flatnonzero(pd.isna(arr))
    if missing.size:
        raise ValueError(f"{name}: missing value at position {missing[0]}")
    return arr.astype(str).astype(object)


def _components(treatments: list[str], t1: np.ndarray, t2: np.ndarray) -> list[list[str]]:
    parent = list(range(len(treatments)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(t1, t2, strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    comps: dict[int, list[str]] = {}
    for i, t in enumerate(treatments):
        comps.setdefault(find(i), []).append(t)
    return list(comps.values())


def _name(value: str, allowed: tuple[str, ...], what: str) -> str:
    key = {"CE": "FE", "EE": "FE"}.get(str(value).upper(), str(value))
    for a in allowed:
        if key.upper() == a.upper():
            return a
    raise ValueError(f"unknown {what} {value!r}; choose one of {allowed}")


def _check_contrast_rows(
    y: np.ndarray, v: np.ndarray, t1s: np.ndarray, t2s: np.ndarray, st: np.ndarray
) -> None:
    """Raise on unequal lengths, no rows, ``treat1 == treat2`` or ``vi <= 0`` (naming the row)."""
    n = y.size
    lengths = {"yi": n, "vi": v.size, "treat1": t1s.size, "treat2": t2s.size, "study": st.size}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"inputs have unequal lengths: {lengths}")
    if n == 0:
        raise ValueError("no contrasts to analyse")
    same = np.flatnonzero(t1s == t2s)
    if same.size:
        raise ValueError(
            f"row {same[0]} (study {st[same[0]]!r}): treat1 and treat2 are both {t1s[same[0]]!r}"
        )
    bad = np.flatnonzero(~(v > 0))
    if bad.size:
        raise ValueError(f"study {st[bad[0]]!r}: sampling variance vi <= 0 at row {bad[0]}")


def _treatment_order(
    t1s: np.ndarray, t2s: np.ndarray, reference: str | None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Treatments with the reference first, the column index of each contrast's two
    treatments, and a check that the network is connected."""
    names = sorted(set(t1s) | set(t2s))
    if reference is None:
        reference = names[0]
    if str(reference) not in names:
        raise ValueError(f"reference {reference!r} is not a treatment of the network: {names}")
    reference = str(reference)
    treatments = [reference] + [t for t in names if t != reference]
    pos = {t: i for i, t in enumerate(treatments)}
    i1 = np.array([pos[t] for t in t1s])
    i2 = np.array([pos[t] for t in t2s])
    comps = _components(treatments, i1, i2)
    if len(comps) > 1:
        text = " | ".join("{" + ", ".join(c) + "}" for c in comps)
        raise ValueError(f"the network is disconnected; its components are {text}")
    return treatments, i1, i2


def _check_cov(
    cov: np.ndarray | None, v: np.ndarray, st: np.ndarray, scode: np.ndarray, studies: list
) -> np.ndarray | None:
    """The validated full within-study covariance matrix, or None when every study has one
    contrast and none was given."""
    n = v.size
    if cov is None:
        counts = np.bincount(scode)
        multi = np.flatnonzero(counts > 1)
        if multi.size:
            raise ValueError(
                f"study {studies[multi[0]]!r} has {counts[multi[0]]} contrasts but no covariance "
                "was given: pass cov= (the full covariance matrix) or use network_from_arms()"
            )
        return None
    full = np.asarray(cov, dtype=float)
    if full.shape != (n, n):
        raise ValueError(f"cov must have shape ({n}, {n}); got {full.shape}")
    if not np.all(np.isfinite(full)):
        raise ValueError("cov: non-finite entries")
    if not np.allclose(full, full.T, rtol=0, atol=1e-12 * np.abs(full).max()):
        raise ValueError("cov is not symmetric")
    if not np.allclose(np.diag(full), v, rtol=1e-10, atol=0):
        i = int(np.flatnonzero(~np.isclose(np.diag(full), v, rtol=1e-10, atol=0))[0])
        raise ValueError(f"cov: diagonal differs from vi at row {i} (study {st[i]!r})")
    cross = (scode[:, None] != scode[None, :]) & (full != 0)
    if cross.any():
        i, j = np.argwhere(cross)[0]
        raise ValueError(
            f"cov: non-zero covariance between rows {i} and {j} of different studies "
            f"({st[i]!r} and {st[j]!r}); cov must be block diagonal by study"
        )
    return full


def _check_study_blocks(
    blk: _Blocks,
    scode: np.ndarray,
    studies: list,
    i1: np.ndarray,
    i2: np.ndarray,
    n_treatments: int,
) -> None:
    """Raise when a multi-contrast study's covariance block is not positive definite or its
    contrasts are linearly dependent (naming the study)."""
    for rows, block in blk.multi_contrast_studies():
        s = int(scode[rows[0]])
        try:
            np.linalg.cholesky(block)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"study {studies[s]!r}: its covariance block is singular or not positive definite"
            ) from None
        D = np.zeros((rows.size, n_treatments))
        D[np.arange(rows.size), i1[rows]] += 1
        D[np.arange(rows.size), i2[rows]] -= 1
        if np.linalg.matrix_rank(D) < rows.size:
            raise ValueError(
                f"study {studies[s]!r}: its contrasts are linearly dependent (give a-1 "
                "contrasts against one baseline arm for an a-arm study)"
            )
