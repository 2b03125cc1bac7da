"""Pooling: common-effect and random-effects models (stage 3: data -> effects -> **pooling**).

The engine works on a *batch* of meta-analyses at once: effect sizes ``y`` and variances ``v`` of
shape ``(B, k)`` with a boolean mask ``m`` that says which studies each row includes. A single fit
is a batch of one; leave-one-out and cumulative analyses are batches of ``k`` masks, so no Python
loop runs over studies (iterative estimators iterate on the batch axis).

tau^2 estimators, as metafor's ``rma.uni`` defines them (all floored at 0):

``DL``   DerSimonian-Laird (method of moments with inverse-variance weights)
``HE``   Hedges (method of moments with unit weights)
``HS``   Hunter-Schmidt
``SJ``   Sidik-Jonkman (one step from the unit-weight start, as metafor)
``PM``   Paule-Mandel (generalised Q equals k - 1)
``EB``   empirical Bayes (Morris); its estimating equation is the same as PM's
``ML``   maximum likelihood (the global maximiser over tau^2 >= 0, see below)
``REML`` restricted maximum likelihood (likewise)
``FE``   common (fixed) effect: tau^2 = 0 (``CE`` and ``EE`` are accepted as aliases)

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
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .effects import check_level  # noqa: F401  (validated where the effects are; used here)
from .results import BinaryPoolResult, PoolResult, _fmt, _html_table

__all__ = [
    "METHODS",
    "TESTS",
    "PI_RULES",
    "ConvergenceWarning",
    "LocalMaximumWarning",
    "pool",
    "pool_binary",
    "fit_batch",
    "fit_masks",
    "chunks",
    "q_profile",
    "ProfileResult",
    "check_inputs",
    "check_level",
    "check_groups",
    "check_aligned",
    "profile_likelihood",
]

METHODS = ("FE", "DL", "HE", "HS", "SJ", "PM", "EB", "ML", "REML")
TESTS = ("z", "knha", "adhoc")
PI_RULES = ("metafor", "higgins", "t_k1")
_ALIASES = {"CE": "FE", "EE": "FE", "HKSJ": "knha"}

#: Convergence threshold on tau^2 for iterative estimators and root finders, relative to the
#: larger of tau^2 and the mean sampling variance, so that it does not depend on the scale of
#: the effects (metafor uses an absolute 1e-5 by default; the reference script tightens it to
#: 1e-12, which our relative criterion meets on every reference data set).
TAU2_TOL = 1e-13
MAX_ITER = 1000
#: Batches are fitted in chunks of at most this many (fit x study) cells, so that leave-one-out,
#: cumulative, influence and GOSH need memory linear in k instead of k x k.
BATCH_CELLS = 1 << 20
#: Effects this large overflow when squared (Q, weighted residual sums): refused with a message.
MAX_ABS = 1e150


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
# input guards


def _vector(name: str, x: Sequence[float] | np.ndarray) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(x, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{name}: values must be numeric") from None
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a one-dimensional sequence, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name}: non-finite value (NaN or inf) at position {bad[0]}")
    return arr


def check_aligned(**named) -> None:
    """Refuse pandas inputs whose indexes disagree (they would be paired by position).

    Every pair of ``pandas.Series`` among the arguments must carry the same index in the same
    order; otherwise a ``ValueError`` names the first position where they differ.
    """
    series = [(n, x) for n, x in named.items() if isinstance(x, pd.Series)]
    for (n0, a), (n1, b) in zip(series, series[1:], strict=False):
        if not a.index.equals(b.index):
            diff = next(
                (i for i, (p, q) in enumerate(zip(a.index, b.index, strict=False)) if p != q),
                min(len(a), len(b)),
            )
            raise ValueError(
                f"{n0} and {n1} are pandas Series with different indexes (first difference at "
                f"position {diff}); they would be paired by position: align them first "
                f"(e.g. {n1}.reindex({n0}.index)) or pass arrays"
            )


def check_groups(groups, k: int, what: str = "groups") -> tuple[np.ndarray, list]:
    """Integer codes (order of first appearance) and unique values of a grouping variable.

    Missing labels (None, NaN of any float type, ``pd.NA``, ``pd.NaT``) raise ``ValueError``
    naming every position; so do distinct values that print identically (``1`` and ``"1"``),
    which would show as one group in every table while being counted as two.

    Examples
    --------
    >>> codes, values = check_groups(["CBT", "WL", "CBT"], 3)
    >>> codes.tolist(), values
    ([0, 1, 0], ['CBT', 'WL'])
    """
    labels = list(groups)
    if len(labels) != k:
        raise ValueError(f"{what} has {len(labels)} entries for {k} studies")
    miss = [i for i, x in enumerate(labels) if np.ndim(x) == 0 and bool(pd.isna(x))]
    if miss:
        raise ValueError(f"{what}: missing label at position {miss[0]} (all positions: {miss})")
    codes, uniq = pd.factorize(pd.Series(labels, dtype=object), sort=False)
    shown = pd.Series([str(u) for u in uniq])
    dup = shown[shown.duplicated(keep=False)]
    if dup.size:
        text = dup.iloc[0]
        pos = [i for i, x in enumerate(labels) if str(x) == text]
        kinds = sorted({type(labels[i]).__name__ for i in pos})
        raise ValueError(
            f"{what}: values of different types print as the same label {text!r} "
            f"({', '.join(kinds)}; positions {pos}); convert them to one type"
        )
    return np.asarray(codes), list(uniq)


def check_inputs(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``yi`` and ``vi``: numeric, finite, equal length, k >= 1, vi > 0, |yi| < 1e150.

    pandas Series must share their index (see :func:`check_aligned`).
    """
    check_aligned(yi=yi, vi=vi)
    y, v = _vector("yi", yi), _vector("vi", vi)
    if y.size != v.size:
        raise ValueError(f"yi and vi have unequal lengths ({y.size} and {v.size})")
    if y.size == 0:
        raise ValueError("no studies to pool (k = 0)")
    bad = np.flatnonzero(v <= 0)
    if bad.size:
        raise ValueError(f"vi: sampling variances must be positive; vi <= 0 at position {bad[0]}")
    big = np.flatnonzero((np.abs(y) >= MAX_ABS) | (v >= MAX_ABS**2))
    if big.size:
        raise ValueError(
            f"yi or vi too large to square in double precision at position {big[0]} "
            f"(|yi| must be < {MAX_ABS:g}); rescale the effect sizes"
        )
    return y, v


