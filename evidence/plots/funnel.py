"""Contour-enhanced funnel plots (Peters et al. 2008)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from .axis import nice_limits
from .style import GREY, INK, MEASURE_NAMES, RATIO_MEASURES, SQUARE, style, tick_label

__all__ = ["funnel_plot"]

Z95 = float(stats.norm.isf(0.025))


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
    f = _prepare(result, contours, center, filled_yi, filled_vi, measure)
    with style():
        import matplotlib.pyplot as plt

        if ax is None:
            fig = plt.figure(figsize=figsize)
            w, h = figsize
            top = 0.45 if title else 0.15
            # axes on the left, legend in a 1.5-inch column on the right
            ax = fig.add_axes((0.6 / w, 0.5 / h, (w - 0.6 - 1.75) / w, (h - 0.5 - top) / h))
        x0, x1 = _x_range(f) if xlim is None else xlim
        if f.log:
            ax.set_xscale("log")
        handles = _contours(ax, f, x0, x1)
        if show_pooled:
            handles += _pooled(ax, f)
        _points(ax, f)
        _axes(ax, f, x0, x1)
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


@dataclass
class _Funnel:
    res: Any
    measure: str | None
    log: bool
    yi: np.ndarray
    se: np.ndarray
    fy: np.ndarray | None  # filled (imputed) studies
    fse: np.ndarray | None
    levels: list[float]
    c0: float  # centre of the contours, analysis scale

    @property
    def smax(self) -> float:
        all_se = self.se if self.fse is None else np.concatenate([self.se, self.fse])
        return float(all_se.max()) * 1.08

    @property
    def grid(self) -> np.ndarray:
        return np.linspace(0.0, self.smax, 200)

    @property
    def zs(self) -> list[float]:
        return [stats.norm.isf((1 - c / 100) / 2) for c in self.levels]

    def tf(self, x):
        return np.exp(x) if self.log else np.asarray(x, dtype=float)


def _prepare(result, contours, center, filled_yi, filled_vi, measure) -> _Funnel:
    k_obs = None
    if hasattr(result, "filled_yi") and hasattr(result, "pooled"):  # trim-and-fill result
        if filled_yi is not None or filled_vi is not None:
            raise ValueError("funnel_plot: a trim-and-fill result carries its filled studies")
        filled_yi, filled_vi = result.filled_yi, result.filled_vi
        res = result.pooled
        k_obs = res.k - len(filled_yi)
    else:
        subgroup = all(hasattr(result, a) for a in ("results", "overall", "groups"))
        res = result.overall if subgroup else result
    if not hasattr(res, "yi") or not hasattr(res, "vi"):
        raise TypeError("funnel_plot: expected a PoolResult, subgroup or trim-and-fill result")
    levels = sorted(float(c) for c in contours)
    if any(not 0 < c < 100 for c in levels):
        raise ValueError("funnel_plot: contours are confidence levels in percent, 0 < level < 100")
    measure = measure or res.measure
    log = measure in RATIO_MEASURES
    fy = fse = None
    if filled_yi is not None or filled_vi is not None:
        if filled_yi is None or filled_vi is None:
            raise ValueError("funnel_plot: give both filled_yi and filled_vi")
        if np.size(filled_yi) or np.size(filled_vi):
            from evidence.meta.pooling import check_inputs

            fy, fv = check_inputs(filled_yi, filled_vi)
            fse = np.sqrt(fv)
    return _Funnel(
        res,
        measure,
        log,
        yi=np.asarray(res.yi, float)[:k_obs],
        se=np.sqrt(np.asarray(res.vi, float))[:k_obs],
        fy=fy,
        fse=fse,
        levels=levels,
        c0=(np.log(center) if log else center) if center is not None else 0.0,
    )


def _x_range(f: _Funnel) -> tuple[float, float]:
    all_y = f.yi if f.fy is None else np.concatenate([f.yi, f.fy])
    smax, z0 = f.smax, f.zs[0]
    lo = min(all_y.min(), f.c0 - z0 * smax, f.res.estimate - Z95 * smax)
    hi = max(all_y.max(), f.c0 + z0 * smax, f.res.estimate + Z95 * smax)
    pad = 0.04 * (hi - lo)
    return float(f.tf(lo - pad)), float(f.tf(hi + pad))


def _contours(ax, f: _Funnel, x0: float, x1: float) -> list:
    """Shaded significance contours around the centre; returns their legend handles."""
    from matplotlib.patches import Patch

    levels, smax, grid, zs = f.levels, f.smax, f.grid, f.zs
    greys = ["#ebebeb", "#d2d2d2", "#b4b4b4", "#969696"][: len(levels)]
    ax.fill_between([x0, x1], [smax, smax], [0, 0], color=greys[-1], lw=0, zorder=0)
    for i in range(len(levels) - 1, -1, -1):
        col = "white" if i == 0 else greys[i - 1]
        ax.fill_betweenx(
            grid,
            f.tf(f.c0 - zs[i] * grid),
            f.tf(f.c0 + zs[i] * grid),
            color=col,
            lw=0,
            zorder=0,
            gid=f"contour-{levels[i]:g}",
        )
    alphas = [1 - c / 100 for c in levels]
    handles = [Patch(facecolor="white", edgecolor=GREY, lw=0.5, label=f"p > {alphas[0]:g}")]
    for i in range(len(levels) - 1):
        handles.append(Patch(facecolor=greys[i], label=f"{alphas[i + 1]:g} < p < {alphas[i]:g}"))
    handles.append(Patch(facecolor=greys[len(levels) - 1], label=f"p < {alphas[-1]:g}"))
    null = f.tf(f.c0)
    ax.plot([null, null], [smax, 0], color=INK, lw=0.6, zorder=1)
    return handles


def _pooled(ax, f: _Funnel) -> list:
    """Pooled estimate and its pseudo 95% confidence funnel; returns their legend handles."""
    from matplotlib.lines import Line2D

    est, grid = f.res.estimate, f.grid
    ax.plot([f.tf(est)] * 2, [f.smax, 0], color=SQUARE, lw=0.9, zorder=2, gid="funnel-pooled")
    dashed = {"color": SQUARE, "lw": 0.7, "ls": (0, (3, 2)), "zorder": 2}
    ax.plot(f.tf(est - Z95 * grid), grid, **dashed)
    ax.plot(f.tf(est + Z95 * grid), grid, **dashed)
    return [
        Line2D([], [], color=SQUARE, lw=0.9, label="Pooled estimate"),
        Line2D([], [], color=SQUARE, lw=0.7, ls=(0, (3, 2)), label="Pseudo 95% CI"),
    ]


def _points(ax, f: _Funnel) -> None:
    ax.scatter(
        f.tf(f.yi),
        f.se,
        s=18,
        color=INK,
        edgecolors="none",
        zorder=3,
        label="Studies",
        gid="funnel-studies",
    )
    if f.fy is not None:
        ax.scatter(
            f.tf(f.fy),
            f.fse,
            s=18,
            facecolors="white",
            edgecolors=INK,
            linewidths=0.8,
            zorder=3,
            label="Filled (imputed) studies",
            gid="funnel-filled",
        )


def _axes(ax, f: _Funnel, x0: float, x1: float) -> None:
    """Limits, ratio-scale ticks on a log axis, labels, spines."""
    ax.set_xlim(x0, x1)
    ax.set_ylim(f.smax, 0)
    if f.log:
        from matplotlib.ticker import FixedLocator, NullLocator

        _, _, ticks = nice_limits(x0, x1, True)
        ticks = ticks[(ticks >= x0) & (ticks <= x1)]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([tick_label(t) for t in ticks])
    name = MEASURE_NAMES.get(f.measure, f.measure or "Effect size")
    ax.set_xlabel(f"{name} ({'log scale' if f.log else 'analysis scale'})")
    ax.set_ylabel("Standard error")
    for s in ("right", "top"):
        ax.spines[s].set_visible(False)
