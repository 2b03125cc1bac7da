"""tau^2 estimators of the pooling engine (stage 3: **pooling**), batched over meta-analyses.

Every function works on a *batch*: effect sizes ``y`` and variances ``v`` of shape ``(B, k)``
with a mask ``m`` of the studies each row includes (masked-out entries carry weight 0).
:func:`_tau2` is the entry point (one tau^2 per row, as metafor's ``rma.uni``, floored at 0);
below it sit the generalised Q and score equations, the safeguarded Newton root finder
``_solve``, the profile (restricted) log-likelihood ``_loglik`` and the global-maximum
safeguard ``_global_max`` for ML and REML.

The estimators are written once, in :func:`_tau2_rows`, against a *backend* that supplies the
sums over each row's studies: :class:`_Masked` (the (B, k) arrays above: O(B k) work per
evaluation of an equation) or :class:`evidence.meta.pooling.loo.LeaveOneOut` (the k
leave-one-out rows of one data set from prefix/suffix sums: O(k) work per evaluation for all
k rows). An ML/REML fit costs a few dozen evaluations (bracketing, about five Newton steps, the
profile scan of :data:`PROFILE_GRID` points, which :func:`_shared_screen` does for all rows of
one data set by matrix products).

ML and REML: global maximum, not metafor's stopping point
    The (restricted) likelihood of tau^2 can have several local maxima, typically with one very
    precise study beside several imprecise heterogeneous ones. metafor's Fisher scoring starts at
    the Hedges estimate and stops at the first stationary point its ascent reaches (it then asks
    to "check the profile likelihood"). We first find that same point (so ordinary data give
    metafor's answer to the last digit), then scan the profile (restricted) log-likelihood on a
    grid of :data:`PROFILE_GRID` points over ``[0, 2 range(y)^2 + max(v)]`` (every stationary
    point lies below that bound), polish the best grid point by an ascent on the score, and
    return whichever of the two has the higher likelihood, boundary 0 included. Where that
    differs from metafor's stopping point a :class:`LocalMaximumWarning` is emitted; the
    returned tau^2 is then the global maximiser and metafor's value is a local one. The same
    safeguard runs in every batch (leave-one-out, cumulative, influence, GOSH) and for
    meta-regression.
"""

from __future__ import annotations

import warnings

import numpy as np

#: Convergence threshold on tau^2 for iterative estimators and root finders, relative to the
#: larger of tau^2 and the mean sampling variance, so that it does not depend on the scale of
#: the effects (metafor uses an absolute 1e-5 by default; the reference script tightens it to
#: 1e-12, which our relative criterion meets on every reference data set).
TAU2_TOL = 1e-13
MAX_ITER = 1000

#: Points of the profile-likelihood scan that safeguards ML and REML against local maxima.
PROFILE_GRID = 48
#: A grid point must beat metafor's stopping point by this relative margin in log-likelihood
#: before the scan overrides it (rounding alone never does).
LL_MARGIN = 1e-12


class ConvergenceWarning(RuntimeWarning):
    """An iterative estimator stopped before meeting its tolerance."""


class LocalMaximumWarning(RuntimeWarning):
    """metafor's iteration would stop at a local maximum; the global maximum is returned."""


# --------------------------------------------------------------------------------------------
# batched building blocks (all arrays are (B, k); masked-out entries carry weight 0)


def _vscale(v, m):
    """Mean included sampling variance per batch row: the scale of the tau^2 tolerance."""
    return _wsum(m, v) / m.sum(axis=1)


def _wsum(w, x=None):
    return w.sum(axis=1) if x is None else (w * x).sum(axis=1)


def _gen_q(y, v, m, tau2):
    """Generalised Q = sum w (y - mu_w)^2 with w = 1/(v + tau2), its derivative and mu_w."""
    w = m / (v + tau2[:, None])
    sw = w.sum(axis=1)
    mu = _wsum(w, y) / sw
    r2 = (y - mu[:, None]) ** 2
    return _wsum(w, r2), -_wsum(w**2, r2), mu


def _q_equation(y, v, m, t):
    """Generalised Q and its derivative in tau^2 (PM, EB and the Q-profile solve Q = target)."""
    q, dq, _ = _gen_q(y, v, m, t)
    return q, dq


