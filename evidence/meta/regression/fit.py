"""The batched meta-regression engine (stage 5: **analyses**, meta-regression).

:func:`fit_regression_batch` fits a *batch* of mixed-effects meta-regressions at once, in the
style of :func:`evidence.meta.pooling.fit_batch`: effect sizes ``y`` and variances ``v`` of shape
``(B, k)``, a boolean mask ``m`` choosing the studies of each row, and a design ``X`` of shape
``(B, k, p)`` (or ``(k, p)``, shared). All matrix work is on ``p x p`` blocks (``P``-matrix traces
are expanded so that no ``k x k`` matrix is formed).

tau^2 estimators with moderators follow metafor's ``rma.uni`` formulas: ``FE``, ``DL``, ``HE``,
``HS``, ``SJ``, ``PM``, ``EB``, ``ML``, ``REML``. Intercept-only designs are handed to the core
engine (:func:`evidence.meta.pooling.estimators._tau2`), so a meta-regression without
moderators is exactly :func:`evidence.pool`.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from ..checks import check_level
from ..pooling import ConvergenceWarning
from ..pooling.estimators import (
    MAX_ITER,
    TAU2_TOL,
    _global_max,
    _step_halving,
    _tau2,
    _vrange,
    _vscale,
)

REG_TESTS = ("z", "knha", "adhoc")


# --------------------------------------------------------------------------------------------
# batched weighted least squares on p x p blocks


def _gram(X, w):
    """X' diag(w) X for each batch row: (B, k, p), (B, k) -> (B, p, p)."""
    return np.swapaxes(X * w[..., None], 1, 2) @ X


def _wls(y, X, w):
    """Weighted LS fit per row: returns beta (B, p), residuals (B, k), (X'WX)^-1 (B, p, p)."""
    ainv = np.linalg.inv(_gram(X, w))
    beta = (ainv @ np.swapaxes(X * w[..., None], 1, 2) @ y[..., None])[..., 0]
    resid = y - (X @ beta[..., None])[..., 0]
    return beta, resid, ainv


def _tr(a, b):
    """trace(a @ b) for batches of square matrices."""
    return np.einsum("bij,bji->b", a, b)


def _rss(y, v, m, X, tau2):
    """Generalised residual SS y'Py with W = m / (v + tau2), its derivative -y'PPy."""
    w = m / (v + tau2[:, None])
    _, e, _ = _wls(y, X, w)
    we = w * e
    return (we * e).sum(1), -(we**2).sum(1)


