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
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field, replace

import numpy as np

from .axis import arrows, auto_range, fit_ticks, nice_limits, value_axis
from .style import (
    BAND,
    DIAMOND,
    FONT_PT,
    GREY,
    INK,
    MAX_MARKER_PT,
    MIN_MARKER_PT,
    NOTE_PT,
    PI_FILL,
    SMALL_PT,
    SQUARE,
    SUB_DIAMOND,
    TITLE_PT,
    style,
)
from .text import Measure, put, xin, yin

__all__ = ["Mark", "Row", "Column", "Span", "Graphic", "Table", "draw_table", "draw_pages"]

ROB_COLOURS = {"low": "#2ca02c", "some": "#f2c500", "high": "#c0392b"}
ROB_SYMBOLS = {"low": "+", "some": "!", "high": "\u2212"}

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


@dataclass(frozen=True)
class Mark:
    """A further interval and marker in a study row, ``offset`` rows below the row's centre
    (negative: above). Marks of one ``gid`` are drawn as "<gid>-cis" and "<gid>-estimates":
    open squares when ``hollow``, else filled circles, in ``colour``."""

    est: float
    lo: float
    hi: float
    offset: float = 0.0
    gid: str = "marks"
    colour: str = GREY
    hollow: bool = True


@dataclass
class Row:
    """One row of a table; ``est``, ``lo``, ``hi`` on the display scale."""

    kind: str  # study, group, subtotal, overall, pi, note, blank
    label: str = ""
    cells: dict[str, str] = field(default_factory=dict)
    est: float = np.nan
    lo: float = np.nan
    hi: float = np.nan
    weight: float = np.nan
    rob: str | None = None
    gid: str = ""
    height: float = 1.0
    bold: bool = False
    size: float = FONT_PT
    label_gid: str | None = None  # default: "<gid>-label" (text rows: "<gid>")
    offset: float = 0.0  # of the row's own interval and marker from its centre (rows)
    hollow: bool = False  # a pooled row's diamond drawn white (e.g. a Bayesian estimate)
    marks: tuple[Mark, ...] = ()  # further intervals and markers (study rows)
    y: float = 0.0


@dataclass
class Column:
    """A text column: ``numbers`` (right-aligned cells) or ``rob`` (risk-of-bias symbols)."""

    key: str
    header: str = ""
    align: str = "right"
    kind: str = "numbers"
    fit: str = ""  # text the column must be wide enough for (not drawn)
    colour: str = INK
    tight: bool = False  # small gap after it (pieces of "est [lo, hi]")
    min_width: float = 0.0
    width: float = 0.0
    x: float = 0.0  # inches from the axes edge of its side (right edge; centre for rob)


@dataclass
class Span:
    """A header over consecutive columns: ``header`` (on the header row, right-aligned over the
    last column) or ``group`` (centred one row higher, with a rule under it)."""

    keys: tuple[str, ...]
    text: str
    kind: str = "header"


@dataclass
class Graphic:
    """The value axis between the left and right columns."""

    log: bool
    null: float
    header: str
    band: tuple[float, float] | None = None
    ref: float | None = None  # dashed vertical line (the pooled estimate)
    cover: tuple[float, ...] = ()  # further values the axis range must include
    xlim: tuple[float, float] | None = None
    xticks: object = None
    markers: str = "weight"  # or "point"
    gid: str = "study"  # prefix of "<gid>-cis" and "<gid>-estimates"


@dataclass
class Table:
    rows: list[Row]
    graphic: Graphic
    label_header: str = "Study"
    left: list[Column] = field(default_factory=list)
    right: list[Column] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    foot_lines: list[tuple[str, str]] = field(default_factory=list)
    footnote: str = ""
    title: str | None = None
    favours: tuple[str, str] | None = None
    label_width: float = 2.4
    plot_width: float = 2.6
    row_height: float = 0.2
    label_min: float = 0.6  # narrowest label column (inches)
    label_fit: str = ""  # text the label column must be wide enough for (e.g. a PI row's label)


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


