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

from .posterior import (
    _LOG2PI,
    TAU_CEIL_REL,
    _cond,
    _data_scale,
    _logprior,
    _logsumexp,
    _prior_end,
    _tau_grid,
)


def _bayes_factors(res) -> pd.DataFrame:
    """Actual and minimum Bayes factors of a BayesResult (see ``BayesResult.bayes_factors``)."""
    y, v, m = res._args()
    prior = [res.prior]
    lo = res._post.floor
    hi = _prior_end(prior, _data_scale(y, v, m), lo)
    k = res.k
    # p(y | mu, tau) tau^k rises to (2 pi)^(-k/2) (posterior module's bound, with j = k)
    j, log_ginf = np.array([k]), np.array([-0.5 * k * _LOG2PI])

    def log_p_mu(mu):  # log p(y | mu) = log int prod N(y; mu, v + t^2) p(t) dt
        def loglik(t):
            s2 = v[:, None, :] + t[:, :, None] ** 2
            return -0.5 * (_LOG2PI + np.log(s2) + (y[:, None, :] - mu) ** 2 / s2).sum(axis=2)

        with np.errstate(divide="ignore"):  # prior mass below the grid, likelihood as at 0
            atom = np.log(res.prior.cdf(lo)) + loglik(np.zeros((1, 1)))[:, 0]
        if res.prior.support_low > 0:
            atom = np.full(1, -np.inf)
        scale = np.sqrt(v.max()) + np.abs(y - mu).max(axis=1)  # the data scale about mu
        reach = (scale, TAU_CEIL_REL * scale)
        _, logw, _, _ = _tau_grid(
            lambda rows: lambda t: _logprior(prior, t) + loglik(t),
            lo,
            hi,
            reach,
            prior,
            j,
            log_ginf,
            atom,
        )
        return float(_logsumexp(np.append(logw[0], atom)))

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
        # L(tau) <= g_inf tau^-k: beyond t_max = (g_inf / L(0))^(1/k) it stays below L(0)
        t_max = np.exp(min((log_ginf[0] - l0) / k, 700.0))
        top = np.clip(t_max, hi[0], TAU_CEIL_REL * _data_scale(y, v, m, res.mu_prior)[0])
        if res.prior.family == "uniform":
            top = min(top, res.prior.upper)
        xs = np.linspace(np.log(lo[0]), np.log(max(top, hi[0])), 400)
        best = int(np.argmin([nll(x) for x in xs]))
        ref = optimize.minimize_scalar(
            nll,
            bounds=(xs[max(best - 1, 0)], xs[min(best + 1, 399)]),
            method="bounded",
            options={"xatol": 1e-10},
        )
        lmax = max(l0, -nll(xs[best]), -ref.fun)
        min_tau0 = float(np.exp(l0 - lmax))
    return pd.DataFrame(
        {"tau=0": [res.bf_tau0, min_tau0], "mu=0": [actual_mu0, min_mu0]},
        index=pd.Index(["actual", "minimum"], name="Bayes factor"),
    )
