"""Marginal posteriors: CDFs, densities, quantiles and shortest intervals.

The summary stage after :mod:`.posterior`: every marginal is a mixture over the tau nodes.
``mu`` is a mixture of ``N(m, s^2)``, a new trial's effect (the predictive distribution) of
``N(m, s^2 + tau^2)`` (study effects: :mod:`.shrinkage`); their quantiles are found by
safeguarded Newton steps (:func:`_mix_ppf`). Quantiles of tau are solved on each panel's Legendre
interpolant (:func:`_tau_ppf`). Against ``integrate()``/``uniroot()`` in R (rel. tol. 1e-12) all
summaries agree to 1e-10 on the reference cases and to 5e-9 on the edge cases
(tests/test_bayes.py asks for 1e-5).

Intervals are central by default; ``interval="shortest"`` gives bayesmeta's default (shortest
intervals, starting at 0 for tau when the density is highest there): :func:`_shortest`.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from .posterior import _GL_W, _GL_X, _NODES, _cond, _logprior, _Post
from .priors import TauPrior

__all__ = ["INTERVALS"]

INTERVALS = ("central", "shortest")

_NEWTON_TOL = 1e-13
#: Densities of tau beyond this use the limit of tau^j L(tau) (tau^2 would overflow near 1e154)
_TAU_BIG = 1e150
#: Iterations of the mixture quantile solver: bisection alone narrows a bracket of 1e14
#: to 1e-13 in 90 steps, and at most every other step bisects.
_PPF_MAXITER = 250


def _check_interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}; got {interval!r}")
    return interval


# ---- mixtures of normals: CDF, density, quantiles -------------------------------------------


#: Standardised distances are clipped here: Phi(-30) = 5e-198 and weights below
#: ``posterior._W_MIN`` are zero, so no product is subnormal (subnormal arithmetic is ~100 times
#: slower on x86).
_Z_CLIP = 30.0


def _mix_cdf(x, w, mean, sd):
    """x (B, Q) -> (B, Q) CDF of the mixtures sum_j w_j N(mean_j, sd_j^2)."""
    z = np.clip((x[:, :, None] - mean[:, None, :]) / sd[:, None, :], -_Z_CLIP, _Z_CLIP)
    return (w[:, None, :] * special.ndtr(z)).sum(axis=2)


def _mix_pdf(x, w, mean, sd):
    z = np.clip((x[:, :, None] - mean[:, None, :]) / sd[:, None, :], -_Z_CLIP, _Z_CLIP)
    return (w[:, None, :] * np.exp(-0.5 * z**2) / (sd[:, None, :] * np.sqrt(2 * np.pi))).sum(axis=2)


def _mix_ppf(p, w, mean, sd):
    """Quantiles p (B, Q) of the mixtures: Newton steps, falling back on false position.

    The bracket spans the components that carry weight (> 1e-14) +/- 40 SDs: the CDF there is
    within N * 1e-14 of 0 and 1, so it brackets every p in [1e-11, 1 - 1e-11]; more extreme p
    get the span of all components.
    """
    p = np.asarray(p, dtype=float)
    heavy = w > 1e-14
    extreme = (p < 1e-11) | (p > 1 - 1e-11)
    lo = np.where(heavy, mean - 40 * sd, np.inf).min(axis=1)[:, None] + 0 * p
    hi = np.where(heavy, mean + 40 * sd, -np.inf).max(axis=1)[:, None] + 0 * p
    lo = np.where(extreme, (mean - 40 * sd).min(axis=1)[:, None], lo)
    hi = np.where(extreme, (mean + 40 * sd).max(axis=1)[:, None], hi)
    flo, fhi = -p, 1 - p  # CDF minus p at the bracket (to 1e-11), for false position
    mu = (w * mean).sum(axis=1)[:, None]
    sdev = np.sqrt((w * (sd**2 + (mean - mu) ** 2)).sum(axis=1))[:, None]
    x = np.clip(mu + sdev * special.ndtri(np.clip(p, 1e-300, 1 - 1e-16)), lo, hi)
    for it in range(_PPF_MAXITER):
        f = _mix_cdf(x, w, mean, sd) - p
        neg = f < 0
        lo, flo = np.where(neg, x, lo), np.where(neg, f, flo)
        hi, fhi = np.where(f > 0, x, hi), np.where(f > 0, f, fhi)
        d = _mix_pdf(x, w, mean, sd)
        with np.errstate(divide="ignore", invalid="ignore"):
            xn = x - f / d
            fp = lo - flo * (hi - lo) / (fhi - flo)  # false position
        bad = ~np.isfinite(xn) | (xn < lo) | (xn > hi)
        # false position stalls on one end of a wide bracket (heavy-tailed tau priors with
        # k = 1 put components up to 1e12 data scales out): every other fallback bisects
        fp = np.where(np.isfinite(fp) & (fp > lo) & (fp < hi) & (it % 2 == 0), fp, (lo + hi) / 2)
        xn = np.where(bad, fp, xn)
        done = (np.abs(xn - x) <= _NEWTON_TOL * np.maximum(1.0, np.abs(x))) | (f == 0)
        x = np.where(f == 0, x, xn)
        if done.all():
            break
    return x


# ---- tau: CDF and quantiles on the panels' Legendre interpolants ----------------------------


def _tau_panels(post: _Post):
    """Per-panel Legendre coefficients of the posterior density in u in [-1, 1] (B, P, G)."""
    B = post.w.shape[0]
    P = post.edges.shape[1] - 1
    wf = post.w[:, 1:-1].reshape(B, P, _NODES)  # = density * (width/2) * GL weight
    vals = wf / _GL_W  # density (in u) at the nodes
    # Legendre coefficients by Gauss quadrature (exact for the degree G-1 interpolant)
    V = _legvander(_GL_X, _NODES - 1)  # (G, G)
    norm = (2 * np.arange(_NODES) + 1) / 2
    coef = np.einsum("bpg,g,gn->bpn", vals, _GL_W, V) * norm
    cum = np.concatenate(
        [post.w[:, :1], post.w[:, :1] + np.cumsum(wf.sum(axis=2), axis=1)], axis=1
    )  # (B, P+1): mass below each panel's start (atom included), and up to the grid's end
    return coef, cum


#: Legendre antiderivative (from -1) as a matrix: coefficients (G) -> coefficients (G + 1)
_LEGINT = np.array([np.polynomial.legendre.legint(e, lbnd=-1) for e in np.eye(_NODES)])


def _legvander(x: np.ndarray, deg: int) -> np.ndarray:
    """Legendre polynomials P_0..P_deg at x, stacked on a new last axis (Bonnet recursion)."""
    out = np.empty((*x.shape, deg + 1))
    out[..., 0] = 1.0
    out[..., 1] = x
    for n in range(1, deg):
        out[..., n + 1] = ((2 * n + 1) * x * out[..., n] - n * out[..., n - 1]) / (n + 1)
    return out


def _tau_ppf(post: _Post, priors: list[TauPrior], p: np.ndarray) -> np.ndarray:
    """Posterior quantiles of tau, p (B, Q), all at once.

    The panel holding each quantile is found from the cumulative panel masses; inside it the
    antiderivative of the density's Legendre interpolant is inverted by Newton steps kept in
    [-1, 1] (bisection when a step leaves it). Quantiles inside the atom [0, floor) invert the
    prior's CDF there (the posterior is the prior times the constant L(0)), and those beyond the
    grid's end T, in the tail node's mass, invert the prior's survival function (the posterior
    there is the prior times the constant L; the node has mass only then).
    """
    B, Q = p.shape
    coef, cum = _tau_panels(post)  # (B, P, G), (B, P + 1)
    anti = coef @ _LEGINT  # (B, P, G + 1)
    rows = np.arange(B)[:, None]
    j = np.clip((cum[:, None, 1:] < p[:, :, None]).sum(axis=2), 0, cum.shape[1] - 2)  # (B, Q)
    rest = p - cum[rows, j]
    A, C = anti[rows, j], coef[rows, j]  # (B, Q, G + 1), (B, Q, G)
    lo, hi = -np.ones((B, Q)), np.ones((B, Q))
    mass = cum[rows, j + 1] - cum[rows, j]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.clip(np.nan_to_num(2 * rest / mass - 1), -1, 1)  # as if uniform in the panel
    for _ in range(100):
        V = _legvander(u, _NODES)
        g = (V * A).sum(axis=2) - rest
        d = (V[..., :_NODES] * C).sum(axis=2)
        lo, hi = np.where(g < 0, u, lo), np.where(g > 0, u, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            un = u - g / d
        un = np.where(np.isfinite(un) & (un > lo) & (un < hi), un, (lo + hi) / 2)
        done = (np.abs(un - u) <= 1e-13) | (g == 0)
        u = np.where(g == 0, u, un)
        if done.all():
            break
    e0, e1 = post.edges[rows, j], post.edges[rows, j + 1]
    out = np.exp(e0 + (e1 - e0) * (u + 1) / 2)
    atom = post.w[:, :1]
    for b, q in np.argwhere(p <= atom):
        if atom[b, 0] <= 0:
            out[b, q] = post.floor[b]
            continue
        pm = float(priors[b].cdf(post.floor[b]))
        out[b, q] = float(priors[b].ppf(p[b, q] / atom[b, 0] * pm))
    tail = post.w[:, -1]
    for b, q in np.argwhere((p > cum[:, -1:]) & (tail[:, None] > 0)):
        s_top = float(priors[b].sf(post.tau[b, -1]))
        out[b, q] = float(priors[b].isf(s_top * min(1.0, (1 - p[b, q]) / tail[b])))
    return out


def _tau_cdf(post: _Post, priors: list[TauPrior], t: np.ndarray) -> np.ndarray:
    """Posterior CDF of tau at t (B, Q)."""
    B, Q = t.shape
    coef, cum = _tau_panels(post)
    out = np.empty((B, Q))
    for b in range(B):
        for q in range(Q):
            tt = t[b, q]
            if tt <= 0:
                out[b, q] = 0.0
                continue
            if tt <= post.floor[b]:
                pm = float(priors[b].cdf(post.floor[b]))
                out[b, q] = post.w[b, 0] * (float(priors[b].cdf(tt)) / pm if pm > 0 else 0.0)
                continue
            lt = np.log(tt)
            e = post.edges[b]
            if lt <= e[0]:
                out[b, q] = cum[b, 0]
            elif lt >= e[-1]:  # beyond the grid: the tail node's mass, spread as the prior's
                s_top = float(priors[b].sf(post.tau[b, -1]))
                frac = 1 - float(priors[b].sf(tt)) / s_top if s_top > 0 else 1.0
                out[b, q] = cum[b, -1] + post.w[b, -1] * frac
            else:
                j = int(np.clip(np.searchsorted(e, lt) - 1, 0, e.size - 2))
                anti = np.polynomial.legendre.legint(coef[b, j], lbnd=-1)
                u = 2 * (lt - e[j]) / (e[j + 1] - e[j]) - 1
                out[b, q] = cum[b, j] + np.polynomial.legendre.legval(u, anti)
    return np.clip(out, 0.0, 1.0)


def _tau_pdf(post: _Post, priors, y, v, m, mu_prior, t: np.ndarray) -> np.ndarray:
    """Posterior density of tau at t (B, Q), from the prior and likelihood directly.

    Beyond ``_TAU_BIG`` (where tau^2 nears overflow) ``tau^j L(tau)`` has reached its limit (to
    relative order v / tau^2), so ``log L`` falls like ``-j log tau`` from its value there.
    """
    tt = np.minimum(t, _TAU_BIG)
    j = (m.sum(axis=1) - (mu_prior is None))[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        far = np.where((t > _TAU_BIG) & (j > 0), -j * np.log(t / _TAU_BIG), 0.0)
    lp = _logprior(priors, t) + _cond(y, v, m, tt, mu_prior)[2] + far - post.log_z[:, None]
    return np.exp(lp)


# ---- intervals ----------------------------------------------------------------------------


def _shortest(ppf, pdf, level: float, lower_bound: float | None = None) -> tuple[float, float]:
    """Shortest interval of probability ``level`` of a unimodal distribution.

    Solves pdf(q(p)) = pdf(q(p + level)) for p in (0, 1 - level); when the density at the lower
    bound of the support already exceeds that at the level quantile (tau near 0), the interval
    starts at the bound, as in bayesmeta's ``post.interval``.
    """
    if lower_bound is not None and pdf(lower_bound) >= pdf(ppf(level)):
        return lower_bound, ppf(level)

    def g(p):
        return pdf(ppf(p)) - pdf(ppf(p + level))

    eps = 1e-12
    a, b = eps, 1 - level - eps
    ga, gb = g(a), g(b)
    if ga >= 0:
        p = a
    elif gb <= 0:
        p = b
    else:
        p = optimize.brentq(g, a, b, xtol=1e-14)
    return ppf(p), ppf(p + level)
