"""Bayesian random-effects meta-analysis, computed exactly by quadrature over tau.

The engine's Bayesian counterpart of :mod:`evidence.meta.pooling`. The normal-normal
hierarchical model of R's bayesmeta (Roever 2020, J Stat Softw 93(6))::

    y_i | theta_i ~ N(theta_i, v_i),   theta_i | mu, tau ~ N(mu, tau^2),
    mu ~ flat (or N(m0, s0^2)),        tau ~ a named prior.

Given tau, the posterior of mu is normal; integrating mu out leaves the one-dimensional marginal
posterior ``p(tau | y)``, integrated by Gauss-Legendre quadrature in ``log tau`` on a grid placed
per fit. Every marginal is then a mixture over tau: ``mu`` of ``N(m, s^2)``, a new trial's effect
(the predictive distribution) of ``N(m, s^2 + tau^2)``, and study i's shrunken effect of
``N(b y_i + (1 - b) m, b v_i + (1 - b)^2 s^2)`` with ``b = tau^2 / (v_i + tau^2)``. Against
``integrate()``/``uniroot()`` in R (rel. tol. 1e-12) all summaries agree to 1e-10 on the
reference cases, to 5e-9 on the edge cases (data 2000 apart, one study under every prior;
tests/test_bayes.py asks for 1e-5). Intervals are central by default;
``interval="shortest"`` gives bayesmeta's default.

Submodules, in pipeline order:

- :mod:`.priors`: priors on tau (:class:`TauPrior`, :func:`make_prior`, the named families
  :data:`TAU_PRIORS` and the empirical priors of ``priors.csv``, :func:`empirical_priors`).
- :mod:`.posterior`: the tau grid, the conditional moments of mu and the quadrature posterior
  (the formulas and the choice of grid are documented there).
- :mod:`.marginals`: CDFs, densities and quantiles of the marginals (mixtures of normals for mu
  and the predictive distribution, Legendre interpolants for tau), shortest intervals.
- :mod:`.shrinkage`: the shrunken study effects.
- :mod:`.bayes_factors`: bayesmeta's Bayes factors for tau = 0 and mu = 0 (need a proper
  normal prior on mu).
- :mod:`.result`: :class:`BayesResult` (summary, to_frame, _repr_html_, prob, shrinkage,
  densities, quantiles, Bayes factors).
- :mod:`.pool`: one fit, :func:`bayes_pool`.
- :mod:`.batch`: many fits in one array computation, :func:`bayes_batch`,
  :func:`prior_sensitivity` and :func:`compare_cells`.
"""

from __future__ import annotations

from .batch import SENSITIVITY_PRIORS as SENSITIVITY_PRIORS
from .batch import bayes_batch, compare_cells, prior_sensitivity
from .marginals import INTERVALS as INTERVALS
from .pool import bayes_pool
from .posterior import TAU_CEIL_REL as TAU_CEIL_REL
from .posterior import TAU_FLOOR_REL as TAU_FLOOR_REL
from .priors import TAU_PRIORS, TauPrior, empirical_priors
from .priors import make_prior as make_prior
from .result import BayesResult

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
