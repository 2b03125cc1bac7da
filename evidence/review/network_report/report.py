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

from ..network_data import NODE_NAMES, load_network
from .effects import network_effects
from .fits import (
    _choose_measure,
    _contrasts,
    _fragility,
    _low_rob,
    _pdt_vs,
    _sensitivity,
    fit_network,
    global_test,
)


def _trials(n: int) -> str:
    """``1 trial``, ``3 trials``."""
    return f"{n} trial" + ("" if n == 1 else "s")


def _pfmt(p: float) -> str:
    """``= 0.123`` or ``< 0.001``."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _split_pdt(split: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``split`` (:meth:`NetworkResult.netsplit`) that involve PDT, turned to PDT minus
    the other node."""
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
                "indirect_method": r.indirect_method,
                "direct_share": r.direct_share,
            }
        )
    return pd.DataFrame(rows)


def _global_text(inc: pd.DataFrame) -> str:
    g = global_test(inc)
    if g["df"] == 0:
        return "no global inconsistency test (no loops of different designs)"
    text = f"global inconsistency: {g['name']} chi2({g['df']}) = {g['statistic']:.2f}, p " + (
        _pfmt(g["pvalue"])
    )
    if g["name"] != "Q between designs":
        text += (
            f" (the common-effect Q between designs, {g['q_between_fe']:.1f}, p "
            f"{_pfmt(g['p_between_fe'])}, also counts heterogeneity and is descriptive only)"
        )
    return text


def _share_text(r) -> str:
    """What the network adds to the head-to-head trials, from the direct share of precision."""
    share = float(r.direct_share)
    if share >= 0.995:
        return "the network adds practically nothing to the head-to-head trials"
    how = (
        "back-calculated from the network and direct estimates"
        if r.indirect_method == "back-calculation"
        else "SIDDE: the network without the head-to-head trials"
    )
    return (
        f"{100 * share:.0f}% of the network estimate's precision is direct, "
        f"{100 * (1 - share):.0f}% indirect; indirect {r.indirect:.2f} ({how}), direct vs "
        f"indirect p {_pfmt(r.pvalue_split)}"
    )


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
    decomposition: object = field(default=None, repr=False)
    transitivity: pd.DataFrame = field(default=None, repr=False)
    sensitivity: pd.DataFrame = field(default=None, repr=False)
    fragile: bool = False
    leave_one_out: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def reference(self) -> str | None:
        return None if self.result is None else self.result.reference

    def methods_text(self) -> str:
        reference = NODE_NAMES.get(self.reference, self.reference)
        return (
            f"{self.database}: {self.measure} at {self.timepoint}; instruments and same-node arms "
            f"of a study combined (compound symmetry, rho = {self.rho:g}); multi-arm covariance "
            f"from arm sizes; {self.method}"
            + ("" if self.result is None else f"; reference {reference}")
        )

    def summary(self) -> str:
        """Plain-language statements; every network estimate with its direct trials and the
        inconsistency result."""
        if self.result is None:
            return f"{self.database}: {self.message}"
        res = self.result
        lines = [
            f"{self.database} ({self.measure}, {self.timepoint}): {res.k} studies, "
            f"{len(res.treatments)} nodes, reference "
            f"{NODE_NAMES.get(res.reference, res.reference)}; \u03c4\u00b2 = {res.tau2:.3f}; "
            f"{_global_text(self.inconsistency)}.",
        ]
        c = self.pdt_cbt
        if c is None or c.empty:
            lines.append("PDT vs CBT: CBT is not in the part of this network that holds PDT.")
        else:
            r = c.iloc[0]
            trials = "trial" if r.k_direct == 1 else "trials"
            net = (
                f"network {r.network:.2f} [{r.net_low:.2f}, {r.net_high:.2f}], prediction "
                f"interval [{r.pi_low:.2f}, {r.pi_high:.2f}]"
            )
            if r.k_direct == 0:
                lines.append(
                    f"PDT vs CBT: no head-to-head trial; {net}: it rests entirely on indirect "
                    "comparisons through shared comparators (transitivity assumed)."
                )
            else:
                lines.append(
                    f"PDT vs CBT: {net}; direct ({int(r.k_direct)} head-to-head {trials}) "
                    f"{r.direct:.2f}; {_share_text(r)}."
                )
        if self.fragile:
            node = self.leave_one_out.attrs.get("node", "one node")
            node = NODE_NAMES.get(node, node)
            lines.append(
                f"Fragile: PDT connects to this network only through {node}, in "
                f"{_trials(self.leave_one_out.shape[0])}; the leave-one-PDT-trial-out table "
                "shows how the estimates move without each."
            )
        lines.append(
            "P-scores rank treatments by their estimated effects only; ranks are uncertain "
            "where intervals overlap."
        )
        return "\n".join(lines)

    def pdt_vs(self, node: str = "cbt") -> str:
        """PDT vs ``node`` in one sentence, with the scale, the direction that favours PDT, the
        interval, the prediction interval and how much of it is direct.

        Examples
        --------
        >>> from evidence.review.network_data import load_network
        >>> print(network_report(load_network(), "sad-psyctr").pdt_vs("cbt"))  # doctest: +ELLIPSIS
        PDT vs CBT (sad-psyctr network, SMD; positive favours PDT): -0.19 [-0.77, 0.39], ...
        """
        from ..network_data import NODE_NAMES

        if self.result is None:
            return f"PDT vs {node}: {self.message}"
        rows = self.pdt_table[self.pdt_table["node"] == node]
        if rows.empty:
            return f"PDT vs {node}: {node} is not connected to PDT in this network."
        r = rows.iloc[0]
        scale = "SMD" if self.measure == "SMD" else "log OR"
        name = NODE_NAMES.get(node, node)
        name = name if name.isupper() else name.lower()
        where = (
            "indirect only (no head-to-head trial)"
            if r.k_direct == 0
            else f"{100 * r.direct_share:.0f}% direct ({int(r.k_direct)} head-to-head "
            f"trial{'' if r.k_direct == 1 else 's'})"
        )
        return (
            f"PDT vs {name} ({self.database} network, {scale}; positive favours PDT): "
            f"{r.estimate:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}], prediction interval "
            f"[{r.pi_low:.2f}, {r.pi_high:.2f}]; {where}; CINeMA confidence: {r.cinema}."
        )

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


