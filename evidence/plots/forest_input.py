"""Forest plots, part 1 of 3: checking a result and its data, and preparing them for drawing.

The input checks of :func:`evidence.plots.forest_plot` (a pooled or subgroup result, one data
row per study, arm-level and risk-of-bias columns, years for sorting, Bayesian fits), the blocks
of studies (one per subgroup) in display order, and :class:`_Forest`: the result on the display
scale with the study Wald intervals. :mod:`evidence.plots.forest_rows` turns it into rows and
columns; :mod:`evidence.plots.forest` draws them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .style import RATIO_MEASURES

_ROB_ALIASES = {
    **dict.fromkeys(("low", "l", "+", "low risk"), "low"),
    **dict.fromkeys(
        ("some concerns", "some", "s", "!", "?", "unclear", "moderate", "m", "u"), "some"
    ),
    **dict.fromkeys(("high", "h", "-", "\u2212", "high risk"), "high"),
}
# (accepted column stems, header); "m1"/"m2" are the names evidence.effect_sizes uses
_ARM_FIELDS = ((("events",), "Events"), (("mean", "m"), "Mean"), (("sd",), "SD"), (("n",), "Total"))
_COUNTS = ("Total", "Events")


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


def _years(year, data, k: int) -> np.ndarray:
    if year is not None:
        yr = np.asarray(year, dtype=float)
    elif data is not None and "year" in data.columns:
        yr = pd.to_numeric(data["year"], errors="coerce").to_numpy(dtype=float)
    else:
        raise ValueError("forest_plot: sort='year' needs year= or a 'year' column in data")
    if yr.size != k:
        raise ValueError(f"forest_plot: year has {yr.size} entries for {k} studies")
    return yr


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


@dataclass
class _Forest:
    """A result prepared for drawing: blocks of studies, display-scale study intervals, data."""

    overall: Any
    blocks: list[_Block]
    show_overall: bool
    show_pi: bool
    log: bool
    digits: int
    labels: tuple[str, ...]
    order: list[np.ndarray]  # study indices of each block, in display order
    weights: np.ndarray
    est: np.ndarray  # study estimates and Wald CIs, display scale
    lo: np.ndarray
    hi: np.ndarray
    data: pd.DataFrame | None
    arm_cols: list[tuple[str, str, int]]
    rob: list[str | None] | None
    sign: float = 1.0  # -1: drawn as -yi (reverse=True)
    bayes: Mapping[str | None, Any] = field(default_factory=dict)  # block name -> BayesResult

    @property
    def multi(self) -> bool:
        return len(self.blocks) > 1 or self.blocks[0].name is not None

    @property
    def lvl(self) -> str:
        return f"{self.overall.level:g}%"

    def tf(self, x):
        return np.exp(x) if self.log else np.asarray(x, dtype=float)

    def interval(self, est: float, lo: float = np.nan, hi: float = np.nan):
        """(est, lo, hi) of the result on the display scale and orientation."""
        a, b = sorted((self.sign * lo, self.sign * hi)) if self.sign < 0 else (lo, hi)
        return tuple(float(self.tf(v)) for v in (self.sign * est, a, b))


def _prepare(
    result, *, data, labels, sort, year, show_pi, overall, digits, reverse, bayes=None
) -> _Forest:
    _check_result(result)
    res, blocks = _blocks(result)
    bayes = _bayes_fits(bayes, blocks)
    k = res.k
    data = _validate_data(data, k)
    if sort not in (None, "year", "weight", "effect"):
        raise ValueError(
            f"forest_plot: sort must be None, 'year', 'weight' or 'effect'; got {sort!r}"
        )
    yr = _years(year, data, k) if sort == "year" else None
    labels = tuple(str(s) for s in (labels if labels is not None else res.study_labels))
    if len(labels) != k:
        raise ValueError(f"forest_plot: labels has {len(labels)} entries for {k} studies")
    sign = -1.0 if reverse else 1.0
    yi, vi = sign * np.asarray(res.yi, float), np.asarray(res.vi, float)
    weights = np.asarray(res.weights, float)
    if not overall:  # weights within each subgroup; no pooled-over-everything rows
        weights = np.empty(k)
        for blk in blocks:
            weights[blk.idx] = np.asarray(blk.res.weights, float)
    zc = stats.norm.isf((1 - res.level / 100) / 2)
    log = res.measure in RATIO_MEASURES
    tf = np.exp if log else (lambda x: np.asarray(x, dtype=float))
    rob = None
    if data is not None and "rob" in data.columns:
        rob = [_rob_level(v, i) for i, v in enumerate(data["rob"].tolist())]
    return _Forest(
        res,
        blocks,
        show_overall=overall,
        show_pi=res.method != "FE" if show_pi is None else show_pi,
        log=log,
        digits=digits,
        labels=labels,
        order=[_order(b.idx, sort, yi, weights, yr) for b in blocks],
        weights=weights,
        est=tf(yi),
        lo=tf(yi - zc * np.sqrt(vi)),
        hi=tf(yi + zc * np.sqrt(vi)),
        data=data,
        arm_cols=_arm_columns(data),
        rob=rob,
        sign=sign,
        bayes=bayes,
    )


def _bayes_fits(bayes: Any, blocks: list[_Block]) -> dict[str | None, Any]:
    """``bayes`` as {block name: fit}; a single fit belongs to the one unnamed block."""
    if bayes is None:
        return {}
    if not isinstance(bayes, Mapping):
        bayes = {None: bayes}
    names = {b.name for b in blocks}
    unknown = [str(n) for n in bayes if n not in names]
    if unknown:
        raise ValueError(
            f"forest_plot: bayes names {unknown} are not among {sorted(map(str, names - {None}))}"
        )
    for name, fit in bayes.items():
        if not hasattr(fit, "mu_median"):
            raise TypeError(
                f"forest_plot: bayes[{name!r}] is not a BayesResult (evidence.bayes_pool)"
            )
    return dict(bayes)
