"""Reconciliation of the network rows with the curated PDT data (tools/make_network_data.py).

- :func:`curated_values`: a Metapsy row that a curated outcome row was extracted from takes the
  curated values (``curated_effect_ids`` names the curated rows); direct comparisons give the
  other active arm's row the curated arm-2 values.
- :func:`curated_exclusions`: Metapsy rows the curated data exclude are excluded here with the same
  reason, except a row excluded only as a duplicate of a trial the curated data take from another
  database (``duplicate_of``): the network of the row's own database, analysed on its own, keeps
  it (with the trial's ``trial_id``).
- :func:`curated_only`: curated trials that no network database holds join the network of their
  condition (``CURATED_NETWORK``) as ``curated:<effect_id>`` rows.
- :func:`markers`: ``add_on`` and ``flag``/``flag_reason`` from the curated comparisons and
  outcome rows, plus the network-only flags of ``network_rules.SUSPECT``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from network_arms import curated as _curated_arms
from network_rules import SUSPECT, append_note, arm_ids, num, text

from evidence.review.network_data import COLUMNS, load_nodes

#: curated condition -> database whose network takes a curated trial that no network database
#: holds (from a trial report, or from depression-anxiety-transdiagnostic, which is no network)
CURATED_NETWORK = {
    "bulimia_nervosa": "ed-psyctr",
    "somatic_symptom": "bodily-distress-psyctr",
    "depression": "depression-psyctr",
}
#: curated report rows of trials the network already holds from a Metapsy database, left out of
#: the network by hand (trial_id -> reason); any other such row stops the tool
REPORT_ROWS_LEFT_OUT = {
    "leichsenring2013": (
        "a second source of Leichsenring 2013, the same trial the network holds from sad-psyctr: "
        "its remission and response counts, derived from the report's percentages "
        "(data/derived_counts.csv), stay in the curated data only"
    ),
}
_ARM1 = ("n1", "mean1", "sd1", "events1")
_ARM2 = ("n2", "mean2", "sd2", "events2")
_REPORTED_NOTE = (
    "effect-only row: effect and effect_se are the curated yi and sqrt(vi) (oriented so that a "
    "positive value favours arm 1)"
)


def network_db(source: str, networks: dict) -> str | None:
    """The network database a curated row's ``source`` names (None: a report or another db)."""
    if not source.startswith("metapsy:"):
        return None
    db = source.split(":", 1)[1].split("@", 1)[0]
    return db if db in networks else None


def _source_db(source: str) -> str:
    """The database of a ``metapsy:<db>@<commit>`` source ("" for a report)."""
    return source.split(":", 1)[1].split("@", 1)[0] if source.startswith("metapsy:") else ""


def reported_rows(ds, networks: dict) -> set[str]:
    """Row ids ``<db>:<row>`` of Metapsy rows whose curated row is a reported effect."""
    o = ds.outcomes
    rep = o[(o["stats_form"] == "reported") & (o["source_arm2_columns"] == "arm2")]
    return {
        f"{db}:{int(r.source_row1)}"
        for r in rep.itertuples()
        if (db := network_db(str(r.source), networks)) is not None
    }


def _by_location(ds, networks: dict) -> dict[str, list]:
    """Network row id -> [(curated outcome row, role)]: ``both`` (PDT vs the row's own arm 2),
    ``arm1`` (a direct comparison's PDT row) or ``arm2_as_arm1`` (its other active arm's row)."""
    o = ds.outcomes
    by_loc = {}
    for r in o[o["source"].astype(str).map(lambda s: network_db(s, networks)).notna()].itertuples():
        db = network_db(r.source, networks)
        if r.source_arm2_columns == "arm2":
            rows = {int(r.source_row1): "both"}
        else:
            rows = {int(r.source_row1): "arm1", int(r.source_row2): "arm2_as_arm1"}
        for sr, role in rows.items():
            by_loc.setdefault(f"{db}:{sr}", []).append((r, role))
    return by_loc


def _take(frame: pd.DataFrame, i, r, role: str) -> None:
    """Row ``i`` takes curated outcome row ``r``'s values in ``role`` (see :func:`_by_location`)."""
    vals = {k: getattr(r, k) for k in (*_ARM1, *_ARM2)}
    if role == "both" and r.stats_form == "reported":  # an effect, oriented: + = PDT
        frame.loc[i, "stats_form"] = "reported"
        frame.loc[i, "effect_measure"] = r.measure
        frame.loc[i, "effect"] = num(r.yi)
        frame.loc[i, "effect_se"] = num(np.sqrt(r.vi))
        frame.loc[i, "note"] = append_note(frame.loc[i, "note"], _REPORTED_NOTE)
    if role in ("both", "arm1"):
        for col in (*_ARM1, *_ARM2) if role == "both" else _ARM1:
            frame.loc[i, col] = num(vals[col])
        frame.loc[i, "higher_is_better"] = "true" if r.higher_is_better else "false"
        frame.loc[i, "direction_rule"] = "curated_instruments"
        frame.loc[i, "trial_id"] = r.trial_id
    else:  # the curated row's arm 2 is this row's arm 1
        for a, b in zip(_ARM1, _ARM2, strict=True):
            frame.loc[i, a] = num(vals[b])
        if not frame.loc[i, "trial_id"]:
            frame.loc[i, "trial_id"] = r.trial_id


