"""PDT in each condition's evidence network: data preparation, fits and the notebook sections.

One network per database of ``data/network/comparisons.csv`` (:mod:`evidence.review.network_data`).
The steps, each a named choice recorded in the result:

1. **Effects per row**: Hedges' g (exact J, :func:`evidence.meta.effects.effect_sizes`) from means
   or change scores, log odds ratios from events, or the row's stored effect (``precalc_g``,
   ``reported``), multiplied by -1 where ``higher_is_better`` is false (effect-only rows are
   already oriented), so that a positive value favours arm 1.
2. **One effect per study and contrast**: rows are turned so that the pair of nodes is in
   :data:`evidence.review.network_data.NODES` order, then the rows of one study, node pair, measure
   and timepoint (several instruments, and several arms of one node against one comparator) are
   combined with :func:`evidence.meta.dependence.aggregate_effects` under correlation ``rho``, as
   the condition notebooks combine instruments (:func:`evidence.review.comparison_effects`).
3. **Multi-arm studies**: one spanning tree of each study's contrasts is kept (breadth first from
   the study's most connected node; a contrast that closes a loop within a study is redundant
   and dropped, counted in ``dropped``). Two contrasts that share an arm are correlated as
   contrasts of independent arms are: ``r = +/- v_shared / sqrt(v_a v_b)`` with arm variances
   ``1/n`` (SMD) or ``1/e + 1/(n - e)`` (log OR), scaled by the aggregated variances.
4. **Fit**: :func:`evidence.network` (REML, Wald z), reference ``waitlist`` where the network has
   it, else ``usual_care``; only the connected part that holds PDT is fitted.

The measure of a network is SMD unless its PDT trials report only events (suicide-psyctr:
attempts, log OR); the timepoint is post-treatment.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .network_data import DATABASE_NAMES, NODE_NAMES, NODES, load_network

__all__ = [
    "NETWORK_REFERENCES",
    "network_effects",
    "fit_network",
    "NetworkReport",
    "network_report",
    "condition_networks",
    "pdt_vs_cbt_overview",
    "overview_statements",
    "show_network_section",
    "show_network_overview",
]

#: Reference node of a network fit, first present wins.
NETWORK_REFERENCES = ("waitlist", "usual_care")
#: Number of PDT trials up to which a PDT node linked to the network through one node is fragile
#: (issue 13 asks this of one control type; the rule here also covers one active node, e.g.
#: ed-psyctr, where PDT meets only CBT). The link is read from each study's spanning tree, so a
#: three-arm PDT / CBT / waitlist trial links PDT through its waitlist arm.
FRAGILE_MAX_TRIALS = 2
_ORDER = {n: i for i, n in enumerate(NODES)}
_EFFECT_ONLY = ("precalc_g", "reported")


def _row_effects(net: pd.DataFrame) -> pd.DataFrame:
    """yi, vi and measure of every row (positive favours arm 1)."""
    from evidence.meta.effects import effect_sizes

    out = pd.DataFrame(index=net.index, columns=["yi", "vi", "measure"], dtype=object)
    cont = net["stats_form"].isin(("msd", "change"))
    if cont.any():
        r = net[cont]
        es = effect_sizes(
            "SMD", m1=r["mean1"], sd1=r["sd1"], n1=r["n1"], m2=r["mean2"], sd2=r["sd2"], n2=r["n2"]
        )
        out.loc[cont, "yi"] = es["yi"].to_numpy()
        out.loc[cont, "vi"] = es["vi"].to_numpy()
        out.loc[cont, "measure"] = "SMD"
    ev = net["stats_form"] == "events"
    if ev.any():
        r = net[ev]
        es = effect_sizes("OR", events1=r["events1"], n1=r["n1"], events2=r["events2"], n2=r["n2"])
        out.loc[ev, "yi"] = es["yi"].to_numpy()
        out.loc[ev, "vi"] = es["vi"].to_numpy()
        out.loc[ev, "measure"] = "OR"
    eo = net["stats_form"].isin(_EFFECT_ONLY)
    out.loc[eo, "yi"] = net.loc[eo, "effect"]
    out.loc[eo, "vi"] = net.loc[eo, "effect_se"] ** 2
    out.loc[eo, "measure"] = net.loc[eo, "effect_measure"].replace("", "SMD")
    out["yi"] = out["yi"].astype(float)
    out["vi"] = out["vi"].astype(float)
    flip = (~eo) & (net["higher_is_better"] == False)  # noqa: E712 (nullable boolean)
    out.loc[flip, "yi"] = -out.loc[flip, "yi"]
    return out


def network_effects(
    net: pd.DataFrame,
    *,
    measure: str = "SMD",
    timepoint: str = "post",
    rho: float = 0.5,
) -> pd.DataFrame:
    """One effect per study and node pair (``yi`` = ``node_a`` minus ``node_b``, positive
    favours ``node_a``; pairs in :data:`~evidence.review.network_data.NODES` order).

    Columns: ``study_id``, ``study``, ``node_a``, ``node_b``, ``yi``, ``vi``, ``n_rows``,
    ``n_a``, ``n_b`` (arm sizes, first row; events arms: ``e_a``, ``e_b``), ``year``, ``rob``,
    ``format`` and ``database``.

    Examples
    --------
    >>> from evidence.review.network_data import load_network
    >>> net = load_network()
    >>> eff = network_effects(net[net["database"] == "sad-psyctr"])
    >>> eff[eff["node_a"] == "pdt"]["study"].tolist()
    ['Johansson, 2017', 'Leichsenring, 2013', 'Rahmani, 2020']
    """
    from evidence.meta.dependence import aggregate_effects

    rows = net[net["timepoint"] == timepoint]
    eff = _row_effects(rows)
    keep = (eff["measure"] == measure) & np.isfinite(eff["yi"]) & np.isfinite(eff["vi"])
    rows, eff = rows[keep], eff[keep]
    if rows.empty:
        return pd.DataFrame(
            columns=["study_id", "study", "node_a", "node_b", "yi", "vi", "n_rows", "n_a", "n_b"]
        )
    turn = rows["node1"].map(_ORDER) > rows["node2"].map(_ORDER)
    t = turn.to_numpy()
    frame = pd.DataFrame(
        {
            "database": rows["database"].to_numpy(),
            "study_id": rows["study_id"].to_numpy(),
            "study": rows["study"].to_numpy(),
            "node_a": np.where(t, rows["node2"], rows["node1"]),
            "node_b": np.where(t, rows["node1"], rows["node2"]),
            "yi": np.where(t, -eff["yi"], eff["yi"]),
            "vi": eff["vi"].to_numpy(),
            "n_a": np.where(t, rows["n2"], rows["n1"]),
            "n_b": np.where(t, rows["n1"], rows["n2"]),
            "e_a": np.where(t, rows["events2"], rows["events1"]),
            "e_b": np.where(t, rows["events1"], rows["events2"]),
            "year": rows["year"].to_numpy(),
            "rob": rows["rob"].to_numpy(),
            "format": rows["format"].to_numpy(),
            "instrument": rows["instrument"].to_numpy(),
        }
    )
    frame["cluster"] = frame["study_id"] + "|" + frame["node_a"] + "|" + frame["node_b"]
    agg = aggregate_effects(frame["yi"], frame["vi"], frame["cluster"], rho=rho)
    first = frame.groupby("cluster", sort=False).first()
    first["yi"] = agg["yi"]
    first["vi"] = agg["vi"]
    first["n_rows"] = agg["n"]
    first["instruments"] = frame.groupby("cluster", sort=False)["instrument"].agg(
        lambda s: "; ".join(dict.fromkeys(s))
    )
    out = first.reset_index(drop=True).drop(columns="instrument")
    return out.sort_values(["study_id", "node_a", "node_b"], kind="stable").reset_index(drop=True)


def _arm_var(n: np.ndarray, e: np.ndarray, measure: str) -> np.ndarray:
    """Variance of one arm's summary: ``1/n`` (SMD) or ``1/e + 1/(n - e)`` (log odds, 1/2 added
    to a zero cell); 1 where the arm size is unknown (effect-only rows: equal arms assumed)."""
    n, e = np.asarray(n, dtype=float), np.asarray(e, dtype=float)
    known = np.isfinite(n) & (n > 0)
    out = np.where(known, 1 / np.where(known, n, 1.0), 1.0)
    if measure == "OR":
        ok = known & np.isfinite(e)
        zero = ok & ((e == 0) | (e == n))
        ee, nn = np.where(zero, e + 0.5, e), np.where(zero, n + 1.0, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = 1 / ee + 1 / (nn - ee)
        out = np.where(ok, v, out)
    return out


def _tree(a: list[str], b: list[str]) -> list[int]:
    """Positions of a spanning forest of one study's contrasts (breadth first from its most
    connected node, ties in node order)."""
    deg: dict[str, int] = {}
    for x in (*a, *b):
        deg[x] = deg.get(x, 0) + 1
    todo = sorted(deg, key=lambda x: (-deg[x], _ORDER[x]))
    seen: set[str] = set()
    used: list[int] = []
    for root in todo:
        if root in seen:
            continue
        seen.add(root)
        frontier = [root]
        while frontier:
            nxt = []
            for node in frontier:
                for i, (x, y) in enumerate(zip(a, b, strict=True)):
                    other = y if x == node else x if y == node else None
                    if other is not None and other not in seen:
                        seen.add(other)
                        used.append(i)
                        nxt.append(other)
            frontier = nxt
    return sorted(used)


def _contrasts(eff: pd.DataFrame, measure: str) -> tuple[pd.DataFrame, np.ndarray, int]:
    """A spanning tree of each study's contrasts and their covariance matrix."""
    eff = eff.sort_values(["study_id", "node_a", "node_b"], kind="stable").reset_index(drop=True)
    sid = eff["study_id"].to_numpy()
    multi = pd.Series(sid).duplicated(keep=False).to_numpy()
    keep = np.ones(len(eff), dtype=bool)
    for _s, idx in eff[multi].groupby("study_id", sort=False).indices.items():
        rows = np.flatnonzero(multi)[idx]
        used = _tree(list(eff["node_a"].iloc[rows]), list(eff["node_b"].iloc[rows]))
        keep[rows] = False
        keep[rows[used]] = True
    kept = eff[keep].reset_index(drop=True)
    dropped = int((~keep).sum())
    vi = kept["vi"].to_numpy()
    cov = np.diag(vi)
    va_a = _arm_var(kept["n_a"], kept["e_a"], measure)
    va_b = _arm_var(kept["n_b"], kept["e_b"], measure)
    a, b = kept["node_a"].to_numpy(), kept["node_b"].to_numpy()
    ks = kept["study_id"].to_numpy()
    # pairs of contrasts of one study: their shared arm gives the covariance
    order = pd.Series(ks).duplicated(keep=False).to_numpy()
    for _s, idx in kept[order].groupby("study_id", sort=False).indices.items():
        rows = np.flatnonzero(order)[idx]
        for p, i in enumerate(rows):
            for j in rows[p + 1 :]:
                c = 0.0
                for ni, si, vi_arm in ((a[i], 1, va_a[i]), (b[i], -1, va_b[i])):
                    for nj, sj in ((a[j], 1), (b[j], -1)):
                        if ni == nj:
                            c += si * sj * vi_arm
                if c:
                    r = c / np.sqrt((va_a[i] + va_b[i]) * (va_a[j] + va_b[j]))
                    cov[i, j] = cov[j, i] = r * np.sqrt(vi[i] * vi[j])
    return kept, cov, dropped


