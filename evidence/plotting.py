"""Plots (stage 5: data -> effects -> pooling -> results -> **plotting**).

Forest plots in the layout journals expect (RevMan / metafor ``forest()``), contour-enhanced
funnel plots and forests of cumulative or leave-one-out frames. Every function is a pure function
of a result: it takes ``ax=None`` (a new figure sized to its content) or an Axes to draw into, and
returns the Axes. Styling happens only inside :func:`matplotlib.style.context` (global rcParams are
never changed) and matplotlib is imported only when a function is called. Save figures with
:func:`evidence.io.save_figure` for byte-identical files.

Layout decisions (documented so that readers of a figure can rely on them):

* Study squares have **area proportional to the percent weight** under the fitted model (the
  largest weight gets a square of ``MAX_MARKER_PT`` points a side; squares never shrink below
  ``MIN_MARKER_PT`` points a side so that a tiny weight stays visible; the CI line is always
  drawn).
* Study confidence intervals are Wald intervals ``yi +/- z * sqrt(vi)`` at the result's level (as
  metafor's ``forest()``); pooled intervals, the prediction interval and all test statistics are
  the result's own numbers, never recomputed.
* With subgroups, study weights are percentages of the **overall** model (as R meta's
  ``forest()``); a subtotal's weight is the sum of its studies' weights.
* Ratio measures (OR, RR, HR, IRR, ROM) are drawn on a logarithmic axis labelled on the ratio
  scale; all other measures on a linear axis.
* A confidence or prediction interval running past the axis limits ends in an arrow at the limit.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .results import METHOD_NAMES, PI_NAMES, TEST_NAMES

__all__ = [
    "RATIO_MEASURES",
    "STYLE",
    "forest_plot",
    "forest_from_frame",
    "funnel_plot",
]

#: Measures analysed on the log scale and shown on a log axis with ratio labels.
RATIO_MEASURES = ("OR", "RR", "HR", "IRR", "ROM")

#: rcParams applied (on top of matplotlib's defaults) inside every plotting function.
STYLE = MappingProxyType(
    {
        "font.family": "DejaVu Sans",
        "font.size": 8.0,
        "axes.linewidth": 0.8,
        "axes.unicode_minus": True,
        "xtick.labelsize": 8.0,
        "ytick.labelsize": 8.0,
        "xtick.major.size": 3.0,
        "xtick.major.width": 0.8,
        "xtick.major.pad": 2.0,
        "xtick.direction": "out",
        "lines.solid_capstyle": "butt",
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "figure.dpi": 100.0,
        "svg.hashsalt": "evidence",
        "legend.fontsize": 7.0,
        "legend.frameon": False,
    }
)

FONT_PT = 8.0  # table text
SMALL_PT = 7.0  # heterogeneity lines, favours labels
NOTE_PT = 6.5  # methods footnote
MAX_MARKER_PT = 10.0  # side of the square of the largest weight
MIN_MARKER_PT = 2.0  # smallest square side drawn
INK = "#1a1a1a"
GREY = "#595959"
SQUARE = "#2f4b7c"
DIAMOND = "#1a1a1a"
SUB_DIAMOND = "#8c8c8c"
PI_FILL = "#c9c9c9"
BAND = "#dfeee0"
ROB_COLOURS = MappingProxyType({"low": "#2ca02c", "some": "#f2c500", "high": "#c0392b"})
ROB_SYMBOLS = MappingProxyType({"low": "+", "some": "!", "high": "\u2212"})
_ROB_ALIASES = MappingProxyType(
    {
        "low": "low",
        "l": "low",
        "+": "low",
        "low risk": "low",
        "some concerns": "some",
        "some": "some",
        "s": "some",
        "!": "some",
        "?": "some",
        "unclear": "some",
        "moderate": "some",
        "m": "some",
        "u": "some",
        "high": "high",
        "h": "high",
        "-": "high",
        "\u2212": "high",
        "high risk": "high",
    }
)
_MEASURE_NAMES = MappingProxyType(
    {
        "SMD": "Standardised mean difference",
        "MD": "Mean difference",
        "OR": "Odds ratio",
        "RR": "Risk ratio",
        "RD": "Risk difference",
        "HR": "Hazard ratio",
        "IRR": "Incidence rate ratio",
        "ROM": "Ratio of means",
    }
)
_MINUS = "\u2212"
_NBSP = "\u00a0"


# ------------------------------------------------------------------------------------------
# small helpers


def _style():
    import matplotlib.style

    return matplotlib.style.context(["default", dict(STYLE)])


def _num(x: float, digits: int = 2) -> str:
    """Fixed-decimal number with a typographic minus; 'NA' when missing."""
    if x is None or np.isnan(x):
        return "NA"
    if np.isinf(x):
        return "\u221e" if x > 0 else f"{_MINUS}\u221e"
    s = f"{x:.{digits}f}"
    if float(s) == 0:
        s = f"{0.0:.{digits}f}"
    return s.replace("-", _MINUS)


def _pval(p: float) -> str:
    if p is None or not np.isfinite(p):
        return _eq("p", "NA")
    return f"p{_NBSP}<{_NBSP}0.001" if p < 0.001 else _eq("p", f"{p:.3f}")


def _tau2_text(t: float) -> str:
    if not np.isfinite(t):
        return "NA"
    return "0" if t == 0 else f"{t:.3f}" if t >= 0.0005 else f"{t:.1e}"


class _Measure:
    """Width of text in inches, measured with Agg (independent of any canvas).

    Hinting makes small text slightly wider or narrower depending on the resolution, so the width
    is the largest of those measured at 100, 150 and 300 dpi (screen, notebook and print), plus 3%.
    """

    _DPIS = (100, 150, 300)

    def __init__(self) -> None:
        from matplotlib.backends.backend_agg import RendererAgg

        self._r = [RendererAgg(8, 8, d) for d in self._DPIS]
        self._props: dict[tuple[float, str], Any] = {}
        self._cache: dict[tuple[str, float, str], float] = {}

    def __call__(self, s: str, size: float = FONT_PT, weight: str = "normal") -> float:
        from matplotlib.font_manager import FontProperties

        key = (size, weight)
        if key not in self._props:
            self._props[key] = FontProperties(family="DejaVu Sans", size=size, weight=weight)
        w = 0.0
        for line in str(s).split("\n"):
            if not line:
                continue
            ck = (line, size, weight)
            if ck not in self._cache:
                self._cache[ck] = max(
                    r.get_text_width_height_descent(line, self._props[key], ismath=False)[0] / d
                    for r, d in zip(self._r, self._DPIS, strict=True)
                )
            w = max(w, self._cache[ck])
        return 1.03 * w

    def wrap(
        self,
        s: str,
        width: float,
        size: float = FONT_PT,
        weight: str = "normal",
        max_lines: int | None = None,
        seps: str = " ",
    ) -> str:
        """Wrap ``s`` into lines no wider than ``width`` inches (shortened with an ellipsis)."""
        if self(s, size, weight) <= width:
            return s
        words = s.split(" ")
        lines: list[str] = []
        cur = ""
        for wd in words:
            trial = f"{cur} {wd}" if cur else wd
            if self(trial, size, weight) <= width or not cur:
                cur = trial
            else:
                lines.append(cur)
                cur = wd
        lines.append(cur)
        lines = [self._shorten(ln, width, size, weight) for ln in lines]
        if max_lines is not None and len(lines) > max_lines:
            rest = " ".join(lines[max_lines - 1 :])
            lines = lines[: max_lines - 1] + [self._shorten(rest + "\u2026", width, size, weight)]
        return "\n".join(lines)

    def _shorten(self, s: str, width: float, size: float, weight: str) -> str:
        if self(s, size, weight) <= width:
            return s
        while len(s) > 1 and self(s.rstrip("\u2026") + "\u2026", size, weight) > width:
            s = s.rstrip("\u2026")[:-1]
        return s.rstrip("\u2026").rstrip() + "\u2026"


def _xin(ax, anchor: float):
    """Blended transform: x in inches from the axes' left (anchor 0) or right (1) edge, y data."""
    from matplotlib import transforms

    fig = ax.figure
    tx = fig.dpi_scale_trans + transforms.ScaledTranslation(anchor, 0, ax.transAxes)
    return transforms.blended_transform_factory(tx, ax.transData)


