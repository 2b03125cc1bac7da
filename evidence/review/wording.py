"""Wording: the plain-language statements written from the numbers of a result or analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .vocabulary import _TITLES, COMPARATOR_NAMES, event_display

__all__ = [
    "METHODS_TEXT",
    "overview_text",
    "conclusion",
    "describe",
    "statements",
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
            f"- {kind}: {_plural(len(e), 'comparison')} from "
            f"{_plural(e['trial_id'].nunique(), 'trial')}, "
            f"{_plural(int(e['n_effects'].sum()), 'effect')} before aggregation; comparators: "
            + ", ".join(f"{COMPARATOR_NAMES.get(g, g)} (k = {r.k})" for g, r in an.results.items())
        )
    text = "This notebook pools:\n\n" + "\n".join(parts)
    rows = getattr(analyses, "rows", None)
    return text if rows is None else text + "\n\n" + accounting_text(rows)


def _plural(n: int, word: str) -> str:
    """``"1 trial"``, ``"2 trials"``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def conclusion(analyses: dict, key: str, protocol=None) -> str:
    """Markdown: the closing paragraph of a condition notebook, written from its own numbers.

    One bullet per analysis (measure x timepoint) with the verdict on each comparison, the same
    sentence the summary-of-findings table at the top of the page gives
    (:func:`evidence.review.certainty.verdict`, with its GRADE certainty); then how much
    evidence the conclusion rests on and whether CBT was compared directly.
    """
    from .certainty import certainty_table
    from .protocol import load_protocol
    from .small_cells import SMALL_K

    name = _TITLES.get(key, key.replace("_", " ").capitalize())
    if not analyses:
        return (
            f"**{name}:** the curated data hold no usable randomized comparison yet, so this "
            "page can conclude nothing about PDT for this condition."
        )
    protocol = protocol or load_protocol()
    table = certainty_table(analyses, protocol, margin=protocol.equivalence_margin)
    parts = [
        f"{an.title}: " + " ".join(table.loc[table["analysis"] == akey, "verdict"])
        for akey, an in analyses.items()
    ]
    ks = [r.k for an in analyses.values() for r in an.results.values()]
    cbt = max((r.k for an in analyses.values() for g, r in an.results.items() if g == "cbt"),
              default=0)  # fmt: skip
    most = max(ks)
    if most >= SMALL_K:
        base = (
            f"The firmest comparison rests on {most} trials; the others on fewer, so their "
            "intervals, and any difference between comparators, are uncertain."
        )
    else:
        base = (
            f"No comparison here reaches five trials (at most {most}), so every estimate is "
            "preliminary and heterogeneity cannot be judged."
        )
    if min(ks) < SMALL_K:
        base += (
            f" With two to {SMALL_K - 1} trials a verdict must hold under every prior of the "
            "protocol's set (the widest Bayesian 95% credible interval); a single trial's "
            "verdict is that trial's."
        )
    if cbt:
        head = (
            f'CBT was compared directly in {_plural(cbt, "trial")}: "the question stays open" '
            'is not "as good as"; only a verdict of "did not differ by more than" says that.'
        )
    else:
        head = (
            "No trial here compares PDT with CBT, so this page cannot say how PDT compares "
            "with the best-studied alternative; comparisons with control conditions show only "
            "whether PDT helps at all."
        )
    bullets = "\n".join(f"- {p}" for p in parts)  # one per measure and timepoint
    return f"**{name}.**\n\n{bullets}\n\n{base} {head}"


def _pct(x: float) -> str:
    return "not estimable" if not np.isfinite(x) else f"{x:.0f}%"


