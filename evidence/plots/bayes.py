"""Bayesian forests, both drawn by the table-layout layer (:func:`evidence.plots.table.draw_table`).

* :func:`shrinkage_forest` (bayesmeta's ``forestplot(..., shrinkage)``): each study row carries
  two marks, its observed estimate with the Wald interval ``yi +/- z sqrt(vi)`` (open grey
  square, upper mark, a :class:`~evidence.plots.table.Mark`) and its shrunken estimate, the
  posterior median of the study's true effect theta_i with its credible interval (filled
  circle, lower mark). Below them, the posterior of the mean effect mu (diamond: median and
  credible interval) and the posterior predictive interval for a new trial (bar).
* :func:`cell_forest`: per small cell, the REML + Knapp-Hartung diamond beside the Bayesian one.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from scipy import stats

from .style import GREY, MEASURE_NAMES, RATIO_MEASURES, num
from .table import Column, Graphic, Mark, Row, Table, draw_table

__all__ = ["shrinkage_forest", "cell_forest"]

OFFSET = 0.18  # rows between a study row's centre and each of its two marks


def _ci(e: float, lo: float, hi: float, digits: int) -> str:
    return f"{num(e, digits)} [{num(lo, digits)}, {num(hi, digits)}]"


def shrinkage_forest(
    result: Any,
    *,
    ax: Any = None,
    xlim: tuple[float, float] | None = None,
    digits: int = 2,
    title: str | None = None,
    favours: tuple[str, str] | None = None,
    label_width: float = 2.0,
    plot_width: float = 2.0,
    row_height: float = 0.2,
):
    """Forest of observed and shrunken study effects of a :class:`~evidence.meta.bayes.BayesResult`.

    Parameters
    ----------
    result : BayesResult
        The fit (see :func:`evidence.meta.bayes.bayes_pool`); ratio measures get a log axis.
    ax : matplotlib Axes, optional
        Draw into this Axes (the graphical column); default: a new figure sized to the rows.
    xlim : (float, float), optional
        Display-scale limits; default: chosen from the estimates (intervals beyond get arrows).
    favours : (str, str), optional
        Who is favoured left and right of the line of no effect (e.g. ``("usual care",
        "PDT")`` for effects oriented so that positive favours PDT); default: no labels.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from evidence.meta.bayes import bayes_pool
    >>> r = bayes_pool([-0.8893, -1.5854], [0.3256, 0.1946], labels=["Aronson", "Ferguson"],
    ...                measure="RR")
    >>> ax = shrinkage_forest(r)
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "row-1-label"]
    ['Ferguson']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if not hasattr(result, "theta_mean") or not hasattr(result, "prior"):
        raise TypeError("shrinkage_forest needs a BayesResult (evidence.meta.bayes.bayes_pool)")
    v = _shrinkage_values(result)
    lvl = f"{result.level:g}%"
    graphic = Graphic(
        log=v.log,
        null=v.null,
        header=MEASURE_NAMES.get(result.measure, result.measure or "Estimate"),
        ref=v.mu_e,
        xlim=xlim,
        markers="point",
        gid="shrunken",
    )
    t = Table(
        _shrinkage_rows(result, v, digits),
        graphic,
        right=[
            Column("obs", f"Observed [{lvl} CI]", colour=GREY),
            Column("shr", f"Shrunken [{lvl} CrI]"),
        ],
        footnote=_shrinkage_note(result, lvl),
        title=title,
        favours=favours,
        label_fit="Prediction (new trial)",
        label_width=label_width,
        plot_width=plot_width,
        row_height=row_height,
    )
    return draw_table(t, ax)


def _shrinkage_rows(result: Any, v: SimpleNamespace, digits: int) -> list[Row]:
    """A row per study (shrunken interval below its centre, observed above it as a mark), a
    gap, the mean effect mu and the prediction interval for a new trial."""
    rows = [
        Row(
            "study",
            label,
            {"obs": _ci(*obs, digits), "shr": _ci(*shr, digits)},
            *shr,
            gid=f"row-{i}",
            offset=OFFSET,
            marks=(Mark(*obs, offset=-OFFSET, gid="observed"),),
        )
        for i, (label, obs, shr) in enumerate(
            zip(
                result.study_labels,
                zip(v.obs, v.obs_lo, v.obs_hi, strict=True),
                zip(v.theta_med, v.th_lo, v.th_hi, strict=True),
                strict=True,
            )
        )
    ]
    mu = (v.mu_e, v.mu_lo, v.mu_hi)
    pi = f"[{num(v.pi_lo, digits)}, {num(v.pi_hi, digits)}]"
    return rows + [
        Row("blank", height=0.4),
        Row(
            "overall",
            "Mean effect (\u03bc)",
            {"shr": _ci(*mu, digits)},
            *mu,
            gid="diamond-overall",
            label_gid="mu-label",
            bold=True,
        ),
        Row(
            "pi",
            "Prediction (new trial)",
            {"shr": pi},
            np.nan,
            v.pi_lo,
            v.pi_hi,
            gid="prediction-interval",
            label_gid="pi-label",
        ),
    ]


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
    plot_width: float = 2.0,
    row_height: float = 0.2,
):
    """Summary forest of pooled cells: REML + Knapp-Hartung diamond beside the Bayesian one.

    Per cell (``table`` row; :func:`evidence.review.bayes_report.cell_table`'s columns, display
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
        "Black diamond: REML + Knapp-Hartung estimate and 95% CI. Hollow diamond: Bayesian "
        "posterior median and 95% credible interval (flat prior on the mean, the prior on "
        "\u03c4 as labelled); bar: 95% Bayesian predictive interval for a new trial."
    )
    header = MEASURE_NAMES.get(measure, measure or "Estimate")
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
            Row(
                "overall",
                "REML + Knapp-Hartung",
                {"est": _ci(*reml, digits)},
                *reml,
                gid=f"cell-{i}-reml",
            ),
            Row(
                "subtotal",
                f"Bayesian, {r['tau_prior']} on \u03c4",
                {"est": _ci(*bayes, digits)} | prob,
                *bayes,
                gid=f"cell-{i}-bayes",
                hollow=True,
            ),
            Row(
                "pi",
                "Bayesian prediction (new trial)",
                {"est": f"[{num(pi[0], digits)}, {num(pi[1], digits)}]"},
                np.nan,
                *pi,
                gid=f"cell-{i}-pi",
            ),
        ]
    return rows
