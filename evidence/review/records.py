"""The records of the coverage flow (issue 22): every Metapsy source row and trial report that
the review identified, with the stage where it left the flow and why, and the trials the shared
notes know of (``data/published/known_trials.csv``). :mod:`evidence.review.coverage` counts them
(the PRISMA 2020 boxes) and joins the known trials to the data; its docstring states the rules.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from .vocabulary import COMPARATOR_NAMES, CONDITION_GROUPS, CONDITION_NAMES

__all__ = [
    "EXCLUSION_CATEGORIES",
    "VOTES",
    "METAPSY",
    "REPORTS",
    "exclusion_category",
    "exclusion_reasons",
    "coverage_records",
    "known_trials",
    "read_published",
    "reading_votes",
]

#: Reason categories: key -> (label, rule). The rule is a regular expression searched in the
#: reason (case-insensitive); every exclusion row matches exactly one (a test checks this).
EXCLUSION_CATEGORIES = {
    "duplicate": (
        "duplicate record",
        r"same trial|duplicate of|count the same participants twice",
    ),
    "not_pdt": ("not psychodynamic", r"not (classed )?PDT\b|mislabelled"),
    "no_usable_number": (
        "no usable number",
        r"no usable number|without CI or SE|no complete statistics group"
        r"|not a whole number of participants",
    ),
    "percentages_only": (
        "percentages only",
        r"per-arm (sizes|completer numbers) (are )?not printed"
        r"|counts from percentages were not derived",
    ),
    "direction_unknown": (
        "direction not established",
        r"direction (towards PDT cannot be|of the instrument not established)",
    ),
    "no_network_contrast": (
        "no contrast between network nodes",
        r"no contrast between nodes|arm not mapped to a node|none of the networks covers it",
    ),
}

#: Votes: a direction the notes state in words (``known_trials.csv`` ``direction_stated``).
VOTES = ("favours PDT", "favours comparator", "no difference", "mixed")

_LOCATOR = r"^metapsy:(?P<db>[^@\s]+)@\w+(?: row (?P<row>\d+))?$"
METAPSY, REPORTS = "Metapsy", "trial reports"


def exclusion_category(reason: str) -> str:
    """The category of an exclusion reason (a key of :data:`EXCLUSION_CATEGORIES`).

    Raises
    ------
    ValueError
        When no rule or more than one rule matches ``reason``.

    Examples
    --------
    >>> exclusion_category("No usable number in the sources available to the project.")
    'no_usable_number'
    """
    hits = [k for k, (_, rule) in EXCLUSION_CATEGORIES.items() if re.search(rule, reason, re.I)]
    if len(hits) != 1:
        raise ValueError(
            f"reason {reason!r} matches {len(hits)} categories of EXCLUSION_CATEGORIES "
            f"({hits}); exactly one expected: extend or narrow a rule"
        )
    return hits[0]


def _norm(name: str) -> str:
    """A study name for matching: no accents, no "(acronym)", no comma, lower case."""
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    s = re.sub(r"\s*\([^)]*\)", "", s).replace(",", " ")
    return " ".join(s.lower().split())


def _scope(condition: str) -> str:
    """The page a condition belongs to: its key of CONDITION_GROUPS, or the condition itself."""
    return next((k for k, g in CONDITION_GROUPS.items() if condition in g), condition)


def _network_exclusions(dataset) -> pd.DataFrame:
    """``network/exclusions.csv`` of the dataset's folder (every cell as text)."""
    from .network_data import EXCLUSION_COLUMNS

    path = dataset.path / "network" / "exclusions.csv"
    excl = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in EXCLUSION_COLUMNS if c not in excl]
    if missing:
        raise ValueError(f"{path}: columns {missing} missing")
    return excl


def exclusion_reasons(dataset) -> pd.DataFrame:
    """Every exclusion row of the curated data (``exclusions_metapsy.csv``,
    ``exclusions_reports.csv``) and of the network data (``network/exclusions.csv``), with its
    ``category`` (:func:`exclusion_category`) and ``file``."""
    net_excl = _network_exclusions(dataset)
    cur = dataset.exclusions
    metapsy = cur["source"].str.startswith("metapsy:")
    files = metapsy.map({True: "exclusions_metapsy.csv", False: "exclusions_reports.csv"})
    frame = pd.concat(
        [
            pd.DataFrame(
                {"file": files, "source": cur["source"], "row": cur["source_row"]}
                | {"study": cur["source_study"], "reason": cur["reason"]}
                | {"duplicate_of": cur["duplicate_of"]}
            ),
            pd.DataFrame(
                {"file": "network/exclusions.csv", "source": net_excl["source"], "row": None}
                | {"study": net_excl["study"], "reason": net_excl["reason"]}
                | {"duplicate_of": None, "database": net_excl["database"]}
            ),
        ],
        ignore_index=True,
    )
    frame["category"] = frame["reason"].map(exclusion_category)
    return frame


