"""Dependent effect sizes: aggregation within trials and the three-level model.

Trials often report several outcomes (instruments) for one comparison. Their effect sizes are
correlated, so they may not be pooled as if independent. Two remedies, both as metafor:

* :func:`aggregate_effects` combines the rows of each cluster into one effect under a
  compound-symmetric correlation ``rho`` (metafor ``aggregate.escalc(struct = "CS")``), and
  :func:`rho_sensitivity` repeats the aggregation and the pooled model over a grid of ``rho``.
* :func:`three_level` fits effects within trials by REML (metafor
  ``rma.mv(yi, vi, random = ~ 1 | trial/effect)``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .pooling import (
    ConvergenceWarning,
    check_aligned,
    check_groups,
    check_inputs,
    check_level,
    pool,
)
from .pooling.estimators import MAX_ITER
from .results import _fmt, _html_table, _p, _rel_p

__all__ = ["ThreeLevelResult", "aggregate_effects", "rho_sensitivity", "three_level"]

#: Convergence tolerance on the variance components of the three-level REML fit.
SIGMA2_TOL = 1e-12


def _clusters(cluster, k: int, what: str = "cluster") -> tuple[np.ndarray, list]:
    return check_groups(cluster, k, what)


def aggregate_effects(yi, vi, cluster, rho: float = 0.5) -> pd.DataFrame:
    """One effect per cluster under a compound-symmetric correlation (metafor ``aggregate``).

    Within a cluster the sampling covariance of rows i and j is ``rho * sqrt(v_i v_j)``; the
    aggregate is the inverse-covariance-weighted mean ``1'W y / 1'W 1`` with variance
    ``1 / 1'W 1`` (``W = V^-1``), computed in closed form for every cluster at once.

    Returns a DataFrame indexed by cluster (order of first appearance) with columns ``yi``,
    ``vi`` and ``n`` (rows aggregated). pandas Series among ``yi``, ``vi`` and ``cluster`` must
    share one index (``ValueError`` otherwise: they would be paired by position).

    Examples
    --------
    >>> agg = aggregate_effects([0.4, 0.6, 0.2], [0.04, 0.09, 0.05], ["A", "A", "B"], rho=0.5)
    >>> print(agg.round(4).reset_index().to_string(index=False))
    cluster     yi     vi  n
          A 0.4286 0.0386  2
          B 0.2000 0.0500  1
    """
    y, v = check_inputs(yi, vi)
    check_aligned(yi=yi, vi=vi, cluster=cluster)
    codes, uniq = _clusters(cluster, y.size)
    n = np.bincount(codes).astype(float)
    rho = float(rho)
    lower = -1 / (n.max() - 1) if n.max() > 1 else -1.0
    if not (lower < rho < 1) and n.max() > 1:
        raise ValueError(
            f"rho = {rho} makes a cluster's covariance matrix singular or not positive "
            f"definite; it must lie in ({lower:g}, 1) for clusters of {int(n.max())} rows"
        )
    # CS inverse: V = S R S, R = (1 - rho) I + rho 11', R^-1 = (I - c 11') / (1 - rho)
    a = 1 / np.sqrt(v)
    c = rho / (1 + (n - 1) * rho)
    sa = np.bincount(codes, a)
    s_aa = np.bincount(codes, a * a)
    s_aay = np.bincount(codes, a * a * y)
    s_ay = np.bincount(codes, a * y)
    sum_w = (s_aa - c * sa**2) / (1 - rho)
    sum_wy = (s_aay - c * sa * s_ay) / (1 - rho)
    return pd.DataFrame(
        {"yi": sum_wy / sum_w, "vi": 1 / sum_w, "n": n.astype(int)},
        index=pd.Index(uniq, name="cluster"),
    )


def rho_sensitivity(
    yi,
    vi,
    cluster,
    rhos: Sequence[float] = (0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 0.9),
    *,
    method: str = "REML",
    test: str = "z",
) -> pd.DataFrame:
    """Pooled estimate after aggregation under each assumed within-cluster correlation.

    One row per ``rho`` with the pooled model's ``k, estimate, se, ci_low, ci_high, pvalue,
    tau2, i2``.

    Examples
    --------
    >>> t = rho_sensitivity([0.4, 0.6, 0.2, 0.3], [0.04, 0.09, 0.05, 0.02], ["A", "A", "B", "C"],
    ...                     rhos=[0.0, 0.8], method="FE")
    >>> print(t["estimate"].round(4).tolist())
    [0.3361, 0.2936]
    """
    rows = []
    for r in rhos:
        agg = aggregate_effects(yi, vi, cluster, rho=r)
        res = pool(agg["yi"], agg["vi"], method=method, test=test)
        rows.append(
            {
                "rho": float(r),
                "k": res.k,
                "estimate": res.estimate,
                "se": res.se,
                "ci_low": res.ci_low,
                "ci_high": res.ci_high,
                "pvalue": res.pvalue,
                "tau2": res.tau2,
                "i2": res.i2,
            }
        )
    return pd.DataFrame(rows).set_index("rho")


@dataclass(frozen=True, eq=False)
class ThreeLevelResult:
    """Three-level random-effects model fitted by REML (metafor ``rma.mv``).

    ``sigma2_trial`` is the between-trial variance, ``sigma2_effect`` the variance of effects
    within trials; ``q`` is the usual heterogeneity statistic with common-effect weights.
    """

    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    trial: tuple = field(repr=False)
    test: str
    level: float
    k: int
    n_trials: int
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    sigma2_trial: float
    sigma2_effect: float
    q: float
    q_df: int
    q_pvalue: float
    loglik: float
    iterations: int = field(repr=False)

    @property
    def sigma2(self) -> tuple[float, float]:
        """(between-trial, within-trial) variance components, metafor's ``sigma2``."""
        return self.sigma2_trial, self.sigma2_effect

    def methods_text(self) -> str:
        t = "Wald z" if self.test == "z" else f"t({self.k - 1})"
        return f"Three-level model (effects within trials), REML, {t}"

    def summary(self) -> str:
        lvl = f"{self.level:g}%"
        return "\n".join(
            [
                f"Three-level model: {self.k} effects in {self.n_trials} trials (REML)",
                f"  sigma^2 trial = {_fmt(self.sigma2_trial)}  "
                f"sigma^2 effect within trial = {_fmt(self.sigma2_effect)}",
                f"  estimate = {_fmt(self.estimate)}  SE = {_fmt(self.se)}  "
                f"p {_rel_p(self.pvalue)}  {lvl} CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]",
                f"  Q({self.q_df}) = {_fmt(self.q, 3)}  p {_rel_p(self.q_pvalue)}",
            ]
        )

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self) -> pd.DataFrame:
        skip = {"yi", "vi", "trial"}
        return pd.DataFrame(
            [{k: getattr(self, k) for k in self.__dataclass_fields__ if k not in skip}]
        )

    def _repr_html_(self) -> str:
        lvl = f"{self.level:g}%"
        rows = [
            ("effects / trials", f"{self.k} / {self.n_trials}"),
            ("estimate (SE)", f"{_fmt(self.estimate)} ({_fmt(self.se)})"),
            (f"{lvl} CI", f"[{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]"),
            ("p", _p(self.pvalue)),
            ("sigma^2 trial / effect", f"{_fmt(self.sigma2_trial)} / {_fmt(self.sigma2_effect)}"),
            ("Q (df, p)", f"{_fmt(self.q, 3)} ({self.q_df}, {_p(self.q_pvalue)})"),
        ]
        return _html_table("Three-level model", rows, self.methods_text())


