"""Reading the CSV files and parsing their cells (stage 1, **data**: field-level checks).

``_parse_csv`` reads one file defensively (empty files, bytes that are not UTF-8, rows with the
wrong number of fields and unclosed quotes are problems, never parser errors); ``_read`` checks
its columns against the schema and ``_check_field`` converts each column to its type, reporting
every cell that breaks a constraint (required, type, finite, integer, enum, pattern, minimum,
maximum); ``_read_table`` joins the files of one table and checks its unique key.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from .problems import _Problems
from .schema import TABLES

#: Largest magnitude a numeric cell may have: no trial statistic comes near it, and larger
#: values overflow the effect-size arithmetic (a mean of 1e308 squared is infinite).
MAX_MAGNITUDE = 1e12
#: Text cells starting with one of these are refused: a spreadsheet that opens the data, or a
#: results table the value reaches, may run the cell as a formula (CSV injection).
FORMULA_START = r"[=+@\t\r]"


def _parse_csv(path: Path, file: str, problems: _Problems) -> pd.DataFrame | None:
    """The CSV's cells as text (``_line`` = CSV line each row starts on), or None on problems."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.add(file, None, None, "file readable", exc.strerror or str(exc), location="file")
        return None
    if not data.strip():
        problems.add(
            file, None, None, "header present", "expected a header line; the file is empty"
        )
        return None
    encoding_ok = True
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text, encoding_ok = data.decode("utf-8", errors="replace"), False
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records, lines = [], []
    n_before = len(problems.items)
    start = 1
    try:
        for record in reader:
            if record:  # blank lines are skipped, as spreadsheet programs do
                records.append(record)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        rule, detail = "CSV syntax", f"expected well-formed CSV; {exc}"
        if "unexpected end of data" in str(exc):
            detail = (
                f"expected a closing quote: a quoted value opened on line {start} is never closed"
            )
        elif "field larger than field limit" in str(exc):
            rule = "cell size"
            detail = (
                f"expected cells of at most {csv.field_size_limit():,} characters; a cell of the "
                f"row starting on line {start} is longer (is a whole file pasted into one cell?)"
            )
        problems.add(file, len(records), None, rule, detail, line=start)
        return None
    header, body = records[0], records[1:]
    dup = sorted({c for c in header if header.count(c) > 1})
    for c in dup:
        problems.add(file, None, c, "unique column names", "expected each column once")
    for i, (record, line) in enumerate(zip(body, lines[1:], strict=True), 1):
        if len(record) != len(header):
            column = header[len(record)] if len(record) < len(header) else None
            problems.add(
                file,
                i,
                column,
                "row length",
                f"expected {len(header)} fields like the header; got {len(record)}",
                line,
            )
        elif any("\x00" in cell for cell in record):
            column = header[next(j for j, cell in enumerate(record) if "\x00" in cell)]
            problems.add(file, i, column, "no NUL bytes", "expected text without NUL bytes", line)
        elif not encoding_ok:
            for col, cell in zip(header, record, strict=True):
                if "\ufffd" in cell:
                    problems.add(
                        file,
                        i,
                        col,
                        "encoding utf-8",
                        "expected UTF-8 text; the file has bytes in another encoding "
                        "(e.g. latin-1): save it as UTF-8",
                        line,
                    )
    if len(problems.items) > n_before:
        return None
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame["_line"] = lines[1:]
    return frame


