"""Claim 1: "PDT can treat" a list of conditions, tested against each control class apart.

The testable question per named condition: in randomized trials of that population, did PDT do
better than **waitlist**, **usual care**, **pill placebo or attention control** or **other
control** (the protocol's control classes, never lumped), on the protocol's target construct, at
post-treatment and at follow-up (kept apart), as Hedges' g or as an odds ratio? Every pooled
cell gets its GRADE certainty and the verdict of :func:`evidence.review.certainty.verdict`
through :func:`evidence.review.certainty.certainty_table`. A named condition with no such
trial in the data says so, with the trials the shared notes name for it and why they are not in.
"""

from __future__ import annotations

import pandas as pd

from ..analysis import Analysis, analyse
from ..vocabulary import COMPARATOR_NAMES, CONDITION_NAMES

__all__ = ["CLAIMED_CONDITIONS", "control_analyses", "claim1_table", "untested_conditions"]

#: The conditions claim 1 names -> the condition labels of ``data/trials.csv`` that test them.
#: "Anxiety" beyond the two anxiety disorders named on their own is generalized anxiety
#: disorder; "psychological distress" is the mixed common mental disorders population;
#: "interpersonal problems" is no population of any trial (some trials measure them as an
#: outcome), so it has no label.
CLAIMED_CONDITIONS: dict[str, tuple[str, ...]] = {
    "depression": ("depression",),
    "social anxiety disorder": ("social_anxiety",),
    "panic disorder": ("panic",),
    "somatic disorders": ("somatic_symptom",),
    "some personality disorders": ("borderline_pd", "other_personality_disorder"),
    "PTSD": ("ptsd",),
    "eating disorders": ("anorexia_nervosa", "bulimia_nervosa"),
    "substance use disorders": ("substance_use",),
    "anxiety (generalized anxiety disorder)": ("generalized_anxiety",),
    "interpersonal problems": (),
    "psychological distress": ("mixed_common_mental",),
}

_CELLS = (("SMD", "post"), ("OR", "post"), ("SMD", "follow_up"), ("OR", "follow_up"))


def control_analyses(
    dataset, *, method: str = "REML", test: str = "knha", rho: float = 0.5
) -> dict[str, Analysis]:
    """PDT against each control class (grouped by class, never lumped) for every condition
    label of :data:`CLAIMED_CONDITIONS`, per measure and timepoint; empty cells left out.

    Keys are ``"<condition name>: <measure> <timepoint>"``; each :class:`~evidence.review.Analysis`
    is grouped by ``comparator_class`` over ``dataset.protocol.control_classes`` only.

    Examples
    --------
    >>> import evidence.review.data
    >>> ans = control_analyses(evidence.review.data.load())
    >>> sorted(ans["depression: SMD post"].groups)
    ['other_control', 'usual_care', 'waitlist']
    """
    controls = tuple(dataset.protocol.control_classes)
    labels = [c for c in CONDITION_NAMES if any(c in v for v in CLAIMED_CONDITIONS.values())]
    out = {}
    for cond in labels:
        for measure, timepoint in _CELLS:
            an = analyse(
                dataset,
                f"claims_{cond}_{measure}_{timepoint}",
                conditions=(cond,),
                comparators=controls,
                by="comparator_class",
                measure=measure,
                timepoint=timepoint,
                method=method,
                test=test,
                rho=rho,
            )
            if an:
                name = CONDITION_NAMES[cond]
                out[f"{name}: {measure} {timepoint.replace('_', '-')}"] = an
    return out


