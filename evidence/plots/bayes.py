"""Shrinkage forest of a Bayesian random-effects fit (bayesmeta's ``forestplot(..., shrinkage)``).

Each study gets two rows of marks: its observed estimate with the Wald interval
``yi +/- z sqrt(vi)`` (open grey square, upper mark) and its shrunken estimate, the posterior
median of the study's true effect theta_i with its credible interval (filled circle, lower mark).
Below them, the posterior of the mean effect mu (diamond: median and credible interval) and the
posterior predictive interval for a new trial (bar). The table, axis, arrows and fonts follow
:mod:`evidence.plotting`; the helpers used here are that module's, so both look the same.

:func:`cell_forest` builds its rows and columns and is drawn by the table-layout layer
(:func:`evidence.plots.table.draw_table`), like every other forest.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

import numpy as np
from scipy import stats

from ..plotting import RATIO_MEASURES
from .table import Column, Graphic, Row, Table, draw_table

__all__ = ["shrinkage_forest", "cell_forest"]


def _x_axis(xlim, core, los, his, log: bool, plot_width: float, meas) -> tuple:
    """Display-scale limits and ticks: chosen from the estimates, or those of ``xlim``."""
    from .. import plotting as P

    if xlim is None:
        a, b = P._auto_range(core, los, his, log)
        return P._fit_ticks(a, b, log, plot_width, meas)
    x0, x1 = xlim
    _, _, ticks = P._nice_limits(x0, x1, log)
    return x0, x1, ticks[(ticks >= x0 - 1e-12) & (ticks <= x1 + 1e-12)]


def _value_axes(ax, widths, heights, ylim, xlim):
    """``ax``, or the graphical column of a new figure sized to the table: ``widths`` are
    (table, left of the axes, axes), ``heights`` (title, header, axes, below) in inches."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    (table_w, left_w, plot_width), (title_h, head_h, axes_h, bottom_h) = widths, heights
    margin = 0.15
    fw = 2 * margin + table_w
    fh = 2 * margin + title_h + head_h + axes_h + bottom_h
    fig = plt.figure(figsize=(fw, fh))
    return fig.add_axes(
        ((margin + left_w) / fw, (margin + bottom_h) / fh, plot_width / fw, axes_h / fh)
    )


def _null_line(ax, null: float, xlim, ylim) -> None:
    """The vertical line of no effect, when it falls inside the axis."""
    from .. import plotting as P

    if xlim[0] <= null <= xlim[1]:
        ax.plot([null, null], [ylim[0], ylim[1]], color=P.INK, lw=0.8, zorder=1, gid="null-line")


