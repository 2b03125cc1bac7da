"""Forest plots, part 2 of 3: the rows and columns of a prepared result, and their wording.

Study rows (estimate, CI, weight, arm-level cells, risk of bias), subgroup headers, subtotal and
overall diamonds, prediction-interval and Bayesian rows, the heterogeneity and test lines of
each subgroup and of the whole analysis, and the text columns with their header spans. The
rows are :class:`~evidence.plots.table.Row` objects drawn by
:func:`evidence.plots.table.draw_table`; the input comes from :mod:`evidence.plots.forest_input`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .forest_input import _COUNTS, _Block, _Forest
from .style import MINUS, NBSP, SMALL_PT, eq, num, pval, tau2_text
from .table import Column, Row, Span


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
