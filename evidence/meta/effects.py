"""Effect sizes and sampling variances (stage 2 of the pipeline: data -> **effects** -> pooling).

Every function is vectorised over studies and follows metafor's ``escalc()`` definitions:

* ``SMD``: Hedges' g with the exact correction J(m) = G(m/2) / (sqrt(m/2) G((m-1)/2)),
  m = n1 + n2 - 2, and the large-sample variance 1/n1 + 1/n2 + g^2 / (2 (n1 + n2));
* ``MD``: m1 - m2 with variance sd1^2/n1 + sd2^2/n2;
* ``OR``: log odds ratio, variance 1/a + 1/b + 1/c + 1/d;
* ``RR``: log risk ratio, variance 1/a - 1/n1 + 1/c - 1/n2;
* ``RD``: risk difference, variance p1 (1 - p1)/n1 + p2 (1 - p2)/n2.

Zero cells (metafor's default ``add=1/2, to="only0"``): a 2x2 table with a zero cell gets 1/2 added
to each of its four cells before ``OR``, ``RR`` and ``RD`` are computed. A table with no events in
either arm (a "double zero") is kept by default, exactly as ``escalc(..., drop00=FALSE)`` keeps it:
it receives the 1/2 correction and so a finite effect near the null with a large variance. Pass
``drop00=True`` to set such rows to NaN instead; :func:`effect_sizes` then lists them in the
``excluded`` column so that nothing disappears silently.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from .checks import check_level
from .pooling.checks import check_aligned

__all__ = [
    "MEASURES",
    "RATIO_MEASURES",
    "hedges_correction",
    "effect_sizes",
    "from_reported",
]

MEASURES = ("SMD", "MD", "OR", "RR", "RD")
RATIO_MEASURES = ("OR", "RR")
_CONTINUOUS = ("m1", "sd1", "n1", "m2", "sd2", "n2")
_BINARY = ("events1", "n1", "events2", "n2")


def hedges_correction(m: np.ndarray | float) -> np.ndarray:
    """Exact small-sample correction J(m) for Hedges' g, with m = n1 + n2 - 2 degrees of freedom.

    Examples
    --------
    >>> round(float(hedges_correction(18)), 6)
    0.957646
    """
    m = np.asarray(m, dtype=float)
    return np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))


def _as_float(name: str, value: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: values must be numeric ({exc})") from None
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a one-dimensional sequence, got shape {arr.shape}")
    return arr


def _columns(names: tuple[str, ...], columns: dict) -> dict[str, np.ndarray]:
    missing = [n for n in names if n not in columns]
    extra = [n for n in columns if n not in names]
    if missing or extra:
        raise ValueError(
            f"expected keywords {', '.join(names)}; missing: {missing or 'none'}; "
            f"unexpected: {extra or 'none'}"
        )
    arrays = {n: _as_float(n, columns[n]) for n in names}
    lengths = {n: a.size for n, a in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"inputs have unequal lengths: {lengths}")
    return arrays


def _check(name: str, bad: np.ndarray, rule: str) -> None:
    if np.any(bad):
        pos = np.flatnonzero(bad).tolist()
        raise ValueError(f"{name}: {rule} (position {pos[0]}; all positions: {pos})")


def _continuous(measure: str, a: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    for arm in ("1", "2"):
        n, sd = a["n" + arm], a["sd" + arm]
        _check("n" + arm, ~(n >= 2), "each arm needs n >= 2")
        _check("n" + arm, ~np.isfinite(n) | (n != np.round(n)), "sample sizes must be whole")
        _check("sd" + arm, ~(sd > 0) | ~np.isfinite(sd), "standard deviations must be positive")
        _check("m" + arm, ~np.isfinite(a["m" + arm]), "means must be finite numbers")
    n1, n2 = a["n1"], a["n2"]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if measure == "MD":
            yi, vi = a["m1"] - a["m2"], a["sd1"] ** 2 / n1 + a["sd2"] ** 2 / n2
        else:
            m = n1 + n2 - 2
            sp = np.sqrt(((n1 - 1) * a["sd1"] ** 2 + (n2 - 1) * a["sd2"] ** 2) / m)
            yi = hedges_correction(m) * (a["m1"] - a["m2"]) / sp
            vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    bad = ~np.isfinite(yi) | ~np.isfinite(vi) | ~(vi > 0)
    _check("yi", bad, "effect size or its variance is not finite (SD too small for the means?)")
    return yi, vi


def _binary(
    measure: str, a: dict[str, np.ndarray], drop00: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e1, n1, e2, n2 = a["events1"], a["n1"], a["events2"], a["n2"]
    for name, arr in a.items():
        _check(name, ~np.isfinite(arr) | (arr < 0), "counts must be non-negative numbers")
        _check(name, arr != np.round(arr), "counts must be whole numbers")
    _check("n1", n1 < 1, "arm totals must be at least 1")
    _check("n2", n2 < 1, "arm totals must be at least 1")
    _check("events1", e1 > n1, "events exceed the arm total")
    _check("events2", e2 > n2, "events exceed the arm total")
    cells = np.stack([e1, n1 - e1, e2, n2 - e2])
    cells = cells + 0.5 * np.any(cells == 0, axis=0)
    ai, bi, ci, di = cells
    n1c, n2c = ai + bi, ci + di
    if measure == "OR":
        yi, vi = np.log(ai * di / (bi * ci)), 1 / ai + 1 / bi + 1 / ci + 1 / di
    elif measure == "RR":
        yi, vi = np.log(ai / n1c) - np.log(ci / n2c), 1 / ai - 1 / n1c + 1 / ci - 1 / n2c
    else:
        p1, p2 = ai / n1c, ci / n2c
        yi, vi = p1 - p2, p1 * (1 - p1) / n1c + p2 * (1 - p2) / n2c
    double_zero = (e1 == 0) & (e2 == 0)
    if drop00:
        yi, vi = np.where(double_zero, np.nan, yi), np.where(double_zero, np.nan, vi)
    return yi, vi, double_zero & drop00


def effect_sizes(measure: str, *, drop00: bool = False, **columns) -> pd.DataFrame:
    """Compute effect sizes ``yi`` and sampling variances ``vi`` (metafor ``escalc``).

    Parameters
    ----------
    measure : {"SMD", "MD", "OR", "RR", "RD"}
        Effect measure. ``OR`` and ``RR`` are returned on the log scale.
    drop00 : bool, default False
        For binary measures: set studies with no events in either arm to NaN (and flag them in
        the ``excluded`` column) instead of applying the 1/2 correction.
    **columns
        Continuous measures take ``m1, sd1, n1, m2, sd2, n2``; binary measures take
        ``events1, n1, events2, n2``. Arm 1 is the experimental (PDT) arm. Change scores work the
        same way: pass the mean change and the SD of change per arm.

    Returns
    -------
    pandas.DataFrame
        Columns ``yi`` and ``vi`` (one row per study, input order), plus ``excluded`` (reason or
        empty string) for binary measures. Indexed like the pandas Series given, if any.

    Raises
    ------
    ValueError
        Unknown measure, missing or unexpected keywords, unequal lengths, non-numeric values,
        SD <= 0, n < 2, negative counts or events > n; the message names the position. Series
        whose indexes differ are refused (they would be paired by position).

    Examples
    --------
    >>> effect_sizes("SMD", m1=[10.0], sd1=[4.0], n1=[20], m2=[12.0], sd2=[5.0], n2=[20]).round(4)
           yi      vi
    0 -0.4329  0.1023
    >>> es = effect_sizes("OR", events1=[0, 5], n1=[10, 20], events2=[3, 10], n2=[10, 20])
    >>> es[["yi", "vi"]].round(4)
           yi      vi
    0 -2.2824  2.5143
    1 -1.0986  0.4667
    """
    measure = str(measure).upper()
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of {MEASURES}")
    index = check_aligned(**columns)
    if measure in ("SMD", "MD"):
        yi, vi = _continuous(measure, _columns(_CONTINUOUS, columns))
        return pd.DataFrame({"yi": yi, "vi": vi}, index=index)
    yi, vi, dropped = _binary(measure, _columns(_BINARY, columns), drop00)
    excluded = np.where(dropped, "no events in either arm (drop00=True)", "")
    return pd.DataFrame({"yi": yi, "vi": vi, "excluded": excluded}, index=index)


_Z975 = stats.norm.ppf(0.975)
#: Scales accepted by :func:`from_reported`: ratio scales (analysed on the log scale) and
#: difference scales (analysed as reported).
REPORTED_SCALES = ("OR", "RR", "HR", "SMD", "MD", "RD", "COR", "ZCOR", "GENERIC")


def from_reported(
    estimate: Sequence[float] | np.ndarray,
    *,
    scale: str,
    ci_low: Sequence[float] | np.ndarray | None = None,
    ci_high: Sequence[float] | np.ndarray | None = None,
    se: Sequence[float] | np.ndarray | None = None,
    pvalue: Sequence[float] | np.ndarray | None = None,
    level: float = 95.0,
) -> pd.DataFrame:
    """Generic inverse variance: ``yi``/``vi`` from a reported effect with a CI, an SE or a p value.

    Ratio scales (``OR``, ``RR``, ``HR``) are reported on the ratio scale and analysed on the log
    scale. The rule used for each row is returned in ``derivation``:

    * CI: ``se = (hi - lo) / (2 z)`` on the analysis scale (z for the stated ``level``);
    * SE: taken as reported;
    * p value (two-sided, from a z test): ``se = |yi| / z_{1-p/2}``.

    pandas Series arguments must share one index (else ``ValueError``); the result keeps it.

    Examples
    --------
    >>> from_reported([0.5], scale="OR", ci_low=[0.25], ci_high=[1.0]).round(4)
           yi      vi                                         derivation
    0 -0.6931  0.1251  se = (log(hi) - log(lo)) / (2 * 1.96) from 95% CI
    """
    scale = str(scale).upper()
    if scale not in REPORTED_SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {REPORTED_SCALES}")
    level = check_level(level)
    index = check_aligned(estimate=estimate, ci_low=ci_low, ci_high=ci_high, se=se, pvalue=pvalue)
    ratio = scale in ("OR", "RR", "HR")
    est = _as_float("estimate", estimate)
    _check("estimate", ~np.isfinite(est), "estimates must be finite numbers")
    if ratio:
        _check("estimate", ~(est > 0), "ratio estimates must be positive")
    yi = np.log(est) if ratio else est
    given = [x is not None for x in (ci_low, se, pvalue)]
    if (ci_low is None) != (ci_high is None) or sum(given) != 1:
        raise ValueError("give exactly one of: ci_low and ci_high, se, pvalue")
    if se is not None:
        sei = _as_float("se", se)
        rule = "se as reported"
    elif pvalue is not None:
        p = _as_float("pvalue", pvalue)
        _check("pvalue", ~((p > 0) & (p < 1)), "p values must lie in (0, 1)")
        sei = np.abs(yi) / stats.norm.isf(p / 2)
        rule = "se = |yi| / z(1 - p/2) from two-sided p"
    else:
        lo, hi = _as_float("ci_low", ci_low), _as_float("ci_high", ci_high)
        if ratio:
            _check("ci_low", ~(lo > 0), "ratio CI limits must be positive")
            lo, hi = np.log(lo), np.log(hi)
        _check("ci_high", ~(hi > lo), "upper CI limit must exceed the lower")
        z = stats.norm.ppf(0.5 + level / 200)
        sei = (hi - lo) / (2 * z)
        what = "log(hi) - log(lo)" if ratio else "hi - lo"
        rule = f"se = ({what}) / (2 * {z:.2f}) from {level:g}% CI"
    if sei.size != yi.size:
        raise ValueError(f"inputs have unequal lengths: estimate {yi.size}, spread {sei.size}")
    _check("se", ~(sei > 0) | ~np.isfinite(sei), "standard errors must be positive and finite")
    return pd.DataFrame({"yi": yi, "vi": sei**2, "derivation": rule}, index=index)
