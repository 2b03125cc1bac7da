"""The tables and their schema (stage 1, **data**: reading ``datapackage.json``).

:data:`TABLES` names the CSV files that make up each table; ``_schema`` reads
``datapackage.json`` (Frictionless Table Schema) and checks that it is usable: every resource
has a path and a list of fields, each field a known type and well-formed constraints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .problems import _Problems

#: table name -> CSV files (in ``datapackage.json`` order) that make it up
TABLES = {
    "trials": ("trials.csv",),
    "arms": ("arms.csv",),
    "comparisons": ("comparisons.csv",),
    "instruments": ("instruments.csv",),
    "outcomes": ("outcomes_metapsy.csv", "outcomes_reports.csv"),
    "exclusions": ("exclusions_metapsy.csv", "exclusions_reports.csv"),
    "reading_log": ("reading_log.csv",),
    "derived_counts": ("derived_counts.csv",),
}

_TYPES = ("string", "number", "integer", "boolean")


def _schema(folder: Path, shown: str, problems: _Problems) -> dict[str, dict] | None:
    """``datapackage.json``'s resources by path, or None (with problems) when it is unusable."""
    path = folder / "datapackage.json"
    file = f"{shown}/datapackage.json"
    if not path.is_file():
        problems.add(file, None, None, "datapackage", "file not found", location="file")
        return None
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.add(file, None, None, "file readable", exc.strerror or str(exc), location="file")
        return None
    except UnicodeDecodeError as exc:
        problems.add(file, None, None, "encoding utf-8", str(exc), location=f"byte {exc.start}")
        return None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        problems.add(file, None, None, "valid JSON", exc.msg, location=where)
        return None
    n_before = len(problems.items)

    def bad(where: str, rule: str, detail: str) -> None:
        problems.add(file, None, None, rule, detail, location=where)

    resources = package.get("resources") if isinstance(package, dict) else None
    if not isinstance(resources, list):
        bad("top level", "resources list", "expected an object with a 'resources' list")
        return None
    out = {}
    for i, res in enumerate(resources):
        where = f"resources[{i}]"
        if not isinstance(res, dict) or not isinstance(res.get("path"), str):
            bad(where, "resource path", "expected an object with a 'path' string")
            continue
        fields = (
            res.get("schema", {}).get("fields") if isinstance(res.get("schema"), dict) else None
        )
        if not isinstance(fields, list):
            bad(f"{where}.schema", "schema fields", "expected a 'schema' with a 'fields' list")
            continue
        for j, f in enumerate(fields):
            fw = f"{where}.schema.fields[{j}]"
            if not isinstance(f, dict) or not isinstance(f.get("name"), str):
                bad(fw, "field name", "expected an object with a 'name' string")
                continue
            if f.get("type", "string") not in _TYPES:
                bad(f"{fw}.type", "field type", f"expected one of {_TYPES}; got {f.get('type')}")
            cons = f.get("constraints", {})
            if not isinstance(cons, dict):
                bad(f"{fw}.constraints", "constraints", "expected an object")
                continue
            if "enum" in cons and not isinstance(cons["enum"], list):
                bad(f"{fw}.constraints.enum", "enum", "expected a list of allowed values")
            for key in ("minimum", "maximum"):
                if key in cons and not isinstance(cons[key], int | float):
                    bad(f"{fw}.constraints.{key}", key, f"expected a number; got {cons[key]}")
            if "pattern" in cons:
                try:
                    re.compile(cons["pattern"])
                except (re.error, TypeError):
                    bad(f"{fw}.constraints.pattern", "pattern", "expected a regular expression")
        names = [f.get("name") for f in fields if isinstance(f, dict)]
        key = res.get("schema", {}).get("primaryKey")
        if key is not None and key not in names:
            bad(f"{where}.schema.primaryKey", "primary key", f"{key} is not a field")
        out[res["path"]] = res
    return out if len(problems.items) == n_before else None
