"""Forest plots of pooled and subgroup results, in the layout journals expect.

RevMan / metafor ``forest()`` layout: the study label and arm-level columns left of the graphic,
estimate, CI, weight and risk of bias right of it; subgroup headers, subtotal diamonds and their
heterogeneity; the overall diamond, prediction interval, tests and a methods footnote. This module
only builds the rows and columns from a result; :mod:`evidence.plots.table` lays them out and
draws them.

Decisions (documented so that readers of a figure can rely on them):

* Study confidence intervals are Wald intervals ``yi +/- z * sqrt(vi)`` at the result's level (as
  metafor's ``forest()``); pooled intervals, the prediction interval and all test statistics are
  the result's own numbers, never recomputed.
* With subgroups, study weights are percentages of the **overall** model (as R meta's
  ``forest()``); a subtotal's weight is the sum of its studies' weights.
* Ratio measures (OR, RR, HR, IRR, ROM) are drawn on a logarithmic axis labelled on the ratio
  scale; all other measures on a linear axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evidence.meta.results import METHOD_NAMES, PI_NAMES, TEST_NAMES

from .style import (
    MEASURE_NAMES,
    MINUS,
    NBSP,
    RATIO_MEASURES,
    SMALL_PT,
    eq,
    num,
    pval,
    tau2_text,
    tick_label,
)
from .table import Column, Graphic, Row, Span, Table, draw_pages, draw_table

__all__ = ["forest_plot"]

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


# ------------------------------------------------------------------------------------------
# input checks


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


# ------------------------------------------------------------------------------------------
# wording


def _model_label(res: Any) -> str:
    """methods_text() without its prediction-interval part: 'Random effects, REML, Wald z'."""
    return res.methods_text().split(", PI ")[0]


def _pi_rule_label(res: Any) -> str:
    if res.pi_rule == "metafor":
        return "metafor rule: normal" if res.test == "z" else "metafor rule: t(k\u22121)"
    return "t(k\u22122)" if res.pi_rule == "higgins" else "t(k\u22121)"


def _het_text(res: Any) -> str:
    if res.k < 2 or not np.isfinite(res.q):
        return f"Heterogeneity: not applicable ({eq('k', str(res.k))})"
    parts = []
    if res.method != "FE":
        parts.append(eq("\u03c4\u00b2", tau2_text(res.tau2)))
    parts.append(
        f"{eq('Q', num(res.q, 2))}, {eq('df', str(res.k - 1))}{NBSP}({pval(res.q_pvalue)})"
    )
    parts.append(eq("I\u00b2", f"{res.i2:.0f}%"))
    return "Heterogeneity: " + "; ".join(parts)


def _test_text(res: Any, what: str = "overall effect", sign: float = 1.0) -> str:
    """The test line; z whenever the result used the normal distribution (also k = 1 under
    Knapp-Hartung, where metafor falls back to z)."""
    stat = "z" if res.test == "z" or not np.isfinite(res.df) else f"t({int(round(res.df))})"
    value = num(sign * res.statistic, 2)
    return f"Test for {what}: {eq(stat, value)}{NBSP}({pval(res.pvalue)})"


def _subgroup_test_text(result: Any, k: int, n_groups: int) -> str:
    qb = getattr(result, "q_between", np.nan)
    dfb = getattr(result, "q_between_df", np.nan)
    pb = getattr(result, "q_between_pvalue", np.nan)
    dft = "NA" if not np.isfinite(dfb) else f"{int(round(dfb))}"
    extra = {
        "separate": " [\u03c4\u00b2 estimated separately per subgroup]",
        "common": " [common \u03c4\u00b2 across subgroups]",
    }.get(getattr(result, "tau2_rule", None), "")
    if getattr(result, "q_between_test", "chi2") == "F":
        stat = eq(f"F({dft}, {k - n_groups})", num(qb, 2))
    else:
        stat = f"{eq('Q', num(qb, 2))}, {eq('df', dft)}"
    return f"Test for subgroup differences: {stat}{NBSP}({pval(pb)}){extra}"


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


# ------------------------------------------------------------------------------------------
# rows and columns from a result


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


def _fmt_arm_col(values: pd.Series, integer: bool) -> list[str]:
    """Format one arm-level column with a common number of decimals (as reported, up to 3)."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(x)
    d = 0
    if not integer:
        for dd in range(4):
            d = dd
            if np.all(np.abs(np.round(x[ok], dd) - x[ok]) < 1e-9):
                break
    return [f"{v:.{d}f}".replace("-", MINUS) if f else "\u2013" for v, f in zip(x, ok, strict=True)]


def _effect_cells(f: _Forest, est: float, lo: float, hi: float) -> dict[str, str]:
    return {
        "est": num(est, f.digits),
        "lo": f"[{num(lo, f.digits)},",
        "hi": f"{num(hi, f.digits)}]",
    }


def _arm_totals(f: _Forest, idx: np.ndarray) -> dict[str, str]:
    out = {}
    for c, head, _arm in f.arm_cols:
        if head in _COUNTS:
            vals = pd.to_numeric(f.data[c], errors="coerce").to_numpy(float)[idx]
            if not np.isnan(vals).any():  # a subtotal only when every row has the number
                out[c] = f"{int(round(vals.sum()))}"
    return out


def _study_rows(f: _Forest, idx: np.ndarray) -> list[Row]:
    arm_text = {c: _fmt_arm_col(f.data[c], head in _COUNTS) for c, head, _ in f.arm_cols}
    rows = []
    for i in idx:
        cells = _effect_cells(f, f.est[i], f.lo[i], f.hi[i])
        cells["weight"] = f"{f.weights[i]:.1f}%"
        cells.update({c: arm_text[c][i] for c, _, _ in f.arm_cols})
        rob = f.rob[i] if f.rob else None
        rows.append(
            Row("study", f.labels[i], cells, f.est[i], f.lo[i], f.hi[i], f.weights[i], rob,
                gid=f"study-{i}")
        )  # fmt: skip
    return rows


