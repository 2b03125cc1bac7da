"""Measuring and layout of a table (the table-layout layer, part 2 of 3: where things go).

Column widths from their cells and headers, column positions left and right of the graphic,
wrapped labels and row heights, the value axis range and ticks (the rule is in the docstring of
:mod:`evidence.plots.table`), and the wrapped text blocks above and below the table with the
figure's vertical budget. All sizes are in inches, row positions in rows. Nothing is drawn here:
:mod:`evidence.plots.table_draw` draws what this module measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .axis import auto_range, fit_ticks, nice_limits
from .style import FONT_PT, NOTE_PT, SMALL_PT, TITLE_PT
from .table_parts import Mark, Row, Table
from .text import Measure

LABELLED = ("study", "group", "subtotal", "overall")  # rows whose label sits in the label column
POOLED = ("overall", "subtotal")  # rows drawn as a diamond
GAP = 0.12  # between columns (inches)
TIGHT_GAP = 0.05  # after the pieces of "est [lo, hi]"
PAD_PLOT = 0.15  # between the text columns and the graphic
MARGIN = 0.15  # around the figure
LINE_SMALL = 0.155  # line height of SMALL_PT text under the axis (inches)
LINE_NOTE = 0.135  # line height of the footnote
WIDE = 2.0  # pooled/prediction intervals wider than this many estimate spans are clipped
CLIPPED_NOTE = "Arrows: the interval continues past the axis limit."


@dataclass
class _Geometry:
    lab_w: float
    left_w: float
    right_w: float
    y_top: float
    y_bottom: float
    x0: float = 0.0
    x1: float = 1.0
    ticks: object = None
    clipped: int = 0  # intervals running past the axis limits (drawn with arrows)


def _weight(r: Row) -> str:
    return "bold" if r.bold else "normal"


def _column_widths(t: Table, meas: Measure) -> float:
    """Width of every column (numbers from their cells and headers); returns the label width."""
    labels = [meas(r.label, r.size, _weight(r)) for r in t.rows if r.kind in LABELLED]
    labels.append(meas(t.label_fit))
    lab_w = min(max(labels + [t.label_min]), t.label_width)
    for col in t.left + t.right:
        if col.kind == "rob":
            col.width = 0.3
            continue
        vals = [r.cells.get(col.key, "") for r in t.rows] + [col.header, col.fit]
        col.width = max([meas(v, FONT_PT, "bold") for v in vals] + [col.min_width])
    cols = {c.key: c for c in t.left + t.right}
    for sp in t.spans:
        span_cols = [cols[k] for k in sp.keys]
        need = meas(sp.text, FONT_PT, "bold")
        slack = 0.08 if sp.kind == "header" else GAP * (len(span_cols) - 1)
        have = sum(c.width for c in span_cols) + slack
        if need > have:
            span_cols[0].width += need - have
    return lab_w


def _column_positions(t: Table, lab_w: float) -> tuple[float, float]:
    """x of every column from its side's axes edge; returns the widths left and right."""
    x = -PAD_PLOT
    for col in reversed(t.left):
        col.x = x  # right edge
        x -= col.width + GAP
    x -= lab_w + GAP  # the label column, left-aligned at -left_w
    left_w = -x - GAP
    x = PAD_PLOT
    for col in t.right:
        x += col.width
        col.x = x  # right edge
        x += TIGHT_GAP if col.tight else GAP
    right_w = x - GAP
    for col in t.right:
        if col.kind == "rob":
            col.x -= col.width / 2
    return left_w, right_w


def _wrap_rows(t: Table, meas: Measure, lab_w: float, left_w: float) -> float:
    """Wrap labels (label column: 2 lines; text rows: the whole left side, 3 lines), set row
    heights and centres; returns the y of the last row's bottom."""
    note_w = left_w - PAD_PLOT  # note and PI rows have no left cells: up to the plot
    for r in t.rows:
        if r.kind in LABELLED:
            r.label = meas.wrap(r.label, lab_w, r.size, _weight(r), max_lines=2)
        elif r.kind in ("note", "pi"):
            r.label = meas.wrap(r.label, note_w, r.size, _weight(r), max_lines=3)
        nl = r.label.count("\n") + 1
        if nl > 1:
            r.height = max(r.height, 1.0 + 0.75 * (nl - 1) * r.size / FONT_PT)
    y = 0.0
    for r in t.rows:
        r.y = y + (r.height - 1) / 2
        y += r.height
    return y


