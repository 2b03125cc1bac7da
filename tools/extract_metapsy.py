"""Build data/outcomes_metapsy.csv and data/exclusions_metapsy.csv from the Metapsy databases.

Usage (from the repository root)::

    .venv/bin/python tools/extract_metapsy.py [METAPSY_DIR]

METAPSY_DIR defaults to ``../shared/metapsy``. Each database folder must hold ``data.csv`` and
``_source.txt`` (repository and commit); the commit is checked against ``COMMITS`` below so that
a different release is never mixed in silently (update ``COMMITS`` and rerun to move on).

Every psychodynamic (PDT) row that :func:`evidence.review.sources.read_metapsy` finds (``arm1_class
== "psychodynamic"``) must be either mapped to a comparison in ``PDT_ROWS`` or listed in ``EXCLUDE``
with a reason; otherwise the tool stops. Direct PDT vs other-treatment comparisons are built in
``DIRECT`` from two rows of the same multi-arm trial that share the control arm: arm 1 comes from
the PDT row, arm 2 from the other active arm's row (its arm-1 columns). Values are copied exactly
(no arithmetic); the source row numbers are the 1-based data rows of ``data.csv``. Rows with no
usable arm statistics take the database's stored ``.g``/``.g_se`` where ``STORED_G`` says so
(with the sign rule in ``derived``); ``CONSIDERED`` logs non-PDT rows that were looked at, and
``SUSPECT`` flags kept values that look wrong.
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

from evidence.review.sources import metapsy_source, read_metapsy  # noqa: E402

COMMITS = {
    "depression-psyctr": "ceeabb718db4a8ed6d5c5e265262d6ed7a392b72",
    "depression-inpatients": "65e600ceb8d5cc2f180b39f2f2f647d19b70c9fa",
    "gad-psyctr": "71ad21890b7ec81c05122238be9ae54a326a08b0",
    "sad-psyctr": "cc33ac16fa9c8958b64f427c4bb024dacfef1e42",
    "panic-psyctr": "2318d1461256c438c0eaba04970af0b06dfa0649",
    "borderline-psyctr": "0c26f8f0ab5881332db1ea7d09a45917914bb79f",
    "suicide-psyctr": "8837c4733736b3aacf7bb95bd92302a3881f520a",
    "ptsd-psyctr": "18e03cb817d8be8f65f7aceb51212d59fc8e275b",
    "depression-anxiety-transdiagnostic": "2ded2727dd885c8988dbb3abe7c4d7deee3aa3d5",
}

# (database, study, arm-1 key) -> comparison_id; arm-1 key = multi_arm1 if given, else
# condition_arm1
PDT_ROWS = {
    ("depression-psyctr", "Barber, 2012", "dyn"): "barber2012-pdt-pbo",
    ("depression-psyctr", "Beutel, 2014", "dyn"): "beutel2014-pdt-cau",
    (
        "depression-psyctr",
        "Cooper, 2003",
        "dyn (psychodynamic psychotherapy)",
    ): "cooper2003-pdt-cau",
    ("depression-psyctr", "Fonagy, 2015", "dyn"): "fonagy2015-pdt-tau",
    ("depression-psyctr", "Fonagy, 2019", "dyn"): "fonagy2019-pdt-lit",
    ("depression-psyctr", "Gibbons, 2012", "dyn"): "gibbons2012-pdt-cau",
    ("depression-psyctr", "Herrmann-Lingen, 2016", "dyn"): "herrmannlingen2016-pdt-cau",
    ("depression-psyctr", "Heshmati, 2023", "dyn"): "heshmati2023-pdt-wl",
    ("depression-psyctr", "Johansson, 2012a", "dyn"): "johansson2012-pdt-wl",
    (
        "depression-psyctr",
        "Lemma, 2013",
        "dyn (i-psychodynamic with therapist support)",
    ): "lemma2013-pdt-ctr",
    ("depression-psyctr", "Maina, 2005", "dyn (dynamic therapy)"): "maina2005-pdt-wl",
    ("depression-psyctr", "Simpson, 2003", "dyn"): "simpson2003-pdt-cau",
    ("depression-psyctr", "Town, 2017", "dyn"): "town2017-pdt-cau",
    ("depression-psyctr", "Vitriol, 2009", "dyn"): "vitriol2009-pdt-cau",
    ("depression-inpatients", "Roten, 2017", "dyn"): "roten2017-pdt-cau",
    ("gad-psyctr", "Andersson, 2012", "dyn"): "andersson2012-pdt-wl",
    ("sad-psyctr", "Leichsenring, 2013", "dyn"): "leichsenring2013-pdt-wl",
    ("sad-psyctr", "Rahmani, 2020", "dyn (ISTDP)"): "rahmani2020-istdp-wl",
    ("sad-psyctr", "Rahmani, 2020", "dyn (IB-ISTDP)"): "rahmani2020-ibistdp-wl",
    ("sad-psyctr", "Johansson, 2017", "Other psy"): "johansson2017-pdt-wl",
    ("depression-anxiety-transdiagnostic", "Johansson, 2013", "dyn"): "johansson2013-pdt-ctr",
    ("depression-anxiety-transdiagnostic", "Scheidt, 2013", "dyn"): "scheidt2013-pdt-cau",
    ("suicide-psyctr", "Guthrie 2001", "Psychodynamic"): "guthrie2001-pdt-cau",
    ("panic-psyctr", "Martini, 2011", "PD"): "martini2011-pdt-sp",
    ("panic-psyctr", "Wiborg, 1996", "PD"): "wiborg1996-pdt-med",
    ("borderline-psyctr", "Amianto, 2011", "pdp"): "amianto2011-pdt-stm",
    ("borderline-psyctr", "Bateman, 2009", "mbt"): "bateman2009-mbt-scm",
    ("borderline-psyctr", "Carlyle, 2020", "mbt"): "carlyle2020-mbt-scm",
    ("borderline-psyctr", "Doering, 2010", "tfp"): "doering2010-tfp-ctbe",
    ("borderline-psyctr", "Gregory, 2008", "pdp"): "gregory2008-pdt-tau",
    ("borderline-psyctr", "Laurenssen, 2018", "mbt"): "laurenssen2018-mbt-tau",
    ("borderline-psyctr", "Majdara, 2019", "pdp"): "majdara2019-pdt-tau",
    ("borderline-psyctr", "Philips, 2018", "mbt"): "philips2018-mbt-tau",
    ("borderline-psyctr", "Reneses, 2013", "pdp"): "reneses2013-pdt-tau",
    ("suicide-psyctr", "Andreoli 2016", "psychotherapists"): "andreoli2016-psychotherapists-cau",
    ("suicide-psyctr", "Andreoli 2016", "nurses"): "andreoli2016-nurses-cau",
    ("suicide-psyctr", "Bateman 1999", "Psychodynamic"): "bateman1999-pdt-cau",
    ("suicide-psyctr", "Walker 2016", "Psychodynamic"): "walker2016-pdt-ctr",
    ("ptsd-psyctr", "Brom, 1989", "Psychodynamic psychotherapy C"): "brom1989-pdt-wl",
}

# comparison_id, database, study, PDT arm-1 key, other active arm's arm-1 key (same control arm)
DIRECT = [
    ("cooper2003-pdt-cbt", "depression-psyctr", "Cooper, 2003",
     "dyn (psychodynamic psychotherapy)", "cbt (cbt)"),
    ("cooper2003-pdt-counselling", "depression-psyctr", "Cooper, 2003",
     "dyn (psychodynamic psychotherapy)", "sup (nondirective counselling)"),
    ("fonagy2019-pdt-cbt", "depression-psyctr", "Fonagy, 2019", "dyn", "cbt"),
    ("maina2005-pdt-sup", "depression-psyctr", "Maina, 2005",
     "dyn (dynamic therapy)", "sup (supportive therapy)"),
    ("andersson2012-pdt-cbt", "gad-psyctr", "Andersson, 2012", "dyn", "cbt"),
    ("leichsenring2013-pdt-cbt", "sad-psyctr", "Leichsenring, 2013", "dyn", "cbt"),
    ("brom1989-pdt-td", "ptsd-psyctr", "Brom, 1989",
     "Psychodynamic psychotherapy C", "Exposure therapy A"),
]  # fmt: skip

_DUP_BPD = (
    "same trial is in borderline-psyctr; suicidal-behaviour event counts differ between the two "
    "databases (metapsy.md section 7.4), so the suicide-psyctr row is not merged"
)
# Rows whose effect is Metapsy's stored .g/.g_se (no usable arm statistics): database ->
# (outcome types or None for all, orientation of .g on the instrument's raw scale, sign rule).
STORED_G = {
    "depression-anxiety-transdiagnostic": (
        None,
        "comparator_vs_pdt",
        "effect = stored .g/.g_se (2 dp; the means lost their decimal points, metapsy.md 7.1); "
        "sign rule: + = arm 1 better (metapsy.md section 3), i.e. comparator minus PDT on these "
        "lower-is-better scales",
    ),
    "suicide-psyctr": (
        ("ideation",),
        "pdt_vs_comparator",
        "effect = stored .g/.g_se (the database has no ideation means); sign rule: .g = arm 1 "
        "minus arm 2 on ideation (negative = less ideation in arm 1), established over the "
        "database's ideation rows (tests/test_data.py::test_suicide_ideation_sign_convention)",
    ),
}
# (database, study, arm-1 key or None for all, outcome_type or None for all) -> reason
EXCLUDE = {
    ("suicide-psyctr", "Britton 2020", None, None): (
        "mislabelled 'Psychodynamic': the intervention is motivational interviewing for suicidal "
        "ideation (MI-SI), per the database's references (metapsy.md section 7.3)"
    ),
    ("suicide-psyctr", "Amianto 2011", None, None): _DUP_BPD,
    ("suicide-psyctr", "Doering 2010", None, None): _DUP_BPD,
    ("suicide-psyctr", "Gregory 2008", None, None): _DUP_BPD,
    ("suicide-psyctr", "Bateman 2009", None, None): (
        "duplicate of borderline-psyctr Bateman, 2009 'count' row (2/71 vs 16/63), kept from there"
    ),
    ("depression-anxiety-transdiagnostic", "Hamilton, 2020", None, None): (
        "mislabelled 'dyn': the reference is 'A randomised, controlled pilot study of cognitive "
        "analytic therapy (CAT) ...', so the arm is cognitive analytic therapy, not PDT"
    ),
}
# Trials excluded above only because the curated data already hold them from another database
# (one effect per trial in the curated data): (database, study) -> the curated comparison that
# holds the same trial (column ``duplicate_of``). The network of the excluded row's own database,
# which is analysed on its own, keeps the row (tools/make_network_data.py).
DUPLICATE_OF = {
    ("suicide-psyctr", "Amianto 2011"): "amianto2011-pdt-stm",
    ("suicide-psyctr", "Doering 2010"): "doering2010-tfp-ctbe",
    ("suicide-psyctr", "Gregory 2008"): "gregory2008-pdt-tau",
    ("suicide-psyctr", "Bateman 2009"): "bateman2009-mbt-scm",
}

# Non-PDT source rows looked at as possible PDT (or a merged PDT row) and not used:
# (database, source row) -> reason. Logged in exclusions_metapsy.csv.
CONSIDERED = {
    ("borderline-psyctr", 3): (
        "Andreoli 2016: both abandonment-psychotherapy arms merged ('mixed', 140 vs 30), "
        "outcome labelled 'suicide' (dich; outcomes 'only suicide'; 0 vs 1 events); the trial "
        "enters per arm from suicide-psyctr rows 3-4 (attempts), and this row would count the "
        "same participants twice. Not in the borderline-psyctr network either: the merged arm's "
        "generic label 'mixed' is mapped to other psychotherapy there (network_nodes.csv), so "
        "the row would enter that network as a non-PDT arm"
    ),
    ("depression-psyctr", 269): (
        "Heckman 2013: coping group teletherapy arm ('other psy (tele-cet)'), not PDT"
    ),
    ("depression-psyctr", 270): (
        "Heckman 2013: 'supportive-expressive group teletherapy' (tele-SEGT) for HIV-infected "
        "older adults, labelled 'other psy' (not 'dyn'); the shared sources do not describe it "
        "as psychodynamic, so it is not classed PDT (a judgement call: Barber 2012's individual "
        "supportive-expressive therapy is classed PDT)"
    ),
    ("gad-psyctr", 53): (
        "Levy Berg 2009: affect-focused body psychotherapy, 'an integrative method' per the "
        "reference title; not PDT"
    ),
    ("gad-psyctr", 71): (
        "Orvati Aziz 2020: 'integration of cognitive-behavioral therapy and short-term "
        "psychodynamic psychotherapy' (descr_ig): an integrative treatment, not PDT"
    ),
}

# Source rows kept but marked suspect: (database, source row) -> reason (column flag_reason).
SUSPECT = {
    ("depression-anxiety-transdiagnostic", 97): (
        "Scheidt 2013 HADS-D: SDs 0.9 and 0.9 with n = 23 per arm; with HADS-A's 0.8 and 0.8 (row "
        "98) the four smallest of the 150 HADS arm SDs across the 19 shared Metapsy databases "
        "(next smallest 1.0, median 3.8); 0.9 x sqrt(23) = 4.3 is a typical HADS SD, so these are "
        "very probably standard errors (the HADS-D g would then be about 0.11, not 0.55); the "
        "stored .g and the source values are kept, pooled with and without"
    ),
    ("depression-anxiety-transdiagnostic", 98): (
        "Scheidt 2013 HADS-A: SDs 0.8 and 0.8 with n = 23 per arm; with HADS-D's 0.9 and 0.9 (row "
        "97) the four smallest of the 150 HADS arm SDs across the 19 shared Metapsy databases "
        "(next smallest 1.0, median 3.8); 0.8 x sqrt(23) = 3.8 is a typical HADS SD, so these are "
        "very probably standard errors (the g is 0 either way: equal means); the stored .g and "
        "the source values are kept, pooled with and without"
    ),
    ("borderline-psyctr", 8): (
        "MBT post-treatment IIP SD 0.13 against 0.55 in the control arm and 0.54/0.47 at baseline "
        "(same row): probably an SE or a typing error; source value kept, pooled with and without"
    ),
    ("depression-psyctr", 281): (
        "instrument 'WAI-d' is the only such depression instrument among the database's 900 rows, "
        "is not defined in its metadata, and gives the largest depression effect (g = 1.66); what "
        "it measures could not be verified; pooled with and without"
    ),
}

# (database, source instrument, source outcome_type) -> project instrument (data/instruments.csv)
INSTRUMENTS = {
    ("depression-psyctr", "hdrs-17", "response (50% or cut-off)"): "HDRS-17 response",
    ("depression-psyctr", "scid", "remission (diag)"): "SCID remission",
    ("depression-psyctr", "epds", "msd"): "EPDS",
    ("depression-psyctr", "hdrs-17", "msd"): "HDRS-17",
    ("depression-psyctr", "bdi-2", "msd"): "BDI-II",
    ("depression-psyctr", "bsi - depression", "msd"): "BSI depression",
    ("depression-psyctr", "basis-24-d", "msd"): "BASIS-24 depression",
    ("depression-psyctr", "hdrs-24", "msd"): "HDRS-24",
    ("depression-psyctr", "hads-d", "msd"): "HADS-D",
    ("depression-psyctr", "WAI-d", "msd"): "WAI-d",
    ("depression-psyctr", "madrs-s", "msd"): "MADRS-S",
    ("depression-psyctr", "phq-9", "msd"): "PHQ-9",
    ("depression-psyctr", "bdi-1", "msd"): "BDI-I",
    ("depression-psyctr", "phq-9", "remission (cut-off, full)"): "PHQ-9 remission",
    ("depression-psyctr", "hdrs-17", "remission (cut-off, full)"): "HDRS-17 remission",
    ("depression-inpatients", "madrs", "response"): "MADRS response",
    ("depression-inpatients", "qids-sr", "response"): "QIDS-SR response",
    ("depression-inpatients", "madrs", "remission"): "MADRS remission",
    ("depression-inpatients", "qids", "remission"): "QIDS remission",
    ("gad-psyctr", "PSWQ", "msd"): "PSWQ",
    ("gad-psyctr", "GAD-Q-IV", "msd"): "GAD-Q-IV",
    ("gad-psyctr", "BAI", "msd"): "BAI",
    ("sad-psyctr", "LSAS", "msd"): "LSAS",
    ("sad-psyctr", "SPAI", "msd"): "SPAI",
    ("sad-psyctr", "LSAS-SR-avoidence", "msd"): "LSAS-SR avoidance",
    ("sad-psyctr", "LSAS-SR-fear", "msd"): "LSAS-SR fear",
    ("sad-psyctr", "LSAS-SR", "msd"): "LSAS-SR",
    ("depression-anxiety-transdiagnostic", "phq9", "msd"): "PHQ-9",
    ("depression-anxiety-transdiagnostic", "gad-7", "msd"): "GAD-7",
    ("depression-anxiety-transdiagnostic", "hads-d", "msd"): "HADS-D",
    ("depression-anxiety-transdiagnostic", "hads-a", "msd"): "HADS-A",
    ("suicide-psyctr", None, "ideation"): "suicidal ideation",
    ("panic-psyctr", "CGI", "msd"): "CGI severity",
    ("panic-psyctr", "HAMA", "msd"): "HAM-A",
    ("borderline-psyctr", "cgi-bpd global", "msd"): "CGI-BPD global",
    ("borderline-psyctr", "cgi-m-suicide", "dich"): "CGI-M suicide item (events)",
    ("borderline-psyctr", "iip", "msd"): "IIP",
    ("borderline-psyctr", "count", "dich"): "suicidal behaviour count (events)",
    ("borderline-psyctr", "dsm-iv", "msd"): "DSM-IV BPD criteria",
    ("borderline-psyctr", "cissb", "dich"): "CISSB suicidal behaviour (events)",
    ("borderline-psyctr", "best-bpd", "msd"): "BEST",
    ("borderline-psyctr", "lpc", "dich"): "LPC parasuicide (events)",
    ("borderline-psyctr", "bpdsi", "msd"): "BPDSI-IV",
    ("borderline-psyctr", "bpdsi-iv", "msd"): "BPDSI-IV",
    ("borderline-psyctr", "zan-bpd", "msd"): "ZAN-BPD",
    ("borderline-psyctr", "zan-bpd-suicidality", "dich"): "ZAN-BPD suicidality (events)",
    ("suicide-psyctr", None, "attempts"): "suicide attempt",
    ("ptsd-psyctr", "IES", "msd"): "IES",
}

COLUMNS = [
    "effect_id", "comparison_id", "instrument", "rater", "timepoint", "time_weeks", "stats_form",
    "n1", "mean1", "sd1", "n2", "mean2", "sd2", "events1", "events2",
    "reported_measure", "reported_estimate", "reported_ci_low", "reported_ci_high",
    "reported_se", "reported_orientation",
    "source", "source_row1", "source_row2", "source_arm2_columns", "source_study",
    "source_instrument", "source_outcome_type", "source_arms", "source_location", "source_url",
    "derived", "flag", "flag_reason", "note",
]  # fmt: skip
EXCLUSION_COLUMNS = [
    "source", "source_row", "source_study", "source_arms", "what", "reason", "duplicate_of",
]  # fmt: skip


def _key(row: pd.Series) -> str:
    return row["multi_arm1"] if isinstance(row.get("multi_arm1"), str) else row["condition_arm1"]


def _num(x: object) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def _text(x: object) -> str:
    return "NA" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _otype(db: str, row: pd.Series) -> str:
    value = row.get("outcome_type")
    return value if isinstance(value, str) else "msd"


def _excluded(db: str, row: pd.Series) -> str | None:
    for (d, study, arm, otype), reason in EXCLUDE.items():
        if d == db and row["study"] == study and arm in (None, _key(row)):
            if otype in (None, _otype(db, row)):
                return reason
    return None


def _arms_text(row: pd.Series) -> str:
    def arm(i: int) -> str:
        cond, multi = row.get(f"condition_arm{i}"), row.get(f"multi_arm{i}")
        return f"{cond} [{multi}]" if isinstance(multi, str) else str(cond)

    return f"{arm(1)} vs {arm(2)}"


def _stored_g(db: str, row: pd.Series) -> tuple[str, str] | None:
    """(orientation, rule) when the row's effect is taken from the stored .g, else None."""
    if db not in STORED_G:
        return None
    otypes, orientation, rule = STORED_G[db]
    return (orientation, rule) if otypes is None or _otype(db, row) in otypes else None


