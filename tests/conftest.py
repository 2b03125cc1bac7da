"""Shared test helpers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest


def write_cell(path: Path, row: int, column: str, value: str) -> None:
    """Write ``value`` into data row ``row`` (1-based) of ``column`` of the CSV at ``path``."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[row][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _drop_references_to_report_rows(folder: Path) -> None:
    """For a copy of data/ whose outcomes_reports.csv a fixture replaced: drop the rows of the
    reading log and of the derived counts that name report rows, so that only the fixture's own
    problems remain (those references would otherwise dangle)."""
    import pandas as pd

    for name, column in (("reading_log.csv", "effect_ids"), ("derived_counts.csv", "effect_id")):
        frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        frame[frame[column] == ""].to_csv(folder / name, index=False, lineterminator="\n")


@pytest.fixture()
def drop_report_references():
    """``drop_report_references(folder)``: for a copy of data/ whose outcomes_reports.csv a
    fixture replaced, drop the reading-log and derived-count rows that name report rows."""
    return _drop_references_to_report_rows


@pytest.fixture()
def set_cell():
    """``set_cell(path, row, column, value)``: change one cell of a CSV (a copy of data/)."""
    return write_cell


def _tools_module(name: str):
    """A script of ``tools/`` imported as a module (the folder is not a package)."""
    import importlib
    import sys

    folder = str(Path(__file__).resolve().parents[1] / "tools")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)


@pytest.fixture(scope="session")
def tools_module():
    """``tools_module(name)``: a script of ``tools/`` imported as a module."""
    return _tools_module


@pytest.fixture(scope="session")
def net():
    """The validated network comparisons (``data/network/comparisons.csv``)."""
    from evidence.review.network_data import load_network

    return load_network()


@pytest.fixture(scope="session")
def ds():
    """The validated curated dataset (``data/``)."""
    from evidence.review.data import load

    return load()
