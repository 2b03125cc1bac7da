"""PRISMA 2020 flow diagram drawn from computed counts (never by hand).

The layout follows the PRISMA 2020 template for new reviews with searches of databases and other
sources (Page et al. 2021, BMJ 372:n71, Figure 1): identification, screening and included
stages down the left; the database path (records identified, removed before screening, screened,
excluded, reports assessed, excluded with reasons) and the other-sources path (trial reports
identified, assessed, excluded with reasons) side by side; both end in the box of studies
included and reports of included studies. A further box lists the studies pooled in each
analysis. The counts come from an object with the fields of
:class:`evidence.review.coverage.PrismaCounts`; nothing here computes or types a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .style import FONT_PT, GREY, INK, NOTE_PT, SMALL_PT, TITLE_PT, eq, style
from .text import Measure

__all__ = ["prisma_flow"]

FILL = "#e8eef5"  # stage bars and source headers (PRISMA's shaded boxes)
MARGIN = 0.12  # around the figure (inches)
BAR = 0.26  # width of the stage bars
GAP_X = 0.28  # between box columns (room for the arrows)
GAP_Y = 0.26  # between box rows
PAD = 0.07  # inside a box
WEIGHTS = (1.3, 1.0, 1.0, 1.1)  # relative widths of the four box columns


@dataclass
class _Box:
    cols: tuple[int, int]  # first and last column spanned
    row: int
    head: str
    lines: list[str] = field(default_factory=list)
    split: int = 1  # text columns inside the box
    fill: str = "white"
    x: float = 0.0
    w: float = 0.0
    y: float = 0.0
    h: float = 0.0


def _n(n: int) -> str:
    return eq("n", f"{n:,}")


def _listed(pairs, empty: str = "none") -> list[str]:
    return [f"{label} ({_n(n)})" for label, n in pairs] or [empty]


def _boxes(c: Any) -> dict[str, _Box]:
    """The boxes of the flow, their text written from the counts ``c``."""
    dbs = [
        f"{db} ({_n(n)}{'; PDT rows only' if db in c.partial_databases else ''})"
        for db, n in c.databases
    ]
    ex_db = sum(n for _, n in c.database_excluded)
    ex_rep = sum(n for _, n in c.reports_excluded)
    return {
        "db_head": _Box((0, 1), 0, "Identification of studies via Metapsy databases", fill=FILL),
        "rep_head": _Box((2, 3), 0, "Identification of studies via trial reports", fill=FILL),
        "db_id": _Box((0, 0), 1, f"Records identified from databases ({_n(c.records_identified)})",
                      dbs),
        "db_dup": _Box((1, 1), 1, "Records removed before screening:",
                       [f"Duplicate records ({_n(c.duplicates_removed)})"]),
        "rep_id": _Box((2, 2), 1, f"Records identified from trial reports "
                       f"({_n(c.reports_identified)})", ["abstracts read for the shared notes"]),
        "db_scr": _Box((0, 0), 2, f"Records screened ({_n(c.records_screened)})"),
        "db_scr_ex": _Box((1, 1), 2, f"Records excluded ({_n(c.screening_excluded)}):",
                          ["no psychodynamic arm"]),
        "db_el": _Box((0, 0), 3, f"Reports assessed for eligibility ({_n(c.database_assessed)})",
                      ["Metapsy rows read by the curated data"]),
        "db_el_ex": _Box((1, 1), 3, f"Reports excluded ({_n(ex_db)}):",
                         _listed(c.database_excluded)),
        "rep_el": _Box((2, 2), 3, f"Reports assessed for eligibility "
                       f"({_n(c.reports_identified)})"),
        "rep_el_ex": _Box((3, 3), 3, f"Reports excluded ({_n(ex_rep)}):",
                          _listed(c.reports_excluded)),
        "inc": _Box((0, 3), 4, f"Studies included in review ({_n(c.studies_included)})\nReports "
                    f"of included studies ({_n(c.reports_of_included)}): Metapsy rows "
                    f"{c.database_included:,}, trial reports {c.reports_included:,}",
                    _listed(c.studies), split=2),
        "ana": _Box((0, 3), 5, f"Studies in a pooled analysis ({_n(c.studies_pooled)}; a study "
                    "can be in several analyses)",
                    _listed(c.analyses) + [f"In no pooled analysis: {r} ({_n(n)})"
                                           for r, n in c.not_pooled], split=2),
    }  # fmt: skip


#: Arrows: (from box, to box, "down" or "right").
_ARROWS = (
    ("db_id", "db_scr", "down"),
    ("db_scr", "db_el", "down"),
    ("db_el", "inc", "down"),
    ("db_id", "db_dup", "right"),
    ("db_scr", "db_scr_ex", "right"),
    ("db_el", "db_el_ex", "right"),
    ("rep_id", "rep_el", "down"),
    ("rep_el", "rep_el_ex", "right"),
    ("rep_el", "inc", "down"),
    ("inc", "ana", "down"),
)
_STAGES = (("Identification", 1, 1), ("Screening", 2, 3), ("Included", 4, 5))


def _wrap(meas: Measure, text: str, width: float, size: float, weight: str = "normal") -> str:
    """``text`` in lines no wider than ``width`` inches, broken at spaces or after hyphens (each
    paragraph of ``text`` on its own)."""
    out = []
    for para in text.split("\n"):
        pieces = re.findall(r"[^ -]*-|[^ ]+ *| +", para)  # no-break spaces stay in a piece
        cur = ""
        for piece in pieces:
            if cur and meas((cur + piece).rstrip(), size, weight) > width:
                out.append(cur.rstrip())
                cur = piece.lstrip()
            else:
                cur += piece
        out.append(cur.rstrip())
    return "\n".join(out)


def _layout(boxes: dict[str, _Box], width: float, top: float, meas: Measure) -> float:
    """Place the boxes (wrapping their text); returns the y of the bottom of the last row."""
    x0 = MARGIN + BAR + GAP_X / 2
    avail = width - x0 - MARGIN - GAP_X * (len(WEIGHTS) - 1)
    widths = [avail * w / sum(WEIGHTS) for w in WEIGHTS]
    xs = [x0 + sum(widths[:i]) + GAP_X * i for i in range(len(widths))]
    head_h, line_h = FONT_PT / 72 * 1.3, SMALL_PT / 72 * 1.3
    for b in boxes.values():
        b.x, b.w = xs[b.cols[0]], xs[b.cols[1]] + widths[b.cols[1]] - xs[b.cols[0]]
        text_w = (b.w - 2 * PAD) / b.split - (PAD if b.split > 1 else 0)
        b.head = _wrap(meas, b.head, b.w - 2 * PAD, FONT_PT, "bold")
        b.lines = [_wrap(meas, s, text_w, SMALL_PT) for s in b.lines]
        per_col = -(-len(b.lines) // b.split) if b.lines else 0
        cols = [b.lines[i * per_col : (i + 1) * per_col] for i in range(b.split)]
        n_lines = max((sum(s.count("\n") + 1 for s in col) for col in cols), default=0)
        b.h = 2 * PAD + (b.head.count("\n") + 1) * head_h + n_lines * line_h
    y = top
    alone = {first: meas(name, FONT_PT, "bold") + 2 * PAD for name, first, last in _STAGES
             if first == last}  # fmt: skip
    for row in range(max(b.row for b in boxes.values()) + 1):
        in_row = [b for b in boxes.values() if b.row == row]
        h = max([b.h for b in in_row] + [alone.get(row, 0.0)])
        for b in in_row:  # the path's own boxes fill the row; the others keep their height
            b.y, b.h = y, (h if b.cols[0] in (0, 2) or b.cols[1] > b.cols[0] else b.h)
        y += h + (GAP_Y if row else GAP_Y / 2)
    return y - GAP_Y


def _draw_box(ax, b: _Box) -> None:
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((b.x, b.y), b.w, b.h, facecolor=b.fill, edgecolor=INK, lw=0.8))
    ax.text(b.x + PAD, b.y + PAD, b.head, va="top", ha="left", fontsize=FONT_PT,
            fontweight="bold", color=INK, linespacing=1.3)  # fmt: skip
    if not b.lines:
        return
    y0 = b.y + PAD + (b.head.count("\n") + 1) * FONT_PT / 72 * 1.3
    per_col = -(-len(b.lines) // b.split)
    col_w = (b.w - 2 * PAD) / b.split
    for i in range(b.split):
        text = "\n".join(b.lines[i * per_col : (i + 1) * per_col])
        ax.text(b.x + PAD + i * col_w, y0, text, va="top", ha="left", fontsize=SMALL_PT,
                color=INK, linespacing=1.3)  # fmt: skip


def _arrow(ax, a: _Box, b: _Box, how: str) -> None:
    if how == "down":
        x = a.x + a.w / 2
        start, end = (x, a.y + a.h), (x, b.y)
    else:
        y = a.y + min(a.h, b.h) / 2
        start, end = (a.x + a.w, y), (b.x, y)
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": INK,
                "lw": 0.8, "shrinkA": 0, "shrinkB": 0, "mutation_scale": 8})  # fmt: skip


def prisma_flow(
    counts: Any,
    *,
    ax: Any = None,
    title: str | None = None,
    footnote: str | None = None,
    width: float = 7.5,
):
    """Draw the PRISMA 2020 flow diagram of ``counts``.

    Parameters
    ----------
    counts : PrismaCounts
        From :func:`evidence.review.coverage.prisma_counts` (any object with its fields).
    ax : matplotlib Axes, optional
        Axes to draw on (its limits are set to the diagram's inches); a new figure, sized to the
        text, is made when omitted.
    title : str, optional
        Title above the diagram (default: "PRISMA 2020 flow diagram" and the scope).
    footnote : str, optional
        Note under the diagram (default: what a record and a study are, and where the counts
        come from).
    width : float
        Width of a new figure in inches.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from evidence.review.coverage import prisma_counts
    >>> from evidence.review.data import load
    >>> ax = prisma_flow(prisma_counts(load(), "ptsd"))
    >>> text = " ".join(t.get_text() for t in ax.texts).replace("\\n", " ")
    >>> text.count("Reports excluded"), "Records identified from databases" in text
    (2, True)
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    meas = Measure()
    title = title or f"PRISMA 2020 flow diagram: {counts.scope or 'all conditions'}"
    footnote = footnote or (
        "A record is one source row of a Metapsy database or one trial report (abstract); a "
        "study is one trial. Every count is computed from data/ "
        "(evidence.review.coverage.prisma_counts)."
        + (
            " A record counts on the page of the trial it names, else on that of its database's "
            "condition group."
            if counts.scope
            else ""
        )
    )
    title = _wrap(meas, title, width - 2 * MARGIN, TITLE_PT, "bold")
    note = _wrap(meas, footnote, width - 2 * MARGIN, NOTE_PT)
    top = MARGIN + (title.count("\n") + 1) * TITLE_PT / 72 * 1.35 + 0.08
    boxes = _boxes(counts)
    bottom = _layout(boxes, width, top, meas)
    height = bottom + 0.12 + (note.count("\n") + 1) * NOTE_PT / 72 * 1.35 + MARGIN
    with style():
        if ax is None:
            fig = plt.figure(figsize=(width, height))
            ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.set_axis_off()
        ax.text(MARGIN, MARGIN, title, va="top", ha="left", fontsize=TITLE_PT,
                fontweight="bold", color=INK, linespacing=1.35)  # fmt: skip
        _stage_bars(ax, boxes)
        for b in boxes.values():
            _draw_box(ax, b)
        for a, b, how in _ARROWS:
            _arrow(ax, boxes[a], boxes[b], how)
        ax.text(MARGIN, bottom + 0.12, note, va="top", ha="left", fontsize=NOTE_PT,
                color=GREY, linespacing=1.35)  # fmt: skip
    return ax


def _stage_bars(ax, boxes: dict[str, _Box]) -> None:
    """The shaded bars naming the stages, left of the rows they span."""
    from matplotlib.patches import Rectangle

    rows = {b.row: (b.y, b.y + b.h) for b in boxes.values()}
    for name, first, last in _STAGES:
        y0, y1 = rows[first][0], rows[last][1]
        ax.add_patch(Rectangle((MARGIN, y0), BAR, y1 - y0, facecolor=FILL, edgecolor=INK, lw=0.8))
        ax.text(MARGIN + BAR / 2, (y0 + y1) / 2, name, rotation=90, va="center", ha="center",
                fontsize=FONT_PT, fontweight="bold", color=INK)  # fmt: skip
