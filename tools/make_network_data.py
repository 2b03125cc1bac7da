"""Build data/network/comparisons.csv and data/network/exclusions.csv from the Metapsy databases.

Usage (from the repository root)::

    PYTHONPATH=$PWD /work/venv/bin/python tools/make_network_data.py [METAPSY_DIR]

METAPSY_DIR defaults to ``../shared/metapsy``. The schema of the output is documented in
``data/network/README.md`` and checked by :func:`evidence.review.network_data.load_network`.

One output row per usable source row (a psychotherapy arm against another arm, one instrument,
one timepoint) of the databases in ``NETWORKS``. Rows are read with
:func:`evidence.review.sources.read_metapsy`; each arm is mapped to a treatment node with
``data/network_nodes.csv`` (a psychodynamic arm as :mod:`evidence.review.sources` detects it is
always ``pdt``). Values are copied, never computed; the locator ``metapsy:<db>@<commit> row N``
names the source row (1-based data row of ``data.csv``).

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

from evidence.review.data import load  # noqa: E402
from evidence.review.network_data import COLUMNS, EXCLUSION_COLUMNS, load_nodes  # noqa: E402
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
#: curated condition -> database whose network takes a curated trial that no network database
#: holds (from a trial report, or from depression-anxiety-transdiagnostic, which is no network)
CURATED_NETWORK = {
    "bulimia_nervosa": "ed-psyctr",
    "somatic_symptom": "bodily-distress-psyctr",
    "depression": "depression-psyctr",
}

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


def _num(x: object) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def _text(x: object) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    return _num(x) if isinstance(x, float) else str(x)


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


def _node(nodes: dict, db: str, row: pd.Series, side: str) -> tuple[str, str]:
    """(node, mapping key used) of one arm of a source row."""
    if side == "1" and row.get("arm1_class") == "psychodynamic":
        return nodes[("*", "arm1_class", "psychodynamic")], "arm1_class=psychodynamic"
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


def _rows(
    db: str, folder: Path, nodes: dict, directions: dict, reported: set[str]
) -> tuple[list, list]:
    """Rows of one database; ``reported`` holds the row ids (``<db>:<row>``) whose curated row
    is a reported effect (kept as ``reported`` rows whatever their own statistics)."""
    commit = COMMITS[db]
    got = metapsy_source(folder).get("commit")
    if got != commit:
        raise SystemExit(f"{folder}: commit {got!r} != expected {commit!r}; update COMMITS")
    frame = read_metapsy(folder)
    where = f"metapsy:{db}@{commit[:7]}"
    out, excluded = [], []
    for _, row in frame.iterrows():
        loc = f"{where} row {row['source_row']}"

        def drop(reason: str, row=row, loc=loc) -> None:
            excluded.append(
                {
                    "database": db,
                    "source": loc,
                    "study": row["study"],
                    "arms": f"{_key(row, '1')} vs {_key(row, '2')}",
                    "what": f"{_text(row.get('outcome_type')) or 'msd'} "
                    f"{_text(row.get('instrument'))}".strip(),
                    "reason": reason,
                }
            )

        node1, how1 = _node(nodes, db, row, "1")
        node2, how2 = _node(nodes, db, row, "2")
        if "unmapped" in (node1, node2):
            drop(f"arm not mapped to a node ({how1 if node1 == 'unmapped' else how2})")
            continue
        if node1 == node2:
            drop(f"both arms map to node {node1!r}: no contrast between nodes")
            continue
        form = row["stats_form"]
        if f"{db}:{row['source_row']}" in reported:
            form = "reported"  # the curated effect wins; filled in by _curated
        if form is None:
            drop("no complete statistics group (means/SDs/n, change scores, events or precalc)")
            continue
        timepoint = row["timepoint"] or TIMEPOINT_FROM_METADATA.get(db)
        if timepoint is None:
            drop(f"timepoint {_text(row.get('time'))!r} not in the project's vocabulary")
            continue
        rec = dict.fromkeys(COLUMNS, "")
        study = str(row["study"])
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
            node1=node1,
            node2=node2,
            instrument=_text(row.get("instrument")),
            outcome_type=_text(row.get("outcome_type")) or form,
            rater=row["rater"] or "not_reported",
            timepoint=timepoint,
            time_weeks=_num(row.get("time_weeks")),
            stats_form=form,
            metapsy_g=_num(row.get(".g")),
            metapsy_g_se=_num(row.get(".g_se")),
            source=loc,
        )
        if not rec["year"]:
            rec["year_source"] = ""
        if form == "reported":
            pass
        elif form.startswith("precalc"):
            if form != "precalc_g" or db not in ORIENTED_G:
                drop(f"{form}: a precalculated effect whose orientation this database does not fix")
                continue
            # the stored .g repeats precalc_g oriented so that a positive value favours arm 1
            # (ed-psyctr stores precalc_g as arm1 - arm2 and flips it in .g)
            rec.update(effect_measure="SMD", effect=_num(row[".g"]), effect_se=_num(row[".g_se"]))
            rec["note"] = "effect-only row: effect and effect_se are Metapsy .g and .g_se"
        else:
            for col, src in _STATS[form].items():
                rec[col] = _num(row[src])
            fractional = [c for c in ("n1", "n2") if rec[c] != "" and float(rec[c]) % 1]
            if fractional:
                col = fractional[0]
                drop(f"{col} = {rec[col]} in the source is not a whole number of participants")
                continue
        # direction of the instrument: the hand table wins; else the sign of an oriented .g
        key = (db, rec["instrument"], rec["outcome_type"])
        stored = row.get(".g")
        rec["_gdir"] = ""
        if db in ORIENTED_G and isinstance(stored, float) and np.isfinite(stored) and stored:
            raw = _raw_sign(rec) if form in ("msd", "change", "events") else 0.0
            if raw:
                rec["_gdir"] = "true" if np.sign(stored) == raw else "false"
        if key in directions:
            rec["higher_is_better"] = directions[key][0]
            rec["direction_rule"] = "directions_table"
        out.append(rec)
    return out, excluded


def _consensus(frame: pd.DataFrame) -> pd.DataFrame:
    """Direction from the sign of an oriented ``.g``: per database, instrument and outcome type,
    the direction most rows' ``.g`` show (``_gdir``); rows whose own ``.g`` disagrees get a note.
    A tie leaves the direction unset (the row is then excluded)."""
    keys = ["database", "instrument", "outcome_type"]
    sizes = frame[frame["_gdir"] != ""].groupby([*keys, "_gdir"]).size()
    signs = {k: g.droplevel(keys).sort_values(ascending=False) for k, g in sizes.groupby(keys)}
    todo = (frame["higher_is_better"] == "") & frame["database"].isin(ORIENTED_G)
    for i in frame.index[todo]:
        key = tuple(frame.loc[i, keys])
        if key not in signs:
            continue
        counts = signs[key]
        if len(counts) > 1 and counts.iloc[0] == counts.iloc[1]:
            continue
        best = counts.index[0]
        frame.loc[i, "higher_is_better"] = best
        frame.loc[i, "direction_rule"] = f"metapsy_g_sign {counts.iloc[0]}/{counts.sum()}"
        if frame.loc[i, "_gdir"] not in ("", best):
            frame.loc[i, "note"] = (
                "this row's Metapsy .g has the sign opposite to its arm statistics under the "
                "instrument's direction; the arm statistics are used"
            )
    return frame.drop(columns="_gdir")


def _arm_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """Arm identifiers within a study; rows of one outcome that share arm 2 share ``arm2_id``."""
    frame["arm1_id"] = frame["study_id"] + "|" + frame["arm1"]
    frame["arm2_id"] = frame["study_id"] + "|" + frame["arm2"]
    frame["outcome_id"] = (
        frame["study_id"]
        + "|"
        + frame[["instrument", "outcome_type", "rater", "timepoint", "time_weeks"]].agg(
            "|".join, axis=1
        )
    )
    return frame


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


def _network_db(source: str) -> str | None:
    """The network database a curated row's ``source`` names (None: a report or another db)."""
    if not source.startswith("metapsy:"):
        return None
    db = source.split(":", 1)[1].split("@", 1)[0]
    return db if db in NETWORKS else None


