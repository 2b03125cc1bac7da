"""PDT in one database's network: :class:`NetworkReport` and :func:`network_report`.

:func:`network_report` chooses the measure, fits the network (:mod:`.fits`) and builds every
table of the notebook section (PDT vs every node, PDT's league row and column, PDT vs CBT direct
/ indirect / network, transitivity, sensitivity, fragility); :func:`condition_networks` does so
for every database of a condition group.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..network_data import load_network
from .effects import network_effects
from .fits import (
    _choose_measure,
    _contrasts,
    _fragility,
    _low_rob,
    _pdt_vs,
    _sensitivity,
    fit_network,
)


def _pfmt(p: float) -> str:
    """``= 0.123`` or ``< 0.001``."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _split_pdt(split: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``split`` that involve PDT, turned to PDT minus the other node."""
    rows = []
    for r in split.itertuples():
        if "pdt" not in (r.treat1, r.treat2):
            continue
        s = 1.0 if r.treat1 == "pdt" else -1.0
        other = r.treat2 if r.treat1 == "pdt" else r.treat1
        rows.append(
            {
                "node": other,
                "k_direct": int(r.k_direct),
                "direct": s * r.direct,
                "direct_se": r.direct_se,
                "indirect": s * r.indirect,
                "indirect_se": r.indirect_se,
                "network": s * r.network,
                "network_se": r.network_se,
                "difference": s * r.difference,
                "pvalue_split": r.pvalue,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False, repr=False)
class NetworkReport:
    """PDT in one database's network: the fit and every table of the notebook section.

    ``result`` is None (and ``message`` says why) when PDT has no effect on the chosen measure
    and timepoint. Tables are DataFrames; :meth:`summary` is the plain-language account.
    """

    database: str
    condition_group: str
    measure: str
    timepoint: str
    method: str
    rho: float
    message: str
    result: object = field(default=None, repr=False)
    contrasts: pd.DataFrame = field(default=None, repr=False)
    cov: np.ndarray = field(default=None, repr=False)
    dropped: int = 0
    pdt_table: pd.DataFrame = field(default=None, repr=False)
    league_pdt: pd.DataFrame = field(default=None, repr=False)
    pscores: pd.DataFrame = field(default=None, repr=False)
    pdt_cbt: pd.DataFrame = field(default=None, repr=False)
    inconsistency: pd.DataFrame = field(default=None, repr=False)
    transitivity: pd.DataFrame = field(default=None, repr=False)
    sensitivity: pd.DataFrame = field(default=None, repr=False)
    fragile: bool = False
    leave_one_out: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def reference(self) -> str | None:
        return None if self.result is None else self.result.reference

    def methods_text(self) -> str:
        return (
            f"{self.database}: {self.measure} at {self.timepoint}; instruments and same-node arms "
            f"of a study combined (compound symmetry, rho = {self.rho:g}); multi-arm covariance "
            f"from arm sizes; {self.method}"
            + ("" if self.result is None else f"; reference {self.reference}")
        )

    def summary(self) -> str:
        """Plain-language statements; every network estimate with its direct trials and the
        inconsistency result."""
        if self.result is None:
            return f"{self.database}: {self.message}"
        res = self.result
        dbt = self.inconsistency.loc["between designs"]
        dbt_txt = (
            f"design-by-treatment Q({int(dbt.df)}) = {dbt.q:.2f}, p {_pfmt(dbt.pvalue)}"
            if dbt.df > 0
            else "design-by-treatment Q not estimable (no loops of different designs)"
        )
        lines = [
            f"{self.database} ({self.measure}, {self.timepoint}): {res.k} studies, "
            f"{len(res.treatments)} nodes, reference {res.reference}; tau^2 = {res.tau2:.3f}; "
            f"{dbt_txt}.",
        ]
        c = self.pdt_cbt
        if c is None or c.empty:
            lines.append("PDT vs CBT: CBT is not in the part of this network that holds PDT.")
        else:
            r = c.iloc[0]
            net = (
                f"network {r.network:.2f} [{r.net_low:.2f}, {r.net_high:.2f}] "
                f"({int(r.k_direct)} direct trials)"
            )
            if r.k_direct == 0:
                lines.append(
                    f"PDT vs CBT: no direct evidence; {net} rests entirely on indirect "
                    "comparisons through shared comparators (transitivity assumed)."
                )
            elif not np.isfinite(r.indirect):
                lines.append(
                    f"PDT vs CBT: {net}; direct only, no independent indirect evidence to "
                    "check it against."
                )
            else:
                lines.append(
                    f"PDT vs CBT: direct {r.direct:.2f}, indirect {r.indirect:.2f}, {net}; "
                    f"direct vs indirect p {_pfmt(r.pvalue_split)}."
                )
        if self.fragile:
            node = self.leave_one_out.attrs.get("node", "one node")
            lines.append(
                f"Fragile: PDT connects to this network only through {node}, in "
                f"{self.leave_one_out.shape[0]} trial(s); the leave-one-PDT-trial-out table "
                "shows how the estimates move without each."
            )
        lines.append(
            "P-scores rank treatments by their estimated effects only; ranks are uncertain "
            "where intervals overlap."
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    __repr__ = __str__

    def to_frame(self) -> pd.DataFrame:
        """PDT vs every other node, with the number of direct trials and the split test."""
        if self.pdt_table is None:
            return pd.DataFrame()
        out = self.pdt_table.copy()
        out.insert(0, "database", self.database)
        out["measure"], out["method"] = self.measure, self.method
        return out

    def _repr_html_(self) -> str:
        body = "".join(f"<p>{html.escape(line)}</p>" for line in self.summary().splitlines())
        table = self.to_frame()
        tab = table.round(3).to_html(index=False) if len(table) else ""
        return f"<div><strong>{html.escape(self.database)}</strong>{body}{tab}</div>"


def _transitivity(kept: pd.DataFrame) -> pd.DataFrame:
    """Effect modifiers by comparison: year, risk of bias and format of its studies."""
    rows = []
    for (a, b), g in kept.groupby(["node_a", "node_b"], sort=True):
        s = g.drop_duplicates("study_id")
        year = pd.to_numeric(s["year"], errors="coerce")
        rob = s["rob"].replace("", "not given").value_counts()
        fmt = s["format"].replace("", "not given").value_counts()
        rows.append(
            {
                "comparison": f"{a} vs {b}",
                "studies": len(s),
                "year_median": year.median(),
                "year_range": f"{year.min():.0f}-{year.max():.0f}" if year.notna().any() else "",
                "low_rob_share": float(_low_rob(s["rob"]).mean()),
                "rob": "; ".join(f"{k}: {v}" for k, v in rob.items()),
                "format": "; ".join(f"{k}: {v}" for k, v in fmt.items()),
            }
        )
    return pd.DataFrame(rows)


def _pdt_table(res, sp: pd.DataFrame) -> pd.DataFrame:
    """PDT against every other node: network estimate and the node-split direct/indirect."""
    tab = []
    for node in (t for t in res.treatments if t != "pdt"):
        e, se, lo, hi = _pdt_vs(res, node)
        s = sp[sp["node"] == node] if len(sp) else sp
        tab.append(
            {
                "node": node,
                "estimate": e,
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
                "k_direct": int(s["k_direct"].iloc[0]) if len(s) else 0,
                "direct": float(s["direct"].iloc[0]) if len(s) else np.nan,
                "indirect": float(s["indirect"].iloc[0]) if len(s) else np.nan,
                "pvalue_split": float(s["pvalue_split"].iloc[0]) if len(s) else np.nan,
            }
        )
    return pd.DataFrame(tab)


def _league_pdt(res, pdt_table: pd.DataFrame) -> pd.DataFrame:
    """PDT's row and column of the league table, with the number of direct trials."""
    lt = res.league(table=True)
    k_direct = pdt_table.set_index("node")["k_direct"]
    league_pdt = pd.DataFrame(
        {
            "PDT vs node (PDT's row)": lt.loc["pdt"],
            "node vs PDT (PDT's column)": lt["pdt"],
            "k_direct": k_direct.reindex(lt.index),
        }
    ).drop(index="pdt")
    league_pdt.index.name = "node"
    return league_pdt


def _pdt_cbt(
    database: str, pdt_table: pd.DataFrame, sp: pd.DataFrame, inc: pd.DataFrame
) -> pd.DataFrame | None:
    """One row: PDT vs CBT direct, indirect and network, with the design-by-treatment test;
    None when CBT is not in the network."""
    if "cbt" not in set(pdt_table["node"]):
        return None
    r = pdt_table[pdt_table["node"] == "cbt"].iloc[0]
    s = sp[sp["node"] == "cbt"] if len(sp) else sp
    return pd.DataFrame(
        [
            {
                "database": database,
                "k_direct": int(r.k_direct),
                "direct": r.direct,
                "direct_se": float(s["direct_se"].iloc[0]) if len(s) else np.nan,
                "indirect": r.indirect,
                "indirect_se": float(s["indirect_se"].iloc[0]) if len(s) else np.nan,
                "network": r.estimate,
                "network_se": r.se,
                "net_low": r.ci_low,
                "net_high": r.ci_high,
                "pvalue_split": r.pvalue_split,
                "design_by_treatment_q": float(inc.loc["between designs", "q"]),
                "design_by_treatment_df": int(inc.loc["between designs", "df"]),
                "design_by_treatment_p": float(inc.loc["between designs", "pvalue"]),
            }
        ]
    )


def network_report(
    net: pd.DataFrame,
    database: str,
    *,
    method: str = "REML",
    rho: float = 0.5,
    timepoint: str = "post",
) -> NetworkReport:
    """Fit and describe PDT in the network of ``database`` (rows of :func:`load_network`).

    Examples
    --------
    >>> from evidence.review.network_data import load_network
    >>> rep = network_report(load_network(), "sad-psyctr")
    >>> rep.reference, rep.measure, int(rep.pdt_cbt["k_direct"].iloc[0])
    ('waitlist', 'SMD', 1)
    """
    rows = net[net["database"] == database]
    group = rows["condition_group"].iloc[0] if len(rows) else ""
    effs = {
        m: network_effects(rows, measure=m, timepoint=timepoint, rho=rho) for m in ("SMD", "OR")
    }
    measure = _choose_measure(effs)
    eff = effs[measure]
    base = dict(
        database=database,
        condition_group=group,
        measure=measure,
        timepoint=timepoint,
        method=method,
        rho=rho,
    )
    try:
        res, kept, dropped = fit_network(eff, measure=measure, method=method)
        cov = _contrasts(kept, measure)[1] if res is not None else None
    except ValueError as err:
        return NetworkReport(**base, message=f"the network fit failed ({err})")
    if res is None:
        return NetworkReport(
            **base,
            message=f"PDT has no {timepoint} effect on SMD or OR in this network "
            "(its trials report other timepoints or none that can be computed)",
        )
    sp = _split_pdt(res.split())
    pdt_table = _pdt_table(res, sp)
    inc = res.inconsistency()
    fragile, loo = _fragility(kept, eff, measure, method, res.reference)
    return NetworkReport(
        **base,
        message="",
        result=res,
        contrasts=kept,
        cov=cov,
        dropped=dropped,
        pdt_table=pdt_table,
        league_pdt=_league_pdt(res, pdt_table),
        pscores=res.pscores(small_values="undesirable"),
        pdt_cbt=_pdt_cbt(database, pdt_table, sp, inc),
        inconsistency=inc,
        transitivity=_transitivity(kept),
        sensitivity=_sensitivity(eff, measure, method, res.reference),
        fragile=fragile,
        leave_one_out=loo,
    )


def condition_networks(
    key: str, *, method: str = "REML", rho: float = 0.5, net: pd.DataFrame | None = None
) -> list[NetworkReport]:
    """One :class:`NetworkReport` per database of the condition group ``key``."""
    net = load_network() if net is None else net
    dbs = list(dict.fromkeys(net.loc[net["condition_group"] == key, "database"]))
    return [network_report(net, db, method=method, rho=rho) for db in dbs]