def _value_range(t: Table, meas: Measure) -> tuple[float, float, np.ndarray]:
    """Axis limits and ticks (see the module docstring for the rule)."""
    g = t.graphic
    pooled = [r for r in t.rows if r.kind in POOLED]
    core = [r.est for r in t.rows if r.kind == "study"] + [g.null] + [r.est for r in pooled]
    if g.band is not None:
        core += list(g.band)
    core += list(g.cover)
    marks = _marks(t.rows)
    core += [m.est for m in marks]
    tr = np.log if g.log else (lambda v: np.asarray(v, float))
    est_span = max(float(np.ptp(tr(np.asarray(core, float)))), np.log(2) if g.log else 0.4)
    wide = {
        id(r)
        for r in t.rows
        if r.kind in ("pi", *POOLED) and not float(tr(r.hi) - tr(r.lo)) <= WIDE * est_span
    }
    core += [v for r in pooled if id(r) not in wide for v in (r.lo, r.hi)]
    ext = [r for r in t.rows if r.kind == "study" or (r.kind == "pi" and id(r) not in wide)]
    ext += marks
    lo, hi = auto_range(core, [r.lo for r in ext], [r.hi for r in ext], g.log)
    if g.xlim is not None:
        x0, x1 = (float(v) for v in g.xlim)
        if g.xticks is not None:
            return x0, x1, np.asarray(g.xticks, float)
        _, _, ticks = nice_limits(x0, x1, g.log)
        return x0, x1, ticks[(ticks >= x0 - 1e-12) & (ticks <= x1 + 1e-12)]
    x0, x1, ticks = fit_ticks(lo, hi, g.log, t.plot_width, meas)
    if g.xticks is not None:
        ticks = np.asarray(g.xticks, float)
    return x0, x1, ticks


def _marks(rows: list[Row]) -> list[Mark]:
    return [m for r in rows if r.kind == "study" for m in r.marks]


#: How far :attr:`Table.max_width` may narrow the plot and the label column (inches).
MIN_PLOT_WIDTH = 1.4
MIN_LABEL_WIDTH = 1.2


def _fit_width(t: Table, lab_w: float) -> tuple[float, float, float]:
    """The label width and the column extents once the plot, then the label column, gave
    way to :attr:`Table.max_width` (sets ``t.plot_width``)."""
    left_w, right_w = _column_positions(t, lab_w)
    if t.max_width is None:
        return lab_w, left_w, right_w
    excess = 2 * MARGIN + left_w + t.plot_width + right_w - t.max_width
    if excess > 0:
        plot = max(min(MIN_PLOT_WIDTH, t.plot_width), t.plot_width - excess)
        excess -= t.plot_width - plot
        t.plot_width = plot
    if excess > 0 and lab_w > MIN_LABEL_WIDTH:
        lab_w = max(MIN_LABEL_WIDTH, lab_w - excess)
        left_w, right_w = _column_positions(t, lab_w)
    return lab_w, left_w, right_w


def _layout(t: Table, meas: Measure) -> _Geometry:
    lab_w, left_w, right_w = _fit_width(t, _column_widths(t, meas))
    y = _wrap_rows(t, meas, lab_w, left_w)
    geo = _Geometry(lab_w, left_w, right_w, y_top=-0.6, y_bottom=y - 0.3)
    geo.x0, geo.x1, geo.ticks = _value_range(t, meas)
    spans = [(r.lo, r.hi) for r in t.rows if r.kind in ("study", "pi", *POOLED)]
    spans += [(m.lo, m.hi) for m in _marks(t.rows)]
    geo.clipped = sum(
        bool((np.isfinite(lo) and lo < geo.x0) or (np.isfinite(hi) and hi > geo.x1))
        for lo, hi in spans
    )
    return geo


@dataclass
class _Text:
    """The wrapped text blocks around the table and the figure's vertical budget (inches)."""

    plot_head: str
    title: str | None
    foot: list[tuple[str, str]]
    note: str
    head_h: float
    title_h: float
    axis_h: float
    bottom_h: float


def _texts(t: Table, meas: Measure, geo: _Geometry) -> _Text:
    table_w = geo.left_w + t.plot_width + geo.right_w
    plot_head = meas.wrap(t.graphic.header, t.plot_width, FONT_PT, "bold")
    # header rows above the axes (in row units above y_top): column headers sit on the rule,
    # group spans one row higher; a wrapped plot header grows upwards
    grouped = any(sp.kind == "group" for sp in t.spans)
    n_head_rows = max(2.2 if grouped else 1.0, 0.75 * (plot_head.count("\n") + 1) + 0.25)
    title = meas.wrap(t.title, table_w, TITLE_PT, "bold") if t.title else None
    foot = [(meas.wrap(s, table_w, SMALL_PT), g) for s, g in t.foot_lines]
    note = f"{t.footnote} {CLIPPED_NOTE}".strip() if geo.clipped else t.footnote
    note = meas.wrap(note, table_w, NOTE_PT)
    axis_h = 0.45 if t.favours else 0.3  # tick labels + favours labels
    foot_h = sum((s.count("\n") + 1) for s, _ in foot) * LINE_SMALL
    bottom_h = axis_h + 0.08 + foot_h + 0.08 + (note.count("\n") + 1) * LINE_NOTE
    return _Text(
        plot_head,
        title,
        foot,
        note,
        head_h=(n_head_rows + 0.15) * t.row_height,
        title_h=(title.count("\n") + 1) * 0.19 + 0.08 if title else 0.0,
        axis_h=axis_h,
        bottom_h=bottom_h,
    )
