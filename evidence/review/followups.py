"""Analyses that re-run :func:`~evidence.review.analysis.analyse` under other choices:
the correlation rho, the classification scenarios, PDT vs CBT on every outcome type, the
Steinert et al. 2017 equivalence analysis, and the comparison with metafor's reference values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .analysis import Analysis, analyse
from .selection import (
    ALL_INSTRUMENTS,
    SENSITIVITY_SCENARIOS,
    _extra_instruments,
    _scenario_outcomes,
    comparison_effects,
)
from .vocabulary import COMPARATOR_NAMES, CONDITION_GROUPS, CONDITION_NAMES

__all__ = [
    "reference_comparison",
    "rho_sensitivity",
    "sensitivity_scenarios",
    "pdt_vs_cbt_all_outcomes",
    "steinert_equivalence",
]


def reference_comparison(path: Path | None = None) -> pd.DataFrame:
    """Our fits beside metafor's reference values (``tests/reference/core.json``).

    One row per dataset x estimator x test with metafor's and our estimate, SE and tau^2 and the
    largest absolute difference over estimate, SE, CI limits, tau^2, Q and the PI limits.
    """
    import json

    from evidence.io import repository_root
    from evidence.meta.pooling import pool

    path = path or repository_root() / "tests" / "reference" / "core.json"
    ref = json.loads(Path(path).read_text())
    fields = ("estimate", "se", "ci_low", "ci_high", "tau2", "q", "pi_low", "pi_high")
    rows = []
    for f in ref["fits"]:
        d = ref["datasets"][f["dataset"]]
        ours = pool(d["yi"], d["vi"], method=f["method"], test=f["test"])
        diffs = [abs(getattr(ours, x) - f[x]) for x in fields if f[x] is not None]
        rows.append(
            {
                "dataset": f["dataset"],
                "method": f["method"],
                "test": f["test"],
                "k": f["k"],
                "metafor_estimate": f["estimate"],
                "evidence_estimate": ours.estimate,
                "metafor_tau2": f["tau2"],
                "evidence_tau2": ours.tau2,
                "max_abs_diff": max(diffs),
            }
        )
    return pd.DataFrame(rows)


def rho_sensitivity(dataset, analysis: Analysis, rhos=(0.0, 0.3, 0.5, 0.7, 0.9)):
    """Pooled estimate of every group under other assumed within-comparison correlations."""
    conditions = tuple(analysis.effects["condition"].unique())
    comparators = tuple(analysis.effects["comparator_class"].unique())
    rows = []
    for rho in rhos:
        again = analyse(
            dataset,
            analysis.name,
            conditions=conditions,
            comparators=comparators,
            by=analysis.by,
            measure=analysis.measure,
            timepoint=analysis.timepoint,
            method=analysis.method,
            test=analysis.test,
            rho=rho,
        )
        rows += [
            {
                "rho": rho,
                "group": again._name(g),
                "k": r.k,
                "estimate": r.estimate,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
            }
            for g, r in again.results.items()
        ]
    return pd.DataFrame(rows).pivot(index="group", columns="rho", values="estimate")


def sensitivity_scenarios(
    dataset, key: str, *, method: str = "REML", test: str = "knha", rho: float = 0.5
) -> pd.DataFrame:
    """Pooled SMD at post by comparator class, as classified and under each scenario of
    :data:`SENSITIVITY_SCENARIOS` that changes this condition group's rows.

    One row per scenario x comparator class (k, estimate, 95% CI, the trials that moved or left);
    a scenario that changes nothing for the group is listed once with a note.

    Examples
    --------
    >>> from evidence.review.data import load
    >>> t = sensitivity_scenarios(load(), "anxiety")
    >>> t.loc["all instruments of the construct"].index.tolist()  # every LSAS/SPAI scale
    ['CBT', 'waitlist', 'X alone (add-on design: PDT + X vs X)']
    """
    import dataclasses

    from .selection import protocol_outcomes

    conditions = CONDITION_GROUPS[key]
    base = dataset.outcomes[dataset.outcomes["condition"].isin(conditions)]
    pooled = set(protocol_outcomes(dataset, "SMD")["effect_id"])  # what a change can move
    rows = []

    def add(scenario: str, outcomes: pd.DataFrame, note: str, rule: str = "primary") -> None:
        ds = dataclasses.replace(dataset, outcomes=outcomes)
        an = analyse(
            ds, f"{key}_sens", conditions=conditions, method=method, test=test, rho=rho,
            outcomes_rule=rule,
        )  # fmt: skip
        for g, r in an.results.items():
            rows.append(
                {
                    "scenario": scenario,
                    "comparator": COMPARATOR_NAMES.get(g, g),
                    "k": r.k,
                    "estimate": r.estimate,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "changed": note,
                }
            )

    add("as classified", base, "")
    for scenario, what in SENSITIVITY_SCENARIOS.items():
        alt = _scenario_outcomes(base, scenario)
        moved = base.loc[
            base["effect_id"].isin(pooled)
            & (
                ~base["effect_id"].isin(alt["effect_id"])
                | (base["comparator_class"] != base["comparator_class_alt"])
                & (scenario == "alternative classification")
                & ~base["add_on"].astype(bool)
            ),
            "study",
        ]
        studies = ", ".join(dict.fromkeys(moved))
        if not studies:
            rows.append({"scenario": scenario, "changed": f"no change ({what})"})
            continue
        add(scenario, alt, f"{what}: {studies}")
    every = "every instrument of the target construct, aggregated (rho)"
    more = _extra_instruments(dataset, conditions)
    if more:
        add(ALL_INSTRUMENTS, base, f"{every}: {more}", rule="construct")
    else:
        rows.append({"scenario": ALL_INSTRUMENTS, "changed": f"no change ({every})"})
    if not any("k" in r for r in rows):
        rows.insert(0, {"scenario": "as classified", "changed": "no comparisons pooled at post"})
    cols = ["scenario", "comparator", "k", "estimate", "ci_low", "ci_high", "changed"]
    return pd.DataFrame(rows, columns=cols).set_index(["scenario", "comparator"])


def _direction_words(measure: str) -> str:
    if measure == "OR":
        return "OR > 1 favours PDT (odds of the good outcome, or lower odds of the bad one)"
    return "g > 0 favours PDT"


def cbt_cells(dataset, *, method: str = "REML", test: str = "knha", rho: float = 0.5):
    """Every PDT vs CBT cell with an analysis: condition, measure (SMD or OR) and timepoint.

    Yields ``(condition, measure, timepoint, outcome rows, Analysis)`` in the order of
    ``CONDITION_NAMES``, then measure and timepoint; cells with nothing to pool are skipped.

    Examples
    --------
    >>> from evidence.review.data import load
    >>> cond, measure, timepoint, _, an = next(cbt_cells(load()))
    >>> cond in CONDITION_NAMES and measure in ("SMD", "OR") and bool(an)
    True
    """
    o = dataset.outcomes[dataset.outcomes["comparator_class"] == "cbt"]
    for cond in [c for c in CONDITION_NAMES if c in set(o["condition"])]:
        oc = o[o["condition"] == cond]
        for (measure, timepoint), part in oc.groupby(["measure", "timepoint"], sort=True):
            if measure not in ("SMD", "OR"):
                continue
            an = analyse(
                dataset,
                f"cbt_{cond}",
                conditions=(cond,),
                comparators=("cbt",),
                measure=measure,
                timepoint=timepoint,
                method=method,
                test=test,
                rho=rho,
            )
            if an:
                yield cond, measure, timepoint, part, an


def pdt_vs_cbt_all_outcomes(
    dataset, *, method: str = "REML", test: str = "knha", rho: float = 0.5
) -> pd.DataFrame:
    """Every condition with a PDT vs CBT comparison, whatever the outcome type and timepoint.

    Continuous outcomes are pooled as Hedges' g, event outcomes as odds ratios, each on its own
    scale (never pooled together). The named outcome and its direction are given in words.
    As a sensitivity only, ORs are also shown converted to g with the logistic conversion
    g = ln(OR) * sqrt(3) / pi (Hasselblad and Hedges), so that the rows can be compared.

    Examples
    --------
    >>> from evidence.review.data import load
    >>> t = pdt_vs_cbt_all_outcomes(load())
    >>> row = t[t["condition"] == "bulimia nervosa"].iloc[0]
    >>> row["timepoint"], row["measure"], row["result"]
    ('during treatment', 'OR', 'favours CBT')
    """
    rows = []
    for cond, measure, timepoint, part, an in cbt_cells(dataset, method=method, test=test, rho=rho):
        r = an.results["cbt"]
        tr = np.exp if measure == "OR" else (lambda x: x)
        est, lo, hi = tr(r.estimate), tr(r.ci_low), tr(r.ci_high)
        null = 1.0 if measure == "OR" else 0.0
        if lo > null:
            verdict = "favours PDT"
        elif hi < null:
            verdict = "favours CBT"
        else:
            verdict = "no difference shown"
        rows.append(
            {
                "condition": CONDITION_NAMES[cond],
                "timepoint": timepoint.replace("_", " "),
                "measure": "g" if measure == "SMD" else "OR",
                "k": r.k,
                "trials": ", ".join(dict.fromkeys(an.effects["label"])),
                "outcome": "; ".join(dict.fromkeys(part["instrument"])),
                "estimate": est,
                "ci_low": lo,
                "ci_high": hi,
                "direction": _direction_words(measure),
                "result": verdict,
                "g_from_or": r.estimate * np.sqrt(3) / np.pi if measure == "OR" else np.nan,
            }
        )
    return pd.DataFrame(rows)


def steinert_equivalence(
    dataset, *, margin: float = 0.25, method: str = "REML", test: str = "knha", rho: float = 0.5
) -> dict:
    """Steinert et al. (2017) on this dataset: PDT vs established active treatments (CBT, other
    psychotherapies, medication; add-on designs excluded), all symptom outcomes of a trial
    aggregated, post-treatment and follow-up; TOST with ``margin`` and the 90% CI.

    Returns ``{timepoint: (effects, pooled result or None, EquivalenceResult or None)}`` for
    ``post`` and ``follow_up`` (one aggregated effect per trial; None when no trial qualifies).

    Examples
    --------
    >>> from evidence.review.data import load
    >>> eff, res, eq = steinert_equivalence(load())["post"]
    >>> bool(eff["trial_id"].is_unique), sorted(set(eff["comparator_class"]))
    (True, ['cbt', 'other_psychotherapy'])
    """
    import dataclasses

    from evidence.meta.analyses import equivalence_test
    from evidence.meta.pooling import pool

    o = dataset.outcomes
    active = ("cbt", "other_psychotherapy", "medication")
    keep = o["comparator_class"].isin(active) & ~o["add_on"].astype(bool)
    ds = dataclasses.replace(dataset, outcomes=o[keep])
    out = {}
    for timepoint in ("post", "follow_up"):
        eff = comparison_effects(ds.outcomes, timepoint=timepoint, rho=rho, cluster=("trial_id",))
        if len(eff) == 0:
            out[timepoint] = (eff, None, None)
            continue
        res = pool(eff["yi"], eff["vi"], method=method, test=test, labels=eff["label"])
        out[timepoint] = (eff, res, equivalence_test(res, margin=margin))
    return out
