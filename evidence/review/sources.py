"""Readers for external sources (stage 0 of the pipeline: **sources** -> data -> effects).

:func:`read_metapsy` reads any CSV that follows the Metapsy data standard
(https://docs.metapsy.org): semicolon separated, decimal comma, double-quoted cells that may hold
``;`` and newlines, ``NA`` for missing, and (in most databases) an unnamed leading row-index
column. It returns one tidy row per source row, keeps every source column, converts the columns
whose cells are all numbers to floats (accepting a decimal comma or a decimal point, because some
Metapsy files mix both), and adds columns that map the arm labels to the project's vocabularies
(see ``data/datapackage.json``):

``source_row``
    1-based data row in the file (the header is not counted).
``source_line``
    1-based CSV line on which the record starts (records can span lines).
``database``
    Metapsy shorthand, from ``_source.txt`` next to the file, the folder name, or the argument.
``arm1_class``, ``arm2_class``
    ``psychodynamic``, ``cbt``, ``other_psychotherapy``, ``medication``, ``usual_care``,
    ``waitlist``, ``placebo_attention``, or missing when the label cannot be mapped safely
    (e.g. Metapsy's catch-all ``other ctr``).
``pdt_variant``
    PDT variant of arm 1 where the label says it (e.g. ``tfp`` -> ``transference_focused``).
``timepoint``, ``rater``
    ``time`` and ``rating`` mapped to the project's vocabularies.
``stats_form``
    Which statistics group the row fills: ``msd``, ``change``, ``events``, ``precalc_g``,
    ``precalc_log_rr`` or missing.

Generic labels (``other psy``) carry no class; where such a row's reference title names a
psychodynamic therapy and no other therapy (e.g. sad-psyctr Johansson 2017, "Internet-based
affect-focused psychodynamic therapy ..."), arm 1 is classed ``psychodynamic``: Metapsy does not
always put its ``dyn`` code on PDT arms. Database-specific labels are handled explicitly:
``PD`` is psychodynamic only in panic-psyctr (where ``PT`` is physiological therapy); ``mbt``
is mentalization-based only in
borderline-psyctr (elsewhere it is mindfulness-based); sad-psyctr stores PDT as ``Other psy``
with ``multi_arm1`` starting ``dyn``; ptsd-psyctr names it in ``condition_arm1.detail``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["read_metapsy", "metapsy_source", "ARM_CLASSES", "REQUIRED_COLUMNS"]

ARM_CLASSES = (
    "psychodynamic",
    "cbt",
    "other_psychotherapy",
    "medication",
    "usual_care",
    "waitlist",
    "placebo_attention",
)

#: Columns every Metapsy data file has (the standard's study-design variables; total-response,
#: the one database without arm columns, still has ``study``).
REQUIRED_COLUMNS = ("study",)
#: Arm labels that name no treatment class: the reference title decides (see _title_pdt).
_GENERIC = {"other psy", "other psychotherapy", "otherpsy"}
_PDT_TITLE = re.compile(
    r"psychodynamic|psychoanaly|dynamic (?:psycho)?therapy|\bistdp\b|mentali[sz]ation-based|"
    r"transference-focused",
    re.IGNORECASE,
)
_OTHER_TITLE = re.compile(r"cognitive|behavio|integrat|interpersonal|versus|\bvs\.?\b", re.I)
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_MISSING = {"", "NA", "N/A", "NaN", "nan"}

# Labels that mean the same thing in every database (lower-cased).
_COMMON = {
    "dyn": "psychodynamic",
    "psychodynamic": "psychodynamic",
    "pdp": "psychodynamic",
    "tfp": "psychodynamic",
    "mentalisation-based": "psychodynamic",
    "cbt": "cbt",
    "ct": "cbt",
    "bt": "cbt",
    "cr": "cbt",
    "cognitive": "cbt",
    "tf-cbt": "cbt",
    "tf-cognitive therapy": "cbt",
    "cbt without trauma focus": "cbt",
    "cbtp": "cbt",
    "exposure": "cbt",
    "exposure therapy": "cbt",
    "erp": "cbt",
    "ipt": "other_psychotherapy",
    "pst": "other_psychotherapy",
    "problem solving": "other_psychotherapy",
    "interpersonal": "other_psychotherapy",
    "dbt": "other_psychotherapy",
    "dialectic": "other_psychotherapy",
    "st": "other_psychotherapy",
    "emdr": "other_psychotherapy",
    "sup": "other_psychotherapy",
    "supportive counselling": "other_psychotherapy",
    "wl": "waitlist",
    "wlc": "waitlist",
    "waitlist": "waitlist",
    "waiting list": "waitlist",
    "cau": "usual_care",
    "tau": "usual_care",
    "tau/nt": "usual_care",
    "enhanced cau": "usual_care",
    "pha": "medication",
    "pl": "placebo_attention",
    "placebo": "placebo_attention",
    "pill placebo": "placebo_attention",
    "psy plac": "placebo_attention",
    "att plac": "placebo_attention",
    "psychological placebo": "placebo_attention",
}

# Database-specific meanings that override or extend _COMMON.
_BY_DATABASE = {
    "panic-psyctr": {"pd": "psychodynamic", "pt": None, "sp": "other_psychotherapy", "pe": None},
    "borderline-psyctr": {"mbt": "psychodynamic"},
    "psychosis-psyctr": {"pe": None, "cr": None},
    "ptsd-psyctr": {"pe": "cbt"},
}

_VARIANT = {
    "tfp": "transference_focused",
    "mbt": "mentalization_based",
    "mentalisation-based": "mentalization_based",
    "dyn (istdp)": "istdp",
    # IB-ISTDP (Rahmani 2020): the abbreviation is not expanded in the shared sources, and the
    # database codes the arm's format 'ind' like the other ISTDP arm; read as ISTDP, not as
    # internet-delivered
    "dyn (ib-istdp)": "istdp",
}

_TIMEPOINT = {"post": "post", "follow up": "follow_up", "fu": "follow_up"}
_RATER = {
    "self-report": "self_report",
    "sr": "self_report",
    "clinician": "clinician",
    "clinican": "clinician",
    "cr": "clinician",
    "interview": "clinician",
    "interviewer-rated": "clinician",
    "caregiver-rated": "observer",
    "mixed": "mixed",
    "self-report, clinician": "mixed",
    "clinician, self-report": "mixed",
}

_FORMS = {
    "msd": ("mean_arm1", "sd_arm1", "n_arm1", "mean_arm2", "sd_arm2", "n_arm2"),
    "change": (
        "mean_change_arm1",
        "sd_change_arm1",
        "n_change_arm1",
        "mean_change_arm2",
        "sd_change_arm2",
        "n_change_arm2",
    ),
    "events": ("event_arm1", "totaln_arm1", "event_arm2", "totaln_arm2"),
    "precalc_g": ("precalc_g", "precalc_g_se"),
    "precalc_log_rr": ("precalc_log_rr", "precalc_log_rr_se"),
}


def metapsy_source(folder: str | Path) -> dict[str, str]:
    """Read ``_source.txt`` (``key: value`` lines) from a Metapsy copy; empty dict if absent.

    Examples
    --------
    >>> metapsy_source("/nonexistent")
    {}
    """
    path = Path(folder) / "_source.txt"
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _database_name(path: Path, given: str | None) -> str:
    if given:
        return given
    repo = metapsy_source(path.parent).get("source", "")
    if repo:
        name = repo.rstrip("/").rsplit("/", 1)[-1]
        name = name.removeprefix("data-")
        return "peer-support" if name == "peer-support-interventions" else name
    return path.parent.name


def _records(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=";", quotechar='"')
        try:
            header = next(reader)
        except StopIteration:
            raise ValueError(f"{path}: empty file, no header line") from None
        rows, lines = [], []
        start = reader.line_num + 1
        for rec in reader:
            if rec == []:
                start = reader.line_num + 1
                continue
            if len(rec) != len(header):
                raise ValueError(
                    f"{path}: CSV line {start}: {len(rec)} cells, header has {len(header)}"
                )
            rows.append(rec)
            lines.append(start)
            start = reader.line_num + 1
    return header, rows, lines


def _check_header(path: Path, header: list[str]) -> None:
    names = [h.strip() for h in header]
    named = [n for n in names if n]
    dup = sorted({n for n in named if named.count(n) > 1})
    if dup:
        where = "; ".join(
            f"{n!r} at positions {[i + 1 for i, h in enumerate(names) if h == n]}" for n in dup
        )
        raise ValueError(f"{path}: header line 1: duplicate column names: {where}")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        hint = (
            " (the header looks comma-separated; Metapsy files are semicolon-separated)"
            if len(names) == 1 and "," in names[0]
            else ""
        )
        raise ValueError(
            f"{path}: not a Metapsy data file: missing required column(s) "
            f"{', '.join(repr(c) for c in missing)}; header has {names}{hint}"
        )


def _title_pdt(ref: object) -> bool:
    """True when a reference's text names a psychodynamic therapy and no other therapy."""
    if not isinstance(ref, str):
        return False
    return bool(_PDT_TITLE.search(ref)) and not _OTHER_TITLE.search(ref)


