"""The result of a Bayesian fit: :class:`BayesResult`, its distributions and its output.

The result stage of the Bayesian engine (what :func:`~evidence.meta.bayes.bayes_pool` returns):
posterior summaries of mu, tau, the predictive distribution and the shrunken study effects; the
marginals' ``cdf``/``pdf``/``ppf``, ``prob`` and intervals (computed by :mod:`.marginals` and
:mod:`.shrinkage`); Bayes factors (:mod:`.bayes_factors`); ``summary``, ``to_frame``,
``_repr_html_`` and the shrinkage plot.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..checks import check_level
from .bayes_factors import _bayes_factors
from .marginals import (
    _check_interval,
    _mix_cdf,
    _mix_pdf,
    _mix_ppf,
    _shortest,
    _tau_cdf,
    _tau_pdf,
    _tau_ppf,
)
from .posterior import _Post
from .priors import TauPrior
from .shrinkage import _components, _shrinkage_table, _study_quantiles

__all__ = ["BayesResult"]


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
        return _study_quantiles(self)

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
        >>> from evidence.meta.bayes import bayes_pool
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
        >>> from evidence.meta.bayes import bayes_pool
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
        probability of equivalence within margin m (see :meth:`prob_within`).

        Examples
        --------
        >>> from evidence.meta.bayes import bayes_pool
        >>> r = bayes_pool([0.2, 0.5, 0.1], [0.04, 0.05, 0.03])
        >>> round(r.prob(0), 3) == round(r.p_mu_positive, 3)
        True
        """
        lo = 0.0 if not np.isfinite(lower) else float(self.cdf(lower, of)[0])
        hi = 1.0 if not np.isfinite(upper) else float(self.cdf(upper, of)[0])
        return max(0.0, hi - lo)

    def prob_within(self, margin: float) -> float:
        """P(-margin < mu < margin): posterior probability that |mu| is below ``margin``.

        The answer to an "as good as" question: the probability that the mean effect lies
        within the equivalence margin (on the analysis scale: log OR for odds ratios). It is
        the difference of two values of the posterior CDF of mu (bayesmeta's ``pposterior``).

        Parameters
        ----------
        margin : float
            Positive half-width of the equivalence region, on the analysis scale.

        Returns
        -------
        float
            A probability in [0, 1].

        Examples
        --------
        >>> from evidence.meta.bayes import bayes_pool
        >>> r = bayes_pool([0.02, -0.05, 0.1], [0.01, 0.01, 0.01])
        >>> round(r.prob_within(0.25), 3)
        0.938
        >>> r.prob_within(0.25) == r.prob(-0.25, 0.25)
        True
        >>> r.prob_within(0)
        Traceback (most recent call last):
        ...
        ValueError: margin must be a positive finite number; got 0
        """
        m = float(margin)
        if not (np.isfinite(m) and m > 0):
            raise ValueError(f"margin must be a positive finite number; got {margin!r}")
        return self.prob(-m, m)

    def prob_equivalent(self, margin: float) -> float:
        """P(|mu| < margin); the same as :meth:`prob_within`."""
        return self.prob_within(margin)

    def interval_of(
        self, of: str | int = "mu", level: float | None = None, interval: str | None = None
    ) -> tuple[float, float]:
        """Credible (or prediction) interval of any marginal at ``level`` percent (or 0.95)."""
        of = self._check_of(of)
        lv = (self.level if level is None else check_level(level)) / 100
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
        return _bayes_factors(self)

    # ---- output -------------------------------------------------------------------------
    def shrinkage(self) -> pd.DataFrame:
        """Observed and shrunken study effects, one row per study (bayesmeta ``$theta``)."""
        return _shrinkage_table(self)

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
