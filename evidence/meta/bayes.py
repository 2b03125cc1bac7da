"""Bayesian random-effects meta-analysis, computed exactly by quadrature over tau.

The normal-normal hierarchical model of R's bayesmeta (Roever 2020, J Stat Softw 93(6))::

    y_i | theta_i ~ N(theta_i, v_i),   theta_i | mu, tau ~ N(mu, tau^2),
    mu ~ flat (or N(m0, s0^2)),        tau ~ a named prior.

Given tau, the posterior of mu is normal, ``mu | tau, y ~ N(m(tau), s(tau)^2)`` with
``w = 1 / (v + tau^2)``, ``m = sum(w y) / sum(w)``, ``s^2 = 1 / sum(w)`` (a normal prior on mu
enters as one more "study" whose variance does not grow with tau). Integrating mu out leaves the
one-dimensional marginal posterior ``p(tau | y)``, proportional to ``p(tau) L(tau)`` with::

    log L(tau) = -1/2 [ (n - 1) log(2 pi) + sum log(1/w) + sum w (y - m)^2 + log sum w ]

(``n`` counts the studies plus the mu prior, if any). Every marginal is then a mixture over tau:
``mu`` of ``N(m, s^2)``, a new trial's effect (the predictive distribution) of
``N(m, s^2 + tau^2)``, and study i's shrunken effect of ``N(b y_i + (1 - b) m, b v_i +
(1 - b)^2 s^2)`` with ``b = tau^2 / (v_i + tau^2)``.

**Quadrature.** bayesmeta (3.4, ``R/bayesmeta.R``) integrates the tau posterior with
``integrate()`` and approximates the mixtures for mu by the DIRECT algorithm (Roever & Friede
2017, J Comput Graph Stat 26:217-222: support points in tau spaced so that neighbouring
conditionals differ by a symmetrised Kullback-Leibler divergence of at most ``delta = 0.01``).
Here every tau integral is instead a Gauss-Legendre quadrature in ``log tau`` on a grid placed per
fit: a coarse scan (``_N_COARSE`` points from ``TAU_FLOOR_REL * min sqrt(v)`` to the prior's
1 - 1e-14 quantile, at most ``TAU_CEIL_REL`` data scales) finds where the log posterior lies
within ``_LOG_RANGE`` of its maximum; ``_PANELS`` panels of ``_NODES`` nodes cover that range
(edges half-way between equal spacing and equal posterior mass on the scan) and ``_TAIL_PANELS``
more cover the heavier tail of tau^2 times the posterior (second moments). The
prior mass below the grid is an atom at tau = 0 (there ``L(tau)`` equals ``L(0)`` to relative
order ``TAU_FLOOR_REL^2``). Quantiles of tau are solved on each panel's Legendre interpolant,
quantiles of mixtures by safeguarded Newton steps. Against ``integrate()``/``uniroot()`` in R
(rel. tol. 1e-12) all summaries agree to 1e-10 on the reference cases (tests/test_bayes.py asks
for 1e-5). Moments that do not exist are reported as inf: with a flat prior on mu the posterior
of tau decays like ``tau^-(a + k - 1)`` for a prior tail ``tau^-a``, so e.g. k = 2 with a
half-Cauchy prior leaves mu without a variance. Everything is array arithmetic over a batch
axis, so 1,000 fits (a prior grid, leave-one-out) are one computation: :func:`bayes_batch`.

Intervals are central by default; ``interval="shortest"`` gives bayesmeta's default (shortest
intervals, starting at 0 for tau when the density is highest there).

**Priors on tau** (``tau_prior``): ``"halfnormal"``, ``"halfcauchy"`` (scale ``tau_scale``),
``"halfstudent"`` (scale and ``tau_df``), ``"uniform"`` on ``tau_range``, and ``"lognormal"`` /
``"logt"`` *on tau^2* (``tau_params = (location, scale)``, t with ``tau_df`` = 5 by default), the
form of the empirical priors of Turner et al. (2015, log odds ratios) and Rhodes et al. (2015,
SMDs). Their published parameters for mental-health outcomes are in ``evidence/priors.csv``
(see :func:`empirical_priors`; each row names its source), usable by name:
``tau_prior="rhodes_mental_nonpharm"``.

**Bayes factors** (as bayesmeta defines them; they need proper priors on tau and on mu, so they
are NaN with a flat mu prior): ``bf_tau0 = L(tau = 0) / p(y)`` and ``bf_mu0 = p(y | mu = 0) / p(y)``
where ``p(y) = int L(tau) p(tau) dtau`` is the marginal likelihood and ``p(y | mu = 0) = int
prod N(y_i; 0, v_i + tau^2) p(tau) dtau``. Values below 1 favour the model with heterogeneity
(``bf_tau0``) or with an effect (``bf_mu0``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .pooling import check_inputs

__all__ = [
    "TAU_PRIORS",
    "TauPrior",
    "BayesResult",
    "bayes_pool",
    "bayes_batch",
    "empirical_priors",
    "prior_sensitivity",
    "compare_cells",
]

TAU_PRIORS = ("halfnormal", "halfcauchy", "halfstudent", "uniform", "lognormal", "logt")
INTERVALS = ("central", "shortest")

#: Lower end of the tau grid relative to the smallest sampling SD; prior mass below it is an
#: atom at tau = 0 (conditional moments there differ from tau = 0 by a relative 1e-14).
TAU_FLOOR_REL = 1e-7
#: Upper end: the prior's 1 - 1e-14 quantile, at most this many data scales (the posterior tail
#: beyond decays at least like tau^-(k-1) times the prior's).
TAU_CEIL_REL = 1e12
_N_COARSE = 81
_LOG_RANGE = 46.0  # e^-46 ~ 1e-20: the posterior outside the fine grid is negligible
_PANELS = 16
_TAIL_PANELS = 4
_NODES = 16
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_NODES)
_NEWTON_TOL = 1e-13
#: Iterations of the mixture quantile solver: bisection alone narrows a bracket of 1e14
#: to 1e-13 in 90 steps, and at most every other step bisects.
_PPF_MAXITER = 250
_PRIORS_CSV = Path(__file__).with_name("priors.csv")
_LOG2PI = np.log(2 * np.pi)


# --------------------------------------------------------------------------------------------
# priors


@dataclass(frozen=True)
class TauPrior:
    """A proper prior on the heterogeneity SD tau (``family`` one of :data:`TAU_PRIORS`).

    ``scale`` is the half-distributions' scale; ``df`` the half-Student-t's or log-t's degrees
    of freedom; ``lower``/``upper`` the uniform's range; ``location``/``scale`` the normal or t
    distribution of ``log(tau^2)`` for ``lognormal`` and ``logt``. ``label`` names it in output.

    Examples
    --------
    >>> p = TauPrior("halfnormal", scale=0.5)
    >>> p.label
    'half-normal(scale = 0.5)'
    >>> round(float(p.cdf(np.array([0.5]))[0]), 4)
    0.6827
    """

    family: str
    scale: float = 1.0
    df: float | None = None
    location: float = 0.0
    lower: float = 0.0
    upper: float = np.inf
    name: str | None = None

    def __post_init__(self) -> None:
        if self.family not in TAU_PRIORS:
            raise ValueError(f"tau_prior: unknown family {self.family!r}; choose {TAU_PRIORS}")
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"tau_prior {self.family}: scale must be positive, got {self.scale}")
        if self.family in ("halfstudent", "logt") and not (self.df is not None and self.df > 0):
            raise ValueError(f"tau_prior {self.family}: df must be positive, got {self.df}")
        if self.family == "uniform" and not (0 <= self.lower < self.upper < np.inf):
            raise ValueError(
                f"tau_prior uniform: need 0 <= lower < upper < inf, got ({self.lower}, "
                f"{self.upper})"
            )

    @property
    def label(self) -> str:
        f, g = self.family, f"{self.scale:g}"
        text = {
            "halfnormal": f"half-normal(scale = {g})",
            "halfcauchy": f"half-Cauchy(scale = {g})",
            "halfstudent": f"half-t(df = {self.df or 0:g}, scale = {g})",
            "uniform": f"uniform({self.lower:g}, {self.upper:g})",
            "lognormal": f"log(tau^2) ~ N({self.location:g}, {g}^2)",
            "logt": f"log(tau^2) ~ t{self.df or 0:g}({self.location:g}, {g})",
        }[f]
        return f"{self.name}: {text}" if self.name else text

    # closed forms (scipy.special): frozen scipy.stats objects cost ~1 ms each to build
    def _z(self, tau):
        return (2 * np.log(tau) - self.location) / self.scale

    def logpdf(self, tau: np.ndarray) -> np.ndarray:
        """Log density of tau (normalised), -inf outside the support."""
        tau = np.asarray(tau, dtype=float)
        f, s = self.family, self.scale
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if f == "halfnormal":
                out = 0.5 * np.log(2 / np.pi) - np.log(s) - 0.5 * (tau / s) ** 2
            elif f == "halfcauchy":
                out = np.log(2 / (np.pi * s)) - np.log1p((tau / s) ** 2)
            elif f == "halfstudent":
                out = np.log(2 / s) + _t_logpdf(tau / s, self.df)
            elif f == "uniform":
                inside = (tau >= self.lower) & (tau <= self.upper)
                return np.where(inside, -np.log(self.upper - self.lower), -np.inf)
            else:  # density of tau from that of log tau^2 (Jacobian 2 / tau)
                z = self._z(tau)
                core = (
                    -0.5 * z**2 - 0.5 * np.log(2 * np.pi)
                    if f == "lognormal"
                    else (_t_logpdf(z, self.df))
                )
                out = core - np.log(s) + np.log(2.0) - np.log(tau)
                return np.where(tau > 0, out, -np.inf)
            return np.where(tau >= 0, out, -np.inf)

    def cdf(self, tau: np.ndarray) -> np.ndarray:
        """Prior CDF of tau."""
        tau = np.asarray(tau, dtype=float)
        f, s = self.family, self.scale
        t = np.maximum(tau, 0.0)
        with np.errstate(divide="ignore"):
            if f == "halfnormal":
                return special.erf(t / (s * np.sqrt(2)))
            if f == "halfcauchy":
                return 2 / np.pi * np.arctan(t / s)
            if f == "halfstudent":
                return 2 * special.stdtr(self.df, t / s) - 1
            if f == "uniform":
                return np.clip((tau - self.lower) / (self.upper - self.lower), 0.0, 1.0)
            z = self._z(t)
            return special.ndtr(z) if f == "lognormal" else special.stdtr(self.df, z)

    def ppf(self, p: np.ndarray) -> np.ndarray:
        """Prior quantile function of tau."""
        p = np.asarray(p, dtype=float)
        f, s = self.family, self.scale
        if f == "halfnormal":
            return s * np.sqrt(2) * special.erfinv(p)
        if f == "halfcauchy":
            return s * np.tan(np.pi * p / 2)
        if f == "halfstudent":
            return s * special.stdtrit(self.df, (1 + p) / 2)
        if f == "uniform":
            return self.lower + p * (self.upper - self.lower)
        z = special.ndtri(p) if f == "lognormal" else special.stdtrit(self.df, p)
        with np.errstate(over="ignore"):
            return np.exp((self.location + s * z) / 2)

    @property
    def tail_exponent(self) -> float:
        """a such that the density decays like tau^-a (inf: faster than any power).

        The log-t prior decays like 1 / (tau log(tau)^(df+1)): exponent 1 with a log factor,
        recorded as 1 + 1e-9 (it makes the borderline integrals below converge).
        """
        return {"halfcauchy": 2.0, "halfstudent": (self.df or 0) + 1.0, "logt": 1.0 + 1e-9}.get(
            self.family, np.inf
        )

    @property
    def support_low(self) -> float:
        return self.lower if self.family == "uniform" else 0.0


def _t_logpdf(z, df):
    return (
        special.gammaln((df + 1) / 2)
        - special.gammaln(df / 2)
        - 0.5 * np.log(df * np.pi)
        - (df + 1) / 2 * np.log1p(z**2 / df)
    )


@cache
def _prior_table() -> pd.DataFrame:
    return pd.read_csv(_PRIORS_CSV, dtype={"name": str}, keep_default_na=False)


def empirical_priors() -> pd.DataFrame:
    """The empirical heterogeneity priors in ``evidence/priors.csv``, one row each, with source.

    Rhodes et al. (2015; SMD outcomes): log-t(5) on tau^2; Turner et al. (2015; log odds
    ratios): log-normal on tau^2; mental-health outcomes and the general setting. The numbers
    are those of bayesmeta 3.4's ``RhodesEtAlPrior``/``TurnerEtAlPrior`` tables (the ``source``
    column names the table of the paper each cites); ``note`` flags what could not be checked.

    Examples
    --------
    >>> t = empirical_priors()
    >>> t.loc[t.name == "rhodes_any", ["distribution", "location", "scale"]].to_numpy().tolist()
    [['logt', -3.44, 2.59]]
    """
    return _prior_table().copy()


def _named_prior(name: str) -> TauPrior:
    t = _prior_table()
    row = t[t["name"] == name]
    if row.empty:
        raise ValueError(
            f"tau_prior: unknown prior {name!r}; choose one of {TAU_PRIORS} or a name in "
            f"{_PRIORS_CSV.name}: {list(t['name'])}"
        )
    r = row.iloc[0]
    df = float(r["df"]) if str(r["df"]).strip() else None
    return TauPrior(
        r["distribution"], scale=float(r["scale"]), df=df, location=float(r["location"]), name=name
    )


def make_prior(
    tau_prior: str | TauPrior = "halfnormal",
    tau_scale: float = 0.5,
    tau_df: float | None = None,
    tau_range: tuple[float, float] | None = None,
    tau_params: tuple[float, float] | None = None,
) -> TauPrior:
    """Build a :class:`TauPrior` from :func:`bayes_pool`'s arguments (or pass one through).

    Examples
    --------
    >>> make_prior("logt", tau_params=(-3.44, 2.59)).label
    'log(tau^2) ~ t5(-3.44, 2.59)'
    >>> make_prior("rhodes_any").df
    5.0
    """
    if isinstance(tau_prior, TauPrior):
        return tau_prior
    name = str(tau_prior)
    if name not in TAU_PRIORS:
        return _named_prior(name)
    if name == "uniform":
        if tau_range is None:
            raise ValueError("tau_prior 'uniform' needs tau_range=(lower, upper)")
        return TauPrior("uniform", lower=float(tau_range[0]), upper=float(tau_range[1]))
    if name in ("lognormal", "logt"):
        if tau_params is None:
            raise ValueError(f"tau_prior {name!r} needs tau_params=(location, scale) of log tau^2")
        df = (5.0 if tau_df is None else float(tau_df)) if name == "logt" else None
        return TauPrior(name, location=float(tau_params[0]), scale=float(tau_params[1]), df=df)
    if name == "halfstudent" and tau_df is None:
        raise ValueError("tau_prior 'halfstudent' needs tau_df")
    return TauPrior(name, scale=float(tau_scale), df=None if tau_df is None else float(tau_df))


# --------------------------------------------------------------------------------------------
# batched engine: y, v are (B, k) with a boolean mask m; tau arrays are (B, N)


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

    tau: np.ndarray  # (B, N) nodes; column 0 is the atom at tau = 0
    w: np.ndarray  # (B, N) normalised posterior weights
    mean: np.ndarray  # (B, N) conditional mean of mu
    sd: np.ndarray  # (B, N) conditional sd of mu
    edges: np.ndarray  # (B, P + 1) panel edges in log tau
    log_atom_lik: np.ndarray  # (B,) log of L(0) p(tau<floor) / Z: atom weight = w[:, 0]
    log_z: np.ndarray  # (B,) log marginal likelihood int L p dtau (constants kept)
    floor: np.ndarray  # (B,) tau floor (upper end of the atom)


def _posterior(y, v, m, priors: list[TauPrior], mu_prior) -> _Post:
    B = y.shape[0]
    sdmin = np.sqrt(np.where(m, v, np.inf).min(axis=1))
    ymax = np.where(m, y, -np.inf).max(axis=1)
    ymin = np.where(m, y, np.inf).min(axis=1)
    data_scale = np.sqrt(np.where(m, v, 0).max(axis=1)) + (ymax - ymin)
    sup_lo = np.array([p.support_low for p in priors])
    floor = np.where(sup_lo > 0, sup_lo, TAU_FLOOR_REL * sdmin)
    top = np.array([float(p.ppf(1 - 1e-14)) for p in priors])
    hi = np.minimum(top, TAU_CEIL_REL * data_scale)
    hi = np.maximum(hi, floor * 10)

    def logf(tau):
        return _logprior(priors, tau) + _cond(y, v, m, tau, mu_prior)[2]

    tau, logw, edges = _grid(logf, floor, hi)
    # atom: prior mass on [0, floor) times L(0) (zero for a uniform prior starting above 0)
    zero = np.zeros((B, 1))
    m0, s0, l0 = _cond(y, v, m, zero, mu_prior)
    pmass = np.array(
        [float(p.cdf(floor[i])) if sup_lo[i] == 0 else 0.0 for i, p in enumerate(priors)]
    )
    with np.errstate(divide="ignore"):
        log_atom = np.log(pmass) + l0[:, 0]
    alll = np.concatenate([log_atom[:, None], logw], axis=1)
    log_z = _logsumexp(alll, axis=1)
    w = np.exp(alll - log_z[:, None])
    w[w < _W_MIN] = 0.0  # negligible, and kept out of subnormal range
    taus = np.concatenate([zero, tau], axis=1)
    mean, sd, _ = _cond(y, v, m, taus, mu_prior)
    return _Post(taus, w, mean, sd, edges, log_atom - log_z, log_z, floor)


# ---- mixtures of normals: CDF, density, quantiles -------------------------------------------


#: Standardised distances are clipped here: Phi(-30) = 5e-198 and weights below _W_MIN are
#: zero, so no product is subnormal (subnormal arithmetic is ~100 times slower on x86).
_Z_CLIP = 30.0
_W_MIN = 1e-30


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
    wf = post.w[:, 1:].reshape(B, P, _NODES)  # = density * (width/2) * GL weight
    vals = wf / _GL_W  # density (in u) at the nodes
    # Legendre coefficients by Gauss quadrature (exact for the degree G-1 interpolant)
    V = _legvander(_GL_X, _NODES - 1)  # (G, G)
    norm = (2 * np.arange(_NODES) + 1) / 2
    coef = np.einsum("bpg,g,gn->bpn", vals, _GL_W, V) * norm
    cum = np.concatenate(
        [post.w[:, :1], post.w[:, :1] + np.cumsum(wf.sum(axis=2), axis=1)], axis=1
    )  # (B, P+1): mass below each panel's start (atom included), and total
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
    prior's CDF there (the posterior is the prior times the constant L(0)).
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
            elif lt >= e[-1]:
                out[b, q] = cum[b, -1]
            else:
                j = int(np.clip(np.searchsorted(e, lt) - 1, 0, e.size - 2))
                anti = np.polynomial.legendre.legint(coef[b, j], lbnd=-1)
                u = 2 * (lt - e[j]) / (e[j + 1] - e[j]) - 1
                out[b, q] = cum[b, j] + np.polynomial.legendre.legval(u, anti)
    return np.clip(out, 0.0, 1.0)


def _tau_pdf(post: _Post, priors, y, v, m, mu_prior, t: np.ndarray) -> np.ndarray:
    """Posterior density of tau at t (B, Q), from the prior and likelihood directly."""
    lp = _logprior(priors, t) + _cond(y, v, m, t, mu_prior)[2] - post.log_z[:, None]
    return np.exp(lp)


# ---- shrinkage and predictive components ----------------------------------------------------


def _components(post: _Post, v_row: np.ndarray, y_row: np.ndarray, b: int, what):
    """(mean, sd) arrays (1, N) of the normal components of a marginal of fit ``b``."""
    if what == "mu":
        return post.mean[b : b + 1], post.sd[b : b + 1]
    if what == "predictive":
        return post.mean[b : b + 1], np.sqrt(post.sd[b : b + 1] ** 2 + post.tau[b : b + 1] ** 2)
    i = int(what)
    t2 = post.tau[b] ** 2
    sh = t2 / (v_row[i] + t2)
    mean = sh * y_row[i] + (1 - sh) * post.mean[b]
    sd = np.sqrt(sh * v_row[i] + (1 - sh) ** 2 * post.sd[b] ** 2)
    return mean[None, :], sd[None, :]


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


# --------------------------------------------------------------------------------------------
# result


def _fmt(x: float, digits: int = 4) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


@dataclass(frozen=True, eq=False, repr=False)
class BayesResult:
    """Posterior of a normal-normal hierarchical model (see :func:`bayes_pool`).

    Estimates are on the analysis scale (log scale for OR and RR). Intervals are at ``level``
    percent, ``interval`` says whether central or shortest. ``theta_*`` are the shrunken study
    effects (posterior of each study's true effect), in input order. ``bf_tau0`` and ``bf_mu0``
    are bayesmeta's Bayes factors (NaN unless ``mu_prior`` is a proper normal prior).
    """

    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    labels: tuple[str, ...] | None = field(repr=False)
    measure: str | None
    prior: TauPrior
    mu_prior: tuple[float, float] | None
    level: float
    interval: str
    k: int
    mu_mean: float
    mu_median: float
    mu_sd: float
    mu_ci_low: float
    mu_ci_high: float
    tau_mean: float
    tau_median: float
    tau_ci_low: float
    tau_ci_high: float
    pi_low: float
    pi_high: float
    p_mu_positive: float
    bf_tau0: float
    bf_mu0: float
    log_marginal_likelihood: float
    theta_mean: np.ndarray = field(repr=False)
    theta_sd: np.ndarray = field(repr=False)
    _post: _Post = field(repr=False)

    # ---- shrunken study intervals (computed on first use: k quantile problems) ----------
    @cached_property
    def _theta_quantiles(self) -> np.ndarray:
        """(k, 3): central lower limit, median and upper limit of each shrunken effect."""
        lv = self.level / 100
        post = self._post
        t2 = post.tau**2
        sh = t2 / (self.vi[:, None] + t2)
        mean = sh * self.yi[:, None] + (1 - sh) * post.mean
        sd = np.sqrt(sh * self.vi[:, None] + (1 - sh) ** 2 * post.sd**2)
        w = np.broadcast_to(post.w, mean.shape)
        probs = np.tile([(1 - lv) / 2, 0.5, (1 + lv) / 2], (self.k, 1))
        return _mix_ppf(probs, w, mean, sd)

    @cached_property
    def _theta_interval(self) -> np.ndarray:
        if self.interval == "shortest":
            return np.array([self.interval_of(i) for i in range(self.k)]).reshape(self.k, 2)
        return self._theta_quantiles[:, [0, 2]]

    @property
    def theta_median(self) -> np.ndarray:
        """Posterior medians of the shrunken study effects (input order)."""
        return self._theta_quantiles[:, 1]

    @property
    def theta_ci_low(self) -> np.ndarray:
        """Lower credible limits of the shrunken study effects (input order)."""
        return self._theta_interval[:, 0]

    @property
    def theta_ci_high(self) -> np.ndarray:
        """Upper credible limits of the shrunken study effects (input order)."""
        return self._theta_interval[:, 1]

    # ---- derived ------------------------------------------------------------------------
    @property
    def study_labels(self) -> tuple[str, ...]:
        return self.labels or tuple(f"Study {i + 1}" for i in range(self.k))

    @property
    def estimate(self) -> float:
        """Posterior median of mu (the point estimate shown in tables and plots)."""
        return self.mu_median

    @property
    def ci_low(self) -> float:
        return self.mu_ci_low

    @property
    def ci_high(self) -> float:
        return self.mu_ci_high

    def methods_text(self) -> str:
        mu = "flat" if self.mu_prior is None else f"N({self.mu_prior[0]:g}, {self.mu_prior[1]:g}^2)"
        return (
            f"Bayesian random effects (normal-normal), prior tau ~ {self.prior.label}, mu ~ {mu}; "
            f"posterior median, {self.interval} {self.level:g}% credible interval"
        )

    def _args(self):
        m = np.ones((1, self.k), dtype=bool)
        return self.yi[None, :], self.vi[None, :], m

    # ---- distributions ------------------------------------------------------------------
    def _check_of(self, of) -> str | int:
        if of in ("mu", "predictive", "tau"):
            return of
        if isinstance(of, str) and self.labels and of in self.labels:
            return self.labels.index(of)
        if isinstance(of, int | np.integer) and 0 <= of < self.k:
            return int(of)
        raise ValueError(
            f"of must be 'mu', 'tau', 'predictive', a study position 0..{self.k - 1} or a "
            f"study label; got {of!r}"
        )

    def cdf(self, x, of: str | int = "mu") -> np.ndarray:
        """Posterior CDF of mu, tau, a new trial's effect (``"predictive"``) or study ``of``.

        Examples
        --------
        >>> r = bayes_pool([0.2, 0.5, 0.1], [0.04, 0.05, 0.03])
        >>> round(float(r.cdf(r.mu_median)[0]), 6)
        0.5
        """
        of = self._check_of(of)
        x = np.atleast_1d(np.asarray(x, dtype=float))
        if of == "tau":
            return _tau_cdf(self._post, [self.prior], x[None, :])[0]
        mean, sd = _components(self._post, self.vi, self.yi, 0, of)
        return _mix_cdf(x[None, :], self._post.w[:1], mean, sd)[0]

    def pdf(self, x, of: str | int = "mu") -> np.ndarray:
        """Posterior density (marginal) of mu, tau, the predictive or a study's effect."""
        of = self._check_of(of)
        x = np.atleast_1d(np.asarray(x, dtype=float))
        if of == "tau":
            y, v, m = self._args()
            with np.errstate(divide="ignore"):
                d = _tau_pdf(self._post, [self.prior], y, v, m, self.mu_prior, x[None, :])[0]
            return np.where(x >= self.prior.support_low, d, 0.0)
        mean, sd = _components(self._post, self.vi, self.yi, 0, of)
        return _mix_pdf(x[None, :], self._post.w[:1], mean, sd)[0]

    def ppf(self, p, of: str | int = "mu") -> np.ndarray:
        """Posterior quantile function of mu, tau, the predictive or a study's effect.

        Examples
        --------
        >>> r = bayes_pool([0.2, 0.5, 0.1], [0.04, 0.05, 0.03])
        >>> bool(np.isclose(r.ppf(0.5, "tau")[0], r.tau_median))
        True
        """
        of = self._check_of(of)
        p = np.atleast_1d(np.asarray(p, dtype=float))
        if np.any((p <= 0) | (p >= 1)):
            raise ValueError("ppf: probabilities must lie strictly between 0 and 1")
        if of == "tau":
            return _tau_ppf(self._post, [self.prior], p[None, :])[0]
        mean, sd = _components(self._post, self.vi, self.yi, 0, of)
        return _mix_ppf(p[None, :], self._post.w[:1], mean, sd)[0]

    def prob(self, lower: float = -np.inf, upper: float = np.inf, of: str | int = "mu") -> float:
        """Posterior probability that ``lower < of < upper`` (default: of mu).

        ``prob(0)`` is P(mu > 0); ``prob(upper=0)`` is P(mu < 0); ``prob(-m, m)`` is the
        probability of equivalence within margin m (see :meth:`prob_equivalent`).

        Examples
        --------
        >>> r = bayes_pool([0.2, 0.5, 0.1], [0.04, 0.05, 0.03])
        >>> round(r.prob(0), 3) == round(r.p_mu_positive, 3)
        True
        """
        lo = 0.0 if not np.isfinite(lower) else float(self.cdf(lower, of)[0])
        hi = 1.0 if not np.isfinite(upper) else float(self.cdf(upper, of)[0])
        return max(0.0, hi - lo)

    def prob_equivalent(self, margin: float) -> float:
        """P(|mu| < margin): posterior probability that the effect lies within the margin."""
        if not margin > 0:
            raise ValueError(f"margin must be positive, got {margin}")
        return self.prob(-margin, margin)

    def interval_of(
        self, of: str | int = "mu", level: float | None = None, interval: str | None = None
    ) -> tuple[float, float]:
        """Credible (or prediction) interval of any marginal at ``level`` percent."""
        of = self._check_of(of)
        lv = (self.level if level is None else level) / 100
        kind = _check_interval(self.interval if interval is None else interval)
        if kind == "central":
            a, b = self.ppf([(1 - lv) / 2, (1 + lv) / 2], of)
            return float(a), float(b)
        bound = self.prior.support_low if of == "tau" else None
        return _shortest(
            lambda p: float(self.ppf(p, of)[0]), lambda x: float(self.pdf(x, of)[0]), lv, bound
        )

    def bayes_factors(self) -> pd.DataFrame:
        """Actual and minimum Bayes factors for tau = 0 and mu = 0 (bayesmeta's definitions).

        Minimum BFs replace the integral over the alternative by its maximum: ``L(tau = 0) /
        max_tau L(tau)`` (needs a proper mu prior) and ``p(y | mu = 0) / max_mu p(y | mu)``.
        """
        y, v, m = self._args()
        prior = [self.prior]
        lo = np.array([max(self.prior.support_low, TAU_FLOOR_REL * np.sqrt(self.vi.min()))])
        hi = np.array([float(self.prior.ppf(1 - 1e-14))])
        hi = np.minimum(hi, TAU_CEIL_REL * (np.sqrt(self.vi.max()) + np.ptp(self.yi)))

        def log_p_mu(mu):  # log p(y | mu) = log int prod N(y; mu, v + t^2) p(t) dt
            def loglik(t):
                s2 = v[:, None, :] + t[:, :, None] ** 2
                return -0.5 * (_LOG2PI + np.log(s2) + (y[:, None, :] - mu) ** 2 / s2).sum(axis=2)

            tau, logw, _ = _grid(lambda t: _logprior(prior, t) + loglik(t), lo, hi)
            parts = list(logw[0])
            if self.prior.support_low == 0:  # prior mass below the grid, likelihood as at 0
                with np.errstate(divide="ignore"):
                    parts.append(np.log(self.prior.cdf(lo[0])) + loglik(np.zeros((1, 1)))[0, 0])
            return float(_logsumexp(np.array(parts)))

        lmu0 = log_p_mu(0.0)
        s = (self.mu_ci_high - self.mu_ci_low) / 4  # exists even where Var(mu) does not
        opt = optimize.minimize_scalar(
            lambda mu: -log_p_mu(mu), bracket=(self.mu_median - s, self.mu_median + s)
        )
        min_mu0 = np.exp(lmu0 + opt.fun)
        actual_mu0 = np.exp(lmu0 - self.log_marginal_likelihood) if self.mu_prior else np.nan
        min_tau0 = np.nan
        if self.mu_prior is not None:

            def nll(x):
                return -float(_cond(y, v, m, np.array([[np.exp(x)]]), self.mu_prior)[2][0, 0])

            l0 = -nll(-np.inf)
            xs = np.linspace(np.log(lo[0]), np.log(hi[0]), 400)
            j = int(np.argmin([nll(x) for x in xs]))
            ref = optimize.minimize_scalar(
                nll,
                bounds=(xs[max(j - 1, 0)], xs[min(j + 1, 399)]),
                method="bounded",
                options={"xatol": 1e-10},
            )
            lmax = max(l0, -nll(xs[j]), -ref.fun)
            min_tau0 = float(np.exp(l0 - lmax))
        return pd.DataFrame(
            {"tau=0": [self.bf_tau0, min_tau0], "mu=0": [actual_mu0, min_mu0]},
            index=pd.Index(["actual", "minimum"], name="Bayes factor"),
        )

    # ---- output -------------------------------------------------------------------------
    def shrinkage(self) -> pd.DataFrame:
        """Observed and shrunken study effects, one row per study (bayesmeta ``$theta``)."""
        z = stats.norm.ppf(0.5 + self.level / 200)
        se = np.sqrt(self.vi)
        return pd.DataFrame(
            {
                "yi": self.yi,
                "vi": self.vi,
                "ci_low": self.yi - z * se,
                "ci_high": self.yi + z * se,
                "theta_mean": self.theta_mean,
                "theta_sd": self.theta_sd,
                "theta_ci_low": self.theta_ci_low,
                "theta_ci_high": self.theta_ci_high,
            },
            index=pd.Index(self.study_labels, name="study"),
        )

    def summary(self) -> str:
        """A readable multi-line summary naming the priors and the interval type."""
        lvl = f"{self.level:g}%"
        mu = "flat" if self.mu_prior is None else f"normal{tuple(self.mu_prior)}"
        lines = [
            f"Bayesian random-effects model (k = {self.k}; "
            f"{'measure ' + self.measure if self.measure else 'measure not named'})",
            f"  prior on tau : {self.prior.label}",
            f"  prior on mu  : {mu}",
            f"  intervals    : {self.interval} {lvl}",
            "",
            f"  mu: median = {_fmt(self.mu_median)}  mean = {_fmt(self.mu_mean)}  "
            f"SD = {_fmt(self.mu_sd)}  {lvl} CrI [{_fmt(self.mu_ci_low)}, {_fmt(self.mu_ci_high)}]",
            f"  tau: median = {_fmt(self.tau_median)}  {lvl} CrI "
            f"[{_fmt(self.tau_ci_low)}, {_fmt(self.tau_ci_high)}]",
            f"  new trial: {lvl} PI [{_fmt(self.pi_low)}, {_fmt(self.pi_high)}]",
            f"  P(mu > 0) = {_fmt(self.p_mu_positive)}",
        ]
        if self.mu_prior is not None:
            lines.append(
                f"  Bayes factors: tau = 0: {self.bf_tau0:.4g}   mu = 0: {self.bf_mu0:.4g}"
            )
        else:
            lines.append("  Bayes factors: NA (need a proper normal prior on mu)")
        if self.measure in ("OR", "RR"):
            lines.append(
                f"  {self.measure} = {np.exp(self.mu_median):.3f} "
                f"[{np.exp(self.mu_ci_low):.3f}, {np.exp(self.mu_ci_high):.3f}]"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    __repr__ = __str__

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with every scalar summary and the prior choices."""
        row = {
            "measure": self.measure,
            "tau_prior": self.prior.label,
            "mu_prior": None if self.mu_prior is None else str(tuple(self.mu_prior)),
            "level": self.level,
            "interval": self.interval,
            "k": self.k,
        }
        for name in (
            "mu_mean",
            "mu_median",
            "mu_sd",
            "mu_ci_low",
            "mu_ci_high",
            "tau_mean",
            "tau_median",
            "tau_ci_low",
            "tau_ci_high",
            "pi_low",
            "pi_high",
            "p_mu_positive",
            "bf_tau0",
            "bf_mu0",
            "log_marginal_likelihood",
        ):
            row[name] = getattr(self, name)
        return pd.DataFrame([row])

    def _repr_html_(self) -> str:
        lvl = f"{self.level:g}%"
        rows = [
            ("k", str(self.k)),
            (
                "mu median (mean, SD)",
                f"{_fmt(self.mu_median)} ({_fmt(self.mu_mean)}, {_fmt(self.mu_sd)})",
            ),
            (f"{lvl} credible interval", f"[{_fmt(self.mu_ci_low)}, {_fmt(self.mu_ci_high)}]"),
            (f"{lvl} prediction interval", f"[{_fmt(self.pi_low)}, {_fmt(self.pi_high)}]"),
            (
                "tau median [CrI]",
                f"{_fmt(self.tau_median)} [{_fmt(self.tau_ci_low)}, {_fmt(self.tau_ci_high)}]",
            ),
            ("P(mu > 0)", _fmt(self.p_mu_positive)),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>"
            for a, b in rows
        )
        return (
            f"<div><strong>Bayesian random-effects model</strong><table>{body}</table>"
            f"<p><small>{html.escape(self.methods_text())}</small></p></div>"
        )

    # ---- plots --------------------------------------------------------------------------
    def shrinkage_plot(self, **kwargs):
        """Forest of observed and shrunken study effects; see
        :func:`evidence.plots.bayes.shrinkage_forest`."""
        from evidence.plots.bayes import shrinkage_forest

        return shrinkage_forest(self, **kwargs)


# --------------------------------------------------------------------------------------------
# public functions


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


def _check_interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}; got {interval!r}")
    return interval


def _check_mu_prior(mu_prior) -> tuple[float, float] | None:
    if mu_prior is None:
        return None
    try:
        m0, s0 = (float(x) for x in mu_prior)
    except (TypeError, ValueError):
        raise ValueError(f"mu_prior must be None or (mean, sd); got {mu_prior!r}") from None
    if not (np.isfinite(m0) and np.isfinite(s0) and s0 > 0):
        raise ValueError(f"mu_prior: need a finite mean and a positive sd; got {mu_prior!r}")
    return (m0, s0)


def _check_level(level: float) -> float:
    level = float(level)
    if not 0 < level < 100:
        raise ValueError(f"level must be a percentage between 0 and 100; got {level}")
    return level


def bayes_pool(
    yi,
    vi,
    *,
    tau_prior: str | TauPrior = "halfnormal",
    tau_scale: float = 0.5,
    tau_df: float | None = None,
    tau_range: tuple[float, float] | None = None,
    tau_params: tuple[float, float] | None = None,
    mu_prior: tuple[float, float] | None = None,
    level: float = 95.0,
    interval: str = "central",
    labels: Sequence[str] | None = None,
    measure: str | None = None,
) -> BayesResult:
    """Bayesian random-effects meta-analysis, exact up to quadrature (bayesmeta's model).

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances (k >= 1; with k = 1 the posterior of tau is the
        prior's, as it should be).
    tau_prior : str or TauPrior, default "halfnormal"
        One of ``halfnormal``, ``halfcauchy``, ``halfstudent``, ``uniform``, ``lognormal``,
        ``logt`` (the last two on tau^2), a prior name from :func:`empirical_priors`, or a
        :class:`TauPrior`.
    tau_scale : float, default 0.5
        Scale of the half-normal, half-Cauchy or half-t prior.
    tau_df : float, optional
        Degrees of freedom of ``halfstudent`` (required) or ``logt`` (default 5).
    tau_range : (float, float), optional
        Range of the ``uniform`` prior on tau.
    tau_params : (float, float), optional
        Location and scale of log(tau^2) for ``lognormal`` and ``logt``.
    mu_prior : (float, float), optional
        Normal prior (mean, sd) on mu; None (default) is flat. Bayes factors need it.
    level : float, default 95
        Credible and prediction interval level in percent.
    interval : {"central", "shortest"}
        Equal-tailed or shortest (highest-density for unimodal marginals) intervals.
    labels, measure
        Study labels and effect measure, carried into output and plots.

    Returns
    -------
    BayesResult

    Examples
    --------
    The first two BCG vaccine trials (metadat ``dat.bcg``, log risk ratios):

    >>> r = bayes_pool([-0.8893, -1.5854], [0.3256, 0.1946], tau_prior="halfnormal",
    ...                tau_scale=0.5, measure="RR")
    >>> print(f"{r.mu_median:.3f} [{r.mu_ci_low:.3f}, {r.mu_ci_high:.3f}]")
    -1.303 [-2.233, -0.332]
    >>> print(f"tau {r.tau_median:.3f}  P(mu > 0) = {r.p_mu_positive:.4f}")
    tau 0.306  P(mu > 0) = 0.0077
    """
    y, v = check_inputs(yi, vi)
    if labels is not None:
        labels = tuple(str(s) for s in labels)
        if len(labels) != y.size:
            raise ValueError(f"labels: {len(labels)} labels for {y.size} studies")
    prior = make_prior(tau_prior, tau_scale, tau_df, tau_range, tau_params)
    mu_prior = _check_mu_prior(mu_prior)
    level = _check_level(level)
    interval = _check_interval(interval)
    k = y.size
    m = np.ones((1, k), dtype=bool)
    post = _posterior(y[None, :], v[None, :], m, [prior], mu_prior)
    lv = level / 100
    probs = np.array([[(1 - lv) / 2, 0.5, (1 + lv) / 2]])
    w = post.w
    mu_mean = float((w * post.mean).sum())
    mu_sd = float(np.sqrt((w * (post.sd**2 + (post.mean - mu_mean) ** 2)).sum()))
    if not _finite_moment(prior, k, mu_prior, 2):
        mu_sd = np.inf
    mu_q = _mix_ppf(probs, w, post.mean, post.sd)[0]
    ps = np.sqrt(post.sd**2 + post.tau**2)
    pi_q = _mix_ppf(probs[:, [0, 2]], w, post.mean, ps)[0]
    tau_q = _tau_ppf(post, [prior], probs)[0]
    p_pos = float(1 - _mix_cdf(np.zeros((1, 1)), w, post.mean, post.sd)[0, 0])
    # shrunken study effects: one mixture per study (a batch of k)
    t2 = post.tau**2  # (1, N)
    sh = t2 / (v[:, None] + t2)  # (k, N)
    th_mean = sh * y[:, None] + (1 - sh) * post.mean
    th_sd = np.sqrt(sh * v[:, None] + (1 - sh) ** 2 * post.sd**2)
    theta_mean = (w * th_mean).sum(axis=1)
    theta_sd = np.sqrt((w * (th_sd**2 + (th_mean - theta_mean[:, None]) ** 2)).sum(axis=1))
    if mu_prior is not None:
        l0 = _cond(y[None, :], v[None, :], m, np.zeros((1, 1)), mu_prior)[2][0, 0]
        bf_tau0 = float(np.exp(l0 - post.log_z[0]))
    else:
        bf_tau0 = np.nan
    res = BayesResult(
        yi=y,
        vi=v,
        labels=labels,
        measure=measure,
        prior=prior,
        mu_prior=mu_prior,
        level=level,
        interval=interval,
        k=k,
        mu_mean=mu_mean,
        mu_median=float(mu_q[1]),
        mu_sd=mu_sd,
        mu_ci_low=float(mu_q[0]),
        mu_ci_high=float(mu_q[2]),
        tau_mean=float((w * post.tau).sum()) if _finite_moment(prior, k, mu_prior, 1) else np.inf,
        tau_median=float(tau_q[1]),
        tau_ci_low=float(tau_q[0]),
        tau_ci_high=float(tau_q[2]),
        pi_low=float(pi_q[0]),
        pi_high=float(pi_q[1]),
        p_mu_positive=p_pos,
        bf_tau0=bf_tau0,
        bf_mu0=np.nan,
        log_marginal_likelihood=float(post.log_z[0]) if mu_prior is not None else np.nan,
        theta_mean=theta_mean,
        theta_sd=theta_sd,
        _post=post,
    )
    updates = {}
    if mu_prior is not None:
        updates["bf_mu0"] = float(res.bayes_factors().loc["actual", "mu=0"])
    if interval == "shortest":
        updates.update(zip(("mu_ci_low", "mu_ci_high"), res.interval_of("mu"), strict=True))
        updates.update(zip(("tau_ci_low", "tau_ci_high"), res.interval_of("tau"), strict=True))
        updates.update(zip(("pi_low", "pi_high"), res.interval_of("predictive"), strict=True))
    if updates:
        from dataclasses import replace

        res = replace(res, **updates)
    return res


_CHUNK_ELEMENTS = 4_000_000


def _batch_summaries(Y, V, M, priors, mu_prior, lv):
    B = Y.shape[0]
    post = _posterior(Y, V, M, priors, mu_prior)
    w = post.w
    probs = np.tile([(1 - lv) / 2, 0.5, (1 + lv) / 2], (B, 1))
    mu_mean = (w * post.mean).sum(axis=1)
    mu_sd = np.sqrt((w * (post.sd**2 + (post.mean - mu_mean[:, None]) ** 2)).sum(axis=1))
    ks = M.sum(axis=1)
    finite = np.array(
        [_finite_moment(p, kk, mu_prior, 2) for p, kk in zip(priors, ks, strict=True)]
    )
    mu_sd = np.where(finite, mu_sd, np.inf)
    mu_q = _mix_ppf(probs, w, post.mean, post.sd)
    pi_q = _mix_ppf(probs[:, [0, 2]], w, post.mean, np.sqrt(post.sd**2 + post.tau**2))
    tau_q = _tau_ppf(post, priors, probs)
    p_pos = 1 - _mix_cdf(np.zeros((B, 1)), w, post.mean, post.sd)[:, 0]
    return mu_mean, mu_sd, mu_q, pi_q, tau_q, p_pos


def bayes_batch(
    Y,
    V,
    mask=None,
    *,
    tau_prior: str | TauPrior | Sequence[str | TauPrior] = "halfnormal",
    tau_scale: float = 0.5,
    mu_prior: tuple[float, float] | None = None,
    level: float = 95.0,
) -> pd.DataFrame:
    """Many fits at once: rows of ``Y``/``V`` (B, k) with an optional boolean ``mask``.

    ``tau_prior`` is one prior for all rows or a sequence of B priors (a prior-sensitivity grid).
    Returns one row per fit with ``k``, ``mu_mean``, ``mu_median``, ``mu_sd``, ``mu_ci_low``,
    ``mu_ci_high``, ``tau_median``, ``tau_ci_low``, ``tau_ci_high``, ``pi_low``, ``pi_high`` and
    ``p_mu_positive`` (central intervals). No Python loop runs over fits, except over quantiles
    of tau (a root on one Legendre polynomial each).

    Examples
    --------
    >>> y = np.array([[0.2, 0.5, 0.1], [0.2, 0.5, 0.1]]); v = np.full((2, 3), 0.04)
    >>> f = bayes_batch(y, v, tau_prior=["halfnormal", "halfcauchy"])
    >>> bool(np.isclose(f.mu_median[0], bayes_pool(y[0], v[0]).mu_median))
    True
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    V = np.atleast_2d(np.asarray(V, dtype=float))
    if Y.shape != V.shape:
        raise ValueError(f"Y and V have different shapes {Y.shape} and {V.shape}")
    M = np.ones(Y.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if M.shape != Y.shape:
        raise ValueError(f"mask has shape {M.shape}, Y has {Y.shape}")
    bad = np.argwhere(M & ~(np.isfinite(Y) & np.isfinite(V) & (V > 0)))
    if bad.size:
        r, c = bad[0]
        raise ValueError(f"non-finite yi or vi <= 0 at row {r}, column {c}")
    if np.any(M.sum(axis=1) == 0):
        raise ValueError(f"row {int(np.flatnonzero(M.sum(axis=1) == 0)[0])} has no studies")
    B = Y.shape[0]
    Y, V = np.where(M, Y, 0.0), np.where(M, V, 1.0)
    if isinstance(tau_prior, str | TauPrior):
        priors = [make_prior(tau_prior, tau_scale)] * B
    else:
        priors = [make_prior(p, tau_scale) for p in tau_prior]
        if len(priors) != B:
            raise ValueError(f"tau_prior: {len(priors)} priors for {B} rows")
    mu_prior = _check_mu_prior(mu_prior)
    lv = _check_level(level) / 100
    # chunks of rows keep the (rows, nodes, k) temporaries near _CHUNK_ELEMENTS floats
    step = max(1, _CHUNK_ELEMENTS // ((_N_COARSE + _NODES * (_PANELS + _TAIL_PANELS)) * Y.shape[1]))
    parts = [
        _batch_summaries(
            Y[i : i + step], V[i : i + step], M[i : i + step], priors[i : i + step], mu_prior, lv
        )
        for i in range(0, B, step)
    ]
    mu_mean, mu_sd, mu_q, pi_q, tau_q, p_pos = (
        np.concatenate([part[i] for part in parts]) for i in range(6)
    )
    return pd.DataFrame(
        {
            "k": M.sum(axis=1),
            "tau_prior": [p.label for p in priors],
            "mu_mean": mu_mean,
            "mu_median": mu_q[:, 1],
            "mu_sd": mu_sd,
            "mu_ci_low": mu_q[:, 0],
            "mu_ci_high": mu_q[:, 2],
            "tau_median": tau_q[:, 1],
            "tau_ci_low": tau_q[:, 0],
            "tau_ci_high": tau_q[:, 2],
            "pi_low": pi_q[:, 0],
            "pi_high": pi_q[:, 1],
            "p_mu_positive": p_pos,
        }
    )


#: Priors of the sensitivity table: the weakly informative half-normal and half-Cauchy priors
#: of Friede et al. (2017) / Roever (2020) at two scales, and the empirical priors.
SENSITIVITY_PRIORS: tuple[str | TauPrior, ...] = (
    TauPrior("halfnormal", scale=0.5),
    TauPrior("halfnormal", scale=1.0),
    TauPrior("halfcauchy", scale=0.5),
    TauPrior("halfcauchy", scale=1.0),
)


def prior_sensitivity(
    yi,
    vi=None,
    priors: Sequence[str | TauPrior] | None = None,
    *,
    measure: str | None = None,
    level: float = 95.0,
) -> pd.DataFrame:
    """The same data under several tau priors, one row per prior (one batched computation).

    ``yi`` may be a pooled result (anything with ``yi``, ``vi`` and ``measure``), with ``vi``
    left out. Default priors: :data:`SENSITIVITY_PRIORS`, then the empirical priors that match
    ``measure`` (Rhodes et al. for SMD, Turner et al. for OR) from :func:`empirical_priors`.

    Examples
    --------
    >>> t = prior_sensitivity([0.3, 0.6, 0.1], [0.05, 0.04, 0.06], measure="SMD")
    >>> len(t), t.index[0]
    (8, 'half-normal(scale = 0.5)')
    """
    if vi is None and hasattr(yi, "yi") and hasattr(yi, "vi"):
        yi, vi, measure = yi.yi, yi.vi, measure or getattr(yi, "measure", None)
    if vi is None:
        raise ValueError("prior_sensitivity needs vi (or a pooled result as its first argument)")
    y, v = check_inputs(yi, vi)
    if priors is None:
        fam = {"SMD": "SMD", "MD": None, "OR": "logOR"}.get(measure or "", None)
        table = _prior_table()
        extra = list(table.loc[table["measure"] == fam, "name"]) if fam else []
        priors = list(SENSITIVITY_PRIORS) + extra
    B = len(priors)
    f = bayes_batch(np.tile(y, (B, 1)), np.tile(v, (B, 1)), tau_prior=list(priors), level=level)
    return f.set_index("tau_prior")


def compare_cells(
    cells, *, tau_prior: str | TauPrior = "halfnormal", tau_scale: float = 0.5, level: float = 95.0
) -> pd.DataFrame:
    """Bayesian estimate beside the REML + Knapp-Hartung one for each pooled cell.

    Parameters
    ----------
    cells : mapping or sequence
        ``{name: (yi, vi)}``, ``{name: (yi, vi, measure)}`` or ``{name: pooled_result}`` (any
        object with ``yi``, ``vi`` and ``measure``, e.g. ``Analysis.results`` of
        :mod:`evidence.review`), or a sequence of ``(name, yi, vi[, measure])``.

    Returns
    -------
    DataFrame indexed by cell with ``k``, the frequentist ``reml_estimate``, ``reml_ci_low``,
    ``reml_ci_high``, ``reml_pi_low``, ``reml_pi_high``, the Bayesian ``bayes_median``,
    ``bayes_ci_low``, ``bayes_ci_high``, ``bayes_pi_low``, ``bayes_pi_high``, ``tau_median``,
    ``p_mu_positive`` and ``tau_prior`` (the prior named, for footnotes).

    Examples
    --------
    >>> t = compare_cells({"A": ([0.3, 0.6], [0.05, 0.04]), "B": ([0.1, 0.2, 0.4], [.1, .1, .1])})
    >>> list(t.index), int(t.loc["A", "k"])
    (['A', 'B'], 2)
    """
    from .pooling import pool

    items = cells.items() if hasattr(cells, "items") else ((c[0], c[1:]) for c in cells)
    rows = []
    for name, spec in items:
        if hasattr(spec, "yi") and hasattr(spec, "vi"):  # a pooled result
            yi, vi, measure = spec.yi, spec.vi, getattr(spec, "measure", None)
        else:
            yi, vi, *rest = spec
            measure = rest[0] if rest else None
        f = pool(yi, vi, method="REML", test="knha", level=level, measure=measure)
        b = bayes_pool(
            yi, vi, tau_prior=tau_prior, tau_scale=tau_scale, level=level, measure=measure
        )
        rows.append(
            {
                "cell": name,
                "measure": measure,
                "k": f.k,
                "reml_estimate": f.estimate,
                "reml_ci_low": f.ci_low,
                "reml_ci_high": f.ci_high,
                "reml_pi_low": f.pi_low,
                "reml_pi_high": f.pi_high,
                "bayes_median": b.mu_median,
                "bayes_ci_low": b.mu_ci_low,
                "bayes_ci_high": b.mu_ci_high,
                "bayes_pi_low": b.pi_low,
                "bayes_pi_high": b.pi_high,
                "tau_median": b.tau_median,
                "p_mu_positive": b.p_mu_positive,
                "tau_prior": b.prior.label,
            }
        )
    return pd.DataFrame(rows).set_index("cell")
