"""The protocol's rule for small cells: which cells get a Bayesian estimate, with which prior.

Where a pooled cell has fewer than :data:`SMALL_K` trial comparisons, the REML + Knapp-Hartung
interval (t with k - 1 df) is very wide and tau^2 is barely estimable, so the cell is also
analysed with a Bayesian normal-normal random-effects model (:func:`evidence.meta.bayes.bayes_pool`,
flat prior on the mean) with the prior on tau of :data:`RULE_PRIORS`. Why these priors, and how
the pages word the result, is in :mod:`evidence.review.bayes_report`; this module holds only the
rule, so that the forest plots (:mod:`evidence.review.output`) and the Bayesian report share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from evidence.meta.bayes import BayesResult, TauPrior, bayes_pool

__all__ = ["SMALL_K", "RULE_PRIORS", "rule_prior", "small_cell_fits"]

#: Cells with fewer trial comparisons than this get the Bayesian estimate as their headline.
SMALL_K = 5
#: The protocol's prior on tau per effect measure (see :mod:`evidence.review.bayes_report`).
RULE_PRIORS: dict[str, TauPrior] = {
    "SMD": TauPrior("halfnormal", scale=0.5),
    "OR": TauPrior("halfnormal", scale=0.5 * np.pi / np.sqrt(3)),
}


def rule_prior(measure: str) -> TauPrior:
    """The protocol's prior on tau for ``measure`` (``"SMD"`` or ``"OR"``).

    Examples
    --------
    >>> rule_prior("SMD").label
    'half-normal(scale = 0.5)'
    >>> rule_prior("OR").label
    'half-normal(scale = 0.9069)'
    """
    try:
        return RULE_PRIORS[measure]
    except KeyError:
        raise ValueError(
            f"measure {measure!r}: the Bayesian rule has priors for {list(RULE_PRIORS)} only"
        ) from None


def small_cell_fits(cells: Mapping[Any, Any], measure: str) -> dict[Any, BayesResult]:
    """The Bayesian fit of every cell with fewer than :data:`SMALL_K` trial comparisons.

    ``cells`` maps a cell name to a pooled result (anything with ``yi``, ``vi``, ``k`` and
    ``study_labels``); the result keeps the names of the small cells, in order.

    Examples
    --------
    >>> import evidence as ev
    >>> cells = {"CBT": ev.pool([0.1, 0.5], [0.04, 0.05]),
    ...          "waitlist": ev.pool([0.6, 0.8, 0.5, 0.9, 0.7], [0.05] * 5)}
    >>> fits = small_cell_fits(cells, "SMD")
    >>> list(fits), fits["CBT"].prior.label
    (['CBT'], 'half-normal(scale = 0.5)')
    """
    prior = rule_prior(measure)
    return {
        name: bayes_pool(r.yi, r.vi, tau_prior=prior, labels=r.study_labels, measure=measure)
        for name, r in cells.items()
        if r.k < SMALL_K
    }
