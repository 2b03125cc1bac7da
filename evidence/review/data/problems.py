"""Problems found in the curated data (stage 1, **data**: validating).

:class:`Problem` is one violated rule, naming file, data row, CSV line and column;
:class:`DataValidationError` carries every problem found. ``_Problems`` collects them while the
schema (:mod:`.schema`), the CSV files (:mod:`.parse`) and the cross-field rules (:mod:`.rules`)
are checked, keeping the raw text of every cell so that messages quote what was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Problem:
    """One violated rule: file, data row (1-based, header not counted), column, rule, detail.

    ``line`` is the CSV line the row starts on (``row + 1`` unless a quoted value spans lines);
    ``location`` replaces row and line for files that are not CSV tables (``datapackage.json``).

    Examples
    --------
    >>> print(Problem("data/arms.csv", 4, "sessions", "minimum 0", "..."))  # doctest: +ELLIPSIS
    data/arms.csv: data row 4 (CSV line 5), column 'sessions': rule 'minimum 0' violated: ...
    """

    file: str
    row: int | None
    column: str | None
    rule: str
    detail: str
    line: int | None = None
    location: str | None = None

    def __str__(self) -> str:
        if self.location is not None:
            where = self.location
        elif self.row is None:
            where = "header (CSV line 1)"
        else:
            where = f"data row {self.row} (CSV line {self.line or self.row + 1})"
        col = f", column '{self.column}'" if self.column else ""
        return f"{self.file}: {where}{col}: rule '{self.rule}' violated: {self.detail}"


class DataValidationError(ValueError):
    """Invalid curated data: every problem found, each naming file, row, column and rule.

    ``file``, ``row``, ``column`` and ``rule`` describe the first problem; ``problems`` lists all
    of them (:class:`Problem`), in the order the rules ran. The message has one line per problem.

    Examples
    --------
    >>> err = DataValidationError("data/arms.csv", 2, "sessions", "minimum 0", "got -1")
    >>> err.row, err.column, len(err.problems)
    (2, 'sessions', 1)
    """

    def __init__(
        self,
        file: str,
        row: int | None,
        column: str | None,
        rule: str,
        detail: str,
        *,
        problems: Sequence[Problem] = (),
    ):
        self.problems = list(problems) or [Problem(file, row, column, rule, detail)]
        first = self.problems[0]
        self.file, self.row, self.column, self.rule = (
            first.file,
            first.row,
            first.column,
            first.rule,
        )
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def from_problems(cls, problems: Sequence[Problem]) -> DataValidationError:
        """One error carrying every problem (at least one)."""
        p = problems[0]
        return cls(p.file, p.row, p.column, p.rule, p.detail, problems=problems)


def _shown(value: object) -> str:
    """A value as the user wrote it in the CSV (raw text), for messages."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "an empty cell"
    return str(value)


class _Problems:
    """Collects problems; keeps the raw text of every cell so messages quote what was written."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.raw: dict[str, pd.DataFrame] = {}  # display file name -> cells as written
        # (file, row) -> the columns with a field-level problem in that row
        self.skip: dict[tuple[str, int], set[str]] = {}

    def add(
        self,
        file: str,
        row: int | None,
        column: str | None,
        rule: str,
        detail: str,
        line: int | None = None,
        location: str | None = None,
    ) -> None:
        self.items.append(Problem(file, row, column, rule, detail, line, location))

    def value(self, file: str, row: int, column: str) -> str:
        raw = self.raw.get(file)
        if raw is None or column not in raw:
            return "an empty cell"
        return _shown(raw[column].iloc[row - 1])

    def filled_where(
        self,
        frame: pd.DataFrame,
        where: pd.Series,
        column: str,
        rules: tuple[str, str],
        missing: str,
        extra: str,
    ) -> None:
        """``column`` is filled exactly on the rows ``where`` holds: a problem (``rules[0]``,
        ``missing``) where it holds and the column is empty, and (``rules[1]``, ``extra``) where
        it does not hold and the column is filled."""
        self.rows(frame, where & frame[column].isna(), column, rules[0], missing)
        self.rows(frame, ~where & frame[column].notna(), column, rules[1], extra)

    def rows(
        self,
        frame: pd.DataFrame,
        bad: pd.Series,
        column: str,
        rule: str,
        expected: str,
        *,
        got: pd.Series | None = None,
    ) -> None:
        """One problem per row of ``frame`` where ``bad``; ``expected`` says what the rule wants.

        A cell that already has a field-level problem (wrong type, missing required value) is
        not checked again, so one typo gives one message; the row's other cells still are, so
        every rule that fails in a row is reported (a text ``n1`` does not hide a negative SD).
        """
        mask = np.asarray(bad, dtype=bool)
        for i in np.flatnonzero(mask):
            r = frame.iloc[i]
            file, row = r["_file"], int(r["_row"])
            if column in self.skip.get((file, row), ()):
                continue
            shown = str(got.iloc[i]) if got is not None else self.value(file, row, column)
            line = int(r["_line"]) if "_line" in r else None
            self.add(file, row, column, rule, f"{expected}; got {shown}", line)

    def raise_if_any(self) -> None:
        if self.items:
            raise DataValidationError.from_problems(self.items)
