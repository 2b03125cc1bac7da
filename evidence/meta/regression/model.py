"""Meta-regression, the public model (stage 5: **analyses**; metafor ``rma(yi, vi, mods = ~ ...)``).

:func:`meta_regression` fits one mixed-effects meta-regression and returns a
:class:`MetaRegressionResult` (coefficients, Wald tests per moderator, R^2, summaries); the
fitting itself is :func:`~evidence.meta.regression.fit.fit_regression_batch`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..pooling import METHODS, check_aligned, check_inputs, check_level
from ..pooling.checks import _name
from ..pooling.estimators import _tau2
from ..results import METHOD_NAMES, TEST_NAMES, _fmt, _html_table, _p, _rel_p
from .design import _coef_index, _terms, design_matrix
from .fit import REG_TESTS, _wls, fit_regression_batch
from .permutation import PermutationTestResult, _permutation_test


@dataclass(frozen=True, eq=False)
class MetaRegressionResult:
    """A mixed-effects meta-regression (see :func:`meta_regression`).

    Coefficient arrays run intercept first, in the order of :attr:`names`. ``r2`` is metafor's
    pseudo R^2 in percent (proportional reduction of tau^2 against the random-effects model
    without moderators, floored at 0; for ``FE`` the adjusted R^2 of the weighted regression).
    """

    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    names: tuple[str, ...]
    method: str
    test: str
    level: float
    k: int
    coef: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    vcov: np.ndarray = field(repr=False)
    tau2: float
    i2: float
    h2: float
    r2: float
    qe: float
    qe_df: int
    qe_pvalue: float
    qm: float
    qm_df: int
    qm_pvalue: float
    df: float
    iterations: int = field(repr=False)
    btt: tuple[int, ...] = ()
    terms: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @property
    def p(self) -> int:
        return len(self.names)

    def _fit(self, y, m, X):
        return fit_regression_batch(
            y,
            np.broadcast_to(self.vi, y.shape),
            m,
            X,
            method=self.method,
            test=self.test,
            level=self.level,
            intercept_only=self.p == 1,
        )

    def permutation_test(
        self, n: int = 1000, seed: int | None = None, exact: bool | None = None
    ) -> PermutationTestResult:
        """Permutation test (metafor ``permutest``), vectorised over permutations.

        The rows of the design are permuted against the (yi, vi) pairs; with an intercept-only
        model the signs of yi are flipped instead. If the number of distinct permutations is at
        most ``n`` (or ``exact=True``) all of them are enumerated; otherwise ``n`` random
        permutations are drawn with ``numpy.random.default_rng(seed)``, the first replaced by
        the observed data as metafor does. p-values count ``|z_perm| >= |z_obs| - tol`` and
        ``QM_perm >= QM_obs - tol`` with metafor's tolerance ``sqrt(eps)``.
        """
        return _permutation_test(self, n, seed, exact)

    def wald_test(self, btt) -> tuple[float, int, float, str]:
        """Test that the coefficients ``btt`` (indices or names) are all 0 (metafor ``btt``).

        Returns ``(statistic, df, pvalue, distribution)``: Wald chi^2 with len(btt) df under
        the z test; under Knapp-Hartung the statistic divided by len(btt), referred to
        F(len(btt), k - p) (as ``rma(..., btt=)``).

        Examples
        --------
        >>> res = meta_regression([0.1, 0.3, 0.35, 0.65, 0.45, 0.15],
        ...                       [0.03, 0.03, 0.05, 0.01, 0.05, 0.02],
        ...                       {"year": [1990, 1995, 2000, 2005, 2010, 2015]}, method="DL")
        >>> stat, df, p, dist = res.wald_test("year")
        >>> print(round(stat, 4), df, dist)
        0.1357 1 chi2
        """
        idx = _coef_index(btt, self.names)
        b = self.coef[idx]
        vb = self.vcov[np.ix_(idx, idx)]
        stat = float(b @ np.linalg.solve(vb, b))
        m = len(idx)
        if self.test == "z":
            return stat, m, float(stats.chi2.sf(stat, m)), "chi2"
        stat /= m
        return stat, m, float(stats.f.sf(stat, m, self.k - self.p)), "F"

    def moderator_tests(self) -> pd.DataFrame:
        """One row per moderator: its own test, its coefficients and what it is adjusted for.

        Each moderator's test covers only its own coefficients (all levels of a categorical
        moderator together), adjusted for every other moderator in the model; ``r2`` is the
        R^2 of the whole model (percent). This is the table to report next to each moderator,
        not the omnibus test of the whole model (``qm``).

        Examples
        --------
        >>> mods = {"year": [1990, 1995, 2000, 2005, 2010, 2015, 2018, 2020],
        ...         "control": ["WL", "WL", "CBT", "CBT", "TAU", "TAU", "WL", "CBT"]}
        >>> res = meta_regression([0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.2, 0.5],
        ...                       [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02],
        ...                       mods, method="DL")
        >>> t = res.moderator_tests()
        >>> t["df1"].to_dict(), t["adjusted_for"].to_dict()
        ({'year': 1, 'control': 2}, {'year': 'control', 'control': 'year'})
        """
        rows = []
        for name, idx in self.terms:
            stat, m, pval, dist = self.wald_test(list(idx))
            rows.append(
                {
                    "moderator": name,
                    "coefficients": ", ".join(self.names[i] for i in idx),
                    "estimate": ", ".join(_fmt(self.coef[i]) for i in idx),
                    "ci": ", ".join(
                        f"[{_fmt(self.ci_low[i])}, {_fmt(self.ci_high[i])}]" for i in idx
                    ),
                    "statistic": stat,
                    "df1": m,
                    "df2": float(self.k - self.p) if dist == "F" else float("inf"),
                    "distribution": dist,
                    "pvalue": pval,
                    "adjusted_for": ", ".join(n for n, _ in self.terms if n != name) or "none",
                    "r2_model": self.r2,
                    "k": self.k,
                }
            )
        return pd.DataFrame(rows).set_index("moderator") if rows else pd.DataFrame()

    def methods_text(self) -> str:
        head = "Common-effect" if self.method == "FE" else f"Mixed-effects, {self.method}"
        return f"{head} meta-regression, {TEST_NAMES[self.test]}"

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table: estimate, se, statistic, pvalue, ci_low, ci_high."""
        return pd.DataFrame(
            {
                "estimate": self.coef,
                "se": self.se,
                "statistic": self.statistic,
                "pvalue": self.pvalue,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            },
            index=pd.Index(self.names, name="coef"),
        )

    def summary(self) -> str:
        stat = "z" if self.test == "z" else f"t({self.df:g})"
        qm_lab = f"QM({self.qm_df})" if self.test == "z" else f"F({self.qm_df}, {self.df:g})"
        lines = [
            f"Meta-regression (k = {self.k}; {self.p} coefficients)",
            f"  tau^2 estimator : {self.method} ({METHOD_NAMES[self.method]})",
            f"  test            : {TEST_NAMES[self.test]}",
            f"  tau^2 (residual) = {_fmt(self.tau2)}  I^2 = {_fmt(self.i2, 1)}%  "
            f"R^2 = {_fmt(self.r2, 2)}%",
            f"  QE({self.qe_df}) = {_fmt(self.qe, 3)}  p {_rel_p(self.qe_pvalue)}",
            f"  {qm_lab} = {_fmt(self.qm, 3)}  p {_rel_p(self.qm_pvalue)}",
            "",
            f"  {'coef':<16}{'estimate':>10}{'se':>9}{stat:>9}{'p':>8}",
        ]
        for i, nm in enumerate(self.names):
            lines.append(
                f"  {nm:<16}{_fmt(self.coef[i]):>10}{_fmt(self.se[i]):>9}"
                f"{_fmt(self.statistic[i], 3):>9}{_p(self.pvalue[i]):>8}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = [
            (nm, f"{_fmt(b)} ({_fmt(s)}), p {_rel_p(pv)}")
            for nm, b, s, pv in zip(self.names, self.coef, self.se, self.pvalue, strict=True)
        ]
        rows += [
            ("tau^2 (residual)", _fmt(self.tau2)),
            ("R^2", f"{_fmt(self.r2, 2)}%"),
            ("QM (p)", f"{_fmt(self.qm, 3)} ({_p(self.qm_pvalue)})"),
            ("QE (p)", f"{_fmt(self.qe, 3)} ({_p(self.qe_pvalue)})"),
        ]
        return _html_table(f"Meta-regression (k = {self.k})", rows, self.methods_text())


