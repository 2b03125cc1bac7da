"""Former home of the figures; kept so that ``evidence.plotting`` imports keep working.

The figures live in :mod:`evidence.plots` (a table-layout layer and one module per figure kind).
The underscored names below are the helpers of the former module under their old names, for
code written against it (``evidence.plots.network``, ``evidence.plots.bayes``); new figures
should build a :class:`evidence.plots.table.Table` instead.
"""

from __future__ import annotations

from .plots import RATIO_MEASURES, STYLE, forest_from_frame, forest_plot, funnel_plot
from .plots.axis import arrows as _arrows
from .plots.axis import auto_range as _auto_range
from .plots.axis import fit_ticks as _fit_ticks
from .plots.axis import nice_limits as _nice_limits
from .plots.axis import value_axis as _value_axis
from .plots.style import (  # noqa: F401
    DIAMOND,
    FONT_PT,
    GREY,
    INK,
    NOTE_PT,
    PI_FILL,
    SMALL_PT,
    SQUARE,
    SUB_DIAMOND,
)
from .plots.style import MEASURE_NAMES as _MEASURE_NAMES
from .plots.style import num as _num
from .plots.style import style as _style
from .plots.text import Measure as _Measure
from .plots.text import put as _put
from .plots.text import xin as _xin
from .plots.text import yin as _yin

__all__ = ["RATIO_MEASURES", "STYLE", "forest_plot", "forest_from_frame", "funnel_plot"]
_COMPAT = (_arrows, _auto_range, _fit_ticks, _nice_limits, _value_axis, _MEASURE_NAMES, _num)
_COMPAT += (_style, _Measure, _put, _xin, _yin)
