"""Bayes factors for tau = 0 and mu = 0, as bayesmeta defines them.

A summary of a fitted :class:`~evidence.meta.bayes.BayesResult`. They need proper priors on tau
and on mu, so they are NaN with a flat mu prior: ``bf_tau0 = L(tau = 0) / p(y)`` and
``bf_mu0 = p(y | mu = 0) / p(y)`` where ``p(y) = int L(tau) p(tau) dtau`` is the marginal
likelihood and ``p(y | mu = 0) = int prod N(y_i; 0, v_i + tau^2) p(tau) dtau``. Values below 1
favour the model with heterogeneity (``bf_tau0``) or with an effect (``bf_mu0``). Minimum Bayes
factors replace the integral over the alternative by its maximum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from .posterior import _LOG2PI, TAU_CEIL_REL, TAU_FLOOR_REL, _cond, _grid, _logprior, _logsumexp


def _bayes_factors(res) -> pd.DataFrame:
    """Actual and minimum Bayes factors of a BayesResult (see ``BayesResult.bayes_factors``)."""
    y, v, m = res._args()
    prior = [res.prior]
    lo = np.array([max(res.prior.support_low, TAU_FLOOR_REL * np.sqrt(res.vi.min()))])
    hi = np.array([float(res.prior.ppf(1 - 1e-14))])
    hi = np.minimum(hi, TAU_CEIL_REL * (np.sqrt(res.vi.max()) + np.ptp(res.yi)))

    def log_p_mu(mu):  # log p(y | mu) = log int prod N(y; mu, v + t^2) p(t) dt
        def loglik(t):
            s2 = v[:, None, :] + t[:, :, None] ** 2
            return -0.5 * (_LOG2PI + np.log(s2) + (y[:, None, :] - mu) ** 2 / s2).sum(axis=2)

        tau, logw, _ = _grid(lambda t: _logprior(prior, t) + loglik(t), lo, hi)
        parts = list(logw[0])
        if res.prior.support_low == 0:  # prior mass below the grid, likelihood as at 0
            with np.errstate(divide="ignore"):
                parts.append(np.log(res.prior.cdf(lo[0])) + loglik(np.zeros((1, 1)))[0, 0])
        return float(_logsumexp(np.array(parts)))

    lmu0 = log_p_mu(0.0)
    s = (res.mu_ci_high - res.mu_ci_low) / 4  # exists even where Var(mu) does not
    opt = optimize.minimize_scalar(
        lambda mu: -log_p_mu(mu), bracket=(res.mu_median - s, res.mu_median + s)
    )
    min_mu0 = np.exp(lmu0 + opt.fun)
    actual_mu0 = np.exp(lmu0 - res.log_marginal_likelihood) if res.mu_prior else np.nan
    min_tau0 = np.nan
    if res.mu_prior is not None:

        def nll(x):
            return -float(_cond(y, v, m, np.array([[np.exp(x)]]), res.mu_prior)[2][0, 0])

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
        {"tau=0": [res.bf_tau0, min_tau0], "mu=0": [actual_mu0, min_mu0]},
        index=pd.Index(["actual", "minimum"], name="Bayes factor"),
    )
