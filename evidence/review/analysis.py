"""Running the analyses of one selection of comparisons: :class:`Analysis` holds the
effects and the pooled result of each group, computed once; :func:`analyse`,
:func:`headline` and :func:`condition_analyses` build them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .selection import select_effects
from .vocabulary import (
    _TITLES,
    COMPARATOR_NAMES,
    CONDITION_NAMES,
)

__all__ = [
    "Analysis",
    "analyse",
]


@dataclass(frozen=True)
class Analysis:
    """Everything a notebook shows for one selection of comparisons, computed once.

    ``effects`` holds one aggregated effect per trial comparison (positive = favours PDT);
    ``results`` maps each group present (comparator class or condition, display order) to its
    pooled result; ``by_group`` is the subgroup analysis (separate tau^2 per group) when there
    are at least two groups, else None.
    """

    name: str
    by: str
    measure: str
    timepoint: str
    method: str
    test: str
    rho: float
    effects: pd.DataFrame = field(repr=False)
    results: dict = field(repr=False)
    by_group: object = field(repr=False)

    @property
    def groups(self) -> tuple[str, ...]:
        """Group keys present, in display order."""
        return tuple(self.results)

    def __bool__(self) -> bool:
        return bool(self.results)

    @property
    def largest_group(self) -> str:
        """The group with the most comparisons (first in display order on ties)."""
        return max(self.results, key=lambda g: self.results[g].k)

    @property
    def title(self) -> str:
        """Readable name for headings and figure titles, e.g. "PTSD (Hedges' g, follow-up)"."""
        key = self.name.removesuffix("_followup").removesuffix("_events")
        label = _TITLES.get(key, key.replace("_", " ").capitalize())
        what = "Hedges' g" if self.measure == "SMD" else "odds ratio"
        return f"{label} ({what}, {self.timepoint.replace('_', '-')})"

    def _name(self, key: str) -> str:
        names = COMPARATOR_NAMES if self.by == "comparator_class" else CONDITION_NAMES
        return names.get(key, key)

    def table(self) -> pd.DataFrame:
        """Per group: k, estimate, CI, PI, tau^2, I^2, Q and p values.

        A single trial (k = 1) has no heterogeneity and no prediction interval: its tau^2 and
        PI are missing here (metafor reports tau^2 = 0 and a PI equal to the CI; the result
        objects keep those values).
        """
        cols = (
            "k",
            "estimate",
            "ci_low",
            "ci_high",
            "pi_low",
            "pi_high",
            "tau2",
            "i2",
            "q",
            "q_pvalue",
            "pvalue",
        )
        rows = [
            {"group": self._name(g), **{c: getattr(r, c) for c in cols}}
            for g, r in self.results.items()
        ]
        frame = pd.DataFrame(rows, columns=["group", *cols]).set_index("group")
        frame.loc[frame["k"] == 1, ["pi_low", "pi_high", "tau2"]] = np.nan
        return frame

    def shared_trials(self) -> list[str]:
        """Labels of trials that contribute comparisons to more than one group."""
        n = self.effects.groupby("trial_id")[self.by].nunique()
        ids = set(n.index[n > 1])
        return list(dict.fromkeys(self.effects.loc[self.effects["trial_id"].isin(ids), "label"]))

    def leave_one_out(self, group: str) -> pd.DataFrame:
        """Leave-one-out analysis of one group."""
        frame = self.results[group].leave_one_out()
        return frame[["k", "estimate", "ci_low", "ci_high", "tau2", "i2"]]

    def influence(self, group: str) -> pd.DataFrame:
        """metafor-style influence diagnostics for one group."""
        from evidence.meta.sensitivity import influence

        return influence(self.results[group]).to_frame()

    def small_study(self, min_k: int = 10) -> pd.DataFrame:
        """Egger's test, Begg's rank test and trim-and-fill for groups with k >= ``min_k``."""
        from evidence.meta.bias import egger_test, rank_test, trim_and_fill

        rows = []
        for g, r in self.results.items():
            if r.k < min_k:
                continue
            eg, rk = egger_test(r.yi, r.vi), rank_test(r.yi, r.vi)
            tf = trim_and_fill(r.yi, r.vi, method=self.method)
            rows.append(
                {
                    "group": self._name(g),
                    "k": r.k,
                    "egger_z": eg.statistic,
                    "egger_p": eg.pvalue,
                    "begg_tau": rk.tau,
                    "begg_p": rk.pvalue,
                    "trimfill_k0": tf.k0,
                    "trimfill_side": tf.side,
                    "trimfill_estimate": tf.estimate,
                }
            )
        return pd.DataFrame(rows)

    def equivalence(self, margin: float = 0.25) -> pd.DataFrame:
        """TOST equivalence (90% CI) and non-inferiority of each group's pooled effect."""
        from evidence.meta.analyses import equivalence_test

        rows = []
        for g, r in self.results.items():
            eq = equivalence_test(r, margin=margin)
            rows.append({"group": self._name(g), "k": r.k, **eq.to_frame().iloc[0].to_dict()})
        return pd.DataFrame(rows).set_index("group") if rows else pd.DataFrame()

    def moderators(self, min_k: int = 6) -> pd.DataFrame:
        """Meta-regressions on treatment length, internet delivery and risk of bias, each
        reported with its own test (:func:`evidence.review.multiplicity.moderator_table`)."""
        from .multiplicity import moderator_table

        return moderator_table(self, min_k)