def _stats(row: pd.Series, group: str) -> dict[str, str]:
    """Statistics of one arm-column group ('arm1' or 'arm2') of a source row."""
    if row["stats_form"] == "msd":
        return {
            "n": _num(row[f"n_{group}"]),
            "mean": _num(row[f"mean_{group}"]),
            "sd": _num(row[f"sd_{group}"]),
        }
    if row["stats_form"] == "events":
        return {"n": _num(row[f"totaln_{group}"]), "events": _num(row[f"event_{group}"])}
    raise ValueError(f"unsupported statistics form {row['stats_form']!r} in {row['study']}")


def _out_row(db, commit, cid, pdt, other, other_group) -> dict[str, str]:
    otype = _otype(db, pdt)
    instrument = INSTRUMENTS[(db, pdt.get("instrument"), otype)]
    stored = _stored_g(db, pdt)
    if stored:
        s1, s2 = {"n": _num(pdt.get("n_arm1"))}, {"n": _num(pdt.get("n_arm2"))}
        form = "reported"
    else:
        s1, s2 = _stats(pdt, "arm1"), _stats(other, other_group)
        form = pdt["stats_form"]
    rec = dict.fromkeys(COLUMNS, "")
    rec.update(
        effect_id=f"{cid}:{_slug(instrument)}:{pdt['timepoint']}",
        comparison_id=cid,
        instrument=instrument,
        rater=pdt["rater"] or "not_reported",
        timepoint=pdt["timepoint"],
        # a post row at week 0 is a placeholder in the source, not a time: left empty
        time_weeks=""
        if pdt["timepoint"] == "post" and pdt.get("time_weeks") == 0
        else _num(pdt.get("time_weeks")),
        stats_form=form,
        n1=s1["n"],
        n2=s2["n"],
        source=f"metapsy:{db}@{commit[:7]}",
        source_row1=str(pdt["source_row"]),
        source_row2=str(other["source_row"]),
        source_arm2_columns=other_group,
        source_study=pdt["study"],
        source_instrument=pdt.get("instrument") or "",
        source_outcome_type=otype,
        source_arms=_arms_text(pdt)
        if other is pdt
        else f"{_arms_text(pdt)} // {_arms_text(other)}",
    )
    if stored:
        rec.update(
            reported_measure="SMD",
            reported_estimate=_num(pdt[".g"]),
            reported_se=_num(pdt[".g_se"]),
            reported_orientation=stored[0],
            derived=stored[1],
        )
    elif form == "msd":
        rec.update(mean1=s1["mean"], sd1=s1["sd"], mean2=s2["mean"], sd2=s2["sd"])
    else:
        rec.update(events1=s1["events"], events2=s2["events"])
    if pdt["timepoint"] == "post" and pdt.get("time_weeks") == 0:
        rec["derived"] = "; ".join(
            x for x in (rec["derived"], "time_weeks: source 0 on a post row, left empty") if x
        )
    flag = SUSPECT.get((db, int(pdt["source_row"])))
    if flag:
        rec.update(flag="suspect", flag_reason=flag)
    return rec


