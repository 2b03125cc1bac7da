"""Mixed-effects meta-regression (metafor ``rma(yi, vi, mods = ...)``), batched.

The engine fits a *batch* of weighted regressions at once, in the style of
:func:`evidence.meta.pooling.fit_batch`: effect sizes ``y`` and variances ``v`` of shape ``(B, k)``,
a boolean mask ``m`` choosing the studies of each row, and a design ``X`` of shape ``(B, k, p)``
(or ``(k, p)``, shared). Permutation tests are a batch of permuted designs; leave-one-out
diagnostics are a batch of masks.

Where each piece is:

``design``       :func:`design_matrix` (R's ``model.matrix``), moderator terms, ``btt`` choice
``fit``          the batched engine :func:`fit_regression_batch`: weighted least squares on
                 ``p x p`` blocks and the tau^2 estimators with moderators
``model``        the entry point :func:`meta_regression` and :class:`MetaRegressionResult`
                 (Wald tests per moderator, R^2, summaries)
``permutation``  permutation tests (metafor ``permutest``): :class:`PermutationTestResult`
"""

from __future__ import annotations

from .design import design_matrix
from .fit import fit_regression_batch
from .model import MetaRegressionResult, meta_regression
from .permutation import PermutationTestResult

__all__ = [
    "MetaRegressionResult",
    "PermutationTestResult",
    "meta_regression",
    "design_matrix",
    "fit_regression_batch",
]
