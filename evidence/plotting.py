"""Former home of the figures; kept so that ``evidence.plotting`` imports keep working.

The figures live in :mod:`evidence.plots` (a table-layout layer and one module per figure kind).
"""

from __future__ import annotations

from .plots import RATIO_MEASURES, STYLE, forest_from_frame, forest_plot, funnel_plot
from .plots.style import GREY, INK, NOTE_PT, SQUARE  # noqa: F401  (used by plots.network)
from .plots.style import style as _style  # noqa: F401

__all__ = ["RATIO_MEASURES", "STYLE", "forest_plot", "forest_from_frame", "funnel_plot"]