def _name(value: str, allowed: tuple[str, ...], what: str) -> str:
    key = _ALIASES.get(str(value).upper(), _ALIASES.get(str(value), str(value)))
    for a in allowed:
        if key.upper() == a.upper():
            return a
    raise ValueError(f"unknown {what} {value!r}; choose one of {allowed}")


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
    Safeguarded Newton on that bracket, vectorised over the batch; each iteration works only on
    the rows that have not converged yet.
    """
    B = y.shape[0]
    target = np.broadcast_to(np.asarray(target, dtype=float), (B,))
    start = np.zeros(B) if start is None else np.asarray(start, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fs, _ = equation(y, v, m, start)
    up = fs > target  # NaN (single-study rows) is neither up nor down: stays at 0
    down = (fs <= target) & (start > 0)
    lo = np.where(up, start, 0.0)
    hi = np.where(up, np.maximum(4 * start, _vscale(v, m)), start)
    grow = np.flatnonzero(up)
    for _ in range(200):  # upward bracket: f(hi) < target
        if grow.size == 0:
            break
        fh, _ = equation(y[grow], v[grow], m[grow], hi[grow])
        grow = grow[fh > target[grow]]
        lo[grow], hi[grow] = hi[grow], hi[grow] * 4
    dn = np.flatnonzero(down)
    if dn.size:  # downward: f(0) > target brackets [0, start]; else look for a hump below
        f0, _ = equation(y[dn], v[dn], m[dn], np.zeros(dn.size))
        dn = dn[~(f0 > target[dn])]
        found = np.zeros(dn.size, bool)
        for g in np.linspace(1.0, 0.0, 65)[1:-1]:
            if dn.size == 0:
                break
            fg, _ = equation(y[dn], v[dn], m[dn], start[dn] * g)
            hit = ~found & (fg > target[dn])
            lo[dn[hit]] = start[dn[hit]] * g
            found |= hit
            miss = dn[~found]
            hi[miss] = start[miss] * g
        down[dn[~found]] = False  # no sign change down to 0: the boundary
    t = np.zeros(B)
    rows = np.flatnonzero(up | down)
    if rows.size == 0:
        return t, 0
    sol = np.where(up, start, np.where(start > 0, hi, lo))[rows]  # Newton starts at start
    y, v, m, target, lo, hi = y[rows], v[rows], m[rows], target[rows], lo[rows], hi[rows]
    scale = _vscale(v, m)
    act = np.arange(rows.size)  # positions (in the solved subset) still iterating
    for it in range(MAX_ITER):
        ta, la, ha = sol[act], lo[act], hi[act]
        f, df = equation(y[act], v[act], m[act], ta)
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
    B = y.shape[0]
    zero = np.zeros(B)
    if method == "FE":
        return zero, 0
    w = m / v
    sw = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        q, _, _ = _gen_q(y, v, m, zero)
        ybar = _wsum(m, y) / k
        ss = _wsum(m, (y - ybar[:, None]) ** 2)  # unweighted residual SS
        if method == "DL":
            tau2 = (q - (k - 1)) / (sw - (w**2).sum(axis=1) / sw)
        elif method == "HE":
            tau2 = (ss - _wsum(m, v) * (k - 1) / k) / (k - 1)
        elif method == "HS":
            tau2 = (q - k) / sw
        elif method == "SJ":
            t0 = ss / k
            qsj, _, _ = _gen_q(y, v, m, t0)
            tau2 = t0 * qsj / (k - 1)
        if method in ("DL", "HE", "HS", "SJ"):
            return np.maximum(np.nan_to_num(tau2, nan=0.0), 0.0), 0
        if method in ("PM", "EB"):
            return _solve(_q_equation, y, v, m, k - 1.0)
        start = np.maximum(np.nan_to_num((ss - _wsum(m, v) * (k - 1) / k) / (k - 1)), 0.0)
        reml = method == "REML"
        tau2, iters = _solve(_score_equation(reml), y, v, m, 0.0, start=start)
        spread, vmin, vmax = _vrange(y, v, m)
        # every stationary point lies below 2 range(y)^2 + max(v) (from the score equations)
        upper = np.maximum(np.where(k > 1, 2 * spread**2 + vmax, np.nan), 4 * tau2)
    ll = _loglik(reml)

    def loglik(rows, t):
        return ll(y[rows], v[rows], m[rows], t)

    def ascend(rows, t0):
        return _solve(_score_equation(reml), y[rows], v[rows], m[rows], 0.0, start=t0)[0]

    screen = None
    if y.shape[0] > 1:  # a batch of masks over one data set (leave-one-out, cumulative, GOSH)
        d = y - y[:, :1]
        same_y = np.allclose(d, d[0], rtol=1e-12, atol=1e-12 * float(np.abs(d[0]).max() + 1e-300))
        if same_y and (v == v[0]).all():
            screen = _shared_screen(reml, y[0], v[0], m)

    def metafor(rows):  # its Fisher scoring, then its check of the boundary (ll0check)
        t = _fisher_scoring(reml, y[rows], v[rows], m[rows], start[rows])
        with np.errstate(divide="ignore", invalid="ignore"):
            zero = loglik(rows, np.zeros(rows.size)) > loglik(rows, t)
        return np.where(zero, 0.0, t)

    return _global_max(loglik, ascend, vmin, tau2, upper, method, metafor, screen), iters


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


def fit_batch(y, v, m, *, method="REML", test="z", level=95.0, pi="metafor"):
    """Fit one model per batch row; returns a dict of arrays of shape (B,).

    ``y``, ``v`` and ``m`` are (B, k) arrays; ``m`` is boolean and selects the studies of each
    row. Rows with a single study get tau^2 = 0, the z test and NaN heterogeneity statistics.
    Effects are centred on each row's first included study before any sum, so identical effects
    give residuals of exactly zero (Q = 0, Knapp-Hartung SE = 0, as in metafor).
    """
    y, v = np.atleast_2d(y), np.atleast_2d(v)
    mb = np.atleast_2d(m).astype(bool)
    ref = y[np.arange(y.shape[0]), mb.argmax(axis=1)]
    est = _fit_centred(y - ref[:, None], v, mb.astype(float), method, test, level, pi)
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
    per-study weights are dropped. Leave-one-out is ``masks = lambda a, b:
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
    if iters < 0:
        warnings.warn(
            f"{method}: tau^2 did not converge within {MAX_ITER} iterations "
            f"(tolerance {TAU2_TOL:g}); results are flagged converged=False",
            ConvergenceWarning,
            stacklevel=3,
        )
    w = m / (v + tau2[:, None])
    sw = w.sum(axis=1)
    est = _wsum(w, y) / sw
    se = np.sqrt(1 / sw)
    df = k - 1
    # metafor falls back to the z test for a single study (no residual df for Knapp-Hartung)
    tdf = np.where((test != "z") & (k > 1), df, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        if test != "z":
            s2 = _wsum(w, (y - est[:, None]) ** 2) / df
            se_kh = np.sqrt(s2 / sw)
            se_kh = se_kh if test == "knha" else np.maximum(se_kh, se)
            se = np.where(k > 1, se_kh, se)
        crit = stats.t.isf((1 - level / 100) / 2, tdf)
        # heterogeneity (FE weights)
        w0 = m / v
        sw0, sw02 = w0.sum(axis=1), (w0**2).sum(axis=1)
        q, _, _ = _gen_q(y, v, m, np.zeros_like(est))
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
        "weights": 100 * w / sw[:, None],
    }


def q_profile(y, v, *, level=95.0) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (metafor ``confint(rma(...))``).

    The limits solve Q(tau^2) = chi^2_{k-1} quantiles with the generalised Q statistic; a limit
    whose equation has no positive root is 0 (metafor reports such a limit as 0 too).
    """
    y, v = np.atleast_2d(y), np.atleast_2d(v)
    k = y.shape[1]
    if k < 2:
        return float("nan"), float("nan")
    alpha = 1 - level / 100
    m = np.ones_like(y, dtype=bool)
    targets = np.array([stats.chi2.isf(alpha / 2, k - 1), stats.chi2.ppf(alpha / 2, k - 1)])
    yy, vv, mm = (np.repeat(a, 2, axis=0) for a in (y, v, m))
    t, iters = _solve(_q_equation, yy, vv, mm, targets)
    if iters < 0:
        warnings.warn("Q-profile interval did not converge", ConvergenceWarning, stacklevel=2)
    return float(t[0]), float(t[1])