def shrinkage_forest(
    result: Any,
    *,
    ax: Any = None,
    xlim: tuple[float, float] | None = None,
    digits: int = 2,
    title: str | None = None,
    label_width: float = 2.0,
    plot_width: float = 2.6,
    row_height: float = 0.2,
):
    """Forest of observed and shrunken study effects of a :class:`~evidence.bayes.BayesResult`.

    Parameters
    ----------
    result : BayesResult
        The fit (see :func:`evidence.bayes.bayes_pool`); ratio measures get a log axis.
    ax : matplotlib Axes, optional
        Draw into this Axes (the graphical column); default: a new figure sized to the rows.
    xlim : (float, float), optional
        Display-scale limits; default: chosen from the estimates (intervals beyond get arrows).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from evidence.bayes import bayes_pool
    >>> r = bayes_pool([-0.8893, -1.5854], [0.3256, 0.1946], labels=["Aronson", "Ferguson"],
    ...                measure="RR")
    >>> ax = shrinkage_forest(r)
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "row-1-label"]
    ['Ferguson']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    from .. import plotting as P

    if not hasattr(result, "theta_mean") or not hasattr(result, "prior"):
        raise TypeError("shrinkage_forest needs a BayesResult (evidence.bayes.bayes_pool)")
    v = _shrinkage_values(result)
    lvl = f"{result.level:g}%"
    k = result.k

    with P._style():
        from matplotlib import transforms

        meas = P._Measure()
        labels = [meas.wrap(s, label_width, P.FONT_PT, max_lines=1) for s in result.study_labels]
        lab_w = min(
            max([meas(s) for s in labels] + [meas("Prediction (new trial)"), 0.8]), label_width
        )
        cells, heads = _shrinkage_cells(v, digits, lvl)
        widths = {
            key: max([meas(c) for c in cells[key]] + [meas(heads[key], P.FONT_PT, "bold")])
            for key in cells
        }
        gap, pad = 0.15, 0.15
        xs, x = {}, pad
        for key in cells:
            x += widths[key]
            xs[key] = x
            x += gap
        right_w = x - gap
        left_w = pad + lab_w
        rows_y = np.arange(k, dtype=float)
        y_mu, y_pi = k + 0.4, k + 1.4
        y_top, y_bottom = -0.6, k + 1.9
        table_w = left_w + plot_width + right_w
        title_txt = meas.wrap(title, table_w, 9.0, "bold") if title else None
        head_h = 1.5 * row_height
        title_h = (title_txt.count("\n") + 1) * 0.19 + 0.08 if title_txt else 0.0
        note_txt = meas.wrap(_shrinkage_note(result, lvl), table_w, P.NOTE_PT)
        bottom_h = 0.35 + 0.08 + (note_txt.count("\n") + 1) * 0.125
        axes_h = (y_bottom - y_top) * row_height

        core = np.concatenate([v.obs, v.theta_med, [v.null, v.mu_lo, v.mu_hi]])
        los, his = np.r_[v.obs_lo, v.th_lo, v.pi_lo], np.r_[v.obs_hi, v.th_hi, v.pi_hi]
        x0, x1, ticks = _x_axis(xlim, core, los, his, v.log, plot_width, meas)
        heights = (title_h, head_h, axes_h, bottom_h)
        ax = _value_axes(ax, (table_w, left_w, plot_width), heights, (y_bottom, y_top), (x0, x1))
        P._value_axis(ax, (y_bottom, y_top), (x0, x1), ticks, v.log)
        _null_line(ax, v.null, (x0, x1), (y_bottom, y_top))
        fig = ax.figure
        tl, trt = P._xin(ax, 0.0), P._xin(ax, 1.0)
        _draw_shrinkage_marks(ax, v, (rows_y, y_mu, y_pi), (x0, x1))

        put = functools.partial(P._put, ax)
        head_y = y_top - 0.55
        put(-left_w, head_y, "Study", tl, weight="bold")
        for key in cells:
            put(xs[key], head_y, heads[key], trt, ha="right", weight="bold")
        bt = transforms.blended_transform_factory(ax.transAxes, ax.transData)
        name = P._MEASURE_NAMES.get(result.measure, result.measure or "Estimate")
        put(0.5, head_y, name, bt, ha="center", weight="bold")
        rule_y = y_top - 0.05
        ax.plot([-left_w, 0], [rule_y] * 2, transform=tl, color=P.INK, lw=0.6, clip_on=False)
        ax.plot([0, 1], [rule_y] * 2, transform=bt, color=P.INK, lw=0.6, clip_on=False)
        ax.plot([0, right_w], [rule_y] * 2, transform=trt, color=P.INK, lw=0.6, clip_on=False)
        for i in range(k):
            put(-left_w, rows_y[i], labels[i], tl, gid=f"row-{i}-label")
            put(xs["obs"], rows_y[i], cells["obs"][i], trt, ha="right", color=P.GREY)
            put(xs["shr"], rows_y[i], cells["shr"][i], trt, ha="right")
        put(-left_w, y_mu, "Mean effect (\u03bc)", tl, weight="bold", gid="mu-label")
        put(xs["shr"], y_mu, cells["shr"][k], trt, ha="right", weight="bold")
        put(-left_w, y_pi, "Prediction (new trial)", tl, gid="pi-label")
        put(xs["shr"], y_pi, cells["shr"][k + 1], trt, ha="right")
        put(-left_w, -(0.35 + 0.08), note_txt, P._yin(ax, 0.0), size=P.NOTE_PT, color=P.GREY,
            va="top", gid="footnote")  # fmt: skip
        if title_txt:
            tt = fig.dpi_scale_trans + transforms.ScaledTranslation(0, 1, ax.transAxes)
            put(-left_w, head_h + 0.08, title_txt, tt, size=9.0, weight="bold", va="bottom",
                gid="title")  # fmt: skip
    return ax


def _shrinkage_note(result: Any, lvl: str) -> str:
    return (
        f"Open squares: observed estimates with Wald {lvl} CIs. Filled circles: shrunken "
        f"estimates (posterior median and {result.interval} {lvl} credible interval of each "
        f"study's true effect). Diamond: mean effect; bar: {lvl} prediction interval for a "
        f"new trial. Model: {result.methods_text()}."
    )


def _shrinkage_values(result: Any) -> SimpleNamespace:
    """Display-scale observed (Wald) and shrunken study intervals, mu and the prediction
    interval of a BayesResult; ``log`` and ``null`` of its measure."""
    log = result.measure in RATIO_MEASURES
    tf = np.exp if log else (lambda x: np.asarray(x, dtype=float))
    z = stats.norm.ppf(0.5 + result.level / 200)
    se = np.sqrt(result.vi)
    mu_e, mu_lo, mu_hi = (
        float(tf(x)) for x in (result.mu_median, result.mu_ci_low, result.mu_ci_high)
    )
    return SimpleNamespace(
        log=log,
        null=1.0 if log else 0.0,
        obs=tf(result.yi),
        obs_lo=tf(result.yi - z * se),
        obs_hi=tf(result.yi + z * se),
        theta_med=tf(result.theta_median),
        th_lo=tf(result.theta_ci_low),
        th_hi=tf(result.theta_ci_high),
        mu_e=mu_e,
        mu_lo=mu_lo,
        mu_hi=mu_hi,
        pi_lo=float(tf(result.pi_low)),
        pi_hi=float(tf(result.pi_high)),
    )


def _shrinkage_cells(v: SimpleNamespace, digits: int, lvl: str) -> tuple[dict, dict]:
    """Text of the observed and shrunken columns (the k studies, then mu and the prediction
    interval) and their headers."""
    from .. import plotting as P

    def ci(e, a, b) -> str:
        return f"{P._num(e, digits)} [{P._num(a, digits)}, {P._num(b, digits)}]"

    cells = {
        "obs": [ci(*t) for t in zip(v.obs, v.obs_lo, v.obs_hi, strict=True)] + ["", ""],
        "shr": [ci(*t) for t in zip(v.theta_med, v.th_lo, v.th_hi, strict=True)]
        + [ci(v.mu_e, v.mu_lo, v.mu_hi), f"[{P._num(v.pi_lo, digits)}, {P._num(v.pi_hi, digits)}]"],
    }
    heads = {"obs": f"Observed [{lvl} CI]", "shr": f"Shrunken [{lvl} CrI]"}
    return cells, heads


def _draw_shrinkage_marks(ax, v: SimpleNamespace, ys: tuple, xlim: tuple) -> None:
    """Observed (open squares, upper) and shrunken (filled circles, lower) study marks, the
    mu line and diamond, the prediction bar and the arrows of clipped intervals."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Polygon

    from .. import plotting as P

    (rows_y, y_mu, y_pi), (x0, x1) = ys, xlim
    k = rows_y.size
    yo, ys = rows_y - 0.18, rows_y + 0.18
    for lo, hi, y, colour, gid in (
        (v.obs_lo, v.obs_hi, yo, P.GREY, "observed-cis"),
        (v.th_lo, v.th_hi, ys, P.INK, "shrunken-cis"),
    ):
        seg = [[(max(a, x0), yv), (min(b, x1), yv)] for a, b, yv in zip(lo, hi, y, strict=True)]
        ax.add_collection(LineCollection(seg, colors=colour, linewidths=0.8, zorder=2, gid=gid))
        if gid == "observed-cis":
            ax.scatter(v.obs, yo, s=20, marker="s", facecolors="white", edgecolors=P.GREY,
                       linewidths=0.8, zorder=3, gid="observed-estimates")  # fmt: skip
    ax.scatter(v.theta_med, ys, s=20, marker="o", color=P.SQUARE, edgecolors="none", zorder=3,
               gid="shrunken-estimates")  # fmt: skip
    ax.plot([v.mu_e, v.mu_e], [-0.5, k - 0.5], color=P.GREY, lw=0.6, ls=(0, (3, 2)), zorder=1,
            gid="pooled-line")  # fmt: skip
    diamond = [(v.mu_lo, y_mu), (v.mu_e, y_mu - 0.34), (v.mu_hi, y_mu), (v.mu_e, y_mu + 0.34)]
    ax.add_patch(Polygon(diamond, closed=True, facecolor=P.DIAMOND, edgecolor=P.INK, lw=0.6,
                         zorder=4, gid="diamond-overall"))  # fmt: skip
    a, b = max(v.pi_lo, x0), min(v.pi_hi, x1)
    ax.add_patch(plt.Rectangle((a, y_pi - 0.15), b - a, 0.3, facecolor=P.PI_FILL, edgecolor=P.INK,
                               lw=0.6, zorder=3, gid="prediction-interval"))  # fmt: skip
    spans = (
        list(zip(v.obs_lo, v.obs_hi, yo, strict=True))
        + list(zip(v.th_lo, v.th_hi, ys, strict=True))
        + [(v.pi_lo, v.pi_hi, y_pi)]
    )
    P._arrows(ax, spans, x0, x1)