def _trial_scopes(dataset) -> pd.Series:
    return dataset.trials.set_index("trial_id")["condition"].map(_scope)


def _keys(source: pd.Series, row: pd.Series | None = None) -> pd.Series:
    """``"<database> row <n>"`` for Metapsy locators (the row from ``row`` when given)."""
    loc = source.astype(str).str.extract(_LOCATOR)
    num = loc["row"] if row is None else row
    num = pd.to_numeric(num, errors="coerce")
    ok = loc["db"].notna() & num.notna()
    return (loc["db"] + " row " + num.fillna(0).astype(int).astype(str)).where(ok)


def _db_groups(net: pd.DataFrame) -> dict:
    """Source database -> condition group, from the network rows (by network and by locator)."""
    loc = net["source"].str.extract(_LOCATOR)["db"]
    pairs = pd.concat(
        [
            pd.DataFrame({"db": net["database"], "group": net["condition_group"]}),
            pd.DataFrame({"db": loc, "group": net["condition_group"]}).dropna(),
        ]
    ).drop_duplicates()
    if pairs["db"].duplicated().any():
        raise ValueError(f"databases in several condition groups: {pairs[pairs.db.duplicated()]}")
    return dict(zip(pairs["db"], pairs["group"], strict=True))


def _metapsy_records(dataset, net: pd.DataFrame, reasons: pd.DataFrame) -> pd.DataFrame:
    """One row per Metapsy source row: database, row, stage, category, trial, scope."""
    ex_net = reasons[reasons["file"] == "network/exclusions.csv"]
    ex_cur = reasons[reasons["file"] == "exclusions_metapsy.csv"]
    o = dataset.outcomes[dataset.outcomes["source"].str.startswith("metapsy:")]
    used = pd.concat(
        pd.DataFrame({"key": _keys(o["source"], o[c]), "trial_id": o["trial_id"]})
        for c in ("source_row1", "source_row2")
    )
    used = used.dropna(subset=["key"]).drop_duplicates()
    cur = ex_cur.assign(key=_keys(ex_cur["source"], ex_cur["row"]))
    clash = (
        used["key"][used["key"].duplicated()].tolist()
        + cur["key"][cur["key"].duplicated() | cur["key"].isin(used["key"])].tolist()
    )
    if clash:
        raise ValueError(f"Metapsy rows used twice, excluded twice, or used and excluded: {clash}")
    net_keys = _keys(net["source"])
    ex_keys = _keys(ex_net["source"])
    study = pd.concat(
        [
            pd.Series(net["study"].to_numpy(), index=net_keys),
            pd.Series(ex_net["study"].to_numpy(), index=ex_keys),
            pd.Series(cur["study"].to_numpy(), index=cur["key"]),
        ]
    )
    study = study[study.index.notna()].groupby(level=0).first()
    keys = pd.concat([net_keys, ex_keys, used["key"], cur["key"]]).dropna().drop_duplicates()
    recs = keys.str.extract(r"^(?P<database>.+) row (?P<row>\d+)$").assign(key=keys)
    recs["row"] = recs["row"].astype(int)
    dup = ex_keys[(ex_net["category"] == "duplicate").to_numpy()]
    trial_of = dataset.comparisons.set_index("comparison_id")["trial_id"]
    cur_trial = cur["duplicate_of"].map(lambda d: trial_of.get(d) if isinstance(d, str) else None)
    recs["stage"] = np.select(
        [keys.isin(used["key"]), keys.isin(cur["key"]), keys.isin(dup)],
        ["included", "excluded", "duplicate"],
        "screened_out",
    )
    recs["category"] = keys.map(dict(zip(cur["key"], cur["category"], strict=True)))
    recs["category"] = recs["category"].where(recs["stage"] != "duplicate", "duplicate").fillna("")
    trials = dict(zip(cur["key"], cur_trial, strict=True)) | dict(
        zip(used["key"], used["trial_id"], strict=True)
    )
    recs["trial_id"] = keys.map(trials)
    recs["study"] = keys.map(study)
    recs["scope"] = recs["trial_id"].map(_trial_scopes(dataset))
    recs["scope"] = recs["scope"].fillna(recs["database"].map(_db_groups(net))).fillna("")
    recs["partial"] = ~recs["database"].isin(set(net["database"]))
    return recs.drop(columns="key").assign(source=METAPSY)


