"""The batch engine and :func:`pool` (stage 3: **pooling**).

:func:`fit_batch` fits one common- or random-effects model per row of a batch (tau^2 from
:mod:`.estimators`, then the estimate, its test (``z``, ``knha``, ``adhoc``), heterogeneity
statistics and the prediction interval by the chosen rule); :func:`fit_masks` runs it over many
masks of one data set in chunks of at most :data:`BATCH_CELLS` cells. :func:`pool` is the
single-analysis entry point that returns a :class:`~evidence.meta.results.PoolResult`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats

from ..checks import check_level
from ..results import PoolResult
from .checks import METHODS, PI_RULES, TESTS, _name, check_aligned, check_inputs
from .estimators import MAX_ITER, TAU2_TOL, ConvergenceWarning, _gen_q, _tau2, _wsum
from .profile import q_profile

#: Batches are fitted in chunks of at most this many (fit x study) cells, so that leave-one-out,
#: cumulative, influence and GOSH need memory linear in k instead of k x k.
BATCH_CELLS = 1 << 20


def fit_batch(y, v, m, *, method="REML", test="z", level=95.0, pi="metafor"):
    """Fit one model per batch row; returns a dict of arrays of shape (B,).

    ``y``, ``v`` and ``m`` are (B, k) arrays; ``m`` is boolean and selects the studies of each
    row. Rows with a single study get tau^2 = 0, the z test and NaN heterogeneity statistics.
    Effects are centred on each row's first included study before any sum, so identical effects
    give residuals of exactly zero (Q = 0, Knapp-Hartung SE = 0, as in metafor). ``level`` is
    checked as by :func:`pool` (:func:`evidence.meta.checks.check_level`).
    """
    level = check_level(level)
    y, v = np.atleast_2d(y), np.atleast_2d(v)
    mb = np.atleast_2d(m).astype(bool)
    ref = y[np.arange(y.shape[0]), mb.argmax(axis=1)]
    return _uncentre(
        _fit_centred(y - ref[:, None], v, mb.astype(float), method, test, level, pi), ref
    )


def _uncentre(est: dict, ref) -> dict:
    """Shift a fit of centred effects back by ``ref``; add the test statistic and p-value."""
    for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        est[key] = est[key] + ref
    with np.errstate(divide="ignore", invalid="ignore"):
        est["statistic"] = est["estimate"] / est["se"]
    est["pvalue"] = 2 * stats.t.sf(np.abs(est["statistic"]), est["df"])
    return est


def chunks(n: int, k: int):
    """(start, stop) pairs covering ``range(n)`` with at most :data:`BATCH_CELLS` // k rows."""
    step = max(1, BATCH_CELLS // max(k, 1))
    return [(a, min(n, a + step)) for a in range(0, n, step)]


def merge_chunks(parts: list[dict]) -> dict:
    """Concatenate per-chunk result dicts; ``iterations`` is the worst chunk (< 0 = failed)."""
    its = [int(p["iterations"]) for p in parts]
    out = {
        key: np.concatenate([p[key] for p in parts])
        for key in parts[0]
        if key != "iterations" and np.ndim(parts[0][key])
    }
    out["iterations"] = min(its) if min(its) < 0 else max(its)
    return out


def fit_masks(y, v, masks, n: int, **settings) -> dict:
    """:func:`fit_batch` over ``n`` masks made chunk by chunk by ``masks(start, stop)``.

    Memory stays linear in k: each chunk holds at most :data:`BATCH_CELLS` cells and the
    per-study weights are dropped. Work is O(n k) per evaluation of an estimating equation (a
    few dozen evaluations for ML/REML): n = k fits make it O(k^2), which is right for the
    review's data sets (k < 100) and for cumulative and GOSH batches, but is 80 s for REML
    leave-one-out at k = 10,000; :func:`evidence.meta.pooling.fit_leave_one_out` does
    leave-one-out in O(k) per evaluation. Leave-one-out here is ``masks = lambda a, b:
    np.arange(k) != np.arange(a, b)[:, None]``.
    """
    k = y.size
    parts = []
    for a, b in chunks(n, k):
        B = b - a
        f = fit_batch(
            np.broadcast_to(y, (B, k)), np.broadcast_to(v, (B, k)), masks(a, b), **settings
        )
        f.pop("weights")
        parts.append(f)
    return merge_chunks(parts)


def _fit_centred(y, v, m, method, test, level, pi):
    k = m.sum(axis=1)
    tau2, iters = _tau2(method, y, v, m, k)
    tau2 = np.where(k > 1, tau2, 0.0)
    _warn_iterations(iters, method)
    w = m / (v + tau2[:, None])
    sw = w.sum(axis=1)
    est = _wsum(w, y) / sw
    with np.errstate(divide="ignore", invalid="ignore"):
        rss = _wsum(w, (y - est[:, None]) ** 2) if test != "z" else None
        w0 = m / v
        q, _, _ = _gen_q(y, v, m, np.zeros_like(est))
        fe = (w0.sum(axis=1), (w0**2).sum(axis=1), q)
    out = _summarise(k, tau2, iters, sw, est, rss, fe, method, test, level, pi)
    out["weights"] = 100 * w / sw[:, None]
    return out


def _warn_iterations(iters: int, method: str) -> None:
    if iters < 0:
        warnings.warn(
            f"{method}: tau^2 did not converge within {MAX_ITER} iterations "
            f"(tolerance {TAU2_TOL:g}); results are flagged converged=False",
            ConvergenceWarning,
            stacklevel=4,
        )


def _summarise(k, tau2, iters, sw, est, rss, fe, method, test, level, pi) -> dict:
    """Everything a fit reports, per row, from its sums: ``sw`` = sum w and ``est`` (centred)
    at the row's tau^2, ``rss`` = sum w (y - est)^2 (Knapp-Hartung; ``None`` under ``z``) and
    ``fe`` = (sum w, sum w^2, Q) with common-effect weights w = 1/v."""
    se = np.sqrt(1 / sw)
    df = k - 1
    # metafor falls back to the z test for a single study (no residual df for Knapp-Hartung)
    tdf = np.where((test != "z") & (k > 1), df, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        if test != "z":
            s2 = rss / df
            se_kh = np.sqrt(s2 / sw)
            se_kh = se_kh if test == "knha" else np.maximum(se_kh, se)
            se = np.where(k > 1, se_kh, se)
        crit = stats.t.isf((1 - level / 100) / 2, tdf)
        # heterogeneity (FE weights)
        sw0, sw02, q = fe
        qp = stats.chi2.sf(q, df)
        if method == "FE":
            i2 = np.maximum(0.0, 100 * (q - df) / q)
            h2 = q / df
        else:
            s2typ = df * sw0 / (sw0**2 - sw02)
            i2 = 100 * tau2 / (tau2 + s2typ)
            h2 = (tau2 + s2typ) / s2typ
        single = k < 2
        q, qp, i2, h2 = (np.where(single, np.nan, a) for a in (q, qp, i2, h2))
        # prediction interval
        if pi == "metafor":
            pcrit = crit
        else:
            pcrit = stats.t.isf((1 - level / 100) / 2, k - 2 if pi == "higgins" else df)
        pse = np.sqrt(se**2 + tau2)
    return {
        "k": k.astype(int),
        "estimate": est,
        "se": se,
        "ci_low": est - crit * se,
        "ci_high": est + crit * se,
        "tau2": tau2,
        "i2": i2,
        "h2": h2,
        "q": q,
        "q_pvalue": qp,
        "pi_low": est - pcrit * pse,
        "pi_high": est + pcrit * pse,
        "df": tdf,
        "iterations": iters,
    }


def pool(
    yi,
    vi,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    pi: str = "metafor",
    labels: Sequence[str] | None = None,
    measure: str | None = None,
) -> PoolResult:
    """Pool effect sizes with a common-effect or random-effects model (metafor ``rma``).

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and their sampling variances (one per study).
    method : str, default "REML"
        tau^2 estimator: one of ``FE`` (common effect), ``DL``, ``HE``, ``HS``, ``SJ``, ``PM``,
        ``EB``, ``ML``, ``REML``.
    test : {"z", "knha", "adhoc"}
        Normal (Wald) test, Knapp-Hartung (t with k - 1 df), or Knapp-Hartung whose SE never
        falls below the Wald SE (ad hoc variant).
    level : float, default 95
        Confidence level in percent; a proportion such as 0.95 is read as 95% (as metafor).
    pi : {"metafor", "higgins", "t_k1"}
        Prediction interval rule: metafor's ``predict()`` (normal under ``z``, t with k - 1 df
        under Knapp-Hartung), t with k - 2 df (Higgins et al. 2009; Riley et al. 2011), or t with
        k - 1 df.
    labels : sequence of str, optional
        Study labels ("Author Year"), carried into the result and the plots. pandas Series
        among ``yi``, ``vi`` and ``labels`` must share one index (``ValueError`` otherwise).
    measure : str, optional
        Name of the effect measure (e.g. "SMD", "OR"), used for display and back-transformation.

    Returns
    -------
    PoolResult
        Frozen result. With k = 1 the single study is returned with tau^2 = 0 and every
        heterogeneity statistic (Q, I^2, H^2, tau^2 CI) NaN.

    Notes
    -----
    ML and REML return the global maximiser of the (restricted) likelihood over tau^2 >= 0.
    Where metafor's Fisher scoring (with its check of tau^2 = 0) would stop at a lower local
    maximum, or would not converge, the result differs from metafor's and a
    :class:`LocalMaximumWarning` names both values; ``result.profile().plot()`` shows the
    likelihood. The tau^2 tolerance is relative to the mean sampling variance, so results do
    not depend on the scale of the effects.

    Examples
    --------
    >>> res = pool([0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02])
    >>> print(round(res.estimate, 4), round(res.tau2, 4), res.method)
    0.3463 0.0331 REML
    """
    y, v = check_inputs(yi, vi)
    check_aligned(yi=yi, vi=vi, labels=labels)
    level = check_level(level)
    method = _name(method, METHODS, "method")
    test = _name(test, TESTS, "test")
    pi = _name(pi, PI_RULES, "prediction-interval rule")
    if labels is not None:
        labels = tuple(str(x) for x in labels)
        if len(labels) != y.size:
            raise ValueError(f"labels has {len(labels)} entries for {y.size} studies")
    fit = fit_batch(
        y[None], v[None], np.ones((1, y.size), bool), method=method, test=test, level=level, pi=pi
    )
    if method != "FE" and y.size > 1:
        tau2_ci = q_profile(y, v, level=level)
    else:
        tau2_ci = (float("nan"), float("nan"))
    one = {key: (val[0] if np.ndim(val) else val) for key, val in fit.items()}
    return PoolResult(
        yi=y,
        vi=v,
        labels=labels,
        measure=measure,
        method=method,
        test=test,
        pi_rule=pi,
        level=level,
        k=int(one["k"]),
        estimate=float(one["estimate"]),
        se=float(one["se"]),
        statistic=float(one["statistic"]),
        pvalue=float(one["pvalue"]),
        ci_low=float(one["ci_low"]),
        ci_high=float(one["ci_high"]),
        tau2=float(one["tau2"]),
        tau2_ci_low=tau2_ci[0],
        tau2_ci_high=tau2_ci[1],
        i2=float(one["i2"]),
        h2=float(one["h2"]),
        q=float(one["q"]),
        q_pvalue=float(one["q_pvalue"]),
        pi_low=float(one["pi_low"]),
        pi_high=float(one["pi_high"]),
        df=float(one["df"]),
        iterations=int(one["iterations"]),
        weights=one["weights"],
    )
