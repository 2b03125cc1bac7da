"""Wording: the plain-language statements written from the numbers of a result or analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .vocabulary import COMPARATOR_NAMES, CONDITION_GROUP_NAMES

__all__ = [
    "METHODS_TEXT",
    "conclusion",
    "overview_text",
    "describe",
    "statements",
    "event_display",
    "accounting_text",
]


def overview_text(analyses: dict) -> str:
    """Markdown: how many comparisons and trials an analysis dict (measure -> Analysis) holds."""
    if not analyses:
        rows = getattr(analyses, "rows", None)
        return (
            "**No usable comparisons for this condition in the curated data yet.** Nothing is "
            "pooled below; see `data/README.md` for the trials that were looked at and why "
            "they are not (yet) included."
        ) + ("" if rows is None or not len(rows) else "\n\n" + accounting_text(rows))
    parts = []
    for an in analyses.values():
        e = an.effects
        kind = (
            "continuous outcomes (Hedges' g)" if an.measure == "SMD" else "event outcomes (log OR)"
        )
        kind += f" at {an.timepoint.replace('_', '-')}"
        parts.append(
            f"- {kind}: {len(e)} comparisons from {e['trial_id'].nunique()} trials, "
            f"{int(e['n_effects'].sum())} effects before aggregation; comparators: "
            + ", ".join(f"{COMPARATOR_NAMES.get(g, g)} (k = {r.k})" for g, r in an.results.items())
        )
    text = "This notebook pools:\n\n" + "\n".join(parts)
    rows = getattr(analyses, "rows", None)
    return text if rows is None else text + "\n\n" + accounting_text(rows)


def _pct(x: float) -> str:
    return "not estimable" if not np.isfinite(x) else f"{x:.0f}%"


def describe(
    result, *, effect: str = "g", comparator: str = "the comparator", reverse: bool = False
) -> str:
    """A plain-language statement of what a pooled result does and does not show.

    It reports k, the pooled effect with its CI, heterogeneity, the prediction interval and the
    caveats that follow from them (few trials, wide or sign-crossing intervals). The result is
    oriented so that positive favours PDT; ``reverse`` words the numbers as the forest plot
    shows them for a harmful event (natural PDT-vs-comparator odds ratio, -yi).
    """
    k = result.k
    ratio = getattr(result, "measure", None) in ("OR", "RR")
    sign = -1.0 if reverse else 1.0

    def shown(a: float, b: float) -> tuple[float, float]:
        a, b = sorted((sign * a, sign * b))
        return (np.exp(a), np.exp(b)) if ratio else (a, b)

    est = np.exp(sign * result.estimate) if ratio else sign * result.estimate
    lo, hi = shown(result.ci_low, result.ci_high)
    null = "1" if ratio else "zero"
    parts = [
        f"{k} trial comparison{'s' if k != 1 else ''}; {'pooled ' if k > 1 else ''}{effect} = "
        f"{est:.2f} "
        f"(95% CI {lo:.2f} to {hi:.2f})."
    ]
    if result.ci_low > 0:  # the orientation of the data: positive favours PDT
        parts.append(f"The CI excludes {null}: on average PDT did better than {comparator}.")
    elif result.ci_high < 0:
        parts.append(f"The CI excludes {null}: on average {comparator} did better than PDT.")
    else:
        parts.append(
            f"The CI includes no effect: these trials do not show a difference between PDT and "
            f"{comparator}, which is not the same as showing that there is none."
        )
    if k >= 2:
        pl, ph = shown(result.pi_low, result.pi_high)
        parts.append(
            f"Heterogeneity: I^2 = {_pct(result.i2)}, tau^2 = {result.tau2:.3f}; the 95% "
            f"prediction interval for a new trial runs from {pl:.2f} to {ph:.2f}."
        )
        if result.pi_low < 0 < result.pi_high:
            parts.append("A new trial could plausibly find an effect in either direction.")
    if k < 5:
        parts.append(
            "With fewer than five trials, tau^2 and the prediction interval are very uncertain; "
            "treat this estimate as preliminary."
        )
    return " ".join(parts)


def statements(an, comparator: str | None = None) -> str:
    """Markdown: one plain-language paragraph per group."""
    effect = "g" if an.measure == "SMD" else an.measure
    reverse = an.measure == "OR" and event_display(an).get("reverse", False)
    if reverse:
        effect = "OR (PDT vs comparator; below 1 = fewer events with PDT)"
    if not an:
        return f"No usable {an.measure} comparisons at {an.timepoint}."
    out = []
    for g, r in an.results.items():
        if an.by == "comparator_class":
            head, comp = f"PDT vs {an._name(g)}", an._name(g)
        else:
            label = an._name(g)
            head, comp = label[:1].upper() + label[1:], comparator or "the comparator"
        text = describe(r, effect=effect, comparator=comp, reverse=reverse)
        out.append(f"**{head}.** " + text)
    return "\n\n".join(out)


def event_display(an) -> dict:
    """Forest settings of an event outcome: the event named; a harmful event (every effect
    has ``higher_is_better`` false) shown as the natural PDT-vs-comparator odds ratio."""
    e = an.effects
    out = {}
    if "construct" in e and e["construct"].notna().all():
        out["event"] = " or ".join(dict.fromkeys("; ".join(e["construct"]).split("; ")))
    hib = e["higher_is_better"] if "higher_is_better" in e else pd.Series(dtype=object)
    if len(hib) and hib.notna().all() and not hib.astype(bool).any():
        out["reverse"] = True
    return out


def accounting_text(rows: pd.DataFrame, scope: str = "of this page's conditions") -> str:
    """Markdown: how many outcome rows are pooled and each one that is not, with its reason."""
    missing = rows[rows["pooled_in"] == ""]
    n, k, m = len(rows), len(rows) - len(missing), len(missing)
    text = (
        f"**Outcome rows {scope}:** {n}; {k} enter at least one pooled analysis, "
        f"{m} {'does' if m == 1 else 'do'} not"
    )
    if missing.empty:
        return text + "."
    items = "\n".join(
        f"- {r.study}, {r.instrument} ({r.timepoint.replace('_', ' ')}): {r.reason}"
        for r in missing.itertuples()
    )
    return text + ":\n\n" + items


#: How every condition page's effects are oriented and aggregated (its opening paragraph).
METHODS_TEXT = (
    "All effects are oriented so that **positive values favour psychodynamic therapy (PDT)**. "
    "Continuous outcomes are Hedges' g; event outcomes are log odds ratios, shown as the natural "
    "odds ratio (PDT vs comparator) where the event is harmful. Several instruments reported for "
    "one comparison are first combined into one effect (compound symmetry with an assumed "
    "correlation `RHO`), so that no trial counts twice within a pooled estimate. Every step "
    "below is one call into the `evidence` library; the statistics live there, checked against "
    "metafor."
)
_CAVEATS = (
    "Risk of bias is shown as the sources rate it; the moderator analyses are observational "
    "comparisons across trials, not randomized evidence."
)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _verdicts(an) -> list[str]:
    """One clause per verdict over the groups of an analysis, with the numbers behind it."""
    reverse = an.measure == "OR" and event_display(an).get("reverse", False)
    sign = -1.0 if reverse else 1.0
    effect = "g" if an.measure == "SMD" else "OR"
    if an.measure == "OR" and event_display(an).get("event"):
        effect = f"OR of {event_display(an)['event']}"

    def number(r) -> str:
        lo, hi = sorted((sign * r.ci_low, sign * r.ci_high))
        est = sign * r.estimate
        if an.measure == "OR":
            est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
        return f"{effect} = {est:.2f} [{lo:.2f}, {hi:.2f}], k = {r.k}"

    sides = {"better": [], "worse": [], "none": []}
    for g, r in an.results.items():
        side = "better" if r.ci_low > 0 else "worse" if r.ci_high < 0 else "none"
        sides[side].append(f"{an._name(g)} ({number(r)})")
    out = []
    if sides["better"]:
        out.append("PDT did better on average than " + "; ".join(sides["better"]))
    if sides["worse"]:
        out.append("PDT did worse on average than " + "; ".join(sides["worse"]))
    if sides["none"]:
        out.append("no difference was shown against " + "; ".join(sides["none"]))
    return out


def conclusion(analyses: dict, key: str) -> str:
    """Markdown: what one condition group's analyses show, written from their numbers.

    Per analysis (measure and timepoint): the comparators PDT did better or worse than, or
    showed no difference against (with the estimate, CI and k), how many estimates rest on
    fewer than five comparisons, and whether a new trial could find either direction.
    """
    name = CONDITION_GROUP_NAMES.get(key, key)
    if not analyses:
        return f"The curated data hold no usable comparisons for {name} yet: nothing is concluded."
    paras = []
    for label, an in analyses.items():
        measure, _, timepoint = label.partition(" ")
        kind = "Continuous outcomes" if measure == "SMD" else "Event outcomes"
        n, trials = len(an.effects), an.effects["trial_id"].nunique()
        counts = f"{n} comparison{'s' * (n != 1)}, {trials} trial{'s' * (trials != 1)}"
        text = f"**{kind} at {timepoint}** ({counts}): "
        text += "; ".join(_verdicts(an)) + "."
        few = [an._name(g) for g, r in an.results.items() if r.k < 5]
        if few:
            which = (
                "Every estimate here rests"
                if len(few) == len(an.results)
                else f"{len(few)} of {len(an.results)} estimates ({', '.join(few)}) rest"
            )
            text += (
                f" {which} on fewer than five comparisons: such estimates say what those few "
                "trials found, not what PDT does in general."
            )
        cross = [
            an._name(g) for g, r in an.results.items() if r.k >= 2 and r.pi_low < 0 < r.pi_high
        ]
        if cross:
            text += (
                f" Against {_and(cross)}, the 95% prediction interval includes no effect: a "
                "new trial could find a difference in either direction."
            )
        paras.append(text)
    paras.append(_CAVEATS)
    return f"For {name}:\n\n" + "\n\n".join(paras)