def _report_records(dataset, reasons) -> pd.DataFrame:
    """One row per trial report: included (outcomes_reports) or excluded (exclusions_reports)."""
    o = dataset.outcomes[~dataset.outcomes["source"].str.startswith("metapsy:")]
    inc = o.drop_duplicates(["trial_id", "source"])[["trial_id", "study", "source"]]
    inc = inc.assign(stage="included", category="")
    ex = reasons[reasons["file"] == "exclusions_reports.csv"].assign(
        study=lambda f: f["study"].str.split("; ")
    )
    ex = ex.explode("study")[["study", "source", "category"]].assign(stage="excluded")
    by_name = dict(zip(dataset.trials["study"].map(_norm), dataset.trials["trial_id"], strict=True))
    ex["trial_id"] = ex["study"].map(_norm).map(by_name)
    recs = pd.concat([inc, ex], ignore_index=True).assign(source_kind=REPORTS)
    scopes = _trial_scopes(dataset)
    known = known_trials(dataset)
    known_scope = dict(zip(known["study"].map(_norm), known["condition"].map(_scope), strict=True))
    recs["scope"] = recs["trial_id"].map(scopes)
    recs["scope"] = recs["scope"].fillna(recs["study"].map(_norm).map(known_scope)).fillna("")
    return recs.drop(columns="source").rename(columns={"source_kind": "source"})


def coverage_records(dataset) -> pd.DataFrame:
    """Every record of the flow, one row each: ``source`` (Metapsy or trial reports),
    ``database`` and ``row`` (Metapsy), ``study``, ``stage`` (``duplicate``, ``screened_out``,
    ``excluded``, ``included``), ``category`` (of an exclusion), ``trial_id`` (where the record
    names a curated trial), ``scope`` (the condition page it belongs to) and ``partial`` (a
    database of which ``data/`` holds only the rows the curated data read).

    Raises
    ------
    ValueError
        When a Metapsy row is both used and excluded or excluded twice, when an exclusion reason
        falls into no category or several, or when a database belongs to several condition
        groups.
    """
    from .network_data import load_network

    net = load_network(dataset.path / "network" / "comparisons.csv")
    reasons = exclusion_reasons(dataset)
    out = pd.concat(
        [_metapsy_records(dataset, net, reasons), _report_records(dataset, reasons)],
        ignore_index=True,
    )
    out["partial"] = out["partial"].fillna(False).astype(bool)
    return out[
        ["source", "database", "row", "study", "stage", "category", "trial_id", "scope", "partial"]
    ]


def read_published(dataset, name: str) -> pd.DataFrame:
    """``data/published/<name>.csv`` of the dataset's folder, every cell as text."""
    path = dataset.path / "published" / f"{name}.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def known_trials(dataset) -> pd.DataFrame:
    """``data/published/known_trials.csv``: the head-to-head trials (PDT vs an active
    treatment) that the shared notes name, one row per trial and comparator, each quoted from
    pdt-trials.md (``source``: section and line; ``quote``: the arms as written there), with
    the direction the notes state in words (``direction_stated``, one of :data:`VOTES`, quoted
    in ``direction_source``) or empty.

    Raises
    ------
    ValueError
        Naming the data row and column: a missing column, a condition or comparator class
        outside the vocabulary, a vote outside :data:`VOTES`, a vote without its quote (or a
        quote without a vote), or a source that is not a line of pdt-trials.md.
    """
    frame = read_published(dataset, "known_trials")
    name = "data/published/known_trials.csv"
    cols = ["study", "condition", "comparison", "comparator_class", "source", "quote"]
    cols += ["direction_stated", "direction_source"]
    for col in cols:
        if col not in frame:
            raise ValueError(f"{name}: column {col!r} missing")
    checks = {
        "condition": frame["condition"].isin(list(CONDITION_NAMES)),
        "comparator_class": frame["comparator_class"].isin(list(COMPARATOR_NAMES)),
        "direction_stated": frame["direction_stated"].isin(("", *VOTES)),
        "direction_source": (frame["direction_stated"] == "") == (frame["direction_source"] == ""),
        "source": frame["source"].str.match(r"^pdt-trials\.md (section \d|appendix), line \d+$"),
    }
    for col, ok in checks.items():
        if not ok.all():
            row = int(ok.to_numpy().argmin())
            raise ValueError(f"{name} data row {row + 1}, column {col!r}: {frame[col][row]!r}")
    return frame[cols]


def reading_votes(dataset) -> dict[tuple[str, str], tuple[str, str]]:
    """(normalised study, comparator class) -> (what the reading gave, the direction in words)
    from ``data/reading_log.csv``: the direction is set only where the report states the
    between-group direction in words and gives no number (a vote: direction, no size, never
    pooled); empty otherwise."""
    log = getattr(dataset, "reading_log", None)
    if log is None or log.empty:
        return {}
    log = log.fillna("")
    return {
        (_norm(r.study), r.comparator_class): (r.outcome, r.direction)
        for r in log.itertuples(index=False)
    }
