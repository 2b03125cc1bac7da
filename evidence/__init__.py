"""evidence: randomized-trial evidence on psychodynamic therapy, pooled at metafor parity.

The package has three wings, and the dependency runs one way (engine <- review <- site):

``evidence.meta``
    the meta-analysis engine, which knows nothing of this review: ``effects`` (yi, vi) ->
    ``pooling`` (models) -> ``results`` (frozen result objects) -> ``analyses`` (subgroups,
    regression, dependence, sensitivity, small-study tests), ``nma`` (networks), ``bayes``;
``evidence.plots``
    the figures (matplotlib is imported only when a figure is drawn);
``evidence.review``
    this review: its data and their validation (``data``, ``sources``, ``network_data``), what is
    pooled (``selection``), the wording, the report sections and the condition pages;
``evidence.site``
    ``evidence build``: executing the notebooks and rendering the static site.

``evidence.io`` (byte-stable, atomic files) is shared by every wing; ``evidence.cli`` is the
command line.
"""

from __future__ import annotations

import warnings
from importlib import import_module

__version__ = "0.1.0"

# name -> module; resolved on first use, so that ``import evidence`` (and the command line, which
# must answer Ctrl-C from its first moment) imports nothing heavy
_LAZY = {
    "effect_sizes": "evidence.meta.effects",
    "from_reported": "evidence.meta.effects",
    "pool": "evidence.meta.pooling",
    "pool_binary": "evidence.meta.pooling",
    "PoolResult": "evidence.meta.results",
    "BinaryPoolResult": "evidence.meta.results",
    "forest_plot": "evidence.plots",
    "funnel_plot": "evidence.plots",
    "forest_from_frame": "evidence.plots",
    **dict.fromkeys(
        (
            "subgroups",
            "meta_regression",
            "egger_test",
            "trim_and_fill",
            "rank_test",
            "pet_peese",
            "influence",
            "baujat",
            "gosh",
            "aggregate_effects",
            "rho_sensitivity",
            "three_level",
            "equivalence_test",
            "bucher",
            "adjust_pvalues",
        ),
        "evidence.meta.analyses",
    ),
    **dict.fromkeys(("network", "network_from_arms", "NetworkResult"), "evidence.meta.nma"),
    **dict.fromkeys(
        ("bayes_pool", "bayes_batch", "BayesResult", "prior_sensitivity"), "evidence.meta.bayes"
    ),
}

# subpackages and shared modules, reached as attributes (``ev.plots``, ``ev.review``)
_MODULES = ("meta", "plots", "review", "site", "io")

#: Module paths before the package was split into wings (issue 20), kept for one release:
#: ``ev.nma`` still works and warns with the new path.
_MOVED = {
    "effects": "evidence.meta.effects",
    "pooling": "evidence.meta.pooling",
    "results": "evidence.meta.results",
    "regression": "evidence.meta.regression",
    "dependence": "evidence.meta.dependence",
    "sensitivity": "evidence.meta.sensitivity",
    "bias": "evidence.meta.bias",
    "analyses": "evidence.meta.analyses",
    "methods": "evidence.meta.methods",
    "nma": "evidence.meta.nma",
    "bayes": "evidence.meta.bayes",
    "data": "evidence.review.data",
    "sources": "evidence.review.sources",
    "network_data": "evidence.review.network_data",
    "small_cells": "evidence.review.small_cells",
    "claims": "evidence.review.multiplicity",
    "bayes_report": "evidence.review.bayes_report",
    "network_report": "evidence.review.network_report",
    "pages": "evidence.review.pages",
    "tables": "evidence.review.tables",
    "report": "evidence.review",
    "build": "evidence.site.build",
    "plotting": "evidence.plots",
}

__all__ = [*_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in _MODULES:
        return import_module(f"evidence.{name}")
    if name in _MOVED:
        warnings.warn(
            f"evidence.{name} has moved to {_MOVED[name]}; the old path goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return import_module(_MOVED[name])
    raise AttributeError(f"module 'evidence' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_MODULES})