@dataclass(frozen=True, eq=False)
class ProfileResult:
    """Profile (restricted) log-likelihood of tau^2 (metafor ``profile(rma(...))``).

    ``likelihood`` is ``"ML"`` for ML fits and ``"REML"`` for every other estimator (as metafor,
    whose ``logLik`` of a non-ML fit is the restricted one). ``tau2`` is the fit's estimate.
    """

    method: str
    likelihood: str
    k: int
    tau2: float
    grid: np.ndarray = field(repr=False)
    loglik: np.ndarray = field(repr=False)
    estimate: np.ndarray = field(repr=False)

    @property
    def local_maxima(self) -> np.ndarray:
        """tau^2 of every local maximum of the profile on the grid (boundary 0 included)."""
        ll = self.loglik
        left = np.r_[True, ll[1:] > ll[:-1]]
        right = np.r_[ll[:-1] >= ll[1:], True]
        return self.grid[left & right]

    def to_frame(self) -> pd.DataFrame:
        """One row per grid point: ``tau2``, ``loglik`` and the pooled ``estimate`` there."""
        return pd.DataFrame({"tau2": self.grid, "loglik": self.loglik, "estimate": self.estimate})

    def summary(self) -> str:
        peaks = ", ".join(f"{x:.4g}" for x in self.local_maxima)
        return (
            f"Profile {self.likelihood} log-likelihood of tau^2 ({self.method}; k = {self.k}), "
            f"{self.grid.size} points on [{self.grid[0]:.4g}, {self.grid[-1]:.4g}]\n"
            f"  tau^2 = {_fmt(self.tau2)}; local maxima on the grid at tau^2 = {peaks}"
        )

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = [
            ("tau^2 (fit)", _fmt(self.tau2)),
            ("local maxima", ", ".join(f"{x:.4g}" for x in self.local_maxima)),
            ("grid", f"{self.grid.size} points on [{self.grid[0]:.4g}, {self.grid[-1]:.4g}]"),
        ]
        return _html_table("Profile likelihood of tau^2", rows, f"{self.likelihood} likelihood")

    def plot(self, **kwargs):
        """Plot the profile; see :func:`evidence.plots.profile.profile_plot`."""
        from evidence.plots.profile import profile_plot

        return profile_plot(self, **kwargs)


