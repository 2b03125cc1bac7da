"""The meta-analysis engine: general, reusable, and ignorant of this review.

The pipeline, one module per stage: :mod:`~evidence.meta.effects` (yi, vi) ->
:mod:`~evidence.meta.pooling` (common- and random-effects models) -> :mod:`~evidence.meta.results`
(frozen result objects) -> :mod:`~evidence.meta.analyses` (subgroups, meta-regression, dependent
effects, influence, small-study tests, equivalence), plus :mod:`~evidence.meta.nma` (network
meta-analysis) and :mod:`~evidence.meta.bayes` (Bayesian random effects). Every estimator is
checked against R's metafor (or bayesmeta's model) by committed reference values.

Nothing here imports :mod:`evidence.review` or :mod:`evidence.site` (``tests/test_imports.py``).
"""