def analyse(
    dataset,
    name: str,
    *,
    conditions: tuple[str, ...] | None = None,
    comparators: tuple[str, ...] | None = None,
    by: str = "comparator_class",
    measure: str = "SMD",
    timepoint: str = "post",
    method: str = "REML",
    test: str = "knha",
    rho: float = 0.5,
    outcomes_rule: str = "primary",
) -> Analysis:
    """Select comparisons, aggregate dependent effects, and pool by group.

    Parameters
    ----------
    dataset
        :func:`evidence.review.data.load`'s result.
    name : str
        Name of the analysis (figure and table file names). When ``conditions`` is not given,
        ``name`` must be a key of :data:`CONDITION_GROUPS`, or ``"all"`` for every condition.
    conditions, comparators : tuple of str, optional
        Condition labels and comparator classes to keep (default: all comparator classes).
    by : {"comparator_class", "condition"}
        Grouping of the subgroup analysis.
    measure, timepoint, method, test, rho
        Effect measure (``SMD`` or ``OR``), timepoint, tau^2 estimator, test, and the assumed
        correlation between instruments of one comparison.
    outcomes_rule : {"primary", "construct"}
        The protocol's primary outcome per comparison, or every instrument of the target
        construct aggregated under ``rho`` (sensitivity analysis); see
        :func:`~evidence.review.selection.select_effects`.
    """
    from evidence.meta.analyses import subgroups
    from evidence.meta.pooling import pool

    eff = select_effects(
        dataset, name, conditions=conditions, comparators=comparators, by=by,
        measure=measure, timepoint=timepoint, rho=rho, outcomes_rule=outcomes_rule,
    )  # fmt: skip
    names = COMPARATOR_NAMES if by == "comparator_class" else CONDITION_NAMES
    groups = list(dict.fromkeys(eff[by])) if len(eff) else []
    by_group, results = None, {}
    if len(groups) > 1:
        by_group = subgroups(
            eff["yi"],
            eff["vi"],
            [names.get(g, g) for g in eff[by]],
            method=method,
            test=test,
            labels=eff["label"],
            measure=measure,
        )
        results = {g: by_group.results[names.get(g, g)] for g in groups}
    elif groups:
        results = {
            groups[0]: pool(
                eff["yi"], eff["vi"], method=method, test=test, labels=eff["label"], measure=measure
            )
        }
    return Analysis(name, by, measure, timepoint, method, test, rho, eff, results, by_group)