def _yin(ax, anchor_x: float):
    """x in inches from an axes edge, y in inches from the axes bottom (for text under the plot)."""
    from matplotlib import transforms

    fig = ax.figure
    return fig.dpi_scale_trans + transforms.ScaledTranslation(anchor_x, 0, ax.transAxes)


def _put(
    ax,
    xx,
    yy,
    s,
    trans,
    *,
    ha="left",
    va="center",
    size=FONT_PT,
    weight="normal",
    color=INK,
    gid=None,
    linespacing=None,
):
    """Unclipped plain text (no mathtext) on the table grid of a forest plot."""
    return ax.text(
        xx,
        yy,
        s,
        transform=trans,
        ha=ha,
        va=va,
        fontsize=size,
        fontweight=weight,
        color=color,
        clip_on=False,
        gid=gid,
        parse_math=False,
        linespacing=linespacing,
    )


def _value_axis(ax, ylim, xlim, ticks, log: bool) -> None:
    """The graphical column's axes: limits, fixed ticks with display-scale labels, x spine only."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_ylim(*ylim)
    if log:
        ax.set_xscale("log")
    ax.set_xlim(*xlim)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([_tick_label(t) for t in ticks])
    ax.yaxis.set_visible(False)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(INK)
    ax.tick_params(axis="x", colors=INK, labelsize=FONT_PT, length=3, width=0.8, pad=2)
    ax.set_facecolor("none")


def _is_subgroup(result: Any) -> bool:
    return all(hasattr(result, a) for a in ("results", "overall", "groups"))


def _check_result(result: Any) -> None:
    if _is_subgroup(result):
        return
    need = ("yi", "vi", "weights", "estimate", "ci_low", "ci_high", "tau2", "pi_low", "level")
    missing = [a for a in need if not hasattr(result, a)]
    if missing:
        name = type(result).__name__
        raise TypeError(
            f"forest_plot: expected a PoolResult (evidence.pool) or a subgroup result "
            f"(evidence.subgroups); {name} lacks {', '.join(missing)}. Mantel-Haenszel/Peto "
            f"results (pool_binary) carry no model weights or prediction interval."
        )


def _model_label(res: Any) -> str:
    """methods_text() without its prediction-interval part: 'Random effects, REML, Wald z'."""
    return res.methods_text().split(", PI ")[0]


def _pi_rule_label(res: Any) -> str:
    if res.pi_rule == "metafor":
        return "metafor rule: normal" if res.test == "z" else "metafor rule: t(k\u22121)"
    return "t(k\u22122)" if res.pi_rule == "higgins" else "t(k\u22121)"


def _eq(name: str, value: str) -> str:
    """'name = value' with no-break spaces, so that wrapping never splits it."""
    return f"{name}{_NBSP}={_NBSP}{value}"


def _het_text(res: Any) -> str:
    if res.k < 2 or not np.isfinite(res.q):
        return f"Heterogeneity: not applicable ({_eq('k', str(res.k))})"
    parts = []
    if res.method != "FE":
        parts.append(_eq("\u03c4\u00b2", _tau2_text(res.tau2)))
    parts.append(
        f"{_eq('Q', _num(res.q, 2))}, {_eq('df', str(res.k - 1))}{_NBSP}({_pval(res.q_pvalue)})"
    )
    parts.append(_eq("I\u00b2", f"{res.i2:.0f}%"))
    return "Heterogeneity: " + "; ".join(parts)


def _test_text(res: Any, what: str = "overall effect") -> str:
    if res.test == "z":
        stat = "z"
    else:
        stat = f"t({int(round(res.df))})" if np.isfinite(res.df) else "t"
    return f"Test for {what}: {_eq(stat, _num(res.statistic, 2))}{_NBSP}({_pval(res.pvalue)})"


def _nice_limits(
    lo: float, hi: float, log: bool, nbins: int = 5
) -> tuple[float, float, np.ndarray]:
    """Axis limits that are ticks covering [lo, hi] (display scale), and the ticks."""
    if log:
        # candidate tick sets, most readable first: powers of 2, 1-2-5, powers of 10, 100
        sets = [
            2.0 ** np.arange(-12, 13),
            np.array([m * 10.0**e for e in range(-4, 5) for m in (1, 2, 5)]),
            10.0 ** np.arange(-8, 9),
            100.0 ** np.arange(-4, 5),
        ]
        for base in sets:
            base = np.sort(base)
            t0 = base[base <= lo * (1 + 1e-9)].max()
            t1 = base[base >= hi * (1 - 1e-9)].min()
            ticks = base[(base >= t0) & (base <= t1)]
            if ticks.size <= nbins + 1:
                break
        return float(t0), float(t1), ticks
    from matplotlib.ticker import MaxNLocator

    loc = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10])
    t = loc.tick_values(lo, hi)
    t0 = t[t <= lo + 1e-12].max()
    t1 = t[t >= hi - 1e-12].min()
    ticks = t[(t >= t0 - 1e-12) & (t <= t1 + 1e-12)]
    return float(t0), float(t1), ticks


def _auto_range(core, ext_lo, ext_hi, log: bool) -> tuple[float, float]:
    """Display-scale range: the ``core`` values (estimates, pooled CIs, null, band), extended by
    up to their span to show interval ends (``ext_lo``/``ext_hi``); the rest gets arrows."""
    tr = np.log if log else (lambda v: np.asarray(v, float))
    core = np.asarray(core, float)
    core = tr(core[np.isfinite(core) & ((core > 0) if log else True)])
    cmin, cmax = float(core.min()), float(core.max())
    span = max(cmax - cmin, np.log(2) if log else 0.4)
    lo_e = np.asarray(ext_lo, float)
    hi_e = np.asarray(ext_hi, float)
    lo_e = tr(lo_e[np.isfinite(lo_e) & ((lo_e > 0) if log else True)])
    hi_e = tr(hi_e[np.isfinite(hi_e)])
    lo = min(cmin, max(float(lo_e.min()) if lo_e.size else cmin, cmin - span))
    hi = max(cmax, min(float(hi_e.max()) if hi_e.size else cmax, cmax + span))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    return (float(np.exp(lo)), float(np.exp(hi))) if log else (lo, hi)


def _fit_ticks(lo, hi, log, width, meas) -> tuple[float, float, np.ndarray]:
    """Nice limits and ticks whose labels take at most 70% of the axis width."""
    for nbins in (6, 5, 4, 3, 2):
        x0, x1, ticks = _nice_limits(lo, hi, log, nbins)
        used = sum(meas(_tick_label(t)) + 0.08 for t in ticks)
        if used <= 0.7 * width:
            break
    return x0, x1, ticks


def _tick_label(v: float) -> str:
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s.replace("-", _MINUS)


# ------------------------------------------------------------------------------------------
# forest plot model


@dataclass
class _Row:
    kind: str  # study, group, subtotal, overall, pi, note, blank
    label: str = ""
    cells: dict[str, str] = field(default_factory=dict)
    est: float = np.nan  # display scale
    lo: float = np.nan
    hi: float = np.nan
    weight: float = np.nan
    rob: str | None = None
    gid: str = ""
    height: float = 1.0
    bold: bool = False
    size: float = FONT_PT
    y: float = 0.0


@dataclass
class _Col:
    key: str
    header: str
    align: str  # "left" or "right"
    side: str  # "left" or "right" of the plot
    width: float = 0.0
    x: float = 0.0  # inches from the anchored axes edge (left/right edge of column)
    group: str | None = None


# (accepted column stems, header); "m1"/"m2" are the names evidence.effect_sizes uses
_ARM_FIELDS = ((("events",), "Events"), (("mean", "m"), "Mean"), (("sd",), "SD"), (("n",), "Total"))


def _arm_columns(data: pd.DataFrame | None) -> list[tuple[str, str, int]]:
    """(column name, header, arm) for the arm-level columns present in ``data``."""
    if data is None:
        return []
    cols = []
    for arm in (1, 2):
        for stems, head in _ARM_FIELDS:
            for stem in stems:
                if f"{stem}{arm}" in data.columns:
                    cols.append((f"{stem}{arm}", head, arm))
                    break
    return cols


def _fmt_arm_col(values: pd.Series, integer: bool) -> list[str]:
    """Format one arm-level column with a common number of decimals (as reported, up to 3)."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(x)
    if integer:
        d = 0
    else:
        d = 0
        for dd in range(4):
            d = dd
            if np.all(np.abs(np.round(x[ok], dd) - x[ok]) < 1e-9):
                break
    return [
        f"{v:.{d}f}".replace("-", _MINUS) if f else "\u2013" for v, f in zip(x, ok, strict=True)
    ]


