"""Notebook sections: one call per section, so that the condition notebooks share one
implementation."""

from __future__ import annotations

import pandas as pd

from .analysis import Analysis
from .followups import rho_sensitivity, sensitivity_scenarios
from .output import forest, save_plot, save_table, show_items
from .vocabulary import COMPARATOR_NAMES, COMPARATOR_ORDER, CONDITION_NAMES, EFFECT_COLUMNS
from .wording import METHODS_TEXT, conclusion, group_statement, overview_text, statements

__all__ = [
    "show_introduction",
    "show_sections",
    "show_scenarios",
    "show_conclusion",
    "show_comparisons",
    "show_forests",
    "show_pooled",
    "show_sensitivity",
    "show_small_study",
    "show_moderators",
]


def _table(frame: pd.DataFrame, an: Analysis, **kwargs):
    """``frame`` formatted for reading, on the analysis' effect scale (g, or OR for events)."""
    from .tables import format_table

    return format_table(frame, scale="g" if an.measure == "SMD" else "OR", **kwargs)


def show_comparisons(analyses: dict) -> None:
    """Section: the aggregated comparisons, one table per measure."""
    for an in analyses.values():
        e = an.effects[EFFECT_COLUMNS].assign(
            condition=an.effects["condition"].map(lambda c: CONDITION_NAMES.get(c, c)),
            comparator_class=an.effects["comparator_class"].map(
                lambda c: COMPARATOR_NAMES.get(c, c)
            ),
            pdt_variant=an.effects["pdt_variant"].str.replace("_", " "),
        )
        vi = "variance (log OR)" if an.measure == "OR" else "variance"
        show_items(f"**{an.title}**", _table(e, an, labels={"vi": vi}))


def show_forests(analyses: dict) -> None:
    """Section: forest plots by comparator class (also saved to figures/)."""
    for an in analyses.values():
        forest(an)


def show_pooled(analyses: dict) -> None:
    """Section: one short subsection per comparator class with what its pooled estimates say
    (each measure and timepoint), then the tables of pooled estimates, heterogeneity and PIs
    (saved to results/; folded on the site)."""
    by_class: dict[str, list] = {}
    for an in analyses.values():
        save_table(an.table(), f"{an.name}_by_comparator")
        if an.by == "comparator_class":
            for g in an.results:
                by_class.setdefault(g, []).append(an)
        else:
            show_items(statements(an))
    order = {c: i for i, c in enumerate(COMPARATOR_ORDER)}
    for g in sorted(by_class, key=lambda c: order.get(c, len(order))):
        name = COMPARATOR_NAMES.get(g, g)
        paragraphs = [f"*{an.title}*: {group_statement(an, g, head=False)}" for an in by_class[g]]
        show_items(f"### PDT vs {name}\n\n" + "\n\n".join(paragraphs))
    tables = [
        item
        for an in analyses.values()
        for item in (f"**{an.title}**", _table(an.table(), an, labels={"group": "Comparator"}))
    ]
    show_items(*tables, fold="Show the pooled estimates, heterogeneity and prediction intervals")


def show_sensitivity(analyses: dict, min_k: int = 3) -> None:
    """Section: leave-one-out and influence diagnostics for the largest comparator class."""
    for an in analyses.values():
        group = an.largest_group
        if an.results[group].k < min_k:
            show_items(
                f"**{an.title}**: fewer than {min_k} comparisons in every class; "
                "leave-one-out is not informative."
            )
            continue
        show_items(
            f"**{an.title}: PDT vs {COMPARATOR_NAMES.get(group, group)}**",
            _table(an.leave_one_out(group), an, labels={"study": "Trial left out"}),
            _table(an.influence(group), an, labels={"study": "Trial"}),
        )


