"""Build data/network/comparisons.csv and data/network/exclusions.csv from the Metapsy databases.

Usage (from the repository root)::

    PYTHONPATH=$PWD /work/venv/bin/python tools/make_network_data.py [METAPSY_DIR]

METAPSY_DIR defaults to ``../shared/metapsy``. The schema of the output is documented in
``data/network/README.md`` and checked by :func:`evidence.review.network_data.load_network`.

One output row per usable source row (a psychotherapy arm against another arm, one instrument,
one timepoint) of the databases in ``NETWORKS``. Rows are read with
:func:`evidence.review.sources.read_metapsy`; each arm is mapped to a treatment node with
``data/network_nodes.csv`` (a psychodynamic arm as :mod:`evidence.review.sources` detects it is
always ``pdt``; a study-level decision of ``data/network_node_overrides.csv`` wins over the
label). Each arm's delivery format (``data/network_formats.csv``), number of sessions and
treatment length come from the row by the rules of ``tools/network_arms.py``. Values are
copied, never computed; the locator ``metapsy:<db>@<commit> row N`` names the source row
(1-based data row of ``data.csv``).

Reconciliation with the curated PDT data (``evidence.review.data.load()``): a Metapsy row that a
curated outcome row was extracted from takes the curated values (``curated_effect_ids`` names
the curated rows; the locator keeps naming the Metapsy row). Curated direct comparisons built from
two rows that share the control arm are not added again (their two arm-vs-control rows, with the
shared ``arm2_id``, carry the same information). Metapsy rows the curated data exclude are
excluded here with the same reason. Curated trials that are in no Metapsy database are added as
``curated:<effect_id>`` rows to the network of their condition.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from extract_metapsy import COMMITS as CURATED_COMMITS  # noqa: E402
from network_arms import describe as _describe  # noqa: E402
from network_curated import (  # noqa: E402
    CURATED_NETWORK as CURATED_NETWORK,
)
from network_curated import (  # noqa: E402
    curated_exclusions,
    curated_only,
    curated_values,
    markers,
    reported_rows,
)
from network_rules import append_note as _append  # noqa: E402
from network_rules import arm_ids as _arm_ids  # noqa: E402
from network_rules import duplicate_reports, separate_trials  # noqa: E402
from network_rules import exclusion as _excl  # noqa: E402
from network_rules import num as _num  # noqa: E402
from network_rules import text as _text  # noqa: E402

from evidence.review.data import load  # noqa: E402
from evidence.review.network_data import COLUMNS, EXCLUSION_COLUMNS, load_nodes  # noqa: E402
from evidence.review.network_maps import load_formats, load_node_overrides  # noqa: E402
from evidence.review.sources import metapsy_source, read_metapsy  # noqa: E402

#: database -> the notebooks' condition group (evidence.review.CONDITION_GROUPS keys)
NETWORKS = {
    "depression-psyctr": "depression",
    "depression-inpatients": "depression",
    "panic-psyctr": "anxiety",
    "sad-psyctr": "anxiety",
    "gad-psyctr": "anxiety",
    "ptsd-psyctr": "ptsd",
    "borderline-psyctr": "personality",
    "suicide-psyctr": "self_harm",
    "ed-psyctr": "eating",
    "bodily-distress-psyctr": "somatic",
}
#: Pinned releases: the curated data's (tools/extract_metapsy.py) plus the two it does not read.
COMMITS = {
    **{db: c for db, c in CURATED_COMMITS.items() if db in NETWORKS},
    "ed-psyctr": "d1fe7b2f7f3dc6df939e5902fa0b2ed652a2a080",
    "bodily-distress-psyctr": "3ef2b7d57f530f6aa4148d8897fa94bd926b12fc",
}
#: Databases whose stored ``.g`` is oriented so that a positive value favours arm 1
#: (research note metapsy.md section 3, checked row by row below); elsewhere ``.g`` is the raw
#: difference arm 1 - arm 2 and the direction comes from ``data/network/directions.csv``.
ORIENTED_G = ("depression-psyctr", "sad-psyctr", "ptsd-psyctr", "ed-psyctr")
#: ed-psyctr has no ``time`` column; its variable_description.json says of ``mean_arm1``:
#: "Post-treatment mean in first arm".
TIMEPOINT_FROM_METADATA = {"ed-psyctr": "post"}

#: Rows without arm statistics whose effect is the database's stored ``.g``:
#: (database, outcome_type) -> the sign that orients ``.g`` so that a positive value favours
#: arm 1. suicide-psyctr stores ideation only as ``.g``, arm 1 minus arm 2 on ideation: most of
#: its ideation ``.g`` are negative (checked in ``_stored_g_note``; test
#: tests/test_data.py::test_suicide_ideation_sign_convention), so -.g favours arm 1. The curated
#: data take Guthrie 2001 and Walker 2016 the same way (tools/extract_metapsy.py ``STORED_G``):
#: one rule for every ideation row.
STORED_G = {("suicide-psyctr", "ideation"): -1.0}
#: Share of negative ``.g`` below which the sign rule of ``STORED_G`` is not established.
STORED_G_MIN_SHARE = 0.7
#: Note on a post row whose source gives ``time_weeks`` 0 (the curated data's rule).
WEEK0_NOTE = "time_weeks: source 0 on a post row is a placeholder, left empty"

_STATS = {
    "msd": {
        "n1": "n_arm1",
        "mean1": "mean_arm1",
        "sd1": "sd_arm1",
        "n2": "n_arm2",
        "mean2": "mean_arm2",
        "sd2": "sd_arm2",
    },
    "change": {
        "n1": "n_change_arm1",
        "mean1": "mean_change_arm1",
        "sd1": "sd_change_arm1",
        "n2": "n_change_arm2",
        "mean2": "mean_change_arm2",
        "sd2": "sd_change_arm2",
    },
    "events": {
        "n1": "totaln_arm1",
        "events1": "event_arm1",
        "n2": "totaln_arm2",
        "events2": "event_arm2",
    },
    "precalc_g": {"effect": "precalc_g", "effect_se": "precalc_g_se"},
    "precalc_log_rr": {"effect": "precalc_log_rr", "effect_se": "precalc_log_rr_se"},
}
_ARM1 = ("n1", "mean1", "sd1", "events1")
_ARM2 = ("n2", "mean2", "sd2", "events2")


def _stored_g_note(frame: pd.DataFrame, db: str, otype: str) -> str:
    """The note of a stored-``.g`` row, with the count that establishes the sign rule."""
    g = frame.loc[frame["outcome_type"] == otype, ".g"].dropna()
    neg = int((g < 0).sum())
    if STORED_G[(db, otype)] != -1.0 or neg < STORED_G_MIN_SHARE * len(g):
        raise SystemExit(f"{db} {otype}: {neg} of {len(g)} .g negative; sign rule not established")
    return (
        f"effect-only row: effect = -.g and effect_se = .g_se ({db} stores {otype} only as .g, "
        f"arm 1 minus arm 2: {neg} of its {len(g)} {otype} .g are negative, so a negative .g is "
        f"less {otype} in arm 1; the rule the curated data use for their {otype} rows)"
    )


def _label_year(study: str) -> str:
    """The year in a study label such as "Brom, 1989" or "Walker 2016" (databases without a
    ``year`` column: ptsd-psyctr, suicide-psyctr, bodily-distress-psyctr)."""
    found = re.findall(r"\b(19\d\d|20\d\d)[a-z]?\b", study)
    return found[0] if len(found) == 1 else ""


#: Risk-of-bias column, first present wins: borderline-psyctr's ``overall_RoB`` (RoB 2 labels;
#: its ``rob`` column is undocumented and 0 on almost every row), else ``rob``, else gad-psyctr's
#: ``ROB``.
ROB_COLUMNS = ("overall_RoB", "rob", "ROB")


def _rob(row: pd.Series) -> object:
    col = next((c for c in ROB_COLUMNS if c in row), None)
    return None if col is None else row[col]


def _key(row: pd.Series, side: str) -> str:
    multi = row.get(f"multi_arm{side}")
    label = row.get(f"condition_arm{side}")
    base = label if isinstance(label, str) else "NA"
    return f"{base} [{multi}]" if isinstance(multi, str) else base


def _node(maps: dict, db: str, row: pd.Series, side: str) -> tuple[str, str]:
    """(node, mapping key used) of one arm of a source row: a psychodynamic arm is ``pdt``;
    then a study-level override (``data/network_node_overrides.csv``), then the label mapping."""
    nodes = maps["nodes"]
    if side == "1" and row.get("arm1_class") == "psychodynamic":
        return nodes[("*", "arm1_class", "psychodynamic")], "arm1_class=psychodynamic"
    key = (db, str(row["study"]), _key(row, side))
    if key in maps["overrides"]:
        maps["used"].add(key)
        why = maps["override_reasons"][key]
        return maps["overrides"][key], f"data/network_node_overrides.csv {key[2]!r}: {why}"
    multi = row.get(f"multi_arm{side}")
    if isinstance(multi, str) and (db, f"multi_arm{side}", multi) in nodes:
        return nodes[(db, f"multi_arm{side}", multi)], f"multi_arm{side}={multi}"
    label = row.get(f"condition_arm{side}")
    label = label if isinstance(label, str) else "NA"
    key = (db, f"condition_arm{side}", label)
    if key not in nodes:
        raise SystemExit(f"{db}: label {label!r} (condition_arm{side}) not in network_nodes.csv")
    return nodes[key], f"condition_arm{side}={label}"


def _raw_sign(rec: dict) -> float:
    """Sign of arm 1 - arm 2 on the raw scale (means, or log odds for events)."""
    if rec["stats_form"] in ("msd", "change"):
        return float(np.sign(float(rec["mean1"]) - float(rec["mean2"])))
    if rec["stats_form"] == "events":
        e1, n1, e2, n2 = (float(rec[k]) for k in ("events1", "n1", "events2", "n2"))
        return float(np.sign(e1 * (n2 - e2) - e2 * (n1 - e1)))
    return 0.0


def _directions() -> dict[tuple[str, str, str], tuple[str, str]]:
    path = ROOT / "data" / "network" / "directions.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {
        (r.database, r.instrument, r.outcome_type): (r.higher_is_better, r.reason)
        for r in frame.itertuples()
    }


def _record(
    db: str, row: pd.Series, nodes: tuple[str, str], form: str, timepoint: str, formats: dict
) -> dict:
    """The table row of source row ``row`` (before its statistics and direction)."""
    rec = dict.fromkeys(COLUMNS, "")
    study = str(row["study"])
    weeks = _num(row.get("time_weeks"))
    if timepoint == "post" and weeks == "0":  # a placeholder, as in the curated data
        weeks, rec["note"] = "", WEEK0_NOTE
    rec.update(
        row_id=f"{db}:{row['source_row']}",
        database=db,
        condition_group=NETWORKS[db],
        study_id=f"{db}:{study}",
        study=study,
        year=_num(row["year"]) if "year" in row else _label_year(study),
        year_source="year" if "year" in row else "study label",
        rob=_text(_rob(row)),
        format=_text(row.get("format")),
        arm1=_key(row, "1"),
        arm2=_key(row, "2"),
        node1=nodes[0],
        node2=nodes[1],
        instrument=_text(row.get("instrument")),
        outcome_type=_text(row.get("outcome_type")) or form,
        rater=row["rater"] or "not_reported",
        timepoint=timepoint,
        time_weeks=weeks,
        stats_form="precalc_g" if form == "stored_g" else form,
        metapsy_g=_num(row.get(".g")),
        metapsy_g_se=_num(row.get(".g_se")),
        source=f"metapsy:{db}@{COMMITS[db][:7]} row {row['source_row']}",
    )
    if not rec["year"]:
        rec["year_source"] = ""
    _describe(rec, row, db, formats)
    return rec


def _statistics(rec: dict, row: pd.Series, db: str, form: str, notes: dict) -> str | None:
    """Fill the statistics (or the effect) of ``rec``; the reason when the row is unusable."""
    if form == "reported":  # the curated effect wins; filled in by network_curated
        return None
    if form == "stored_g":
        sign = STORED_G[(db, rec["outcome_type"])]
        rec.update(
            effect_measure="SMD", effect=_num(sign * row[".g"]), effect_se=_num(row[".g_se"])
        )
        rec["note"] = _append(rec["note"], notes[rec["outcome_type"]])
        return None
    if form.startswith("precalc"):
        if form != "precalc_g" or db not in ORIENTED_G:
            return f"{form}: a precalculated effect whose orientation this database does not fix"
        # the stored .g repeats precalc_g oriented so that a positive value favours arm 1
        # (ed-psyctr stores precalc_g as arm1 - arm2 and flips it in .g)
        rec.update(effect_measure="SMD", effect=_num(row[".g"]), effect_se=_num(row[".g_se"]))
        rec["note"] = _append(
            rec["note"], "effect-only row: effect and effect_se are Metapsy .g and .g_se"
        )
        return None
    for col, src in _STATS[form].items():
        rec[col] = _num(row[src])
    fractional = [c for c in ("n1", "n2") if rec[c] != "" and float(rec[c]) % 1]
    if fractional:
        col = fractional[0]
        return f"{col} = {rec[col]} in the source is not a whole number of participants"
    return None


def _direction(rec: dict, row: pd.Series, db: str, form: str, directions: dict) -> None:
    """The hand direction (``directions.csv``) if listed; the sign of an oriented ``.g`` against
    the arm statistics in ``_gdir`` (for :func:`_consensus`)."""
    stored = row.get(".g")
    rec["_gdir"] = ""
    if db in ORIENTED_G and isinstance(stored, float) and np.isfinite(stored) and stored:
        raw = _raw_sign(rec) if form in ("msd", "change", "events") else 0.0
        if raw:
            rec["_gdir"] = "true" if np.sign(stored) == raw else "false"
    key = (db, rec["instrument"], rec["outcome_type"])
    if key in directions:
        rec["higher_is_better"] = directions[key][0]
        rec["direction_rule"] = "directions_table"


def _usable(db: str, row: pd.Series, maps: dict, reported: set[str]) -> tuple:
    """(node pair, statistics form, timepoint) of a source row, or a str: why it is not used."""
    node1, how1 = _node(maps, db, row, "1")
    node2, how2 = _node(maps, db, row, "2")
    if "unmapped" in (node1, node2):
        return f"arm not mapped to a node ({how1 if node1 == 'unmapped' else how2})"
    if node1 == node2:
        return f"both arms map to node {node1!r}: no contrast between nodes"
    form = row["stats_form"]
    if f"{db}:{row['source_row']}" in reported:
        form = "reported"  # the curated effect wins
    otype = _text(row.get("outcome_type"))
    stored = (row[".g"], row[".g_se"]) if (db, otype) in STORED_G else (np.nan, np.nan)
    if form is None and np.isfinite(stored).all():
        form = "stored_g"
    if form is None:
        return "no complete statistics group (means/SDs/n, change scores, events or precalc)"
    timepoint = row["timepoint"] or TIMEPOINT_FROM_METADATA.get(db)
    if timepoint is None:
        return f"timepoint {_text(row.get('time'))!r} not in the project's vocabulary"
    return (node1, node2), form, timepoint


def _rows(
    db: str, folder: Path, maps: dict, directions: dict, reported: set[str]
) -> tuple[list, list]:
    """Rows of one database; ``reported`` holds the row ids (``<db>:<row>``) whose curated row
    is a reported effect (kept as ``reported`` rows whatever their own statistics)."""
    commit = COMMITS[db]
    got = metapsy_source(folder).get("commit")
    if got != commit:
        raise SystemExit(f"{folder}: commit {got!r} != expected {commit!r}; update COMMITS")
    frame = read_metapsy(folder)
    notes = {ot: _stored_g_note(frame, d, ot) for d, ot in STORED_G if d == db}
    out, excluded = [], []
    for _, row in frame.iterrows():
        use = _usable(db, row, maps, reported)
        rec = None
        if not isinstance(use, str):
            pair, form, timepoint = use
            rec = _record(db, row, pair, form, timepoint, maps["formats"])
            use = _statistics(rec, row, db, form, notes)
        if use is not None:
            excluded.append(
                {
                    "database": db,
                    "source": f"metapsy:{db}@{commit[:7]} row {row['source_row']}",
                    "study": row["study"],
                    "arms": f"{_key(row, '1')} vs {_key(row, '2')}",
                    "what": f"{_text(row.get('outcome_type')) or 'msd'} "
                    f"{_text(row.get('instrument'))}".strip(),
                    "reason": use,
                }
            )
            continue
        _direction(rec, row, db, form, directions)
        out.append(rec)
    return out, excluded


def candidate_rows(metapsy_dir: Path, ds) -> tuple[pd.DataFrame, list]:
    """Every usable source row of every network database (before the rules across rows and the
    curated data), and the rows not usable, with the reason."""
    maps = {
        "nodes": load_nodes(),
        "overrides": load_node_overrides(),
        "formats": load_formats(),
        "used": set(),
    }
    table = pd.read_csv(ROOT / "data" / "network_node_overrides.csv", dtype=str)
    maps["override_reasons"] = {(r.database, r.study, r.arm): r.reason for r in table.itertuples()}
    directions = _directions()
    reported = reported_rows(ds, NETWORKS)
    rows, excluded = [], []
    for db in NETWORKS:
        got, dropped = _rows(db, Path(metapsy_dir) / db, maps, directions, reported)
        rows += got
        excluded += dropped
    stale = set(maps["overrides"]) - maps["used"]
    if stale:
        raise SystemExit(f"network_node_overrides.csv: no non-psychodynamic arm {sorted(stale)}")
    return pd.DataFrame(rows, columns=[*COLUMNS, "_gdir"]), excluded


def _consensus(frame: pd.DataFrame) -> pd.DataFrame:
    """Direction from the sign of an oriented ``.g``: per database, instrument and outcome type,
    the direction most rows' ``.g`` show (``_gdir``); rows whose own ``.g`` disagrees get a note.
    A tie, or no row with a sign to show, leaves the direction unset (the row is then excluded
    with the reason in ``_nodir``)."""
    keys = ["database", "instrument", "outcome_type"]
    sizes = frame[frame["_gdir"] != ""].groupby([*keys, "_gdir"]).size()
    signs = {k: g.droplevel(keys).sort_values(ascending=False) for k, g in sizes.groupby(keys)}
    todo = (frame["higher_is_better"] == "") & frame["database"].isin(ORIENTED_G)
    frame["_nodir"] = ""
    for i in frame.index[todo]:
        key = tuple(frame.loc[i, keys])
        if key not in signs:
            g, m1, m2 = frame.loc[i, ["metapsy_g", "mean1", "mean2"]]
            this = f".g = {g or 'empty'}" + (f", arm means {m1} vs {m2}" if m1 else "")
            frame.loc[i, "_nodir"] = (
                "direction of the instrument not established: not in "
                "data/network/directions.csv, and no row of this instrument and outcome type in "
                "this database (whose .g is oriented) has a non-zero .g and a non-zero difference "
                f"between the arms whose signs could show it (this row: {this})"
            )
            continue
        counts = signs[key]
        if len(counts) > 1 and counts.iloc[0] == counts.iloc[1]:
            frame.loc[i, "_nodir"] = (
                "direction of the instrument not established: not in "
                "data/network/directions.csv, and the signs of this instrument's oriented .g tie "
                f"({counts.iloc[0]} vs {counts.iloc[1]} rows)"
            )
            continue
        best = counts.index[0]
        frame.loc[i, "higher_is_better"] = best
        frame.loc[i, "direction_rule"] = f"metapsy_g_sign {counts.iloc[0]}/{counts.sum()}"
        if frame.loc[i, "_gdir"] not in ("", best):
            frame.loc[i, "note"] = _append(
                frame.loc[i, "note"],
                "this row's Metapsy .g has the sign opposite to its arm statistics under the "
                "instrument's direction; the arm statistics are used",
            )
    return frame.drop(columns="_gdir")


def _join_measurements(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of one study, instrument, outcome type, rater and timepoint whose ``time_weeks``
    differ but which share an arm with identical statistics report one measurement (arms of
    different treatment length against one control): they get one ``outcome_id``, the first
    row's. Rows that already share an ``outcome_id`` stay together."""
    frame = frame.reset_index(drop=True)
    parent = np.arange(len(frame))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(rows) -> None:
        first = root(rows[0])
        for i in rows[1:]:
            a, b = sorted((first, root(i)))
            parent[b] = a
            first = a

    base = (
        frame["study_id"]
        + "|"
        + frame[["instrument", "outcome_type", "rater", "timepoint"]].agg("|".join, axis=1)
    )
    arm_rows = ~frame["stats_form"].isin(("precalc_g", "reported"))
    keys = [frame["outcome_id"]]
    for side, cols in (("1", _ARM1), ("2", _ARM2)):
        stats = frame[list(cols)].agg("|".join, axis=1)
        keys.append((base + "#" + frame[f"arm{side}_id"] + "#" + stats).where(arm_rows))
    for key in keys:
        for rows in frame.groupby(key, sort=False).indices.values():
            if len(rows) > 1:
                join(list(rows))
    roots = np.array([root(i) for i in range(len(frame))])
    frame["outcome_id"] = frame["outcome_id"].to_numpy()[roots]
    return frame


