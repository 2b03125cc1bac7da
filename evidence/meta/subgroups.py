"""Subgroup analysis (stage 5: ... -> results -> **analyses**).

:func:`subgroups` pools each subgroup with a separate tau^2 (default) or one tau^2 shared by all
subgroups (a mixed-effects model with the grouping factor), and tests for subgroup differences;
the answer is a :class:`SubgroupResult`. Checked against metafor in
``tests/test_analyses_reference.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .pooling import (
    METHODS,
    TESTS,
    check_aligned,
    check_groups,
    check_inputs,
    check_level,
    pool,
)
from .pooling.checks import _name
from .regression import fit_regression_batch
from .results import PoolResult, _fmt, _html_table, _rel_p

__all__ = ["subgroups", "SubgroupResult"]

TAU2_RULES = ("separate", "common")


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
            f"df = {self.q_between_df}, p {_rel_p(self.q_between_pvalue)}"
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
                f"p {_rel_p(self.q_between_pvalue)})",
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
