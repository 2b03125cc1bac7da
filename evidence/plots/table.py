"""The table layout every tabular figure uses: rows, columns, and a graphic column between them.

A figure such as a forest plot is described as a :class:`Table`: a list of :class:`Row` (kinds:
``study`` with an interval and a marker, ``subtotal`` and ``overall`` with a diamond, ``pi``
for a prediction interval, and text rows ``group``, ``note`` and ``blank``), text
:class:`Column` objects left and right of the graphic (the study label first, then numbers),
header :class:`Span` objects over several columns, and the :class:`Graphic` (the value axis).
:func:`draw_table` measures the text, wraps labels, sizes every column and the figure, and draws.
Sizes are in inches and row heights in rows, so that a figure's height follows its rows.

Layout rules (documented so that readers of a figure can rely on them):

* Study markers are squares with **area proportional to the weight** (the largest weight gets a
  square of ``MAX_MARKER_PT`` points a side; squares never shrink below ``MIN_MARKER_PT`` points a
  side so that a tiny weight stays visible; the interval line is always drawn), or, for rows that
  carry no weight (cumulative and leave-one-out frames), equal circles.
* A study row may carry further :class:`Mark` objects (another interval and marker, e.g. the
  observed estimate above the shrunken one), drawn ``offset`` rows from the row's centre; they
  count for the axis range and get arrows like the row's own interval.
* The axis range covers the estimates, the line of no effect, the band and the pooled intervals,
  extended by up to that span to show study and prediction intervals. A pooled or prediction
  interval more than ``WIDE`` (2) times as wide as that span (e.g. k = 2 under Knapp-Hartung,
  t with 1 df) does not widen the axis, so that it cannot squeeze every other row. Any interval
  running past the axis limits ends in an arrow at the limit, and the footnote says so.

Where each piece is: :mod:`evidence.plots.table_parts` holds the parts
(:class:`Mark`, :class:`Row`, :class:`Column`, :class:`Span`, :class:`Graphic`, :class:`Table`,
re-exported here), :mod:`evidence.plots.table_layout` the measuring and layout,
:mod:`evidence.plots.table_draw` the drawing; this module runs them (:func:`draw_table`,
:func:`draw_pages`).
"""

from __future__ import annotations

import copy
from dataclasses import replace

from .style import style
from .table_draw import _draw_cells, _draw_footer, _draw_graphic, _draw_headers, _new_axes
from .table_layout import _layout, _texts
from .table_parts import Column, Graphic, Mark, Row, Span, Table
from .text import Measure

__all__ = ["Mark", "Row", "Column", "Span", "Graphic", "Table", "draw_table", "draw_pages"]


def draw_table(t: Table, ax=None):
    """Lay out and draw ``t``; a new figure sized to the table when ``ax`` is None.

    ``ax`` is the axes of the graphic column; the text columns are drawn outside it (left and
    right, headers above, footer below). Returns the axes.

    Examples
    --------
    >>> rows = [Row("study", "A", {"est": "0.10"}, 0.1, -0.2, 0.4, 1.0, gid="study-0")]
    >>> t = Table(rows, Graphic(log=False, null=0.0, header="Effect"), right=[Column("est")])
    >>> ax = draw_table(t)
    >>> [x.get_text() for x in ax.texts if x.get_gid() == "study-0-est"]
    ['0.10']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    with style():
        meas = Measure()
        geo = _layout(t, meas)
        tx = _texts(t, meas, geo)
        if ax is None:
            ax = _new_axes(t, geo, tx)
        _draw_graphic(ax, t, geo)
        _draw_headers(ax, t, geo, tx.plot_head)
        _draw_cells(ax, t, geo)
        _draw_footer(ax, t, geo, tx)
    return ax


def _pages(rows: list[Row], per_page: int) -> list[list[Row]]:
    """Rows cut into pages of at most ``per_page`` rows; a group header never ends a page."""
    pages: list[list[Row]] = [[]]
    for r in rows:
        if len(pages[-1]) >= per_page:
            carry = [pages[-1].pop()] if pages[-1][-1].kind == "group" else []
            pages.append(carry)
        pages[-1].append(r)
    return [p for p in pages if p]


def draw_pages(t: Table, rows_per_page: int) -> list:
    """Draw ``t`` as several figures of at most ``rows_per_page`` rows each.

    Every page has the columns, widths and value axis of the whole table (so pages line up);
    the title says "page i of n"; the footer lines and footnote are on the last page.

    Examples
    --------
    >>> rows = [Row("study", f"S{i}", {}, 0.1 * i, -1.0, 1.0, 1.0) for i in range(5)]
    >>> axes = draw_pages(Table(rows, Graphic(log=False, null=0.0, header="x")), 2)
    >>> [len(a.texts) for a in axes], len({a.get_xlim() for a in axes})
    ([6, 6, 5], 1)
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if rows_per_page < 1:
        raise ValueError(f"rows_per_page must be at least 1; got {rows_per_page}")
    whole = copy.deepcopy(t)
    with style():
        geo = _layout(whole, Measure())
    for col in t.left + t.right:
        col.min_width = {c.key: c.width for c in whole.left + whole.right}[col.key]
    pages = _pages(t.rows, rows_per_page)
    graphic = replace(t.graphic, xlim=(geo.x0, geo.x1), xticks=geo.ticks)
    axes = []
    for i, rows in enumerate(pages):
        last = i == len(pages) - 1
        page = replace(
            copy.deepcopy(t),
            rows=copy.deepcopy(rows),
            graphic=graphic,
            label_min=min(geo.lab_w, t.label_width),
            title=f"{t.title or ''} (page {i + 1} of {len(pages)})".strip(),
            foot_lines=t.foot_lines if last else [],
            footnote=t.footnote if last else "Continued on the next page.",
        )
        axes.append(draw_table(page))
    return axes