# ------------------------------------------------------------------------------------------
# layout


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


def _layout(t: Table, meas: Measure) -> _Geometry:
    lab_w = _column_widths(t, meas)
    left_w, right_w = _column_positions(t, lab_w)
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


# ------------------------------------------------------------------------------------------
# drawing


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


def _new_axes(t: Table, geo: _Geometry, tx: _Text):
    """A figure sized to the table, with the axes of the graphic column."""
    import matplotlib.pyplot as plt

    table_w = geo.left_w + t.plot_width + geo.right_w
    axes_h = (geo.y_bottom - geo.y_top) * t.row_height
    fig_w = MARGIN * 2 + table_w
    fig_h = MARGIN * 2 + tx.title_h + tx.head_h + axes_h + tx.bottom_h
    fig = plt.figure(figsize=(fig_w, fig_h))
    box = (
        (MARGIN + geo.left_w) / fig_w,
        (MARGIN + tx.bottom_h) / fig_h,
        t.plot_width / fig_w,
        axes_h / fig_h,
    )
    return fig.add_axes(box)


def _draw_graphic(ax, t: Table, geo: _Geometry) -> None:
    """Band, line of no effect, pooled line, study intervals and markers, arrows, diamonds, PIs."""
    from matplotlib.collections import LineCollection

    g, x0, x1 = t.graphic, geo.x0, geo.x1
    value_axis(ax, (geo.y_bottom, geo.y_top), (x0, x1), geo.ticks, g.log)
    content_bottom = max(r.y + 0.5 for r in t.rows if r.kind != "blank")
    if g.band is not None:
        ax.axvspan(g.band[0], g.band[1], color=BAND, lw=0, zorder=0, gid="equivalence-band")
    if x0 <= g.null <= x1:
        ax.plot(
            [g.null] * 2, [geo.y_bottom, geo.y_top], color=INK, lw=0.8, zorder=1, gid="null-line"
        )
    if g.ref is not None:
        ax.plot(
            [g.ref] * 2,
            [-0.5, content_bottom],
            color=GREY,
            lw=0.6,
            ls=(0, (3, 2)),
            zorder=1,
            gid="pooled-line",
        )
    st = [r for r in t.rows if r.kind == "study"]
    segs = [[(max(r.lo, x0), r.y + r.offset), (min(r.hi, x1), r.y + r.offset)] for r in st]
    ax.add_collection(
        LineCollection(segs, colors=INK, linewidths=0.8, zorder=2, gid=f"{g.gid}-cis")
    )
    _draw_markers(ax, st, g, x0, x1)
    marks = [(m, r.y + m.offset) for r in st for m in r.marks]
    _draw_marks(ax, marks, x0, x1)
    others = [r for r in t.rows if r.kind in ("pi", *POOLED)]
    spans = [(r.lo, r.hi, r.y + r.offset) for r in st + others]
    arrows(ax, spans + [(m.lo, m.hi, y) for m, y in marks], x0, x1)
    _draw_diamonds(ax, t.rows)


def _draw_markers(ax, st: list[Row], g: Graphic, x0: float, x1: float) -> None:
    inside = np.array([x0 <= r.est <= x1 for r in st], dtype=bool)
    est = np.array([r.est for r in st], dtype=float)
    y = np.array([r.y + r.offset for r in st], dtype=float)
    if g.markers == "weight":
        w = np.array([r.weight for r in st], dtype=float)
        wmax = np.nanmax(w) if np.isfinite(w).any() else 1.0
        side = np.maximum(MAX_MARKER_PT * np.sqrt(w / wmax), MIN_MARKER_PT)
        size, marker = side[inside] ** 2, "s"
    else:
        size, marker = 22, "o"
    ax.scatter(
        est[inside],
        y[inside],
        s=size,
        marker=marker,
        color=SQUARE,
        edgecolors="none",
        zorder=3,
        gid=f"{g.gid}-estimates",
    )