def _component(eff: pd.DataFrame, node: str = "pdt") -> pd.DataFrame:
    """The contrasts of the connected part of the network that holds ``node``."""
    reach, changed = {node}, True
    while changed:
        hit = eff["node_a"].isin(reach) | eff["node_b"].isin(reach)
        new = set(eff.loc[hit, "node_a"]) | set(eff.loc[hit, "node_b"])
        changed = not new <= reach
        reach |= new
    return eff[eff["node_a"].isin(reach)]


def fit_network(
    eff: pd.DataFrame, *, measure: str = "SMD", method: str = "REML", reference: str | None = None
):
    """Fit the network of ``eff`` (from :func:`network_effects`) around PDT.

    Returns ``(result, kept, dropped)``: the :class:`evidence.network.NetworkResult`, the
    contrasts fitted and the number of redundant within-study contrasts left out; ``None`` for
    the result when PDT is not in ``eff`` or the part of the network that holds PDT has no
    second treatment.

    Examples
    --------
    >>> from evidence.review.network_data import load_network
    >>> net = load_network()
    >>> eff = network_effects(net[net["database"] == "sad-psyctr"])
    >>> res, kept, dropped = fit_network(eff)
    >>> res.reference, res.k
    ('waitlist', 65)
    """
    from evidence.meta.nma import network

    if eff.empty or not ((eff["node_a"] == "pdt") | (eff["node_b"] == "pdt")).any():
        return None, eff.iloc[:0], 0
    part = _component(eff)
    kept, cov, dropped = _contrasts(part, measure)
    nodes = set(kept["node_a"]) | set(kept["node_b"])
    if reference is None:
        reference = next((r for r in NETWORK_REFERENCES if r in nodes), None)
        if reference is None:
            reference = sorted(nodes - {"pdt"}, key=_ORDER.get)[0]
    res = network(
        kept["yi"],
        kept["vi"],
        kept["node_a"],
        kept["node_b"],
        kept["study_id"],
        cov=cov,
        reference=reference,
        method=method,
        measure=measure,
    )
    return res, kept, dropped