def build(metapsy_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    outcomes, exclusions = [], []
    seen = set()
    for db, commit in COMMITS.items():
        folder = metapsy_dir / db
        got = metapsy_source(folder).get("commit")
        if got != commit:
            raise SystemExit(f"{folder}: commit {got!r} != expected {commit!r}; update COMMITS")
        frame = read_metapsy(folder)
        for (cdb, srow), reason in CONSIDERED.items():
            if cdb == db:
                row = frame.iloc[srow - 1]
                exclusions.append(
                    {
                        "source": f"metapsy:{db}@{commit[:7]}",
                        "source_row": str(srow),
                        "source_study": row["study"],
                        "source_arms": _arms_text(row),
                        "what": f"{_otype(db, row)} {row.get('instrument') or ''}".strip(),
                        "reason": reason,
                    }
                )
        pdt_rows = frame[frame["arm1_class"] == "psychodynamic"]
        for _, row in pdt_rows.iterrows():
            reason = _excluded(db, row)
            if reason:
                exclusions.append(
                    {
                        "source": f"metapsy:{db}@{commit[:7]}",
                        "source_row": str(row["source_row"]),
                        "source_study": row["study"],
                        "source_arms": _arms_text(row),
                        "what": f"{_otype(db, row)} {row.get('instrument') or ''}".strip(),
                        "reason": reason,
                        "duplicate_of": DUPLICATE_OF.get((db, row["study"]), ""),
                    }
                )
                continue
            key = (db, row["study"], _key(row))
            if key not in PDT_ROWS:
                raise SystemExit(f"unmapped PDT row {row['source_row']} of {db}: {key}")
            seen.add(key)
            outcomes.append(_out_row(db, commit, PDT_ROWS[key], row, row, "arm2"))
        for cid, ddb, study, pdt_key, other_key in DIRECT:
            if ddb != db:
                continue
            trial = frame[frame["study"] == study]
            keys = trial.apply(_key, axis=1)
            pdt_part, other_part = trial[keys == pdt_key], trial[keys == other_key]
            match = ["instrument", "outcome_type", "time", "time_weeks", "condition_arm2"]
            match = [m for m in match if m in trial]
            for _, prow in pdt_part.iterrows():
                want = [_text(prow[m]) for m in match]
                same = other_part[
                    other_part[match].apply(lambda r, w=want: [_text(v) for v in r] == w, axis=1)
                ]
                if len(same) != 1:
                    raise SystemExit(f"{cid}: {len(same)} matching rows for {prow['source_row']}")
                orow = same.iloc[0]
                if _stats(orow, "arm2") != _stats(prow, "arm2"):
                    raise SystemExit(f"{cid}: control arms differ, rows {prow['source_row']}")
                outcomes.append(_out_row(db, commit, cid, prow, orow, "arm1"))
    missing = set(PDT_ROWS) - seen
    if missing:
        raise SystemExit(f"PDT_ROWS entries not found in the data: {sorted(missing)}")
    out = pd.DataFrame(outcomes, columns=COLUMNS).sort_values(["comparison_id", "effect_id"])
    exc = pd.DataFrame(exclusions, columns=EXCLUSION_COLUMNS)
    return out, exc


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    metapsy_dir = Path(argv[0]) if argv else ROOT.parent / "shared" / "metapsy"
    out, exc = build(metapsy_dir)
    kw = {"index": False, "lineterminator": "\n", "quoting": csv.QUOTE_MINIMAL}
    out.to_csv(ROOT / "data" / "outcomes_metapsy.csv", **kw)
    exc.to_csv(ROOT / "data" / "exclusions_metapsy.csv", **kw)
    print(f"wrote {len(out)} outcome rows and {len(exc)} exclusions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
