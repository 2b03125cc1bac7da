"""Text on a figure measured in inches: widths, wrapping, and placement on the table grid."""

from __future__ import annotations

from functools import cache
from typing import Any

from .style import FONT_PT, INK

__all__ = ["Measure", "put", "xin", "yin"]

#: matplotlib settings a measured width depends on (part of the memo's key)
_TEXT_SETTINGS = ("text.hinting", "text.hinting_factor", "text.kerning_factor", "text.antialiased")
_DPIS = (100, 150, 300)


@cache
def _renderers() -> tuple[Any, ...]:
    from matplotlib.backends.backend_agg import RendererAgg

    return tuple(RendererAgg(8, 8, d) for d in _DPIS)


@cache
def _width(line: str, size: float, weight: str, settings: tuple) -> float:
    """Widest of ``line``'s widths at the resolutions of ``_DPIS``, in inches, measured under the
    current matplotlib settings (``settings``, their values, only key the memo)."""
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(family="DejaVu Sans", size=size, weight=weight)
    return max(
        r.get_text_width_height_descent(line, prop, ismath=False)[0] / d
        for r, d in zip(_renderers(), _DPIS, strict=True)
    )


class Measure:
    """Width of text in inches, measured with Agg (independent of any canvas).

    Hinting makes small text slightly wider or narrower depending on the resolution, so the width
    is the largest of those measured at 100, 150 and 300 dpi (screen, notebook and print), plus 3%.
    A width depends only on the line, the font and matplotlib's text settings, so every
    ``Measure`` shares one memo of them (text shaping costs about a millisecond a line).

    >>> m = Measure()
    >>> m("abc") < m("abcdef")
    True
    >>> m.wrap("a few words that do not fit", 0.6).count("\\n") > 0
    True
    """

    def __call__(self, s: str, size: float = FONT_PT, weight: str = "normal") -> float:
        from matplotlib import rcParams

        settings = tuple(rcParams[k] for k in _TEXT_SETTINGS)
        lines = [line for line in str(s).split("\n") if line]
        return 1.03 * max((_width(line, size, weight, settings) for line in lines), default=0.0)

    def wrap(
        self,
        s: str,
        width: float,
        size: float = FONT_PT,
        weight: str = "normal",
        max_lines: int | None = None,
    ) -> str:
        """Wrap ``s`` into lines no wider than ``width`` inches (shortened with an ellipsis)."""
        if self(s, size, weight) <= width:
            return s
        lines: list[str] = []
        cur = ""
        for wd in s.split(" "):
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


def xin(ax, anchor: float):
    """Blended transform: x in inches from the axes' left (anchor 0) or right (1) edge, y data."""
    from matplotlib import transforms

    fig = ax.figure
    tx = fig.dpi_scale_trans + transforms.ScaledTranslation(anchor, 0, ax.transAxes)
    return transforms.blended_transform_factory(tx, ax.transData)


def yin(ax, anchor_x: float):
    """x in inches from an axes edge, y in inches from the axes bottom (for text under the plot)."""
    from matplotlib import transforms

    fig = ax.figure
    return fig.dpi_scale_trans + transforms.ScaledTranslation(anchor_x, 0, ax.transAxes)


def put(
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
    """Unclipped plain text (no mathtext) on the table grid of a figure.

    ``linespacing`` applies to text of several lines only: matplotlib (3.11) places a single line
    drawn with an explicit line spacing by its own descent, so that a word with a descender
    ("Study", "Cooper") would sit about 1 pt higher than one without ("Total", "45").
    """
    if "\n" not in str(s):
        linespacing = None
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