def show_small_study(analyses: dict, min_k: int = 10) -> None:
    """Section: small-study tests and trim-and-fill funnel plots (saved as
    ``figures/<name>_<group>_funnel``) where a class has at least ``min_k`` comparisons."""
    from evidence.meta.bias import trim_and_fill

    for an in analyses.values():
        ss = an.small_study(min_k)
        if len(ss):
            show_items(_table(ss, an))
            for g, res in an.results.items():
                if res.k >= min_k:
                    tf = trim_and_fill(res, method=an.method)
                    title = (
                        f"{an._name(g)[:1].upper()}{an._name(g)[1:]}, {an.title}: "
                        f"trim-and-fill ({an.method}) imputes {tf.k0} on the {tf.side}"
                    )
                    save_plot(tf.funnel_plot(title=title), f"{an.name}_{g}_funnel")
        else:
            show_items(
                f"**{an.title}**: no class has {min_k} or more comparisons; "
                "small-study tests not run."
            )


def show_moderators(dataset, analyses: dict) -> None:
    """Section: meta-regressions and the sensitivity of the pooled estimates to rho."""
    from .multiplicity import moderator_report
    from .tables import format_table

    for an in analyses.values():
        # coefficients and estimates stay on the model's scale, which the header names
        scale = "g" if an.measure == "SMD" else "log OR"
        rho = rho_sensitivity(dataset, an)
        show_items(
            f"**{an.title}**",
            moderator_report(an),  # each moderator's own test (issue 9)
            f"Pooled estimate ({scale}) by assumed correlation rho:",
            format_table(rho.rename(columns=lambda r: f"rho = {r:g}"), scale=scale),
        )


#: The standard sections of a condition page: (heading, what it shows, the call that shows it).
_SECTIONS = (
    (
        "The comparisons",
        "One row per trial comparison after aggregation: comparator, PDT variant, number of PDT "
        "sessions, format, risk of bias as the source gives it, and how many effects were "
        "combined.",
        lambda data, analyses, key: show_comparisons(analyses),
    ),
    ("Forest plots by comparator class", "", lambda data, analyses, key: show_forests(analyses)),
    (
        "What each comparison shows",
        "One short section per comparator class: the pooled estimate of each measure and "
        "timepoint in words (the forest plots above show the trials; the tables of pooled "
        "estimates, heterogeneity and prediction intervals are folded below).",
        lambda data, analyses, key: show_pooled(analyses),
    ),
    (
        "Bayesian estimates for small cells",
        "The protocol's rule (methods page): where a comparator class has fewer than 5 "
        "comparisons, the Bayesian random-effects estimate (posterior median, 95% credible "
        "interval, prior on \u03c4 named in the footnote) is shown beside the REML + Knapp-Hartung "
        "one and its statement below replaces the frequentist one above; with 5 or more, both "
        "estimates are in the table and the statement above stands. P(PDT better) is the "
        "posterior probability that PDT is better on average (g > 0, OR > 1).",
        lambda data, analyses, key: _bayes_cells(analyses),
    ),
    (
        "Many comparisons, one dataset",
        "Each p-value above is stated alone, but this page makes several claims from one "
        "dataset. The table lists every pooled comparison of the page (each comparator class, "
        "measure and timepoint) with its p-value unadjusted, adjusted by Holm's step-down method "
        "(family-wise error rate; the primary view) and by Benjamini-Hochberg (false discovery "
        "rate; secondary).",
        lambda data, analyses, key: _multiplicity(analyses, key),
    ),
    (
        "Does one trial drive the result?",
        "Leave-one-out estimates and influence diagnostics (metafor's `influence()`) for the "
        "comparator class with the most trials.",
        lambda data, analyses, key: show_sensitivity(analyses),
    ),
    (
        "Small-study effects",
        "Egger's regression test, Begg's rank test and trim-and-fill are computed only for "
        "classes with at least 10 comparisons; with fewer, these tests cannot tell bias from "
        "chance.",
        lambda data, analyses, key: show_small_study(analyses),
    ),
    (
        "Moderators and dependent effects",
        "Meta-regressions on treatment length (brief, up to 30 sessions, vs long-term, 50 or "
        "more), internet vs face-to-face delivery and risk of bias (with comparator class as a "
        "covariate), and the pooled estimates under other assumed correlations between "
        "instruments.",
        lambda data, analyses, key: show_moderators(data, analyses),
    ),
)
#: Sections folded on the site (closed by default; diagnostics a student may skip): heading ->
#: the text of the toggle.
_FOLDED = {
    "The comparisons": "Show the table of comparisons",
    "Bayesian estimates for small cells": "Show the Bayesian estimate of each small cell",
    "Many comparisons, one dataset": "Show the p-values adjusted for multiplicity",
    "Does one trial drive the result?": "Show leave-one-out and influence diagnostics",
    "Small-study effects": "Show the small-study tests",
    "Moderators and dependent effects": "Show the moderator and correlation analyses",
}
#: What the sensitivity scenarios change (shown above the table of every condition page).
_SCENARIOS_TEXT = (
    "Pooled g at post by comparator class, as classified and with: the alternative "
    "classification of judgement-call comparators (their alternative class in `data/arms.csv`), "
    "add-on "
    "designs (PDT + X vs X) left out, and rows flagged suspect left out. Only scenarios that "
    "change this page's trials are pooled; the `changed` column names the trials that moved or "
    "left."
)


