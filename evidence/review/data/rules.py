"""The cross-field validation rules (stage 1, **data**: checks across fields and tables).

Each rule is a small function of the validated tables (a dict table name -> frame) that adds
problems; :data:`RULES` runs them in order. A rule sees numbers as floats (NaN where a cell is
empty).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .problems import _Problems
from .reading import READING_RULES

_SOURCE_PREFIXES = ("metapsy:", "doi:", "pmid:", "url:")
_FORMS = {
    "msd": ("n1", "mean1", "sd1", "n2", "mean2", "sd2"),
    "change": ("n1", "mean1", "sd1", "n2", "mean2", "sd2"),
    "events": ("n1", "events1", "n2", "events2"),
    "reported": ("reported_measure", "reported_estimate", "reported_orientation"),
}
_GROUPS = {
    "means": ("mean1", "sd1", "mean2", "sd2"),
    "events": ("events1", "events2"),
    "reported": ("reported_measure", "reported_estimate", "reported_orientation"),
}


def _foreign(
    p: _Problems, frame: pd.DataFrame, column: str, target: pd.DataFrame, key: str, what: str
) -> None:
    bad = frame[column].notna() & ~frame[column].isin(target[key])
    p.rows(frame, bad, column, "reference exists", f"expected the id of a {what}")


def _rule_trial_citation(t: dict, p: _Problems) -> None:
    trials = t["trials"]
    cited = trials[["doi", "pmid", "reference"]].notna().any(axis=1)
    p.rows(trials, ~cited, "reference", "citation", "a trial needs a DOI, PMID or full reference")


def _rule_trial_year(t: dict, p: _Problems) -> None:
    trials, this_year = t["trials"], date.today().year
    p.rows(
        trials,
        trials["year"] > this_year,
        "year",
        "year <= this year",
        f"year must be a publication year no later than {this_year}",
    )


def _rule_arms(t: dict, p: _Problems) -> None:
    arms = t["arms"]
    _foreign(p, arms, "trial_id", t["trials"], "trial_id", "trial in trials.csv")
    pdt = arms["arm_class"] == "psychodynamic"
    p.filled_where(
        arms,
        pdt,
        "pdt_variant",
        ("PDT arm has a variant", "only PDT arms have a variant"),
        "a psychodynamic arm needs a pdt_variant ('unspecified' if the source is silent)",
        "pdt_variant must be empty for a comparator arm",
    )


#: ``arms.delivery`` -> the coarse ``arms.format`` it determines (empty: not reported).
_COARSE_FORMAT = {
    "individual": "individual",
    "group": "group",
    "internet_guided": "internet",
    "internet_unguided": "internet",
    "telephone": "telephone",
    "mixed": "mixed",
}


def _rule_delivery(t: dict, p: _Problems) -> None:
    """``format`` is the coarse form of ``delivery``; ``delivery_source`` names where a reported
    delivery comes from and is empty for ``not_reported``."""
    arms = t["arms"]
    coarse = arms["delivery"].map(_COARSE_FORMAT)
    same = (coarse.isna() & arms["format"].isna()) | (coarse == arms["format"])
    p.rows(
        arms,
        arms["delivery"].notna() & ~same,
        "format",
        "format follows delivery",
        "format must be the coarse form of delivery (internet_guided/internet_unguided -> "
        "internet; empty for not_reported)",
        got=arms["format"].fillna("").astype(str) + " with delivery " + arms["delivery"].fillna(""),
    )
    p.filled_where(
        arms,
        arms["delivery"].notna() & (arms["delivery"] != "not_reported"),
        "delivery_source",
        ("delivery has a source", "delivery has a source"),
        "a reported delivery needs its delivery_source",
        "delivery_source must be empty when delivery is not_reported",
    )


def _rule_comparisons(t: dict, p: _Problems) -> None:
    comps, arms = t["comparisons"], t["arms"]
    _foreign(p, comps, "trial_id", t["trials"], "trial_id", "trial in trials.csv")
    _foreign(p, comps, "arm1_id", arms, "arm_id", "arm in arms.csv")
    _foreign(p, comps, "arm2_id", arms, "arm_id", "arm in arms.csv")
    by_id = arms.drop_duplicates("arm_id").set_index("arm_id")
    for col in ("arm1_id", "arm2_id"):
        other = comps[col].map(by_id["trial_id"])
        p.rows(
            comps,
            other.notna() & (other != comps["trial_id"]),
            col,
            "arm belongs to the trial",
            "expected an arm of this comparison's trial",
        )
    cls1, cls2 = comps["arm1_id"].map(by_id["arm_class"]), comps["arm2_id"].map(by_id["arm_class"])
    p.rows(
        comps,
        cls1.notna() & (cls1 != "psychodynamic"),
        "arm1_id",
        "arm 1 is PDT",
        "arm 1 must be a psychodynamic arm",
    )
    p.rows(
        comps,
        cls2 == "psychodynamic",
        "arm2_id",
        "arm 2 is a comparator",
        "arm 2 must be a comparator (not psychodynamic) arm",
    )


def _rule_outcome_references(t: dict, p: _Problems) -> None:
    out = t["outcomes"]
    _foreign(p, out, "comparison_id", t["comparisons"], "comparison_id", "comparison")
    _foreign(p, out, "instrument", t["instruments"], "instrument", "instrument in instruments.csv")
    exc = t["exclusions"]
    _foreign(p, exc, "duplicate_of", t["comparisons"], "comparison_id", "comparison")


def _rule_outcome_forms(t: dict, p: _Problems) -> None:
    out = t["outcomes"]
    src = out["source"].fillna("")
    p.rows(
        out,
        ~src.str.startswith(_SOURCE_PREFIXES),
        "source",
        "source prefix",
        f"source must start with one of {', '.join(_SOURCE_PREFIXES)}",
    )
    filled = {g: out[list(cols)].notna() for g, cols in _GROUPS.items()}
    partial_rows = pd.Series(False, index=out.index)
    for g, mask in filled.items():
        partial = mask.any(axis=1) & ~mask.all(axis=1)
        for col in mask.columns:  # every missing cell of a partly filled form
            p.rows(
                out,
                partial & out[col].isna(),
                col,
                "complete statistics form",
                f"the {g} form needs {', '.join(_GROUPS[g])}",
            )
        partial_rows |= partial
    n_forms = sum(m.all(axis=1).astype(int) for m in filled.values())
    p.rows(
        out,
        ~partial_rows & (n_forms != 1),
        "stats_form",
        "exactly one statistics form",
        "exactly one of means/SDs, events or a reported effect must be filled",
        got=n_forms.astype(str) + " forms",
    )
    form = pd.Series(
        np.select(
            [filled["means"].all(axis=1), filled["events"].all(axis=1)],
            ["means", "events"],
            "reported",
        ),
        index=out.index,
    )
    declared = out["stats_form"].map({"msd": "means", "change": "means"}).fillna(out["stats_form"])
    p.rows(
        out,
        ~partial_rows & (n_forms == 1) & (form != declared),
        "stats_form",
        "statistics form matches the filled columns",
        "stats_form must name the form whose columns are filled",
        got=out["stats_form"].astype(str) + " with " + form + " columns filled",
    )


def _rule_outcome_counts(t: dict, p: _Problems) -> None:
    out = t["outcomes"]
    need_n = out["stats_form"].isin(["msd", "change", "events"])
    for col in ("n1", "n2"):
        p.rows(
            out,
            need_n & out[col].isna(),
            col,
            "required for this form",
            f"{col} (arm size) must be given for means or events",
        )
        p.rows(out, out[col] < 2, col, "n >= 2", f"{col} must be an integer >= 2")
    for col in ("sd1", "sd2"):
        p.rows(out, out[col].notna() & ~(out[col] > 0), col, "SD > 0", f"{col} must be > 0")
    for e, n in (("events1", "n1"), ("events2", "n2")):
        p.rows(out, out[e] > out[n], e, "events <= n", f"{e} must be an integer <= {n}")
    n_rand = t["trials"].drop_duplicates("trial_id").set_index("trial_id")["n_randomised"]
    trial = out["comparison_id"].map(
        t["comparisons"].drop_duplicates("comparison_id").set_index("comparison_id")["trial_id"]
    )
    total = trial.map(n_rand)
    p.rows(
        out,
        total.notna() & (out["n1"] + out["n2"] > total),
        "n1",
        "n within the randomised total",
        "n1 + n2 must not exceed the trial's n_randomised in trials.csv",
        got=(out["n1"] + out["n2"]).map("{:g}".format) + " > " + total.map("{:g}".format),
    )


def _rule_reported(t: dict, p: _Problems) -> None:
    out = t["outcomes"]
    rep = out["stats_form"] == "reported"
    lo, hi, est, se = (
        out[c] for c in ("reported_ci_low", "reported_ci_high", "reported_estimate", "reported_se")
    )
    spread = (lo.notna() & hi.notna()) | se.notna()
    p.rows(
        out,
        rep & ~spread,
        "reported_se",
        "CI or SE given",
        "a reported effect needs a CI (low and high) or an SE",
    )
    p.rows(
        out,
        rep & lo.notna() & hi.isna(),
        "reported_ci_high",
        "CI or SE given",
        "reported_ci_high must be given with reported_ci_low",
    )
    p.rows(
        out,
        rep & hi.notna() & lo.isna(),
        "reported_ci_low",
        "CI or SE given",
        "reported_ci_low must be given with reported_ci_high",
    )
    p.rows(out, rep & se.notna() & ~(se > 0), "reported_se", "SE > 0", "reported_se must be > 0")
    ratio = rep & (out["reported_measure"] == "OR")
    p.rows(
        out,
        ratio & ~(est > 0),
        "reported_estimate",
        "ratio > 0",
        "a reported OR must be > 0 (give it on the ratio scale, not as log OR)",
    )
    p.rows(
        out,
        ratio & lo.notna() & ~(lo > 0),
        "reported_ci_low",
        "ratio > 0",
        "the CI of a reported OR must be > 0 (ratio scale)",
    )
    both = rep & lo.notna() & hi.notna()
    p.rows(
        out,
        both & ~(hi > lo),
        "reported_ci_high",
        "CI upper > lower",
        "reported_ci_high must be above reported_ci_low",
    )
    inside = (lo <= est) & (est <= hi)
    p.rows(
        out,
        both & (hi > lo) & est.notna() & ~inside,
        "reported_estimate",
        "estimate inside its CI",
        "reported_estimate must lie between the CI limits",
        got=out["reported_estimate"].map("{:g}".format)
        + " outside "
        + lo.map("{:g}".format)
        + " to "
        + hi.map("{:g}".format),
    )


def _rule_identifiers(t: dict, p: _Problems) -> None:
    """A DOI or PMID is marked verified (true) or unverified (false); no mark without one."""
    trials = t["trials"]
    has_id = trials[["doi", "pmid"]].notna().any(axis=1)
    p.filled_where(
        trials,
        has_id,
        "id_verified",
        ("identifier marked", "identifier marked"),
        "a DOI/PMID needs id_verified true (found in the sources) or false (unverified)",
        "id_verified must be empty when there is no DOI or PMID",
    )


def _rule_alt_class(t: dict, p: _Problems) -> None:
    """Comparator detail and alternative class only on comparator arms; alt differs from class."""
    arms = t["arms"]
    pdt = arms["arm_class"] == "psychodynamic"
    for col in ("alt_class", "comparator_detail"):
        p.rows(
            arms,
            pdt & arms[col].notna(),
            col,
            "comparator arms only",
            f"{col} must be empty for a PDT arm",
        )
    same = arms["alt_class"].notna() & (arms["alt_class"] == arms["arm_class"])
    p.rows(arms, same, "alt_class", "alternative differs", "alt_class must differ from arm_class")


def _rule_flags_and_times(t: dict, p: _Problems) -> None:
    """A flag needs its reason (and a reason its flag); time_weeks, when given, is positive."""
    out = t["outcomes"]
    p.rows(
        out,
        out["flag"].notna() & out["flag_reason"].isna(),
        "flag_reason",
        "flag has a reason",
        "a flagged row needs a flag_reason",
    )
    p.rows(
        out,
        out["flag"].isna() & out["flag_reason"].notna(),
        "flag",
        "flag has a reason",
        "flag_reason given without a flag",
    )
    p.rows(
        out,
        out["time_weeks"].notna() & ~(out["time_weeks"] > 0),
        "time_weeks",
        "time_weeks > 0",
        "time_weeks must be positive (leave it empty when not reported)",
    )


#: Cross-field rules, run in order after every table passed its schema.
RULES = (
    _rule_trial_citation,
    _rule_trial_year,
    _rule_identifiers,
    _rule_arms,
    _rule_delivery,
    _rule_alt_class,
    _rule_comparisons,
    _rule_outcome_references,
    _rule_flags_and_times,
    _rule_outcome_forms,
    _rule_outcome_counts,
    _rule_reported,
    *READING_RULES,
)