def named_comparisons(frame: pd.DataFrame, names: dict | None = None) -> pd.DataFrame:
    """``frame`` with its ``comparison`` column (``"node_a vs node_b"``) in the nodes' names
    (``names``, default :data:`~evidence.review.network_data.NODE_NAMES`), for reading.

    Examples
    --------
    >>> named_comparisons(pd.DataFrame({"comparison": ["cbt vs usual_care"]}))["comparison"][0]
    'CBT vs usual care'
    """
    names = NODE_NAMES if names is None else names
    pairs = frame["comparison"].str.split(" vs ")
    return frame.assign(comparison=pairs.map(lambda p: " vs ".join(names.get(n, n) for n in p)))


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
        half = res._crit() * np.sqrt(se**2 + res.tau2)

        def first(col, default=np.nan, s=s):
            return s[col].iloc[0] if len(s) else default

        tab.append(
            {
                "node": node,
                "estimate": e,
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
                "pi_low": e - half,
                "pi_high": e + half,
                "k_direct": int(first("k_direct", 0)),
                "direct": float(first("direct")),
                "indirect": float(first("indirect")),
                "indirect_method": first("indirect_method", "none"),
                "direct_share": float(first("direct_share", 0.0)),
                "pvalue_split": float(first("pvalue_split")),
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
    g = global_test(inc)
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
                "pi_low": r.pi_low,
                "pi_high": r.pi_high,
                "direct_share": r.direct_share,
                "indirect_method": r.indirect_method,
                "pvalue_split": r.pvalue_split,
                "global_test": g["name"],
                "global_chi2": g["statistic"],
                "global_df": g["df"],
                "global_p": g["pvalue"],
                "q_between_designs_fe": g["q_between_fe"],
                "p_between_designs_fe": g["p_between_fe"],
            }
        ]
    )


#: Sensitivity scenarios of the network that drop rows before the effects are computed, as the
#: pairwise pages do: row filter on ``data/network/comparisons.csv``.
FLAG_SCENARIOS = {
    "without suspect rows": lambda rows: rows["flag"] != "suspect",
    "without add-on designs (PDT + X vs X)": lambda rows: ~rows["add_on"].astype(bool),
}


def _flag_scenarios(rows: pd.DataFrame, measure: str, timepoint: str, rho: float) -> dict:
    """The network's effects without the rows each of :data:`FLAG_SCENARIOS` drops (None where
    the rule drops no row of this network, so every section lists every scenario)."""
    out = {}
    for name, keep in FLAG_SCENARIOS.items():
        mask = keep(rows)
        out[name] = (
            None
            if mask.all()
            else network_effects(rows[mask], measure=measure, timepoint=timepoint, rho=rho)
        )
    return out


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
    from ..cache import cached, files_key, frame_key
    from ..data import default_path

    rows = net[net["database"] == database]

    def key() -> tuple:  # the CINeMA rules come from the protocol: its bytes are in the key
        protocol = files_key(default_path() / "protocol.toml")
        return (frame_key(rows), database, method, rho, timepoint, protocol)

    return cached(
        "network_report", key, lambda: _network_report(rows, database, method, rho, timepoint)
    )


def _network_report(rows, database, method, rho, timepoint) -> NetworkReport:
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
    sp = _split_pdt(res.netsplit())
    pdt_table = _pdt_table(res, sp)
    inc = res.inconsistency()
    fragile, loo = _fragility(kept, eff, measure, method, res.reference)
    rep = NetworkReport(
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
        decomposition=res.design_decomposition(tau2=0.0 if method == "FE" else "within"),
        transitivity=_transitivity(kept),
        sensitivity=_sensitivity(
            eff, measure, method, res.reference, _flag_scenarios(rows, measure, timepoint, rho)
        ),
        fragile=fragile,
        leave_one_out=loo,
    )
    return _with_cinema(rep)


def _with_cinema(rep: NetworkReport) -> NetworkReport:
    """The report with the CINeMA confidence of every PDT estimate in its PDT table (and the
    PDT vs CBT row)."""
    import dataclasses

    from ..protocol import load_protocol
    from .cinema import cinema_table

    cin = cinema_table(rep, load_protocol())
    table = rep.pdt_table.merge(cin, on="node", how="left")
    cbt = rep.pdt_cbt
    if cbt is not None:
        row = cin[cin["node"] == "cbt"].iloc[0]
        cbt = cbt.assign(cinema=row["cinema"], cinema_reasons=row["cinema_reasons"])
    return dataclasses.replace(rep, pdt_table=table, pdt_cbt=cbt)


def condition_networks(
    key: str, *, method: str = "REML", rho: float = 0.5, net: pd.DataFrame | None = None
) -> list[NetworkReport]:
    """One :class:`NetworkReport` per database of the condition group ``key``."""
    net = load_network() if net is None else net
    dbs = list(dict.fromkeys(net.loc[net["condition_group"] == key, "database"]))
    return [network_report(net, db, method=method, rho=rho) for db in dbs]