def meta_regression(
    yi,
    vi,
    moderators,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    btt=None,
) -> MetaRegressionResult:
    """Mixed-effects meta-regression (metafor ``rma(yi, vi, mods = ~ ...)``).

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances.
    moderators : DataFrame, dict of arrays, array, or None
        None fits the intercept-only model (useful for its permutation test). Continuous
        columns enter as they are; categorical columns (strings, categories, bools) as treatment
        dummies with the first level as reference (R's ``model.matrix``). pandas inputs
        (``yi``, ``vi``, a DataFrame or Series of moderators, Series in a dict) must share one
        index, else ``ValueError``: rows are paired by position.
    method : str, default "REML"
        Residual tau^2 estimator: ``FE``, ``DL``, ``HE``, ``HS``, ``SJ``, ``PM``, ``EB``,
        ``ML`` or ``REML``.
    test : {"z", "knha", "adhoc"}
        Wald z / chi^2 tests, or Knapp-Hartung t / F tests with k - p df.
    level : float
        Confidence level in percent (0.95 is read as 95%).
    btt : int, str or sequence, optional
        Coefficients (indices or names) of the omnibus test ``qm`` (metafor ``btt``): Wald
        chi^2, or F under Knapp-Hartung. Default: every coefficient but the intercept. Each
        moderator's own test is in :meth:`MetaRegressionResult.moderator_tests`.

    Examples
    --------
    >>> res = meta_regression([0.1, 0.3, 0.35, 0.65, 0.45, 0.15],
    ...                       [0.03, 0.03, 0.05, 0.01, 0.05, 0.02],
    ...                       {"year": [1990, 1995, 2000, 2005, 2010, 2015]}, method="DL")
    >>> res.names
    ('intrcpt', 'year')
    >>> print(round(res.coef[1], 4), round(res.qm, 4))
    0.0051 0.1357
    """
    y, v = check_inputs(yi, vi)
    level = check_level(level)
    method = _name(method, METHODS, "method")
    test = _name(test, REG_TESTS, "test")
    check_aligned(yi=yi, vi=vi, moderators=moderators)
    X, names = design_matrix(moderators, y.size)
    k, p = X.shape
    one = np.ones((1, k), bool)
    idx = None if btt is None else _coef_index(btt, names)
    fit = fit_regression_batch(
        y[None],
        v[None],
        one,
        X,
        method=method,
        test=test,
        level=level,
        intercept_only=p == 1,
        btt=idx,
    )
    r2 = _r2(y, v, X, method, fit["tau2"][0])
    g = {key: val[0] for key, val in fit.items() if np.ndim(val)}
    return MetaRegressionResult(
        yi=y,
        vi=v,
        X=X,
        names=names,
        method=method,
        test=test,
        level=level,
        k=k,
        coef=g["beta"],
        se=g["se"],
        statistic=g["statistic"],
        pvalue=g["pvalue"],
        ci_low=g["ci_low"],
        ci_high=g["ci_high"],
        vcov=g["vb"],
        tau2=float(g["tau2"]),
        i2=float(g["i2"]),
        h2=float(g["h2"]),
        r2=r2,
        qe=float(g["qe"]),
        qe_df=k - p,
        qe_pvalue=float(g["qe_pvalue"]),
        qm=float(g["qm"]),
        qm_df=len(idx) if idx is not None else max(p - 1, 1),
        qm_pvalue=float(g["qm_pvalue"]),
        df=float(k - p) if test != "z" else float("inf"),
        iterations=int(fit["iterations"]),
        btt=tuple(idx) if idx is not None else (tuple(range(1, p)) if p > 1 else (0,)),
        terms=_terms(moderators, k),
    )


def _r2(y, v, X, method, tau2):
    """metafor's pseudo R^2 (r2def "1"), percent, floored at 0; adjusted R^2 under FE."""
    k, p = X.shape
    if p == 1:
        return float("nan")
    if method == "FE":
        if np.var(y) == 0:
            return 0.0
        w = 1 / v
        _, e, _ = _wls(y[None], X, w[None])
        ybar = np.sum(w * y) / w.sum()
        r2 = 1 - np.sum(w * e[0] ** 2) / np.sum(w * (y - ybar) ** 2)
        return float(max(0.0, 100 * (1 - (1 - r2) * (k - 1) / (k - p))))
    t0, _ = _tau2(method, y[None], v[None], np.ones((1, k)), np.array([float(k)]))
    t0 = float(t0[0])
    if t0 == 0:
        return 0.0
    return float(max(0.0, 100 * (t0 - tau2) / t0))