def claim1_table(analyses: dict[str, Analysis], protocol) -> pd.DataFrame:
    """The summary of findings of :func:`control_analyses` (one row per condition, control
    class, measure and timepoint) with the named condition(s) of the claim each row tests.

    Columns are those of :func:`~evidence.review.certainty.certainty_table` (``comparison``
    names the condition and the control class, never "control" alone) plus ``condition`` (the
    label), ``claimed`` (the claim's words) and ``trials`` (the labels of the trials pooled).

    Examples
    --------
    >>> import evidence.review.data
    >>> ds = evidence.review.data.load()
    >>> t = claim1_table(control_analyses(ds), ds.protocol)
    >>> t.loc[t["analysis"] == "depression: SMD post", "comparison"].tolist()[-1]
    'PDT vs waitlist'
    """
    from ..certainty import certainty_table

    table = certainty_table(analyses, protocol, margin=protocol.equivalence_margin)
    if table.empty:
        return table.assign(condition=[], claimed=[], trials=[])
    trials = [
        ", ".join(dict.fromkeys(an.effects.loc[an.effects[an.by] == g, "label"]))
        for an in analyses.values()
        for g in an.results
    ]  # the row order of certainty_table
    label = {name: c for c, name in CONDITION_NAMES.items()}
    cond = table["analysis"].str.split(": ").str[0].map(label)
    claimed = cond.map(
        lambda c: "; ".join(k for k, v in CLAIMED_CONDITIONS.items() if c in v)
    )  # fmt: skip
    return table.assign(condition=cond, claimed=claimed, trials=trials)


def _trial_text(dataset, trial_id: str, study: str) -> str:
    """``Blay 2002 (vs usual care; timepoints: not stated)``: a trial's comparator classes
    (add-on designs marked) and the timepoints of its outcome rows."""
    comp = dataset.comparisons[dataset.comparisons["trial_id"] == trial_id]
    cls = dataset.arms.set_index("arm_id")["arm_class"]
    vs = [
        f"{COMPARATOR_NAMES.get(cls[a], cls[a])}"
        f"{' (add-on design)' if str(on).lower() == 'true' else ''}"
        for a, on in zip(comp["arm2_id"], comp["add_on"], strict=True)
    ]
    tps = dataset.outcomes.loc[dataset.outcomes["trial_id"] == trial_id, "timepoint"]
    tps = tps.str.replace("_", " ")  # as readers write them: "follow up", "not stated"
    return f"{study} (vs {', '.join(vs)}; timepoints: {', '.join(dict.fromkeys(tps))})"


def untested_conditions(dataset, table: pd.DataFrame) -> pd.DataFrame:
    """The named conditions of claim 1 without any pooled comparison with a control class in
    ``table`` (:func:`claim1_table`): the trials of that population in the data (and their
    comparators), and the trials the shared notes name for it
    (``data/published/known_trials.csv``) with their status and the reason they are not in.

    Examples
    --------
    >>> import evidence.review.data
    >>> ds = evidence.review.data.load()
    >>> u = untested_conditions(ds, claim1_table(control_analyses(ds), ds.protocol))
    >>> "substance use disorders" in set(u["claimed"])
    True
    """
    from ..coverage import coverage_table

    tested = set(table["condition"]) if len(table) else set()
    known = coverage_table(dataset, analyses=[])
    study = dataset.trials.set_index("trial_id")["study"]
    condition = dataset.trials.set_index("trial_id")["condition"]
    rows = []
    for claimed, labels in CLAIMED_CONDITIONS.items():
        if set(labels) & tested:
            continue
        in_data = condition.index[condition.isin(labels)]
        named = known[known["condition"].isin(labels)]
        rows.append(
            {
                "claimed": claimed,
                "conditions": ", ".join(CONDITION_NAMES[c] for c in labels) or "none",
                "trials_in_data": "; ".join(_trial_text(dataset, t, study[t]) for t in in_data)
                or "none",
                "named_in_notes": "; ".join(
                    f"{r.study}: {r.comparison} ({r.status}"
                    + (f"; {r.reason})" if r.reason else ")")
                    for r in named.itertuples()
                )
                or "none",
            }
        )
    return pd.DataFrame(rows, columns=["claimed", "conditions", "trials_in_data", "named_in_notes"])
