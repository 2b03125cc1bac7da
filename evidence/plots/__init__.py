"""Figures (stage 5: data -> effects -> pooling -> results -> **plots**).

Every figure is a pure function of a result: it takes ``ax=None`` (a new figure sized to its
content) or an Axes to draw into, and returns the Axes. Styling happens only inside
:func:`matplotlib.style.context` (global rcParams are never changed) and matplotlib is imported
only when a function is called. Save figures with :func:`evidence.io.save_figure` for
byte-identical files.

Modules: :mod:`~evidence.plots.table` (the table layout every tabular figure uses, run by
``draw_table``; its parts in :mod:`~evidence.plots.table_parts`: rows, columns, further marks per
row; text measurement, wrapping and sizes in :mod:`~evidence.plots.table_layout`; drawing in
:mod:`~evidence.plots.table_draw`), :mod:`~evidence.plots.forest` (forest plots of pooled and
subgroup results; input checks in :mod:`~evidence.plots.forest_input`, rows and columns in
:mod:`~evidence.plots.forest_rows`), :mod:`~evidence.plots.sensitivity` (cumulative,
leave-one-out and any frame of rows, e.g. network estimates), :mod:`~evidence.plots.bayes`
(shrinkage and small-cell forests), :mod:`~evidence.plots.network` (network graph and forests),
:mod:`~evidence.plots.funnel`, :mod:`~evidence.plots.profile`, and the shared
:mod:`~evidence.plots.style`, :mod:`~evidence.plots.axis` and :mod:`~evidence.plots.text`.
Every forest (pooled, subgroup, sensitivity, network, Bayesian) is rows and columns drawn by
:func:`evidence.plots.table.draw_table`.
"""

from __future__ import annotations

from .forest import forest_plot
from .funnel import funnel_plot
from .sensitivity import forest_from_frame
from .style import RATIO_MEASURES, STYLE

__all__ = ["RATIO_MEASURES", "STYLE", "forest_plot", "forest_from_frame", "funnel_plot"]
