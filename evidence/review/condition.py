"""The analyses of the notebooks' pages: the headline families (PDT vs CBT, other active
treatments, controls, by condition), every analysis of one condition group, and the accounting
of which outcome rows each page pools."""

from __future__ import annotations

import pandas as pd

from .analysis import Analysis, analyse
from .selection import pooled_rows
from .vocabulary import (
    COMPARATOR_FAMILIES,
    CONDITION_GROUPS,
    CONDITION_NAMES,
    SECONDARY_FAMILIES,
)

__all__ = [
    "ConditionAnalyses",
    "trial_effects",
    "headline",
    "condition_analyses",
    "build_analyses",
    "row_accounting",
]


def headline(dataset, *, method: str = "REML", test: str = "knha", secondary: bool = False) -> dict:
    """PDT vs each comparator class by condition (SMD, post): one class per family, never
    lumped (``COMPARATOR_FAMILIES``); classes without a trial are left out. ``secondary=True``
    adds the labelled "vs any control" line (``SECONDARY_FAMILIES``).

    Returns a dict family -> :class:`Analysis` grouped by condition.
    """
    families = {**COMPARATOR_FAMILIES, **(SECONDARY_FAMILIES if secondary else {})}
    out = {
        family: analyse(
            dataset,
            f"headline_{family}",
            conditions=tuple(CONDITION_NAMES),
            comparators=classes,
            by="condition",
            method=method,
            test=test,
        )
        for family, classes in families.items()
    }
    return {family: an for family, an in out.items() if an}


def condition_analyses(
    dataset, key: str, *, method: str = "REML", test: str = "knha", rho: float = 0.5
) -> dict:
    """Continuous (SMD) and event (OR) analyses of one condition group, at post-treatment and
    at follow-up (kept separate, never pooled together); empty ones are left out. Keys are
    ``"<measure> <timepoint>"``, e.g. ``"SMD post"``; a group of several conditions is analysed
    condition by condition, keys ``"<condition>: <measure> <timepoint>"``. The result's ``rows``
    accounts for every outcome row of the group's conditions (:func:`row_accounting`)."""
    out = ConditionAnalyses()
    conditions = CONDITION_GROUPS[key]
    # a group of several conditions is analysed condition by condition: their target
    # constructs differ (social anxiety, worry, panic), so they are never pooled together
    cells = [(key, conditions, "")] if len(conditions) == 1 else [
        (c, (c,), f"{CONDITION_NAMES[c]}: ") for c in conditions
    ]  # fmt: skip
    for name, conds, prefix in cells:
        for timepoint, tsuffix in (("post", ""), ("follow_up", "_followup")):
            for measure, msuffix in (("SMD", ""), ("OR", "_events")):
                an = analyse(
                    dataset,
                    f"{name}{msuffix}{tsuffix}",
                    conditions=conds,
                    measure=measure,
                    timepoint=timepoint,
                    method=method,
                    test=test,
                    rho=rho,
                )
                if an:
                    out[f"{prefix}{measure} {timepoint.replace('_', '-')}"] = an
    conditions = dataset.outcomes["condition"].isin(CONDITION_GROUPS[key])
    out.rows = pooled_rows(dataset, out.values())[conditions.to_numpy()]
    return out


class ConditionAnalyses(dict):
    """The analyses of one condition group (``"<measure> <timepoint>"`` -> :class:`Analysis`),
    with ``rows``: the group's outcome rows and where each is pooled (:func:`row_accounting`)."""

    rows: pd.DataFrame | None = None

    def effects(self) -> pd.DataFrame:
        """The per-trial effects that enter the condition's pools, one row per trial comparison
        and analysis (``analysis`` names it: measure and timepoint; positive favours PDT)."""
        parts = [an.effects.assign(analysis=key) for key, an in self.items()]
        if not parts:
            return pd.DataFrame(columns=["analysis"])
        out = pd.concat(parts, ignore_index=True)
        return out[["analysis", *(c for c in out.columns if c != "analysis")]]


def trial_effects(key: str, *, method: str = "REML", test: str = "knha", rho: float = 0.5):
    """The per-trial effects of condition group ``key`` as its page pools them, in one call.

    Examples
    --------
    >>> eff = trial_effects("depression")
    >>> eff[["analysis", "study", "comparator_class", "yi"]].head(2).round(3)
       analysis        study comparator_class     yi
    0  SMD post  Cooper 2003              cbt  0.066
    1  SMD post  Fonagy 2019              cbt  0.410
    """
    from .data import load

    return condition_analyses(load(), key, method=method, test=test, rho=rho).effects()


def build_analyses(
    dataset,
    *,
    method: str = "REML",
    test: str = "knha",
    rho: float = 0.5,
    families: dict[str, Analysis] | None = None,
) -> dict[str, Analysis]:
    """Every pooled analysis the notebooks run (headline families and condition pages), by name.
    ``families``: the :func:`headline` analyses, when the caller has them already."""
    heads = headline(dataset, method=method, test=test) if families is None else families
    out = {an.name: an for an in heads.values()}
    for key in CONDITION_GROUPS:
        for an in condition_analyses(dataset, key, method=method, test=test, rho=rho).values():
            out[an.name] = an
    return out


def row_accounting(dataset, analyses=None) -> pd.DataFrame:
    """One row per outcome row: the analyses that pool it (``pooled_in``) or, when none does,
    the ``reason``. ``analyses`` defaults to :func:`build_analyses` (everything the build pools).

    Examples
    --------
    >>> import evidence.review.data
    >>> acc = row_accounting(evidence.review.data.load())
    >>> bool((acc["pooled_in"].astype(bool) | acc["reason"].astype(bool)).all())
    True
    """
    if analyses is None:
        analyses = build_analyses(dataset).values()
    return pooled_rows(dataset, analyses)
