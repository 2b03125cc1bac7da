"""Forest plots of pooled and subgroup results, in the layout journals expect.

RevMan / metafor ``forest()`` layout: the study label and arm-level columns left of the graphic,
estimate, CI, weight and risk of bias right of it; subgroup headers, subtotal diamonds and their
heterogeneity; the overall diamond, prediction interval, tests and a methods footnote. The forest
modules only build the rows and columns from a result; :mod:`evidence.plots.table` lays them out
and draws them.

Decisions (documented so that readers of a figure can rely on them):

* Study confidence intervals are Wald intervals ``yi +/- z * sqrt(vi)`` at the result's level (as
  metafor's ``forest()``); pooled intervals, the prediction interval and all test statistics are
  the result's own numbers, never recomputed.
* With subgroups, study weights are percentages of the **overall** model (as R meta's
  ``forest()``); a subtotal's weight is the sum of its studies' weights.
* Ratio measures (OR, RR, HR, IRR, ROM) are drawn on a logarithmic axis labelled on the ratio
  scale; all other measures on a linear axis.

Where each piece is: :mod:`evidence.plots.forest_input` checks the result and its data and
prepares them (display scale, study Wald intervals, order), :mod:`evidence.plots.forest_rows`
builds the rows and columns with their wording (heterogeneity and test lines), and this module
(part 3 of 3) writes the methods footnote and draws the figure (:func:`forest_plot`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from evidence.meta.results import METHOD_NAMES, PI_NAMES, TEST_NAMES

from .forest_input import _Forest, _prepare
from .forest_rows import _columns, _foot_lines, _rows
from .style import MEASURE_NAMES, tick_label
from .table import Graphic, Table, draw_pages, draw_table

__all__ = ["forest_plot"]


def _reverse_note(f: _Forest, arm_labels, event: str | None) -> str:
    below = "1" if f.log else "0"
    what = f"lower odds of {event}" if event and f.log else "a lower value"
    kind = "Ratios" if f.log else "Differences"
    return (
        f"{kind} shown as {arm_labels[0]} vs {arm_labels[1].lower()}: below {below} = {what} "
        f"with {arm_labels[0]}."
    )


def _footnote(f: _Forest, tau2_rule, band) -> str:
    res, multi, lvl = f.overall, f.multi, f.lvl
    where = (
        f"{'overall ' if multi else ''}{res.model} model"
        if f.show_overall or not multi
        else f"{res.model} model of its subgroup (no overall pooling across subgroups)"
    )
    parts = [
        f"Squares: study estimates with {lvl} Wald CIs; square area proportional to the percent "
        f"weight in the {where}.",
        f"Diamond: pooled estimate and {lvl} CI; {res.model}"
        + ("" if res.method == "FE" else f", \u03c4\u00b2 by {METHOD_NAMES[res.method]}")
        + f", {TEST_NAMES[res.test]} test.",
    ]
    single = res.k == 1 and not multi
    if single:
        parts = [
            f"Square: the study estimate with its {lvl} Wald CI. Diamond: the same estimate and "
            f"{lvl} CI (a single study; z test)."
        ]
    if res.method != "FE" and not single:
        parts.append(f"Prediction interval: {PI_NAMES[res.pi_rule]}.")
    if multi and tau2_rule:
        parts.append(
            "Subgroups: \u03c4\u00b2 "
            + (
                "estimated separately in each subgroup."
                if tau2_rule == "separate"
                else "common to all subgroups."
            )
        )
    for text in dict.fromkeys(fit.methods_text() for fit in f.bayes.values()):
        parts.append(f"Hollow diamond: posterior of the mean effect; {text}.")
    if band is not None:
        parts.append(
            f"Shaded: equivalence band [{tick_label(band[0])}, {tick_label(band[1])}]"
            + (" (ratio scale)." if f.log else ".")
        )
    if f.log:
        parts.append("Ratio axis on a log scale.")
    if f.rob is not None:
        parts.append("RoB: + low, ! some concerns, \u2212 high risk of bias; blank: not reported.")
    return " ".join(parts)


def forest_plot(
    result: Any,
    *,
    ax: Any = None,
    data: pd.DataFrame | None = None,
    labels: Sequence[str] | None = None,
    sort: str | None = None,
    year: Sequence[float] | None = None,
    favours: tuple[str, str] | None = ("comparator", "PDT"),
    arm_labels: tuple[str, str] = ("PDT", "Comparator"),
    reverse: bool = False,
    event: str | None = None,
    band: tuple[float, float] | None = None,
    xlim: tuple[float, float] | None = None,
    xticks: Sequence[float] | None = None,
    show_pi: bool | None = None,
    digits: int = 2,
    effect_label: str | None = None,
    title: str | None = None,
    footnote: str | None = None,
    label_width: float = 1.9,
    plot_width: float = 2.0,
    max_width: float | None = None,
    row_height: float = 0.2,
    overall: bool = True,
    rows_per_page: int | None = None,
    bayes: Any = None,
):
    """Forest plot of a pooled or subgroup result, in the layout journals expect.

    Parameters
    ----------
    result : PoolResult or subgroup result
        From :func:`evidence.pool` or :func:`evidence.subgroups` (anything with ``results``,
        ``overall``, ``groups``, ``q_between``, ``q_between_df``, ``q_between_pvalue``).
    ax : matplotlib Axes, optional
        Axes for the graphical column. The text columns are drawn outside it (left and right,
        header above, tests and footnote below), so leave room around it. By default a new figure
        is created whose size follows the number of rows and the column widths.
    data : DataFrame, optional
        One row per study in the order of the result. Columns ``events1``, ``mean1`` (or
        ``m1``), ``sd1``, ``n1`` (and ``...2`` for the comparator arm) are shown as arm-level
        columns when present; a ``rob`` column (low / some concerns / high, or +, !, -) adds a
        risk-of-bias column; a ``year`` column is used by ``sort="year"``.
    labels : sequence of str, optional
        Study labels; default ``result.study_labels`` (from ``pool(..., labels=...)``).
    sort : {None, "year", "weight", "effect"}
        Row order within the analysis (within each subgroup): input order, year (``year`` or
        ``data["year"]``), decreasing weight, or increasing effect.
    favours : (str, str) or None
        Who is favoured by effects below and above the line of no effect **in the orientation of
        the result's yi**: "Favours <first>" left, "Favours <second>" right (swapped when
        ``reverse``). The default ``("comparator", "PDT")`` matches the package's data, where a
        positive ``yi`` always favours PDT (``data/README.md``, the direction rule); for effects
        computed another way, pass the names. ``None`` hides them.
    arm_labels : (str, str)
        Headers over the arm-level columns (arm 1, arm 2).
    reverse : bool, default False
        Draw ``-yi``: every estimate, interval and test statistic changes sign (ratios are
        inverted) and the favours labels swap sides. Use it to show the natural odds ratio
        (arm 1 vs arm 2) of a harmful event whose ``yi`` was turned round so that positive
        favours PDT: then "Favours PDT" sits left, where PDT has fewer events. The footnote says
        which way the ratios run.
    event : str, optional
        Name of the event of a binary outcome ("suicide attempts", "remission"): named in the
        plot header and, with ``reverse``, in the footnote.
    band : (float, float), optional
        Shade an equivalence band (display scale: ratios for ratio measures).
    xlim, xticks : optional
        Axis limits and ticks on the display scale. By default the limits are ticks covering the
        estimates, the pooled CI and the line of no effect, extended by up to that span for
        study CIs; intervals running further end in arrows.
    show_pi : bool, optional
        Prediction-interval row; default: shown for random-effects models.
    overall : bool, default True
        For subgroup results: draw the diamond, prediction interval, heterogeneity line and
        test of the model pooling all studies. Pass False when the subgroups are not
        exchangeable (e.g. different comparators, or trials whose PDT arm appears in several
        subgroups); study weights are then percentages within each subgroup.
    digits : int, default 2
        Decimals of estimates and CIs.
    effect_label : str, optional
        Name of the measure in the headers (default from ``result.measure``).
    title, footnote : str, optional
        Title above the table; extra text appended to the methods footnote.
    label_width, plot_width, row_height : float
        Maximum width of the study-label column, width of the graphical column and height of a
        row, in inches. Longer labels are wrapped onto two lines, then shortened with an ellipsis.
        Text never shrinks: a forest of 300 studies is 300 rows tall at its natural size.
    max_width : float, optional
        The widest the figure may be (inches): the graphical column narrows first (to 1.4
        inches), then the label column (to 1.2 inches, wrapping labels). Default: as wide as
        the columns need.
    rows_per_page : int, optional
        Split a longer forest into pages of at most this many rows (same columns and axis on
        every page; tests and footnote on the last) and return a list of Axes, one figure each.
    bayes : BayesResult or mapping, optional
        Bayesian fits (:func:`evidence.bayes_pool`) to show as a hollow diamond under the
        pooled rows they belong to: one fit for a pooled result, or ``{subgroup name: fit}``
        for a subgroup result (subgroups without a fit get none). The posterior median and
        credible interval of the mean effect are drawn, in the orientation of the plot; the
        footnote names the model and the prior.

    Returns
    -------
    matplotlib.axes.Axes (list of them with ``rows_per_page``)
        The graphical column. Artists carry gids: ``study-estimates`` (squares),
        ``study-cis``, ``diamond-overall``, ``diamond-subgroup-<i>``, ``prediction-interval``,
        ``heterogeneity``, ``heterogeneity-<i>``, ``overall-test``, ``subgroup-test``,
        ``diamond-bayes`` and ``diamond-bayes-<i>``.

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.pool([0.1, 0.3, 0.35, 0.65], [0.03, 0.03, 0.05, 0.01],
    ...               labels=["Ames 2001", "Berg 2005", "Cole 2010", "Diaz 2019"], measure="SMD")
    >>> ax = forest_plot(res, title="synthetic example")
    >>> [t.get_text().replace(chr(160), " ") for t in ax.texts if t.get_gid() == "heterogeneity"]
    ['Heterogeneity: τ² = 0.043; Q = 9.02, df = 3 (p = 0.029); I² = 63%']
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "favours-right"]
    ['  Favours PDT →']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    f = _prepare(
        result, data=data, labels=labels, sort=sort, year=year, show_pi=show_pi,
        overall=overall, digits=digits, reverse=reverse, bayes=bayes,
    )  # fmt: skip
    measure = f.overall.measure
    mname = effect_label or (measure if measure else "Estimate")
    left, right, spans = _columns(f, mname, arm_labels)
    head = MEASURE_NAMES.get(measure, mname) if effect_label is None else effect_label
    if event:
        head = f"{head} of {event}, {arm_labels[0]} vs {arm_labels[1].lower()}"
    pooled = f.show_overall or not f.multi
    graphic = Graphic(
        log=f.log,
        null=1.0 if f.log else 0.0,
        header=f"{head} ({f.lvl} CI)",
        band=band,
        ref=f.interval(f.overall.estimate)[0] if pooled else None,
        xlim=xlim,
        xticks=xticks,
    )
    note = _footnote(f, getattr(result, "tau2_rule", None), band)
    if reverse:
        note += " " + _reverse_note(f, arm_labels, event)
    if reverse and favours is not None:
        favours = (favours[1], favours[0])
    table = Table(
        _rows(f),
        graphic,
        label_header="Study",
        left=left,
        right=right,
        spans=spans,
        foot_lines=_foot_lines(f, result),
        footnote=f"{note} {footnote}" if footnote else note,
        title=title,
        favours=favours,
        label_width=label_width,
        plot_width=plot_width,
        max_width=max_width,
        row_height=row_height,
    )
    if rows_per_page is not None:
        return draw_pages(table, rows_per_page)
    return draw_table(table, ax)