def _rob_level(value: Any, row: int) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    key = str(value).strip().lower()
    if key not in _ROB_ALIASES:
        raise ValueError(
            f"forest_plot: data row {row}, column 'rob': unknown risk-of-bias value {value!r}; "
            f"use low / some concerns / high (or +, !, -)"
        )
    return _ROB_ALIASES[key]


def _validate_data(data: Any, k: int) -> pd.DataFrame | None:
    if data is None:
        return None
    if not isinstance(data, pd.DataFrame):
        raise TypeError("forest_plot: data must be a pandas DataFrame (one row per study)")
    if len(data) != k:
        raise ValueError(
            f"forest_plot: data has {len(data)} rows for {k} studies; give one row per study "
            f"in the order of the result"
        )
    data = data.reset_index(drop=True)
    for c, _, _ in _arm_columns(data):
        vals = pd.to_numeric(data[c], errors="coerce")
        bad = np.flatnonzero(vals.isna().to_numpy() & data[c].notna().to_numpy())
        if bad.size:
            raise ValueError(
                f"forest_plot: data row {bad[0]}, column {c!r}: not a number ({data[c][bad[0]]!r})"
            )
    return data


@dataclass
class _Block:
    name: str | None
    idx: np.ndarray
    res: Any


def _blocks(result: Any) -> tuple[Any, list[_Block]]:
    if not _is_subgroup(result):
        return result, [_Block(None, np.arange(result.k), result)]
    overall = result.overall
    groups = np.asarray(result.groups).astype(str)
    if groups.size != overall.k:
        raise ValueError(
            f"forest_plot: subgroup result has {groups.size} group labels for {overall.k} studies"
        )
    blocks = []
    for name, res in result.results.items():
        idx = np.flatnonzero(groups == str(name))
        if idx.size != res.k:
            raise ValueError(
                f"forest_plot: subgroup {name!r} has {idx.size} studies in .groups but its "
                f"result has k = {res.k}"
            )
        blocks.append(_Block(str(name), idx, res))
    return overall, blocks


def _order(idx: np.ndarray, sort: str | None, yi, weights, year) -> np.ndarray:
    if sort is None:
        return idx
    if sort == "effect":
        key = yi[idx]
    elif sort == "weight":
        key = -weights[idx]
    else:
        key = year[idx]
    key = np.where(np.isfinite(key), key, np.inf)
    return idx[np.argsort(key, kind="stable")]


# ------------------------------------------------------------------------------------------
# forest plot


