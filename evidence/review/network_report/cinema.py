"""CINeMA confidence in every network estimate of PDT (Nikolakopoulou et al. 2020, PLoS Med
17:e1003082), computed from the fit and the contribution matrix.

Report stage. Each PDT-vs-node estimate starts at **high** confidence; each domain takes 0, 1
or 2 levels off by the protocol's rules (the thresholds of ``[grade]`` in
``data/protocol.toml``, shared with the pairwise GRADE ratings), with its reason:

* **within-study bias**: the risk of bias of each direct comparison (the share of its studies
  not at low risk) weighted by that comparison's contribution to the estimate
  (:meth:`NetworkResult.contribution`, random-walk method);
* **reporting bias**: not assessable per network estimate (said so, no level taken off);
* **indirectness**: each study contrast that is an add-on design (PDT + X vs X entered as PDT
  vs X) is indirect; the share of indirect contrasts of each direct comparison, weighted by its
  contribution to the estimate, takes one level off above ``cinema_indirect_share``
  (transitivity in the effect modifiers is checked by the section's effect-modifier table);
* **imprecision**: the confidence interval against no effect and the minimally important
  difference (MID);
* **heterogeneity**: a prediction interval reaching beyond the MID on both sides while the
  confidence interval does not;
* **incoherence**: the direct-vs-indirect test of the comparison (netsplit) and the network's
  global random-effects design-by-treatment test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .fits import _low_rob, global_test

__all__ = ["CINEMA_DOMAINS", "cinema_table"]

CINEMA_DOMAINS = (
    "within-study bias",
    "reporting bias",
    "indirectness",
    "imprecision",
    "heterogeneity",
    "incoherence",
)
_LEVELS = ("high", "moderate", "low", "very low")


def _bias(contrib: pd.Series, rob_by_edge: pd.Series, rules: dict) -> tuple[int, str]:
    share = float((contrib * rob_by_edge.reindex(contrib.index).fillna(1.0)).sum())
    text = f"{100 * share:.0f}% of the contributing evidence from studies not at low risk"
    if share > rules["rob_not_low_share"]:
        return 1, text
    return 0, text


def _edge_share(pairs: pd.DataFrame, column: str) -> pd.Series:
    """Mean of ``column`` over the study contrasts of each direct comparison, keyed both ways
    (``"a vs b"`` and ``"b vs a"``, as the contribution matrix names its columns)."""
    by_pair = pairs.groupby(["node_a", "node_b"])[column].mean()
    edges = {}
    for (a, b), v in by_pair.items():
        edges[f"{a} vs {b}"] = v
        edges[f"{b} vs {a}"] = v
    return pd.Series(edges, dtype=float)


def _indirectness(contrib: pd.Series, addon_by_edge: pd.Series, rules: dict) -> tuple[int, str]:
    """CINeMA indirectness: the contribution-weighted share of add-on designs.

    Examples
    --------
    >>> edges = pd.Series({"pdt vs usual_care": 1.0, "cbt vs usual_care": 0.0})
    >>> rules = {"cinema_indirect_share": 0.5}
    >>> _indirectness(pd.Series({"pdt vs usual_care": 0.8, "cbt vs usual_care": 0.2}), edges,
    ...               rules)
    (1, '80% of the contributing evidence from add-on designs (PDT + X vs X)')
    >>> _indirectness(pd.Series({"pdt vs usual_care": 0.0, "cbt vs usual_care": 1.0}), edges,
    ...               rules)
    (0, 'no add-on designs in the contributing evidence')
    """
    share = float((contrib * addon_by_edge.reindex(contrib.index).fillna(0.0)).sum())
    if share <= 0:
        return 0, "no add-on designs in the contributing evidence"
    text = f"{100 * share:.0f}% of the contributing evidence from add-on designs (PDT + X vs X)"
    return int(share > rules["cinema_indirect_share"]), text


def _imprecision(low: float, high: float, mid: float) -> tuple[int, str]:
    text = f"CI {low:.2f} to {high:.2f} (MID {mid:g})"
    beyond = (low < -mid) + (high > mid)
    if low < 0 < high and beyond == 2:
        return 2, text + ": includes no effect and differences beyond the MID both ways"
    if low < 0 < high and beyond == 1:
        return 1, text + ": includes no effect and a difference beyond the MID"
    return 0, text


def _heterogeneity(r, mid: float) -> tuple[int, str]:
    text = f"prediction interval {r.pi_low:.2f} to {r.pi_high:.2f}"
    pi_wide = r.pi_low < -mid and r.pi_high > mid
    ci_wide = r.ci_low < -mid and r.ci_high > mid
    if pi_wide and not ci_wide:
        return 1, text + " reaches beyond the MID both ways, the CI does not"
    return 0, text


def _incoherence(r, g: dict) -> tuple[int, str]:
    parts, off = [], 0
    if np.isfinite(r.pvalue_split):
        parts.append(f"direct vs indirect p = {r.pvalue_split:.2f}")
        off += r.pvalue_split < 0.10
    else:
        parts.append("no direct vs indirect test (direct only or indirect only)")
    if g["df"] > 0:
        parts.append(f"global test p = {g['pvalue']:.2f}")
        off += g["pvalue"] < 0.05
    return off, "; ".join(parts)


def cinema_table(rep, protocol) -> pd.DataFrame:
    """CINeMA confidence of PDT vs every node of the network of ``rep``
    (:class:`~evidence.review.network_report.NetworkReport`): one row per node, the level, the
    levels taken off per domain and the reasons."""
    res = rep.result
    rules = protocol.grade
    mid = protocol.mid * (np.pi / np.sqrt(3) if rep.measure == "OR" else 1.0)
    contrib = res.contribution()
    kept = rep.contrasts
    addon = kept["add_on"].astype(bool) if "add_on" in kept else False
    pairs = kept.assign(not_low=~_low_rob(kept["rob"]), add_on=addon)
    rob_by_edge = _edge_share(pairs, "not_low")
    addon_by_edge = _edge_share(pairs, "add_on")
    g = global_test(rep.inconsistency)
    rows = []
    for r in rep.pdt_table.itertuples():
        key = next(k for k in (f"pdt vs {r.node}", f"{r.node} vs pdt") if k in contrib.index)
        domains = {
            "within-study bias": _bias(contrib.loc[key], rob_by_edge, rules),
            "reporting bias": (0, "not assessable per network estimate"),
            "indirectness": _indirectness(contrib.loc[key], addon_by_edge, rules),
            "imprecision": _imprecision(r.ci_low, r.ci_high, round(mid, 2)),
            "heterogeneity": _heterogeneity(r, round(mid, 2)),
            "incoherence": _incoherence(r, g),
        }
        off = sum(int(k) for k, _ in domains.values())
        level = _LEVELS[min(off, 3)]
        reasons = "; ".join(f"{d}: {t}" for d, (k, t) in domains.items() if k)
        rows.append({"node": r.node, "cinema": level, "cinema_reasons": reasons})
    return pd.DataFrame(rows)
