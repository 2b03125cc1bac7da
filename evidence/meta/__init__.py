"""The meta-analysis engine: general, reusable, and ignorant of this review.

The pipeline, one module per stage: :mod:`~evidence.meta.effects` (yi, vi) ->
:mod:`~evidence.meta.pooling` (common- and random-effects models) -> :mod:`~evidence.meta.results`
(frozen result objects) -> :mod:`~evidence.meta.analyses` (subgroups, meta-regression, dependent
effects, influence, small-study tests, equivalence), plus :mod:`~evidence.meta.nma` (network
meta-analysis) and :mod:`~evidence.meta.bayes` (Bayesian random effects). Every estimator is
checked against R's metafor (or bayesmeta's model) by committed reference values.

Importing the package registers the one-call methods of the results
(``res.leave_one_out()``, ``res.forest_plot()``, :mod:`~evidence.meta.methods`). Nothing here
imports :mod:`evidence.review` or :mod:`evidence.site` (``tests/test_imports.py``).
"""

from . import methods  # noqa: F401  (registers the one-call methods on the result classes)
