"""Tests for the ``evidence`` command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evidence.cli import COMMANDS, main
from evidence.review.data import default_path

FIXTURES = Path(__file__).parent / "fixtures" / "data_bad"


def test_validate_bundled_data(capsys):
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "trials by condition x comparator class" in out
    assert "excluded" in out and "OK: data are valid" in out


def test_validate_explicit_path(capsys):
    assert main(["validate", str(default_path())]) == 0


def test_validate_bad_folder_exits_non_zero(tmp_path, capsys):
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    shutil.copy(FIXTURES / "outcomes_reports__events_exceed_n.csv", folder / "outcomes_reports.csv")
    assert main(["validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "INVALID" in err and "data row 2" in err and "column 'events1'" in err


def test_validate_missing_folder(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nowhere")]) == 1
    assert "datapackage.json" in capsys.readouterr().err


def test_subcommand_required():
    with pytest.raises(SystemExit):
        main([])
    assert "validate" in COMMANDS


# ------------------------------------------------------------------ one command line, clear errors

ROOT = Path(__file__).resolve().parents[1]


def _python_m(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -m evidence ARGS`` with this checkout importable."""
    environ = dict(os.environ, **env)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "evidence", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )


def test_python_m_is_the_same_command_line(tmp_path, capsys):
    ok = _python_m("validate")
    assert ok.returncode == main(["validate"]) == 0
    assert ok.stdout == capsys.readouterr().out
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    shutil.copy(FIXTURES / "outcomes_reports__events_exceed_n.csv", folder / "outcomes_reports.csv")
    bad = _python_m("validate", str(folder))
    assert bad.returncode == 1 and "column 'events1'" in bad.stderr
    usage = _python_m()
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_unknown_method_is_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        main(["build", "--method", "XX"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("evidence build: error: argument --method: invalid choice: 'XX'")
    assert "'REML'" in err


def test_build_with_invalid_data_prints_one_block(tmp_path, drop_report_references):
    shutil.copytree(default_path(), tmp_path / "data")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    many = Path(__file__).parent / "fixtures" / "data_corrupt" / "outcomes_reports__many_errors.csv"
    shutil.copy(many, tmp_path / "data" / "outcomes_reports.csv")
    drop_report_references(tmp_path / "data")
    run = _python_m("build", EVIDENCE_ROOT=str(tmp_path))
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert lines[0] == "BUILD FAILED" and lines[-1] == "committed outputs unchanged"
    assert lines[1] == "  4 problems in the data:"
    assert sum("outcomes_reports.csv: data row" in line for line in lines) == 4
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "figures").exists() and not (tmp_path / "site").exists()


def test_failing_notebook_prints_one_block(tmp_path, monkeypatch, capfd):
    """Exactly three lines on stderr (file descriptor level, so kernel messages such as the
    unencrypted-TCP warning would show)."""
    shutil.copytree(default_path(), tmp_path / "data")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "zz_fail.py").write_text(
        '# %% [markdown]\n# # Fails\n\n# %% tags=["parameters"]\nX = 1\n\n# %%\n1 / 0\n'
    )
    monkeypatch.setenv("EVIDENCE_ROOT", str(tmp_path))
    assert main(["build"]) == 1
    err = capfd.readouterr().err
    assert err.splitlines() == [
        "BUILD FAILED",
        "  zz_fail.py: cell 2 failed ('1 / 0'): ZeroDivisionError: division by zero",
        "committed outputs unchanged",
    ]


@pytest.mark.parametrize(
    ("file", "column", "value", "rule"),
    [
        ("comparisons.csv", "n1", "abc", "number"),
        ("comparisons.csv", "sd2", "-1.5", "minimum"),
        ("comparisons.csv", "node1", "no_such_node", "vocabulary"),
        ("exclusions.csv", "reason", "", "required"),
        ("directions.csv", "higher_is_better", "maybe", "boolean"),
    ],
)
def test_validate_checks_the_network_tables(tmp_path, capsys, set_cell, file, column, value, rule):
    """A corrupt network row fails `evidence validate`, naming file, row and column (issue 21)."""
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    row = 5
    set_cell(folder / "network" / file, row, column, value)
    assert main(["validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"{file}: data row {row}" in err and f"column '{column}'" in err
    assert f"rule '{rule}'" in err


def test_build_refuses_invalid_network_data(tmp_path, set_cell):
    from evidence.review.data import DataValidationError
    from evidence.site import build

    shutil.copytree(default_path(), tmp_path / "data")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    set_cell(tmp_path / "data" / "network" / "comparisons.csv", 5, "n1", "abc")
    with pytest.raises(DataValidationError, match="comparisons.csv"):
        build.build(tmp_path, progress=lambda m: None)
    assert not (tmp_path / "figures").exists()
