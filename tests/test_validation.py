"""Corrupt and implausible data: every case gets a DataValidationError naming file, row, column
and rule, and one run reports every problem (issue #16, section 2; issue #15, validate)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evidence.cli import main
from evidence.review.data import DataValidationError, Problem, default_path, load

FIXTURES = Path(__file__).parent / "fixtures" / "data_corrupt"

# fixture file -> (data row or None, column or None, rule fragment, text the detail must contain)
CORRUPT = {
    "outcomes_reports__empty.csv": (None, None, "header present", "the file is empty"),
    "outcomes_reports__latin1.csv": (2, "note", "encoding utf-8", "save it as UTF-8"),
    "outcomes_reports__ragged_row.csv": (2, None, "row length", "expected 35 fields"),
    "outcomes_reports__unterminated_quote.csv": (2, None, "CSV syntax", "opened on line 3"),
    "outcomes_reports__mean_inf.csv": (2, "mean1", "finite number", "got inf"),
    "outcomes_reports__sd_infinity.csv": (2, "sd1", "finite number", "got Infinity"),
    "outcomes_reports__n_huge.csv": (2, "n1", "maximum 100000", "got 1e300"),
    "outcomes_reports__n_not_integer.csv": (2, "n1", "type integer", "got 45.5"),
    "outcomes_reports__events_not_integer.csv": (2, "events1", "type integer", "got 6.5"),
    "outcomes_reports__estimate_outside_ci.csv": (
        2,
        "reported_estimate",
        "estimate inside its CI",
        "got 0.9 outside 0.1 to 0.5",
    ),
    "outcomes_reports__or_not_positive.csv": (2, "reported_estimate", "ratio > 0", "got -0.5"),
    "outcomes_reports__se_zero.csv": (2, "reported_se", "SE > 0", "got 0"),
    "outcomes_reports__se_inf.csv": (2, "reported_se", "finite number", "got inf"),
    "outcomes_reports__n_exceeds_randomised.csv": (
        2,
        "n1",
        "n within the randomised total",
        "got 86 > 70",
    ),
    "datapackage__not_json.json": (None, None, "valid JSON", "line 3"),
    "datapackage__no_resources.json": (None, None, "resources list", "'resources' list"),
    "datapackage__resource_without_schema.json": (None, None, "schema fields", "'fields' list"),
}


@pytest.fixture()
def corrupt_folder(tmp_path, drop_report_references):
    """``corrupt_folder(fixture)``: a copy of data/ with one file replaced by the fixture
    (``<file>__<case>.<ext>``); returns (folder, replaced file name). A replaced
    outcomes_reports.csv lacks the rows the reading log and derived counts name: those rows
    are dropped too, so only the fixture's own problems remain."""

    def make(fixture: str) -> tuple[Path, str]:
        folder = tmp_path / "data"
        shutil.copytree(default_path(), folder)
        stem, ext = fixture.split("__")[0], fixture.rsplit(".", 1)[1]
        target = f"{stem}.{ext}"
        shutil.copy(FIXTURES / fixture, folder / target)
        if target == "outcomes_reports.csv":
            drop_report_references(folder)
        return folder, target

    return make


def test_every_fixture_has_an_expectation():
    names = sorted(p.name for p in FIXTURES.iterdir())
    assert names == sorted([*CORRUPT, "outcomes_reports__many_errors.csv"])


@pytest.mark.parametrize("fixture", sorted(CORRUPT))
def test_corrupt_file_names_file_row_column_and_rule(corrupt_folder, fixture):
    row, column, rule, detail = CORRUPT[fixture]
    folder, target = corrupt_folder(fixture)
    with pytest.raises(DataValidationError) as info:
        load(folder)
    first = info.value.problems[0]
    assert first.file == f"{folder.as_posix()}/{target}"
    assert (first.row, first.column) == (row, column), str(first)
    assert rule in first.rule and detail in str(first).split(": rule")[0] + first.detail, str(first)
    assert "np.float64" not in str(info.value)


def test_message_gives_line_column_rule_and_expectation(corrupt_folder):
    folder, _ = corrupt_folder("outcomes_reports__n_huge.csv")
    with pytest.raises(DataValidationError) as info:
        load(folder)
    assert str(info.value.problems[0]).endswith(
        "outcomes_reports.csv: data row 2 (CSV line 3), column 'n1': rule 'maximum 100000' "
        "violated: n1 must be an integer <= 100000; got 1e300"
    )


def test_all_problems_reported_in_one_run(corrupt_folder):
    folder, _ = corrupt_folder("outcomes_reports__many_errors.csv")
    with pytest.raises(DataValidationError) as info:
        load(folder)
    got = [(p.row, p.column, p.rule) for p in info.value.problems]
    assert got == [
        (2, "n1", "minimum 0"),
        (4, "timepoint", "controlled vocabulary"),
        (4, "mean1", "finite number"),
        (3, "sd2", "SD > 0"),
    ]
    # the first-error attributes still describe the first problem
    assert (info.value.row, info.value.column, info.value.rule) == (2, "n1", "minimum 0")
    assert "n1 must be an integer >= 0; got -5" in str(info.value)
    assert len(str(info.value).splitlines()) == 4


