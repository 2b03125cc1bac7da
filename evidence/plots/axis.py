"""The value axis of the graphic column: limits, ticks, arrows for intervals past the limits."""

from __future__ import annotations

import numpy as np

from .style import FONT_PT, INK, tick_label

__all__ = ["nice_limits", "auto_range", "fit_ticks", "value_axis", "arrows"]


def nice_limits(lo: float, hi: float, log: bool, nbins: int = 5) -> tuple[float, float, np.ndarray]:
    """Axis limits that are ticks covering [lo, hi] (display scale), and the ticks.

    >>> x0, x1, ticks = nice_limits(0.3, 3.1, True)
    >>> x0, x1, ticks.tolist()
    (0.25, 4.0, [0.25, 0.5, 1.0, 2.0, 4.0])
    """
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


def auto_range(core, ext_lo, ext_hi, log: bool) -> tuple[float, float]:
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


def fit_ticks(lo, hi, log, width, meas) -> tuple[float, float, np.ndarray]:
    """Nice limits and ticks whose labels take at most 70% of the axis width (inches)."""
    for nbins in (6, 5, 4, 3, 2):
        x0, x1, ticks = nice_limits(lo, hi, log, nbins)
        used = sum(meas(tick_label(t)) + 0.08 for t in ticks)
        if used <= 0.7 * width:
            break
    return x0, x1, ticks


def value_axis(ax, ylim, xlim, ticks, log: bool) -> None:
    """The graphical column's axes: limits, fixed ticks with display-scale labels, x spine only."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_ylim(*ylim)
    if log:
        ax.set_xscale("log")
    ax.set_xlim(*xlim)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([tick_label(t) for t in ticks])
    ax.yaxis.set_visible(False)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(INK)
    ax.tick_params(axis="x", colors=INK, labelsize=FONT_PT, length=3, width=0.8, pad=2)
    ax.set_facecolor("none")


def arrows(ax, spans, x0: float, x1: float) -> int:
    """Arrowheads where an interval ``(lo, hi, y)`` runs past the axis limits; returns how many."""
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
    return len(left) + len(right)