def profile_likelihood(result: PoolResult, tau2=None, steps: int = 200) -> ProfileResult:
    """Profile (restricted) log-likelihood of tau^2 for a fitted random-effects model.

    Parameters
    ----------
    result : PoolResult
        A random-effects fit (not ``FE``) with k >= 2.
    tau2 : (float, float) or array-like, optional
        Range ``(low, high)`` scanned with ``steps`` evenly spaced points, or the grid itself.
        Default: 0 to twice the larger of the estimate and the Q-profile upper limit (at least
        the largest sampling variance).
    steps : int, default 200
        Number of grid points when a range is given.

    Returns
    -------
    ProfileResult

    Examples
    --------
    >>> res = pool([0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02])
    >>> prof = res.profile()
    >>> frame = prof.to_frame()
    >>> print(round(frame.tau2[frame.loglik.idxmax()], 2), prof.likelihood, len(frame))
    0.03 REML 200
    """
    if result.method == "FE" or result.k < 2:
        raise ValueError("profile() needs a random-effects fit (method other than FE) with k >= 2")
    if tau2 is None:
        hi = 2 * max(result.tau2, np.nan_to_num(result.tau2_ci_high), float(np.max(result.vi)))
        tau2 = (0.0, hi)
    t = np.asarray(tau2, dtype=float)
    if t.ndim == 1 and t.size == 2:
        if not (0 <= t[0] < t[1]) or not np.all(np.isfinite(t)):
            raise ValueError(f"tau2 range must satisfy 0 <= low < high (finite); got {tuple(t)}")
        t = np.linspace(t[0], t[1], int(steps))
    if t.ndim != 1 or t.size < 2 or np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("tau2 must be a (low, high) range or a grid of finite values >= 0")
    likelihood = "ML" if result.method == "ML" else "REML"
    B, k = t.size, result.k
    y, v = np.broadcast_to(result.yi, (B, k)), np.broadcast_to(result.vi, (B, k))
    m = np.ones((B, k))
    ll = _loglik(likelihood == "REML")(y, v, m, t)
    w = 1 / (v + t[:, None])
    est = (w * y).sum(axis=1) / w.sum(axis=1)
    return ProfileResult(
        method=result.method,
        likelihood=likelihood,
        k=k,
        tau2=result.tau2,
        grid=t,
        loglik=ll,
        estimate=est,
    )


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
        Study labels ("Author Year"), carried into the result and the plots.
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


