"""Result objects (stage 4: data -> effects -> pooling -> **results**).

Results are frozen dataclasses: they print a readable summary in a terminal, an HTML table in
JupyterLab, and turn into a one-row tidy frame with :meth:`to_frame`. Every result records the
method choices that produced it (estimator, test, prediction-interval rule, confidence level).

This module imports no other stage. The one-call methods of a pooled result
(``res.leave_one_out()``, ``res.influence()``, ``res.forest_plot()``, ...) are registered on
:class:`PoolResult` by :mod:`evidence.meta.methods` when the package is imported, so the dependency
runs one way (methods -> analyses -> results).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

__all__ = ["PoolResult", "BinaryPoolResult", "METHOD_NAMES", "TEST_NAMES", "PI_NAMES"]

METHOD_NAMES = {
    "FE": "common effect (inverse variance)",
    "DL": "DerSimonian-Laird",
    "HE": "Hedges",
    "HS": "Hunter-Schmidt",
    "SJ": "Sidik-Jonkman",
    "PM": "Paule-Mandel",
    "EB": "empirical Bayes",
    "ML": "maximum likelihood",
    "REML": "restricted maximum likelihood",
    "MH": "Mantel-Haenszel",
    "Peto": "Peto",
}
TEST_NAMES = {
    "z": "Wald z",
    "knha": "Knapp-Hartung",
    "adhoc": "Knapp-Hartung (ad hoc, SE >= Wald SE)",
}
PI_NAMES = {
    "metafor": "metafor predict(): normal under z, t(k-1) under Knapp-Hartung",
    "higgins": "t with k-2 df (Higgins 2009, Riley 2011)",
    "t_k1": "t with k-1 df",
}
_SHORT_PI = {"metafor": "metafor rule", "higgins": "t(k-2)", "t_k1": "t(k-1)"}


def _fmt(x: float, digits: int = 4) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _p(x: float) -> str:
    """A p-value as a table cell: ``<.0001``, ``0.0123`` or ``NA``."""
    if not np.isfinite(x):
        return "NA"
    return "<.0001" if x < 1e-4 else f"{x:.4f}"


def _rel_p(x: float) -> str:
    """A p-value after its name in a sentence: ``< .0001`` or ``= 0.0123`` (never "= <.0001")."""
    return "< .0001" if np.isfinite(x) and x < 1e-4 else f"= {_p(x)}"


def _html_table(title: str, rows: list[tuple[str, str]], note: str) -> str:
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return (
        f"<div><strong>{html.escape(title)}</strong><table>{body}</table>"
        f"<p><small>{html.escape(note)}</small></p></div>"
    )


@dataclass(frozen=True, eq=False, repr=False)
class PoolResult:
    """A fitted common-effect or random-effects model (see :func:`evidence.pool`).

    Estimates are on the analysis scale (log scale for OR and RR). ``i2`` is in percent.
    ``weights`` are percent weights under the fitted model, in input order.
    """

    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    labels: tuple[str, ...] | None = field(repr=False)
    measure: str | None
    method: str
    test: str
    pi_rule: str
    level: float
    k: int
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2: float
    h2: float
    q: float
    q_pvalue: float
    pi_low: float
    pi_high: float
    df: float
    iterations: int = field(repr=False)
    weights: np.ndarray = field(repr=False)

    # ---- derived -------------------------------------------------------------------------
    @property
    def model(self) -> str:
        """``"common effect"`` or ``"random effects"``."""
        return "common effect" if self.method == "FE" else "random effects"

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def q_df(self) -> int:
        return self.k - 1

    @property
    def converged(self) -> bool:
        return self.iterations >= 0

    @property
    def study_labels(self) -> tuple[str, ...]:
        return self.labels or tuple(f"Study {i + 1}" for i in range(self.k))

    def methods_text(self) -> str:
        """One line naming the model and every method choice (used in summaries and figures)."""
        if self.method == "FE":
            head = "Common effect (inverse variance)"
        else:
            head = f"Random effects, {self.method}"
        return f"{head}, {TEST_NAMES[self.test]}, PI {_SHORT_PI[self.pi_rule]}"

    # ---- output --------------------------------------------------------------------------
    def summary(self) -> str:
        """A readable multi-line summary naming estimator, test and prediction-interval rule."""
        lvl = f"{self.level:g}%"
        if self.k == 1:
            return self._summary_single(lvl)
        stat = "z" if self.test == "z" else f"t({self.k - 1})"
        lines = [
            f"{self.model.capitalize()} model (k = {self.k}; "
            f"{'measure ' + self.measure if self.measure else 'measure not named'})",
            f"  tau^2 estimator : {self.method} ({METHOD_NAMES[self.method]})",
            f"  test            : {TEST_NAMES[self.test]}",
            f"  PI rule         : {PI_NAMES[self.pi_rule]}",
            "",
            f"  estimate = {_fmt(self.estimate)}  SE = {_fmt(self.se)}  "
            f"{stat} = {_fmt(self.statistic, 3)}  p {_rel_p(self.pvalue)}",
            f"  {lvl} CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]   "
            f"{lvl} PI [{_fmt(self.pi_low)}, {_fmt(self.pi_high)}]",
            f"  tau^2 = {_fmt(self.tau2)} [{_fmt(self.tau2_ci_low)}, {_fmt(self.tau2_ci_high)}] "
            f"(Q-profile)  I^2 = {_fmt(self.i2, 1)}%  H^2 = {_fmt(self.h2, 2)}",
            f"  Q({self.k - 1}) = {_fmt(self.q, 3)}  p {_rel_p(self.q_pvalue)}",
        ]
        if self.measure in ("OR", "RR"):
            lines.append(
                f"  {self.measure} = {np.exp(self.estimate):.3f} "
                f"[{np.exp(self.ci_low):.3f}, {np.exp(self.ci_high):.3f}]"
            )
        if self.k == 1:
            lines.append("  k = 1: heterogeneity is undefined (NaN).")
        if not self.converged:
            lines.append(f"  WARNING: tau^2 did not converge ({-self.iterations} iterations).")
        return "\n".join(lines)

    def _summary_single(self, lvl: str) -> str:
        """k = 1: the study's own estimate with a z test (metafor falls back to z); nothing is
        pooled, and there is no heterogeneity and no prediction interval."""
        named = "measure " + self.measure if self.measure else "measure not named"
        lines = [
            f"Single study (k = 1; {named})",
            "  nothing is pooled: the study's own estimate with a Wald z test",
            f"  estimate = {_fmt(self.estimate)}  SE = {_fmt(self.se)}  "
            f"z = {_fmt(self.statistic, 3)}  p {_rel_p(self.pvalue)}",
            f"  {lvl} CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]",
        ]
        if self.measure in ("OR", "RR"):
            lines.append(
                f"  {self.measure} = {np.exp(self.estimate):.3f} "
                f"[{np.exp(self.ci_low):.3f}, {np.exp(self.ci_high):.3f}]"
            )
        lines.append("  k = 1: heterogeneity is undefined (NaN).")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    __repr__ = __str__  # a terminal shows the summary, JupyterLab the HTML table

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with every scalar statistic and method choice."""
        skip = {"yi", "vi", "labels", "weights"}
        row = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        row["tau"] = self.tau
        return pd.DataFrame([row])

    def _repr_html_(self) -> str:
        lvl = f"{self.level:g}%"
        rows = [
            ("k", str(self.k)),
            ("estimate (SE)", f"{_fmt(self.estimate)} ({_fmt(self.se)})"),
            (f"{lvl} CI", f"[{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]"),
            ("p", _p(self.pvalue)),
            (f"{lvl} PI", f"[{_fmt(self.pi_low)}, {_fmt(self.pi_high)}]"),
            (
                "tau^2 [Q-profile CI]",
                f"{_fmt(self.tau2)} [{_fmt(self.tau2_ci_low)}, {_fmt(self.tau2_ci_high)}]",
            ),
            ("I^2", f"{_fmt(self.i2, 1)}%"),
            ("Q (df, p)", f"{_fmt(self.q, 3)} ({self.k - 1}, {_p(self.q_pvalue)})"),
        ]
        return _html_table(f"{self.model.capitalize()} model", rows, self.methods_text())


