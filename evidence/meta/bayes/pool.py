"""One Bayesian fit: :func:`bayes_pool` and the checks of its arguments.

The fitting stage of the Bayesian engine: it checks the data and the prior choices, computes the
quadrature posterior (:mod:`.posterior`), its summaries (:mod:`.marginals`, :mod:`.shrinkage`)
and returns a :class:`~evidence.meta.bayes.BayesResult`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..checks import check_level
from ..pooling import check_inputs
from .marginals import _check_interval, _mix_cdf, _mix_ppf, _tau_ppf
from .posterior import _cond, _finite_moment, _posterior
from .priors import TauPrior, make_prior
from .result import BayesResult
from .shrinkage import _study_moments

__all__ = ["bayes_pool"]


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
        Credible and prediction interval level in percent; a proportion such as 0.95 is read
        as 95% (:func:`evidence.meta.checks.check_level`, the rule of every engine function).
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
    level = check_level(level)
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
    theta_mean, theta_sd = _study_moments(post, y, v)
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
