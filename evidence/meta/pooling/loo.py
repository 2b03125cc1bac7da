"""Leave-one-out fits at large k in O(k) work per evaluation (stage 3: **pooling**).

Leave-one-out is a batch of k fits of k - 1 studies. The batch engine
(:func:`~evidence.meta.pooling.fit_masks`) sums over a (fits x k) mask, so every evaluation of an
estimating equation or likelihood costs O(k^2) (1e8 cells at k = 10,000, about 80 s for REML).
Here every sum "over all studies but r" is the prefix sum before r plus the suffix sum after r,
so one O(k) pass gives it for all k fits at once when they share tau^2. The fits of one
iteration have nearby but different tau^2 values t_r; about a common centre t0 the weights
expand as

    (v_i + t_r)^-p = sum_m binom(-p, m) (t_r - t0)^m (v_i + t0)^(-p-m),

so each fit's sums are a short polynomial in its own t_r - t0 whose coefficients are prefix and
suffix sums of powers of 1/(v_i + t0): O(k M) for all fits (M terms; a few near convergence, at
most about 40), and the few fits whose t_r is too far from every centre for the series to be
short are summed directly (O(k) each). The estimators are those of the batch engine
(:func:`~evidence.meta.pooling.estimators._tau2_rows` on this backend): the same equations, the
same bracketing and Newton steps, the same global-maximum safeguard for ML and REML; only the
fits whose likelihood has a higher maximum away from the iteration's root (rare) are polished by
the batch engine on their own masks. Results agree with the batch engine to rounding (the sums
are accumulated in a different order; about 1e-13 relative).
"""

from __future__ import annotations

import numpy as np

from ..checks import check_level
from .estimators import _fisher_scoring, _score_equation, _solve, _tau2_rows
from .fit import BATCH_CELLS, _summarise, _uncentre, _warn_iterations, fit_masks

#: From this many studies :func:`fit_leave_one_out` uses this engine; below it the batch engine
#: (as fast there, and its results are those of earlier versions to the last digit).
FAST_K = 200
#: Largest |t_r - t0| / min(v + t0) for which a fit's sums come from the series about t0.
RHO_MAX = 0.25
#: Series terms are added until the bound on the remainder (relative) is below this.
SERIES_TOL = 2.0**-60
#: Centres tried per evaluation before the remaining fits are summed directly.
CENTRES = 4
LOG2PI = np.log(2 * np.pi)
#: Prefix sums accumulate in x87 extended precision where numpy has it (not software quad).
_ACC = np.longdouble if np.finfo(np.longdouble).nmant == 63 else np.float64