def _draw_marks(ax, marks: list[tuple[Mark, float]], x0: float, x1: float) -> None:
    """Further marks ``(mark, y)`` of study rows: one line collection and one scatter per gid."""
    from matplotlib.collections import LineCollection

    for gid in dict.fromkeys(m.gid for m, _ in marks):
        ms = [(m, y) for m, y in marks if m.gid == gid]
        colour, hollow = ms[0][0].colour, ms[0][0].hollow
        segs = [[(max(m.lo, x0), y), (min(m.hi, x1), y)] for m, y in ms]
        ax.add_collection(
            LineCollection(segs, colors=colour, linewidths=0.8, zorder=2, gid=f"{gid}-cis")
        )
        pts = np.array([(m.est, y) for m, y in ms if x0 <= m.est <= x1], dtype=float)
        ax.scatter(
            pts[:, 0] if pts.size else [],
            pts[:, 1] if pts.size else [],
            s=20 if hollow else 22,
            marker="s" if hollow else "o",
            facecolors="white" if hollow else colour,
            edgecolors=colour if hollow else "none",
            linewidths=0.8,
            zorder=3,
            gid=f"{gid}-estimates",
        )


def _draw_diamonds(ax, rows: list[Row]) -> None:
    from matplotlib.patches import Polygon, Rectangle

    dh = 0.34
    for r in rows:
        if r.kind in POOLED:
            poly = Polygon(
                [(r.lo, r.y), (r.est, r.y - dh), (r.hi, r.y), (r.est, r.y + dh)],
                closed=True,
                facecolor="white" if r.hollow else DIAMOND if r.kind == "overall" else SUB_DIAMOND,
                edgecolor=INK,
                lw=0.6,
                zorder=4,
                gid=r.gid,
            )
            ax.add_patch(poly)
        elif r.kind == "pi" and np.isfinite(r.lo) and np.isfinite(r.hi):
            ax.add_patch(
                Rectangle(
                    (r.lo, r.y - 0.16),
                    r.hi - r.lo,
                    0.32,
                    facecolor=PI_FILL,
                    edgecolor=INK,
                    lw=0.6,
                    zorder=4,
                    gid=r.gid,
                )
            )


def _draw_headers(ax, t: Table, geo: _Geometry, plot_head: str) -> None:
    """Column headers, spans, the plot header and the rule under them."""
    from matplotlib import transforms

    tl, trt = xin(ax, 0.0), xin(ax, 1.0)
    bt = transforms.blended_transform_factory(ax.transAxes, ax.transData)
    text = functools.partial(put, ax, linespacing=1.15, weight="bold", va="bottom")
    head_y = geo.y_top - 0.2  # baseline region of the column headers
    text(-geo.left_w, head_y, t.label_header, tl)
    for col in t.left:
        if col.header:
            xx = col.x if col.align == "right" else col.x - col.width
            text(xx, head_y, col.header, tl, ha=col.align)
    cols = {c.key: c for c in t.left + t.right}
    for sp in (s for s in t.spans if s.kind == "group"):
        xl, xr = cols[sp.keys[0]].x - cols[sp.keys[0]].width, cols[sp.keys[-1]].x
        text((xl + xr) / 2, head_y - 1.2, sp.text, tl, ha="center")
        ax.plot([xl, xr], [head_y - 1.05] * 2, transform=tl, color=INK, lw=0.5, clip_on=False)
    ends = {sp.keys[-1]: sp.text for sp in t.spans if sp.kind == "header"}
    for col in t.right:
        if col.key in ends:
            text(col.x, head_y, ends[col.key], trt, ha="right")
        if col.header:
            text(col.x, head_y, col.header, trt, ha="center" if col.kind == "rob" else col.align)
    text(0.5, head_y, plot_head, bt, ha="center", gid="plot-header")
    rule_y = geo.y_top - 0.05
    line = {"color": INK, "lw": 0.6, "clip_on": False}
    ax.plot([-geo.left_w, 0], [rule_y] * 2, transform=tl, **line)
    ax.plot([0, 1], [rule_y] * 2, transform=bt, **line)
    ax.plot([0, geo.right_w], [rule_y] * 2, transform=trt, **line)