def _choose_measure(eff_by_measure: dict[str, pd.DataFrame]) -> str:
    """The measure under which most studies compare PDT (ties: SMD)."""

    def k(e: pd.DataFrame) -> int:
        if e.empty:
            return 0
        return e.loc[(e["node_a"] == "pdt") | (e["node_b"] == "pdt"), "study_id"].nunique()

    return max(("SMD", "OR"), key=lambda m: (k(eff_by_measure[m]), m == "SMD"))


def _low_rob(rob: pd.Series) -> pd.Series:
    """Low risk of bias: a score of 4 of 4 (depression databases, 0 = high to 4 = low risk) or
    a RoB 2 label "low" / "low risk"."""
    num = pd.to_numeric(rob, errors="coerce")
    text = rob.astype(str).str.strip().str.lower()
    return (num == 4) | text.isin(("low", "low risk"))


def _pfmt(p: float) -> str:
    """``= 0.123`` or ``< 0.001``."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _direct_pairs(kept: pd.DataFrame, cov: np.ndarray, a: str, b: str) -> pd.DataFrame:
    """Direct ``a`` minus ``b`` per study that has both arms: the fitted contrast, or the
    difference of two contrasts against a shared arm (variance from their covariance)."""
    rows = []
    for sid, idx in kept.groupby("study_id", sort=True).indices.items():
        g = kept.iloc[idx]
        hit = g[(g["node_a"] == a) & (g["node_b"] == b)]
        if len(hit):
            rows.append((sid, float(hit["yi"].iloc[0]), float(hit["vi"].iloc[0])))
            continue
        # a vs x and b vs x (x shared; each contrast is node_a minus node_b)
        eff = {}
        for i in idx:
            r = kept.iloc[i]
            for me, other, s in ((r.node_a, r.node_b, 1.0), (r.node_b, r.node_a, -1.0)):
                if me in (a, b):
                    eff.setdefault(other, {})[me] = (i, s)
        for _x, d in eff.items():
            if a in d and b in d:
                (i, si), (j, sj) = d[a], d[b]
                y = si * kept["yi"].iloc[i] - sj * kept["yi"].iloc[j]
                v = cov[i, i] + cov[j, j] - 2 * si * sj * cov[i, j]
                rows.append((sid, float(y), float(v)))
                break
    return pd.DataFrame(rows, columns=["study_id", "yi", "vi"])


def _pdt_vs(res, node: str) -> tuple[float, float, float, float]:
    """PDT minus ``node`` from the network: estimate, se, CI."""
    lg = res.league()
    r = lg[(lg["treat1"] == "pdt") & (lg["treat2"] == node)].iloc[0]
    return float(r.estimate), float(r.se), float(r.ci_low), float(r.ci_high)


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


def _refit_pdt(eff: pd.DataFrame, measure: str, method: str, ref: str) -> dict:
    """PDT vs CBT and vs the reference in a refit of ``eff`` (NaN where not estimable)."""
    out = {"studies": eff["study_id"].nunique()}
    try:
        res, kept, _ = fit_network(eff, measure=measure, method=method, reference=None)
    except ValueError as err:
        return out | {"note": f"fit failed: {err}"}
    if res is None:
        return out | {"note": "PDT not in this network"}
    out["studies"] = res.k
    nodes = set(res.treatments)
    pdt_studies = kept.loc[(kept["node_a"] == "pdt") | (kept["node_b"] == "pdt"), "study_id"]
    out["pdt_trials"] = pdt_studies.nunique()
    comp = res.comparisons()
    for node in (ref, "cbt"):
        if node in nodes:
            e, _, lo, hi = _pdt_vs(res, node)
            out[f"pdt_vs_{node}"] = f"{e:.2f} [{lo:.2f}, {hi:.2f}]"
            k = comp.loc[comp[["treat1", "treat2"]].isin(["pdt", node]).all(axis=1), "k"]
            out[f"k_direct_{node}"] = int(k.sum())
    inc = res.inconsistency().loc["between designs"]
    out["design_by_treatment_p"] = float(inc.pvalue)
    out["reference"] = res.reference
    return out


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


def _sensitivity(eff: pd.DataFrame, measure: str, method: str, reference: str) -> pd.DataFrame:
    """PDT refitted on all trials, without waitlist-controlled trials, low risk of bias only."""
    wl = set(eff.loc[(eff["node_a"] == "waitlist") | (eff["node_b"] == "waitlist"), "study_id"])
    scen = {
        "all trials": eff,
        "without waitlist-controlled trials": eff[~eff["study_id"].isin(wl)],
        "low risk of bias only": eff[_low_rob(eff["rob"])],
    }
    return pd.DataFrame(
        [{"scenario": k} | _refit_pdt(v, measure, method, reference) for k, v in scen.items()]
    )


def _fragility(
    kept: pd.DataFrame, eff: pd.DataFrame, measure: str, method: str, reference: str
) -> tuple[bool, pd.DataFrame | None]:
    """Whether PDT is linked only to one control node through 1-2 trials, and then the
    leave-one-trial-out refits."""
    pdt_rows = kept[(kept["node_a"] == "pdt") | (kept["node_b"] == "pdt")]
    neighbours = set(pdt_rows["node_a"]) | set(pdt_rows["node_b"]) - {"pdt"}
    neighbours.discard("pdt")
    trials = sorted(pdt_rows["study_id"].unique())
    fragile = len(neighbours) == 1 and len(trials) <= FRAGILE_MAX_TRIALS
    if not fragile:
        return fragile, None
    loo = pd.DataFrame(
        [
            {"left_out": t.split(":", 1)[1]}
            | _refit_pdt(eff[eff["study_id"] != t], measure, method, reference)
            for t in trials
        ]
    )
    loo.attrs["node"] = next(iter(neighbours))
    return fragile, loo


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


def pdt_vs_cbt_overview(
    *, method: str = "REML", rho: float = 0.5, reports: list[NetworkReport] | None = None
) -> pd.DataFrame:
    """PDT vs CBT by condition network: direct trials only (pairwise random effects, the same
    study effects), the network estimate, and their agreement (node-splitting test of direct vs
    indirect), with the number of trials behind each.

    Examples
    --------
    >>> tab = pdt_vs_cbt_overview()
    >>> tab.loc[tab["database"] == "sad-psyctr", ["k_direct", "agreement"]].values.tolist()
    [[1.0, 'direct and indirect agree (p = 0.54)']]
    """
    from evidence.meta.pooling import pool

    if reports is None:
        net = load_network()
        dbs = list(dict.fromkeys(net["database"]))
        reports = [network_report(net, db, method=method, rho=rho) for db in dbs]
    rows = []
    for rep in reports:
        row = {
            "condition_group": rep.condition_group,
            "database": rep.database,
            "measure": rep.measure,
        }
        if rep.pdt_cbt is None:
            row["agreement"] = rep.message or "CBT not connected to PDT in this network"
            rows.append(row)
            continue
        c = rep.pdt_cbt.iloc[0]
        d = _direct_pairs(rep.contrasts, rep.cov, "pdt", "cbt")
        row["k_direct"] = int(c.k_direct)
        row["k_network"] = rep.result.k
        if len(d):
            p = pool(d["yi"], d["vi"], method=method, test="z", measure=rep.measure)
            row.update(direct=p.estimate, direct_low=p.ci_low, direct_high=p.ci_high)
        row.update(network=c.network, network_low=c.net_low, network_high=c.net_high)
        row["pvalue_split"] = c.pvalue_split
        row["design_by_treatment_p"] = c.design_by_treatment_p
        if c.k_direct == 0:
            row["agreement"] = "no direct evidence: network estimate is indirect only"
        elif not np.isfinite(c.pvalue_split):
            row["agreement"] = (
                "no independent indirect evidence: direct-only link (the network adds its "
                "common tau^2)"
            )
        else:
            word = "agree" if c.pvalue_split >= 0.10 else "disagree"
            row["agreement"] = f"direct and indirect {word} (p = {c.pvalue_split:.2f})"
        rows.append(row)
    return pd.DataFrame(rows)


def overview_statements(tab: pd.DataFrame) -> str:
    """Markdown: one plain-language statement per network of :func:`pdt_vs_cbt_overview`,
    saying what the network adds to the direct trials and how far its inconsistency tests
    support it.

    Examples
    --------
    >>> tab = pdt_vs_cbt_overview()
    >>> line = overview_statements(tab).splitlines()[3]
    >>> print(line[:70])
    - **sad-psyctr** (SMD): 1 direct trial gives -0.36 [-0.53, -0.19]; the
    """
    lines = []
    for r in tab.itertuples():
        head = f"- **{r.database}** ({'log OR' if r.measure == 'OR' else r.measure}): "
        if not np.isfinite(getattr(r, "network", np.nan)):
            lines.append(head + f"{r.agreement}.")
            continue
        k = int(r.k_direct)
        net = f"{r.network:.2f} [{r.network_low:.2f}, {r.network_high:.2f}]"
        dbt = r.design_by_treatment_p
        dbt_txt = (
            f"design-by-treatment p {_pfmt(dbt)}"
            if np.isfinite(dbt)
            else "design-by-treatment inconsistency not estimable"
        )
        if k == 0:
            lines.append(
                head + f"no direct trial; the network ({int(r.k_network)} studies) gives {net} "
                f"from indirect comparisons only, which rests on transitivity; {dbt_txt}."
            )
            continue
        direct = f"{r.direct:.2f} [{r.direct_low:.2f}, {r.direct_high:.2f}]"
        trials = "trial gives" if k == 1 else "trials give"
        if np.isfinite(r.pvalue_split):
            adds = f"adding indirect evidence through shared comparators; {r.agreement}"
        else:
            adds = (
                "but there is no independent indirect evidence on this comparison (PDT's "
                "only link to the network is through these trials): the network re-estimates "
                "it with the network's common heterogeneity and adds nothing else"
            )
        lines.append(
            head + f"{k} direct {trials} {direct}; the network ({int(r.k_network)} studies) "
            f"gives {net}, {adds}; {dbt_txt}."
        )
    return "\n".join(lines)


def _pdt_forest(rep: NetworkReport):
    """Forest of PDT vs every other node (network estimates; k = direct trials)."""
    from evidence.plots import forest_from_frame

    t = rep.pdt_table
    frame = pd.DataFrame(
        {
            "k": t["k_direct"].to_numpy(),
            "estimate": t["estimate"].to_numpy(),
            "ci_low": t["ci_low"].to_numpy(),
            "ci_high": t["ci_high"].to_numpy(),
        },
        index=pd.Index(t["node"].map(lambda n: NODE_NAMES.get(n, n)), name="PDT vs"),
    )
    note = (
        f"PDT vs each node from the network (direct and indirect evidence); k = direct trials. "
        f"Positive favours PDT. {rep.result.methods_text()}."
    )
    return forest_from_frame(
        frame,
        kind="rows",
        measure=rep.measure,
        note=note,
        title=f"PDT in the {DATABASE_NAMES.get(rep.database, rep.database).lower()} network",
    )


def _overview_forest(tab: pd.DataFrame):
    from evidence.plots import forest_from_frame

    rows = []
    for r in tab[tab["measure"] == "SMD"].itertuples():
        if not np.isfinite(getattr(r, "network", np.nan)):
            continue
        name = DATABASE_NAMES.get(r.database, r.database)
        if np.isfinite(getattr(r, "direct", np.nan)):
            rows.append((f"{name}: direct", r.k_direct, r.direct, r.direct_low, r.direct_high))
        rows.append((f"{name}: network", r.k_direct, r.network, r.network_low, r.network_high))
    frame = pd.DataFrame(rows, columns=["label", "k", "estimate", "ci_low", "ci_high"])
    frame = frame.set_index(pd.Index(frame.pop("label"), name="PDT vs CBT (SMD)"))
    note = (
        "Direct: pairwise REML of the direct PDT vs CBT trials; network: NMA (REML) of the "
        "database's network; k = direct trials. Positive favours PDT."
    )
    return forest_from_frame(frame, kind="rows", measure="SMD", note=note)


#: Heading and introduction of the network section of a condition page.
NETWORK_SECTION_TEXT = (
    "## PDT in the evidence network\n\n"
    "Every usable psychotherapy comparison of this condition's Metapsy database(s) "
    "(`data/network/`), with the curated PDT trials reconciled, in a network meta-analysis "
    "(REML): PDT is compared with every treatment and control, directly where trials compared "
    "them and indirectly through shared comparators. Indirect comparisons assume "
    "**transitivity** (the trials of each comparison are alike in what modifies the effect); "
    "the tables below show the inconsistency tests and effect modifiers that check it. Every "
    "network estimate is shown with the number of direct trials behind it."
)


def show_network_section(key: str, *, method: str = "REML", rho: float = 0.5) -> list:
    """The network section of a condition notebook (issue 13): for every database of ``key``,
    the graph, PDT vs every node, PDT's league row and column, P-scores, PDT vs CBT direct /
    indirect / network with the inconsistency tests, transitivity, sensitivity and, where the
    PDT link is fragile, leave-one-PDT-trial-out. Figures and tables are saved as
    ``network_<database>_*``."""
    from IPython.display import Markdown, display

    from evidence.review import save_plot, save_table

    from .tables import format_table

    display(Markdown(NETWORK_SECTION_TEXT))
    reps = condition_networks(key, method=method, rho=rho)
    for rep in reps:
        name = f"network_{rep.database}"
        heading = f"### Network: {DATABASE_NAMES.get(rep.database, rep.database)} ({rep.database})"
        display(Markdown(f"{heading}\n\n" + rep.summary().replace("\n", "\n\n")))
        if rep.result is None:
            continue
        display(Markdown(f"*{rep.methods_text()}; {rep.dropped} redundant contrasts left out.*"))
        scale = "g" if rep.measure == "SMD" else "log OR"
        graph = rep.result.network_plot(
            title=DATABASE_NAMES.get(rep.database, rep.database), labels=NODE_NAMES
        )
        save_plot(graph, f"{name}_graph")
        save_plot(_pdt_forest(rep), f"{name}_pdt")
        display(
            Markdown(
                f"PDT vs every node (reference of the fit: **{rep.reference}**), with "
                "the direct trials behind each and the direct-vs-indirect test:"
            )
        )
        pdt_frame = rep.to_frame()
        display(format_table(pdt_frame, scale=scale))
        save_table(pdt_frame, f"{name}_pdt")
        odds = rep.measure == "OR"
        league_note = " (odds ratios: the league table exponentiates log ORs)" * odds
        display(Markdown(f"PDT's row and column of the league table{league_note}:"))
        display(format_table(rep.league_pdt))
        display(
            Markdown(
                "P-scores (higher = better on average; **ranks are uncertain** where "
                "intervals overlap, and say nothing about the size of differences):"
            )
        )
        display(format_table(rep.pscores))
        display(
            Markdown(
                "**PDT vs CBT: direct, indirect and network** with design-by-treatment "
                "interaction (Higgins et al. 2012):"
            )
        )
        if rep.pdt_cbt is None:
            display(Markdown("CBT is not connected to PDT in this network."))
        else:
            display(format_table(rep.pdt_cbt, scale=scale))
        display(format_table(rep.inconsistency, scale=scale))
        display(
            Markdown(
                "Transitivity: effect modifiers by comparison (baseline severity is not "
                "in the network table):"
            )
        )
        display(format_table(rep.transitivity))
        display(
            Markdown(
                "Sensitivity: without waitlist-controlled trials, and low risk of bias "
                "only (score 4 of 4, or RoB 2 'low'):"
            )
        )
        display(format_table(rep.sensitivity, scale=scale))
        if rep.fragile:
            display(Markdown("**Fragile link**: leave-one-PDT-trial-out:"))
            display(format_table(rep.leave_one_out, scale=scale))
    return reps


def show_network_overview(*, method: str = "REML", rho: float = 0.5):
    """The overview's network table and figure: PDT vs CBT by condition network (the table is
    returned formatted for reading; the numbers are saved as ``results/network_pdt_vs_cbt.csv``)."""
    from IPython.display import Markdown, display

    from evidence.review import save_plot, save_table

    from .tables import format_table

    tab = pdt_vs_cbt_overview(method=method, rho=rho)
    save_table(tab, "network_pdt_vs_cbt")
    save_plot(_overview_forest(tab), "network_pdt_vs_cbt")
    display(Markdown(overview_statements(tab)))
    display(
        Markdown(
            "The network adds indirect evidence: PDT vs CBT is also estimated through the "
            "comparators both were tested against (waitlist, usual care, ...). That rests on "
            "**transitivity**: the trials of each comparison must be alike in what modifies the "
            "effect (severity, year, risk of bias, format). Where direct and indirect disagree, "
            "or where there are no direct trials, the network estimate is an assumption, not a "
            "measurement."
        )
    )
    return format_table(tab)