def _pooled_row(f: _Forest, res: Any, kind: str, label: str, idx: np.ndarray, gid: str) -> Row:
    est, lo, hi = f.interval(res.estimate, res.ci_low, res.ci_high)
    cells = _effect_cells(f, est, lo, hi)
    cells["weight"] = f"{f.weights[idx].sum():.1f}%"
    cells.update(_arm_totals(f, idx))
    return Row(kind, label, cells, est, lo, hi, gid=gid, bold=True)


def _pi_row(f: _Forest, res: Any, gid: str) -> Row:
    _, pl, ph = f.interval(res.estimate, res.pi_low, res.pi_high)
    ok = np.isfinite(pl) and np.isfinite(ph)
    cells = {"lo": f"[{num(pl, f.digits)},", "hi": f"{num(ph, f.digits)}]"} if ok else {}
    rule = _pi_rule_label(res).replace(" ", NBSP)  # wraps as one unit
    label = f"{f.lvl} prediction interval ({rule})"
    if not ok:
        label += f": not estimable (k = {res.k})"
    return Row("pi", label, cells, np.nan, pl, ph, gid=gid)


def _bayes_row(f: _Forest, fit: Any, gid: str) -> Row:
    """A hollow diamond: the posterior median and credible interval of the mean effect."""
    est, lo, hi = f.interval(fit.mu_median, fit.mu_ci_low, fit.mu_ci_high)
    label = f"Bayesian estimate ({fit.level:g}%{NBSP}CrI)"
    return Row("subtotal", label, _effect_cells(f, est, lo, hi), est, lo, hi, gid=gid, hollow=True)


def _block_rows(f: _Forest, j: int, blk: _Block, subgroup_pi: bool) -> list[Row]:
    """Header, studies, subtotal, PI and heterogeneity lines of subgroup ``j``."""
    if not f.multi:
        return _study_rows(f, f.order[j])
    res = blk.res
    rows = [Row("group", blk.name, bold=True, gid=f"group-{j}")]
    rows += _study_rows(f, f.order[j])
    label = f"Subtotal (k = {res.k})" if res.k > 1 else "Single study (k = 1)"
    rows.append(_pooled_row(f, res, "subtotal", label, blk.idx, f"diamond-subgroup-{j}"))
    if subgroup_pi and res.k > 1:
        rows.append(_pi_row(f, res, f"prediction-interval-{j}"))
    if blk.name in f.bayes:
        rows.append(_bayes_row(f, f.bayes[blk.name], f"diamond-bayes-{j}"))
    for text, gid in (
        (_het_text(res), f"heterogeneity-{j}"),
        (_test_text(res, "subgroup effect", f.sign), f"subgroup-effect-{j}"),
    ):
        rows.append(Row("note", text, size=SMALL_PT, gid=gid, height=0.85))
    rows.append(Row("blank", height=0.5))
    return rows


def _rows(f: _Forest) -> list[Row]:
    # without the overall model, each subgroup gets its own prediction-interval row
    subgroup_pi = not f.show_overall and f.overall.method != "FE" and f.show_pi
    rows = [r for j, b in enumerate(f.blocks) for r in _block_rows(f, j, b, subgroup_pi)]
    if not f.multi:
        rows.append(Row("blank", height=0.4))
    if f.show_overall or not f.multi:
        k = f.overall.k
        label = _model_label(f.overall) if k > 1 else "Single study (k = 1)"
        rows.append(_pooled_row(f, f.overall, "overall", label, np.arange(k), "diamond-overall"))
        if f.show_pi and k > 1:  # no prediction interval, and no rule, for a single study
            rows.append(_pi_row(f, f.overall, "prediction-interval"))
        if None in f.bayes:
            rows.append(_bayes_row(f, f.bayes[None], "diamond-bayes"))
    return rows


def _foot_lines(f: _Forest, result: Any) -> list[tuple[str, str]]:
    lines = []
    if f.show_overall or not f.multi:
        test = _test_text(f.overall, sign=f.sign)
        lines = [(_het_text(f.overall), "heterogeneity"), (test, "overall-test")]
    if f.multi:
        text = _subgroup_test_text(result, f.overall.k, len(f.blocks))
        lines.append((text, "subgroup-test"))
    return lines


def _columns(f: _Forest, mname: str, arm_labels) -> tuple[list[Column], list[Column], list[Span]]:
    left = [Column(c, head) for c, head, _ in f.arm_cols]
    right = [
        Column("est", fit=mname),
        Column("lo", fit=f"[{f.lvl} CI]", tight=True),
        Column("hi", tight=True),
        Column("weight", "Weight"),
    ]
    if f.rob is not None:
        right.append(Column("rob", "RoB", align="center", kind="rob"))
    spans = [Span(("est", "lo", "hi"), f"{mname} [{f.lvl} CI]")]
    for arm in (1, 2):
        keys = tuple(c for c, _, a in f.arm_cols if a == arm)
        if keys:
            spans.append(Span(keys, arm_labels[arm - 1], "group"))
    return left, right, spans


# ------------------------------------------------------------------------------------------
# the figure


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
    label_width: float = 2.4,
    plot_width: float = 2.6,
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
        row_height=row_height,
    )
    if rows_per_page is not None:
        return draw_pages(table, rows_per_page)
    return draw_table(table, ax)