def _score_equation(reml: bool):
    """Twice the ML or REML score in tau^2 and its derivative (intercept-only model).

    With w = 1/(v + tau^2), r = y - mu_w and P = W - w w'/sum(w):
    ``y'PPy - tr(P)`` (REML) or ``y'PPy - sum(w)`` (ML), whose derivatives are
    ``-2 y'PPPy + tr(PP)`` and ``-2 y'PPPy + sum(w^2)``. The root is metafor's Fisher-scoring
    fixed point; solving for it directly converges quadratically instead of linearly.
    """

    def equation(y, v, m, t):
        w = m / (v + t[:, None])
        sw, sw2, sw3 = w.sum(axis=1), (w**2).sum(axis=1), (w**3).sum(axis=1)
        mu = _wsum(w, y) / sw
        r = y - mu[:, None]
        ppy = _wsum(w**2, r**2)
        pppy = _wsum(w**3, r**2) - _wsum(w**2, r) ** 2 / sw
        if reml:
            return ppy - (sw - sw2 / sw), -2 * pppy + sw2 - 2 * sw3 / sw + sw2**2 / sw**2
        return ppy - sw, -2 * pppy + sw2

    return equation


def _solve(equation, y, v, m, target, start=None):
    """tau^2 >= 0 with f(tau^2) = target for an equation f that is positive below its root.

    Without ``start``: 0 where f(0) <= target, else the root above 0. With ``start`` (the
    likelihood estimators' starting value): the root that an ascent from ``start`` reaches, as
    metafor's Fisher scoring does: the first root above ``start`` where f(start) > target,
    else the first root below it (0 when f stays below the target down to 0), so that a
    likelihood with a local maximum on the boundary and another inside gives metafor's answer.
    ``equation(y, v, m, t)`` works on (B, k) arrays; see :func:`_solve_rows`.
    """

    def evaluate(rows, t):
        if rows is None:
            return equation(y, v, m, t)
        return equation(y[rows], v[rows], m[rows], t)

    return _solve_rows(evaluate, y.shape[0], _vscale(v, m), target, start)