def _to_number(col: pd.Series) -> pd.Series:
    present = col.dropna()
    if present.empty or not present.map(lambda s: bool(_NUMBER.match(s))).all():
        return col
    return col.map(lambda s: np.nan if s is None else float(s.replace(",", ".")), na_action=None)


def _map_arm(label: object, database: str) -> object:
    if not isinstance(label, str):
        return None
    key = label.strip().lower()
    specific = _BY_DATABASE.get(database, {})
    if key in specific:
        return specific[key]
    if key == "mbt":  # mindfulness-based outside borderline-psyctr
        return "other_psychotherapy"
    return _COMMON.get(key)


def _first(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def read_metapsy(path: str | Path, *, database: str | None = None) -> pd.DataFrame:
    """Read a Metapsy-standard CSV into a tidy frame (one row per source row).

    Parameters
    ----------
    path : str or Path
        The ``data.csv`` file, or a folder that contains it.
    database : str, optional
        Metapsy shorthand (e.g. ``"sad-psyctr"``). By default it is taken from ``_source.txt``
        next to the file, else from the folder name. It decides database-specific labels.

    Returns
    -------
    pandas.DataFrame
        All source columns (the unnamed row-index column is dropped; its values are kept as
        ``source_index``), text stripped of surrounding whitespace, ``NA`` as missing, all-number
        columns as floats; plus ``source_row``, ``source_line``, ``database``, ``arm1_class``,
        ``arm2_class``, ``pdt_variant``, ``timepoint``, ``rater`` and ``stats_form``.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A record whose number of cells differs from the header (names the CSV line); a header
        with duplicate column names (names them and their positions); a file without the
        required Metapsy columns (:data:`REQUIRED_COLUMNS`, named in the message).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "data.csv"
    >>> _ = tmp.write_text('"";"study";"condition_arm1";"condition_arm2";"mean_arm1"\\n'
    ...                    '"1";"A, 2001";"dyn";"wl";"8,9"\\n', encoding="utf-8")
    >>> df = read_metapsy(tmp, database="depression-psyctr")
    >>> df[["study", "arm1_class", "arm2_class", "mean_arm1", "source_row"]]
         study     arm1_class arm2_class  mean_arm1  source_row
    0  A, 2001  psychodynamic   waitlist        8.9           1
    """
    path = Path(path)
    if path.is_dir():
        path = path / "data.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no Metapsy CSV at {path}")
    db = _database_name(path, database)
    header, rows, lines = _records(path)
    _check_header(path, header)
    frame = pd.DataFrame(rows, columns=[h.strip() for h in header], dtype=object)
    frame = frame.apply(lambda c: c.str.strip()).where(lambda f: ~f.isin(_MISSING), None)
    if frame.columns[0] == "":
        frame = frame.rename(columns={"": "source_index"})
    frame = pd.concat(
        [
            pd.DataFrame(
                {"source_row": np.arange(1, len(frame) + 1), "source_line": lines, "database": db}
            ),
            pd.concat([_to_number(frame[c]) for c in frame.columns], axis=1),
        ],
        axis=1,
    )

    arm1 = _first(frame, "condition_arm1")
    multi1 = _first(frame, "multi_arm1")
    cls1 = arm1.map(lambda s: _map_arm(s, db)).astype(object)
    variant = arm1.map(lambda s: _VARIANT.get(s.lower()) if isinstance(s, str) else None)
    if db == "sad-psyctr":
        is_dyn = multi1.map(lambda s: isinstance(s, str) and s.lower().startswith("dyn"))
        cls1 = cls1.where(~is_dyn, "psychodynamic")
        cls1 = cls1.where(~(arm1.str.lower() == "other psy") | is_dyn, "other_psychotherapy")
        variant = variant.where(~is_dyn, multi1.map(lambda s: _VARIANT.get(str(s).lower())))
    ref = next((frame[c] for c in ("full_ref", "reference", "full_reference") if c in frame), None)
    if ref is not None:  # generic label, title names PDT only (e.g. sad-psyctr Johansson 2017)
        generic = arm1.map(lambda s: isinstance(s, str) and s.strip().lower() in _GENERIC)
        generic &= multi1.map(lambda s: not isinstance(s, str) or s.strip().lower() in _GENERIC)
        by_title = generic & ref.map(_title_pdt)
        cls1 = cls1.where(~by_title, "psychodynamic")
    if db == "ptsd-psyctr":
        detail = _first(frame, "condition_arm1.detail")
        is_dyn = detail.map(lambda s: isinstance(s, str) and "sychodynamic" in s)
        cls1 = cls1.where(~is_dyn, "psychodynamic")
    if db != "borderline-psyctr":
        variant = variant.where(~(arm1.str.lower() == "mbt"), None)
    extra = {
        "arm1_class": cls1,
        "arm2_class": _first(frame, "condition_arm2").map(lambda s: _map_arm(s, db)),
        "pdt_variant": variant.where(cls1 == "psychodynamic", None),
    }
    time = _first(frame, "time").map(
        lambda s: s if not isinstance(s, str) else re.sub(r"\d+$", "", s.lower())
    )
    extra["timepoint"] = time.map(lambda s: _TIMEPOINT.get(s) if isinstance(s, str) else None)
    extra["rater"] = _first(frame, "rating").map(
        lambda s: _RATER.get(s.lower()) if isinstance(s, str) else None
    )
    form = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for name, cols in reversed(_FORMS.items()):
        if all(c in frame for c in cols):
            full = frame[list(cols)].notna().all(axis=1)
            form = form.where(~full, name)
    extra["stats_form"] = form
    added = pd.DataFrame(extra, index=frame.index).astype(object)
    return pd.concat([frame, added.where(added.notna(), None)], axis=1)