def _read(path: Path, file: str, resource: dict, problems: _Problems) -> pd.DataFrame | None:
    if not path.is_file():
        problems.add(file, None, None, "file exists", "file not found", location="file")
        return None
    frame = _parse_csv(path, file, problems)
    if frame is None:
        return None
    fields = [f["name"] for f in resource["schema"]["fields"]]
    cols = [c for c in frame.columns if c != "_line"]
    unknown = [c for c in cols if c not in fields]
    missing = [c for c in fields if c not in cols]
    for col in unknown:
        problems.add(file, None, col, "known column", "not in the schema")
    for col in missing:
        problems.add(file, None, col, "column present", "missing from the file")
    if unknown or missing:
        return None
    lines = frame["_line"].to_numpy()
    frame = frame[fields].apply(lambda c: c.str.strip()).replace("", None)
    problems.raw[file] = frame
    frame = frame.copy()
    frame.insert(0, "_file", file)
    frame.insert(1, "_row", np.arange(1, len(frame) + 1))
    frame.insert(2, "_line", lines)
    n_before = len(problems.items)
    for field in resource["schema"]["fields"]:
        frame[field["name"]] = _check_field(frame, field, problems)
    order = {name: i for i, name in enumerate(fields)}  # report in reading order
    problems.items[n_before:] = sorted(
        problems.items[n_before:], key=lambda q: (q.row or 0, order.get(q.column, -1))
    )
    for q in problems.items[n_before:]:
        if q.row is not None:
            problems.skip.setdefault((q.file, q.row), set()).add(q.column)
    key = resource["schema"].get("primaryKey")
    if key:
        problems.rows(
            frame,
            frame[key].notna() & frame[key].duplicated(keep="first"),
            key,
            "unique id",
            "expected an id not used in an earlier row",
        )
    return frame


def _check_field(frame: pd.DataFrame, field: dict, problems: _Problems) -> pd.Series:
    """The column converted to its type; a problem for every cell that breaks a constraint."""
    fname, ftype = field["name"], field.get("type", "string")
    col = frame[fname]
    cons = field.get("constraints", {})
    present = col.notna()

    def fail(bad: pd.Series, rule: str, expected: str) -> None:
        problems.rows(frame, bad, fname, rule, f"{fname} must be {expected}")

    if cons.get("required"):
        fail(~present, "required", "given (value is missing)")
    if ftype in ("number", "integer"):
        num = pd.to_numeric(col, errors="coerce").astype(float)
        what = "a number" if ftype == "number" else "an integer"
        fail(present & num.isna(), "type number", what)
        fail(present & np.isinf(num), "finite number", f"{what} (finite)")
        huge = np.isfinite(num) & (num.abs() > MAX_MAGNITUDE)
        huge &= ~(num > cons.get("maximum", np.inf)) & ~(num < cons.get("minimum", -np.inf))
        fail(huge, "magnitude", f"{what} of magnitude at most {MAX_MAGNITUDE:.0e}")
        num = num.where(np.isfinite(num) & ~huge)
        if ftype == "integer":
            fail(num.notna() & (num != np.round(num)), "type integer", "a whole number")
        for key, op, word in (("minimum", np.less, ">="), ("maximum", np.greater, "<=")):
            if key in cons:
                fail(
                    num.notna() & op(num, cons[key]),
                    f"{key} {cons[key]}",
                    f"{what} {word} {cons[key]}",
                )
        return num
    if ftype == "boolean":
        fail(~(col.isin(["true", "false"]) | ~present), "type boolean", "true or false")
        return col.map({"true": True, "false": False})
    formula = col.str.match(FORMULA_START).fillna(False).astype(bool)
    fail(formula, "no formula", "text that does not start with =, +, @ or a tab")
    if "enum" in cons:
        allowed = ", ".join(map(str, cons["enum"]))
        fail(~(col.isin(cons["enum"]) | ~present), "controlled vocabulary", f"one of: {allowed}")
    if "pattern" in cons:
        ok = col.str.fullmatch(cons["pattern"]).fillna(False).astype(bool) | ~present
        fail(~ok, "pattern", f"text matching {cons['pattern']}")
    return col.astype(object)


def _read_table(
    folder: Path, shown: str, schema: dict, table: str, problems: _Problems
) -> pd.DataFrame | None:
    parts = []
    for file in TABLES[table]:
        if file not in schema:
            problems.add(
                f"{shown}/datapackage.json",
                None,
                None,
                "resource listed",
                f"expected a resource with path {file}",
                location="resources",
            )
            return None
        frame = _read(folder / file, f"{shown}/{file}", schema[file], problems)
        if frame is None:
            return None
        parts.append(frame)
    frame = pd.concat(parts, ignore_index=True)
    key = schema[TABLES[table][0]]["schema"].get("primaryKey")
    if key and len(parts) > 1:
        dup = frame[key].notna() & frame[key].duplicated(keep="first")
        dup &= frame["_file"] != frame["_file"].iloc[0]  # within a file: reported by _read
        problems.rows(frame, dup, key, "unique id", f"expected an id not used in {TABLES[table]}")
    return frame