def _solve_rows(evaluate, B, scale, target, start=None):
    """:func:`_solve` for any backend: ``evaluate(rows, t)`` returns f and its derivative at
    ``t`` for the batch rows ``rows`` (``None``: all ``B`` rows); ``scale`` is each row's mean
    sampling variance (the tolerance scale and the first upward bracket).

    Safeguarded Newton on the bracket, vectorised over the batch; every step (bracket growth,
    the downward scan, Newton) evaluates only the rows still unresolved, so the work is
    (number of evaluations) x (cost of the rows evaluated), whatever the backend.
    """
    target = np.broadcast_to(np.asarray(target, dtype=float), (B,))
    start = np.zeros(B) if start is None else np.asarray(start, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fs, _ = evaluate(None, start)
    up = fs > target  # NaN (single-study rows) is neither up nor down: stays at 0
    down = (fs <= target) & (start > 0)
    lo = np.where(up, start, 0.0)
    hi = np.where(up, np.maximum(4 * start, scale), start)
    grow = np.flatnonzero(up)
    for _ in range(200):  # upward bracket: f(hi) < target
        if grow.size == 0:
            break
        fh, _ = evaluate(grow, hi[grow])
        grow = grow[fh > target[grow]]
        lo[grow], hi[grow] = hi[grow], hi[grow] * 4
    dn = np.flatnonzero(down)
    if dn.size:  # downward: f(0) > target brackets [0, start]; else look for a hump below
        f0, _ = evaluate(dn, np.zeros(dn.size))
        dn = dn[~(f0 > target[dn])]
        miss = dn  # rows with no sign change found yet
        for g in np.linspace(1.0, 0.0, 65)[1:-1]:
            if miss.size == 0:
                break
            fg, _ = evaluate(miss, start[miss] * g)
            hit = fg > target[miss]
            lo[miss[hit]] = start[miss[hit]] * g
            miss = miss[~hit]
            hi[miss] = start[miss] * g
        down[miss] = False  # no sign change down to 0: the boundary
    t = np.zeros(B)
    rows = np.flatnonzero(up | down)
    if rows.size == 0:
        return t, 0
    sol = np.where(up, start, np.where(start > 0, hi, lo))[rows]  # Newton starts at start
    target, lo, hi, scale = target[rows], lo[rows], hi[rows], scale[rows]
    act = np.arange(rows.size)  # positions (in the solved subset) still iterating
    for it in range(MAX_ITER):
        ta, la, ha = sol[act], lo[act], hi[act]
        f, df = evaluate(rows[act], ta)
        f = f - target[act]
        la, ha = np.where(f > 0, ta, la), np.where(f <= 0, ta, ha)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = ta - f / df
        out = ~((new > la) & (new < ha)) | ~np.isfinite(new)
        new = np.where(out, (la + ha) / 2, new)
        done = np.abs(new - ta) <= TAU2_TOL * np.maximum(scale[act], ta)
        sol[act], lo[act], hi[act] = new, la, ha
        act = act[~done]
        if act.size == 0:
            t[rows] = sol
            return t, it + 1
    t[rows] = sol
    return t, -MAX_ITER


def _step_halving(tau2, adj):
    """tau^2 + adj with metafor's rule: halve the step until tau^2 stays >= 0 (a plain
    projection onto 0 can cycle between 0 and a positive value and never converge)."""
    neg = tau2 + adj < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(neg & (tau2 > 0), np.ceil(np.log2(-adj / tau2)), 0.0)
    adj = np.where(neg & (tau2 <= 0), 0.0, adj * np.exp2(-n))
    return np.maximum(tau2 + adj, 0.0)


def _loglik(reml: bool):
    """Profile (restricted) log-likelihood of tau^2, intercept-only model, as metafor's logLik.

    ML: ``-k/2 log(2 pi) - 1/2 sum log(v + tau^2) - 1/2 sum w (y - mu_w)^2``; REML adds
    ``log(2 pi)/2 + log(k)/2 - log(sum w)/2`` (metafor's constants, ``X'X = k``).
    """

    def loglik(y, v, m, t):
        vt = v + t[:, None]
        w = m / vt
        sw = w.sum(axis=1)
        k = m.sum(axis=1)
        mu = _wsum(w, y) / sw
        out = -0.5 * (
            k * np.log(2 * np.pi) + _wsum(m, np.log(vt)) + _wsum(w, (y - mu[:, None]) ** 2)
        )
        if reml:
            out = out + 0.5 * (np.log(2 * np.pi) + np.log(k) - np.log(sw))
        return out

    return loglik


def _global_max(loglik, ascend, vmin, t_local, upper, what, metafor=None, screen=None):
    """Replace local maxima of a likelihood in tau^2 by the global maximiser (batched).

    ``t_local`` is where metafor's iteration stops; ``loglik(rows, t)`` is the profile
    log-likelihood of the batch rows ``rows`` at ``t`` and ``ascend(rows, start)`` climbs from
    ``start`` to a stationary point. The profile is scanned on 0 and a geometric grid from
    ``1e-3 vmin`` up to ``upper`` (one grid point at a time, vectorised over the batch); rows
    where a grid point beats ``t_local`` are polished from their best grid point and keep the
    higher of the polished and the grid point. ``metafor(rows)`` returns where metafor's own
    Fisher scoring stops for those rows (default: ``t_local``); a :class:`LocalMaximumWarning`
    names the rows where that is not the returned global maximum. Rows with a non-finite
    ``upper`` (too few studies) are left alone. ``screen(rows, grid)``, when given, evaluates
    the profile of every row on one common grid at once (a fast, slightly less precise scan
    used only to pick each row's best grid point, which is then re-evaluated by ``loglik``).
    """
    rows = np.flatnonzero(np.isfinite(upper) & (upper > 0))
    if rows.size == 0:
        return t_local
    tl, up = t_local[rows], upper[rows]
    lower = np.minimum(1e-3 * vmin[rows], 1e-3 * up)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        l_loc = loglik(rows, tl)
        if screen is None:
            best_t, best_l = np.zeros(rows.size), loglik(rows, np.zeros(rows.size))
            ratio = np.log(up / lower)
            for u in np.linspace(0.0, 1.0, PROFILE_GRID):  # grid points, each over the batch
                g = lower * np.exp(u * ratio)
                lg = loglik(rows, g)
                better = lg > best_l
                best_t, best_l = np.where(better, g, best_t), np.where(better, lg, best_l)
        else:
            lo_c, up_c = lower.min(), up.max()
            grid = np.r_[
                0.0, lo_c * np.exp(np.linspace(0.0, 1.0, 2 * PROFILE_GRID) * np.log(up_c / lo_c))
            ]
            scan = screen(rows, grid)
            scan[~np.isfinite(scan)] = -np.inf
            best_t = grid[scan.argmax(axis=1)]
            best_l = loglik(rows, best_t)
        margin = LL_MARGIN * np.maximum(1.0, np.abs(l_loc))
        move = np.flatnonzero(best_l > l_loc + margin)
        if move.size == 0:
            return t_local
        t_pol = ascend(rows[move], best_t[move])
        l_pol = loglik(rows[move], t_pol)
        t_new = np.where(l_pol >= best_l[move], t_pol, best_t[move])
    out = t_local.copy()
    out[rows[move]] = t_new
    t_mf = t_local[rows[move]] if metafor is None else metafor(rows[move])
    differ = ~(np.abs(t_mf - t_new) <= 1e-6 * np.maximum(vmin[rows[move]], t_new))
    if differ.any():
        n, B, i = int(differ.sum()), t_local.size, np.flatnonzero(differ)[0]
        where = "" if B == 1 else f" in {n} of {B} fits of the batch"
        stop = "does not converge" if np.isnan(t_mf[i]) else f"stops at tau^2 = {t_mf[i]:.6g}"
        warnings.warn(
            f"{what}: the likelihood of tau^2 has more than one local maximum{where}; metafor's "
            f"Fisher scoring {stop}, the global maximum is at tau^2 = {t_new[i]:.6g} "
            "(returned; see PoolResult.profile())",
            LocalMaximumWarning,
            stacklevel=4,
        )
    return out


def _fisher_scoring(reml, y, v, m, start):
    """metafor's Fisher scoring for ML or REML (intercept only) from ``start``, with its step
    halving; returns where it stops (NaN where it does not converge in ``MAX_ITER`` steps).
    Used only to say, in the warning, where metafor would have stopped (metafor then sets
    tau^2 = 0 when the likelihood is higher there, and so does the caller)."""
    t = np.array(start, dtype=float)
    act = np.arange(t.size)
    scale = _vscale(v, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(MAX_ITER):
            w = m[act] / (v[act] + t[act, None])
            sw, sw2, sw3 = w.sum(axis=1), (w**2).sum(axis=1), (w**3).sum(axis=1)
            r = y[act] - (_wsum(w, y[act]) / sw)[:, None]
            ppy = _wsum(w**2, r**2)
            if reml:
                adj = (ppy - (sw - sw2 / sw)) / (sw2 - 2 * sw3 / sw + sw2**2 / sw**2)
            else:
                adj = (ppy - sw) / sw2
            new = _step_halving(t[act], np.nan_to_num(adj))
            done = np.abs(new - t[act]) <= TAU2_TOL * np.maximum(scale[act], t[act])
            t[act] = new
            act = act[~done]
            if act.size == 0:
                return t
    t[act] = np.nan
    return t


def _vrange(y, v, m):
    """Per batch row: range of the included y, and the smallest and largest included v."""
    inc = m > 0
    spread = np.where(inc, y, -np.inf).max(axis=1) - np.where(inc, y, np.inf).min(axis=1)
    return spread, np.where(inc, v, np.inf).min(axis=1), np.where(inc, v, 0.0).max(axis=1)


def _tau2(method, y, v, m, k):
    """tau^2 for each batch row; returns (tau2, iterations) where iterations < 0 = not converged."""
    return _tau2_rows(method, _Masked(y, v, m, k))


def _tau2_rows(method, data):
    """tau^2 for each row of a backend ``data`` (:class:`_Masked`, or the leave-one-out backend
    of :mod:`.loo`); returns (tau2, iterations) where iterations < 0 = not converged.

    The backend gives the row count ``n``, the study counts ``k``, the sums that do not depend on
    tau^2 (:meth:`_Masked.fixed`), the mean variances (``scale``), ``vrange``, the generalised Q
    at per-row tau^2 (``gen_q``), the estimating equations (``equation``) and the likelihood
    pieces of :func:`_global_max`; every estimator below is written once on those.
    """
    B, k = data.n, data.k
    zero = np.zeros(B)
    if method == "FE":
        return zero, 0
    with np.errstate(divide="ignore", invalid="ignore"):
        sw, sw2, q, ss, sv = data.fixed()
        if method == "DL":
            tau2 = (q - (k - 1)) / (sw - sw2 / sw)
        elif method == "HE":
            tau2 = (ss - sv * (k - 1) / k) / (k - 1)
        elif method == "HS":
            tau2 = (q - k) / sw
        elif method == "SJ":
            t0 = ss / k
            tau2 = t0 * data.gen_q(t0) / (k - 1)
        if method in ("DL", "HE", "HS", "SJ"):
            return np.maximum(np.nan_to_num(tau2, nan=0.0), 0.0), 0
        if method in ("PM", "EB"):
            return _solve_rows(data.equation("Q"), B, data.scale(), k - 1.0)
        start = np.maximum(np.nan_to_num((ss - sv * (k - 1) / k) / (k - 1)), 0.0)
        reml = method == "REML"
        tau2, iters = _solve_rows(data.equation(method), B, data.scale(), 0.0, start=start)
        spread, vmin, vmax = data.vrange()
        # every stationary point lies below 2 range(y)^2 + max(v) (from the score equations)
        upper = np.maximum(np.where(k > 1, 2 * spread**2 + vmax, np.nan), 4 * tau2)
    loglik = data.loglik(reml)

    def metafor(rows):  # its Fisher scoring, then its check of the boundary (ll0check)
        t = data.fisher(reml, rows, start[rows])
        with np.errstate(divide="ignore", invalid="ignore"):
            zero = loglik(rows, np.zeros(rows.size)) > loglik(rows, t)
        return np.where(zero, 0.0, t)

    tau2 = _global_max(
        loglik, data.ascender(reml), vmin, tau2, upper, method, metafor, data.screen(reml)
    )
    return tau2, iters


class _Masked:
    """The batch backend of :func:`_tau2_rows`: (B, k) arrays ``y``, ``v`` and a mask ``m``;
    every sum is over the included studies of a row (work B x k per evaluation)."""

    def __init__(self, y, v, m, k):
        self.y, self.v, self.m, self.k, self.n = y, v, m, k, y.shape[0]

    def fixed(self):
        """sum w, sum w^2, Q (w = 1/v), the unweighted residual SS and sum v, per row."""
        y, v, m, k = self.y, self.v, self.m, self.k
        w = m / v
        q, _, _ = _gen_q(y, v, m, np.zeros(self.n))
        ybar = _wsum(m, y) / k
        ss = _wsum(m, (y - ybar[:, None]) ** 2)  # unweighted residual SS
        return w.sum(axis=1), (w**2).sum(axis=1), q, ss, _wsum(m, v)

    def scale(self):
        return _vscale(self.v, self.m)

    def vrange(self):
        return _vrange(self.y, self.v, self.m)

    def gen_q(self, t):
        return _gen_q(self.y, self.v, self.m, t)[0]

    def _rows(self, rows):
        return self.y[rows], self.v[rows], self.m[rows]

    def equation(self, name):
        eq = _q_equation if name == "Q" else _score_equation(name == "REML")

        def evaluate(rows, t):
            return eq(self.y, self.v, self.m, t) if rows is None else eq(*self._rows(rows), t)

        return evaluate

    def loglik(self, reml):
        ll = _loglik(reml)
        return lambda rows, t: ll(*self._rows(rows), t)

    def ascender(self, reml):
        return lambda rows, t0: _solve(_score_equation(reml), *self._rows(rows), 0.0, start=t0)[0]

    def fisher(self, reml, rows, start):
        return _fisher_scoring(reml, *self._rows(rows), start)

    def screen(self, reml):
        y, v = self.y, self.v
        if y.shape[0] > 1:  # a batch of masks over one data set (leave-one-out, cumulative, GOSH)
            d = y - y[:, :1]
            scale = 1e-12 * float(np.abs(d[0]).max() + 1e-300)
            if np.allclose(d, d[0], rtol=1e-12, atol=scale) and (v == v[0]).all():
                return _shared_screen(reml, y[0], v[0], self.m)
        return None


def _shared_screen(reml, y0, v0, m):
    """Profile log-likelihood of many masks of one data set on a common grid, by matrix
    products: each sum over included studies is ``mask @ term`` (memory: one (B, k) mask and
    four k-vectors per grid point). Residual sums use y centred on its mean."""
    yc = y0 - y0.mean()
    k = m.sum(axis=1)
    log2pi = np.log(2 * np.pi)

    def screen(rows, grid):
        mm, kk = m[rows], k[rows][:, None]
        out = np.empty((rows.size, grid.size))
        for a in range(0, grid.size, 16):  # 16 grid points per matrix product
            g = grid[a : a + 16]
            vt = v0[:, None] + g[None, :]  # (k, G)
            w = 1 / vt
            s = mm @ np.concatenate([np.log(vt), w, w * yc[:, None], w * yc[:, None] ** 2], axis=1)
            lv, sw, swy, swy2 = np.split(s, 4, axis=1)
            ll = -0.5 * (kk * log2pi + lv + swy2 - swy**2 / sw)
            if reml:
                ll = ll + 0.5 * (log2pi + np.log(kk) - np.log(sw))
            out[:, a : a + g.size] = ll
        return out

    return screen
