"""Claim 3: "online PDT may be as effective as online CBT", direct and in a format-split network.

The testable question: in randomized trials of one condition, does internet-delivered PDT
differ from internet-delivered CBT (target construct, post-treatment, within the protocol's
margin)? Two answers:

* **direct**: the trials that randomize to both (:func:`internet_direct`), pooled and rated as
  every other comparison;
* **network**: each condition network that holds internet PDT, with the PDT and CBT nodes split
  by the arm's harmonised delivery format (``delivery1``/``delivery2`` of
  ``data/network/comparisons.csv``, mapped by ``data/network_formats.csv``):
  :func:`format_nodes` relabels the table and :func:`format_networks` fits it with
  :func:`evidence.review.network_report.network_report` unchanged, so that internet PDT vs
  internet CBT gets its direct, indirect (node-splitting) and network estimate with the CINeMA
  confidence of :mod:`evidence.review.network_report.cinema`.

The network report reads PDT as the node ``pdt``; in the format-split table that node **is
internet PDT** and ``cbt`` is internet CBT (:data:`FORMAT_NODE_NAMES` names every split node
for reading), so every "PDT vs X" of those reports is internet PDT vs X.

Transitivity: internet and face-to-face arms must be comparable apart from the format (who is
offered, and who accepts, treatment over the internet: often recruited by advertisement, milder,
more educated); :func:`format_network_table` carries the effect-modifier table of each network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import Analysis

__all__ = [
    "INTERNET",
    "FACE_TO_FACE",
    "FORMAT_NODE_NAMES",
    "format_nodes",
    "format_networks",
    "format_network_table",
    "internet_direct",
]

#: Harmonised delivery formats (:data:`evidence.review.network_data.DELIVERY`) read as internet.
INTERNET = ("internet_guided", "internet_unguided")
#: Delivery formats read as face to face.
FACE_TO_FACE = ("individual", "group")
#: Node ids of the format-split network and how tables name them (other nodes keep theirs).
FORMAT_NODE_NAMES = {
    "pdt": "internet PDT",
    "pdt_face_to_face": "face-to-face PDT",
    "pdt_other_format": "PDT, other or unreported format",
    "cbt": "internet CBT",
    "cbt_face_to_face": "face-to-face CBT",
    "cbt_other_format": "CBT, other or unreported format",
}
_SPLIT = ("pdt", "cbt")


def _format_node(node: pd.Series, delivery: pd.Series) -> np.ndarray:
    suffix = np.select(
        [delivery.isin(INTERNET).to_numpy(), delivery.isin(FACE_TO_FACE).to_numpy()],
        ["", "_face_to_face"],
        "_other_format",
    )
    split = node.isin(_SPLIT).to_numpy()
    return np.where(split, node.to_numpy().astype(object) + suffix, node.to_numpy())


def format_nodes(net: pd.DataFrame) -> pd.DataFrame:
    """The network table with the PDT and CBT nodes split by each arm's delivery format.

    Internet PDT keeps the node id ``pdt`` and internet CBT ``cbt`` (see the module
    docstring); face-to-face (individual or group) arms become ``pdt_face_to_face`` /
    ``cbt_face_to_face``, every other format (mixed, telephone, not reported)
    ``*_other_format``. Other nodes are unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> net = pd.DataFrame({"node1": ["pdt", "pdt", "cbt", "cbt"],
    ...                     "delivery1": ["internet_guided", "individual", "group", "mixed"],
    ...                     "node2": ["waitlist", "cbt", "waitlist", "usual_care"],
    ...                     "delivery2": ["not_reported", "internet_unguided", "not_reported",
    ...                                   "not_reported"]})
    >>> format_nodes(net)[["node1", "node2"]].values.tolist()
    [['pdt', 'waitlist'], ['pdt_face_to_face', 'cbt'], ['cbt_face_to_face', 'waitlist'], \
['cbt_other_format', 'usual_care']]
    """
    for col in ("node1", "node2", "delivery1", "delivery2"):
        if col not in net:
            raise ValueError(f"net: column {col!r} missing (a data/network/comparisons.csv table)")
    return net.assign(
        node1=_format_node(net["node1"], net["delivery1"]),
        node2=_format_node(net["node2"], net["delivery2"]),
    )


def format_networks(net: pd.DataFrame, *, method: str = "REML", rho: float = 0.5) -> list:
    """The format-split network of every database that holds an internet PDT arm (in table
    order), each a :class:`~evidence.review.network_report.NetworkReport` of
    :func:`format_nodes` ``(net)``."""
    from ..network_report import network_report

    split = format_nodes(net)
    has = (split["node1"] == "pdt") | (split["node2"] == "pdt")
    dbs = list(dict.fromkeys(split.loc[has, "database"]))
    return [network_report(split, db, method=method, rho=rho) for db in dbs]


def format_network_table(reports, protocol) -> pd.DataFrame:
    """Internet PDT against every other node of each format-split network: the network
    estimate, the direct and indirect estimates of node-splitting (NaN where there is none),
    the CINeMA confidence and the verdict (:func:`~evidence.review.certainty.verdict`, with the
    protocol's margin; the comparator named as in :data:`FORMAT_NODE_NAMES`)."""
    from ..certainty import verdict
    from ..network_data import NODE_NAMES

    names = {**NODE_NAMES, **FORMAT_NODE_NAMES}
    rows = []
    for rep in reports:
        if rep.result is None:
            rows.append({"database": rep.database, "note": rep.message})
            continue
        for r in rep.pdt_table.itertuples():
            name = names.get(r.node, r.node)
            rows.append(
                {
                    "database": rep.database,
                    "measure": rep.measure,
                    "comparison": f"internet PDT vs {name}",
                    "node": r.node,
                    "studies_in_network": rep.result.k,
                    "k_direct": int(r.k_direct),
                    "network": r.estimate,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "pi_low": r.pi_low,
                    "pi_high": r.pi_high,
                    "direct": r.direct,
                    "indirect": r.indirect,
                    "indirect_method": r.indirect_method,
                    "pvalue_split": r.pvalue_split,
                    "cinema": r.cinema,
                    "cinema_reasons": r.cinema_reasons,
                    "verdict": verdict(
                        r.estimate,
                        r.ci_low,
                        r.ci_high,
                        k=rep.result.k,
                        certainty=r.cinema,
                        comparator=name,
                        margin=protocol.equivalence_margin,
                        measure=rep.measure,
                        treatment="internet PDT",
                    ),
                }
            )
    return pd.DataFrame(rows)


def internet_direct(dataset, an: Analysis) -> Analysis:
    """The comparisons of ``an`` (PDT vs CBT, grouped by comparator class) whose PDT **and**
    CBT arms are both delivered over the internet (``data/arms.csv`` ``delivery``), pooled
    again with ``an``'s settings: an :class:`~evidence.review.Analysis` named
    ``claims_internet_cbt`` (empty when no trial qualifies).

    Examples
    --------
    >>> import evidence.review.data
    >>> from evidence.review import analyse
    >>> ds = evidence.review.data.load()
    >>> an = analyse(ds, "all", comparators=("cbt",))
    >>> internet_direct(ds, an).effects["label"].tolist()
    ['Andersson 2012']
    """
    from dataclasses import replace

    from evidence.meta.pooling import pool

    arms = dataset.arms.set_index("arm_id")
    comp = dataset.comparisons
    d1 = comp["arm1_id"].map(arms["delivery"])
    d2 = comp["arm2_id"].map(arms["delivery"])
    c2 = comp["arm2_id"].map(arms["arm_class"])
    online = set(comp.loc[d1.isin(INTERNET) & d2.isin(INTERNET) & (c2 == "cbt"), "trial_id"])
    eff = an.effects[
        an.effects["trial_id"].isin(online) & (an.effects["comparator_class"] == "cbt")
    ]
    eff = eff.reset_index(drop=True)
    results = {}
    if len(eff):
        results["cbt"] = pool(
            eff["yi"], eff["vi"], method=an.method, test=an.test, labels=eff["label"],
            measure=an.measure,
        )  # fmt: skip
    return replace(an, name="claims_internet_cbt", effects=eff, results=results, by_group=None)
