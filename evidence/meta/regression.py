"""Mixed-effects meta-regression (metafor ``rma(yi, vi, mods = ...)``), batched.

The engine fits a *batch* of weighted regressions at once, in the style of
:func:`evidence.meta.pooling.fit_batch`: effect sizes ``y`` and variances ``v`` of shape ``(B, k)``,
a boolean mask ``m`` choosing the studies of each row, and a design ``X`` of shape ``(B, k, p)``
(or ``(k, p)``, shared). Permutation tests are a batch of permuted designs; leave-one-out
diagnostics are a batch of masks. All matrix work is on ``p x p`` blocks (``P``-matrix traces are
expanded so that no ``k x k`` matrix is formed).

tau^2 estimators with moderators follow metafor's ``rma.uni`` formulas: ``FE``, ``DL``, ``HE``,
``HS``, ``SJ``, ``PM``, ``EB``, ``ML``, ``REML``. Intercept-only designs are handed to the core
engine (:func:`evidence.meta.pooling._tau2`), so a meta-regression without moderators is exactly
:func:`evidence.pool`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .pooling import (
    MAX_ITER,
    METHODS,
    TAU2_TOL,
    ConvergenceWarning,
    _global_max,
    _name,
    _step_halving,
    _tau2,
    _vrange,
    _vscale,
    check_aligned,
    check_inputs,
    check_level,
)
from .results import METHOD_NAMES, TEST_NAMES, _fmt, _html_table, _p

__all__ = [
    "MetaRegressionResult",
    "PermutationTestResult",
    "meta_regression",
    "design_matrix",
    "fit_regression_batch",
]

REG_TESTS = ("z", "knha", "adhoc")
#: Largest number of permutations an exact permutation test enumerates; beyond it the test
#: refuses and names the random-permutation alternative.
EXACT_MAX = 100_000
#: metafor's permutest compares statistics with this tolerance (``.Machine$double.eps^0.5``).
COMPTOL = float(np.finfo(float).eps ** 0.5)


# --------------------------------------------------------------------------------------------
# design matrix (R's model.matrix with treatment contrasts)


def design_matrix(moderators, k: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Intercept plus one column per continuous moderator and treatment dummies per factor.

    Categorical columns (object, string, category, bool) become dummies for every level but the
    first, as R's ``model.matrix`` does (levels sorted, or the categorical's own order). Column
    names follow R: ``intrcpt``, ``year``, ``formatgroup``. Missing values raise ``ValueError``
    naming the moderator and the row.
    """
    if moderators is None:
        return np.ones((k, 1)), ("intrcpt",)
    if isinstance(moderators, pd.Series):
        moderators = moderators.to_frame(moderators.name or "x")
    elif isinstance(moderators, Mapping):
        moderators = pd.DataFrame({str(c): list(v) for c, v in moderators.items()})
    elif not isinstance(moderators, pd.DataFrame):
        arr = np.asarray(moderators)
        if arr.ndim == 1:
            arr = arr[:, None]
        moderators = pd.DataFrame(arr, columns=[f"x{i + 1}" for i in range(arr.shape[1])])
    if len(moderators) != k:
        raise ValueError(f"moderators have {len(moderators)} rows for {k} studies")
    cols, names = [np.ones(k)], ["intrcpt"]
    for name in moderators.columns:
        col = moderators[name]
        missing = np.flatnonzero(pd.isna(col).to_numpy())
        if missing.size:
            raise ValueError(f"moderator {name!r}: missing value at row {missing[0]}")
        categorical = isinstance(col.dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        )
        if categorical:
            if isinstance(col.dtype, pd.CategoricalDtype):
                levels = [c for c in col.cat.categories if (col == c).any()]
            else:
                levels = sorted(pd.unique(col), key=lambda x: (str(type(x)), x))
            for lev in levels[1:]:
                cols.append((col == lev).to_numpy(dtype=float))
                names.append(f"{name}{lev}")
        else:
            vals = col.to_numpy(dtype=float)
            bad = np.flatnonzero(~np.isfinite(vals))
            if bad.size:
                raise ValueError(f"moderator {name!r}: non-finite value at row {bad[0]}")
            cols.append(vals)
            names.append(str(name))
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError(f"design matrix is rank deficient (columns {names}); drop a moderator")
    if X.shape[1] >= k:
        raise ValueError(f"{X.shape[1]} coefficients need more than {k} studies")
    return X, tuple(names)


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
    ``tau2, qe, qe_pvalue, qm, qm_pvalue, i2, h2, s2w, k, df, iterations``.
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
        alpha = 1 - level / 100
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


