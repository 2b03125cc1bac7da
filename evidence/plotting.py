"""Former home of the figures; kept so that ``evidence.plotting`` imports keep working.

The figures live in :mod:`evidence.plots`: a table-layout layer (:mod:`evidence.plots.table`)
under every tabular figure, and one module per figure kind. New code should import from there.
"""

from __future__ import annotations

from .plots import RATIO_MEASURES, STYLE, forest_from_frame, forest_plot, funnel_plot

__all__ = ["RATIO_MEASURES", "STYLE", "forest_plot", "forest_from_frame", "funnel_plot"]
