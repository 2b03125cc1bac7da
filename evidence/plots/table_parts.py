"""The parts a table is described by (the table-layout layer, part 1 of 3: what to draw).

:class:`Row` (one line of the table, with its interval and marker and any further
:class:`Mark`), :class:`Column` (a text column), :class:`Span` (a header over several columns),
:class:`Graphic` (the value axis) and :class:`Table` (all of them, with the title, footnote and
sizes). :mod:`evidence.plots.table_layout` measures and places them and
:mod:`evidence.plots.table_draw` draws them; :func:`evidence.plots.table.draw_table` runs both.
Everything here is re-exported by :mod:`evidence.plots.table`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .style import FONT_PT, GREY, INK

__all__ = ["Mark", "Row", "Column", "Span", "Graphic", "Table"]


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
    #: The widest the figure may be (inches): the plot, then the label column, give way (to
    #: MIN_PLOT_WIDTH and MIN_LABEL_WIDTH); None: as wide as the columns need.
    max_width: float | None = None
    row_height: float = 0.2
    label_min: float = 0.6  # narrowest label column (inches)
    label_fit: str = ""  # text the label column must be wide enough for (e.g. a PI row's label)
