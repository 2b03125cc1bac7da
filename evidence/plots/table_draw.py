"""Drawing of a laid-out table (the table-layout layer, part 3 of 3: the artists).

A figure sized to the table, then: the graphic column (band, line of no effect, pooled line,
study intervals and weighted markers, further marks, arrows, diamonds and prediction intervals),
the column headers and spans, the labels and cells of every row (risk-of-bias symbols on coloured
circles), and under the axis the favours labels, test lines and footnote, with the title above.
Positions come from :mod:`evidence.plots.table_layout`; matplotlib is imported only inside the
functions.
"""

from __future__ import annotations

import functools

import numpy as np

from .axis import arrows, value_axis
from .style import (
    BAND,
    DIAMOND,
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
)
from .table_layout import LINE_SMALL, MARGIN, POOLED, _Geometry, _Text, _weight
from .table_parts import Graphic, Mark, Row, Table
from .text import put, xin, yin

ROB_COLOURS = {"low": "#2ca02c", "some": "#f2c500", "high": "#c0392b"}
ROB_SYMBOLS = {"low": "+", "some": "!", "high": "\u2212"}


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
