"""Arm descriptors of the network rows (tools/make_network_data.py): delivery format, number of
sessions and treatment length in weeks, each copied or mapped from the source row.

- **Delivery format** (``delivery1``, ``delivery2``; vocabulary
  :data:`evidence.review.network_data.DELIVERY`): mapped from the database's own codes by
  ``data/network_formats.csv``. An arm label listed there (column ``arm``) decides for that arm
  wherever it appears. Otherwise the databases' format columns are row-level and describe arm 1,
  the psychotherapy (their variable descriptions name no arm; borderline-psyctr: "the format of
  intervention"), so arm 2 is ``not_reported``; for arm 1 the columns of :data:`FORMAT_COLUMNS`
  are read most specific first, and the first code the table lists decides (a detail code not
  listed hands on to the next column; every code of the last column must be listed; a missing
  cell hands on too, and an arm with no code is ``not_reported``).
- **Sessions** (``sessions1``, ``sessions2``): the columns of :data:`SESSION_COLUMNS`, copied
  when the cell is a number; text (e.g. borderline-psyctr "approx. 140") is left empty and the
  row's ``note`` quotes it.
- **Treatment length** (``treatment_weeks1``, ``treatment_weeks2``): only bodily-distress-psyctr
  has such a field (``duration_therapy_arm1/2``, "duration of treatment"; in weeks: sessions /
  sessions per week reproduces it on 98% of its rows, test
  ``tests/test_network_mappings.py::test_sessions_and_weeks_are_copied_from_their_columns``).
"""

from __future__ import annotations

import re

import pandas as pd
from network_rules import append_note, num

#: database -> columns giving arm 1's delivery format, most specific first (``a/b``: the codes
#: of two columns joined by "/"). suicide-psyctr has no format column.
FORMAT_COLUMNS = {
    "depression-psyctr": ("format_details", "format"),
    "depression-inpatients": ("format_details", "format"),
    "depression-anxiety-transdiagnostic": ("format_details", "format"),
    "gad-psyctr": ("format_details", "format"),
    "sad-psyctr": ("format_details", "format"),
    "panic-psyctr": ("format",),
    "borderline-psyctr": ("format",),
    "ptsd-psyctr": ("delivery_method", "format"),
    "ed-psyctr": ("format",),
    "bodily-distress-psyctr": ("internet_based/guidance", "setting_arm1"),
    "suicide-psyctr": (),
}
#: database -> (arm 1 column, arm 2 column) of the number of sessions (variable descriptions:
#: "Average number of sessions received" in the depression, anxiety and eating databases;
#: panic-psyctr planned, realised where given; borderline-psyctr the average received, else the
#: planned number; ptsd-psyctr "Mean sessions completed"; bodily-distress-psyctr "number of
#: sessions/modules" per arm). suicide-psyctr has none.
SESSION_COLUMNS = {
    "depression-psyctr": ("n_sessions_arm1", None),
    "depression-inpatients": ("n_sessions_arm1", None),
    "depression-anxiety-transdiagnostic": ("n_sessions_arm1", None),
    "gad-psyctr": ("n_sessions_ig", None),
    "sad-psyctr": ("n_sessions_arm1", None),
    "panic-psyctr": ("n_sessions", None),
    "borderline-psyctr": ("n_sessions_ig", None),
    "ptsd-psyctr": ("psychotherapy_sessions_mean", None),
    "ed-psyctr": ("n_sessions_arm1", None),
    "bodily-distress-psyctr": ("n_sessions_arm1", "n_sessions_arm2"),
    "suicide-psyctr": (None, None),
}
#: database -> (arm 1 column, arm 2 column) of the treatment length in weeks.
WEEK_COLUMNS = {"bodily-distress-psyctr": ("duration_therapy_arm1", "duration_therapy_arm2")}
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def arm_key(row: pd.Series, side: str) -> str:
    """The arm label as the table writes it: ``condition_arm [multi_arm]``."""
    multi = row.get(f"multi_arm{side}")
    label = row.get(f"condition_arm{side}")
    base = label if isinstance(label, str) else "NA"
    return f"{base} [{multi}]" if isinstance(multi, str) else base


def code(row: pd.Series, column: str) -> str:
    """The source's code in ``column`` ("" when missing); ``a/b`` joins two columns' codes
    ("NA" for a missing one)."""
    if "/" in column:
        return "/".join(code(row, c) or "NA" for c in column.split("/"))
    value = row.get(column)
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return num(value) if isinstance(value, float) else str(value)


def delivery(formats: dict, db: str, row: pd.Series, side: str) -> str:
    """Delivery format of one arm of a source row (module rule)."""
    listed = formats.get((db, "arm", arm_key(row, side)))
    if listed is not None:
        return listed
    if side == "2":
        return "not_reported"
    columns = FORMAT_COLUMNS[db]
    for i, column in enumerate(columns):
        value = code(row, column)
        if not value:
            continue
        if (db, column, value) in formats:
            return formats[(db, column, value)]
        if i == len(columns) - 1:
            raise SystemExit(f"{db}: {column} code {value!r} not in data/network_formats.csv")
    return "not_reported"


def _number(rec: dict, row: pd.Series, column: str | None, target: str) -> None:
    """Copy ``column`` into ``rec[target]`` when it is a number; note text that is not."""
    if column is None:
        return
    value = code(row, column)
    if _NUMBER.match(value):
        rec[target] = value
    elif value:
        rec["note"] = append_note(
            rec["note"], f"{target}: {column} {value!r} is not a number (left empty)"
        )


def describe(rec: dict, row: pd.Series, db: str, formats: dict) -> None:
    """Fill ``delivery1/2``, ``sessions1/2`` and ``treatment_weeks1/2`` of ``rec`` from ``row``."""
    for side in "12":
        rec[f"delivery{side}"] = delivery(formats, db, row, side)
    sessions = SESSION_COLUMNS[db]
    weeks = WEEK_COLUMNS.get(db, (None, None))
    for i, side in enumerate("12"):
        _number(rec, row, sessions[i], f"sessions{side}")
        _number(rec, row, weeks[i], f"treatment_weeks{side}")


def curated(rec: dict, arm1: pd.Series, arm2: pd.Series) -> None:
    """Arm descriptors of a ``curated:`` row from ``data/arms.csv`` (delivery, sessions)."""
    for side, arm in (("1", arm1), ("2", arm2)):
        rec[f"delivery{side}"] = arm["delivery"]
        rec[f"sessions{side}"] = num(arm["sessions"])