@dataclass(frozen=True, eq=False, repr=False)
class BinaryPoolResult:
    """Mantel-Haenszel or Peto common-effect pooling of 2x2 tables (log scale for OR and RR)."""

    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    labels: tuple[str, ...] | None = field(repr=False)
    measure: str
    method: str
    level: float
    k: int
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    q: float
    q_df: int
    q_pvalue: float
    i2: float
    excluded: tuple[int, ...]

    def methods_text(self) -> str:
        return f"Common effect, {METHOD_NAMES[self.method]}, {self.measure}"

    def summary(self) -> str:
        lvl = f"{self.level:g}%"
        lines = [
            f"{METHOD_NAMES[self.method]} common-effect model "
            f"(k = {self.k}; measure {self.measure})",
            f"  estimate = {_fmt(self.estimate)}  SE = {_fmt(self.se)}  z = "
            f"{_fmt(self.statistic, 3)}  p {_rel_p(self.pvalue)}",
            f"  {lvl} CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]",
            f"  Q({self.q_df}) = {_fmt(self.q, 3)}  p {_rel_p(self.q_pvalue)}  "
            f"I^2 = {_fmt(self.i2, 1)}%",
        ]
        if self.measure in ("OR", "RR"):
            lines.append(
                f"  {self.measure} = {np.exp(self.estimate):.3f} "
                f"[{np.exp(self.ci_low):.3f}, {np.exp(self.ci_high):.3f}]"
            )
        if self.excluded:
            lines.append(
                f"  studies with no events in either arm, left out of Q: {list(self.excluded)}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    __repr__ = __str__  # a terminal shows the summary, JupyterLab the HTML table

    def to_frame(self) -> pd.DataFrame:
        skip = {"yi", "vi", "labels"}
        return pd.DataFrame(
            [{f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}]
        )

    def _repr_html_(self) -> str:
        lvl = f"{self.level:g}%"
        rows = [
            ("k", str(self.k)),
            ("estimate (SE)", f"{_fmt(self.estimate)} ({_fmt(self.se)})"),
            (f"{lvl} CI", f"[{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]"),
            ("p", _p(self.pvalue)),
            ("Q (df, p)", f"{_fmt(self.q, 3)} ({self.q_df}, {_p(self.q_pvalue)})"),
        ]
        return _html_table(f"{METHOD_NAMES[self.method]} model", rows, self.methods_text())
