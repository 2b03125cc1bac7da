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


@pytest.fixture()
def set_cell():
    """``set_cell(path, row, column, value)``: change one cell of a CSV (a copy of data/)."""
    return write_cell
