"""Forests of cumulative and leave-one-out frames, drawn with the same table as forest plots."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .style import MEASURE_NAMES, NBSP, RATIO_MEASURES, num, pval, tau2_text
from .table import Column, Graphic, Row, Span, Table, draw_table

__all__ = ["forest_from_frame"]

_HEADS = {"k": "k", "tau2": "\u03c4\u00b2", "i2": "I\u00b2", "pvalue": "p"}
#: kind -> (label-column header, footnote)
_WHAT = {
    "cumulative": (
        "Cumulative",
        "Cumulative meta-analysis in the order shown; row i pools the studies up to row i.",
    ),
    "leave-one-out": ("Omitted study", "Leave-one-out analysis: each row omits the named study."),
    "rows": (None, ""),
}


def _kind(frame: pd.DataFrame, kind: str | None) -> str:
    need = ("k", "estimate", "ci_low", "ci_high")
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ValueError(f"forest_from_frame: frame lacks column(s) {missing}")
    ks = frame["k"].to_numpy()
    if kind is None:
        if ks.size and np.array_equal(ks, np.arange(1, ks.size + 1)):
            kind = "cumulative"
        elif ks.size and np.all(ks == ks[0]):
            kind = "leave-one-out"
        else:
            raise ValueError("forest_from_frame: cannot infer kind from k; pass kind=")
    if kind not in _WHAT:
        raise ValueError("forest_from_frame: kind must be 'cumulative', 'leave-one-out' or 'rows'")
    return kind


def _p_cell(p: float) -> str:
    """'0.012' or '<\u00a00.001' (the column header says p)."""
    return pval(p).split(NBSP, 1)[1].replace(f"={NBSP}", "")


def _i2_cell(i2: float) -> str:
    return "NA" if not np.isfinite(i2) else f"{i2:.0f}%"


def _cells(k, est, lo, hi, tau2, i2, p, digits: int, extra: list[str]) -> dict[str, str]:
    cells = {
        "k": f"{int(k)}",
        "est": num(est, digits),
        "lo": f"[{num(lo, digits)},",
        "hi": f"{num(hi, digits)}]",
        "tau2": tau2_text(tau2),
        "i2": _i2_cell(i2),
        "pvalue": _p_cell(p),
    }
    return {c: v for c, v in cells.items() if c in ("k", "est", "lo", "hi") or c in extra}


def _frame_rows(frame, kind: str, result: Any, tf, digits: int, extra: list[str]) -> list[Row]:
    names = [str(s) for s in frame.index]
    if kind == "cumulative":
        labels = [names[0]] + [f"+ {s}" for s in names[1:]]
    elif kind == "leave-one-out":
        labels = [f"Omitting {s}" for s in names]
    else:
        labels = names
    est, lo, hi = (tf(frame[c].to_numpy(float)) for c in ("estimate", "ci_low", "ci_high"))
    nan = np.full(len(frame), np.nan)
    cols = {c: frame[c].to_numpy(float) if c in frame.columns else nan for c in _HEADS}
    rows = []
    for i, label in enumerate(labels):
        vals = [cols[c][i] for c in ("tau2", "i2", "pvalue")]
        cells = _cells(cols["k"][i], est[i], lo[i], hi[i], *vals, digits, extra)
        rows.append(Row("study", label, cells, est[i], lo[i], hi[i], gid=f"row-{i}"))
    if result is not None:
        rows.append(Row("blank", height=0.4))
        e, a, b = (float(tf(v)) for v in (result.estimate, result.ci_low, result.ci_high))
        vals = (result.tau2, result.i2, result.pvalue)
        cells = _cells(result.k, e, a, b, *vals, digits, extra)
        rows.append(
            Row("overall", "All studies", cells, e, a, b, gid="diamond-overall", bold=True,
                label_gid="all-studies-label")
        )  # fmt: skip
    return rows


def forest_from_frame(
    frame: pd.DataFrame,
    *,
    result: Any = None,
    kind: str | None = None,
    measure: str | None = None,
    ax: Any = None,
    xlim: tuple[float, float] | None = None,
    digits: int = 2,
    title: str | None = None,
    label_width: float = 2.0,
    plot_width: float = 2.0,
    row_height: float = 0.2,
    level: float | None = None,
    note: str | None = None,
):
    """Forest of a cumulative or leave-one-out frame (``cumulative()`` / ``leave_one_out()``).

    With ``kind="rows"`` any frame of estimates is drawn with its index as the row labels (the
    index name heads the label column), e.g. a network meta-analysis's treatments.

    Drawn with the same table layout as :func:`evidence.forest_plot`: one row per frame row
    (circles: the estimates are not weighted), its k, estimate and CI (and tau^2, I^2, p when
    the frame has them), and, with ``result``, a diamond row "All studies".

    Parameters
    ----------
    frame : DataFrame
        Indexed by study label with columns ``k``, ``estimate``, ``ci_low``, ``ci_high`` (and,
        when present, ``tau2``, ``i2``, ``pvalue``).
    result : PoolResult, optional
        The full analysis: its estimate is drawn as a dashed line and a diamond row "All studies";
        its measure and level name the axis.
    kind : {"cumulative", "leave-one-out", "rows"}, optional
        Default: inferred from ``k`` (1, 2, ..., K is cumulative; constant is leave-one-out).
        ``"rows"``: labels as given, no added text.
    measure : str, optional
        Overrides ``result.measure`` (ratio measures get a log axis).
    level : float, optional
        Confidence level of the frame's intervals (default ``result.level``, else 95).
    note : str, optional
        Text appended to the footnote.
    ax, xlim, digits, title, label_width, plot_width, row_height
        As in :func:`evidence.forest_plot`.

    Returns
    -------
    matplotlib.axes.Axes
        Artists carry gids: ``row-estimates``, ``row-cis``, ``row-<i>-label``,
        ``diamond-overall``, ``all-studies-label``, ``pooled-line``, ``footnote``.

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.pool([0.1, 0.3, 0.35, 0.65], [0.03, 0.03, 0.05, 0.01], labels=list("ABCD"))
    >>> ax = forest_from_frame(res.leave_one_out(), result=res)
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "row-0-label"]
    ['Omitting A']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    kind = _kind(frame, kind)
    measure = measure or (result.measure if result is not None else None)
    log = measure in RATIO_MEASURES
    tf = np.exp if log else (lambda x: np.asarray(x, dtype=float))
    if level is None:
        level = result.level if result is not None else 95.0
    lvl = f"{level:g}%"
    extra = [c for c in ("tau2", "i2", "pvalue") if c in frame.columns]
    right = [
        Column("k", "k"),
        Column("est", fit=measure or "Estimate"),
        Column("lo", fit=f"[{lvl} CI]", tight=True),
        Column("hi", tight=True),
    ] + [Column(c, _HEADS[c]) for c in extra]
    head, what = _WHAT[kind]
    if note:
        what = f"{what} {note}".strip()
    if result is not None:
        what += f" Model: {result.methods_text()}."
    graphic = Graphic(
        log=log,
        null=1.0 if log else 0.0,
        header=f"{MEASURE_NAMES.get(measure, measure or 'Estimate')} ({lvl} CI)",
        ref=float(tf(result.estimate)) if result is not None else None,
        xlim=xlim,
        markers="point",
        gid="row",
    )
    table = Table(
        _frame_rows(frame, kind, result, tf, digits, extra),
        graphic,
        label_header=head if head is not None else str(frame.index.name or ""),
        right=right,
        spans=[Span(("est", "lo", "hi"), f"{measure or 'Estimate'} [{lvl} CI]")],
        footnote=what,
        title=title,
        label_width=label_width,
        plot_width=plot_width,
        row_height=row_height,
    )
    return draw_table(table, ax)