def _shared_arms(frame: pd.DataFrame) -> pd.DataFrame:
    """Note the rows whose shared arm (same ``outcome_id`` and arm id) has different statistics
    on different rows; the arm keeps one id (one arm of one trial) and the note says so."""
    stats = {"1": list(_ARM1), "2": list(_ARM2)}
    parts = []
    for side in "12":
        part = frame[[f"arm{side}_id", "outcome_id", *stats[side]]].copy()
        part.columns = ["arm_id", "outcome_id", "n", "mean", "sd", "events"]
        parts.append(part.assign(row=frame.index))
    arms = pd.concat(parts)
    arms = arms[~frame.loc[arms["row"], "stats_form"].isin(("precalc_g", "reported")).to_numpy()]
    differ = arms.groupby(["outcome_id", "arm_id"])[["n", "mean", "sd", "events"]].nunique()
    differ = differ[(differ > 1).any(axis=1)]
    for (outcome, arm), _ in differ.iterrows():
        rows = arms.loc[(arms["outcome_id"] == outcome) & (arms["arm_id"] == arm), "row"]
        ids = ", ".join(frame.loc[rows, "row_id"])
        for i in rows:
            text = (
                f"arm {arm.split('|', 1)[1]!r} has different statistics on rows {ids} "
                "(same label, same outcome); kept as one arm"
            )
            old = frame.loc[i, "note"]
            frame.loc[i, "note"] = f"{old}; {text}" if old else text
    return frame


