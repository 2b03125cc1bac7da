"""Priors on the heterogeneity SD tau: the named families and the empirical priors.

Part of the Bayesian engine's model specification (before any fit). ``tau_prior`` is one of
``"halfnormal"``, ``"halfcauchy"`` (scale ``tau_scale``), ``"halfstudent"`` (scale and
``tau_df``), ``"uniform"`` on ``tau_range``, and ``"lognormal"`` / ``"logt"`` *on tau^2*
(``tau_params = (location, scale)``, t with ``tau_df`` = 5 by default), the form of the empirical
priors of Turner et al. (2015, log odds ratios) and Rhodes et al. (2015, SMDs). Their published
parameters for mental-health outcomes are in ``evidence/meta/bayes/priors.csv`` (see
:func:`empirical_priors`; each row names its source), usable by name:
``tau_prior="rhodes_mental_nonpharm"``. :func:`make_prior` turns
:func:`~evidence.meta.bayes.bayes_pool`'s arguments into a :class:`TauPrior`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

__all__ = ["TAU_PRIORS", "TauPrior", "empirical_priors", "make_prior"]

TAU_PRIORS = ("halfnormal", "halfcauchy", "halfstudent", "uniform", "lognormal", "logt")
_PRIORS_CSV = Path(__file__).with_name("priors.csv")


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
        f = self.family
        if f not in TAU_PRIORS:
            raise ValueError(f"tau_prior: unknown family {f!r}; choose {TAU_PRIORS}")
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"tau_prior {f}: scale must be positive and finite, got {self.scale}")
        if not np.isfinite(self.location):
            raise ValueError(f"tau_prior {f}: location must be finite, got {self.location}")
        if f in ("halfstudent", "logt") and not (
            self.df is not None and np.isfinite(self.df) and self.df > 0
        ):
            limit = "halfnormal" if f == "halfstudent" else "lognormal"
            hint = f" (for the normal limit, df = inf, use {limit!r})" if self.df == np.inf else ""
            raise ValueError(
                f"tau_prior {f}: df (tau_df) must be positive and finite, got {self.df}{hint}"
            )
        if f == "uniform" and not (0 <= self.lower < self.upper < np.inf):
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

    def sf(self, tau: np.ndarray) -> np.ndarray:
        """Prior survival function P(T > tau), accurate far into the tail (no 1 - cdf)."""
        tau = np.asarray(tau, dtype=float)
        f, s = self.family, self.scale
        t = np.maximum(tau, 0.0)
        with np.errstate(divide="ignore"):
            if f == "halfnormal":
                return special.erfc(t / (s * np.sqrt(2)))
            if f == "halfcauchy":
                return 2 / np.pi * np.arctan(s / t)
            if f == "halfstudent":
                return 2 * special.stdtr(self.df, -t / s)
            if f == "uniform":
                return np.clip((self.upper - tau) / (self.upper - self.lower), 0.0, 1.0)
            z = self._z(t)
            return special.ndtr(-z) if f == "lognormal" else special.stdtr(self.df, -z)

    def isf(self, q: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`sf`: the tau with prior mass ``q`` above it."""
        q = np.asarray(q, dtype=float)
        f, s = self.family, self.scale
        with np.errstate(divide="ignore", over="ignore"):
            if f == "halfnormal":
                return s * np.sqrt(2) * special.erfcinv(q)
            if f == "halfcauchy":
                return s / np.tan(np.pi * q / 2)
            if f == "halfstudent":
                return -s * special.stdtrit(self.df, q / 2)
            if f == "uniform":
                return self.upper - q * (self.upper - self.lower)
            z = special.ndtri(q) if f == "lognormal" else special.stdtrit(self.df, q)
            return np.exp((self.location - s * z) / 2)

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

    @property
    def support_high(self) -> float:
        return self.upper if self.family == "uniform" else np.inf


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
    """The empirical heterogeneity priors in ``priors.csv``, one row each, with source.

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
        lower, upper = _numbers("tau_range", tau_range, name, "(lower, upper) of tau")
        return TauPrior("uniform", lower=lower, upper=upper)
    df = None if tau_df is None else _numbers("tau_df", tau_df, name, "degrees of freedom")[0]
    if name in ("lognormal", "logt"):
        if tau_params is None:
            raise ValueError(f"tau_prior {name!r} needs tau_params=(location, scale) of log tau^2")
        loc, scale = _numbers("tau_params", tau_params, name, "(location, scale) of log(tau^2)")
        df = (5.0 if df is None else df) if name == "logt" else None
        return TauPrior(name, location=loc, scale=scale, df=df)
    if name == "halfstudent" and df is None:
        raise ValueError("tau_prior 'halfstudent' needs tau_df")
    scale = _numbers("tau_scale", tau_scale, name, "scale")[0]
    return TauPrior(name, scale=scale, df=df)


def _numbers(arg: str, values, prior: str, meaning: str) -> list[float]:
    """``values`` as floats: a pair when ``meaning`` names one ("(a, b)"), else one number."""
    n = 2 if meaning.startswith("(") else 1
    try:
        out = [float(x) for x in values] if n == 2 else [float(values)]
    except (TypeError, ValueError):
        out = None
    if out is None or len(out) != n:
        what = f"{n} numbers {meaning}" if n == 2 else f"one number ({meaning})"
        raise ValueError(f"tau_prior {prior!r}: {arg} takes {what}; got {values!r}")
    return out
