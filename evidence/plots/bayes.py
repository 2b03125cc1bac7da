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
    measure = result.measure
    log = measure in RATIO_MEASURES
    tf = np.exp if log else (lambda x: np.asarray(x, dtype=float))
    null = 1.0 if log else 0.0
    lvl = f"{result.level:g}%"
    z = stats.norm.ppf(0.5 + result.level / 200)
    k = result.k
    se = np.sqrt(result.vi)
    obs = tf(result.yi)
    obs_lo, obs_hi = tf(result.yi - z * se), tf(result.yi + z * se)
    theta_med = tf(result.theta_median)
    th_lo, th_hi = tf(result.theta_ci_low), tf(result.theta_ci_high)
    mu_e, mu_lo, mu_hi = (
        float(tf(v)) for v in (result.mu_median, result.mu_ci_low, result.mu_ci_high)
    )
    pi_lo, pi_hi = float(tf(result.pi_low)), float(tf(result.pi_high))

    with P._style():
        import matplotlib.pyplot as plt
        from matplotlib import transforms
        from matplotlib.collections import LineCollection
        from matplotlib.patches import Polygon

        meas = P._Measure()
        labels = [meas.wrap(s, label_width, P.FONT_PT, max_lines=1) for s in result.study_labels]
        lab_w = min(
            max([meas(s) for s in labels] + [meas("Prediction (new trial)"), 0.8]), label_width
        )
        cells = {
            "obs": [
                f"{P._num(e, digits)} [{P._num(a, digits)}, {P._num(b, digits)}]"
                for e, a, b in zip(obs, obs_lo, obs_hi, strict=True)
            ],
            "shr": [
                f"{P._num(e, digits)} [{P._num(a, digits)}, {P._num(b, digits)}]"
                for e, a, b in zip(theta_med, th_lo, th_hi, strict=True)
            ],
        }
        pooled = {
            "obs": "",
            "shr": f"{P._num(mu_e, digits)} [{P._num(mu_lo, digits)}, {P._num(mu_hi, digits)}]",
        }
        pred = {"obs": "", "shr": f"[{P._num(pi_lo, digits)}, {P._num(pi_hi, digits)}]"}
        heads = {"obs": f"Observed [{lvl} CI]", "shr": f"Shrunken [{lvl} CrI]"}
        widths = {
            key: max(
                [meas(v) for v in cells[key] + [pooled[key], pred[key]]]
                + [meas(heads[key], P.FONT_PT, "bold")]
            )
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
        note = (
            f"Open squares: observed estimates with Wald {lvl} CIs. Filled circles: shrunken "
            f"estimates (posterior median and {result.interval} {lvl} credible interval of each "
            f"study's true effect). Diamond: mean effect; bar: {lvl} prediction interval for a "
            f"new trial. Model: {result.methods_text()}."
        )
        note_txt = meas.wrap(note, table_w, P.NOTE_PT)
        bottom_h = 0.35 + 0.08 + (note_txt.count("\n") + 1) * 0.125
        axes_h = (y_bottom - y_top) * row_height

        core = np.concatenate([obs, theta_med, [null, mu_lo, mu_hi]])
        x0, x1, ticks = _x_axis(
            xlim,
            core,
            np.r_[obs_lo, th_lo, pi_lo],
            np.r_[obs_hi, th_hi, pi_hi],
            log,
            plot_width,
            meas,
        )
        heights = (title_h, head_h, axes_h, bottom_h)
        ax = _value_axes(ax, (table_w, left_w, plot_width), heights, (y_bottom, y_top), (x0, x1))
        P._value_axis(ax, (y_bottom, y_top), (x0, x1), ticks, log)
        _null_line(ax, null, (x0, x1), (y_bottom, y_top))
        fig = ax.figure
        tl, trt = P._xin(ax, 0.0), P._xin(ax, 1.0)
        yo, ys = rows_y - 0.18, rows_y + 0.18
        seg = [
            [(max(a, x0), yv), (min(b, x1), yv)]
            for a, b, yv in zip(obs_lo, obs_hi, yo, strict=True)
        ]
        ax.add_collection(
            LineCollection(seg, colors=P.GREY, linewidths=0.8, zorder=2, gid="observed-cis")
        )
        ax.scatter(
            obs,
            yo,
            s=20,
            marker="s",
            facecolors="white",
            edgecolors=P.GREY,
            linewidths=0.8,
            zorder=3,
            gid="observed-estimates",
        )
        seg = [
            [(max(a, x0), yv), (min(b, x1), yv)] for a, b, yv in zip(th_lo, th_hi, ys, strict=True)
        ]
        ax.add_collection(
            LineCollection(seg, colors=P.INK, linewidths=0.8, zorder=2, gid="shrunken-cis")
        )
        ax.scatter(
            theta_med,
            ys,
            s=20,
            marker="o",
            color=P.SQUARE,
            edgecolors="none",
            zorder=3,
            gid="shrunken-estimates",
        )
        ax.plot(
            [mu_e, mu_e],
            [-0.5, k - 0.5],
            color=P.GREY,
            lw=0.6,
            ls=(0, (3, 2)),
            zorder=1,
            gid="pooled-line",
        )
        ax.add_patch(
            Polygon(
                [(mu_lo, y_mu), (mu_e, y_mu - 0.34), (mu_hi, y_mu), (mu_e, y_mu + 0.34)],
                closed=True,
                facecolor=P.DIAMOND,
                edgecolor=P.INK,
                lw=0.6,
                zorder=4,
                gid="diamond-overall",
            )
        )
        ax.add_patch(
            plt.Rectangle(
                (max(pi_lo, x0), y_pi - 0.15),
                min(pi_hi, x1) - max(pi_lo, x0),
                0.3,
                facecolor=P.PI_FILL,
                edgecolor=P.INK,
                lw=0.6,
                zorder=3,
                gid="prediction-interval",
            )
        )
        spans = (
            list(zip(obs_lo, obs_hi, yo, strict=True))
            + list(zip(th_lo, th_hi, ys, strict=True))
            + [(pi_lo, pi_hi, y_pi)]
        )
        P._arrows(ax, spans, x0, x1)

        put = functools.partial(P._put, ax)
        head_y = y_top - 0.55
        put(-left_w, head_y, "Study", tl, weight="bold")
        for key in cells:
            put(xs[key], head_y, heads[key], trt, ha="right", weight="bold")
        bt = transforms.blended_transform_factory(ax.transAxes, ax.transData)
        name = P._MEASURE_NAMES.get(measure, measure or "Estimate")
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
        put(xs["shr"], y_mu, pooled["shr"], trt, ha="right", weight="bold")
        put(-left_w, y_pi, "Prediction (new trial)", tl, gid="pi-label")
        put(xs["shr"], y_pi, pred["shr"], trt, ha="right")
        put(
            -left_w,
            -(0.35 + 0.08),
            note_txt,
            P._yin(ax, 0.0),
            size=P.NOTE_PT,
            color=P.GREY,
            va="top",
            gid="footnote",
        )
        if title_txt:
            tt = fig.dpi_scale_trans + transforms.ScaledTranslation(0, 1, ax.transAxes)
            put(
                -left_w,
                head_h + 0.08,
                title_txt,
                tt,
                size=9.0,
                weight="bold",
                va="bottom",
                gid="title",
            )
    return ax


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
