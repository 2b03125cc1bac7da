"""Rules of tools/make_network_data.py that look across rows (one trial under two study labels,
two trials under one label, the network-only suspect flags) and the cell helpers it shares with
tools/network_curated.py.

Each rule works within one database (each database's network is analysed on its own) and is
documented in ``data/network/README.md``.

- :func:`duplicate_reports`: two study labels of one database that report the same trial. Rule:
  a continuous row (means and SDs) of one label and a row of another label with the same
  instrument, outcome type and timepoint whose two arms have the same means and SDs (arm sizes
  may differ by a participant or two between reports), or an events row whose two arms have the
  same events and sizes. All rows of the later report (by year, then by source row) are excluded.
- :func:`separate_trials`: one study label that holds separate trials. Rule: an arm that rows of
  one measurement share (same label) has different arm sizes on them, so it cannot be one group
  of participants; the label's rows are split by their other arm's label.
- :data:`SUSPECT`: rows kept but marked suspect in the network only (the curated data's own
  flags come with the curated values).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Continuous and events statistics that identify a report of a trial (both arms).
_SAME = {
    ("msd", "change"): ("mean1", "sd1", "mean2", "sd2"),
    ("events",): ("n1", "events1", "n2", "events2"),
}
#: Network rows kept but marked suspect: row_id -> reason (column ``flag_reason``).
SUSPECT = {
    "depression-psyctr:518": (
        "sign cannot be checked: effect-only row (precalc_g 0.48 from a model; other_stat "
        "'p=0,052; B= -0,38, means in each group'), while the post means on the same row (arm 1 "
        "11.67 vs arm 2 9.12 on the EPDS, lower is better; baseline 12.88 vs 13.7) favour arm 2; "
        "kept as the source gives it"
    ),
    "ed-psyctr:19": (
        "sign cannot be checked: effect-only row (precalc_g 0.098 on 'change' in binge frequency, "
        ".g -0.098) with no arm statistics; ed-psyctr turns precalc_g round into .g, which is "
        "right for an arm 1 - arm 2 difference on a lower-is-better scale but wrong if the change "
        "is a reduction (higher = better); kept as the source gives it"
    ),
}


def num(x: object) -> str:
    """A number as the tables write it (integers without a decimal point; empty if missing).

    >>> num(3.0), num(0.25), num(float("nan"))
    ('3', '0.25', '')
    """
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def text(x: object) -> str:
    """A cell as text (numbers as :func:`num` writes them; empty if missing)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    return num(x) if isinstance(x, float) else str(x)


def append_note(old: str, new: str) -> str:
    """A note with ``new`` added (``; `` between notes).

    >>> append_note("", "b"), append_note("a", "b")
    ('b', 'a; b')
    """
    return f"{old}; {new}" if old else new


def exclusion(r, reason: str, database: str | None = None) -> dict:
    """An exclusions.csv row for a row ``r`` of the network frame."""
    return {
        "database": r["database"] if database is None else database,
        "source": r["source"],
        "study": r["study"],
        "arms": f"{r['arm1']} vs {r['arm2']}",
        "what": f"{r['outcome_type']} {r['instrument']}".strip(),
        "reason": reason,
    }


def arm_ids(frame: pd.DataFrame) -> pd.DataFrame:
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


def _label_order(rows: pd.DataFrame) -> tuple:
    """Sort key of a study label: year (missing last), then its first source row."""
    year = pd.to_numeric(rows["year"], errors="coerce").min()
    first = rows["row_id"].str.rsplit(":", n=1).str[1].astype(int).min()
    return (year if year == year else 9999, first)