def test_problems_in_several_files_reported_together(corrupt_folder):
    folder, _ = corrupt_folder("outcomes_reports__many_errors.csv")
    shutil.copy(FIXTURES / "outcomes_reports__sd_infinity.csv", folder / "outcomes_metapsy.csv")
    with pytest.raises(DataValidationError) as info:
        load(folder)
    files = {Path(p.file).name for p in info.value.problems}
    assert files == {"outcomes_metapsy.csv", "outcomes_reports.csv"}


def test_a_typo_gives_one_message_not_a_cascade(corrupt_folder):
    folder, _ = corrupt_folder("outcomes_reports__n_not_integer.csv")
    with pytest.raises(DataValidationError) as info:
        load(folder)
    assert len(info.value.problems) == 1


def test_year_in_the_future_is_refused(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    lines = (folder / "trials.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace(",2012,", ",10000,", 1)
    (folder / "trials.csv").write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load(folder)
    p = info.value.problems[0]
    assert (Path(p.file).name, p.row, p.column, p.rule) == (
        "trials.csv",
        1,
        "year",
        "year <= this year",
    )
    assert p.detail.endswith("got 10000")


def test_bundled_data_messages_name_the_repository_folder(tmp_path, monkeypatch):
    """Bundled data are named data/<file>, never by an absolute path outside the repository."""
    from evidence.review.data import dataset

    monkeypatch.setattr(dataset, "default_path", lambda: tmp_path.resolve())
    shutil.copytree(default_path(), tmp_path, dirs_exist_ok=True)
    (tmp_path / "arms.csv").write_bytes(b"")
    with pytest.raises(DataValidationError, match=r"^data/arms\.csv: header"):
        load()


def test_problem_is_frozen_and_printable():
    p = Problem("data/x.csv", None, "c", "known column", "not in the schema")
    assert str(p) == (
        "data/x.csv: header (CSV line 1), column 'c': rule 'known column' violated: "
        "not in the schema"
    )
    with pytest.raises(AttributeError):
        p.row = 3  # type: ignore[misc]


def test_cli_validate_lists_every_problem(corrupt_folder, capsys):
    folder, _ = corrupt_folder("outcomes_reports__many_errors.csv")
    assert main(["validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("INVALID: 4 problems in the data")
    assert err.count("outcomes_reports.csv: data row") == 4
    assert "got -5" in err and "Traceback" not in err


@pytest.mark.parametrize("in_a_build", [False, True])
def test_unreadable_file_is_a_validation_problem(tmp_path, monkeypatch, in_a_build):
    """Also in a build, where the loader's cache hashes the files first (its key must not
    hide the loader's own report)."""
    if in_a_build:
        from evidence.review.cache import CACHE_ENV

        (tmp_path / "cache").mkdir()
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "arms.csv":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(DataValidationError) as info:
        load(folder)
    p = info.value.problems[0]
    assert (Path(p.file).name, p.rule, p.detail) == (
        "arms.csv",
        "file readable",
        "Permission denied",
    )


# ------------------------------------------------------------------ hard edges (issue 27)


@pytest.mark.parametrize(
    ("file", "column", "value", "rule"),
    [
        ("outcomes_metapsy.csv", "mean1", "1e308", "magnitude"),  # was a raw ValueError
        ("outcomes_metapsy.csv", "sd2", "-1e300", "magnitude"),
        ("trials.csv", "study", "=cmd|' /C calc'!A0", "no formula"),  # CSV injection
        ("trials.csv", "study", "@SUM(1+1)", "no formula"),
        ("arms.csv", "label", "+thing", "no formula"),
        ("trials.csv", "study", "Smith\x002003", "no NUL bytes"),
        ("network/comparisons.csv", "study", "=HYPERLINK(1)", "no formula"),
        ("network/comparisons.csv", "study", "Smith\x00", "no NUL bytes"),
    ],
)
def test_hostile_cells_are_refused_naming_the_cell(
    tmp_path, capsys, file, column, value, rule, set_cell
):
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    set_cell(folder / file, 3, column, value)
    assert main(["validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"{Path(file).name}: data row 3" in err and f"column '{column}'" in err, err
    assert f"rule '{rule}'" in err and "Traceback" not in err


def test_negative_numbers_stay_numbers(tmp_path, set_cell):
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    set_cell(folder / "outcomes_metapsy.csv", 3, "mean1", "-2.5")
    assert load(folder).outcomes["mean1"].min() == -2.5


def test_a_huge_cell_is_a_cell_size_problem_not_csv_syntax(tmp_path, set_cell):
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    set_cell(folder / "trials.csv", 2, "study", "x" * 1_000_000)
    with pytest.raises(DataValidationError) as err:
        load(folder)
    assert err.value.rule == "cell size" and err.value.file.endswith("trials.csv")
    assert "line 3" in str(err.value)


def test_every_rule_that_fails_in_a_row_is_reported(tmp_path, set_cell):
    """Issue 26: a text value in n1 no longer hides a negative SD in the same row."""
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    set_cell(folder / "outcomes_metapsy.csv", 3, "n1", "abc")
    set_cell(folder / "outcomes_metapsy.csv", 3, "sd1", "-2")
    with pytest.raises(DataValidationError) as info:
        load(folder)
    got = [(p.row, p.column, p.rule) for p in info.value.problems]
    assert got == [(3, "n1", "type number"), (3, "sd1", "SD > 0")]
