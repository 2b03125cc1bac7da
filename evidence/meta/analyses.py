"""Analyses beyond the pooled estimate (stage 5: ... -> results -> **analyses**).

Public entry points, each checked against R metafor (``tests/test_analyses*.py``):

========================  ====================================================================
subgroups                 separate or common tau^2 per subgroup, test for subgroup differences
meta_regression           mixed-effects meta-regression, permutation test (``regression``)
aggregate_effects         one effect per trial under correlation rho (``dependence``)
rho_sensitivity           the pooled estimate over a grid of rho (``dependence``)
three_level               effects within trials by REML, ``rma.mv`` (``dependence``)
influence, baujat, gosh   case deletion, Baujat plot data, GOSH (``sensitivity``)
egger_test, rank_test     small-study effects: regression and rank tests (``bias``)
trim_and_fill, pet_peese  bias-adjusted estimates (``bias``)
equivalence_test          TOST on the pooled effect, with non-inferiority
bucher                    adjusted indirect comparison, with a consistency check
========================  ====================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .bias import (
    EggerResult,
    PetPeeseResult,
    RankTestResult,
    TrimFillResult,
    egger_test,
    pet_peese,
    rank_test,
    trim_and_fill,
)
from .dependence import (
    ThreeLevelResult,
    aggregate_effects,
    rho_sensitivity,
    three_level,
)
from .pooling import (
    METHODS,
    TESTS,
    _name,
    check_aligned,
    check_groups,
    check_inputs,
    check_level,
    pool,
)
from .regression import (
    MetaRegressionResult,
    PermutationTestResult,
    fit_regression_batch,
    meta_regression,
)
from .results import PoolResult, _fmt, _html_table, _p
from .sensitivity import GoshResult, InfluenceResult, baujat, gosh, influence

__all__ = [
    "subgroups",
    "SubgroupResult",
    "meta_regression",
    "MetaRegressionResult",
    "PermutationTestResult",
    "aggregate_effects",
    "rho_sensitivity",
    "three_level",
    "adjust_pvalues",
    "ThreeLevelResult",
    "influence",
    "InfluenceResult",
    "baujat",
    "gosh",
    "GoshResult",
    "egger_test",
    "EggerResult",
    "rank_test",
    "RankTestResult",
    "trim_and_fill",
    "TrimFillResult",
    "pet_peese",
    "PetPeeseResult",
    "equivalence_test",
    "EquivalenceResult",
    "bucher",
    "IndirectResult",
]

TAU2_RULES = ("separate", "common")


# --------------------------------------------------------------------------------------------
# subgroups


@dataclass(frozen=True, eq=False)
class SubgroupResult:
    """Subgroup analysis (see :func:`subgroups`).

    ``results`` maps each group (order of first appearance) to its :class:`PoolResult`;
    ``overall`` pools all studies. Under ``tau2_rule="separate"`` the test for subgroup
    differences is the Q test of the subgroup estimates (metafor
    ``rma(estimates, sei = ses, mods = ~ group, method = "FE")``); under ``"common"`` it is the
    omnibus test of the mixed-effects model with the grouping factor (chi^2, or F under
    Knapp-Hartung).
    """

    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    labels: tuple[str, ...] | None = field(repr=False)
    measure: str | None
    groups: tuple = field(repr=False)
    method: str
    test: str
    tau2_rule: str
    results: dict = field(repr=False)
    overall: PoolResult = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    q_between: float
    q_between_df: int
    q_between_pvalue: float
    q_between_test: str
    tau2_common: float

    @property
    def group_names(self) -> tuple:
        return tuple(self.results)

    def methods_text(self) -> str:
        rule = (
            "separate tau^2 per subgroup"
            if self.tau2_rule == "separate"
            else "common tau^2 across subgroups"
        )
        return f"{self.overall.methods_text()}; {rule}"

    def to_frame(self) -> pd.DataFrame:
        """The per-group table (k, estimate, se, tau2, CI, I^2, Q, ...) indexed by group."""
        return self.table

    def summary(self) -> str:
        stat = (
            "Q"
            if self.q_between_test == "chi2"
            else f"F({self.q_between_df}, {self.overall.k - len(self.results)})"
        )
        lines = [
            f"Subgroup analysis ({len(self.results)} groups, k = {self.overall.k})",
            f"  {self.methods_text()}",
            "",
        ]
        t = self.table
        lines.append(
            f"  {'group':<20}{'k':>4}{'estimate':>10}{'se':>9}{'CI':>22}{'tau2':>9}{'I2':>7}"
        )
        for g, r in t.iterrows():
            ci = f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]"
            lines.append(
                f"  {str(g):<20}{int(r.k):>4}{_fmt(r.estimate):>10}{_fmt(r.se):>9}"
                f"{ci:>22}{_fmt(r.tau2):>9}{_fmt(r.i2, 1):>7}"
            )
        lines.append("")
        lines.append(
            f"  Test for subgroup differences: {stat} = {_fmt(self.q_between, 3)}, "
            f"df = {self.q_between_df}, p = {_p(self.q_between_pvalue)}"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = [
            (
                str(g),
                f"k = {int(r.k)}: {_fmt(r.estimate)} [{_fmt(r.ci_low)}, "
                f"{_fmt(r.ci_high)}], tau^2 {_fmt(r.tau2)}",
            )
            for g, r in self.table.iterrows()
        ]
        rows.append(
            (
                "subgroup differences",
                f"{_fmt(self.q_between, 3)} (df {self.q_between_df}, "
                f"p {_p(self.q_between_pvalue)})",
            )
        )
        return _html_table("Subgroup analysis", rows, self.methods_text())

    def forest_plot(self, **kwargs):
        """Forest plot with subgroups; see :func:`evidence.plots.forest_plot`."""
        from evidence.plots import forest_plot

        return forest_plot(self, **kwargs)


def _common_group_result(
    y, v, labels, measure, method, test, level, tau2, s2w, df_model, iterations
):
    """A PoolResult for one subgroup under a tau^2 shared by all subgroups."""
    k = y.size
    w = 1 / (v + tau2)
    sw = w.sum()
    est = float(np.sum(w * y) / sw)
    se = float(np.sqrt(s2w / sw))
    alpha = 1 - level / 100
    if test == "z":
        crit = stats.norm.isf(alpha / 2)
        pval = 2 * stats.norm.sf(abs(est / se))
    else:
        crit = stats.t.isf(alpha / 2, df_model)
        pval = 2 * stats.t.sf(abs(est / se), df_model)
    w0 = 1 / v
    q = float(np.sum(w0 * (y - np.sum(w0 * y) / w0.sum()) ** 2)) if k > 1 else float("nan")
    if k > 1:
        s2typ = (k - 1) * w0.sum() / (w0.sum() ** 2 - np.sum(w0**2))
        i2 = 100 * tau2 / (tau2 + s2typ) if method != "FE" else max(0.0, 100 * (q - k + 1) / q)
        h2 = (tau2 + s2typ) / s2typ if method != "FE" else q / (k - 1)
        qp = float(stats.chi2.sf(q, k - 1))
    else:
        i2 = h2 = qp = float("nan")
    pse = np.sqrt(se**2 + tau2)
    return PoolResult(
        yi=y,
        vi=v,
        labels=labels,
        measure=measure,
        method=method,
        test=test,
        pi_rule="metafor",
        level=level,
        k=k,
        estimate=est,
        se=se,
        statistic=est / se,
        pvalue=float(pval),
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        tau2=float(tau2),
        tau2_ci_low=float("nan"),
        tau2_ci_high=float("nan"),
        i2=float(i2),
        h2=float(h2),
        q=q,
        q_pvalue=qp,
        pi_low=float(est - crit * pse),
        pi_high=float(est + crit * pse),
        df=float(df_model) if test != "z" else float("inf"),
        iterations=int(iterations),
        weights=100 * w / sw,
    )


#: columns of ``SubgroupResult.table``, one row per subgroup
_SUBGROUP_COLUMNS = (
    "k",
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_low",
    "ci_high",
    "tau2",
    "i2",
    "q",
    "q_pvalue",
    "pi_low",
    "pi_high",
)


def _separate_groups(y, v, codes, idx, uniq, sub_labels, *, method, test, level, measure):
    """Each subgroup pooled on its own, compared by a Q test on the subgroup estimates;
    (results, (q, df, p, test name, common tau^2 = nan))."""
    results = {
        uniq[j]: pool(
            y[ix],
            v[ix],
            method=method,
            test=test,
            level=level,
            labels=sub_labels[j],
            measure=measure,
        )
        for j, ix in enumerate(idx)
    }
    est = np.array([r.estimate for r in results.values()])
    se = np.array([r.se for r in results.values()])
    if not np.all(np.isfinite(se)):
        raise ValueError(
            "a subgroup has an undefined standard error (k = 1 under "
            "Knapp-Hartung); use test='z' or merge the subgroup"
        )
    w = 1 / se**2
    qb = float(np.sum(w * (est - np.sum(w * est) / w.sum()) ** 2))
    G = len(uniq)
    return results, (qb, G - 1, float(stats.chi2.sf(qb, G - 1)), "chi2", float("nan"))


def _common_groups(y, v, codes, idx, uniq, sub_labels, *, method, test, level, measure):
    """One mixed-effects model with the grouping factor (common tau^2), compared by its
    omnibus test; (results, (q, df, p, test name, common tau^2))."""
    G = len(uniq)
    X = np.column_stack([np.ones(y.size)] + [(codes == j).astype(float) for j in range(1, G)])
    fit = fit_regression_batch(
        y[None], v[None], np.ones((1, y.size), bool), X, method=method, test=test, level=level
    )
    t2c, s2w = float(fit["tau2"][0]), float(fit["s2w"][0])
    results = {
        uniq[j]: _common_group_result(
            y[ix],
            v[ix],
            sub_labels[j],
            measure,
            method,
            test,
            level,
            t2c,
            s2w,
            y.size - G,
            fit["iterations"],
        )
        for j, ix in enumerate(idx)
    }
    qb_test = "chi2" if test == "z" else "F"
    return results, (float(fit["qm"][0]), G - 1, float(fit["qm_pvalue"][0]), qb_test, t2c)


def subgroups(
    yi,
    vi,
    groups: Sequence,
    *,
    method: str = "REML",
    test: str = "z",
    tau2: str = "separate",
    labels: Sequence[str] | None = None,
    measure: str | None = None,
    level: float = 95.0,
) -> SubgroupResult:
    """Subgroup analysis with separate (default) or common tau^2.

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances.
    groups : sequence
        Subgroup label of each study. Missing labels (None, NaN, ``pd.NA``, ``pd.NaT``) and
        distinct values that print alike (``1`` and ``"1"``) raise ``ValueError`` naming the
        positions (see :func:`evidence.meta.pooling.check_groups`).
    method, test, level
        As for :func:`evidence.pool`.
    tau2 : {"separate", "common"}
        ``separate``: each subgroup is pooled on its own and the subgroup estimates are
        compared with a Q test (df = groups - 1). ``common``: one mixed-effects model with the
        grouping factor (metafor ``rma(yi, vi, mods = ~ factor(group))``), whose omnibus test
        compares the subgroups.

    Examples
    --------
    >>> sg = subgroups([0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02],
    ...                ["CBT", "CBT", "CBT", "waitlist", "waitlist", "waitlist"], method="DL")
    >>> print(sg.table[["k", "estimate", "tau2"]].round(4).reset_index().to_string(index=False))
       group  k  estimate   tau2
         CBT  3    0.2346 0.0000
    waitlist  3    0.4242 0.0675
    >>> print(round(sg.q_between, 4), sg.q_between_df)
    0.8559 1
    """
    y, v = check_inputs(yi, vi)
    method = _name(method, METHODS, "method")
    test = _name(test, TESTS, "test")
    rule = _name(tau2, TAU2_RULES, "tau2 rule")
    level = check_level(level)
    check_aligned(yi=yi, vi=vi, groups=groups)
    g = list(groups)
    codes, uniq = check_groups(g, y.size, "groups")
    if labels is not None:
        labels = tuple(str(x) for x in labels)
        if len(labels) != y.size:
            raise ValueError(f"labels has {len(labels)} entries for {y.size} studies")
    G = len(uniq)
    if G < 2:
        raise ValueError("subgroup analysis needs at least 2 groups")
    overall = pool(y, v, method=method, test=test, level=level, labels=labels, measure=measure)
    idx = [np.flatnonzero(codes == j) for j in range(G)]
    sub_labels = [None if labels is None else tuple(labels[i] for i in ix) for ix in idx]
    fit_groups = _separate_groups if rule == "separate" else _common_groups
    results, (qb, qb_df, qb_p, qb_test, t2c) = fit_groups(
        y, v, codes, idx, uniq, sub_labels, method=method, test=test, level=level, measure=measure
    )
    table = pd.DataFrame(
        [{c: getattr(r, c) for c in _SUBGROUP_COLUMNS} for r in results.values()],
        index=pd.Index(list(results), name="group"),
    )
    return SubgroupResult(
        yi=y,
        vi=v,
        labels=labels,
        measure=measure,
        groups=tuple(g),
        method=method,
        test=test,
        tau2_rule=rule,
        results=results,
        overall=overall,
        table=table,
        q_between=qb,
        q_between_df=qb_df,
        q_between_pvalue=qb_p,
        q_between_test=qb_test,
        tau2_common=t2c,
    )


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
                f"  p(theta <= {self.low:g}) = {_p(self.p_lower)}  "
                f"p(theta >= {self.high:g}) = {_p(self.p_upper)}  TOST p = {_p(self.pvalue)}",
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
            f"{lvl} CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]  p = {_p(self.pvalue)}",
        ]
        if np.isfinite(self.direct_estimate):
            lines += [
                f"  direct A vs B: {_fmt(self.direct_estimate)} (SE {_fmt(self.direct_se)})",
                f"  inconsistency (direct - indirect): {_fmt(self.inconsistency)} "
                f"(SE {_fmt(self.inconsistency_se)}), p = {_p(self.inconsistency_pvalue)}",
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