def _draw_cells(ax, t: Table, geo: _Geometry) -> None:
    """Labels and cells of every row; risk-of-bias symbols on coloured circles."""
    tl, trt = xin(ax, 0.0), xin(ax, 1.0)
    text = functools.partial(put, ax, linespacing=1.15)
    for r in (r for r in t.rows if r.kind != "blank"):
        wt = _weight(r)
        color = GREY if r.kind == "note" else INK
        gid = r.label_gid or (r.gid if r.kind == "note" else (r.gid + "-label" if r.gid else None))
        text(-geo.left_w, r.y, r.label, tl, size=r.size, weight=wt, color=color, gid=gid)
        for col in t.left:
            if col.key in r.cells:
                text(col.x, r.y, r.cells[col.key], tl, ha="right", weight=wt, color=col.colour)
        for col in t.right:
            if col.key in r.cells:
                g = f"{r.gid}-{col.key}" if r.gid else None
                text(
                    col.x,
                    r.y,
                    r.cells[col.key],
                    trt,
                    ha="right",
                    weight=wt,
                    gid=g,
                    color=col.colour,
                )
            if col.kind == "rob" and r.rob is not None:
                _draw_rob(ax, col.x, r.y, r.rob, trt)


def _draw_rob(ax, x: float, y: float, level: str, trans) -> None:
    ax.plot(
        [x],
        [y],
        transform=trans,
        marker="o",
        ms=9,
        color=ROB_COLOURS[level],
        mec="none",
        clip_on=False,
        zorder=5,
    )
    colour = "white" if level != "some" else INK
    sym = put(
        ax,
        x,
        y,
        ROB_SYMBOLS[level],
        trans,
        ha="center",
        weight="bold",
        color=colour,
        linespacing=1.15,
    )
    sym.set_zorder(6)


def _draw_favours(ax, t: Table, geo: _Geometry) -> None:
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    g, x0, x1 = t.graphic, geo.x0, geo.x1
    ft = blended_transform_factory(
        ax.transData, ax.transAxes + ScaledTranslation(0, -0.27, ax.figure.dpi_scale_trans)
    )
    xn = g.null if x0 < g.null < x1 else np.sqrt(x0 * x1) if g.log else (x0 + x1) / 2
    left, right = t.favours
    for s, ha, gid in (
        (f"\u2190 Favours {left}  ", "right", "favours-left"),
        (f"  Favours {right} \u2192", "left", "favours-right"),
    ):
        ax.text(
            xn,
            0,
            s,
            transform=ft,
            ha=ha,
            va="top",
            fontsize=SMALL_PT,
            color=INK,
            clip_on=False,
            parse_math=False,
            gid=gid,
        )


def _draw_footer(ax, t: Table, geo: _Geometry, tx: _Text) -> None:
    """Favours labels, test lines and footnote under the axis; the title above the headers."""
    from matplotlib import transforms

    text = functools.partial(put, ax, linespacing=1.15)
    if t.favours:
        _draw_favours(ax, t, geo)
    bl = yin(ax, 0.0)
    yy = -(tx.axis_h + 0.08)
    for s, g in tx.foot:
        text(-geo.left_w, yy, s, bl, size=SMALL_PT, gid=g, va="top")
        yy -= (s.count("\n") + 1) * LINE_SMALL
    yy -= 0.08
    text(-geo.left_w, yy, tx.note, bl, size=NOTE_PT, color=GREY, gid="footnote", va="top")
    if tx.title:
        tt = ax.figure.dpi_scale_trans + transforms.ScaledTranslation(0, 1, ax.transAxes)
        y = tx.head_h + 0.08
        text(-geo.left_w, y, tx.title, tt, size=TITLE_PT, weight="bold", va="bottom", gid="title")


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