def fit_leave_one_out(y, v, *, method="REML", test="z", level=95.0, pi="metafor") -> dict:
    """Fit the model omitting each study in turn (metafor ``leave1out``).

    Returns the dict of :func:`~evidence.meta.pooling.fit_masks` (arrays of shape (k,), row r
    without study r; no per-study weights). Below :data:`FAST_K` studies it *is*
    ``fit_masks`` over the leave-one-out masks (O(k^2) work and O(k) memory); from
    :data:`FAST_K` on, this module's backend: O(k) memory and O(k) work per evaluation of an
    estimating equation for all k fits at once, so REML leave-one-out at k = 10,000 takes about
    a second instead of about 80 s.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> v = rng.uniform(0.01, 0.2, 400)
    >>> y = rng.normal(0.3, np.sqrt(v + 0.05))
    >>> fit = fit_leave_one_out(y, v, method="REML")
    >>> fit["tau2"].shape, int(fit["k"][0])
    ((400,), 399)
    >>> masks = lambda a, b: np.arange(400) != np.arange(a, b)[:, None]
    >>> batch = fit_masks(y, v, masks, 400, method="REML")
    >>> bool(np.allclose(fit["tau2"], batch["tau2"], rtol=1e-10, atol=0))
    True
    """
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    K = y.size
    if K < FAST_K:
        studies = np.arange(K)
        return fit_masks(
            y,
            v,
            lambda a, b: studies != np.arange(a, b)[:, None],
            K,
            method=method,
            test=test,
            level=level,
            pi=pi,
        )
    level = check_level(level)
    # centre on the effect nearest the common-effect mean: the sums below are raw moments, and
    # this keeps the heavily weighted studies' residuals small (and equal effects centre to 0)
    ref = y[np.argmin(np.abs(y - np.sum(y / v) / np.sum(1 / v)))]
    data = LeaveOneOut(y - ref, v)
    tau2, iters = _tau2_rows(method, data)
    _warn_iterations(iters, method)
    s, _ = data.sums(None, tau2)
    sw, est = s[:, 1, 0], s[:, 1, 1] / s[:, 1, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        rss = _resid(s, 1, est)[2] if test != "z" else None
        s0 = data.at_zero()
        fe = (s0[:, 1, 0], s0[:, 2, 0], _resid(s0, 1, est=None)[2])
    return _uncentre(
        _summarise(data.k, tau2, iters, sw, est, rss, fe, method, test, level, pi), ref
    )


def _resid(s, p, est):
    """sum w^p, sum w^p r and sum w^p r^2 with r = y - est (``est=None``: the weighted mean),
    from the raw sums ``s[:, p, q]`` = sum w^p y^q."""
    if est is None:
        est = s[:, 1, 1] / s[:, 1, 0]
    a0 = s[:, p, 0]
    return a0, s[:, p, 1] - est * a0, s[:, p, 2] - 2 * est * s[:, p, 1] + est**2 * a0


def _excl(a):
    """``out[r] = sum of a[i] over i != r`` along axis 0, for every r: the prefix sum before r
    plus the suffix sum after r (no subtraction, so no cancellation), accumulated in extended
    precision where the platform has it. O(size of a)."""
    a = np.asarray(a, dtype=_ACC)
    zero = np.zeros((1,) + a.shape[1:], dtype=a.dtype)
    pre = np.concatenate([zero, np.cumsum(a[:-1], axis=0)])
    suf = np.concatenate([np.cumsum(a[:0:-1], axis=0)[::-1], zero])
    return (pre + suf).astype(float)


def _n_terms(rho: float) -> int:
    """Series terms M such that the remainder of sum (v + t)^-p, p <= 3, about t0 is below
    :data:`SERIES_TOL` (relative) when |t - t0| max 1/(v + t0) <= rho."""
    m = 0
    while rho > 0 and (m + 2) * (m + 3) / 2 * rho ** (m + 1) / (1 - rho) ** 3 > SERIES_TOL:
        m += 1
    return m


def _drop_one(x):
    """Per r: (max, min) of x without x[r]."""
    order = np.argsort(x, kind="stable")
    r = np.arange(x.size)
    hi = np.where(r == order[-1], x[order[-2]], x[order[-1]])
    lo = np.where(r == order[0], x[order[1]], x[order[0]])
    return hi, lo


class LeaveOneOut:
    """Backend of :func:`~evidence.meta.pooling.estimators._tau2_rows` for the k leave-one-out
    fits of one data set (``y`` centred; row r omits study r). Memory O(k M)."""

    def __init__(self, y, v):
        K = y.size
        self.y, self.v, self.n = y, v, K
        self.k = np.full(K, K - 1.0)
        self._yq = np.stack([np.ones(K), y, y * y], axis=1)  # (k, 3): 1, y, y^2
        self._zero = None

    # ---- sums over all studies but one ---------------------------------------------------
    def sums(self, rows, t):
        """``s[b, p, q]`` = sum over i != rows[b] of y_i^q / (v_i + t_b)^p (p = 0..3, q = 0..2)
        and the sums of log(v_i + t_b); ``rows=None`` is every fit."""
        rows = np.arange(self.n) if rows is None else np.asarray(rows)
        t = np.broadcast_to(np.asarray(t, dtype=float), rows.shape)
        out, logs = np.empty((rows.size, 4, 3)), np.empty(rows.size)
        todo = np.flatnonzero(np.isfinite(t) & (t >= 0))
        rest = np.flatnonzero(~(np.isfinite(t) & (t >= 0)))
        for _ in range(CENTRES):
            if todo.size == 0:
                break
            tt = t[todo]
            t0 = float(tt[np.argmin(np.abs(tt - np.median(tt)))])  # a member: progress
            amax = 1 / (self.v.min() + t0)
            near = np.abs(tt - t0) * amax <= RHO_MAX
            idx = todo[near]
            out[idx], logs[idx] = self._series(rows[idx], t[idx] - t0, t0, amax)
            todo = todo[~near]
        todo = np.r_[todo, rest]
        if todo.size:
            out[todo], logs[todo] = self._direct(rows[todo], t[todo])
        return out, logs

    def _series(self, rows, d, t0, amax):
        """Sums at t0 + d from the series about t0: O(k M) for all ``rows``."""
        M = _n_terms(float(np.abs(d).max(initial=0.0)) * amax)
        u = (self.v.min() + t0) / (self.v + t0)  # (v + t0)^-1 / amax, in (0, 1]
        ex = _excl((u[:, None] ** np.arange(M + 4))[:, :, None] * self._yq[:, None, :])[rows]
        m = np.arange(M + 1)
        x = (d * amax)[:, None] ** m  # (B, M + 1)
        sign = (-1.0) ** m
        coef = (m == 0.0, sign, sign * (m + 1), sign * (m + 1) * (m + 2) / 2)  # binom(-p, m)
        out = np.empty((rows.size, 4, 3))
        for p in range(4):
            out[:, p] = amax**p * np.einsum("bm,bmq->bq", x * coef[p], ex[:, p : p + M + 1])
        logs = _excl(np.log(self.v + t0))[rows]
        if M:  # log(1 + z) = sum (-1)^(m+1) z^m / m
            logs = logs + np.einsum("bm,bm->b", x[:, 1:] * (-sign[1:] / m[1:]), ex[:, 1 : M + 1, 0])
        return out, logs

    def _direct(self, rows, t):
        """Sums at arbitrary t, one masked row each: O(k) per fit, in chunks."""
        out, logs = np.empty((rows.size, 4, 3)), np.empty(rows.size)
        step = max(1, BATCH_CELLS // self.n)
        for a in range(0, rows.size, step):
            r, tt = rows[a : a + step], t[a : a + step]
            m = np.ones((r.size, self.n))
            m[np.arange(r.size), r] = 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                vt = self.v + tt[:, None]
                wp = m
                for p in range(4):
                    out[a : a + step, p] = wp @ self._yq
                    wp = wp / vt
                logs[a : a + step] = (m * np.log(vt)).sum(axis=1)
        return out, logs

    def at_zero(self):
        """:meth:`sums` at tau^2 = 0 (common-effect weights), cached."""
        if self._zero is None:
            self._zero = self.sums(None, 0.0)[0]
        return self._zero

    # ---- the backend interface of _tau2_rows -----------------------------------------------
    def fixed(self):
        s0, k = self.at_zero(), self.k
        q = _resid(s0, 1, None)[2]
        ss = s0[:, 0, 2] - s0[:, 0, 1] ** 2 / k  # unweighted residual SS
        return s0[:, 1, 0], s0[:, 2, 0], q, ss, _excl(self.v)

    def scale(self):
        return _excl(self.v) / self.k

    def vrange(self):
        ymax, ymin = _drop_one(self.y)
        vmax, vmin = _drop_one(self.v)
        return ymax - ymin, vmin, vmax

    def gen_q(self, t):
        return _resid(self.sums(None, t)[0], 1, None)[2]

    def equation(self, name):
        reml = name == "REML"

        def evaluate(rows, t):
            s, _ = self.sums(rows, t)
            sw, sw2, sw3 = s[:, 1, 0], s[:, 2, 0], s[:, 3, 0]
            mu = s[:, 1, 1] / sw
            ppy = _resid(s, 2, mu)[2]
            if name == "Q":
                return _resid(s, 1, mu)[2], -ppy
            _, r1, r2 = _resid(s, 3, mu)
            pppy = r2 - _resid(s, 2, mu)[1] ** 2 / sw
            if reml:
                return ppy - (sw - sw2 / sw), -2 * pppy + sw2 - 2 * sw3 / sw + sw2**2 / sw**2
            return ppy - sw, -2 * pppy + sw2

        return evaluate

    def loglik(self, reml):
        def loglik(rows, t):
            s, logs = self.sums(rows, t)
            k = self.k[rows]
            out = -0.5 * (k * LOG2PI + logs + _resid(s, 1, None)[2])
            if reml:
                out = out + 0.5 * (LOG2PI + np.log(k) - np.log(s[:, 1, 0]))
            return out

        return loglik

    def _masked(self, rows):
        """The batch engine's arrays for these fits (only for the rare fits polished there)."""
        m = np.ones((rows.size, self.n))
        m[np.arange(rows.size), rows] = 0.0
        shape = (rows.size, self.n)
        return np.broadcast_to(self.y, shape), np.broadcast_to(self.v, shape), m

    def ascender(self, reml):
        return lambda rows, t0: _solve(_score_equation(reml), *self._masked(rows), 0.0, start=t0)[0]

    def fisher(self, reml, rows, start):
        return _fisher_scoring(reml, *self._masked(rows), start)

    def screen(self, reml):
        """Profile log-likelihood of every fit on one common grid: O(k x grid)."""

        def screen(rows, grid):
            out = np.empty((rows.size, grid.size))
            k = self.k[rows][:, None]
            for a in range(0, grid.size, 16):
                g = grid[a : a + 16]
                vt = self.v[:, None] + g[None, :]  # (k, G)
                w = 1 / vt
                terms = np.stack([np.log(vt), w, w * self.y[:, None], w * self.y[:, None] ** 2])
                lv, sw, swy, swy2 = np.moveaxis(_excl(np.moveaxis(terms, 1, 0))[rows], 1, 0)
                ll = -0.5 * (k * LOG2PI + lv + swy2 - swy**2 / sw)
                if reml:
                    ll = ll + 0.5 * (LOG2PI + np.log(k) - np.log(sw))
                out[:, a : a + g.size] = ll
            return out

        return screen
