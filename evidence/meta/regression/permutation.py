"""Permutation tests of a meta-regression (stage 5: **analyses**; metafor ``permutest``).

The rows of the design are permuted against the (yi, vi) pairs (signs of yi flipped for an
intercept-only model), every permutation refitted in one batch by
:func:`~evidence.meta.regression.fit.fit_regression_batch`. :class:`PermutationTestResult` holds
the permutation p-values; :meth:`MetaRegressionResult.permutation_test
<evidence.meta.regression.MetaRegressionResult.permutation_test>` is the entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..results import _fmt, _html_table, _p, _rel_p

#: Largest number of permutations an exact permutation test enumerates; beyond it the test
#: refuses and names the random-permutation alternative.
EXACT_MAX = 100_000
#: metafor's permutest compares statistics with this tolerance (``.Machine$double.eps^0.5``).
COMPTOL = float(np.finfo(float).eps ** 0.5)


@dataclass(frozen=True, eq=False)
class PermutationTestResult:
    """Permutation test of a meta-regression (metafor ``permutest``).

    ``pvalues`` holds one permutation p-value per coefficient (two-sided, from ``|z|``), and
    ``qm_pvalue`` the permutation p-value of the omnibus test. ``exact`` says whether every
    distinct permutation was enumerated (then the result does not depend on ``seed``).
    """

    names: tuple[str, ...]
    n: int
    exact: bool
    seed: int | None
    statistic: np.ndarray
    pvalues: np.ndarray
    qm: float
    qm_pvalue: float
    statistic_perm: np.ndarray = field(repr=False)
    qm_perm: np.ndarray = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"statistic": self.statistic, "pvalue_perm": self.pvalues},
            index=pd.Index(self.names, name="coef"),
        )

    def summary(self) -> str:
        kind = "exact" if self.exact else f"approximate (seed {self.seed})"
        lines = [
            f"Permutation test: {self.n} permutations, {kind}",
            f"  QM = {_fmt(self.qm, 3)}  permutation p {_rel_p(self.qm_pvalue)}",
        ]
        for nm, s, pv in zip(self.names, self.statistic, self.pvalues, strict=True):
            lines.append(f"  {nm:<16} stat = {_fmt(s, 3)}  permutation p {_rel_p(pv)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = [("QM (perm. p)", f"{_fmt(self.qm, 3)} ({_p(self.qm_pvalue)})")]
        rows += [
            (nm, f"{_fmt(s, 3)} (perm. p {_rel_p(pv)})")
            for nm, s, pv in zip(self.names, self.statistic, self.pvalues, strict=True)
        ]
        kind = "exact" if self.exact else f"random, seed {self.seed}"
        return _html_table("Permutation test", rows, f"{self.n} permutations ({kind})")


def _permutation_test(
    result, n: int, seed: int | None, exact: bool | None
) -> PermutationTestResult:
    """Body of :meth:`MetaRegressionResult.permutation_test` (``result`` is the fitted model)."""
    k, p = result.k, result.p
    rng = np.random.default_rng(seed)
    n_all = 2**k if p == 1 else _row_codes(result.X)[1]
    if (bool(exact) or n_all <= n) and n_all > EXACT_MAX:
        raise ValueError(
            f"an exact permutation test needs {n_all} permutations (more than {EXACT_MAX}); "
            f"use exact=False with n random permutations (e.g. n=10000, seed=1)"
        )
    y = result.yi
    if p == 1:
        n_exact = 2.0**k
        is_exact = bool(exact) or n_exact <= n
        if is_exact:
            bits = (np.arange(2**k)[:, None] >> np.arange(k)) & 1
            signs = 1.0 - 2.0 * bits
        else:
            signs = rng.choice(np.array([-1.0, 1.0]), size=(n, k))
            signs[0] = 1.0
        ys = signs * y
        fit = result._fit(ys, np.ones_like(ys, bool), result.X)
    else:
        codes, n_exact = _row_codes(result.X)
        is_exact = bool(exact) or n_exact <= n
        if is_exact:
            perms = _multiset_permutations(codes)
            rows = np.argsort(codes, kind="stable")  # representative row for each code
            rep = rows[np.searchsorted(codes[rows], np.arange(codes.max() + 1))]
            Xp = result.X[rep[perms]]
        else:
            perms = np.argsort(rng.random((n, k)), axis=1)
            perms[0] = np.arange(k)
            Xp = result.X[perms]
        ys = np.broadcast_to(y, (Xp.shape[0], k))
        fit = result._fit(ys, np.ones((Xp.shape[0], k), bool), Xp)
    zp, qp = fit["statistic"], fit["qm"]
    pv = np.mean(np.abs(zp) >= np.abs(result.statistic) - COMPTOL, axis=0)
    qmp = float(np.mean(qp >= result.qm - COMPTOL))
    return PermutationTestResult(
        names=result.names,
        n=int(zp.shape[0]),
        exact=is_exact,
        seed=None if is_exact else seed,
        statistic=result.statistic.copy(),
        pvalues=np.minimum(pv, 1.0),
        qm=result.qm,
        qm_pvalue=qmp,
        statistic_perm=zp,
        qm_perm=qp,
    )


def _row_codes(X):
    """Integer code per distinct design row, and the number of distinct row permutations."""
    _, codes = np.unique(X, axis=0, return_inverse=True)
    codes = codes.ravel()
    counts = np.bincount(codes)
    from math import factorial, prod

    n = factorial(codes.size) // prod(factorial(int(c)) for c in counts)
    return codes, n


def _multiset_permutations(codes):
    """All distinct orderings of a multiset of integer codes (lexicographic), as (N, k)."""
    a = np.sort(codes)
    out = [a.copy()]
    k = a.size
    while True:  # next lexicographic permutation (Narayana); N is bounded by the caller
        i = k - 2
        while i >= 0 and a[i] >= a[i + 1]:
            i -= 1
        if i < 0:
            return np.array(out)
        j = k - 1
        while a[j] <= a[i]:
            j -= 1
        a[i], a[j] = a[j], a[i]
        a[i + 1 :] = a[i + 1 :][::-1]
        out.append(a.copy())
