"""Selecting and aggregating outcome rows into analysis-ready effects (one per trial
comparison), the scenarios that change which rows are used, and published results typed once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .vocabulary import (
    _COMPARISON_COLUMNS,
    COMPARATOR_ORDER,
    CONDITION_GROUPS,
    CONDITION_NAMES,
)

__all__ = [
    "select_effects",
    "protocol_outcomes",
    "comparison_effects",
    "dataset_profile",
    "SENSITIVITY_SCENARIOS",
    "load_published",
    "pooled_rows",
]


def comparison_effects(
    outcomes: pd.DataFrame,
    *,
    measure: str = "SMD",
    timepoint: str = "post",
    rho: float = 0.5,
    cluster: tuple[str, ...] = ("comparison_id",),
) -> pd.DataFrame:
    """One effect per cluster (by default per trial comparison), aggregated under ``rho``.

    Rows of one measure and timepoint that share the ``cluster`` columns (several instruments
    of one comparison; with ``cluster=("trial_id", "comparator_class")`` also several arms of
    one trial against comparators of one class, which share an arm) are combined with
    :func:`evidence.meta.dependence.aggregate_effects` (compound symmetry, correlation ``rho``), as
    metafor's ``aggregate()`` does. Arm sizes are kept when the cluster is one comparison whose
    rows all report the same; other columns describing the comparison come from the cluster's
    first row, and ``comparator`` lists every comparator of the cluster.

    Returns
    -------
    pandas.DataFrame
        One row per cluster (input order) with ``cluster_id``, the comparison columns, ``yi``,
        ``vi``, ``n_effects``, ``n_comparisons``, ``effect_ids`` (the outcome rows combined),
        ``instruments``, ``n1``, ``n2`` and ``label``.

    Raises
    ------
    ValueError
        When a selected row has no finite effect or positive variance (it is never dropped
        silently; :func:`evidence.review.data.load` refuses such rows, so this signals a bug).
    """
    from evidence.meta.dependence import aggregate_effects

    rows = outcomes[(outcomes["measure"] == measure) & (outcomes["timepoint"] == timepoint)]
    _check_usable(rows)
    if rows.empty:
        return pd.DataFrame(columns=["cluster_id", *_COMPARISON_COLUMNS, "yi", "vi", "n_effects"])
    rows = rows.assign(cluster_id=rows[list(cluster)].astype(str).agg("|".join, axis=1))
    agg = aggregate_effects(rows["yi"], rows["vi"], rows["cluster_id"], rho=rho)
    grouped = rows.groupby("cluster_id", sort=False)
    keep = [c for c in _COMPARISON_COLUMNS if c in rows.columns]
    out = grouped[keep].first()
    out["yi"] = agg["yi"].reindex(out.index)
    out["vi"] = agg["vi"].reindex(out.index)
    out["n_effects"] = agg["n"].reindex(out.index).astype(int)
    out["n_comparisons"] = grouped["comparison_id"].nunique()
    if "effect_id" in rows:  # which outcome rows each pooled effect stands for
        out["effect_ids"] = grouped["effect_id"].agg(tuple)
    joined = {"instruments": "instrument", "comparator": "comparator", "construct": "construct"}
    for name, col in joined.items():
        if col in rows:
            out[name] = grouped[col].agg(lambda s: "; ".join(dict.fromkeys(s.astype(str))))
    for col in ("n1", "n2"):  # arm sizes only where they describe one pair of arms
        same = (grouped[col].nunique(dropna=False) == 1) & (out["n_comparisons"] == 1)
        out[col] = grouped[col].first().where(same)
    for col in ("events1", "events2"):  # event counts only where they are one 2x2 table
        if col in rows:
            out[col] = grouped[col].first().where(out["n_effects"] == 1)
    if "higher_is_better" in rows:  # True/False when every row of the cluster agrees
        hib = grouped["higher_is_better"]
        out["higher_is_better"] = hib.first().where(hib.nunique(dropna=False) == 1)
    out["label"] = out["study"].astype(str)
    return out.reset_index()


def _check_usable(rows: pd.DataFrame) -> None:
    """Refuse selected rows without a finite effect and a positive finite variance."""
    ok = np.isfinite(rows["yi"]) & np.isfinite(rows["vi"]) & (rows["vi"] > 0)
    if not ok.all():
        ids = rows.loc[~ok, "effect_id"] if "effect_id" in rows else rows.index[~ok]
        raise ValueError(
            "selected outcome rows have no finite effect or variance (not dropped silently): "
            + ", ".join(map(str, ids))
        )


def dataset_profile(dataset) -> pd.DataFrame:
    """Per condition: trials, comparisons, PDT sessions (median, range), years and formats."""
    o = dataset.outcomes.drop_duplicates("comparison_id").merge(
        dataset.trials[["trial_id", "year"]], on="trial_id", how="left"
    )
    sessions = pd.to_numeric(o["sessions"], errors="coerce")

    def span(s: pd.Series) -> str:
        s = s.dropna()
        return "not reported" if s.empty else f"{s.median():g} ({s.min():g}-{s.max():g})"

    rows = []
    for cond, g in o.groupby("condition", sort=True):
        rows.append(
            {
                "condition": CONDITION_NAMES.get(cond, cond),
                "trials": g["trial_id"].nunique(),
                "comparisons": len(g),
                "PDT sessions, median (range)": span(sessions[g.index]),
                "years": f"{int(g['year'].min())}-{int(g['year'].max())}",
                "formats": ", ".join(sorted(g["format"].dropna().unique())),
            }
        )
    return pd.DataFrame(rows).set_index("condition")


#: Sensitivity scenarios: name -> (what changes, how the outcome rows are changed).
SENSITIVITY_SCENARIOS = {
    "alternative classification": "comparators classed by their alternative class (data/arms.csv)",
    "add-on designs excluded": "comparisons of add-on designs (PDT + X vs X) left out",
    "suspect rows excluded": "outcome rows flagged 'suspect' left out",
}


def _scenario_outcomes(outcomes: pd.DataFrame, scenario: str) -> pd.DataFrame:
    if scenario == "alternative classification":
        return outcomes.assign(comparator_class=outcomes["comparator_class_alt"])
    if scenario == "add-on designs excluded":
        return outcomes[~outcomes["add_on"].astype(bool)]
    if scenario == "suspect rows excluded":
        return outcomes[outcomes["flag"].isna()]
    raise ValueError(f"unknown scenario {scenario!r}; known: {list(SENSITIVITY_SCENARIOS)}")


def load_published(name: str, *, root: Path | None = None) -> pd.DataFrame:
    """A published result typed once in ``data/published/<name>.csv`` (with its source).

    Examples
    --------
    >>> load_published("steinert2017")[["timepoint", "estimate", "ci_low", "ci_high"]]
       timepoint  estimate  ci_low  ci_high
    0       post    -0.153  -0.227   -0.079
    1  follow_up    -0.049  -0.137   -0.038
    """
    from evidence.io import repository_root

    path = (root or repository_root()) / "data" / "published" / f"{name}.csv"
    return pd.read_csv(path, dtype={"note": str, "source": str}, keep_default_na=False)


def _not_pooled_reason(row) -> str:
    if row.timepoint not in ("post", "follow_up"):
        return (
            f"timepoint {row.timepoint.replace('_', ' ')}: only post-treatment and follow-up "
            "are pooled"
        )
    if row.measure not in ("SMD", "OR"):
        return f"measure {row.measure}: only Hedges' g and odds ratios are pooled"
    if not any(row.condition in group for group in CONDITION_GROUPS.values()):
        return (
            f"{CONDITION_NAMES.get(row.condition, row.condition)} has no condition page; the "
            "headline pools only Hedges' g at post-treatment"
        )
    return "selected by no analysis"


def pooled_rows(dataset, analyses) -> pd.DataFrame:
    """One row per outcome row: the ``analyses`` that pool it (``pooled_in``) or, when none does,
    the ``reason`` (see :func:`~evidence.review.condition.row_accounting`)."""
    pooled: dict[str, list[str]] = {}
    for an in analyses:
        for ids in an.effects.get("effect_ids", []):
            for effect_id in ids:
                pooled.setdefault(effect_id, []).append(an.name)
    o = dataset.outcomes
    out = o[["effect_id", "study", "condition", "instrument", "measure", "timepoint"]].copy()
    out["pooled_in"] = o["effect_id"].map(lambda e: "; ".join(pooled.get(e, [])))
    protocol = _protocol_reasons(dataset)
    out["reason"] = [
        "" if pooled.get(r.effect_id) else (protocol.get(r.effect_id) or _not_pooled_reason(r))
        for r in o.itertuples()
    ]
    return out


def _protocol_reasons(dataset) -> dict:
    """effect_id -> why the protocol keeps the row out of every pool (rows it keeps: absent)."""
    from .protocol import primary_outcomes

    if dataset.protocol is None:
        return {}
    out = {}
    for measure, rows in dataset.outcomes.groupby("measure"):
        _, reasons = primary_outcomes(rows, dataset.protocol, measure)
        out.update({e: r for e, r in zip(rows["effect_id"], reasons, strict=True) if r})
    return out


def protocol_outcomes(dataset, measure: str, rule: str = "primary") -> pd.DataFrame:
    """The outcome rows of ``measure`` that the protocol pools (see :func:`select_effects`),
    with add-on designs in the comparator class ``add_on``."""
    from .protocol import primary_outcomes

    outcomes = dataset.outcomes[dataset.outcomes["measure"] == measure]
    if dataset.protocol is None:
        raise ValueError("the dataset has no protocol (data/protocol.toml): nothing is pooled")
    kept, _ = primary_outcomes(outcomes, dataset.protocol, measure, which=rule)
    return kept.assign(
        comparator_class=kept["comparator_class"].where(~kept["add_on"].astype(bool), "add_on")
    )


#: The sensitivity scenario that pools every instrument of the target construct.
ALL_INSTRUMENTS = "all instruments of the construct"


def _extra_instruments(dataset, conditions) -> str:
    """Studies with SMD rows at post that the all-instruments analysis adds (comma-separated)."""
    primary = protocol_outcomes(dataset, "SMD", "primary")
    every = protocol_outcomes(dataset, "SMD", "construct")
    extra = every[
        every["condition"].isin(conditions)
        & (every["timepoint"] == "post")
        & ~every["effect_id"].isin(primary["effect_id"])
    ]
    return ", ".join(dict.fromkeys(extra["study"]))


def select_effects(
    dataset,
    name: str,
    *,
    conditions: tuple[str, ...] | None = None,
    comparators: tuple[str, ...] | None = None,
    by: str = "comparator_class",
    measure: str = "SMD",
    timepoint: str = "post",
    rho: float = 0.5,
    outcomes_rule: str = "primary",
) -> pd.DataFrame:
    """The analysis-ready effects of one selection: outcome rows of the ``conditions`` (default:
    the condition group ``name``, or every condition for ``"all"``) and ``comparators``,
    aggregated to one effect per trial and group (``by``), sorted by group, year and label.

    The protocol (``dataset.protocol``) decides which rows enter: ``outcomes_rule="primary"``
    takes each comparison's primary instrument of the condition's target construct,
    ``"construct"`` every instrument of that construct (the all-instruments sensitivity
    analysis); an instrument of another construct never enters. Add-on designs (PDT + X vs X)
    form the comparator class ``add_on``, never X's class. Other arguments as in
    :func:`~evidence.review.analysis.analyse`."""
    if conditions is None:
        conditions = tuple(CONDITION_NAMES) if name == "all" else CONDITION_GROUPS[name]
    outcomes = protocol_outcomes(dataset, measure, outcomes_rule)
    if "year" not in outcomes:
        outcomes = outcomes.merge(dataset.trials[["trial_id", "year"]], on="trial_id", how="left")
    if "construct" not in outcomes and hasattr(dataset, "instruments"):
        constructs = dataset.instruments[["instrument", "construct"]]
        outcomes = outcomes.merge(constructs, on="instrument", how="left")
    keep = outcomes["condition"].isin(conditions)
    if comparators is not None:
        keep &= outcomes["comparator_class"].isin(comparators)
    # one effect per trial and group: instruments of a comparison, and comparisons of one trial
    # that share an arm within a group, are aggregated so that no trial counts twice in a group
    eff = comparison_effects(
        outcomes[keep], measure=measure, timepoint=timepoint, rho=rho, cluster=("trial_id", by)
    )
    order = {
        c: i
        for i, c in enumerate(COMPARATOR_ORDER if by == "comparator_class" else CONDITION_NAMES)
    }
    if len(eff):
        eff = eff.sort_values(
            [by, "year", "label"],
            key=lambda s: s.map(order) if s.name == by else s,
            kind="stable",
        ).reset_index(drop=True)
    return eff
