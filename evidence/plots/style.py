"""Shared look of every figure: rcParams, sizes, colours and number formatting.

Styling happens only inside :func:`style` (a :func:`matplotlib.style.context`), so global
rcParams are never changed; matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

__all__ = ["RATIO_MEASURES", "STYLE", "MEASURE_NAMES", "style"]

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
SMALL_PT = 7.5  # heterogeneity lines, favours labels
NOTE_PT = 7.5  # methods footnote: 9 px on screen when a 7.9 in figure fills a 688 px column
TITLE_PT = 9.0
MAX_MARKER_PT = 10.0  # side of the square of the largest weight
MIN_MARKER_PT = 2.0  # smallest square side drawn
INK = "#1a1a1a"
GREY = "#595959"
SQUARE = "#2f4b7c"
DIAMOND = "#1a1a1a"
SUB_DIAMOND = "#8c8c8c"
PI_FILL = "#c9c9c9"
BAND = "#dfeee0"

#: Names of the measures in axis headers.
MEASURE_NAMES = MappingProxyType(
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
MINUS = "\u2212"
NBSP = "\u00a0"


def style():
    """Context manager applying :data:`STYLE` on top of matplotlib's defaults."""
    import matplotlib.style

    return matplotlib.style.context(["default", dict(STYLE)])


#: From this magnitude on, :func:`num` writes a number as 4.3×10⁵ (an odds ratio's interval can
#: reach 10⁸ with few events, and its digits would widen the plot's table).
SCIENTIFIC_FROM = 1e4
_SUPERSCRIPT = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


def num(x: float, digits: int = 2) -> str:
    """Fixed-decimal number with a typographic minus; 'NA' when missing; from
    :data:`SCIENTIFIC_FROM` on, two significant digits times a power of ten.

    >>> num(-0.004), num(float("nan")), num(1.5, 1), num(426791.26), num(-2.1e8)
    ('0.00', 'NA', '1.5', '4.3×10⁵', '−2.1×10⁸')
    """
    if x is None or np.isnan(x):
        return "NA"
    if np.isinf(x):
        return "\u221e" if x > 0 else f"{MINUS}\u221e"
    if abs(x) >= SCIENTIFIC_FROM:
        mantissa, power = f"{x:.1e}".split("e")
        s = f"{mantissa}\u00d710{str(int(power)).translate(_SUPERSCRIPT)}"
        return s.replace("-", MINUS)
    s = f"{x:.{digits}f}"
    if float(s) == 0:
        s = f"{0.0:.{digits}f}"
    return s.replace("-", MINUS)


def eq(name: str, value: str) -> str:
    """'name = value' with no-break spaces, so that wrapping never splits it."""
    return f"{name}{NBSP}={NBSP}{value}"


def pval(p: float) -> str:
    """'p = 0.012' or 'p < 0.001' (no-break spaces)."""
    if p is None or not np.isfinite(p):
        return eq("p", "NA")
    return f"p{NBSP}<{NBSP}0.001" if p < 0.001 else eq("p", f"{p:.3f}")


def tau2_text(t: float) -> str:
    """tau^2 with three decimals, or in scientific notation when below 0.0005."""
    if not np.isfinite(t):
        return "NA"
    return "0" if t == 0 else f"{t:.3f}" if t >= 0.0005 else f"{t:.1e}"


def tick_label(v: float) -> str:
    """Axis tick label on the display scale: no trailing zeros, typographic minus."""
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s.replace("-", MINUS)
