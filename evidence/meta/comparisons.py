"""Comparisons of pooled effects (stage 5: ... -> results -> **analyses**).

Tests that take fitted results rather than data: :func:`equivalence_test` (TOST equivalence and
non-inferiority of a pooled effect), :func:`bucher` (adjusted indirect comparison with a
consistency check) and :func:`adjust_pvalues` (multiplicity adjustment of a family of claims).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .pooling import check_level
from .results import _fmt, _html_table, _p, _rel_p

__all__ = [
    "equivalence_test",
    "EquivalenceResult",
    "bucher",
    "IndirectResult",
    "adjust_pvalues",
]


# --------------------------------------------------------------------------------------------
# equivalence and non-inferiority


def _est_se_df(result) -> tuple[float, float, float]:
    est, se = float(result.estimate), float(result.se)
    test = getattr(result, "test", "z")
    df = float(getattr(result, "df", np.inf)) if test != "z" else float("inf")
    return est, se, df


@dataclass(frozen=True, eq=False)
class EquivalenceResult:
    """Two one-sided tests (TOST) and the non-inferiority test of a pooled effect.

    Equivalence: H0 theta <= low or theta >= high, rejected (``equivalent``) when both
    one-sided p-values are below ``alpha``, i.e. when the ``1 - 2 alpha`` CI lies inside
    ``(low, high)``. Non-inferiority: H0 theta <= low (positive effects favour the
    treatment), rejected when ``p_lower < alpha``.
    """

    estimate: float
    se: float
    df: float
    low: float
    high: float
    alpha: float
    ci_low: float
    ci_high: float
    p_lower: float
    p_upper: float
    pvalue: float
    equivalent: bool
    noninferior: bool

    @property
    def ci_level(self) -> float:
        return 100 * (1 - 2 * self.alpha)

    @property
    def noninferiority_pvalue(self) -> float:
        return self.p_lower

    @property
    def margin(self) -> tuple[float, float]:
        return self.low, self.high

    def summary(self) -> str:
        dist = "z" if np.isinf(self.df) else f"t({self.df:g})"
        return "\n".join(
            [
                f"Equivalence test (TOST, {dist}) against margins [{self.low:g}, {self.high:g}]",
                f"  estimate = {_fmt(self.estimate)}  SE = {_fmt(self.se)}  "
                f"{self.ci_level:g}% CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]",
                f"  p(theta <= {self.low:g}) {_rel_p(self.p_lower)}  "
                f"p(theta >= {self.high:g}) {_rel_p(self.p_upper)}  TOST p {_rel_p(self.pvalue)}",
                f"  equivalent: {'yes' if self.equivalent else 'no'}   "
                f"non-inferior (margin {self.low:g}): {'yes' if self.noninferior else 'no'}",
            ]
        )

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in self.__dataclass_fields__}])

    def _repr_html_(self) -> str:
        rows = [
            ("estimate (SE)", f"{_fmt(self.estimate)} ({_fmt(self.se)})"),
            (f"{self.ci_level:g}% CI", f"[{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]"),
            ("TOST p", _p(self.pvalue)),
            ("equivalent", str(self.equivalent)),
            ("non-inferiority p", _p(self.p_lower)),
            ("non-inferior", str(self.noninferior)),
        ]
        return _html_table(
            f"Equivalence test, margins [{self.low:g}, {self.high:g}]", rows, "two one-sided tests"
        )


def equivalence_test(
    result, margin: float | tuple[float, float] = 0.25, alpha: float = 0.05
) -> EquivalenceResult:
    """TOST equivalence and non-inferiority tests of a pooled effect.

    ``margin`` is either ``delta`` (margins ``-delta, +delta``; default 0.25 on the SMD scale,
    as Steinert et al. 2017) or a ``(low, high)`` pair on the analysis scale (log scale for
    ratio measures). The tests use the result's reference distribution (normal under a Wald
    test, t with the result's df under Knapp-Hartung).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> eq = equivalence_test(SimpleNamespace(estimate=0.05, se=0.08), margin=0.25)
    >>> print(round(eq.p_lower, 4), round(eq.p_upper, 4), eq.equivalent)
    0.0001 0.0062 True
    """
    est, se, df = _est_se_df(result)
    if np.ndim(margin) == 0:
        if margin <= 0:
            raise ValueError(f"margin must be positive, got {margin}")
        low, high = -float(margin), float(margin)
    else:
        low, high = (float(x) for x in margin)
        if not low < high:
            raise ValueError(f"margin (low, high) must have low < high, got {margin}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), got {alpha}")
    if not (np.isfinite(est) and np.isfinite(se) and se >= 0):
        raise ValueError(f"equivalence test needs a finite estimate and SE >= 0 (got {est}, {se})")
    if se == 0:  # no sampling error: each one-sided test is decided by the estimate alone
        p_lower, p_upper = float(est <= low), float(est >= high)
        return EquivalenceResult(
            estimate=est,
            se=se,
            df=df,
            low=low,
            high=high,
            alpha=alpha,
            ci_low=est,
            ci_high=est,
            p_lower=p_lower,
            p_upper=p_upper,
            pvalue=max(p_lower, p_upper),
            equivalent=bool(max(p_lower, p_upper) < alpha),
            noninferior=bool(p_lower < alpha),
        )
    dist = stats.norm if np.isinf(df) else stats.t(df)
    p_lower = float(dist.sf((est - low) / se))
    p_upper = float(dist.cdf((est - high) / se))
    crit = float(dist.isf(alpha))
    return EquivalenceResult(
        estimate=est,
        se=se,
        df=df,
        low=low,
        high=high,
        alpha=alpha,
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        p_lower=p_lower,
        p_upper=p_upper,
        pvalue=max(p_lower, p_upper),
        equivalent=bool(max(p_lower, p_upper) < alpha),
        noninferior=bool(p_lower < alpha),
    )


# --------------------------------------------------------------------------------------------
# indirect comparison


@dataclass(frozen=True, eq=False)
class IndirectResult:
    """Bucher's adjusted indirect comparison of A vs B through a common comparator C.

    ``estimate = d_AC - d_BC`` with ``se = sqrt(se_AC^2 + se_BC^2)``. When a direct A vs B
    estimate is given, ``inconsistency`` is ``direct - indirect`` with its z test, and
    ``combined`` the inverse-variance combination of direct and indirect evidence.
    """

    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    level: float
    direct_estimate: float
    direct_se: float
    inconsistency: float
    inconsistency_se: float
    inconsistency_pvalue: float
    combined: float
    combined_se: float

    def summary(self) -> str:
        lvl = f"{self.level:g}%"
        lines = [
            "Adjusted indirect comparison (Bucher)",
            f"  A vs B via C: {_fmt(self.estimate)} (SE {_fmt(self.se)})  "
            f"{lvl} CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]  p {_rel_p(self.pvalue)}",
        ]
        if np.isfinite(self.direct_estimate):
            lines += [
                f"  direct A vs B: {_fmt(self.direct_estimate)} (SE {_fmt(self.direct_se)})",
                f"  inconsistency (direct - indirect): {_fmt(self.inconsistency)} "
                f"(SE {_fmt(self.inconsistency_se)}), p {_rel_p(self.inconsistency_pvalue)}",
                f"  combined: {_fmt(self.combined)} (SE {_fmt(self.combined_se)})",
            ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in self.__dataclass_fields__}])

    def _repr_html_(self) -> str:
        rows = [
            ("indirect (SE)", f"{_fmt(self.estimate)} ({_fmt(self.se)})"),
            (f"{self.level:g}% CI", f"[{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]"),
            ("p", _p(self.pvalue)),
        ]
        if np.isfinite(self.direct_estimate):
            rows += [
                ("direct (SE)", f"{_fmt(self.direct_estimate)} ({_fmt(self.direct_se)})"),
                ("inconsistency p", _p(self.inconsistency_pvalue)),
            ]
        return _html_table("Indirect comparison (Bucher)", rows, "z tests")


def bucher(result_ac, result_bc, direct=None, *, level: float = 95.0) -> IndirectResult:
    """Bucher's adjusted indirect comparison (A vs B from A vs C and B vs C).

    Each argument is any object with ``estimate`` and ``se`` (e.g. a :class:`PoolResult`) on
    the same analysis scale (log scale for ratio measures).

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> b = bucher(R(estimate=0.5, se=0.1), R(estimate=0.3, se=0.2),
    ...            direct=R(estimate=0.1, se=0.15))
    >>> print(round(b.estimate, 4), round(b.se, 4), round(b.inconsistency, 4))
    0.2 0.2236 -0.1
    """
    level = check_level(level)
    ac, bc = (
        (float(result_ac.estimate), float(result_ac.se)),
        (float(result_bc.estimate), float(result_bc.se)),
    )
    est = ac[0] - bc[0]
    se = float(np.hypot(ac[1], bc[1]))
    crit = stats.norm.isf((1 - level / 100) / 2)
    nan = float("nan")
    d_est = d_se = inc = inc_se = inc_p = comb = comb_se = nan
    if direct is not None:
        d_est, d_se = float(direct.estimate), float(direct.se)
        inc, inc_se = d_est - est, float(np.hypot(d_se, se))
        inc_p = float(2 * stats.norm.sf(abs(inc / inc_se)))
        w = np.array([1 / d_se**2, 1 / se**2])
        comb = float((w[0] * d_est + w[1] * est) / w.sum())
        comb_se = float(np.sqrt(1 / w.sum()))
    return IndirectResult(
        estimate=est,
        se=se,
        statistic=est / se,
        pvalue=float(2 * stats.norm.sf(abs(est / se))),
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        level=level,
        direct_estimate=d_est,
        direct_se=d_se,
        inconsistency=inc,
        inconsistency_se=inc_se,
        inconsistency_pvalue=inc_p,
        combined=comb,
        combined_se=comb_se,
    )


# --------------------------------------------------------------------------------------------
# multiplicity

#: Multiplicity adjustments offered by :func:`adjust_pvalues` (names of
#: ``statsmodels.stats.multitest.multipletests``).
ADJUST_METHODS = {"holm": "holm", "fdr_bh": "fdr_bh", "bonferroni": "bonferroni"}
ADJUST_NAMES = {
    "holm": "Holm (family-wise error rate)",
    "fdr_bh": "Benjamini-Hochberg (false discovery rate)",
    "bonferroni": "Bonferroni (family-wise error rate)",
}


def adjust_pvalues(pvalues, method: str = "holm", alpha: float = 0.05) -> pd.DataFrame:
    """Adjust a family of p-values for multiplicity (``statsmodels`` ``multipletests``).

    Parameters
    ----------
    pvalues : sequence or pandas.Series
        One p-value per claim of the family (e.g. the primary comparisons of one page); a
        Series keeps its index as labels. Missing p-values raise ``ValueError``.
    method : {"holm", "fdr_bh", "bonferroni"}
        Holm's step-down (controls the family-wise error rate) or Benjamini-Hochberg (controls
        the false discovery rate), or Bonferroni.
    alpha : float
        Level at which ``reject`` is decided.

    Returns
    -------
    pandas.DataFrame
        Columns ``pvalue`` (as given), ``p_adjusted``, ``reject`` and ``method`` (the named
        rule, so a table says which adjustment it shows).

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], method="holm")[["pvalue", "p_adjusted"]]
       pvalue  p_adjusted
    0    0.01        0.03
    1    0.04        0.06
    2    0.03        0.06
    """
    from statsmodels.stats.multitest import multipletests

    if method not in ADJUST_METHODS:
        raise ValueError(f"unknown adjustment {method!r}; choose one of {tuple(ADJUST_METHODS)}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    index = pvalues.index if isinstance(pvalues, pd.Series) else None
    p = np.asarray(pvalues, dtype=float).ravel()
    bad = np.flatnonzero(~((p >= 0) & (p <= 1)))
    if bad.size:
        raise ValueError(f"p-values must lie in [0, 1]; bad value at position {bad[0]}")
    if p.size == 0:
        raise ValueError("no p-values to adjust")
    reject, adj, _, _ = multipletests(p, alpha=alpha, method=ADJUST_METHODS[method])
    return pd.DataFrame(
        {"pvalue": p, "p_adjusted": adj, "reject": reject, "method": ADJUST_NAMES[method]},
        index=index,
    )
