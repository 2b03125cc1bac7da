"""Network meta-analysis, the result: :class:`NetworkResult`.

Output stage. The frozen result of :func:`evidence.meta.nma.network`: its fields, the effects of
every treatment against the reference (CI, PI, tests), :meth:`~NetworkResult.summary`,
:meth:`~NetworkResult.to_frame`, ``_repr_html_`` and the plot methods (which call
:mod:`evidence.plots.network`). The league table and P-scores (:mod:`.ranking`), node-splitting
(:mod:`.split`), direct and indirect evidence separated (:mod:`.netsplit`) and the
design-by-treatment interaction (:mod:`.inconsistency`) are methods of the class too, defined in
those modules.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..results import _fmt, _p, _rel_p
from .contribution import _ContributionMethods
from .decomposition import _DecompositionMethods
from .inconsistency import _InconsistencyMethods
from .model import _METHOD_TEXT, _RATIO, _Blocks
from .netsplit import _NetsplitMethods
from .ranking import _RankingMethods
from .split import _SplitMethods


@dataclass(frozen=True, eq=False, repr=False)
class NetworkResult(
    _RankingMethods,
    _SplitMethods,
    _NetsplitMethods,
    _InconsistencyMethods,
    _DecompositionMethods,
    _ContributionMethods,
):
    """A fitted network meta-analysis (see :func:`network`).

    ``beta`` holds the effects of ``treatments[1:]`` against ``treatments[0]`` (the reference)
    with covariance ``vcov``; ``q`` is metafor's ``QE`` with ``q_df`` df. A terminal shows
    :meth:`summary`, JupyterLab the HTML table; :meth:`to_frame` gives one row per treatment.

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.network([0.5, 0.3, 0.2, -0.1], [0.04, 0.05, 0.06, 0.05],
    ...                  ["B", "C", "C", "C"], ["A", "A", "B", "B"], [1, 2, 3, 4])
    >>> print(res)
    Network meta-analysis (k = 4 studies, 4 contrasts, 3 treatments; measure not named)
      model     : random effects, REML
      test      : Wald z
      reference : A
    <BLANKLINE>
        estimate      SE            95% CI            95% PI       p
      B   0.4194  0.1623  [0.1012, 0.7376]  [0.1012, 0.7376]  0.0098
      C   0.4008  0.1694  [0.0688, 0.7327]  [0.0688, 0.7327]  0.0180
    <BLANKLINE>
      tau^2 = 0.0000  tau = 0.0000  I^2 = 0.0%
      Q(2) = 1.295  p = 0.5235  (heterogeneity and inconsistency)
    >>> res.to_frame()[["treatment", "reference", "estimate", "method"]].round(4)
      treatment reference  estimate method
    0         B         A    0.4194   REML
    1         C         A    0.4008   REML
    """

    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    treat1: tuple[str, ...] = field(repr=False)
    treat2: tuple[str, ...] = field(repr=False)
    study: tuple[str, ...] = field(repr=False)
    cov: np.ndarray = field(repr=False)
    treatments: tuple[str, ...]
    measure: str | None
    method: str
    test: str
    level: float
    k: int
    n_contrasts: int
    beta: np.ndarray = field(repr=False)
    vcov: np.ndarray = field(repr=False)
    tau2: float
    q: float
    q_df: int
    q_pvalue: float
    _blocks: _Blocks = field(repr=False)
    _X: np.ndarray = field(repr=False)
    #: participants per treatment (sum of arm sizes), known when fitted from arms
    participants: pd.Series | None = field(default=None, repr=False)

    # league, pscores (.ranking), comparisons, split (.split) and inconsistency (.inconsistency)
    # are methods of the mixins this class derives from.

    # ---- derived -----------------------------------------------------------------------------
    @property
    def reference(self) -> str:
        return self.treatments[0]

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def tau2_identifiable(self) -> bool:
        """False for a random-effects fit with no residual degree of freedom (a saturated
        network: as many contrasts as parameters), where tau^2 is not identifiable and is set to
        0, as metafor's ``rma.mv`` does; the fit is then the common-effect fit."""
        return self.method == "FE" or self.q_df > 0

    def _tau2_text(self) -> str:
        text = f"tau^2 = {_fmt(self.tau2)}"
        if not self.tau2_identifiable:
            text += " (not identifiable: no residual degree of freedom; set to 0 as metafor)"
        return text

    @property
    def i2(self) -> float:
        """I^2 in percent, ``max(0, (Q - df) / Q)`` as netmeta."""
        if self.q_df <= 0 or self.q <= 0:
            return float("nan")
        return float(max(0.0, (self.q - self.q_df) / self.q) * 100)

    def _crit(self) -> float:
        a = (1 - self.level / 100) / 2
        return float(stats.t.isf(a, self.q_df) if self.test == "t" else stats.norm.isf(a))

    def _pvalue(self, z: np.ndarray) -> np.ndarray:
        if self.test == "t":
            return 2 * stats.t.sf(np.abs(z), self.q_df)
        return 2 * stats.norm.sf(np.abs(z))

    def methods_text(self) -> str:
        """One line naming the model and every method choice."""
        tst = "Wald z" if self.test == "z" else f"t({self.q_df})"
        off = [R[:, ~np.eye(R.shape[1], dtype=bool)] for _, _, R in self._blocks.groups]
        rho = (
            "rho = 1/2 in multi-arm studies"
            if all((r == 0.5).all() for r in off)
            else "rho = 1/2, -1/2 or 0 in multi-arm studies (by the arm two contrasts share)"
        )
        return (
            f"Network meta-analysis, {_METHOD_TEXT[self.method]}, {tst}, reference "
            f"{self.reference}; \u03c4\u00b2 common to all comparisons, {rho}"
        )

    @property
    def effects(self) -> pd.DataFrame:
        """Every treatment vs the reference: estimate, se, z, pvalue, CI and PI."""
        se = np.sqrt(np.diag(self.vcov))
        crit = self._crit()
        z = self.beta / se
        pis = np.sqrt(se**2 + self.tau2)
        return pd.DataFrame(
            {
                "estimate": self.beta,
                "se": se,
                "statistic": z,
                "pvalue": self._pvalue(z),
                "ci_low": self.beta - crit * se,
                "ci_high": self.beta + crit * se,
                "pi_low": self.beta - crit * pis,
                "pi_high": self.beta + crit * pis,
            },
            index=pd.Index(self.treatments[1:], name="treatment"),
        )

    def _full(self) -> tuple[np.ndarray, np.ndarray]:
        """Effects of all treatments (reference 0) and their covariance (reference row 0)."""
        T = len(self.treatments)
        d = np.r_[0.0, self.beta]
        C = np.zeros((T, T))
        C[1:, 1:] = self.vcov
        return d, C

    def _study_arms(self) -> dict[str, set[str]]:
        arms: dict[str, set[str]] = {}
        for s, a, b in zip(self.study, self.treat1, self.treat2, strict=True):
            arms.setdefault(s, set()).update((a, b))
        return arms

    # ---- output --------------------------------------------------------------------------------
    def summary(self) -> str:
        """A readable summary: model, method choices, effects vs the reference, Q and tau^2."""
        lvl = f"{self.level:g}%"
        eff = self.effects
        tf = np.exp if self.measure in _RATIO else (lambda x: x)
        name = self.measure if self.measure in _RATIO else "estimate"
        table = pd.DataFrame(
            {
                name: [_fmt(tf(x)) for x in eff["estimate"]],
                "SE": [_fmt(x) for x in eff["se"]],
                f"{lvl} CI": [
                    f"[{_fmt(tf(a))}, {_fmt(tf(b))}]"
                    for a, b in zip(eff["ci_low"], eff["ci_high"], strict=True)
                ],
                f"{lvl} PI": [
                    f"[{_fmt(tf(a))}, {_fmt(tf(b))}]"
                    for a, b in zip(eff["pi_low"], eff["pi_high"], strict=True)
                ],
                "p": [_p(x) for x in eff["pvalue"]],
            },
            index=list(eff.index),
        )
        lines = [
            f"Network meta-analysis (k = {self.k} studies, {self.n_contrasts} contrasts, "
            f"{len(self.treatments)} treatments; "
            f"{'measure ' + self.measure if self.measure else 'measure not named'})",
            f"  model     : {_METHOD_TEXT[self.method]}",
            f"  test      : {'Wald z' if self.test == 'z' else f't({self.q_df})'}",
            f"  reference : {self.reference}",
            "",
            *("  " + line.rstrip() for line in table.to_string().splitlines()),
        ]
        if self.measure in _RATIO:
            lines.append(f"  ({self.measure}s; SE on the log scale)")
        lines += [
            "",
            f"  {self._tau2_text()}  tau = {_fmt(self.tau)}  I^2 = {_fmt(self.i2, 1)}%",
            f"  Q({self.q_df}) = {_fmt(self.q, 3)}  p {_rel_p(self.q_pvalue)}  "
            "(heterogeneity and inconsistency)",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    __repr__ = __str__

    def to_frame(self) -> pd.DataFrame:
        """One row per treatment vs the reference, with tau^2, Q and every method choice."""
        out = self.effects.reset_index()
        out.insert(1, "reference", self.reference)
        for key in ("measure", "method", "test", "level", "tau2", "q", "q_df", "q_pvalue"):
            out[key] = getattr(self, key)
        out["k"] = self.k
        return out

    def _repr_html_(self) -> str:
        lvl = f"{self.level:g}%"
        eff = self.effects
        head = "".join(
            f"<th>{h}</th>" for h in ("treatment", "estimate", "SE", f"{lvl} CI", f"{lvl} PI", "p")
        )
        body = "".join(
            f"<tr><td>{html.escape(str(t))}</td><td>{_fmt(r.estimate)}</td><td>{_fmt(r.se)}</td>"
            f"<td>[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]</td>"
            f"<td>[{_fmt(r.pi_low)}, {_fmt(r.pi_high)}]</td><td>{_p(r.pvalue)}</td></tr>"
            for t, r in eff.iterrows()
        )
        note = (
            f"k = {self.k} studies, {self.n_contrasts} contrasts; {self._tau2_text()}; "
            f"Q({self.q_df}) = {_fmt(self.q, 3)}, p {_rel_p(self.q_pvalue)}. {self.methods_text()}."
        )
        return (
            f"<div><strong>Network meta-analysis vs {html.escape(self.reference)}</strong>"
            f"<table><tr>{head}</tr>{body}</table>"
            f"<p><small>{html.escape(note)}</small></p></div>"
        )

    # ---- plots (evidence.plots.network; matplotlib imported on call) ---------------------------
    def network_plot(self, **kwargs):
        """Network graph; see :func:`evidence.plots.network.network_graph`."""
        from evidence.plots.network import network_graph

        return network_graph(self, **kwargs)

    def forest_plot(self, **kwargs):
        """Every treatment vs the reference; see :func:`evidence.plots.network.network_forest`."""
        from evidence.plots.network import network_forest

        return network_forest(self, **kwargs)

    def split_plot(self, **kwargs):
        """Direct / indirect / network forest; see :func:`evidence.plots.network.split_forest`."""
        from evidence.plots.network import split_forest

        return split_forest(self, **kwargs)