def forest_plot(
    result: Any,
    *,
    ax: Any = None,
    data: pd.DataFrame | None = None,
    labels: Sequence[str] | None = None,
    sort: str | None = None,
    year: Sequence[float] | None = None,
    favours: tuple[str, str] | None = ("PDT", "comparator"),
    arm_labels: tuple[str, str] = ("PDT", "Comparator"),
    band: tuple[float, float] | None = None,
    xlim: tuple[float, float] | None = None,
    xticks: Sequence[float] | None = None,
    show_pi: bool | None = None,
    digits: int = 2,
    effect_label: str | None = None,
    title: str | None = None,
    footnote: str | None = None,
    label_width: float = 2.4,
    plot_width: float = 2.6,
    row_height: float = 0.2,
    overall: bool = True,
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
        Names under the axis: left of the line of no effect "Favours <first>", right "Favours
        <second>". ``None`` hides them. Which side favours which arm depends on how the effect
        sizes were computed: check before publishing.
    arm_labels : (str, str)
        Headers over the arm-level columns (arm 1, arm 2).
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

    Returns
    -------
    matplotlib.axes.Axes
        The graphical column. Artists carry gids: ``study-estimates`` (squares),
        ``study-cis``, ``diamond-overall``, ``diamond-subgroup-<i>``, ``prediction-interval``,
        ``heterogeneity``, ``heterogeneity-<i>``, ``overall-test``, ``subgroup-test``.

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.pool([0.1, 0.3, 0.35, 0.65], [0.03, 0.03, 0.05, 0.01],
    ...               labels=["Ames 2001", "Berg 2005", "Cole 2010", "Diaz 2019"], measure="SMD")
    >>> ax = forest_plot(res, title="synthetic example")
    >>> [t.get_text().replace(chr(160), " ") for t in ax.texts if t.get_gid() == "heterogeneity"]
    ['Heterogeneity: τ² = 0.043; Q = 9.02, df = 3 (p = 0.029); I² = 63%']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    _check_result(result)
    show_overall = overall
    overall, blocks = _blocks(result)
    k = overall.k
    data = _validate_data(data, k)
    if sort not in (None, "year", "weight", "effect"):
        raise ValueError(
            f"forest_plot: sort must be None, 'year', 'weight' or 'effect'; got {sort!r}"
        )
    yr = None
    if sort == "year":
        if year is not None:
            yr = np.asarray(year, dtype=float)
        elif data is not None and "year" in data.columns:
            yr = pd.to_numeric(data["year"], errors="coerce").to_numpy(dtype=float)
        else:
            raise ValueError("forest_plot: sort='year' needs year= or a 'year' column in data")
        if yr.size != k:
            raise ValueError(f"forest_plot: year has {yr.size} entries for {k} studies")
    labels = tuple(str(s) for s in (labels if labels is not None else overall.study_labels))
    if len(labels) != k:
        raise ValueError(f"forest_plot: labels has {len(labels)} entries for {k} studies")
    if show_pi is None:
        show_pi = overall.method != "FE"

    measure = overall.measure
    log = measure in RATIO_MEASURES
    tf = np.exp if log else (lambda x: np.asarray(x, dtype=float))
    null = 1.0 if log else 0.0
    level = overall.level
    zc = stats.norm.isf((1 - level / 100) / 2)
    yi, vi = np.asarray(overall.yi, float), np.asarray(overall.vi, float)
    weights = np.asarray(overall.weights, float)
    if not show_overall:  # weights within each subgroup; no pooled-over-everything rows
        weights = np.empty(k)
        for blk in blocks:
            weights[blk.idx] = np.asarray(blk.res.weights, float)
    s_est, s_lo, s_hi = tf(yi), tf(yi - zc * np.sqrt(vi)), tf(yi + zc * np.sqrt(vi))
    mname = effect_label or (measure if measure else "Estimate")
    lvl = f"{level:g}%"

    rob = None
    if data is not None and "rob" in data.columns:
        rob = [_rob_level(v, i) for i, v in enumerate(data["rob"].tolist())]
    arm_cols = _arm_columns(data)

    with _style():
        meas = _Measure()

        # ---- rows ------------------------------------------------------------------------
        rows: list[_Row] = []
        arm_text = {
            c: _fmt_arm_col(data[c], head in ("Total", "Events")) for c, head, _ in arm_cols
        }

        def arm_totals(idx: np.ndarray) -> dict[str, str]:
            out = {}
            for c, head, _arm in arm_cols:
                if head in ("Total", "Events"):
                    vals = pd.to_numeric(data[c], errors="coerce").to_numpy(float)[idx]
                    out[c] = "\u2013" if np.isnan(vals).any() else f"{int(round(vals.sum()))}"
            return out

        def effect_cells(est: float, lo: float, hi: float) -> dict[str, str]:
            return {
                "est": _num(est, digits),
                "lo": f"[{_num(lo, digits)},",
                "hi": f"{_num(hi, digits)}]",
            }

        def pooled_row(res: Any, kind: str, label: str, idx: np.ndarray, gid: str) -> _Row:
            cells = effect_cells(*(float(tf(v)) for v in (res.estimate, res.ci_low, res.ci_high)))
            cells["weight"] = f"{weights[idx].sum():.1f}%"
            cells.update(arm_totals(idx))
            return _Row(
                kind,
                label,
                cells,
                float(tf(res.estimate)),
                float(tf(res.ci_low)),
                float(tf(res.ci_high)),
                gid=gid,
                bold=True,
            )

        def pi_row(res: Any, gid: str) -> _Row:
            pl, ph = float(tf(res.pi_low)), float(tf(res.pi_high))
            ok = np.isfinite(pl) and np.isfinite(ph)
            cells = {"lo": f"[{_num(pl, digits)},", "hi": f"{_num(ph, digits)}]"} if ok else {}
            rule = _pi_rule_label(res).replace(" ", _NBSP)  # wraps as one unit
            label = f"{lvl} prediction interval ({rule})"
            if not ok:
                label += f": not estimable (k = {res.k})"
            return _Row("pi", label, cells, np.nan, pl, ph, gid=gid)

        # without the overall model, each subgroup gets its own prediction-interval row
        subgroup_pi = not show_overall and overall.method != "FE" and show_pi
        multi = len(blocks) > 1 or blocks[0].name is not None
        for j, blk in enumerate(blocks):
            if multi:
                rows.append(_Row("group", blk.name, bold=True, gid=f"group-{j}"))
            for i in _order(blk.idx, sort, yi, weights, yr):
                cells = effect_cells(s_est[i], s_lo[i], s_hi[i])
                cells["weight"] = f"{weights[i]:.1f}%"
                for c, _head, _arm in arm_cols:
                    cells[c] = arm_text[c][i]
                rows.append(
                    _Row(
                        "study",
                        labels[i],
                        cells,
                        s_est[i],
                        s_lo[i],
                        s_hi[i],
                        weights[i],
                        rob[i] if rob else None,
                        gid=f"study-{i}",
                    )
                )
            if multi:
                rows.append(
                    pooled_row(
                        blk.res,
                        "subtotal",
                        f"Subtotal (k = {blk.res.k})",
                        blk.idx,
                        f"diamond-subgroup-{j}",
                    )
                )
                if subgroup_pi and blk.res.k > 1:
                    rows.append(pi_row(blk.res, f"prediction-interval-{j}"))
                rows.append(
                    _Row(
                        "note",
                        _het_text(blk.res),
                        size=SMALL_PT,
                        gid=f"heterogeneity-{j}",
                        height=0.85,
                    )
                )
                rows.append(
                    _Row(
                        "note",
                        _test_text(blk.res, "subgroup effect"),
                        size=SMALL_PT,
                        gid=f"subgroup-effect-{j}",
                        height=0.85,
                    )
                )
                rows.append(_Row("blank", height=0.5))
        if not multi:
            rows.append(_Row("blank", height=0.4))
        if show_overall or not multi:
            rows.append(
                pooled_row(
                    overall, "overall", _model_label(overall), np.arange(k), "diamond-overall"
                )
            )
        if show_pi and (show_overall or not multi):
            rows.append(pi_row(overall, "prediction-interval"))

        foot_lines = [(_het_text(overall), "heterogeneity"), (_test_text(overall), "overall-test")]
        if multi and not show_overall:
            foot_lines = []
        if multi:
            qb = getattr(result, "q_between", np.nan)
            dfb = getattr(result, "q_between_df", np.nan)
            pb = getattr(result, "q_between_pvalue", np.nan)
            dft = "NA" if not np.isfinite(dfb) else f"{int(round(dfb))}"
            rule = getattr(result, "tau2_rule", None)
            extra = {
                "separate": " [\u03c4\u00b2 estimated separately per subgroup]",
                "common": " [common \u03c4\u00b2 across subgroups]",
            }.get(rule, "")
            if getattr(result, "q_between_test", "chi2") == "F":
                stat = _eq(f"F({dft}, {k - len(blocks)})", _num(qb, 2))
            else:
                stat = f"{_eq('Q', _num(qb, 2))}, {_eq('df', dft)}"
            foot_lines.append(
                (
                    f"Test for subgroup differences: {stat}{_NBSP}({_pval(pb)}){extra}",
                    "subgroup-test",
                )
            )

        # ---- columns ---------------------------------------------------------------------
        gap = 0.12
        max_label = max(
            [
                meas(r.label, r.size, "bold" if r.bold else "normal")
                for r in rows
                if r.kind in ("study", "group", "subtotal", "overall")
            ]
            + [0.6]
        )
        lab_w = min(max_label, label_width)
        left_cols = [_Col("label", "Study", "left", "left", lab_w)]
        for c, head, arm in arm_cols:
            left_cols.append(_Col(c, head, "right", "left", group=arm_labels[arm - 1]))
        right_cols = [
            _Col("est", f"{mname}", "right", "right"),
            _Col("lo", f"[{lvl} CI]", "right", "right"),
            _Col("hi", "", "right", "right"),
            _Col("weight", "Weight", "right", "right"),
        ]
        if rob is not None:
            right_cols.append(_Col("rob", "RoB", "center", "right", 0.3))
        for col in left_cols[1:] + right_cols:
            if col.key == "rob":
                continue
            vals = [r.cells.get(col.key, "") for r in rows]
            col.width = max(
                [meas(v, FONT_PT, "bold") for v in vals] + [meas(col.header, FONT_PT, "bold")]
            )
        # header "SMD [95% CI]" spans est/lo/hi: make sure the three together are wide enough
        eff_head = f"{mname} [{lvl} CI]"
        right_cols[1].header = ""
        right_cols[0].header = ""
        need = meas(eff_head, FONT_PT, "bold")
        have = right_cols[0].width + right_cols[1].width + right_cols[2].width + 0.08
        if need > have:
            right_cols[0].width += need - have
        # arm group headers must fit over their columns
        for arm in (1, 2):
            cols = [c for c in left_cols if c.group == arm_labels[arm - 1]]
            if cols:
                span = sum(c.width for c in cols) + gap * (len(cols) - 1)
                need = meas(arm_labels[arm - 1], FONT_PT, "bold")
                if need > span:
                    cols[0].width += need - span
        # positions: left columns from the axes' left edge (negative inches)
        pad_plot = 0.15
        x = -pad_plot
        for col in reversed(left_cols):
            col.x = x  # right edge
            x -= col.width + gap
        left_w = -x - gap
        x = pad_plot
        for col in right_cols:
            tight = col.key in ("lo", "hi")
            x += col.width if col.key != "lo" else col.width
            col.x = x  # right edge (or centre for rob)
            x += 0.05 if tight else gap
        right_w = x - gap
        for col in right_cols:
            if col.key == "rob":
                col.x = col.x - col.width / 2
        label_left = left_cols[0].x - left_cols[0].width  # = -left_w

        # wrap labels and notes
        note_w = left_w - pad_plot  # note and PI rows have no arm cells: up to the plot
        for r in rows:
            wt = "bold" if r.bold else "normal"
            if r.kind in ("study", "group", "subtotal", "overall"):
                r.label = meas.wrap(r.label, lab_w, r.size, wt, max_lines=2)
            elif r.kind in ("note", "pi"):
                r.label = meas.wrap(r.label, note_w, r.size, wt, max_lines=3)
            nl = r.label.count("\n") + 1
            if nl > 1:
                r.height = max(r.height, 1.0 + 0.75 * (nl - 1) * r.size / FONT_PT)

        # y positions (rows go down; row centre at y)
        y = 0.0
        for r in rows:
            r.y = y + (r.height - 1) / 2
            y += r.height
        y_bottom = y - 0.3
        y_top = -0.6

        # ---- x range ---------------------------------------------------------------------
        # pooled CIs belong to the core range unless absurdly wide (e.g. k = 2 with
        # Knapp-Hartung, t(1)): then they run past the limits with arrows
        pooled = [r for r in rows if r.kind in ("overall", "subtotal")]
        core = list(s_est) + [null] + [r.est for r in pooled]
        if band is not None:
            core += list(band)
        tr = np.log if log else (lambda v: np.asarray(v, float))
        est_span = max(float(np.ptp(tr(np.asarray(core, float)))), np.log(2) if log else 0.4)
        wide = [r for r in pooled if not float(tr(r.hi) - tr(r.lo)) <= 4 * est_span]
        core += [v for r in pooled if r not in wide for v in (r.lo, r.hi)]
        ext_lo = [r.lo for r in rows if r.kind in ("study", "pi") or r in wide]
        ext_hi = [r.hi for r in rows if r.kind in ("study", "pi") or r in wide]
        lo, hi = _auto_range(core, ext_lo, ext_hi, log)
        if xlim is not None:
            x0, x1 = (float(v) for v in xlim)
            ticks = np.asarray(xticks, float) if xticks is not None else None
            if ticks is None:
                _, _, ticks = _nice_limits(x0, x1, log)
                ticks = ticks[(ticks >= x0 - 1e-12) & (ticks <= x1 + 1e-12)]
        else:
            x0, x1, ticks = _fit_ticks(lo, hi, log, plot_width, meas)
            if xticks is not None:
                ticks = np.asarray(xticks, float)

        # ---- figure ----------------------------------------------------------------------
        import matplotlib.pyplot as plt
        from matplotlib.patches import Polygon, Rectangle

        plot_head = _MEASURE_NAMES.get(measure, mname) if effect_label is None else effect_label
        plot_head = meas.wrap(f"{plot_head} ({lvl} CI)", plot_width, FONT_PT, "bold")
        # header rows above the axes (in row units above y_top): column headers sit on the rule,
        # arm names one row higher; a wrapped plot header grows upwards
        n_head_rows = max(2.2 if arm_cols else 1.0, 0.75 * (plot_head.count("\n") + 1) + 0.25)
        head_h = (n_head_rows + 0.15) * row_height
        title_txt = None
        table_w = left_w + plot_width + right_w
        if title:
            title_txt = meas.wrap(title, table_w, 9.0, "bold")
        title_h = (title_txt.count("\n") + 1) * 0.19 + 0.08 if title_txt else 0.0
        foot_txt = [(meas.wrap(t, table_w, SMALL_PT), g) for t, g in foot_lines]
        note = _forest_footnote(
            overall, multi, getattr(result, "tau2_rule", None), band, log, rob, show_overall
        )
        if footnote:
            note = f"{note} {footnote}"
        note_txt = meas.wrap(note, table_w, NOTE_PT)
        axis_h = 0.45 if favours else 0.3  # tick labels + favours labels
        line_small = 0.155
        line_note = 0.125
        foot_h = sum((t.count("\n") + 1) for t, _ in foot_txt) * line_small
        note_h = (note_txt.count("\n") + 1) * line_note
        bottom_h = axis_h + 0.08 + foot_h + 0.08 + note_h
        axes_h = (y_bottom - y_top) * row_height

        if ax is None:
            margin = 0.15
            fig_w = margin * 2 + table_w
            fig_h = margin * 2 + title_h + head_h + axes_h + bottom_h
            fig = plt.figure(figsize=(fig_w, fig_h))
            ax = fig.add_axes(
                (
                    (margin + left_w) / fig_w,
                    (margin + bottom_h) / fig_h,
                    plot_width / fig_w,
                    axes_h / fig_h,
                )
            )
        fig = ax.figure
        tl, trt = _xin(ax, 0.0), _xin(ax, 1.0)

        _value_axis(ax, (y_bottom, y_top), (x0, x1), ticks, log)

        # band and line of no effect
        content_bottom = max(r.y + 0.5 for r in rows if r.kind != "blank")
        if band is not None:
            ax.axvspan(band[0], band[1], color=BAND, lw=0, zorder=0, gid="equivalence-band")
        if x0 <= null <= x1:
            ax.plot([null, null], [y_bottom, y_top], color=INK, lw=0.8, zorder=1, gid="null-line")
        if show_overall or not multi:
            ax.plot(
                [float(tf(overall.estimate))] * 2,
                [-0.5, content_bottom],
                color=GREY,
                lw=0.6,
                ls=(0, (3, 2)),
                zorder=1,
                gid="pooled-line",
            )

        # study estimates (area proportional to weight) and CIs
        st = [r for r in rows if r.kind == "study"]
        wmax = np.nanmax(weights) if np.isfinite(weights).any() else 1.0
        side = np.maximum(
            MAX_MARKER_PT * np.sqrt(np.array([r.weight for r in st]) / wmax), MIN_MARKER_PT
        )
        from matplotlib.collections import LineCollection

        sy = np.array([r.y for r in st])
        segs = [[(max(r.lo, x0), r.y), (min(r.hi, x1), r.y)] for r in st]
        ax.add_collection(
            LineCollection(segs, colors=INK, linewidths=0.8, zorder=2, gid="study-cis")
        )
        inside = np.array([x0 <= r.est <= x1 for r in st])
        ax.scatter(
            np.array([r.est for r in st])[inside],
            sy[inside],
            s=side[inside] ** 2,
            marker="s",
            color=SQUARE,
            edgecolors="none",
            zorder=3,
            gid="study-estimates",
        )
        others = [r for r in rows if r.kind in ("pi", "overall", "subtotal")]
        _arrows(ax, [(r.lo, r.hi, r.y) for r in st + others], x0, x1)

        # diamonds and PI
        dh = 0.34
        for r in rows:
            if r.kind in ("overall", "subtotal"):
                poly = Polygon(
                    [(r.lo, r.y), (r.est, r.y - dh), (r.hi, r.y), (r.est, r.y + dh)],
                    closed=True,
                    facecolor=DIAMOND if r.kind == "overall" else SUB_DIAMOND,
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

        # ---- text ------------------------------------------------------------------------
        put = functools.partial(_put, ax, linespacing=1.15)

        head_y = y_top - 0.2  # baseline region of the column headers (va="bottom")
        for col in left_cols:
            xx = col.x if col.align == "right" else col.x - col.width
            if col.key == "label":
                xx = label_left
            put(xx, head_y, col.header, tl, ha=col.align, weight="bold", va="bottom")
        for arm in (1, 2):
            cols = [c for c in left_cols if c.group == arm_labels[arm - 1]]
            if cols:
                xl, xr = cols[0].x - cols[0].width, cols[-1].x
                put(
                    (xl + xr) / 2,
                    head_y - 1.2,
                    arm_labels[arm - 1],
                    tl,
                    ha="center",
                    weight="bold",
                    va="bottom",
                )
                ax.plot(
                    [xl, xr], [head_y - 1.05] * 2, transform=tl, color=INK, lw=0.5, clip_on=False
                )
        put(right_cols[2].x, head_y, eff_head, trt, ha="right", weight="bold", va="bottom")
        put(right_cols[3].x, head_y, "Weight", trt, ha="right", weight="bold", va="bottom")
        if rob is not None:
            put(right_cols[4].x, head_y, "RoB", trt, ha="center", weight="bold", va="bottom")
        from matplotlib import transforms

        put(
            0.5,
            head_y,
            plot_head,
            transforms.blended_transform_factory(ax.transAxes, ax.transData),
            ha="center",
            weight="bold",
            va="bottom",
            gid="plot-header",
        )
        # rule under the header, across the whole table
        rule_y = y_top - 0.05
        ax.plot([label_left, 0], [rule_y] * 2, transform=tl, color=INK, lw=0.6, clip_on=False)
        ax.plot(
            [0, 1],
            [rule_y] * 2,
            transform=transforms.blended_transform_factory(ax.transAxes, ax.transData),
            color=INK,
            lw=0.6,
            clip_on=False,
        )
        ax.plot([0, right_w], [rule_y] * 2, transform=trt, color=INK, lw=0.6, clip_on=False)

        for r in rows:
            if r.kind == "blank":
                continue
            wt = "bold" if r.bold else "normal"
            color = GREY if r.kind == "note" else INK
            gid = r.gid if r.kind in ("note",) else (r.gid + "-label" if r.gid else None)
            put(label_left, r.y, r.label, tl, size=r.size, weight=wt, color=color, gid=gid)
            for col in left_cols[1:]:
                if col.key in r.cells:
                    put(col.x, r.y, r.cells[col.key], tl, ha="right", weight=wt)
            for col in right_cols:
                if col.key in r.cells:
                    put(
                        col.x,
                        r.y,
                        r.cells[col.key],
                        trt,
                        ha="right",
                        weight=wt,
                        gid=f"{r.gid}-{col.key}" if r.gid else None,
                    )
            if r.rob is not None:
                rc = right_cols[4]
                ax.plot(
                    [rc.x],
                    [r.y],
                    transform=trt,
                    marker="o",
                    ms=9,
                    color=ROB_COLOURS[r.rob],
                    mec="none",
                    clip_on=False,
                    zorder=5,
                )
                put(
                    rc.x,
                    r.y,
                    ROB_SYMBOLS[r.rob],
                    trt,
                    ha="center",
                    weight="bold",
                    color="white" if r.rob != "some" else INK,
                ).set_zorder(6)

        # under the axis: favours labels, tests, footnote (inches below the axes' bottom)
        bl = _yin(ax, 0.0)
        if favours:
            from matplotlib.transforms import ScaledTranslation, blended_transform_factory

            ft = blended_transform_factory(
                ax.transData, ax.transAxes + ScaledTranslation(0, -0.27, fig.dpi_scale_trans)
            )
            xn = null if x0 < null < x1 else np.sqrt(x0 * x1) if log else (x0 + x1) / 2
            ax.text(
                xn,
                0,
                f"\u2190 Favours {favours[0]}  ",
                transform=ft,
                ha="right",
                va="top",
                fontsize=SMALL_PT,
                color=INK,
                clip_on=False,
                parse_math=False,
                gid="favours-left",
            )
            ax.text(
                xn,
                0,
                f"  Favours {favours[1]} \u2192",
                transform=ft,
                ha="left",
                va="top",
                fontsize=SMALL_PT,
                color=INK,
                clip_on=False,
                parse_math=False,
                gid="favours-right",
            )
        yy = -(axis_h + 0.08)
        for t, g in foot_txt:
            put(label_left, yy, t, bl, size=SMALL_PT, gid=g, va="top")
            yy -= (t.count("\n") + 1) * line_small
        yy -= 0.08
        put(label_left, yy, note_txt, bl, size=NOTE_PT, color=GREY, gid="footnote", va="top")
        if title_txt:
            tt = fig.dpi_scale_trans + transforms.ScaledTranslation(0, 1, ax.transAxes)
            put(
                label_left,
                head_h + 0.08,
                title_txt,
                tt,
                size=9.0,
                weight="bold",
                va="bottom",
                gid="title",
            )
    return ax


def _arrows(ax, spans, x0: float, x1: float) -> None:
    """Arrowheads where an interval runs past the axis limits."""
    left = [(x0, y) for lo, hi, y in spans if np.isfinite(lo) and lo < x0]
    right = [(x1, y) for lo, hi, y in spans if np.isfinite(hi) and hi > x1]
    for pts, mk, gid in ((left, "<", "ci-arrows-left"), (right, ">", "ci-arrows-right")):
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(
                xs,
                ys,
                ls="none",
                marker=mk,
                ms=4.5,
                color=INK,
                mec="none",
                clip_on=False,
                zorder=5,
                gid=gid,
            )


def _forest_footnote(
    res, multi: bool, tau2_rule, band, log: bool, rob, show_overall: bool = True
) -> str:
    lvl = f"{res.level:g}%"
    where = (
        f"{'overall ' if multi else ''}{res.model} model"
        if show_overall or not multi
        else f"{res.model} model of its subgroup (no overall pooling across subgroups)"
    )
    parts = [
        f"Squares: study estimates with {lvl} Wald CIs; square area proportional to the percent "
        f"weight in the {where}.",
        f"Diamond: pooled estimate and {lvl} CI; {res.model}"
        + ("" if res.method == "FE" else f", \u03c4\u00b2 by {METHOD_NAMES[res.method]}")
        + f", {TEST_NAMES[res.test]} test.",
    ]
    if res.method != "FE":
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
    if band is not None:
        parts.append(
            f"Shaded: equivalence band [{_tick_label(band[0])}, {_tick_label(band[1])}]"
            + (" (ratio scale)." if log else ".")
        )
    if log:
        parts.append("Ratio axis on a log scale.")
    if rob is not None:
        parts.append("RoB: + low, ! some concerns, \u2212 high risk of bias; blank: not reported.")
    return " ".join(parts)


# ------------------------------------------------------------------------------------------
# cumulative and leave-one-out forests


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
    plot_width: float = 2.6,
    row_height: float = 0.2,
    level: float | None = None,
    note: str | None = None,
):
    """Forest of a cumulative or leave-one-out frame (``cumulative()`` / ``leave_one_out()``).

    With ``kind="rows"`` any frame of estimates is drawn with its index as the row labels (the
    index name heads the label column), e.g. a network meta-analysis's treatments.

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

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.pool([0.1, 0.3, 0.35, 0.65], [0.03, 0.03, 0.05, 0.01], labels=list("ABCD"))
    >>> ax = forest_from_frame(res.leave_one_out(), result=res)
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "row-0-label"]
    ['Omitting A']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
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
    if kind not in ("cumulative", "leave-one-out", "rows"):
        raise ValueError("forest_from_frame: kind must be 'cumulative', 'leave-one-out' or 'rows'")
    measure = measure or (result.measure if result is not None else None)
    log = measure in RATIO_MEASURES
    tf = np.exp if log else (lambda x: np.asarray(x, dtype=float))
    null = 1.0 if log else 0.0
    if level is None:
        level = result.level if result is not None else 95.0
    lvl = f"{level:g}%"
    est, lo, hi = (tf(frame[c].to_numpy(float)) for c in ("estimate", "ci_low", "ci_high"))
    names = [str(s) for s in frame.index]
    if kind == "cumulative":
        labels = [names[0]] + [f"+ {s}" for s in names[1:]]
    elif kind == "leave-one-out":
        labels = [f"Omitting {s}" for s in names]
    else:
        labels = names
    extra = [c for c in ("tau2", "i2", "pvalue") if c in frame.columns]

    with _style():
        import matplotlib.pyplot as plt
        from matplotlib import transforms
        from matplotlib.patches import Polygon

        meas = _Measure()
        n = len(frame)
        lab = [meas.wrap(s, label_width, FONT_PT, max_lines=1) for s in labels]
        lab_w = min(max([meas(s) for s in lab] + [0.8]), label_width)
        cells = {
            "k": [f"{int(v)}" for v in ks],
            "est": [_num(v, digits) for v in est],
            "lo": [f"[{_num(v, digits)}," for v in lo],
            "hi": [f"{_num(v, digits)}]" for v in hi],
        }
        heads = {
            "k": "k",
            "est": "",
            "lo": "",
            "hi": "",
            "tau2": "\u03c4\u00b2",
            "i2": "I\u00b2",
            "pvalue": "p",
        }
        if "tau2" in extra:
            cells["tau2"] = [_tau2_text(v) for v in frame["tau2"]]
        if "i2" in extra:
            cells["i2"] = ["NA" if not np.isfinite(v) else f"{v:.0f}%" for v in frame["i2"]]
        if "pvalue" in extra:
            cells["pvalue"] = [
                _pval(v).split(_NBSP, 1)[1].replace(f"={_NBSP}", "") for v in frame["pvalue"]
            ]
        if result is not None:
            r_cells = {
                "k": f"{result.k}",
                "est": _num(float(tf(result.estimate)), digits),
                "lo": f"[{_num(float(tf(result.ci_low)), digits)},",
                "hi": f"{_num(float(tf(result.ci_high)), digits)}]",
                "tau2": _tau2_text(result.tau2),
                "i2": "NA" if not np.isfinite(result.i2) else f"{result.i2:.0f}%",
                "pvalue": _pval(result.pvalue).split(_NBSP, 1)[1].replace(f"={_NBSP}", ""),
            }
        widths = {}
        for key, vals in cells.items():
            allv = list(vals) + ([r_cells[key]] if result is not None else [])
            widths[key] = max(
                [meas(v, FONT_PT, "bold") for v in allv] + [meas(heads[key], FONT_PT, "bold")]
            )
        eff_head = f"{measure or 'Estimate'} [{lvl} CI]"
        need = meas(eff_head, FONT_PT, "bold")
        have = widths["est"] + widths["lo"] + widths["hi"] + 0.1
        if need > have:
            widths["est"] += need - have
        gap, pad = 0.12, 0.15
        xs, x = {}, pad
        for key in cells:
            x += widths[key]
            xs[key] = x
            x += 0.05 if key in ("est", "lo") else gap
        right_w = x - gap
        left_w = pad + lab_w
        rows_y = np.arange(n, dtype=float)
        y_top, y_bottom = -0.6, n - 0.3 + (1.4 if result is not None else 0.0)
        table_w = left_w + plot_width + right_w
        title_txt = meas.wrap(title, table_w, 9.0, "bold") if title else None
        head_h = 1.5 * row_height
        title_h = (title_txt.count("\n") + 1) * 0.19 + 0.08 if title_txt else 0.0
        what = {
            "cumulative": "Cumulative meta-analysis in the order shown; row i pools the studies "
            "up to row i.",
            "leave-one-out": "Leave-one-out analysis: each row omits the named study.",
        }.get(kind, "")
        if note:
            what = f"{what} {note}".strip()
        if result is not None:
            what += f" Model: {result.methods_text()}."
        note_txt = meas.wrap(what, table_w, NOTE_PT)
        bottom_h = 0.35 + 0.08 + (note_txt.count("\n") + 1) * 0.125
        axes_h = (y_bottom - y_top) * row_height

        # x limits
        core = np.concatenate(
            [est, [null]] + ([tf([result.ci_low, result.ci_high])] if result is not None else [])
        )
        if xlim is None:
            a, b = _auto_range(core, lo, hi, log)
            x0, x1, ticks = _fit_ticks(a, b, log, plot_width, meas)
        else:
            x0, x1 = xlim
            _, _, ticks = _nice_limits(x0, x1, log)
            ticks = ticks[(ticks >= x0 - 1e-12) & (ticks <= x1 + 1e-12)]

        if ax is None:
            margin = 0.15
            fw = 2 * margin + table_w
            fh = 2 * margin + title_h + head_h + axes_h + bottom_h
            fig = plt.figure(figsize=(fw, fh))
            ax = fig.add_axes(
                ((margin + left_w) / fw, (margin + bottom_h) / fh, plot_width / fw, axes_h / fh)
            )
        fig = ax.figure
        tl, trt = _xin(ax, 0.0), _xin(ax, 1.0)
        _value_axis(ax, (y_bottom, y_top), (x0, x1), ticks, log)
        if x0 <= null <= x1:
            ax.plot([null, null], [y_bottom, y_top], color=INK, lw=0.8, zorder=1, gid="null-line")
        from matplotlib.collections import LineCollection

        segs = [
            [(max(a, x0), yv), (min(b, x1), yv)] for a, b, yv in zip(lo, hi, rows_y, strict=True)
        ]
        ax.add_collection(LineCollection(segs, colors=INK, linewidths=0.8, zorder=2, gid="row-cis"))
        ax.scatter(
            est,
            rows_y,
            s=22,
            marker="o",
            color=SQUARE,
            edgecolors="none",
            zorder=3,
            gid="row-estimates",
        )
        _arrows(ax, list(zip(lo, hi, rows_y, strict=True)), x0, x1)

        put = functools.partial(_put, ax)

        head_y = y_top - 0.55
        put(
            -left_w,
            head_y,
            {"cumulative": "Cumulative", "leave-one-out": "Omitted study"}.get(
                kind, str(frame.index.name or "")
            ),
            tl,
            weight="bold",
        )
        put(xs["hi"], head_y, eff_head, trt, ha="right", weight="bold")
        for key in cells:
            if heads[key]:
                put(xs[key], head_y, heads[key], trt, ha="right", weight="bold")
        bt = transforms.blended_transform_factory(ax.transAxes, ax.transData)
        put(
            0.5,
            head_y,
            f"{_MEASURE_NAMES.get(measure, measure or 'Estimate')} ({lvl} CI)",
            bt,
            ha="center",
            weight="bold",
        )
        rule_y = y_top - 0.05
        ax.plot([-left_w, 0], [rule_y] * 2, transform=tl, color=INK, lw=0.6, clip_on=False)
        ax.plot([0, 1], [rule_y] * 2, transform=bt, color=INK, lw=0.6, clip_on=False)
        ax.plot([0, right_w], [rule_y] * 2, transform=trt, color=INK, lw=0.6, clip_on=False)
        for i in range(n):
            put(-left_w, rows_y[i], lab[i], tl, gid=f"row-{i}-label")
            for key in cells:
                put(xs[key], rows_y[i], cells[key][i], trt, ha="right")
        if result is not None:
            yr = n + 0.6
            e, a, b = (float(tf(v)) for v in (result.estimate, result.ci_low, result.ci_high))
            ax.plot(
                [e, e],
                [-0.5, n - 0.5],
                color=GREY,
                lw=0.6,
                ls=(0, (3, 2)),
                zorder=1,
                gid="pooled-line",
            )
            ax.add_patch(
                Polygon(
                    [(a, yr), (e, yr - 0.34), (b, yr), (e, yr + 0.34)],
                    closed=True,
                    facecolor=DIAMOND,
                    edgecolor=INK,
                    lw=0.6,
                    zorder=4,
                    gid="diamond-overall",
                )
            )
            put(-left_w, yr, "All studies", tl, weight="bold", gid="all-studies-label")
            for key in cells:
                put(xs[key], yr, r_cells[key], trt, ha="right", weight="bold")
        put(
            -left_w,
            -(0.35 + 0.08),
            note_txt,
            _yin(ax, 0.0),
            size=NOTE_PT,
            color=GREY,
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


# ------------------------------------------------------------------------------------------
# funnel plot


def funnel_plot(
    result: Any,
    *,
    ax: Any = None,
    contours: Sequence[float] = (90, 95, 99),
    center: float | None = None,
    filled_yi: Sequence[float] | None = None,
    filled_vi: Sequence[float] | None = None,
    show_pooled: bool = True,
    measure: str | None = None,
    xlim: tuple[float, float] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (6.0, 4.2),
):
    """Contour-enhanced funnel plot (Peters et al. 2008): effect against standard error.

    Shaded regions mark where a study would be statistically significant against ``center``
    (default: no effect) at two-sided levels between the ``contours`` (e.g. 0.10 > p > 0.05,
    0.05 > p > 0.01, p < 0.01); the white region is p > 0.10. The pooled estimate is drawn as a
    vertical line with its pseudo 95% confidence funnel (dashed).

    Parameters
    ----------
    result : PoolResult, subgroup result or trim-and-fill result
        A subgroup result is drawn with its ``overall`` model; a trim-and-fill result
        (:func:`evidence.trim_and_fill`) with its observed studies (filled markers), its imputed
        studies (open markers) and the adjusted pooled estimate.
    contours : sequence of float
        Confidence levels in percent (ascending) whose significance contours are shaded.
    center : float, optional
        Centre of the contours on the display scale (default 0, or 1 for ratio measures).
    filled_yi, filled_vi : array-like, optional
        Extra studies (e.g. imputed by trim-and-fill) drawn as open circles.
    show_pooled : bool, default True
        Draw the pooled estimate and its pseudo-confidence funnel.
    measure : str, optional
        Overrides the result's measure (ratio measures get a log axis).
    xlim : (float, float), optional
        Display-scale limits.
    title : str, optional
    figsize : (float, float)
        Figure size in inches when ``ax`` is None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.pool([0.1, 0.3, 0.35, 0.65], [0.03, 0.03, 0.05, 0.01], measure="SMD")
    >>> ax = funnel_plot(res, filled_yi=[0.6], filled_vi=[0.05])
    >>> len(ax.collections[-1].get_offsets())
    1
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    k_obs = None
    if hasattr(result, "filled_yi") and hasattr(result, "pooled"):  # trim-and-fill result
        if filled_yi is not None or filled_vi is not None:
            raise ValueError("funnel_plot: a trim-and-fill result carries its filled studies")
        filled_yi, filled_vi = result.filled_yi, result.filled_vi
        res = result.pooled
        k_obs = res.k - len(filled_yi)
    else:
        res = result.overall if _is_subgroup(result) else result
    if not hasattr(res, "yi") or not hasattr(res, "vi"):
        raise TypeError("funnel_plot: expected a PoolResult, subgroup or trim-and-fill result")
    levels = sorted(float(c) for c in contours)
    if any(not 0 < c < 100 for c in levels):
        raise ValueError("funnel_plot: contours are confidence levels in percent, 0 < level < 100")
    measure = measure or res.measure
    log = measure in RATIO_MEASURES
    yi = np.asarray(res.yi, float)[:k_obs]
    se = np.sqrt(np.asarray(res.vi, float))[:k_obs]
    fy = fse = None
    if filled_yi is not None or filled_vi is not None:
        if filled_yi is None or filled_vi is None:
            raise ValueError("funnel_plot: give both filled_yi and filled_vi")
        if np.size(filled_yi) or np.size(filled_vi):
            from .pooling import check_inputs

            fy, fv = check_inputs(filled_yi, filled_vi)
            fse = np.sqrt(fv)
    c0 = (np.log(center) if log else center) if center is not None else 0.0
    all_se = se if fse is None else np.concatenate([se, fse])
    smax = float(all_se.max()) * 1.08
    grid = np.linspace(0.0, smax, 200)
    zs = [stats.norm.isf((1 - c / 100) / 2) for c in levels]
    tf = np.exp if log else (lambda x: np.asarray(x, dtype=float))

    with _style():
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        if ax is None:
            fig = plt.figure(figsize=figsize)
            w, h = figsize
            top = 0.45 if title else 0.15
            # axes on the left, legend in a 1.5-inch column on the right
            ax = fig.add_axes((0.6 / w, 0.5 / h, (w - 0.6 - 1.75) / w, (h - 0.5 - top) / h))
        all_y = yi if fy is None else np.concatenate([yi, fy])
        z95 = stats.norm.isf(0.025)
        if xlim is None:
            lo = min(all_y.min(), c0 - zs[0] * smax, res.estimate - z95 * smax)
            hi = max(all_y.max(), c0 + zs[0] * smax, res.estimate + z95 * smax)
            pad = 0.04 * (hi - lo)
            x0, x1 = float(tf(lo - pad)), float(tf(hi + pad))
        else:
            x0, x1 = xlim
        if log:
            ax.set_xscale("log")
        greys = ["#ebebeb", "#d2d2d2", "#b4b4b4", "#969696"][: len(levels)]
        ax.fill_between([x0, x1], [smax, smax], [0, 0], color=greys[-1], lw=0, zorder=0)
        for i in range(len(levels) - 1, -1, -1):
            col = "white" if i == 0 else greys[i - 1]
            ax.fill_betweenx(
                grid,
                tf(c0 - zs[i] * grid),
                tf(c0 + zs[i] * grid),
                color=col,
                lw=0,
                zorder=0,
                gid=f"contour-{levels[i]:g}",
            )
        alphas = [1 - c / 100 for c in levels]
        handles = [Patch(facecolor="white", edgecolor=GREY, lw=0.5, label=f"p > {alphas[0]:g}")]
        for i in range(len(levels) - 1):
            handles.append(
                Patch(facecolor=greys[i], label=f"{alphas[i + 1]:g} < p < {alphas[i]:g}")
            )
        handles.append(Patch(facecolor=greys[len(levels) - 1], label=f"p < {alphas[-1]:g}"))
        null = tf(c0)
        ax.plot([null, null], [smax, 0], color=INK, lw=0.6, zorder=1)
        if show_pooled:
            ax.plot(
                [tf(res.estimate)] * 2,
                [smax, 0],
                color=SQUARE,
                lw=0.9,
                zorder=2,
                gid="funnel-pooled",
            )
            ax.plot(
                tf(res.estimate - z95 * grid), grid, color=SQUARE, lw=0.7, ls=(0, (3, 2)), zorder=2
            )
            ax.plot(
                tf(res.estimate + z95 * grid), grid, color=SQUARE, lw=0.7, ls=(0, (3, 2)), zorder=2
            )
            handles.append(Line2D([], [], color=SQUARE, lw=0.9, label="Pooled estimate"))
            handles.append(
                Line2D([], [], color=SQUARE, lw=0.7, ls=(0, (3, 2)), label="Pseudo 95% CI")
            )
        ax.scatter(
            tf(yi),
            se,
            s=18,
            color=INK,
            edgecolors="none",
            zorder=3,
            label="Studies",
            gid="funnel-studies",
        )
        if fy is not None:
            ax.scatter(
                tf(fy),
                fse,
                s=18,
                facecolors="white",
                edgecolors=INK,
                linewidths=0.8,
                zorder=3,
                label="Filled (imputed) studies",
                gid="funnel-filled",
            )
        ax.set_xlim(x0, x1)
        ax.set_ylim(smax, 0)
        if log:
            from matplotlib.ticker import FixedLocator, NullLocator

            _, _, ticks = _nice_limits(x0, x1, True)
            ticks = ticks[(ticks >= x0) & (ticks <= x1)]
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticklabels([_tick_label(t) for t in ticks])
        name = _MEASURE_NAMES.get(measure, measure or "Effect size")
        ax.set_xlabel(f"{name} ({'log scale' if log else 'analysis scale'})")
        ax.set_ylabel("Standard error")
        for s in ("right", "top"):
            ax.spines[s].set_visible(False)
        pts, labs = ax.get_legend_handles_labels()
        ax.legend(
            handles=handles + pts,
            labels=[h.get_label() for h in handles] + labs,
            loc="upper left",
            bbox_to_anchor=(1.03, 1.0),
            fontsize=7,
            handlelength=1.6,
            borderaxespad=0.0,
            frameon=False,
            title="Contours: two-sided p",
            title_fontsize=7,
            alignment="left",
        )
        if title:
            ax.set_title(title, fontsize=9, fontweight="bold", loc="left", pad=8)
    return ax
