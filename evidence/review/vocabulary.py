"""Names the report uses: comparator classes, condition groups, their display order and
readable names, and the columns that describe a comparison."""

from __future__ import annotations

import pandas as pd

__all__ = [
    "COMPARATOR_ORDER",
    "COMPARATOR_NAMES",
    "COMPARATOR_FAMILIES",
    "SECONDARY_FAMILIES",
    "CONDITION_NAMES",
    "CONDITION_GROUPS",
    "EFFECT_COLUMNS",
    "event_display",
]


#: Display order of comparator classes in tables and subgroup plots.
COMPARATOR_ORDER = (
    "cbt",
    "other_psychotherapy",
    "medication",
    "usual_care",
    "placebo_attention",
    "other_control",
    "waitlist",
    "add_on",
)


#: Readable names of the comparator classes (plots, tables, statements).
COMPARATOR_NAMES = {
    "cbt": "CBT",
    "other_psychotherapy": "other psychotherapy",
    "medication": "medication",
    "usual_care": "usual care",
    "placebo_attention": "placebo or attention control",
    "other_control": "other control",
    "waitlist": "waitlist",
    "add_on": "X alone (add-on design: PDT + X vs X)",
}


#: Comparator families of the headline analyses: one comparator class each, never lumped
#: (the protocol's rule, data/protocol.toml). "vs any control" is only :data:`SECONDARY_FAMILIES`.
COMPARATOR_FAMILIES = {c: (c,) for c in COMPARATOR_ORDER}

#: Summaries that lump classes: secondary lines only, labelled as such wherever they are shown.
SECONDARY_FAMILIES = {
    "any_control": ("usual_care", "placebo_attention", "other_control", "waitlist"),
}


#: Readable names of the condition labels.
CONDITION_NAMES = {
    "depression": "depression",
    "panic": "panic disorder",
    "social_anxiety": "social anxiety disorder",
    "generalized_anxiety": "generalized anxiety disorder",
    "ptsd": "PTSD",
    "borderline_pd": "borderline personality disorder",
    "other_personality_disorder": "other personality disorders",
    "anorexia_nervosa": "anorexia nervosa",
    "bulimia_nervosa": "bulimia nervosa",
    "somatic_symptom": "somatic symptoms",
    "self_harm": "self-harm and suicidality",
    "substance_use": "substance use",
    "mixed_common_mental": "mixed common mental disorders",
}


#: Headings of analyses whose name is not a plain word (see :attr:`Analysis.title`).
_TITLES = {
    "ptsd": "PTSD",
    "self_harm": "Self-harm and suicidality",
    "anxiety": "Anxiety disorders",
    "personality": "Personality disorders",
    "eating": "Eating disorders",
    "somatic": "Somatic symptoms",
    **{f"headline_{c}": f"PDT vs {n}" for c, n in COMPARATOR_NAMES.items()},
    **{c: n[:1].upper() + n[1:] for c, n in CONDITION_NAMES.items()},
    "headline_cbt": "PDT vs CBT",
    "headline_add_on": "PDT added to X vs X alone (add-on designs)",
    "headline_any_control": "PDT vs any control (secondary: lumps different controls)",
}


CONDITION_GROUPS = {
    "depression": ("depression",),
    "anxiety": ("panic", "social_anxiety", "generalized_anxiety"),
    "ptsd": ("ptsd",),
    "personality": ("borderline_pd", "other_personality_disorder"),
    "eating": ("anorexia_nervosa", "bulimia_nervosa"),
    "somatic": ("somatic_symptom",),
    "self_harm": ("self_harm",),
}


#: Columns that describe a comparison (identical on all its outcome rows) and are kept as is.
_COMPARISON_COLUMNS = (
    "trial_id",
    "study",
    "year",
    "condition",
    "comparator_class",
    "comparator",
    "pdt_variant",
    "format",
    "sessions",
    "rob",
)


#: Columns shown for the comparisons of an analysis.
EFFECT_COLUMNS = [
    "label",
    "condition",
    "comparator",
    "comparator_class",
    "pdt_variant",
    "sessions",
    "format",
    "rob",
    "n_comparisons",
    "n_effects",
    "instruments",
    "yi",
    "vi",
]


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
