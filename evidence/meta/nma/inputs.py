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

#: Largest |yi| and vi (and 1 / vi) accepted: squares and weights up to 1e200 leave the fit's
#: sums of squares room below the double-precision maximum (1.8e308).
_HUGE = 1e100


def _raw(name: str, x) -> np.ndarray:
    arr = np.asarray(x if hasattr(x, "__len__") else list(x), dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a one-dimensional sequence")
    missing = np.flatnonzero(pd.isna(arr))
    if missing.size:
        raise ValueError(f"{name}: missing value at row {missing[0]}")
    return arr


def _labels(**columns) -> list[np.ndarray]:
    """Each column as labels (strings), refusing missing values and labels that differ but
    print alike (``1`` and ``"1"``) or are equal but print differently (``1`` and ``1.0``)
    across all the columns given (naming both; see :func:`_strings`)."""
    names = list(columns)
    raws = [_raw(name, x) for name, x in columns.items()]
    texts = [r.astype(str).astype(object) for r in raws]
    raw, text = np.concatenate(raws), np.concatenate(texts)
    try:
        rc, tc = pd.factorize(raw)[0], pd.factorize(text)[0]
    except TypeError:
        raise ValueError(f"{', '.join(names)}: labels must be strings or numbers") from None
    first = pd.DataFrame({"r": rc, "t": tc}).drop_duplicates()  # first row of each pair
    same_text = first["t"].duplicated(keep=False).to_numpy()
    same_value = first["r"].duplicated(keep=False).to_numpy()
    if same_text.any() or same_value.any():
        k0 = int(np.argmax(same_text | same_value))
        key = "t" if same_text[k0] else "r"
        rows = first[first[key] == first[key].iloc[k0]].index
        i, j = int(rows[0]), int(rows[1])
        col = np.repeat(np.arange(len(raws)), [r.size for r in raws])
        start = np.r_[0, np.cumsum([r.size for r in raws])]

        def show(k: int) -> str:
            row = k - start[col[k]]
            return f"{raw[k]!r} ({type(raw[k]).__name__}, {names[col[k]]} row {row})"

        how = (
            f"both read as {text[i]!r}"
            if key == "t"
            else f"are equal but read as {text[i]!r} and {text[j]!r}"
        )
        raise ValueError(
            f"labels {show(i)} and {show(j)} {how}: give labels of one type (e.g. all strings)"
        )
    return texts


def _strings(name: str, x) -> np.ndarray:
    """One column of labels as strings (see :func:`_labels`).

    Examples
    --------
    >>> _strings("study", [1, 2, 2]).tolist()
    ['1', '2', '2']
    >>> _strings("treat", [1, "1"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: labels 1 (int, treat row 0) and '1' (str, treat row 1) both read as '1': ...
    """
    return _labels(**{name: x})[0]


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
    for name, x in (("yi", np.abs(y)), ("vi", v), ("vi", 1 / v)):
        bad = np.flatnonzero(x > _HUGE)
        if bad.size:
            i = bad[0]
            raise ValueError(
                f"study {st[i]!r}: {name} = {float((y if name == 'yi' else v)[i]):g} at row {i} is "
                f"outside the range the fit can square and invert (|yi| <= {_HUGE:g}, "
                f"{1 / _HUGE:g} <= vi <= {_HUGE:g}); check its units"
            )


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
    treatments: list[str],
) -> None:
    """Raise when a multi-contrast study's covariance block is not positive definite, its
    contrasts are linearly dependent or it implies a negative arm variance (naming the study)."""
    for rows, block in blk.multi_contrast_studies():
        s = int(scode[rows[0]])
        try:
            np.linalg.cholesky(block)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"study {studies[s]!r}: its covariance block is singular or not positive definite"
            ) from None
        D = np.zeros((rows.size, len(treatments)))
        D[np.arange(rows.size), i1[rows]] += 1
        D[np.arange(rows.size), i2[rows]] -= 1
        if np.linalg.matrix_rank(D) < rows.size:
            raise ValueError(
                f"study {studies[s]!r}: its contrasts are linearly dependent (give a-1 "
                "contrasts against one baseline arm for an a-arm study)"
            )
        _check_arm_variances(block, D, studies[s], treatments)


def _check_arm_variances(block: np.ndarray, D: np.ndarray, study, treatments: list[str]) -> None:
    """Raise when the covariances of a study's contrasts imply a negative arm variance.

    Two contrasts that share one arm have the covariance ``+var`` (the shared arm on the same
    side: B-A and C-A) or ``-var`` (opposite sides: B-A and A-C) of that arm, so each such pair
    implies the shared arm's variance ``sign * cov`` and the variance ``vi - sign * cov`` of the
    contrast's other arm; both must be >= 0. ``D`` is the contrasts' arm incidence (+1 treat1,
    -1 treat2).

    Examples
    --------
    >>> D = np.array([[-1.0, 1, 0], [-1, 0, 1]])  # B-A and C-A
    >>> C = np.array([[0.05, 0.06], [0.06, 0.08]])  # var(A) = 0.06 > vi = 0.05 of B-A
    >>> _check_arm_variances(C, D, "s1", ["A", "B", "C"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: study 's1': its covariances imply a negative variance (-0.01) for its arm 'B' ...
    """
    sign = D @ D.T  # +-1 where two contrasts share one arm, 0 where none, 2 on the diagonal
    i, j = np.nonzero(np.abs(sign) == 1)
    shared = sign[i, j] * block[i, j]
    other = np.diag(block)[i] - shared
    bad = np.flatnonzero((shared < 0) | (other < 0))
    if bad.size:
        k = bad[0]
        a, b = i[k], j[k]
        s_arm = int(np.flatnonzero((D[a] != 0) & (D[b] != 0))[0])
        o_arm = int(np.flatnonzero((D[a] != 0) & (D[b] == 0))[0])
        arm, var = (s_arm, shared[k]) if shared[k] < 0 else (o_arm, other[k])
        raise ValueError(
            f"study {study!r}: its covariances imply a negative variance ({var:.4g}) for its arm "
            f"{treatments[arm]!r} (rows {a} and {b} of the study: cov {block[a, b]:.4g} for the "
            f"shared arm {treatments[s_arm]!r}, vi {block[a, a]:.4g}): not a covariance of "
            "contrasts of one study"
        )