def curated_values(frame: pd.DataFrame, ds, networks: dict) -> pd.DataFrame:
    """Rows a curated outcome row was extracted from take its values; every row of a curated
    trial carries its ``trial_id``."""
    frame = frame.copy()
    idx = {rid: i for i, rid in zip(frame.index, frame["row_id"], strict=True)}
    for rid, items in _by_location(ds, networks).items():
        if rid not in idx:
            continue
        for r, role in items:
            _take(frame, idx[rid], r, role)
        frame.loc[idx[rid], "curated_effect_ids"] = ";".join(
            sorted({r.effect_id for r, _ in items})
        )
    trial_of = frame.loc[frame["trial_id"] != "", ["study_id", "trial_id"]].drop_duplicates()
    frame = frame.drop(columns="trial_id").merge(trial_of, on="study_id", how="left")
    frame["trial_id"] = frame["trial_id"].fillna("")
    return frame


def curated_exclusions(frame: pd.DataFrame, excluded: list, ds) -> pd.DataFrame:
    """Exclude the Metapsy rows the curated data exclude (reason appended to ``excluded``).

    A row whose curated exclusion names ``duplicate_of`` (the curated comparison that holds the
    same trial) is excluded only when that comparison's rows come from the row's own database;
    otherwise this database's network keeps it, with the trial's ``trial_id`` and a note (each
    database's network is analysed on its own).
    """
    o, comps = ds.outcomes, ds.comparisons.set_index("comparison_id")
    frame = frame.copy()
    if "_comparison" not in frame:
        frame["_comparison"] = ""
    exc = ds.exclusions[ds.exclusions["source"].astype(str).str.startswith("metapsy:")]
    for r in exc.itertuples():
        db = _source_db(r.source)
        hit = frame["row_id"] == f"{db}:{int(r.source_row)}"
        if not hit.any():
            continue
        dup = r.duplicate_of if isinstance(r.duplicate_of, str) else ""
        held_in = set(o.loc[o["comparison_id"] == dup, "source"].astype(str).map(_source_db))
        if dup and db not in held_in:
            i = frame.index[hit][0]
            frame.loc[i, "trial_id"] = comps.loc[dup, "trial_id"]
            frame.loc[i, "_comparison"] = dup
            frame.loc[i, "note"] = append_note(
                frame.loc[i, "note"],
                f"same trial as curated comparison {dup} (from {', '.join(sorted(held_in))}): "
                "the curated data exclude this row (one effect per trial, "
                "data/exclusions_metapsy.csv); this database's network, analysed on its own, "
                "keeps it",
            )
            continue
        row = frame[hit].iloc[0]
        excluded.append(
            {
                "database": db,
                "source": row["source"],
                "study": row["study"],
                "arms": f"{row['arm1']} vs {row['arm2']}",
                "what": f"{row['outcome_type']} {row['instrument']}".strip(),
                "reason": f"excluded by the curated data (data/exclusions_metapsy.csv): {r.reason}",
            }
        )
        frame = frame[~hit]
    return frame


def _where(r) -> str:
    """Locator of a curated row added as a ``curated:`` row."""
    if r.source.startswith("metapsy:"):  # a database that is no network
        return f"{r.source} row {int(r.source_row1)}"
    if isinstance(r.source_location, str):
        return f"{r.source} {r.source_location}".strip()
    return r.source


