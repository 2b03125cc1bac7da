"""Tests for the ``evidence`` command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evidence.cli import COMMANDS, main
from evidence.data import default_path

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
