"""Pooling: common-effect and random-effects models (stage 3: data -> effects -> **pooling**).

The engine works on a *batch* of meta-analyses at once: effect sizes ``y`` and variances ``v`` of
shape ``(B, k)`` with a boolean mask ``m`` that says which studies each row includes. A single fit
is a batch of one; leave-one-out and cumulative analyses are batches of ``k`` masks, so no Python
loop runs over studies (iterative estimators iterate on the batch axis).

tau^2 estimators, as metafor's ``rma.uni`` defines them (all floored at 0):

``DL``   DerSimonian-Laird (method of moments with inverse-variance weights)
``HE``   Hedges (method of moments with unit weights)
``HS``   Hunter-Schmidt
``SJ``   Sidik-Jonkman (one step from the unit-weight start, as metafor)
``PM``   Paule-Mandel (generalised Q equals k - 1)
``EB``   empirical Bayes (Morris); its estimating equation is the same as PM's
``ML``   maximum likelihood (the global maximiser over tau^2 >= 0, see :mod:`.estimators`)
``REML`` restricted maximum likelihood (likewise)
``FE``   common (fixed) effect: tau^2 = 0 (``CE`` and ``EE`` are accepted as aliases)

Where each piece is:

``checks``      input guards (:func:`check_inputs`, :func:`check_groups`, :func:`check_aligned`)
                and the named choices :data:`METHODS`, :data:`TESTS`, :data:`PI_RULES`
``estimators``  the tau^2 estimators, batched; the ML/REML global-maximum safeguard;
                :class:`ConvergenceWarning`, :class:`LocalMaximumWarning`
``fit``         the batch engine (:func:`fit_batch`, :func:`fit_masks`, :func:`chunks`): tests
                ``z``/``knha``/``adhoc``, heterogeneity, prediction-interval rules; :func:`pool`
``loo``         leave-one-out at large k (:func:`fit_leave_one_out`): the estimators on
                prefix/suffix sums, O(k) work per evaluation for all k fits
``profile``     Q-profile CI for tau^2 (:func:`q_profile`) and the profile likelihood
                (:func:`profile_likelihood`, :class:`ProfileResult`)
``binary``      :func:`pool_binary`: Mantel-Haenszel and Peto pooling of 2x2 tables
"""

from __future__ import annotations

from ..checks import check_level
from .binary import pool_binary
from .checks import METHODS, PI_RULES, TESTS, check_aligned, check_groups, check_inputs
from .estimators import ConvergenceWarning, LocalMaximumWarning
from .fit import chunks, fit_batch, fit_masks, pool
from .loo import fit_leave_one_out
from .profile import ProfileResult, profile_likelihood, q_profile

__all__ = [
    "METHODS",
    "TESTS",
    "PI_RULES",
    "ConvergenceWarning",
    "LocalMaximumWarning",
    "pool",
    "pool_binary",
    "fit_batch",
    "fit_masks",
    "fit_leave_one_out",
    "chunks",
    "q_profile",
    "ProfileResult",
    "check_inputs",
    "check_level",
    "check_groups",
    "check_aligned",
    "profile_likelihood",
]