# --------------------------------------------------------------------------------------------
# binary outcomes: Mantel-Haenszel and Peto


def _mh(measure, a, b, c, d):
    n1, n2 = a + b, c + d
    n = n1 + n2
    if measure == "OR":
        r, s = a * d / n, b * c / n
        p, q = (a + d) / n, (b + c) / n
        R, S = r.sum(), s.sum()
        var = (p * r).sum() / (2 * R**2) + (p * s + q * r).sum() / (2 * R * S)
        var += (q * s).sum() / (2 * S**2)
        return np.log(R / S), var
    if measure == "RR":
        R, S = (a * n2 / n).sum(), (c * n1 / n).sum()
        var = ((n1 * n2 * (a + c) - a * c * n) / n**2).sum() / (R * S)
        return np.log(R / S), var
    W = (n1 * n2 / n).sum()
    est = ((a * n2 - c * n1) / n).sum() / W
    P = ((n1**2 * c - n2**2 * a + n1 * n2 * (n2 - n1) / 2) / n**2).sum()
    Q = ((a * (n2 - c) + c * (n1 - a)) / (2 * n)).sum()
    return est, (est * P + Q) / W**2


def _peto_terms(a, b, c, d):
    n1, n2 = a + b, c + d
    n = n1 + n2
    ev = a + c
    o_e = a - ev * n1 / n
    var = ev * (n - ev) * n1 * n2 / (n**2 * (n - 1))
    return o_e, var


