"""PDT vs CBT across the condition networks: the overview table and its statements.

:func:`pdt_vs_cbt_overview` sets the direct trials (pairwise random effects) beside the network
estimate of every database, with the direct share and the direct-vs-indirect test;
:func:`overview_statements` says in plain language what each network adds, computed from the
direct share, never asserted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..network_data import load_network
from .fits import _direct_pairs
from .report import NetworkReport, _pfmt, network_report


def pdt_vs_cbt_overview(
    *, method: str = "REML", rho: float = 0.5, reports: list[NetworkReport] | None = None
) -> pd.DataFrame:
    """PDT vs CBT by condition network: direct trials only (pairwise random effects, the same
    study effects), the network estimate with its prediction interval, the share of its
    precision that is direct, and the agreement of direct and indirect evidence (SIDDE or
    back-calculation, :meth:`NetworkResult.netsplit`), with the number of trials behind each.

    Examples
    --------
    >>> tab = pdt_vs_cbt_overview()
    >>> tab.loc[tab["database"] == "sad-psyctr", ["k_direct", "agreement"]].values.tolist()
    [[1.0, 'direct and indirect agree (p = 0.59)']]
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
        row.update(network_pi_low=c.pi_low, network_pi_high=c.pi_high)
        row["direct_share"] = c.direct_share if c.k_direct else 0.0
        row["indirect_method"] = c.indirect_method
        row["pvalue_split"] = c.pvalue_split
        row["global_inconsistency_p"] = c.global_p
        row["cinema"] = getattr(c, "cinema", None)
        if c.k_direct == 0:
            row["agreement"] = "no direct evidence: network estimate is indirect only"
        elif not np.isfinite(c.pvalue_split):
            row["agreement"] = "no indirect evidence: the network estimate is the direct one"
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
        g = r.global_inconsistency_p
        dbt_txt = (
            f"global inconsistency test (random-effects design-by-treatment) p {_pfmt(g)}"
            if np.isfinite(g)
            else "global inconsistency not testable (no loops of different designs)"
        )
        if k == 0:
            lines.append(
                head + f"no direct trial; the network ({int(r.k_network)} studies) gives {net} "
                f"from indirect comparisons only, which rests on transitivity; {dbt_txt}."
            )
            continue
        direct = f"{r.direct:.2f} [{r.direct_low:.2f}, {r.direct_high:.2f}]"
        trials = "trial gives" if k == 1 else "trials give"
        share = float(r.direct_share)
        if share >= 0.995:
            adds = "the network adds practically nothing to the head-to-head trials"
        else:
            via = (
                "back-calculated"
                if r.indirect_method == "back-calculation"
                else "estimated from the other trials"
            )
            adds = (
                f"{100 * share:.0f}% of its precision comes from the head-to-head trials and "
                f"{100 * (1 - share):.0f}% indirectly through shared comparators ({via}); "
                f"{r.agreement}"
            )
        lines.append(
            head + f"{k} direct {trials} {direct}; the network ({int(r.k_network)} studies) "
            f"gives {net}: {adds}; {dbt_txt}."
        )
    return "\n".join(lines)
