"""Helpers the notebooks call (stage 6: ... -> results -> plots -> **report**).

The notebooks contain no statistics of their own. The report is split by what it does, with the
data flowing one way:

* :mod:`~evidence.review.vocabulary`: comparator classes, condition groups, readable names;
* :mod:`~evidence.review.selection`: selecting and aggregating outcome rows into one effect per
  trial comparison (dependent effects are never pooled as if independent);
* :mod:`~evidence.review.analysis`: the analyses of one selection (:class:`Analysis`);
  :mod:`~evidence.review.condition`: those of the headline and of one condition page, and which
  outcome rows they pool; :mod:`~evidence.review.followups`: the same under other choices
  (rho, classification, ...);
* :mod:`~evidence.review.wording`: the plain-language statements, written from the numbers;
* :mod:`~evidence.review.output`: figures and tables written byte-stably;
* :mod:`~evidence.review.display`: the notebook sections, one call each.

Every public name stays importable from ``evidence.review``. ``Analysis.forest()`` and
``Analysis.statements()`` are registered here, so that the analysis layer does not import the
layers that present it.
"""

from __future__ import annotations

from .analysis import Analysis, analyse
from .condition import (
    ConditionAnalyses,
    build_analyses,
    condition_analyses,
    headline,
    row_accounting,
    trial_effects,
)
from .display import (
    show_comparisons,
    show_conclusion,
    show_forests,
    show_introduction,
    show_moderators,
    show_pooled,
    show_scenarios,
    show_sections,
    show_sensitivity,
    show_small_study,
)
from .followups import (
    pdt_vs_cbt_all_outcomes,
    reference_comparison,
    rho_sensitivity,
    sensitivity_scenarios,
    steinert_equivalence,
)
from .output import (
    announce_outputs,
    forest,
    output_dir,
    output_root,
    save_plot,
    save_table,
    show_items,
)
from .selection import (
    SENSITIVITY_SCENARIOS,
    comparison_effects,
    dataset_profile,
    load_published,
    pooled_rows,
    select_effects,
)
from .vocabulary import (
    COMPARATOR_FAMILIES,
    COMPARATOR_NAMES,
    COMPARATOR_ORDER,
    CONDITION_GROUPS,
    CONDITION_NAMES,
    EFFECT_COLUMNS,
    SECONDARY_FAMILIES,
    event_display,
)
from .wording import (
    METHODS_TEXT,
    accounting_text,
    conclusion,
    describe,
    overview_text,
    statements,
)

Analysis.forest = forest  # one-call methods, registered (see the module docstring)
Analysis.statements = statements

__all__ = [
    "COMPARATOR_ORDER",
    "COMPARATOR_NAMES",
    "COMPARATOR_FAMILIES",
    "SECONDARY_FAMILIES",
    "CONDITION_NAMES",
    "CONDITION_GROUPS",
    "EFFECT_COLUMNS",
    "select_effects",
    "comparison_effects",
    "dataset_profile",
    "SENSITIVITY_SCENARIOS",
    "load_published",
    "pooled_rows",
    "Analysis",
    "analyse",
    "ConditionAnalyses",
    "headline",
    "condition_analyses",
    "build_analyses",
    "row_accounting",
    "trial_effects",
    "reference_comparison",
    "rho_sensitivity",
    "sensitivity_scenarios",
    "pdt_vs_cbt_all_outcomes",
    "steinert_equivalence",
    "METHODS_TEXT",
    "overview_text",
    "conclusion",
    "describe",
    "statements",
    "event_display",
    "accounting_text",
    "output_root",
    "announce_outputs",
    "output_dir",
    "save_table",
    "save_plot",
    "forest",
    "show_introduction",
    "show_items",
    "show_sections",
    "show_scenarios",
    "show_conclusion",
    "show_comparisons",
    "show_forests",
    "show_pooled",
    "show_sensitivity",
    "show_small_study",
    "show_moderators",
]
