"""Tests for evidence.review.sources.read_metapsy: synthetic edge cases and all 19 Metapsy
databases."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from evidence.review.sources import metapsy_source, read_metapsy

ROOT = Path(__file__).resolve().parents[1]
METAPSY = ROOT.parent / "shared" / "metapsy"
DATABASES = [
    "bodily-distress-psyctr", "borderline-psyctr", "depression-anxiety-transdiagnostic",
    "depression-inpatients", "depression-psyctr", "depression-selfguided-psyctr",
    "ed-digital-psyctr", "ed-psyctr", "gad-psyctr", "gambling-psyctr", "grief-psyctr",
    "ocd-psyctr", "panic-psyctr", "peer-support", "psychosis-psyctr", "ptsd-psyctr",
    "sad-psyctr", "suicide-psyctr", "total-response",
]  # fmt: skip
# rows per database (research/metapsy.md section 3)
ROWS = {
    "depression-psyctr": 900, "depression-inpatients": 143,
    "depression-anxiety-transdiagnostic": 122, "depression-selfguided-psyctr": 361,
    "panic-psyctr": 82, "ptsd-psyctr": 131, "sad-psyctr": 315, "gad-psyctr": 126,
    "borderline-psyctr": 54, "bodily-distress-psyctr": 449, "ed-psyctr": 44, "ocd-psyctr": 90,
    "psychosis-psyctr": 206, "suicide-psyctr": 190, "total-response": 569,
    "gambling-psyctr": 267, "grief-psyctr": 38, "ed-digital-psyctr": 384, "peer-support": 66,
}  # fmt: skip
# PDT rows per database (metapsy.md section 4; suicide counts the raw label incl. Britton 2020;
# sad-psyctr adds Johansson 2017, whose PDT arm has no dyn label, pdt-trials.md appendix)
PDT_ROWS = {
    "depression-psyctr": 21, "depression-inpatients": 8, "depression-anxiety-transdiagnostic": 7,
    "gad-psyctr": 3, "sad-psyctr": 7, "panic-psyctr": 2, "borderline-psyctr": 15,
    "suicide-psyctr": 14, "ptsd-psyctr": 1,
}  # fmt: skip


@pytest.fixture(scope="module")
def metapsy_dir() -> Path:
    if not METAPSY.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{METAPSY} is missing; Metapsy reader tests must run in CI")
        pytest.skip(f"{METAPSY} not present (fresh clone without ../shared)")
    return METAPSY


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_quoted_semicolons_newlines_and_decimal_comma(tmp_path):
    path = write(
        tmp_path,
        '"";"study";"condition_arm1";"condition_arm2";"mean_arm1";"full_ref"\n'
        '"1";"A, 2001";"dyn";"wl";"8,9";"Ref; with semicolon\nand newline"\n'
        '"2";"B, 2002";"cbt";"cau";"10.5";"x"\n',
    )
    df = read_metapsy(path, database="depression-psyctr")
    assert list(df["study"]) == ["A, 2001", "B, 2002"]
    assert df["full_ref"][0] == "Ref; with semicolon\nand newline"
    assert df["mean_arm1"].tolist() == [8.9, 10.5]  # mixed comma and point decimals
    assert df["source_line"].tolist() == [2, 4]  # the first record spans lines 2-3
    assert df["source_row"].tolist() == [1, 2]
    assert df["source_index"].tolist() == [1.0, 2.0]
    assert df["arm1_class"].tolist() == ["psychodynamic", "cbt"]
    assert df["arm2_class"].tolist() == ["waitlist", "usual_care"]


def test_no_index_column_na_and_text_columns(tmp_path):
    path = write(tmp_path, "study;condition_arm1;n_sessions\nA 2001; cbt ;NA\nB 2002;CBT;10-12\n")
    df = read_metapsy(path, database="psychosis-psyctr")
    assert "source_index" not in df
    assert df["condition_arm1"][0] == "cbt"  # whitespace stripped
    assert df["n_sessions"][0] is None and df["n_sessions"][1] == "10-12"  # stays text


def test_database_specific_labels(tmp_path):
    text = '"";"study";"condition_arm1";"condition_arm2";"multi_arm1"\n"1";"A";"mbt";"wl";"NA"\n'
    path = write(tmp_path, text)
    assert read_metapsy(path, database="borderline-psyctr")["pdt_variant"][0] == (
        "mentalization_based"
    )
    other = read_metapsy(path, database="depression-psyctr")
    assert other["arm1_class"][0] == "other_psychotherapy" and other["pdt_variant"][0] is None
    panic = '"";"study";"condition_arm1";"condition_arm2"\n"1";"A";"PD";"WL"\n"2";"B";"PT";"WL"\n'
    df = read_metapsy(write(tmp_path, panic), database="panic-psyctr")
    assert df["arm1_class"].tolist() == ["psychodynamic", None]


def test_folder_argument_and_source_file(tmp_path):
    write(tmp_path, '"";"study"\n"1";"A"\n')
    write(tmp_path, "source: https://github.com/metapsy-project/data-sad-psyctr\ncommit: abc\n",
          "_source.txt")  # fmt: skip
    df = read_metapsy(tmp_path)
    assert df["database"][0] == "sad-psyctr"
    assert metapsy_source(tmp_path)["commit"] == "abc"


def test_ragged_record_names_the_line(tmp_path):
    path = write(tmp_path, '"";"study"\n"1";"A"\n"2";"B";"extra"\n')
    with pytest.raises(ValueError, match="CSV line 3"):
        read_metapsy(path)


def test_not_metapsy_format_names_missing_columns(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match=r"missing required column\(s\) 'study'.*comma-separated"):
        read_metapsy(path)
    path = write(tmp_path, '"";"a";"b";"c"\n"1";"x";"y";"z"\n')
    with pytest.raises(ValueError, match=r"missing required column\(s\) 'study'"):
        read_metapsy(path)


def test_duplicate_header_is_named(tmp_path):
    path = write(tmp_path, '"";"study";"mean_arm1";"mean_arm1"\n"1";"A";"1";"2"\n')
    with pytest.raises(
        ValueError, match=r"duplicate column names: 'mean_arm1' at positions \[3, 4\]"
    ):
        read_metapsy(path)


def test_generic_label_classed_by_reference_title(tmp_path):
    text = (
        '"";"study";"condition_arm1";"condition_arm2";"multi_arm1";"full_ref"\n'
        '"1";"A";"Other psy";"wlc";"NA";"A. Internet-based psychodynamic therapy for X: an RCT"\n'
        '"2";"B";"Other psy";"wlc";"NA";"B. Integrative therapy (psychodynamic & CBT) for X"\n'
        '"3";"C";"Other psy";"wlc";"NA";"C. Imagery rescripting for X"\n'
    )
    df = read_metapsy(write(tmp_path, text), database="sad-psyctr")
    assert df["arm1_class"].tolist() == [
        "psychodynamic",
        "other_psychotherapy",
        "other_psychotherapy",
    ]


# Every trial research/metapsy.md section 4 lists as PDT ("PDT study lists" and the table), plus
# Johansson 2017 (sad-psyctr, no dyn label; pdt-trials.md appendix "Johansson 2017 ... IPDT SAD").
LISTED_PDT = {
    "depression-psyctr": {
        "Barber, 2012", "Beutel, 2014", "Cooper, 2003", "Fonagy, 2015", "Fonagy, 2019",
        "Gibbons, 2012", "Herrmann-Lingen, 2016", "Heshmati, 2023", "Johansson, 2012a",
        "Lemma, 2013", "Maina, 2005", "Simpson, 2003", "Town, 2017", "Vitriol, 2009",
    },
    "depression-inpatients": {"Roten, 2017"},
    "depression-anxiety-transdiagnostic": {"Hamilton, 2020", "Johansson, 2013", "Scheidt, 2013"},
    "gad-psyctr": {"Andersson, 2012"},
    "sad-psyctr": {"Leichsenring, 2013", "Rahmani, 2020", "Johansson, 2017"},
    "panic-psyctr": {"Martini, 2011", "Wiborg, 1996"},
    "borderline-psyctr": {
        "Amianto, 2011", "Gregory, 2008", "Majdara, 2019", "Reneses, 2013", "Bateman, 2009",
        "Carlyle, 2020", "Laurenssen, 2018", "Philips, 2018", "Doering, 2010",
    },
    "suicide-psyctr": {
        "Amianto 2011", "Andreoli 2016", "Bateman 1999", "Doering 2010", "Gregory 2008",
        "Guthrie 2001", "Walker 2016", "Bateman 2009", "Britton 2020",
    },
    "ptsd-psyctr": {"Brom, 1989"},
}  # fmt: skip


@pytest.mark.parametrize("db", sorted(LISTED_PDT))
def test_every_listed_pdt_trial_is_found(metapsy_dir, db):
    df = read_metapsy(metapsy_dir / db)
    found = set(df.loc[df["arm1_class"] == "psychodynamic", "study"])
    assert LISTED_PDT[db] == found


def test_johansson_2017_found(metapsy_dir):
    sad = read_metapsy(metapsy_dir / "sad-psyctr")
    row = sad[sad["study"] == "Johansson, 2017"].iloc[0]
    assert (row["source_row"], row["arm1_class"], row["instrument"]) == (
        139,
        "psychodynamic",
        "LSAS-SR",
    )


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_metapsy(tmp_path / "nope.csv")


@pytest.mark.parametrize("db", DATABASES)
def test_reads_every_metapsy_database(metapsy_dir, db):
    df = read_metapsy(metapsy_dir / db)
    assert len(df) == ROWS[db]
    assert df["database"].eq(db).all()
    assert df["source_row"].tolist() == list(range(1, len(df) + 1))
    assert df["source_line"].is_monotonic_increasing
    assert "" not in df.columns and df.columns.is_unique
    for col in ("mean_arm1", "sd_arm1", "n_arm1", "event_arm1", ".g"):
        if col in df and df[col].notna().any():
            assert df[col].dtype == np.float64, col
    assert int((df["arm1_class"] == "psychodynamic").sum()) == PDT_ROWS.get(db, 0)


def test_known_values(metapsy_dir):
    sad = read_metapsy(metapsy_dir / "sad-psyctr")
    row = sad.iloc[163]
    assert (row["study"], row["mean_arm1"], row["sd_arm1"], row["n_arm1"]) == (
        "Leichsenring, 2013",
        50.71,
        27.49,
        207.0,
    )
    assert row["pdt_variant"] is None and row["arm1_class"] == "psychodynamic"
    ptsd = read_metapsy(metapsy_dir / "ptsd-psyctr")
    assert ptsd.loc[ptsd["arm1_class"] == "psychodynamic", "study"].tolist() == ["Brom, 1989"]
