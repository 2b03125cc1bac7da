"""Network meta-analysis: contrast-based frequentist NMA at metafor parity.

The model is the one of R netmeta and of metafor's ``rma.mv`` NMA examples. Each row is one
contrast ``treat1`` vs ``treat2`` of one study (``yi`` = treat1 minus treat2); a study with ``a``
arms contributes ``a - 1`` linearly independent contrasts (usually against its baseline arm, but
any orientation will do). With ``d`` the effects of every treatment against the reference (the
*basic parameters*, ``d_reference = 0``)::

    y = X d + u + e,   e ~ N(0, V),   u ~ N(0, tau^2 R)

``X`` has +1 in the column of treat1 and -1 in the column of treat2 (the reference column
dropped), ``V`` is the within-study covariance (block diagonal by study) and ``R`` the
random-effects correlation: one heterogeneity variance for every comparison and consistency
within multi-arm studies, i.e. the random effect of "t1 minus t2" is ``theta_t1 - theta_t2`` with
independent arm effects of variance tau^2 / 2. So ``R`` has 1 on the diagonal and, for two
contrasts of one study, +1/2 when they share an arm on the same side (B-A and C-A: every pair of
contrasts against one baseline, metafor ``random = ~ comp | study, rho = 1/2``), -1/2 when the
shared arm is on opposite sides (B-A and A-C) and 0 when they share no arm (netmeta's
``B B' o E / 2``; given to metafor as ``random = ~ 1 | row, R = list(row = R)``).

Estimators of tau^2 (method strings recorded in the result):

``FE``   common effect: tau^2 = 0 (``CE`` accepted as an alias).
``REML`` restricted maximum likelihood: the global maximum over tau^2 >= 0 of the restricted
         log-likelihood ``-1/2 (log|M| + log|X' M^-1 X| + r' M^-1 r)``, ``M = V + tau^2 R``
         (metafor ``rma.mv(method = "REML")``). A grid over tau^2 (0 and 48 points up to 10^4
         times the mean sampling variance, extended upwards while the likelihood rises) locates
         the best bracket; the root of the score ``tr(P R) = r' M^-1 R M^-1 r`` in it is found to
         machine precision (GLS in closed form for every tau^2).
``DL``   the generalised DerSimonian-Laird estimator of netmeta (Jackson, White and Riley 2012;
         netmeta ``nma.ruecker``): ``tau^2 = max(0, (Q - df) / tr(P_0 R))`` with Q the
         common-effect Q, ``df = n - (T - 1)`` and ``P_0 = V^-1 - V^-1 X (X' V^-1 X)^-1 X' V^-1``.
         netmeta writes the denominator as ``tr((I - H) (B B' o E / 2) W)`` over all pairwise
         contrasts with Rucker's reduced weights; for covariances that derive from arm-level
         variances (as netmeta's do) the two are the same number.

Q is metafor's ``QE``: the generalised residual sum of squares of the common-effect fit, ``df`` =
number of contrasts minus (T - 1). Standard errors are the GLS ones at the estimated tau^2 (Wald
``z`` tests; ``test="t"`` uses t with ``n - (T - 1)`` df as ``rma.mv(test = "t")``); prediction
intervals add tau^2 to the variance of each estimate (metafor ``predict``).

Node-splitting (:meth:`NetworkResult.split`) is the indicator-moderator ("split") model fitted
with ``rma.mv`` in the style of the metafor NMA examples; the exact definition implemented (and
given to metafor in tools/make_reference_network.R) is this: for a comparison A vs B with
direct evidence, an indicator moderator is added that is +1 (-1) on every contrast with A as
treat1 (treat2) in a study that contains both A and B, so the direct A-vs-B evidence gets its
own parameter alpha (A's arm shifted by alpha in those studies; B and any other arm stay
consistent, as Dias et al. 2010 with B as the baseline of the split studies). The model is
refitted (tau^2 re-estimated with the same method): indirect = ``d_A - d_B``, direct =
``d_A - d_B + alpha``, and the test of their difference is the Wald test of alpha. Where the
indicator lies in the span of ``X`` there is no independent indirect evidence: direct = network
and indirect is NaN. Back-calculation (netmeta ``netsplit`` default) is not implemented.

Design-by-treatment interaction (:meth:`NetworkResult.inconsistency`, Higgins et al. 2012): each
design (the set of treatments of a study) gets its own treatment effects. Its residual Q is the
within-design heterogeneity; total Q minus within-design Q is the between-design
(inconsistency) Q. With random effects the model's own tau^2 is estimated and the interaction
terms are tested with a Wald test (metafor ``rma.mv`` with the interaction moderators, ``QM``
with ``btt`` on them).

P-scores: Rucker and Schwarzer (2015), as netmeta ``netrank``. League table: netmeta ``netleague``
layout (row treatment vs column treatment).

The package, one file per part:

``model``          the contrasts in within-study blocks, GLS at a given tau^2, the restricted
                   log-likelihood and its score, the tau^2 estimators and the fit
                   (``NETWORK_METHODS``, ``NETWORK_TESTS``).
``inputs``         validation at the boundary: contrast rows, treatment order and connectedness,
                   the within-study covariance.
``fit``            the entry points :func:`network` (contrasts) and :func:`network_from_arms`
                   (arm-level data, contrasts with their exact covariance).
``result``         :class:`NetworkResult`: effects vs the reference, summary, ``to_frame``,
                   ``_repr_html_`` and the plots (forwarded to :mod:`evidence.plots.network`).
``ranking``        league table and P-scores.
``split``          direct-evidence comparisons and node-splitting.
``inconsistency``  design-by-treatment interaction.
``contribution``   the aggregated hat matrix, the contribution matrix (the share of each
                   network estimate from each direct comparison: netmeta ``netcontrib``, CINeMA)
                   and the direct evidence proportions.
"""

from .fit import network, network_from_arms
from .model import NETWORK_METHODS, NETWORK_TESTS
from .result import NetworkResult

__all__ = ["NETWORK_METHODS", "NETWORK_TESTS", "NetworkResult", "network", "network_from_arms"]
