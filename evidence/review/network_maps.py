"""The hand tables the network generator reads besides the node mapping.

``data/network_node_overrides.csv``
    Study-level node decisions: one arm of one study of one database (``database``, ``study``,
    ``arm`` as ``comparisons.csv`` writes it, ``condition_arm [multi_arm]``) -> ``node``, based on
    the database's own description or reference, quoted: ``field`` names the column of the
    database's ``data.csv`` (or ``metadata/references.json``, the study's entry) and ``quote`` is
    text that field holds verbatim; ``reason`` says why. An override wins over the label mapping
    of ``data/network_nodes.csv`` for that arm; it never applies to a psychodynamic arm.
``data/network_formats.csv``
    The delivery-format mapping: (``database``, ``column``, ``code``) -> ``delivery``, one of
    :data:`evidence.review.network_data.DELIVERY`, with the ``reason``. ``column`` is a column
    of the database (``format``, ``format_details``, ...), two columns joined by ``/`` whose
    codes are joined the same way (bodily-distress-psyctr ``internet_based/guidance``), or
    ``arm``: an arm label (``condition_arm [multi_arm]``) that names its own format, which wins
    for that arm. The order in which a database's columns are read is the generator's
    (``tools/network_arms.py``, ``FORMAT_COLUMNS``; ``data/network/README.md``).

:func:`load_node_overrides` and :func:`load_formats` read and validate them (required columns,
vocabularies, non-empty reasons and quotes, unique keys); they raise
:class:`evidence.review.data.DataValidationError` naming file, data row and column.
``evidence validate`` checks both through :func:`validate_network`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .data import default_path
from .network_data import (
    _TABLES,
    DELIVERY,
    NODES,
    _check_table,
    _fail,
    _read_csv,
    load_network,
    load_nodes,
)

__all__ = [
    "validate_network",
    "load_node_overrides",
    "load_formats",
    "OVERRIDE_COLUMNS",
    "FORMAT_MAP_COLUMNS",
]

#: Columns of ``data/network_node_overrides.csv`` (all required, none empty).
OVERRIDE_COLUMNS = ("database", "study", "arm", "node", "field", "quote", "reason")
#: Columns of ``data/network_formats.csv`` (all required, none empty).
FORMAT_MAP_COLUMNS = ("database", "column", "code", "delivery", "reason")


def _table(path: Path, columns: tuple[str, ...]):
    """The table, all cells str; every column present and no cell empty."""
    frame = _read_csv(path)
    for col in columns:
        if col not in frame:
            _fail(path.name, None, col, "required column", "column missing")
    for col in columns:
        empty = (frame[col].str.strip() == "").to_numpy().nonzero()[0]
        if empty.size:
            _fail(path.name, int(empty[0]), col, "required", "empty cell")
    return frame


def load_node_overrides(path: str | Path | None = None) -> dict[tuple[str, str, str], str]:
    """Read ``data/network_node_overrides.csv``: (database, study, arm) -> node or
    ``"unmapped"`` (the arm's rows go to ``exclusions.csv``).

    Raises
    ------
    DataValidationError
        A missing column, an empty cell, a node outside :data:`NODES`, ``pdt`` (a psychodynamic
        arm is never overridden), or the same arm twice.

    Examples
    --------
    >>> over = load_node_overrides()
    >>> over[("gad-psyctr", "Barlow, 1992", "other psy [other psy]")]
    'cbt'
    """
    path = Path(path) if path else default_path() / "network_node_overrides.csv"
    frame = _table(path, OVERRIDE_COLUMNS)
    out = {}
    for i, r in enumerate(frame.itertuples(index=False)):
        if r.node not in NODES and r.node != "unmapped":
            _fail(path.name, i, "node", "vocabulary", f"{r.node!r} is not a node")
        if r.node == "pdt":
            _fail(path.name, i, "node", "not pdt", "psychodynamic arms follow arm1_class only")
        key = (r.database, r.study, r.arm)
        if key in out:
            _fail(path.name, i, "arm", "unique", f"{key} overridden twice")
        out[key] = r.node
    return out


def load_formats(path: str | Path | None = None) -> dict[tuple[str, str, str], str]:
    """Read ``data/network_formats.csv``: (database, column, code) -> delivery format.

    Raises
    ------
    DataValidationError
        A missing column, an empty cell, a delivery outside :data:`DELIVERY`, or a code mapped
        twice.

    Examples
    --------
    >>> formats = load_formats()
    >>> formats[("depression-psyctr", "format", "gsh")]
    'internet_guided'
    >>> formats[("panic-psyctr", "format", "face-to-face")]
    'not_reported'
    """
    path = Path(path) if path else default_path() / "network_formats.csv"
    frame = _table(path, FORMAT_MAP_COLUMNS)
    out = {}
    for i, r in enumerate(frame.itertuples(index=False)):
        if r.delivery not in DELIVERY:
            _fail(path.name, i, "delivery", "vocabulary", f"{r.delivery!r} not one of {DELIVERY}")
        key = (r.database, r.column, r.code)
        if key in out:
            _fail(path.name, i, "code", "unique", f"{key} mapped twice")
        out[key] = r.delivery
    return out


def validate_network(data: str | Path | None = None) -> pd.DataFrame:
    """Validate every network table of a data folder (``data/`` by default); returns the
    comparisons.

    Checks ``network_nodes.csv`` (:func:`~evidence.review.network_data.load_nodes`),
    ``network_node_overrides.csv`` and ``network_formats.csv`` (this module),
    ``network/comparisons.csv`` (:func:`~evidence.review.network_data.load_network`) and the
    exclusions and directions beside it (required columns, required cells, booleans).
    ``evidence validate`` and ``evidence build`` run it, so a corrupt network row stops both
    with the file, row and column.

    Raises
    ------
    DataValidationError
        The first problem found, naming file, data row and column.

    Examples
    --------
    >>> len(validate_network()) > 2000
    True
    """
    root = Path(data) if data else default_path()
    load_nodes(root / "network_nodes.csv")
    load_node_overrides(root / "network_node_overrides.csv")
    load_formats(root / "network_formats.csv")
    frame = load_network(root / "network" / "comparisons.csv")
    for name, (columns, filled) in _TABLES.items():
        _check_table(root / "network" / name, columns, filled)
    return frame