def cell_forest(
    table: Any,
    *,
    measure: str | None = None,
    ax: Any = None,
    xlim: tuple[float, float] | None = None,
    digits: int = 2,
    title: str | None = None,
    footnote: str | None = None,
    favours: tuple[str, str] | None = ("comparator", "PDT"),
    label_width: float = 2.6,
    plot_width: float = 2.6,
    row_height: float = 0.2,
):
    """Summary forest of pooled cells: REML + Knapp-Hartung diamond beside the Bayesian one.

    Per cell (``table`` row; :func:`evidence.bayes_report.cell_table`'s columns, display
    scale): a header with k, the frequentist diamond (black), the Bayesian diamond (grey,
    labelled with the prior on tau: posterior median and credible interval), the Bayesian
    predictive interval (bar) and the posterior probability that PDT is better on average.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"k": [2], "reml_estimate": [0.2], "reml_ci_low": [-1.2],
    ...     "reml_ci_high": [1.6], "bayes_median": [0.2], "bayes_ci_low": [-0.4],
    ...     "bayes_ci_high": [0.8], "bayes_pi_low": [-0.9], "bayes_pi_high": [1.3],
    ...     "p_pdt_better": [0.77], "tau_prior": ["half-normal(scale = 0.5)"]}, index=["CBT"])
    >>> ax = cell_forest(t, measure="SMD")
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "cell-0-bayes-label"]
    ['Bayesian, half-normal(scale = 0.5) on τ']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    from .. import plotting as P

    need = {"k", "reml_estimate", "reml_ci_low", "reml_ci_high", "bayes_median"}
    need |= {"bayes_ci_low", "bayes_ci_high", "bayes_pi_low", "bayes_pi_high", "tau_prior"}
    missing = sorted(need - set(table.columns))
    if missing:
        raise ValueError(f"cell_forest: table lacks columns {missing} (see bayes_report)")
    if len(table) == 0:
        raise ValueError("cell_forest: no cells to draw")
    measure = measure or (table["measure"].iloc[0] if "measure" in table else None)
    log = measure in RATIO_MEASURES
    note = (
        "Black diamond: REML + Knapp-Hartung estimate and 95% CI. Grey diamond: Bayesian "
        "posterior median and 95% credible interval (flat prior on the mean, the prior on "
        "\u03c4 as labelled); bar: 95% Bayesian predictive interval for a new trial."
    )
    header = P._MEASURE_NAMES.get(measure, measure or "Estimate")
    right = [Column("est", "Estimate [95% interval]")]
    if "p_pdt_better" in table:
        right.append(Column("prob", "P(PDT better)"))
    # the axis covers the Bayesian credible intervals (as the estimates); wider intervals get
    # arrows, by the table layer's rule
    cover = tuple(table["bayes_ci_low"].astype(float)) + tuple(table["bayes_ci_high"].astype(float))
    t = Table(
        _cell_rows(table, digits),
        Graphic(log=log, null=1.0 if log else 0.0, header=header, xlim=xlim, cover=cover),
        label_header="Cell",
        right=right,
        footnote=f"{note} {footnote}" if footnote else note,
        title=title,
        favours=favours,
        label_width=label_width,
        plot_width=plot_width,
        row_height=row_height,
    )
    return draw_table(t, ax)


def _cell_rows(table: Any, digits: int) -> list:
    """Per cell: a header row with k, the REML + KH diamond, the Bayesian diamond (with the
    probability that PDT is better) and the Bayesian predictive interval; a gap between cells."""
    from .. import plotting as P

    def ci(e: float, lo: float, hi: float) -> str:
        return f"{P._num(e, digits)} [{P._num(lo, digits)}, {P._num(hi, digits)}]"

    rows = []
    for i, (name, r) in enumerate(table.iterrows()):
        if i:
            rows.append(Row("blank", height=0.4))
        reml = [float(r[c]) for c in ("reml_estimate", "reml_ci_low", "reml_ci_high")]
        bayes = [float(r[c]) for c in ("bayes_median", "bayes_ci_low", "bayes_ci_high")]
        pi = float(r["bayes_pi_low"]), float(r["bayes_pi_high"])
        prob = {"prob": f"{100 * float(r['p_pdt_better']):.0f}%"} if "p_pdt_better" in r else {}
        rows += [
            Row("group", f"{name} (k = {int(r['k'])})", bold=True, gid=f"cell-{i}"),
            Row("overall", "REML + Knapp-Hartung", {"est": ci(*reml)}, *reml, gid=f"cell-{i}-reml"),
            Row(
                "subtotal",
                f"Bayesian, {r['tau_prior']} on \u03c4",
                {"est": ci(*bayes)} | prob,
                *bayes,
                gid=f"cell-{i}-bayes",
            ),
            Row(
                "pi",
                "Bayesian prediction (new trial)",
                {"est": f"[{P._num(pi[0], digits)}, {P._num(pi[1], digits)}]"},
                np.nan,
                *pi,
                gid=f"cell-{i}-pi",
            ),
        ]
    return rows