def show_introduction(analyses: dict) -> None:
    """Page opening: how effects are oriented and aggregated, and what this page pools."""
    text = overview_text(analyses)
    pooled, _, rows = text.partition("\n\n**Outcome rows")
    show_items(METHODS_TEXT, pooled, unfold=True)
    if rows:  # the row-by-row accounting is for researchers: folded on the site
        show_items(f"**Outcome rows{rows}", fold="Show which outcome rows are pooled, and why")


def _bayes_cells(analyses: dict) -> None:
    from .bayes_report import show_small_cells

    show_small_cells(analyses)


def _multiplicity(analyses: dict, key: str) -> None:
    from .multiplicity import show_multiplicity

    show_multiplicity(analyses, key)


def show_sections(data, analyses: dict, key: str) -> None:
    """The standard sections of condition page ``key``, each under its own heading."""
    for heading, text, show in _SECTIONS:
        fold = _FOLDED.get(heading) if analyses else None
        show_items(f"## {heading}" + (f"\n\n{text}" if text else ""), fold=fold)
        if analyses:
            show(data, analyses, key)


def show_scenarios(data, key: str, **settings) -> None:
    """What the sensitivity scenarios change, and their table (see ``sensitivity_scenarios``)."""
    from .tables import format_table

    table = sensitivity_scenarios(data, key, **settings)
    show_items(_SCENARIOS_TEXT)
    show_items(format_table(table, scale="g"), fold="Show the pooled estimates under each scenario")


def show_conclusion(analyses: dict, key: str) -> None:
    """Closing section: the conclusion written from this condition's numbers."""
    show_items(
        "## What this evidence does and does not show\n\nWritten from this page's numbers (the "
        "statements above give the details). Moderator analyses compare trials with each other, "
        "not randomized groups.",
        conclusion(analyses, key),
    )


def show_summary_of_findings(
    analyses: dict, protocol, key: str, *, margin: float, level: int = 2
) -> pd.DataFrame:
    """Show the summary of findings of ``analyses`` (``results/<key>_certainty.csv``) with the
    verdicts, under a heading of ``level``; return the numbers."""
    from .certainty import certainty_table, sof_table

    table = certainty_table(analyses, protocol, margin=margin)
    save_table(table, f"{key}_certainty")
    heading = "#" * level + " Summary of findings"
    if table.empty:
        show_items(f"{heading}\n\nNothing is pooled here yet.")
        return table
    sof = sof_table(table)
    verdicts = "\n".join(
        f"- **{c}**: {v}" for c, v in zip(sof["comparison"], sof["verdict"], strict=True)
    )
    show_items(
        f"{heading}\n\nPDT against each comparator, with the certainty of evidence "
        "(GRADE: high, moderate, low, very low). Positive g favours PDT; each odds ratio says "
        "which side favours PDT.",
        sof.drop(columns="verdict"),
        "**Verdicts**, one per comparison, from the interval, the equivalence margin "
        f"(g = {margin:g}) and the certainty:\n\n{verdicts}",
    )
    reasons = table["reasons"].replace("", "no domain takes a level off")
    show_items(
        "**Why each certainty is what it is** (the domains that took levels off, by the "
        "protocol's rules; prediction intervals are in the sections below):",
        pd.DataFrame({"comparison": sof["comparison"], "reasons": reasons}),
        fold="Show why each certainty is what it is",
    )
    return table
