"""Claim 2: "PDT can be just as effective as CBT for many conditions", as equivalence tests.

The testable question: in randomized trials of PDT against CBT (each condition's target
construct, Hedges' g at post-treatment), does the effect lie within the protocol's equivalence
margin (``[thresholds] equivalence_margin`` of ``data/protocol.toml``)? Answered three ways for
every condition and pooled across conditions:

* **direct**: the pairwise pool (REML, Knapp-Hartung) and its two one-sided tests (TOST,
  :func:`evidence.meta.comparisons.equivalence_test`, 90% CI inside the margin);
* **network**: PDT vs CBT in the condition's network (:mod:`evidence.review.network_report`),
  the TOST on the network estimate (Wald z) and its CINeMA confidence;
* **Bayesian**: the posterior probability that |g| < margin
  (:meth:`evidence.meta.bayes.BayesResult.prob_equivalent`) under the protocol's prior on tau
  (:func:`evidence.review.small_cells.rule_prior`), flat prior on the mean.

Each row carries the verdict of :func:`evidence.review.certainty.verdict` with the margin.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..analysis import Analysis

__all__ = ["cbt_equivalence"]


def _row(scope: str, source: str, r, margin: float) -> dict:
    from evidence.meta.comparisons import equivalence_test

    eq = equivalence_test(r, margin=margin)
    return {
        "scope": scope,
        "source": source,
        "estimate": float(r.estimate),
        "ci90_low": eq.ci_low,
        "ci90_high": eq.ci_high,
        "p_tost": eq.pvalue,
        "equivalent": bool(eq.equivalent),
    }


def _direct_rows(an: Analysis, protocol, margin: float, scope_of) -> list[dict]:
    from evidence.meta.bayes import bayes_pool
    from evidence.review.small_cells import rule_prior

    from ..certainty import certainty_table

    sof = certainty_table({an.name: an}, protocol, margin=margin).set_index("comparison")
    rows = []
    for (group, r), comp in zip(an.results.items(), sof.index, strict=True):
        post = bayes_pool(r.yi, r.vi, tau_prior=rule_prior(an.measure), measure=an.measure)
        row = _row(scope_of(group), "direct trials (pairwise)", r, margin)
        row.update(
            k=r.k,
            trials=", ".join(r.study_labels),
            p_within_margin=post.prob_equivalent(margin),
            certainty=sof.loc[comp, "certainty"],
            verdict=sof.loc[comp, "verdict"],
        )
        rows.append(row)
    return rows


def _network_rows(reports, margin: float) -> list[dict]:
    from ..certainty import verdict
    from ..network_data import DATABASE_NAMES

    rows = []
    for rep in reports:
        c = rep.pdt_cbt
        if c is None or c.empty or rep.measure != "SMD":
            continue
        c = c.iloc[0]
        r = SimpleNamespace(estimate=c.network, se=c.network_se)
        row = _row(
            DATABASE_NAMES.get(rep.database, rep.database), f"network ({rep.database})", r, margin
        )
        row.update(
            k=int(c.k_direct),
            trials=f"{int(c.k_direct)} direct of {rep.result.k} studies in the network",
            p_within_margin=np.nan,
            certainty=c.cinema,
            verdict=verdict(
                c.network,
                c.net_low,
                c.net_high,
                k=rep.result.k,
                certainty=c.cinema,
                comparator="CBT",
                margin=margin,
            ),
        )
        rows.append(row)
    return rows


def cbt_equivalence(
    by_condition: Analysis, pooled: Analysis, reports, protocol, *, margin: float | None = None
) -> pd.DataFrame:
    """PDT vs CBT against the equivalence margin: one row per condition and for all conditions
    pooled (direct trials), then one per condition network on the SMD scale.

    Parameters
    ----------
    by_condition : Analysis
        PDT vs CBT grouped by condition (``headline(...)["cbt"]``).
    pooled : Analysis
        PDT vs CBT with every condition in one group (``analyse(..., by="comparator_class",
        comparators=("cbt",))``): a pool across target constructs, read as a summary only.
    reports : list of NetworkReport
        The condition networks (:func:`evidence.review.network_report.network_report`).
    protocol : Protocol
        Margin (default), prior and GRADE rules.

    Returns
    -------
    pandas.DataFrame
        ``scope``, ``source``, ``estimate``, ``ci90_low``/``ci90_high`` (the TOST interval),
        ``p_tost``, ``equivalent``, ``k``, ``trials``, ``p_within_margin`` (posterior
        P(|g| < margin); NaN for network rows: the Bayesian engine is pairwise), ``certainty``
        (GRADE; CINeMA for network rows) and ``verdict``.

    Examples
    --------
    >>> import evidence.review.data
    >>> from evidence.review import analyse, headline
    >>> ds = evidence.review.data.load()
    >>> pooled = analyse(ds, "claims_cbt_pooled", conditions=tuple(ds.trials["condition"]),
    ...                  comparators=("cbt",))
    >>> t = cbt_equivalence(headline(ds)["cbt"], pooled, [], ds.protocol)
    >>> t["scope"].tolist()[-1], bool(t["equivalent"].any())
    ('all conditions pooled', False)
    """
    from ..vocabulary import CONDITION_NAMES

    margin = protocol.equivalence_margin if margin is None else margin
    rows = _direct_rows(by_condition, protocol, margin, lambda g: CONDITION_NAMES.get(g, g))
    rows += _direct_rows(pooled, protocol, margin, lambda g: "all conditions pooled")
    rows += _network_rows(reports, margin)
    return pd.DataFrame(rows)