# --------------------------------------------------------------------------------------------
# results


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
            f"  QM = {_fmt(self.qm, 3)}  permutation p = {_p(self.qm_pvalue)}",
        ]
        for nm, s, pv in zip(self.names, self.statistic, self.pvalues, strict=True):
            lines.append(f"  {nm:<16} stat = {_fmt(s, 3)}  permutation p = {_p(pv)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = [("QM (perm. p)", f"{_fmt(self.qm, 3)} ({_p(self.qm_pvalue)})")]
        rows += [
            (nm, f"{_fmt(s, 3)} (perm. p {_p(pv)})")
            for nm, s, pv in zip(self.names, self.statistic, self.pvalues, strict=True)
        ]
        kind = "exact" if self.exact else f"random, seed {self.seed}"
        return _html_table("Permutation test", rows, f"{self.n} permutations ({kind})")


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
        k, p = self.k, self.p
        rng = np.random.default_rng(seed)
        n_all = 2**k if p == 1 else _row_codes(self.X)[1]
        if (bool(exact) or n_all <= n) and n_all > EXACT_MAX:
            raise ValueError(
                f"an exact permutation test needs {n_all} permutations (more than {EXACT_MAX}); "
                f"use exact=False with n random permutations (e.g. n=10000, seed=1)"
            )
        y = self.yi
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
            fit = self._fit(ys, np.ones_like(ys, bool), self.X)
        else:
            codes, n_exact = _row_codes(self.X)
            is_exact = bool(exact) or n_exact <= n
            if is_exact:
                perms = _multiset_permutations(codes)
                rows = np.argsort(codes, kind="stable")  # representative row for each code
                rep = rows[np.searchsorted(codes[rows], np.arange(codes.max() + 1))]
                Xp = self.X[rep[perms]]
            else:
                perms = np.argsort(rng.random((n, k)), axis=1)
                perms[0] = np.arange(k)
                Xp = self.X[perms]
            ys = np.broadcast_to(y, (Xp.shape[0], k))
            fit = self._fit(ys, np.ones((Xp.shape[0], k), bool), Xp)
        zp, qp = fit["statistic"], fit["qm"]
        pv = np.mean(np.abs(zp) >= np.abs(self.statistic) - COMPTOL, axis=0)
        qmp = float(np.mean(qp >= self.qm - COMPTOL))
        return PermutationTestResult(
            names=self.names,
            n=int(zp.shape[0]),
            exact=is_exact,
            seed=None if is_exact else seed,
            statistic=self.statistic.copy(),
            pvalues=np.minimum(pv, 1.0),
            qm=self.qm,
            qm_pvalue=qmp,
            statistic_perm=zp,
            qm_perm=qp,
        )

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
            f"  QE({self.qe_df}) = {_fmt(self.qe, 3)}  p = {_p(self.qe_pvalue)}",
            f"  {qm_lab} = {_fmt(self.qm, 3)}  p = {_p(self.qm_pvalue)}",
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
            (nm, f"{_fmt(b)} ({_fmt(s)}), p {_p(pv)}")
            for nm, b, s, pv in zip(self.names, self.coef, self.se, self.pvalue, strict=True)
        ]
        rows += [
            ("tau^2 (residual)", _fmt(self.tau2)),
            ("R^2", f"{_fmt(self.r2, 2)}%"),
            ("QM (p)", f"{_fmt(self.qm, 3)} ({_p(self.qm_pvalue)})"),
            ("QE (p)", f"{_fmt(self.qe, 3)} ({_p(self.qe_pvalue)})"),
        ]
        return _html_table(f"Meta-regression (k = {self.k})", rows, self.methods_text())


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


def _coef_index(btt, names) -> list[int]:
    """Coefficient positions from indices or names; refuses unknown or repeated ones."""
    items = [btt] if isinstance(btt, (int, str, np.integer)) else list(btt)
    out = []
    for b in items:
        if isinstance(b, str):
            if b not in names:
                raise ValueError(f"btt: unknown coefficient {b!r}; choose from {names}")
            out.append(names.index(b))
        elif isinstance(b, (int, np.integer)) and 0 <= int(b) < len(names):
            out.append(int(b))
        else:
            raise ValueError(f"btt: {b!r} is not a coefficient index in 0..{len(names) - 1}")
    if not out or len(set(out)) != len(out):
        raise ValueError(f"btt must name distinct coefficients, got {btt!r}")
    return out


def _terms(moderators, k: int) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Which design columns belong to which moderator (all dummies of a factor together)."""
    if moderators is None:
        return ()
    frame = moderators
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(frame.name or "x")
    elif isinstance(frame, Mapping):
        frame = pd.DataFrame({str(c): list(v) for c, v in frame.items()})
    elif not isinstance(frame, pd.DataFrame):
        arr = np.asarray(frame)
        arr = arr[:, None] if arr.ndim == 1 else arr
        frame = pd.DataFrame(arr, columns=[f"x{i + 1}" for i in range(arr.shape[1])])
    out, start = [], 1
    for name in frame.columns:
        width = design_matrix(frame[[name]], k)[0].shape[1] - 1
        out.append((str(name), tuple(range(start, start + width))))
        start += width
    return tuple(out)


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
        dummies with the first level as reference (R's ``model.matrix``).
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
