"""Analyses beyond the pooled estimate (stage 5: ... -> results -> **analyses**).

The public entry table: every analysis is importable from here (``evidence.subgroups`` and the
other top-level names resolve to this module). Each is checked against R metafor
(``tests/test_analyses*.py``); the module that holds it is in parentheses:

========================  ====================================================================
subgroups                 separate or common tau^2 per subgroup, test for subgroup differences
                          (``subgroups``)
meta_regression           mixed-effects meta-regression, permutation test (``regression``)
aggregate_effects         one effect per trial under correlation rho (``dependence``)
rho_sensitivity           the pooled estimate over a grid of rho (``dependence``)
three_level               effects within trials by REML, ``rma.mv`` (``dependence``)
influence, baujat, gosh   case deletion, Baujat plot data, GOSH (``sensitivity``)
egger_test, rank_test     small-study effects: regression and rank tests (``bias``)
trim_and_fill, pet_peese  bias-adjusted estimates (``bias``)
equivalence_test          TOST on the pooled effect, with non-inferiority (``comparisons``)
bucher                    adjusted indirect comparison, with a consistency check
                          (``comparisons``)
adjust_pvalues            Holm, Benjamini-Hochberg or Bonferroni adjustment (``comparisons``)
========================  ====================================================================
"""

from __future__ import annotations

from .bias import (
    EggerResult,
    PetPeeseResult,
    RankTestResult,
    TrimFillResult,
    egger_test,
    pet_peese,
    rank_test,
    trim_and_fill,
)
from .comparisons import (
    ADJUST_METHODS,  # noqa: F401  (named choices, imported from here by the review)
    ADJUST_NAMES,  # noqa: F401
    EquivalenceResult,
    IndirectResult,
    adjust_pvalues,
    bucher,
    equivalence_test,
)
from .dependence import (
    ThreeLevelResult,
    aggregate_effects,
    rho_sensitivity,
    three_level,
)
from .regression import MetaRegressionResult, PermutationTestResult, meta_regression
from .sensitivity import GoshResult, InfluenceResult, baujat, gosh, influence
from .subgroups import TAU2_RULES, SubgroupResult, subgroups  # noqa: F401  (TAU2_RULES)

__all__ = [
    "subgroups",
    "SubgroupResult",
    "meta_regression",
    "MetaRegressionResult",
    "PermutationTestResult",
    "aggregate_effects",
    "rho_sensitivity",
    "three_level",
    "adjust_pvalues",
    "ThreeLevelResult",
    "influence",
    "InfluenceResult",
    "baujat",
    "gosh",
    "GoshResult",
    "egger_test",
    "EggerResult",
    "rank_test",
    "RankTestResult",
    "trim_and_fill",
    "TrimFillResult",
    "pet_peese",
    "PetPeeseResult",
    "equivalence_test",
    "EquivalenceResult",
    "bucher",
    "IndirectResult",
]