def _curated_record(r, ds, db: str, networks: dict, nodes: tuple[str, str]) -> dict:
    """The network row of curated outcome row ``r`` added to the network of ``db``."""
    comps = ds.comparisons.set_index("comparison_id")
    arms = ds.arms.set_index("arm_id")
    c = comps.loc[r.comparison_id]
    rec = dict.fromkeys(COLUMNS, "")
    rec.update({k: num(getattr(r, k)) for k in (*_ARM1, *_ARM2)})
    rec.update(
        row_id=f"curated:{r.effect_id}",
        database=db,
        condition_group=networks[db],
        study_id=f"curated:{r.trial_id}",
        study=r.study,
        trial_id=r.trial_id,
        year=num(ds.trials.set_index("trial_id")["year"][r.trial_id]),
        year_source="curated data/trials.csv",
        rob=num(float(r.rob)) if re.fullmatch(r"[0-9.]+", str(r.rob)) else text(r.rob),
        format=text(r.format),
        arm1=str(arms.loc[c["arm1_id"], "label"]),
        arm2=str(arms.loc[c["arm2_id"], "label"]),
        node1=nodes[0],
        node2=nodes[1],
        instrument=str(r.instrument),
        outcome_type=r.stats_form,
        rater=r.rater,
        timepoint=r.timepoint,
        time_weeks=num(r.time_weeks),
        stats_form=r.stats_form,
        higher_is_better="true" if r.higher_is_better else "false",
        direction_rule="curated_instruments",
        source=_where(r),
        curated_effect_ids=r.effect_id,
    )
    _curated_arms(rec, arms.loc[c["arm1_id"]], arms.loc[c["arm2_id"]])
    if r.stats_form == "reported":
        rec.update(
            effect_measure=r.measure,
            effect=num(r.yi),
            effect_se=num(np.sqrt(r.vi)),
            note=_REPORTED_NOTE,
        )
    return rec


def curated_only(frame: pd.DataFrame, excluded: list, ds, networks: dict) -> pd.DataFrame:
    """Add the curated trials that no network database holds to the network of their condition
    (``CURATED_NETWORK``); a trial of no network's condition, or an arm class mapped to no node,
    goes to ``excluded``."""
    o = ds.outcomes
    in_net = o["source"].astype(str).map(lambda s: network_db(s, networks)).notna()
    in_metapsy = set(o.loc[in_net, "trial_id"])
    nodes = load_nodes()
    arms = ds.arms.set_index("arm_id")
    comps = ds.comparisons.set_index("comparison_id")
    add = []
    for r in o[~in_net].itertuples():
        what = {"study": r.study, "arms": r.comparison_id, "what": str(r.instrument)}
        if r.trial_id in in_metapsy:
            if r.trial_id not in REPORT_ROWS_LEFT_OUT:
                raise SystemExit(f"{r.effect_id}: trial also has Metapsy rows; reconcile by hand")
            reason = REPORT_ROWS_LEFT_OUT[r.trial_id]  # a report row, of no database
            excluded.append({"database": "", "source": r.source, **what, "reason": reason})
            continue
        db = CURATED_NETWORK.get(r.condition)
        if db is None:
            reason = f"curated trial of condition {r.condition!r}: none of the networks covers it"
            excluded.append({"database": "", "source": r.source, **what, "reason": reason})
            continue
        c = comps.loc[r.comparison_id]
        pair = tuple(
            nodes[("curated", "arm_class", arms.loc[c[a], "arm_class"])]
            for a in ("arm1_id", "arm2_id")
        )
        if "unmapped" in pair:
            reason = "curated arm class not mapped to a node (data/network_nodes.csv)"
            excluded.append({"database": db, "source": _where(r), **what, "reason": reason})
            continue
        add.append(_curated_record(r, ds, db, networks, pair))
    if add:
        extra = arm_ids(pd.DataFrame(add, columns=COLUMNS))
        frame = pd.concat([frame, extra], ignore_index=True)
    return frame


def markers(frame: pd.DataFrame, ds) -> pd.DataFrame:
    """``add_on`` (true when a curated comparison of the row is an add-on design: the row's
    curated outcome rows, or the comparison it duplicates) and ``flag``/``flag_reason`` (the
    curated rows' suspect flags, then :data:`network_rules.SUSPECT`)."""
    o = ds.outcomes.set_index("effect_id")
    add_on = ds.comparisons.set_index("comparison_id")["add_on"]
    frame = frame.copy()
    frame["add_on"], frame["flag"], frame["flag_reason"] = "false", "", ""
    own = frame["_comparison"].fillna("")
    for i in frame.index[(frame["curated_effect_ids"] != "") | (own != "")]:
        ids = [e for e in frame.loc[i, "curated_effect_ids"].split(";") if e]
        comps = {o.loc[e, "comparison_id"] for e in ids} | ({own[i]} - {""})
        frame.loc[i, "add_on"] = "true" if any(add_on[c] for c in comps) else "false"
        reasons = [o.loc[e, "flag_reason"] for e in ids if o.loc[e, "flag"] == "suspect"]
        if reasons:
            frame.loc[i, "flag"] = "suspect"
            frame.loc[i, "flag_reason"] = "; ".join(dict.fromkeys(reasons))
    for rid, reason in SUSPECT.items():
        hit = frame.index[frame["row_id"] == rid]
        if len(hit) != 1:
            raise SystemExit(f"network_rules.SUSPECT: row {rid} is not in the table")
        frame.loc[hit, "flag"] = "suspect"
        frame.loc[hit, "flag_reason"] = append_note(frame.loc[hit[0], "flag_reason"], reason)
    return frame