def _reported_rows(ds) -> set[str]:
    """Row ids ``<db>:<row>`` of Metapsy rows whose curated row is a reported effect."""
    o = ds.outcomes
    rep = o[(o["stats_form"] == "reported") & (o["source_arm2_columns"] == "arm2")]
    return {
        f"{db}:{int(r.source_row1)}"
        for r in rep.itertuples()
        if (db := _network_db(str(r.source))) is not None
    }


def _curated(frame: pd.DataFrame, excluded: list, ds) -> tuple[pd.DataFrame, list]:
    """Apply the curated PDT data: values, exclusions, and trials no network database holds."""
    o = ds.outcomes
    src = o["source"].astype(str)
    in_net = src.map(_network_db).notna()
    by_loc = {}
    for r in o[in_net].itertuples():
        db = _network_db(r.source)
        if r.source_arm2_columns == "arm2":  # PDT vs the row's own arm 2
            rows = {int(r.source_row1): "both"}
        else:  # direct: arm 1 from the PDT row, arm 2 from the other active row's arm 1
            rows = {int(r.source_row1): "arm1", int(r.source_row2): "arm2_as_arm1"}
        for sr, role in rows.items():
            by_loc.setdefault(f"{db}:{sr}", []).append((r, role))
    frame = frame.copy()
    idx = {rid: i for i, rid in enumerate(frame["row_id"])}
    for rid, items in by_loc.items():
        if rid not in idx:
            continue
        i = frame.index[idx[rid]]
        ids = []
        for r, role in items:
            ids.append(r.effect_id)
            vals = {
                "n1": r.n1,
                "mean1": r.mean1,
                "sd1": r.sd1,
                "events1": r.events1,
                "n2": r.n2,
                "mean2": r.mean2,
                "sd2": r.sd2,
                "events2": r.events2,
            }
            if role == "both" and r.stats_form == "reported":  # an effect, oriented: + = PDT
                frame.loc[i, "stats_form"] = "reported"
                frame.loc[i, "effect_measure"] = r.measure
                frame.loc[i, "effect"] = _num(r.yi)
                frame.loc[i, "effect_se"] = _num(np.sqrt(r.vi))
                frame.loc[i, "note"] = (
                    "effect-only row: effect and effect_se are the curated yi and sqrt(vi) "
                    "(oriented so that a positive value favours arm 1)"
                )
            if role in ("both", "arm1"):
                cols = (*_ARM1, *_ARM2) if role == "both" else _ARM1
                for col in cols:
                    frame.loc[i, col] = _num(vals[col])
                frame.loc[i, "higher_is_better"] = "true" if r.higher_is_better else "false"
                frame.loc[i, "direction_rule"] = "curated_instruments"
                frame.loc[i, "trial_id"] = r.trial_id
            else:  # the curated row's arm 2 is this row's arm 1
                for a, b in zip(_ARM1, _ARM2, strict=True):
                    frame.loc[i, a] = _num(vals[b])
                if not frame.loc[i, "trial_id"]:
                    frame.loc[i, "trial_id"] = r.trial_id
        frame.loc[i, "curated_effect_ids"] = ";".join(sorted(set(ids)))
    # every row of a curated trial carries its trial_id (other arms of the same trial)
    trial_of = frame.loc[frame["trial_id"] != "", ["study_id", "trial_id"]].drop_duplicates()
    frame = frame.drop(columns="trial_id").merge(trial_of, on="study_id", how="left")
    frame["trial_id"] = frame["trial_id"].fillna("")
    # source rows the curated data exclude
    exc = ds.exclusions[ds.exclusions["source"].astype(str).str.startswith("metapsy:")]
    for r in exc.itertuples():
        db = r.source.split(":", 1)[1].split("@", 1)[0]
        rid = f"{db}:{int(r.source_row)}"
        hit = frame["row_id"] == rid
        if hit.any():
            row = frame[hit].iloc[0]
            excluded.append(
                {
                    "database": db,
                    "source": row["source"],
                    "study": row["study"],
                    "arms": f"{row['arm1']} vs {row['arm2']}",
                    "what": f"{row['outcome_type']} {row['instrument']}".strip(),
                    "reason": "excluded by the curated data (data/exclusions_metapsy.csv): "
                    + r.reason,
                }
            )
            frame = frame[~hit]
    # curated trials that no network database holds
    in_metapsy = set(o.loc[in_net, "trial_id"])
    nodes = load_nodes()
    arms = ds.arms.set_index("arm_id")
    comps = ds.comparisons.set_index("comparison_id")
    years = ds.trials.set_index("trial_id")["year"]
    add = []
    for r in o[~in_net].itertuples():
        if r.trial_id in in_metapsy:
            raise SystemExit(f"{r.effect_id}: trial also has Metapsy rows; reconcile by hand")
        db = CURATED_NETWORK.get(r.condition)
        if db is None:
            excluded.append(
                {
                    "database": "",
                    "source": r.source,
                    "study": r.study,
                    "arms": r.comparison_id,
                    "what": str(r.instrument),
                    "reason": f"curated trial of condition {r.condition!r}: none of the networks "
                    "covers it",
                }
            )
            continue
        c = comps.loc[r.comparison_id]
        a1, a2 = arms.loc[c["arm1_id"]], arms.loc[c["arm2_id"]]
        node1 = nodes[("curated", "arm_class", a1["arm_class"])]
        node2 = nodes[("curated", "arm_class", a2["arm_class"])]
        where = r.source
        if r.source.startswith("metapsy:"):  # a database that is no network
            where = f"{r.source} row {int(r.source_row1)}"
        elif isinstance(r.source_location, str):
            where = f"{r.source} {r.source_location}".strip()
        if "unmapped" in (node1, node2):
            excluded.append(
                {
                    "database": db,
                    "source": where,
                    "study": r.study,
                    "arms": r.comparison_id,
                    "what": str(r.instrument),
                    "reason": "curated arm class not mapped to a node (data/network_nodes.csv)",
                }
            )
            continue
        rec = dict.fromkeys(COLUMNS, "")
        stats = {k: _num(getattr(r, k)) for k in (*_ARM1, *_ARM2)}
        rec.update(stats)
        rec.update(
            row_id=f"curated:{r.effect_id}",
            database=db,
            condition_group=NETWORKS[db],
            study_id=f"curated:{r.trial_id}",
            study=r.study,
            trial_id=r.trial_id,
            year=_num(years[r.trial_id]),
            year_source="curated data/trials.csv",
            rob=_num(float(r.rob)) if re.fullmatch(r"[0-9.]+", str(r.rob)) else _text(r.rob),
            format=_text(r.format),
            arm1=str(a1["label"]),
            arm2=str(a2["label"]),
            node1=node1,
            node2=node2,
            instrument=str(r.instrument),
            outcome_type=r.stats_form,
            rater=r.rater,
            timepoint=r.timepoint,
            time_weeks=_num(r.time_weeks),
            stats_form=r.stats_form,
            higher_is_better="true" if r.higher_is_better else "false",
            direction_rule="curated_instruments",
            source=where,
            curated_effect_ids=r.effect_id,
        )
        if r.stats_form == "reported":
            rec.update(
                effect_measure=r.measure,
                effect=_num(r.yi),
                effect_se=_num(np.sqrt(r.vi)),
                note="effect-only row: effect and effect_se are the curated yi and sqrt(vi) "
                "(oriented so that a positive value favours arm 1)",
            )
        add.append(rec)
    if add:
        extra = pd.DataFrame(add, columns=COLUMNS)
        extra = _arm_ids(extra)
        frame = pd.concat([frame, extra], ignore_index=True)
    return frame, excluded


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


def build(metapsy_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The network table and its exclusions, from the Metapsy copies in ``metapsy_dir``."""
    nodes = load_nodes()
    directions = _directions()
    ds = load()
    reported = _reported_rows(ds)
    rows, excluded = [], []
    for db in NETWORKS:
        got, dropped = _rows(db, Path(metapsy_dir) / db, nodes, directions, reported)
        rows += got
        excluded += dropped
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "_gdir"])
    frame = _consensus(frame)
    frame = _arm_ids(frame)
    frame, excluded = _curated(frame, excluded, ds)
    effect_only = frame["stats_form"].isin(("precalc_g", "reported"))
    nodir = (frame["higher_is_better"] == "") & ~effect_only
    for r in frame[nodir].itertuples():
        excluded.append(
            {
                "database": r.database,
                "source": r.source,
                "study": r.study,
                "arms": f"{r.arm1} vs {r.arm2}",
                "what": f"{r.outcome_type} {r.instrument}".strip(),
                "reason": "direction of the instrument not established (not in "
                "data/network/directions.csv, and .g of this database is not oriented)",
            }
        )
    frame = _shared_arms(_join_measurements(frame[~nodir]))
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
