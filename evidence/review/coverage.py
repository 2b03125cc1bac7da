"""Coverage of the review (issue 22): a PRISMA 2020 flow computed from the data, and the trials
the shared notes know of, each included, excluded (with the reason) or not in the open sources.

**The flow** (:func:`prisma_counts`, drawn by :func:`evidence.plots.prisma.prisma_flow`). A
*record* is one source row of a Metapsy database or one trial report (abstract); a *study* is one
trial of ``trials.csv``.

* Metapsy records: ``data/network/comparisons.csv`` and ``exclusions.csv`` hold every row of the
  ten network databases (used or excluded, with the reason); of a database the network does not
  use (depression-anxiety-transdiagnostic) ``data/`` holds only the rows the curated data read.
  Rows the network tool found to report one trial under two labels are *removed before
  screening* (duplicates). The rows the curated data read (``outcomes_metapsy.csv`` takes values
  from them, ``exclusions_metapsy.csv`` excludes them with a reason) are *assessed for
  eligibility*; every other row is *excluded at screening* (no psychodynamic arm).
* Trial reports: the abstracts the curated data use (``outcomes_reports.csv``, one per trial and
  source) and those they exclude (``exclusions_reports.csv``, one per trial named on a row), all
  assessed for eligibility.
* Studies: the trials of ``trials.csv``; pooled in which analysis from
  :func:`~evidence.review.condition.row_accounting`.

Every exclusion row (curated and network) falls into exactly one of
:data:`EXCLUSION_CATEGORIES` (keyword rules on the reason). Each record belongs to one condition
page (the trial's condition where the record names a curated trial, else its database's
condition group), so the pages' counts add up to the overview's.

**The coverage table** (:func:`coverage_table`) joins ``data/published/known_trials.csv`` (the
head-to-head trials the notes name, each row quoted from pdt-trials.md) to the data. A direction
the notes state in words is a *vote* (direction, no size), never an effect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .condition import build_analyses, condition_analyses
from .records import (
    EXCLUSION_CATEGORIES,
    METAPSY,
    REPORTS,
    VOTES,
    _norm,
    _scope,
    coverage_records,
    exclusion_category,
    exclusion_reasons,
    known_trials,
    read_published,
    reading_votes,
)
from .selection import pooled_rows
from .vocabulary import _TITLES, COMPARATOR_NAMES, CONDITION_GROUPS, CONDITION_NAMES

__all__ = [
    "EXCLUSION_CATEGORIES",
    "VOTES",
    "exclusion_category",
    "exclusion_reasons",
    "coverage_records",
    "known_trials",
    "PrismaCounts",
    "prisma_counts",
    "coverage_table",
    "coverage_sentence",
    "votes_sentence",
    "show_coverage",
]

_SCREENED_OUT = "no psychodynamic arm"


# ---------------------------------------------------------------- the counts


def _pairs(series: pd.Series) -> tuple[tuple[str, int], ...]:
    return tuple((str(k), int(v)) for k, v in series.items() if v)


@dataclass(frozen=True)
class PrismaCounts:
    """The boxes of a PRISMA 2020 flow diagram, each count computed from the data.

    Pairs are ``(label, n)``. ``databases``: records identified per Metapsy database;
    ``partial_databases``: those of which ``data/`` holds only the rows the curated data read.
    ``database_excluded``, ``reports_excluded``: reports excluded by reason category.
    ``studies``: trials included per condition; ``analyses``: trials pooled per analysis (a trial
    can be in several); ``not_pooled``: trials in no pooled analysis, by reason.
    """

    scope: str | None
    databases: tuple[tuple[str, int], ...]
    partial_databases: tuple[str, ...]
    duplicates_removed: int
    records_screened: int
    screening_excluded: int
    database_assessed: int
    database_excluded: tuple[tuple[str, int], ...]
    database_included: int
    reports_identified: int
    reports_excluded: tuple[tuple[str, int], ...]
    reports_included: int
    studies: tuple[tuple[str, int], ...]
    studies_pooled: int
    analyses: tuple[tuple[str, int], ...]
    not_pooled: tuple[tuple[str, int], ...]

    @property
    def records_identified(self) -> int:
        """Metapsy records identified (all databases)."""
        return sum(n for _, n in self.databases)

    @property
    def studies_included(self) -> int:
        """Trials included in the review (in this scope)."""
        return sum(n for _, n in self.studies)

    @property
    def reports_of_included(self) -> int:
        """Records that included studies' outcome rows come from (Metapsy rows, trial reports)."""
        return self.database_included + self.reports_included

    def balances(self) -> dict[str, tuple[int, int]]:
        """Each stage as (count in, sum of what leaves it); the two are equal in a valid flow."""
        ex_db = sum(n for _, n in self.database_excluded)
        ex_rep = sum(n for _, n in self.reports_excluded)
        return {
            "records identified": (
                self.records_identified,
                self.duplicates_removed + self.records_screened,
            ),
            "records screened": (
                self.records_screened,
                self.screening_excluded + self.database_assessed,
            ),
            "Metapsy reports assessed": (self.database_assessed, ex_db + self.database_included),
            "trial reports assessed": (self.reports_identified, ex_rep + self.reports_included),
            "studies included": (
                self.studies_included,
                self.studies_pooled + sum(n for _, n in self.not_pooled),
            ),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per box and item: ``stage``, ``source``, ``box``, ``item`` ('' = the box's
        total) and ``n``."""
        rows = [("identification", METAPSY, "Records identified from databases", "", None)]
        rows += [("identification", METAPSY, rows[0][2], db, n) for db, n in self.databases]
        rows[0] = rows[0][:4] + (self.records_identified,)
        rows += [
            ("identification", METAPSY, "Records removed before screening", "duplicate records",
             self.duplicates_removed),
            ("screening", METAPSY, "Records screened", "", self.records_screened),
            ("screening", METAPSY, "Records excluded", _SCREENED_OUT, self.screening_excluded),
            ("screening", METAPSY, "Reports assessed for eligibility", "", self.database_assessed),
            *[("screening", METAPSY, "Reports excluded", k, n) for k, n in self.database_excluded],
            ("identification", REPORTS, "Records identified from trial reports", "",
             self.reports_identified),
            ("screening", REPORTS, "Reports assessed for eligibility", "", self.reports_identified),
            *[("screening", REPORTS, "Reports excluded", k, n) for k, n in self.reports_excluded],
            ("included", METAPSY, "Reports of included studies", "", self.database_included),
            ("included", REPORTS, "Reports of included studies", "", self.reports_included),
            ("included", "", "Studies included in review", "", self.studies_included),
            *[("included", "", "Studies included in review", c, n) for c, n in self.studies],
            ("included", "", "Studies in a pooled analysis", "", self.studies_pooled),
            *[("included", "", "Studies by analysis", a, n) for a, n in self.analyses],
            *[("included", "", "Studies in no pooled analysis", r, n) for r, n in self.not_pooled],
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=["stage", "source", "box", "item", "n"])

    def summary(self) -> str:
        """The flow in a few lines of text."""

        def listed(pairs):
            return ", ".join(f"{k} {n:,}" for k, n in pairs) or "none"

        return "\n".join(
            [
                f"PRISMA 2020 flow ({self.scope or 'all conditions'}); a record is one Metapsy "
                "source row or one trial report, a study one trial",
                f"Records identified from databases: {self.records_identified:,} "
                f"({listed(self.databases)})",
                f"Records removed before screening (duplicates): {self.duplicates_removed:,}",
                f"Records screened: {self.records_screened:,}; excluded ({_SCREENED_OUT}): "
                f"{self.screening_excluded:,}",
                f"Metapsy reports assessed: {self.database_assessed:,}; excluded: "
                f"{listed(self.database_excluded)}; included: {self.database_included:,}",
                f"Trial reports assessed: {self.reports_identified:,}; excluded: "
                f"{listed(self.reports_excluded)}; included: {self.reports_included:,}",
                f"Studies included: {self.studies_included:,} ({listed(self.studies)})",
                f"Studies in a pooled analysis: {self.studies_pooled:,}; in none: "
                f"{listed(self.not_pooled)}",
            ]
        )

    def _repr_html_(self) -> str:
        return f"<pre>{self.summary()}</pre>"


def _check_scope(condition: str | None) -> None:
    if condition is not None and condition not in CONDITION_GROUPS | CONDITION_NAMES:
        raise ValueError(
            f"condition {condition!r} is neither a condition page ({list(CONDITION_GROUPS)}) "
            f"nor a condition ({list(CONDITION_NAMES)})"
        )


def _general_reason(reason: str) -> str:
    return re.sub(
        r"^.+ is not an instrument of the target construct \((.+)\) in the protocol$",
        r"outcome not of the target construct (\1)",
        reason,
    )


def _studies_by_analysis(dataset, trials: pd.Index, analyses) -> tuple:
    """(trials per analysis title, trials pooled in any, trials in none by reason)."""
    acc = pooled_rows(dataset, analyses).assign(trial_id=dataset.outcomes["trial_id"])
    acc = acc[acc["trial_id"].isin(trials)]
    titles = {an.name: an.title for an in analyses}
    per = acc.assign(name=acc["pooled_in"].str.split("; ")).explode("name")
    per = per[per["name"].isin(list(titles))]
    counts = per.groupby("name")["trial_id"].nunique()
    by_analysis = tuple(
        (titles[n], int(counts[n])) for n in titles if n in counts.index and counts[n]
    )
    pooled = set(per["trial_id"])
    rest = acc[~acc["trial_id"].isin(pooled)]
    why = rest.groupby("trial_id")["reason"].agg(
        lambda s: "; ".join(sorted({_general_reason(r) for r in s if r}))
    )
    return by_analysis, len(pooled), _pairs(why.value_counts().sort_index())


def prisma_counts(
    dataset, condition: str | None = None, *, analyses=None, records: pd.DataFrame | None = None
) -> PrismaCounts:
    """The PRISMA 2020 flow of the review (``condition=None``) or of one condition page.

    Parameters
    ----------
    dataset : Dataset
        From :func:`evidence.review.data.load`; the network data are read from its folder.
    condition : str, optional
        A condition page (key of :data:`~evidence.review.CONDITION_GROUPS`) or a condition
        without one (e.g. ``"mixed_common_mental"``); None for every record.
    analyses : iterable of Analysis, optional
        The analyses that "pooled in" refers to; default: everything the build pools (the
        overview) or the page's analyses (:func:`~evidence.review.condition_analyses`).
    records : DataFrame, optional
        :func:`coverage_records` of ``dataset`` (computed when omitted).

    Raises
    ------
    ValueError
        For an unknown ``condition``, or when a stage does not add up (see
        :meth:`PrismaCounts.balances`) or the included records' trials are not the included
        studies: the data contradict themselves, and no diagram is drawn from them.

    Examples
    --------
    >>> from evidence.review.data import load
    >>> c = prisma_counts(load(), "ptsd")
    >>> all(a == b for a, b in c.balances().values())
    True
    >>> c.records_identified == c.duplicates_removed + c.records_screened
    True
    """
    _check_scope(condition)
    recs = coverage_records(dataset) if records is None else records
    trials = dataset.trials
    if condition is not None:
        recs = recs[recs["scope"] == condition]
        trials = trials[trials["condition"].map(_scope) == condition]
    if analyses is None:
        analyses = (
            condition_analyses(dataset, condition).values()
            if condition in CONDITION_GROUPS
            else build_analyses(dataset).values()
        )
    analyses = list(analyses)
    db, rep = recs[recs["source"] == METAPSY], recs[recs["source"] == REPORTS]
    labels = {k: label for k, (label, _) in EXCLUSION_CATEGORIES.items()}

    def reasons(frame):
        ex = frame[frame["stage"] == "excluded"]["category"].map(labels)
        return _pairs(ex.value_counts().sort_index())

    order = {c: i for i, c in enumerate(CONDITION_NAMES)}
    studies = trials["condition"].value_counts()
    studies = studies.sort_index(key=lambda s: s.map(order)).rename(CONDITION_NAMES)
    by_analysis, pooled, not_pooled = _studies_by_analysis(
        dataset, pd.Index(trials["trial_id"]), analyses
    )
    counts = PrismaCounts(
        scope=condition,
        databases=_pairs(db["database"].value_counts().sort_index()),
        partial_databases=tuple(sorted(set(db.loc[db["partial"], "database"]))),
        duplicates_removed=int((db["stage"] == "duplicate").sum()),
        records_screened=int((db["stage"] != "duplicate").sum()),
        screening_excluded=int((db["stage"] == "screened_out").sum()),
        database_assessed=int(db["stage"].isin(["excluded", "included"]).sum()),
        database_excluded=reasons(db),
        database_included=int((db["stage"] == "included").sum()),
        reports_identified=len(rep),
        reports_excluded=reasons(rep),
        reports_included=int((rep["stage"] == "included").sum()),
        studies=_pairs(studies),
        studies_pooled=pooled,
        analyses=by_analysis,
        not_pooled=not_pooled,
    )
    _check(counts, recs, trials)
    return counts


def _check(counts: PrismaCounts, recs: pd.DataFrame, trials: pd.DataFrame) -> None:
    off = {k: v for k, v in counts.balances().items() if v[0] != v[1]}
    if off:
        raise ValueError(f"PRISMA flow does not add up (in, out): {off}")
    found = set(recs.loc[recs["stage"] == "included", "trial_id"].dropna())
    if found != set(trials["trial_id"]):
        raise ValueError(
            "the included records' trials are not the included studies: "
            f"{sorted(found ^ set(trials['trial_id']))}"
        )


def _pooled_in(dataset, analyses) -> pd.Series:
    """(trial_id, comparator_class) -> titles of the analyses that pool its rows."""
    acc = pooled_rows(dataset, analyses)
    titles = {an.name: an.title for an in analyses}
    acc = acc.assign(
        trial_id=dataset.outcomes["trial_id"],
        comparator_class=dataset.outcomes["comparator_class"],
        name=acc["pooled_in"].str.split("; "),
    ).explode("name")
    acc = acc[acc["name"].isin(list(titles))]
    return acc.groupby(["trial_id", "comparator_class"])["name"].agg(
        lambda s: "; ".join(titles[n] for n in dict.fromkeys(s))
    )


def coverage_table(dataset, *, analyses=None) -> pd.DataFrame:
    """Each known trial and comparator (:func:`known_trials`) as ``included`` (the comparison is
    in the data), ``excluded: <reason category>`` (the trial is named in an exclusion file; the
    reason in ``reason``) or ``not in the open sources``.

    ``trial_in_data`` says whether the trial is in ``trials.csv`` (with another comparison where
    the status is not ``included``); ``pooled_in`` names the ``analyses`` (default: everything
    the build pools) that pool the comparison; ``steinert2017`` and ``keefe2014_reference_list``
    whether the notes name the trial as in Steinert et al. 2017 or Keefe et al. 2014's reference
    list (``data/published/*_trials_named.csv``; the notes name no trial of Driessen et al.
    2015). ``direction_stated`` is a vote (direction, no size), never an effect. ``reading`` and
    ``direction_words`` come from ``data/reading_log.csv`` (issue 22): what the re-read report
    gave, and the direction the report itself states in words where it gives no number (a vote,
    never an effect, never pooled).

    Examples
    --------
    >>> from evidence.review.data import load
    >>> t = coverage_table(load()).set_index(["study", "comparator_class"])
    >>> t.loc[("Driessen 2013", "cbt"), "status"]
    'excluded: no usable number'
    >>> t.loc[("Driessen 2013", "cbt"), "direction_words"]
    'no difference'
    """
    analyses = list(build_analyses(dataset).values() if analyses is None else analyses)
    known = known_trials(dataset)
    trial_id = (
        known["study"]
        .map(_norm)
        .map(dict(zip(dataset.trials["study"].map(_norm), dataset.trials["trial_id"], strict=True)))
    )
    pairs = set(
        zip(dataset.outcomes["trial_id"], dataset.outcomes["comparator_class"], strict=True)
    )
    included = pd.Series(
        [(t, c) in pairs for t, c in zip(trial_id, known["comparator_class"], strict=True)]
    )
    ex = exclusion_reasons(dataset)
    ex = ex[ex["file"] != "network/exclusions.csv"].assign(
        study=lambda f: f["study"].str.split("; ")
    )
    ex = ex.explode("study").assign(key=lambda f: f["study"].map(_norm))
    labels = {k: label for k, (label, _) in EXCLUSION_CATEGORIES.items()}
    by_key = ex.groupby("key").agg(
        category=("category", lambda s: "; ".join(dict.fromkeys(s.map(labels)))),
        reason=("reason", lambda s: " / ".join(dict.fromkeys(s))),
    )
    hit = known["study"].map(_norm).map(lambda k: k in by_key.index)
    category = known["study"].map(_norm).map(by_key["category"])
    status = np.where(
        included,
        "included",
        np.where(hit, "excluded: " + category.fillna(""), "not in the open sources"),
    )
    pooled = _pooled_in(dataset, analyses)
    named = {
        name: set(read_published(dataset, f"{name.split('_')[0]}_trials_named")["study"].map(_norm))
        for name in ("steinert2017", "keefe2014_reference_list")
    }
    out = known[["study", "condition", "comparison", "comparator_class"]].assign(
        status=status,
        reason=known["study"].map(_norm).map(by_key["reason"]).where(~included & hit, ""),
        trial_in_data=trial_id.notna(),
        pooled_in=[
            pooled.get((t, c), "") if inc else ""
            for t, c, inc in zip(trial_id, known["comparator_class"], included, strict=True)
        ],
    )
    for name, studies in named.items():
        out[name] = known["study"].map(_norm).isin(studies)
    read = reading_votes(dataset)
    keys = zip(known["study"].map(_norm), known["comparator_class"], strict=True)
    got = [read.get(k, ("", "")) for k in keys]
    out["reading"], out["direction_words"] = [g[0] for g in got], [g[1] for g in got]
    return out.assign(**known[["direction_stated", "direction_source", "source"]])


# ---------------------------------------------------------------- sentences and display


def _by_study(table: pd.DataFrame, comparator_class: str) -> pd.DataFrame:
    """One row per known study of ``comparator_class`` (included if any of its rows is)."""
    rows = table[table["comparator_class"] == comparator_class]
    first = rows.assign(rank=(rows["status"] != "included").astype(int)).sort_values(
        "rank", kind="stable"
    )
    return first.drop_duplicates("study")


def coverage_sentence(table: pd.DataFrame, comparator_class: str = "cbt") -> str:
    """How many of the known head-to-head PDT vs ``comparator_class`` trials the data hold, in
    one sentence computed from :func:`coverage_table` (or some of its rows).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"study": ["A 2001", "B 2002", "C 2003"], "comparator_class": "cbt",
    ...                   "status": ["included", "excluded: no usable number",
    ...                              "not in the open sources"]})
    >>> coverage_sentence(t)
    'This dataset holds 1 of the 3 head-to-head PDT vs CBT trials named in the shared notes (pdt-trials.md sections 1-2); 1 is excluded (1 no usable number) and 1 is not in the open sources.'
    """  # noqa: E501
    name = COMPARATOR_NAMES.get(comparator_class, comparator_class)
    studies = _by_study(table, comparator_class)
    if studies.empty:
        return f"The shared notes name no head-to-head PDT vs {name} trial of these conditions."
    status = studies["status"]
    excluded = status[status.str.startswith("excluded")].str.removeprefix("excluded: ")
    missing = int((status == "not in the open sources").sum())

    def verb(n: int) -> str:
        return f"{n} is" if n == 1 else f"{n} are"

    parts = [
        f"This dataset holds {int((status == 'included').sum())} of the {len(studies)} "
        f"head-to-head PDT vs {name} trials named in the shared notes (pdt-trials.md sections 1-2)"
    ]
    if len(excluded):
        counts = sorted(excluded.value_counts().items(), key=lambda kv: (-kv[1], kv[0]))
        why = ", ".join(f"{n} {k}" for k, n in counts)
        parts.append(f"{verb(len(excluded))} excluded ({why})")
    if missing:
        parts.append(f"{verb(missing)} not in the open sources")
    if len(parts) == 3:
        return f"{parts[0]}; {parts[1]} and {parts[2]}."
    return "; ".join(parts) + "."


def votes_sentence(table: pd.DataFrame, comparator_class: str = "cbt") -> str:
    """The directions the notes state in words for the known PDT vs ``comparator_class`` trials
    that the data do not hold: votes (direction, no size), never effects.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"study": ["A 2001", "B 2002"], "comparator_class": "cbt",
    ...                   "status": "excluded: no usable number",
    ...                   "direction_stated": ["favours comparator", ""]})
    >>> votes_sentence(t)
    'Of the 2 known PDT vs CBT trials not in this dataset, the shared notes state the result of 1 in words (a vote: direction only, no size, never pooled): CBT better 1.'
    """  # noqa: E501
    name = COMPARATOR_NAMES.get(comparator_class, comparator_class)
    studies = _by_study(table, comparator_class)
    out = studies[studies["status"] != "included"]
    if out.empty:
        return ""
    votes = out["direction_stated"][out["direction_stated"] != ""]
    words = {"favours comparator": f"{name} better", "favours PDT": "PDT better"}
    counts = ", ".join(
        f"{words.get(v, v)} {int((votes == v).sum())}" for v in VOTES if (votes == v).any()
    )
    lead = f"Of the {len(out)} known PDT vs {name} trials not in this dataset, the shared notes"
    if votes.empty:
        return f"{lead} state the result of none in words."
    return (
        f"{lead} state the result of {len(votes)} in words (a vote: direction only, no size, "
        f"never pooled): {counts}."
    )


_COVERAGE_TEXT = (
    "## Coverage\n\nA PRISMA 2020 flow computed from the data (a record is one Metapsy source "
    "row or one trial report, a study one trial), then the head-to-head trials that the shared "
    "notes name (pdt-trials.md), each included, excluded with the reason, or not in the open "
    "sources. A direction the notes state in words is a vote (direction, no size), never an "
    "effect: it enters no pool."
)


def show_coverage(
    dataset, condition: str | None = None, *, analyses=None, heading: bool = True
) -> PrismaCounts:
    """Notebook section: the flow (saved as ``figures/<condition or overview>_prisma``), the
    sentences and the coverage table (``results/coverage.csv`` or
    ``results/<condition>_coverage.csv``) of the review or of one condition page, under the
    heading "Coverage" and its explanation unless ``heading`` is false. Returns the counts."""
    from evidence.plots.prisma import prisma_flow

    from .output import save_plot, save_table, show_items
    from .tables import format_table

    analyses = None if analyses is None else list(analyses)
    counts = prisma_counts(dataset, condition, analyses=analyses)
    table = coverage_table(dataset, analyses=analyses)
    if condition is not None:
        table = table[table["condition"].isin(CONDITION_GROUPS.get(condition, (condition,)))]
    what = (
        "all conditions"
        if condition is None
        else _TITLES.get(condition, CONDITION_NAMES.get(condition, condition).capitalize())
    )
    if heading:
        show_items(_COVERAGE_TEXT)
    stem = "overview" if condition is None else condition
    save_plot(prisma_flow(counts, title=f"PRISMA 2020 flow diagram: {what}"), f"{stem}_prisma")
    save_table(
        table.set_index(["study", "comparison"]),
        "coverage" if condition is None else f"{condition}_coverage",
    )
    classes = [c for c in COMPARATOR_NAMES if c in set(table["comparator_class"])] or ["cbt"]
    said = [
        " ".join(filter(None, (coverage_sentence(table, c), votes_sentence(table, c))))
        for c in classes
    ]
    labels = {"steinert2017": "Named as in Steinert 2017",
              "keefe2014_reference_list": "In Keefe 2014's reference list",
              "direction_stated": "Direction stated (vote)",
              "reading": "Report re-read (reading log)",
              "direction_words": "Direction in the report's words (vote)"}  # fmt: skip
    show_items("\n\n".join(said))
    show_items(format_table(table, labels=labels), fold="Show the known trials and their status")
    return counts
