"""evidence: randomized-trial evidence on psychodynamic therapy, pooled at metafor parity.

The pipeline reads as the domain: ``data`` (load, validate) -> ``effects`` (yi, vi) ->
``pooling`` (models) -> ``results`` (frozen result objects) -> ``plots``. Plotting functions
import matplotlib only when called.
"""

from __future__ import annotations

from importlib import import_module

from . import methods  # noqa: F401  (registers the one-call methods on the results)
from .effects import effect_sizes, from_reported
from .pooling import pool, pool_binary
from .results import BinaryPoolResult, PoolResult

__version__ = "0.1.0"

# name -> submodule; resolved on first use so that importing evidence stays light
_LAZY = {
    "forest_plot": "plots",
    "funnel_plot": "plots",
    "subgroups": "analyses",
    "meta_regression": "analyses",
    "egger_test": "analyses",
    "trim_and_fill": "analyses",
    "rank_test": "analyses",
    "pet_peese": "analyses",
    "influence": "analyses",
    "baujat": "analyses",
    "gosh": "analyses",
    "aggregate_effects": "analyses",
    "rho_sensitivity": "analyses",
    "three_level": "analyses",
    "equivalence_test": "analyses",
    "bucher": "analyses",
    "adjust_pvalues": "analyses",
    "forest_from_frame": "plots",
    "network": "nma",
    "network_from_arms": "nma",
    "NetworkResult": "nma",
    "bayes_pool": "bayes",
    "bayes_batch": "bayes",
    "BayesResult": "bayes",
    "prior_sensitivity": "bayes",
}

__all__ = [
    "effect_sizes",
    "from_reported",
    "pool",
    "pool_binary",
    "PoolResult",
    "BinaryPoolResult",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    if name in ("data", "sources", "io", "plots", "plotting", "analyses", "nma", "bayes"):
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'evidence' has no attribute {name!r}")