def _reml_parts(y, v, Z1, Z2, s):
    V = np.diag(v) + s[0] * Z1 @ Z1.T + s[1] * Z2 @ Z2.T
    vinv = np.linalg.inv(V)
    one = np.ones(y.size)
    vi1 = vinv @ one
    sw = one @ vi1
    P = vinv - np.outer(vi1, vi1) / sw
    return V, P, sw, vinv


def _design(trial, effect, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indicator matrices of the trial (level 3) and the effect within trial (level 2)."""
    t_codes, t_uniq = _clusters(trial, k, "trial")
    if effect is None:
        e_codes = np.arange(k)
    else:
        e_raw, _ = _clusters(effect, k, "effect")
        e_codes = pd.factorize(pd.Series(list(zip(t_codes, e_raw, strict=True))))[0]
    Z1 = (t_codes[:, None] == np.arange(len(t_uniq))).astype(float)
    Z2 = (e_codes[:, None] == np.arange(e_codes.max() + 1)).astype(float)
    return Z1, Z2


def _scoring(y, v, Z1, Z2, s, fixed) -> tuple[np.ndarray, int]:
    """Fisher scoring with components in ``fixed`` held at 0; (s, iterations or -MAX)."""
    dV = (Z1 @ Z1.T, Z2 @ Z2.T)
    s = np.where(fixed, 0.0, s)
    for it in range(1, MAX_ITER + 1):
        _, P, _, _ = _reml_parts(y, v, Z1, Z2, s)
        Py = P @ y
        PD = [P @ d for d in dV]
        score = np.array(
            [-0.5 * np.trace(pd_) + 0.5 * Py @ d @ Py for pd_, d in zip(PD, dV, strict=True)]
        )
        info = 0.5 * np.array([[np.sum(a * b.T) for b in PD] for a in PD])
        free = ~((s <= 0) & (score < 0)) & ~fixed
        step = np.zeros(2)
        if free.any():
            idx = np.flatnonzero(free)
            step[idx] = np.linalg.solve(info[np.ix_(idx, idx)], score[idx])
        new = np.maximum(s + step, 0.0)
        if np.all(np.abs(new - s) <= SIGMA2_TOL * np.maximum(v.mean(), s)):
            return new, it
        s = new
    return s, -MAX_ITER


def _fit_sigma2(y, v, Z1, Z2, start, fixed) -> tuple[np.ndarray, int]:
    """The two variance components by REML; (s, iterations or -MAX)."""

    def reml_ll(s):
        V, P, sw, _ = _reml_parts(y, v, Z1, Z2, s)
        return -0.5 * (np.linalg.slogdet(V)[1] + np.log(sw) + y @ P @ y)

    # the joint fit, and each component alone (the other at 0): the joint scoring with its
    # simple active set can stall next to the boundary, so the highest restricted likelihood
    # among the converged candidates is kept (metafor's optimiser finds that maximum)
    cands = [_scoring(y, v, Z1, Z2, start, fixed)]
    if not fixed.any():
        cands += [
            _scoring(y, v, Z1, Z2, start, np.array([True, False])),
            _scoring(y, v, Z1, Z2, start, np.array([False, True])),
        ]
    ok = [c for c in cands if c[1] > 0] or cands
    return max(ok, key=lambda c: reml_ll(c[0]))


def three_level(
    yi, vi, trial, effect=None, *, test: str = "z", level: float = 95.0
) -> ThreeLevelResult:
    """Three-level meta-analysis by REML (metafor ``rma.mv(yi, vi, random = ~ 1 | trial/effect)``).

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances (several rows per trial allowed).
    trial : sequence
        Trial identifier of each row (level 3).
    effect : sequence, optional
        Effect identifier within trial (level 2); rows sharing (trial, effect) share the
        level-2 random effect. Default: every row is its own effect.
    test : {"z", "t"}
        Wald z, or t with k - 1 df (metafor ``test = "t"``).

    pandas Series among ``yi``, ``vi``, ``trial`` and ``effect`` must share one index
    (``ValueError`` otherwise: they would be paired by position).

    The variance components are found by Fisher scoring on the restricted likelihood with an
    active set for components at the boundary 0. Degenerate designs follow metafor: with a
    single trial the trial component is fixed to 0 (metafor: "Single-level factor(s) found in
    'random' argument"); when every trial has a single effect the two components are not
    separately identified, the total is estimated and split equally between them (as metafor's
    optimiser does from its symmetric start), with a warning.

    Examples
    --------
    >>> r = three_level([0.1, 0.3, 0.5, 0.2, 0.7, 0.6], [0.02, 0.03, 0.02, 0.04, 0.03, 0.02],
    ...                 ["a", "a", "b", "b", "c", "c"])
    >>> print(round(r.estimate, 4), round(r.sigma2_trial, 4), round(r.sigma2_effect, 4))
    0.4067 0.0414 0.0
    """
    y, v = check_inputs(yi, vi)
    check_aligned(yi=yi, vi=vi, trial=trial, effect=effect)
    level = check_level(level)
    k = y.size
    if test not in ("z", "t"):
        raise ValueError(f"unknown test {test!r}; choose 'z' or 't'")
    Z1, Z2 = _design(trial, effect, k)
    n_trials, n_effects = Z1.shape[1], Z2.shape[1]
    if k < 3:
        raise ValueError("a three-level model needs at least 3 effect sizes")
    ybar = y.mean()
    s = np.full(2, max(np.mean((y - ybar) ** 2) - v.mean(), 0.01 * np.var(y) + 1e-8 * v.mean()))
    s = s / 2
    one_trial = n_trials == 1
    confounded = n_effects == n_trials  # every trial holds a single effect
    fixed = np.array([one_trial or confounded, False])
    if one_trial:
        warnings.warn(
            "a single trial: the between-trial variance is fixed to 0 (as metafor)",
            UserWarning,
            stacklevel=2,
        )
    elif confounded:
        warnings.warn(
            "every trial has a single effect: the two variance components are not separately "
            "identified; their sum is estimated and split equally (as metafor's optimiser does)",
            UserWarning,
            stacklevel=2,
        )
    s[fixed] = 0.0
    s, iterations = _fit_sigma2(y, v, Z1, Z2, s, fixed)
    if iterations < 0:
        warnings.warn("three-level REML did not converge", ConvergenceWarning, stacklevel=2)
    if confounded and not one_trial:
        s = np.full(2, s[1] / 2)
    V, P, sw, vinv = _reml_parts(y, v, Z1, Z2, s)
    est = float(np.sum(vinv @ y) / sw)
    se = float(np.sqrt(1 / sw))
    alpha = 1 - level / 100
    if test == "z":
        crit, pval = stats.norm.isf(alpha / 2), 2 * stats.norm.sf(abs(est / se))
    else:
        crit, pval = stats.t.isf(alpha / 2, k - 1), 2 * stats.t.sf(abs(est / se), k - 1)
    w = 1 / v
    q = float(np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2))
    _, logdet = np.linalg.slogdet(V)
    # restricted log-likelihood including metafor's 1/2 log|X'X| term (REMLf = TRUE)
    loglik = float(
        -0.5 * ((k - 1) * np.log(2 * np.pi) + logdet + np.log(sw) + y @ P @ y) + 0.5 * np.log(k)
    )
    return ThreeLevelResult(
        yi=y,
        vi=v,
        trial=tuple(trial),
        test=test,
        level=level,
        k=k,
        n_trials=n_trials,
        estimate=est,
        se=se,
        statistic=est / se,
        pvalue=float(pval),
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        sigma2_trial=float(s[0]),
        sigma2_effect=float(s[1]),
        q=q,
        q_df=k - 1,
        q_pvalue=float(stats.chi2.sf(q, k - 1)),
        loglik=loglik,
        iterations=iterations,
    )