def duplicate_pairs(frame: pd.DataFrame) -> list[dict]:
    """Pairs of study labels of one database whose rows report the same trial (module rule).

    Returns one dict per pair: ``database``, ``keep``, ``drop`` (study labels; the earlier
    report is kept), ``rows`` (the matching row ids, kept label first) and ``why``.

    Examples
    --------
    >>> rows = pd.DataFrame({
    ...     "row_id": ["db:1", "db:2", "db:3"], "database": "db", "study": ["A, 2013", "B, 2012",
    ...     "C, 2010"], "year": ["2013", "2012", "2010"], "instrument": "x", "outcome_type": "msd",
    ...     "timepoint": "post", "stats_form": "msd", "n1": ["10", "11", "10"], "mean1": ["1.5",
    ...     "1.5", "1.5"], "sd1": "1", "n2": "10", "mean2": ["2", "2", "3"], "sd2": "1",
    ...     "events1": "", "events2": ""})
    >>> [(p["keep"], p["drop"]) for p in duplicate_pairs(rows)]
    [('B, 2012', 'A, 2013')]
    """
    pairs = []
    for forms, cols in _SAME.items():
        part = frame[frame["stats_form"].isin(forms)]
        part = part[(part[list(cols)] != "").all(axis=1)]
        keys = ["database", "instrument", "outcome_type", "timepoint", *cols]
        for _, group in part.groupby(keys, sort=True):
            labels = list(dict.fromkeys(group["study"]))
            if len(labels) < 2:
                continue
            db = frame[frame["database"] == group["database"].iloc[0]]
            labels.sort(key=lambda s, db=db: _label_order(db[db["study"] == s]))
            keep = labels[0]
            for drop in labels[1:]:
                rows = [
                    group.loc[group["study"] == keep, "row_id"].iloc[0],
                    group.loc[group["study"] == drop, "row_id"].iloc[0],
                ]
                same = ", ".join(f"{c} {group[c].iloc[0]}" for c in cols)
                pairs.append(
                    {
                        "database": group["database"].iloc[0],
                        "keep": keep,
                        "drop": drop,
                        "rows": rows,
                        "why": f"{group['instrument'].iloc[0] or group['outcome_type'].iloc[0]}"
                        f" ({group['outcome_type'].iloc[0]}, {group['timepoint'].iloc[0]}): "
                        f"rows {rows[0]} and {rows[1]} have the same {same}",
                    }
                )
    seen, out = set(), []
    for p in pairs:  # one entry per pair of labels (the first matching outcome)
        if (p["database"], p["keep"], p["drop"]) not in seen:
            seen.add((p["database"], p["keep"], p["drop"]))
            out.append(p)
    return out


def duplicate_reports(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[dict], list[dict]]:
    """Drop every row of the later report of a trial under two labels (:func:`duplicate_pairs`).

    Returns the frame without those rows, the rows dropped (``row_id`` and ``reason``) and the
    pairs found. A pair in which the dropped label is a curated PDT trial stops the tool.
    """
    pairs = duplicate_pairs(frame)
    dropped = []
    for p in pairs:
        hit = (frame["database"] == p["database"]) & (frame["study"] == p["drop"])
        if (frame.loc[hit, "node1"] == "pdt").any():
            raise SystemExit(f"{p['drop']}: a PDT trial found as a duplicate; resolve by hand")
        reason = (
            f"same trial as {p['keep']!r} in this database, reported under another label: "
            f"{p['why']}; the earlier report, {p['keep']!r}, is kept (rule: "
            "data/network/README.md, one trial under two labels)"
        )
        dropped += [{"row_id": rid, "reason": reason} for rid in frame.loc[hit, "row_id"]]
        frame = frame[~hit]
    return frame, dropped, pairs


def separate_trials(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Split study labels that hold separate trials (module rule): the rows get
    ``study_id`` ``<study_id> [<other arm's label>]`` and new arm and outcome ids.

    ``frame`` must carry ``arm1_id``, ``arm2_id`` and ``outcome_id``
    (``make_network_data._arm_ids``). Returns the frame and the study ids split.
    """
    split = {}
    for side, other in (("2", "1"), ("1", "2")):
        arm_rows = frame[frame[f"n{side}"] != ""]
        sizes = arm_rows.groupby(["outcome_id", f"arm{side}_id"])[f"n{side}"].unique()
        for (outcome, arm), ns in sizes[sizes.map(len) > 1].items():
            hit = (frame["outcome_id"] == outcome) & (frame[f"arm{side}_id"] == arm)
            split.setdefault((frame.loc[hit, "study_id"].iloc[0], other), []).append(
                f"arm {arm.split('|', 1)[1]!r} of rows {', '.join(frame.loc[hit, 'row_id'])} has "
                f"different sizes ({' vs '.join(ns)})"
            )
    done = []
    for (sid, other), why in split.items():
        rows = frame["study_id"] == sid
        frame.loc[rows, "note"] = frame.loc[rows, "note"].map(
            lambda old, why=why: append_note(
                old,
                f"one of several trials under one study label: {'; '.join(why)}, so it is no "
                "single group of participants; each trial keeps its own arms (study_id names the "
                "trial by its other arm's label)",
            )
        )
        label = frame.loc[rows, f"arm{other}"].str.extract(r"\[(.+)\]$")[0]
        label = label.fillna(frame.loc[rows, f"arm{other}"])
        new = sid + " [" + label + "]"
        for col in ("arm1_id", "arm2_id", "outcome_id"):
            frame.loc[rows, col] = new + frame.loc[rows, col].str.slice(len(sid))
        frame.loc[rows, "study_id"] = new
        done.append(sid)
    return frame, done