def describe(
    result,
    *,
    effect: str = "g",
    comparator: str = "the comparator",
    reverse: bool = False,
    verdict: str | None = None,
) -> str:
    """A plain-language statement of what a pooled result does and does not show.

    It reports k, the pooled effect with its CI, heterogeneity, the prediction interval and the
    caveats that follow from them (few trials, wide or sign-crossing intervals). The result is
    oriented so that positive favours PDT; ``reverse`` words the numbers as the forest plot
    shows them for a harmful event (natural PDT-vs-comparator odds ratio, -yi). ``verdict``
    (the sentence of :func:`evidence.review.certainty.cell_verdict`) replaces the reading of
    the CI, so that the page states the one verdict of the summary-of-findings table; a single
    trial is "the one trial", never "these trials".

    Examples
    --------
    >>> import evidence as ev
    >>> one = ev.pool([-0.35], [0.007], measure="SMD")
    >>> print(describe(one, comparator="CBT").split(". ")[1])
    The CI excludes zero: CBT did better than PDT in the one trial
    >>> v = "CBT did better than PDT in the one trial (low certainty)."
    >>> print(describe(one, comparator="CBT", verdict=v).split("). ")[1] + ").")
    Verdict: CBT did better than PDT in the one trial (low certainty).
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
    one = k == 1
    where = " in the one trial" if one else ""
    avg = "" if one else "on average "
    if verdict is not None:
        parts.append(f"Verdict: {verdict}")
    elif result.ci_low > 0:  # the orientation of the data: positive favours PDT
        parts.append(f"The CI excludes {null}: {avg}PDT did better than {comparator}{where}.")
    elif result.ci_high < 0:
        parts.append(f"The CI excludes {null}: {avg}{comparator} did better than PDT{where}.")
    else:
        who = "the one trial does" if one else "these trials do"
        parts.append(
            f"The CI includes no effect: {who} not show a difference between PDT and "
            f"{comparator}, which is not the same as showing that there is none."
        )
    if k >= 2:
        pl, ph = shown(result.pi_low, result.pi_high)
        parts.append(
            f"Heterogeneity: I² = {_pct(result.i2)}, τ² = {result.tau2:.3f}; the 95% "
            f"prediction interval for a new trial runs from {pl:.2f} to {ph:.2f}."
        )
        if result.pi_low < 0 < result.pi_high:
            parts.append("A new trial could plausibly find an effect in either direction.")
    if k < 5:
        parts.append(
            "With fewer than five trials, τ² and the prediction interval are very uncertain; "
            "treat this estimate as preliminary."
        )
    return " ".join(parts)


def statements(an, comparator: str | None = None, protocol=None) -> str:
    """Markdown: one plain-language paragraph per group, ending in the group's verdict.

    The verdict is the summary-of-findings table's (:func:`evidence.review.certainty.
    cell_verdict`, with the protocol's equivalence margin), not a reading of its own; for 2 to
    4 trials it holds under every prior of the protocol's set or the question stays open.
    ``protocol`` defaults to ``data/protocol.toml``.
    """
    from .protocol import load_protocol

    if not an:
        return f"No usable {an.measure} comparisons at {an.timepoint}."
    protocol = protocol or load_protocol()
    return "\n\n".join(group_statement(an, g, comparator, protocol=protocol) for g in an.results)


def group_statement(
    an, group, comparator: str | None = None, *, head: bool = True, protocol=None
) -> str:
    """Markdown: the plain-language paragraph of one group of ``an``, ending in its verdict
    (as in :func:`statements`), headed by the comparison in bold unless ``head`` is false."""
    from .certainty import cell_verdict
    from .protocol import load_protocol

    protocol = protocol or load_protocol()
    effect = "g" if an.measure == "SMD" else an.measure
    reverse = an.measure == "OR" and event_display(an).get("reverse", False)
    if reverse:
        effect = "OR (PDT vs comparator; below 1 = fewer events with PDT)"
    if an.by == "comparator_class":
        title, comp = f"PDT vs {an._name(group)}", an._name(group)
    else:
        label = an._name(group)
        title, comp = label[:1].upper() + label[1:], comparator or "the comparator"
    said = cell_verdict(an, group, protocol, comp, margin=protocol.equivalence_margin)[0]
    r = an.results[group]
    text = describe(r, effect=effect, comparator=comp, reverse=reverse, verdict=said)
    return f"**{title}.** {text}" if head else text


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
