"""Argument checks shared by the whole engine (pooling, analyses, network and Bayesian models).

:func:`check_level` is the one rule for a confidence (or credible) level: every public function
that takes ``level`` validates it here, so 95 and 0.95 mean the same everywhere.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_level"]


def check_level(level: float) -> float:
    """Confidence level in percent; accepts 95 and 0.95 as metafor does.

    A number in (1, 100) is a percentage; a number in (0.5, 1) is a proportion and is
    multiplied by 100 (metafor reads ``level = 0.95`` as 95%). Anything else (strings, NaN,
    infinities, 0 to 0.5, which metafor would read as alpha, 1, >= 100, negative) raises
    ``ValueError``.

    Examples
    --------
    >>> check_level(95), check_level(0.9)
    (95.0, 90.0)
    """
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
        raise ValueError(f"level must be a number (e.g. 95 or 0.95), got {level!r}")
    lv = float(level)
    if 1 < lv < 100:
        return lv
    if 0.5 < lv < 1:
        return 100 * lv
    raise ValueError(
        f"level must be a percentage in (1, 100) or a proportion in (0.5, 1); got {level!r}"
    )