def _solve_rss(y, v, m, X, target):
    """tau^2 >= 0 with y'P(tau^2)y = target (PM estimator), safeguarded Newton on a bracket."""
    zero = np.zeros(y.shape[0])
    q0, _ = _rss(y, v, m, X, zero)
    active = q0 > target
    lo, hi = zero.copy(), np.where(active, _vscale(v, m), 0.0)
    for _ in range(200):
        qh, _ = _rss(y, v, m, X, hi)
        grow = active & (qh > target)
        if not grow.any():
            break
        lo, hi = np.where(grow, hi, lo), np.where(grow, hi * 4, hi)
    t = np.where(active, lo, 0.0)
    scale = _vscale(v, m)
    for it in range(MAX_ITER):
        q, dq = _rss(y, v, m, X, t)
        f = q - target
        lo = np.where(active & (f > 0), t, lo)
        hi = np.where(active & (f <= 0), t, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = t - f / dq
        new = np.where(~((new > lo) & (new < hi)) | ~np.isfinite(new), (lo + hi) / 2, new)
        new = np.where(active, new, 0.0)
        done = np.abs(new - t) <= TAU2_TOL * np.maximum(scale, t)
        t = new
        if done.all():
            return t, it + 1
    return t, -MAX_ITER


def _tau2_mods(method, y, v, m, X, k, intercept_only):
    """tau^2 per batch row for a model with moderators (metafor ``rma.uni`` formulas)."""
    B, p = y.shape[0], X.shape[-1]
    if method == "FE":
        return np.zeros(B), 0
    if intercept_only:
        return _tau2(method, y, v, m, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        # HE: ordinary least squares residuals (start value for ML/REML/EB, as metafor)
        _, e_u, a_u = _wls(y, X, m)
        rss_u = (m * e_u**2).sum(1)
        tr_pv = (m * v).sum(1) - _tr(a_u, _gram(X, m * v))
        he = (rss_u - tr_pv) / (k - p)
        if method == "HE":
            return np.maximum(he, 0.0), 0
        if method in ("DL", "HS"):
            w = m / v
            _, e, a = _wls(y, X, w)
            rss = (w * e**2).sum(1)
            if method == "DL":
                tau2 = (rss - (k - p)) / (w.sum(1) - _tr(a, _gram(X, w**2)))
            else:
                tau2 = (rss - k) / w.sum(1)
            return np.maximum(tau2, 0.0), 0
        if method == "SJ":
            ybar = (m * y).sum(1) / k
            t0 = (m * (y - ybar[:, None]) ** 2).sum(1) / k
            rss, _ = _rss(y, v, m, X, t0)
            return t0 * rss / (k - p), 0
        if method == "PM":
            return _solve_rss(y, v, m, X, k - p)
        start = np.maximum(np.nan_to_num(he), 0.0)
    tau2, iters = _scoring(method, y, v, m, X, k, start)
    if method == "EB":
        return tau2, iters

    def loglik(rows, t):
        mm, Xr = m[rows], X[rows]
        vt = v[rows] + t[:, None]
        w = mm / vt
        _, e, _ = _wls(y[rows], Xr, w)
        out = -0.5 * (k[rows] * np.log(2 * np.pi) + (mm * np.log(vt)).sum(1) + (w * e**2).sum(1))
        if method == "REML":
            ld_w = np.linalg.slogdet(_gram(Xr, w))[1]
            ld_1 = np.linalg.slogdet(_gram(Xr, mm))[1]
            out = out + 0.5 * (p * np.log(2 * np.pi) + ld_1 - ld_w)
        return out

    def ascend(rows, t0):
        return _scoring(method, y[rows], v[rows], m[rows], X[rows], k[rows], t0)[0]

    with np.errstate(divide="ignore", invalid="ignore"):
        ybar = (m * y).sum(1) / k
        ss = (m * (y - ybar[:, None]) ** 2).sum(1)
        _, vmin, vmax = _vrange(y, v, m)
        # max e_i^2 <= sum w e^2 / min w <= (max v / min v) sum (y - ybar)^2 bounds the roots
        upper = np.where(k > p, 2 * ss * vmax / vmin + vmax, np.nan)
    upper = np.maximum(upper, 4 * tau2)
    screen = None
    shared = B > 1 and (y == y[0]).all() and (v == v[0]).all() and (X == X[0]).all()
    if shared and np.all(X[0][:, 0] == 1):  # masks over one data set (leave-one-out)
        screen = _shared_screen(method == "REML", y[0], v[0], X[0], m)
    tau2 = _global_max(loglik, ascend, vmin, tau2, upper, method, screen=screen)
    return tau2, iters


def _shared_screen(reml, y0, v0, X0, m):
    """Profile log-likelihoods of many masks of one data set (design with an intercept) on a
    common grid by matrix products: every sum over included studies is ``mask @ term``."""
    k_all, p = X0.shape
    yc = y0 - y0.mean()  # the intercept makes residuals invariant to this shift
    outer = (X0[:, :, None] * X0[:, None, :]).reshape(k_all, p * p)
    log2pi = np.log(2 * np.pi)

    def screen(rows, grid):
        mm = m[rows]
        kk = mm.sum(1)
        ld1 = np.linalg.slogdet((mm @ outer).reshape(-1, p, p))[1]
        out = np.empty((rows.size, grid.size))
        for j, g in enumerate(grid):
            vt = v0 + g
            w = 1 / vt
            terms = np.column_stack(
                [np.log(vt), w * yc**2, X0 * (w * yc)[:, None], outer * w[:, None]]
            )
            s = mm @ terms
            xwy = s[:, 2 : 2 + p]
            xwx = s[:, 2 + p :].reshape(-1, p, p)
            try:
                beta = np.linalg.solve(xwx, xwy[..., None])[..., 0]
            except np.linalg.LinAlgError:  # a row whose remaining design is singular
                beta = (np.linalg.pinv(xwx) @ xwy[..., None])[..., 0]
            ll = -0.5 * (kk * log2pi + s[:, 0] + s[:, 1] - (beta * xwy).sum(1))
            if reml:
                ll = ll + 0.5 * (p * log2pi + ld1 - np.linalg.slogdet(xwx)[1])
            out[:, j] = ll
        return out

    return screen


def _scoring(method, y, v, m, X, k, start):
    """metafor's Fisher scoring for ML, REML and EB with moderators, from ``start``."""
    B, p = y.shape[0], X.shape[-1]
    tau2 = np.array(start, dtype=float)
    scale = _vscale(v, m)
    act = np.arange(B)  # rows still iterating: converged rows leave the batch
    with np.errstate(divide="ignore", invalid="ignore"):
        for it in range(MAX_ITER):
            ya, va, ma, Xa, ka = y[act], v[act], m[act], X[act], k[act]
            ta = tau2[act]
            w = ma / (va + ta[:, None])
            _, e, a = _wls(ya, Xa, w)
            we = w * e
            if method == "ML":
                adj = ((we**2).sum(1) - w.sum(1)) / (w**2).sum(1)
            elif method == "EB":
                adj = ((we * e).sum(1) * ka / (ka - p) - ka) / w.sum(1)
            else:  # REML
                g2 = _gram(Xa, w**2)
                ag2 = a @ g2
                tr_p = w.sum(1) - np.trace(ag2, axis1=1, axis2=2)
                tr_pp = (
                    (w**2).sum(1) - 2 * _tr(a, _gram(Xa, w**3)) + np.einsum("bij,bji->b", ag2, ag2)
                )
                adj = ((we**2).sum(1) - tr_p) / tr_pp
            new = _step_halving(ta, np.nan_to_num(adj))
            done = np.abs(new - ta) <= TAU2_TOL * np.maximum(scale[act], ta)
            tau2[act] = new
            act = act[~done]
            if act.size == 0:
                return tau2, it + 1
    return tau2, -MAX_ITER


def fit_regression_batch(
    y, v, m, X, *, method="REML", test="z", level=95.0, intercept_only=False, btt=None
):
    """Fit one mixed-effects meta-regression per batch row; returns a dict of arrays.

    ``y``, ``v``, ``m``: (B, k); ``X``: (B, k, p) or (k, p). ``btt`` lists the coefficients
    of the omnibus test (default: all but the intercept; the intercept alone when p = 1).
    Keys: ``beta, se, vb, statistic, pvalue, ci_low, ci_high`` (per coefficient),
    ``tau2, qe, qe_pvalue, qm, qm_pvalue, i2, h2, s2w, k, df, iterations``. ``level`` is
    checked as by :func:`evidence.meta.pooling.pool`.
    """
    y, v = np.atleast_2d(y), np.atleast_2d(v)
    B, k_all = y.shape
    m = np.broadcast_to(np.atleast_2d(m), (B, k_all)).astype(float)
    X = np.broadcast_to(X, (B, k_all, X.shape[-1])) if X.ndim == 2 else X
    p = X.shape[-1]
    k = m.sum(1)
    tau2, iters = _tau2_mods(method, y, v, m, X, k, intercept_only)
    if iters < 0:
        warnings.warn(
            f"{method}: tau^2 did not converge within {MAX_ITER} iterations",
            ConvergenceWarning,
            stacklevel=2,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        w = m / (v + tau2[:, None])
        beta, e, vb = _wls(y, X, w)
        df = k - p
        s2w = np.ones(B)
        if test in ("knha", "adhoc"):
            rss = (w * e**2).sum(1)
            s2w = np.where(rss <= np.finfo(float).eps, 0.0, rss / df)
            if test == "adhoc":
                s2w = np.maximum(s2w, 1.0)
            vb = vb * s2w[:, None, None]
        se = np.sqrt(np.diagonal(vb, axis1=1, axis2=2))
        stat = beta / se
        alpha = 1 - check_level(level) / 100
        if test == "z":
            pval = 2 * stats.norm.sf(np.abs(stat))
            crit = np.full((B, 1), stats.norm.isf(alpha / 2))
        else:
            pval = 2 * stats.t.sf(np.abs(stat), df[:, None])
            crit = stats.t.isf(alpha / 2, df)[:, None]
        # residual heterogeneity with FE weights
        w0 = m / v
        _, e0, a0 = _wls(y, X, w0)
        qe = np.maximum((w0 * e0**2).sum(1), 0.0)
        qe_p = stats.chi2.sf(qe, df)
        vt = df / (w0.sum(1) - _tr(a0, _gram(X, w0**2)))
        if method == "FE":
            i2 = np.maximum(0.0, 100 * (qe - df) / qe)
            h2 = qe / df
        else:
            i2 = 100 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1
        # omnibus test
        if btt is None:
            btt = [0] if p == 1 else list(range(1, p))
        bb = beta[:, btt]
        vbb = vb[:, btt][:, :, btt]
        singular = ~(np.linalg.det(vbb) > 0)  # e.g. s2w = 0 when every residual is 0
        vbb = np.where(singular[:, None, None], np.eye(len(btt)), vbb)
        qm = (bb * np.linalg.solve(vbb, bb[..., None])[..., 0]).sum(1)
        qm = np.where(singular, np.nan, qm)
        if test == "z":
            qm_p = stats.chi2.sf(qm, len(btt))
        else:
            qm = qm / len(btt)
            qm_p = stats.f.sf(qm, len(btt), df)
    return {
        "beta": beta,
        "se": se,
        "vb": vb,
        "statistic": stat,
        "pvalue": pval,
        "ci_low": beta - crit * se,
        "ci_high": beta + crit * se,
        "tau2": tau2,
        "qe": qe,
        "qe_pvalue": qe_p,
        "qm": qm,
        "qm_pvalue": qm_p,
        "i2": i2,
        "h2": h2,
        "s2w": s2w,
        "k": k.astype(int),
        "df": df,
        "iterations": iters,
        "resid": e,
    }