#: Why a row of a database whose ``.g`` is not oriented has no direction.
_NOT_ORIENTED = (
    "direction of the instrument not established: not in data/network/directions.csv, and .g "
    "of this database is not oriented"
)


def _directionless(frame: pd.DataFrame, excluded: list) -> pd.DataFrame:
    """Rows with arm statistics but no direction go to ``excluded`` (reason from
    :func:`_consensus`, or the database's ``.g`` is not oriented)."""
    effect_only = frame["stats_form"].isin(("precalc_g", "reported"))
    nodir = (frame["higher_is_better"] == "") & ~effect_only
    for _, r in frame[nodir].iterrows():
        excluded.append(_excl(r, r["_nodir"] if r["_nodir"] else _NOT_ORIENTED))
    return frame[~nodir]


def build(metapsy_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The network table and its exclusions, from the Metapsy copies in ``metapsy_dir``."""
    ds = load()
    candidates, excluded = candidate_rows(metapsy_dir, ds)
    frame, dropped, _ = duplicate_reports(candidates)
    reason = {d["row_id"]: d["reason"] for d in dropped}
    gone = candidates[candidates["row_id"].isin(reason)]
    excluded += [_excl(r, reason[r["row_id"]]) for _, r in gone.iterrows()]
    frame = _arm_ids(_consensus(frame))
    frame, _ = separate_trials(frame)
    frame = curated_values(frame, ds, NETWORKS)
    frame = curated_exclusions(frame, excluded, ds)
    frame = curated_only(frame, excluded, ds, NETWORKS)
    frame = _directionless(frame, excluded)
    frame = markers(_shared_arms(_join_measurements(frame)), ds)
    frame = frame[list(COLUMNS)].reset_index(drop=True)
    exc = pd.DataFrame(excluded, columns=EXCLUSION_COLUMNS)
    return frame, exc


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    metapsy_dir = Path(argv[0]) if argv else ROOT.parent / "shared" / "metapsy"
    frame, exc = build(metapsy_dir)
    kw = {"index": False, "lineterminator": "\n", "quoting": csv.QUOTE_MINIMAL}
    out = ROOT / "data" / "network"
    frame.to_csv(out / "comparisons.csv", **kw)
    exc.to_csv(out / "exclusions.csv", **kw)
    print(f"wrote {len(frame)} rows and {len(exc)} exclusions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
