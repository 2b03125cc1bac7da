"""Argument checks shared by every engine module (pooling, regression, nma, bayes, ...).

One rule per argument, so that every public function reads it the same way: :func:`check_level`
(the confidence, credible or prediction level).
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_level"]


def check_level(level) -> float:
    """Interval level in percent; accepts 95 and 0.95 as metafor does.

    A number in (1, 100) is a percentage; a number in (0.5, 1) is a proportion and is
    multiplied by 100 (metafor reads ``level = 0.95`` as 95%). Anything else raises a
    ``ValueError`` naming the value: strings, booleans, NaN, infinities, 1 (1% or 100%?),
    0 to 0.5 (metafor would read 0.05 as alpha; give 95 for 95%), >= 100 and negatives.

    Examples
    --------
    >>> check_level(95), check_level(0.9)
    (95.0, 90.0)
    >>> check_level(0.05)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: level must be a percentage in (1, 100) or ... (give 95 for 95%); got 0.05
    """
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
        raise ValueError(f"level must be a number (e.g. 95 or 0.95), got {level!r}")
    lv = float(level)
    if 1 < lv < 100:
        return lv
    if 0.5 < lv < 1:
        return 100 * lv
    raise ValueError(
        "level must be a percentage in (1, 100) or a proportion in (0.5, 1) (give 95 for 95%); "
        f"got {level!r}"
    )
