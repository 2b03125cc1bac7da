"""Effects of a network (steps 1 and 2): one effect per row, then one per study and contrast.

``_row_effects`` gives every row of ``data/network/comparisons.csv`` its ``yi``, ``vi`` and
measure (positive favours arm 1); :func:`network_effects` turns the rows into node order and
combines the rows of one study, node pair, measure and timepoint under correlation ``rho``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..network_data import NODES

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
    ``format``, ``database`` and ``add_on`` (an add-on design, PDT + X vs X, on any row).

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
            "add_on": rows["add_on"].astype(bool).to_numpy(),
        }
    )
    frame["cluster"] = frame["study_id"] + "|" + frame["node_a"] + "|" + frame["node_b"]
    agg = aggregate_effects(frame["yi"], frame["vi"], frame["cluster"], rho=rho)
    first = frame.groupby("cluster", sort=False).first()
    first["yi"] = agg["yi"]
    first["vi"] = agg["vi"]
    first["n_rows"] = agg["n"]
    first["add_on"] = frame.groupby("cluster", sort=False)["add_on"].any()
    first["instruments"] = frame.groupby("cluster", sort=False)["instrument"].agg(
        lambda s: "; ".join(dict.fromkeys(s))
    )
    out = first.reset_index(drop=True).drop(columns="instrument")
    return out.sort_values(["study_id", "node_a", "node_b"], kind="stable").reset_index(drop=True)
