"""The tau grid and the quadrature posterior: the engine of every Bayesian fit.

Given tau, the posterior of mu is normal, ``mu | tau, y ~ N(m(tau), s(tau)^2)`` with
``w = 1 / (v + tau^2)``, ``m = sum(w y) / sum(w)``, ``s^2 = 1 / sum(w)`` (a normal prior on mu
enters as one more "study" whose variance does not grow with tau): :func:`_cond`. Integrating mu
out leaves the one-dimensional marginal posterior ``p(tau | y)``, proportional to
``p(tau) L(tau)`` with::

    log L(tau) = -1/2 [ (n - 1) log(2 pi) + sum log(1/w) + sum w (y - m)^2 + log sum w ]

(``n`` counts the studies plus the mu prior, if any).

**Quadrature.** bayesmeta (3.4, ``R/bayesmeta.R``) integrates the tau posterior with
``integrate()`` and approximates the mixtures for mu by the DIRECT algorithm (Roever & Friede
2017, J Comput Graph Stat 26:217-222: support points in tau spaced so that neighbouring
conditionals differ by a symmetrised Kullback-Leibler divergence of at most ``delta = 0.01``).
Here every tau integral is instead a Gauss-Legendre quadrature in ``log tau`` on a grid placed per
fit (:func:`_grid`): a coarse scan (``_N_COARSE`` points from ``TAU_FLOOR_REL * min sqrt(v)`` to
an upper end ``T``, below) finds where the log posterior lies within ``_LOG_RANGE`` of its
maximum; ``_PANELS`` panels of ``_NODES`` nodes cover that range (edges half-way between equal
spacing and equal posterior mass on the scan) and ``_TAIL_PANELS`` more cover the heavier tail of
tau^2 times the posterior (second moments). The prior mass below the grid is an atom at tau = 0
(there ``L(tau)`` equals ``L(0)`` to relative order ``TAU_FLOOR_REL^2``). Moments that do not
exist are reported as inf (:func:`_finite_moment`). Arrays carry a batch axis: y, v are (B, k)
with a boolean mask m; tau arrays are (B, N).

**The upper end, and the posterior beyond it.** Let ``j = k - 1`` with a flat prior on mu and
``j = k`` with a normal one (precision ``w_0``), and ``u_i = tau^2 w_i = tau^2 / (v_i + tau^2)``.
Then::

    tau^j L(tau) = (2 pi)^(-j/2) prod(u_i)^(1/2) (sum u_i)^(-1/2) exp(-Q/2)           (flat)
    tau^j L(tau) = (2 pi)^(-j/2) prod(u_i)^(1/2) (w_0 / (w_0 + sum w_i))^(1/2) exp(-Q/2) (normal)

with ``Q = min_mu sum w_i (y_i - mu)^2`` (plus ``w_0 (m_0 - mu)^2``). As tau grows every u_i
increases and every w_i decreases, so ``sum w_i`` and Q (a minimum over mu of sums whose every
term decreases) do not increase; ``prod u^(1/2) / (sum u)^(1/2)`` does not decrease either (its
log-derivative is ``sum u_i' / (2 u_i) - sum u_i' / (2 sum u) >= 0`` as ``u_i <= sum u``). Hence
``g(tau) = tau^j L(tau)`` is non-decreasing, with limit ``g_inf = (2 pi)^(-j/2) k^(-1/2)`` (flat)
or ``(2 pi)^(-j/2)`` (normal), so ``L(tau) <= g_inf tau^-j`` and for any ``T``::

    int_T^inf p(tau) L(tau) dtau  <=  g_inf T^(-j) S(T),     S = the prior's survival function,

with equality when ``j = 0`` (one study, flat mu prior: ``L = 1``, the posterior is the prior).
The grid's end starts at the prior's ``1 - 1e-14`` quantile (``TAU_CEIL_REL`` data scales for
priors with a polynomial tail, whose second moments converge slowly), at most ``TAU_CEIL_REL``
data scales ``D = max sqrt(v) + range(y)`` (:func:`_prior_end`). That alone cut the posterior
when the data are far wider than the prior: the likelihood peaks where the prior has next to no
mass (studies at -1000 and 1000, half-normal(0.5): tau's median 26.6, not 3.87). So the bound is
checked against the posterior mass on the grid: where it exceeds ``_TAIL_TOL`` times that mass,
the end moves to the data scale (the mu prior counted as a study), then to ``TAU_CEIL_REL`` data
scales, checking again each time (:func:`_tau_grid`; a warning says if it still fails). The
posterior mass beyond the grid is then at most ``_TAIL_TOL`` of the total, by the bound.

With ``j = 0`` the mass beyond the grid's end ``T`` is known exactly, ``S(T)``, and one more node
at ``T`` (the last column) carries it: quantiles of tau beyond ``T`` invert the prior's tail
(:func:`.marginals._tau_ppf`); for mu it is a normal component with sd ``>= T``, exact to
``0.4 S(T) |x - y| / T`` in the CDF at x. The log-t priors need it (``S(T)`` ~ 1e-6 at 1e12 data
scales; the half-Cauchy's ~1e-12); with ``j >= 1`` the node has weight 0.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special

from .priors import TauPrior

__all__ = ["TAU_FLOOR_REL", "TAU_CEIL_REL"]

#: Lower end of the tau grid relative to the smallest sampling SD; prior mass below it is an
#: atom at tau = 0 (conditional moments there differ from tau = 0 by a relative 1e-14).
TAU_FLOOR_REL = 1e-7
#: Upper end of the grid: the prior's 1 - 1e-14 quantile, at most this many data scales, moved
#: out (up to this many data scales) when the posterior beyond it is not negligible; see above.
TAU_CEIL_REL = 1e12
#: Largest posterior mass beyond the grid's end, relative to the mass on it (bound checked per fit)
_TAIL_TOL = 1e-12
_N_COARSE = 81
_LOG_RANGE = 46.0  # e^-46 ~ 1e-20: the posterior outside the fine grid is negligible
_PANELS = 16
_TAIL_PANELS = 4
_NODES = 16
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_NODES)
_LOG2PI = np.log(2 * np.pi)
#: Posterior weights below this are zero, so no product with them is subnormal (subnormal
#: arithmetic is ~100 times slower on x86); see also ``marginals._Z_CLIP``.
_W_MIN = 1e-30


def _cond(y, v, m, tau, mu_prior):
    """Conditional moments of mu and log L(tau) (all constants kept), shapes (B, N)."""
    w = m[:, None, :] / (v[:, None, :] + tau[:, :, None] ** 2)
    sw = w.sum(axis=2)
    swy = (w * y[:, None, :]).sum(axis=2)
    n = m.sum(axis=1)[:, None].astype(float)
    logdet = -np.log(np.where(m[:, None, :], w, 1.0)).sum(axis=2)
    if mu_prior is not None:
        m0, s0 = mu_prior
        w0 = 1.0 / s0**2
        sw = sw + w0
        swy = swy + w0 * m0
        logdet = logdet + np.log(s0**2)
        n = n + 1
    mean = swy / sw
    q = (w * (y[:, None, :] - mean[:, :, None]) ** 2).sum(axis=2)
    if mu_prior is not None:
        q = q + (mu_prior[0] - mean) ** 2 / mu_prior[1] ** 2
    logl = -0.5 * ((n - 1) * _LOG2PI + logdet + q + np.log(sw))
    return mean, np.sqrt(1.0 / sw), logl


def _logprior(priors: list[TauPrior], tau: np.ndarray) -> np.ndarray:
    out = np.empty_like(tau)
    groups: dict[TauPrior, list[int]] = {}
    for i, p in enumerate(priors):
        groups.setdefault(p, []).append(i)
    for p, rows in groups.items():
        out[rows] = p.logpdf(tau[rows])
    return out


def _grid(logf, lo: np.ndarray, hi: np.ndarray):
    """Gauss-Legendre nodes and log-weights in log tau covering where ``logf`` matters.

    ``logf(tau)`` maps a (B, N) array of tau to the log integrand (in tau); returns ``tau``
    (B, P*G) and ``logw`` with the quadrature weight and Jacobian included.
    """
    B = lo.size
    a, b = np.log(lo), np.log(hi)
    u = np.linspace(0.0, 1.0, _N_COARSE)
    xc = a[:, None] + (b - a)[:, None] * u
    fc = logf(np.exp(xc)) + xc
    fc = np.where(np.isnan(fc), -np.inf, fc)
    keep = fc >= fc.max(axis=1, keepdims=True) - _LOG_RANGE
    # beyond the posterior's bulk, _TAIL_PANELS more panels cover the integrand of second
    # moments (tau^2 times the posterior), whose tail is heavier (polynomial for half-Cauchy)
    f2 = fc + 2 * xc
    keep2 = f2 >= f2.max(axis=1, keepdims=True) - _LOG_RANGE
    idx = np.arange(_N_COARSE)
    rows = np.arange(B)
    first = np.clip(np.where(keep, idx, _N_COARSE).min(axis=1) - 1, 0, _N_COARSE - 1)
    last = np.clip(np.where(keep, idx, -1).max(axis=1) + 1, 0, _N_COARSE - 1)
    last2 = np.clip(np.where(keep2, idx, -1).max(axis=1) + 1, 0, _N_COARSE - 1)
    xa, xb, xt = xc[rows, first], xc[rows, last], xc[rows, np.maximum(last, last2)]
    # panel edges: half-way between equal spacing and equal posterior mass on the coarse scan,
    # so that panels crowd where the mass is but still reach the ends of the range
    uni = np.linspace(0, 1, _PANELS + 1)
    dens = np.exp(fc - fc.max(axis=1, keepdims=True))
    cdf = np.concatenate(
        [np.zeros((B, 1)), np.cumsum((dens[:, 1:] + dens[:, :-1]) / 2, axis=1)], axis=1
    )
    mass_edges = np.empty((B, _PANELS + 1))
    for b in range(B):
        c = cdf[b, first[b] : last[b] + 1]
        if not c[-1] > c[0]:  # no mass resolved on the scan: equal spacing only
            mass_edges[b] = xa[b] + (xb[b] - xa[b]) * uni
            continue
        c = (c - c[0]) / (c[-1] - c[0])
        mass_edges[b] = np.interp(uni, c, xc[b, first[b] : last[b] + 1])
    mass_edges[:, 0], mass_edges[:, -1] = xa, xb
    bulk = 0.5 * (xa[:, None] + (xb - xa)[:, None] * uni) + 0.5 * mass_edges
    edges = np.concatenate(
        [
            bulk,
            xb[:, None] + (xt - xb)[:, None] * np.linspace(0, 1, _TAIL_PANELS + 1)[1:],
        ],
        axis=1,
    )
    # rounding in the half-way average can put an edge 1 ulp below its predecessor (a negative
    # width, whose log is NaN: a NaN fit); edges never decrease
    edges = np.maximum.accumulate(edges, axis=1)
    width = np.diff(edges, axis=1)  # (B, P); tail panels have width 0 when not needed
    x = (edges[:, :-1, None] + width[:, :, None] * (_GL_X + 1) / 2).reshape(B, -1)
    tau = np.exp(x)
    with np.errstate(divide="ignore"):
        logw = (np.log(_GL_W / 2)[None, None, :] + np.log(width)[:, :, None]).reshape(B, -1) + x
    return tau, logw + logf(tau), edges


def _logsumexp(a, axis=-1):
    return special.logsumexp(a, axis=axis)


@dataclass(frozen=True)
class _Post:
    """Quadrature representation of a batch of posteriors."""

    tau: np.ndarray  # (B, N) nodes; column 0 is the atom at tau = 0, column -1 the tail node
    w: np.ndarray  # (B, N) normalised posterior weights
    mean: np.ndarray  # (B, N) conditional mean of mu
    sd: np.ndarray  # (B, N) conditional sd of mu
    edges: np.ndarray  # (B, P + 1) panel edges in log tau
    log_atom_lik: np.ndarray  # (B,) log of L(0) p(tau<floor) / Z: atom weight = w[:, 0]
    log_z: np.ndarray  # (B,) log marginal likelihood int L p dtau (constants kept)
    floor: np.ndarray  # (B,) tau floor (upper end of the atom)
    ceil: np.ndarray  # (B,) upper end of the coarse scan (the grid's end T <= ceil)


def _data_scale(y, v, m, mu_prior=None) -> np.ndarray:
    """``D = max sqrt(v) + range(y)`` per row (with the mu prior as one more study if given)."""
    vmax = np.where(m, v, 0).max(axis=1)
    ymax = np.where(m, y, -np.inf).max(axis=1)
    ymin = np.where(m, y, np.inf).min(axis=1)
    if mu_prior is not None:
        vmax = np.maximum(vmax, mu_prior[1] ** 2)
        ymax, ymin = np.maximum(ymax, mu_prior[0]), np.minimum(ymin, mu_prior[0])
    return np.sqrt(vmax) + (ymax - ymin)


def _prior_end(priors: list[TauPrior], data_scale, floor) -> np.ndarray:
    """First upper end of the grid: the prior's 1 - 1e-14 quantile, at most TAU_CEIL_REL D.

    Priors with a polynomial tail (half-Cauchy, half-t, log-t) go to TAU_CEIL_REL D: beyond
    their 1 - 1e-14 quantile T, tau^2 times the prior still holds of order T^2 1e-14 (half-t(3):
    1e-5 of E(tau^2)); the scan then keeps what matters (:func:`_grid`). The uniform prior's
    grid ends at its upper limit, where its density jumps to 0 (nothing lies beyond).
    """

    def end(p: TauPrior) -> float:
        if np.isfinite(p.support_high):
            return p.support_high
        return float(p.ppf(1 - 1e-14)) if np.isinf(p.tail_exponent) else np.inf

    top = np.array([end(p) for p in priors])
    return np.maximum(np.minimum(top, TAU_CEIL_REL * data_scale), floor * 10)


def _tail_order(k: np.ndarray, normal_mu: bool):
    """``j`` and ``log g_inf`` of the bound ``int_T^inf p L <= g_inf T^-j S(T)`` (see above)."""
    j = k if normal_mu else k - 1
    log_ginf = -0.5 * j * _LOG2PI - (0.0 if normal_mu else 0.5 * np.log(k))
    return j, log_ginf


def _log_tail_bound(priors: list[TauPrior], hi, j, log_ginf) -> np.ndarray:
    """log of ``g_inf hi^-j S(hi)``, an upper bound on the integral of p L beyond ``hi``."""
    sf = np.array([float(p.sf(h)) for p, h in zip(priors, hi, strict=True)])
    with np.errstate(divide="ignore"):
        return log_ginf - j * np.log(hi) + np.log(sf)


def _tau_grid(logf_rows, floor, hi, reach, priors, j, log_ginf, log_atom):
    """:func:`_grid` on [floor, hi], its end moved out until the posterior beyond is negligible.

    ``logf_rows(rows)`` gives the log integrand of those rows; ``reach`` holds the further upper
    ends tried in turn, each (B,); rows with ``j = 0`` need none (their tail is added exactly).
    Returns the grid of :func:`_grid` and the upper ends used.
    """
    B = floor.size
    hi = hi.copy()
    tau, logw, edges = _grid(logf_rows(np.arange(B)), floor, hi)

    def short():
        log_z = _logsumexp(np.concatenate([log_atom[:, None], logw], axis=1), axis=1)
        excess = _log_tail_bound(priors, hi, j, log_ginf) - log_z - np.log(_TAIL_TOL)
        return (j >= 1) & (excess > 0), excess

    for nxt in reach:
        bad = short()[0]
        if not bad.any():
            break
        idx = np.flatnonzero(bad & (nxt > hi))
        if idx.size:
            hi[idx] = nxt[idx]
            tau[idx], logw[idx], edges[idx] = _grid(logf_rows(idx), floor[idx], hi[idx])
    bad, excess = short()
    for i in np.flatnonzero(bad):
        warnings.warn(
            f"Bayesian fit {i}: the posterior beyond tau = {hi[i]:.3g} (the grid's end, at most "
            f"{TAU_CEIL_REL:g} data scales) may hold up to "
            f"{_TAIL_TOL * np.exp(min(excess[i], 700)):.2g} of the mass on the grid (prior "
            f"{priors[i].label}); summaries leave it out",
            RuntimeWarning,
            stacklevel=4,
        )
    return tau, logw, edges, hi


def _posterior(y, v, m, priors: list[TauPrior], mu_prior) -> _Post:
    B = y.shape[0]
    sdmin = np.sqrt(np.where(m, v, np.inf).min(axis=1))
    data_scale = _data_scale(y, v, m)
    sup_lo = np.array([p.support_low for p in priors])
    floor = np.where(sup_lo > 0, sup_lo, TAU_FLOOR_REL * sdmin)
    j, log_ginf = _tail_order(m.sum(axis=1), mu_prior is not None)
    # atom: prior mass on [0, floor) times L(0) (zero for a uniform prior starting above 0)
    zero = np.zeros((B, 1))
    l0 = _cond(y, v, m, zero, mu_prior)[2][:, 0]
    pmass = np.array(
        [float(p.cdf(floor[i])) if sup_lo[i] == 0 else 0.0 for i, p in enumerate(priors)]
    )
    with np.errstate(divide="ignore"):
        log_atom = np.log(pmass) + l0

    def logf_rows(rows):
        pr = [priors[i] for i in rows]
        return lambda tau: _logprior(pr, tau) + _cond(y[rows], v[rows], m[rows], tau, mu_prior)[2]

    high = np.array([p.support_high for p in priors])  # the end never passes the support's
    reach = [
        np.minimum(r, high) for r in (_data_scale(y, v, m, mu_prior), TAU_CEIL_REL * data_scale)
    ]
    hi = _prior_end(priors, data_scale, floor)
    tau, logw, edges, hi = _tau_grid(logf_rows, floor, hi, reach, priors, j, log_ginf, log_atom)
    # the tail node at the grid's end T carries the posterior mass beyond it when that is known
    # exactly (j = 0: S(T) L(T), L constant); zero otherwise
    top = np.exp(edges[:, -1:])
    taus = np.concatenate([zero, tau, top], axis=1)
    mean, sd, logl = _cond(y, v, m, taus, mu_prior)
    sf_top = np.array([float(p.sf(t)) for p, t in zip(priors, top[:, 0], strict=True)])
    with np.errstate(divide="ignore"):
        log_tail = np.where(j == 0, np.log(sf_top) + logl[:, -1], -np.inf)
    alll = np.concatenate([log_atom[:, None], logw, log_tail[:, None]], axis=1)
    log_z = _logsumexp(alll, axis=1)
    w = np.exp(alll - log_z[:, None])
    w[w < _W_MIN] = 0.0  # negligible, and kept out of subnormal range
    return _Post(taus, w, mean, sd, edges, log_atom - log_z, log_z, floor, hi)


def _finite_moment(prior: TauPrior, k: int, mu_prior, order: int) -> bool:
    """Whether E[tau^order | y] (order 2: also Var(mu | y)) is finite.

    Far out, L(tau) decays like tau^-(k-1) with a flat prior on mu (tau^-k with a normal one,
    whose bounded variance also keeps Var(mu | y) finite), so the posterior decays like
    tau^-(a + k - 1) for a prior with tail exponent a (:attr:`TauPrior.tail_exponent`); e.g.
    with k = 2 and a half-Cauchy prior the posterior of mu has no variance.
    """
    if mu_prior is not None:
        return order == 2 or prior.tail_exponent + k > 1 + order
    return prior.tail_exponent + k - 1 > 1 + order