def pool_binary(
    events1,
    n1,
    events2,
    n2,
    *,
    measure: str = "OR",
    method: str = "MH",
    level: float = 95.0,
    labels: Sequence[str] | None = None,
) -> BinaryPoolResult:
    """Common-effect pooling of 2x2 tables: Mantel-Haenszel or Peto (``rma.mh``, ``rma.peto``).

    The pooled estimate uses the uncorrected tables (metafor's ``add=c(1/2, 0)``); the study-level
    effects used for Q, the weights shown in plots and the display carry the 1/2 zero-cell
    correction, and tables with no events in either arm are excluded from Q (``drop00=TRUE``) and
    listed in ``excluded``.

    Examples
    --------
    >>> r = pool_binary([4, 6, 3], [50, 60, 40], [8, 10, 9], [50, 58, 41], measure="OR")
    >>> print(round(r.estimate, 4), round(r.se, 4))
    -0.8463 0.3597
    """
    level = check_level(level)
    method = _name(method, ("MH", "Peto"), "binary method")
    if labels is not None:
        labels = tuple(str(x) for x in labels)
        if len(labels) != np.size(events1):
            raise ValueError(f"labels has {len(labels)} entries for {np.size(events1)} studies")
    measure = _name(measure, ("OR", "RR", "RD"), "measure")
    if method == "Peto" and measure != "OR":
        raise ValueError("Peto's method pools odds ratios only (measure='OR')")
    from .effects import effect_sizes  # local: effects and pooling are sibling stages

    es = effect_sizes(measure, events1=events1, n1=n1, events2=events2, n2=n2, drop00=True)
    if method == "Peto":
        es = _peto_effects(events1, n1, events2, n2)
    a = np.asarray(events1, float)
    c = np.asarray(events2, float)
    b, d = np.asarray(n1, float) - a, np.asarray(n2, float) - c
    if method == "MH":
        est, var = _mh(measure, a, b, c, d)
    else:
        o_e, var_i = _peto_terms(a, b, c, d)
        est, var = o_e.sum() / var_i.sum(), 1 / var_i.sum()
    se = float(np.sqrt(var))
    ok = np.isfinite(es["yi"].to_numpy())
    yi, vi = es["yi"].to_numpy(), es["vi"].to_numpy()
    kq = int(ok.sum())
    q = float(((yi[ok] - est) ** 2 / vi[ok]).sum()) if kq > 1 else float("nan")
    crit = stats.norm.isf((1 - level / 100) / 2)
    z = est / se
    return BinaryPoolResult(
        yi=yi,
        vi=vi,
        labels=labels,
        measure=measure,
        method=method,
        level=level,
        k=int(a.size),
        estimate=float(est),
        se=se,
        statistic=float(z),
        pvalue=float(2 * stats.norm.sf(abs(z))),
        ci_low=float(est - crit * se),
        ci_high=float(est + crit * se),
        q=q,
        q_df=kq - 1,
        q_pvalue=float(stats.chi2.sf(q, kq - 1)) if kq > 1 else float("nan"),
        i2=float(max(0.0, 100 * (q - (kq - 1)) / q)) if kq > 1 and np.isfinite(q) else np.nan,
        excluded=tuple(np.flatnonzero(~ok).tolist()),
    )


def _peto_effects(events1, n1, events2, n2):
    """Per-study Peto log odds ratios (O - E) / V; double-zero tables are NaN (as ``rma.peto``)."""
    a = np.asarray(events1, float)
    c = np.asarray(events2, float)
    cells = np.stack([a, np.asarray(n1, float) - a, c, np.asarray(n2, float) - c])
    dz = (a == 0) & (c == 0)
    o_e, var = _peto_terms(*cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.where(dz, np.nan, o_e / var)
        vi = np.where(dz, np.nan, 1 / var)
    return pd.DataFrame({"yi": yi, "vi": vi})
