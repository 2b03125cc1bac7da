"""Input/output helpers: deterministic figure files, written atomically.

:func:`atomic_path` gives a temporary file next to the target and renames it into place only when
writing succeeded, so an interrupted or failed write never leaves a truncated file: the target is
either the old or the new version, byte for byte. :func:`save_figure` writes SVG, PNG or PDF files
that are byte-identical for identical input: no creation dates, no software tags, a fixed SVG hash
salt, and every render-time setting that could differ between sessions pinned inside a
:func:`matplotlib.rc_context` (global ``rcParams`` are never changed). matplotlib is imported only
when the function is called.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "FORMATS",
    "SAVE_RC",
    "atomic_path",
    "save_figure",
    "repository_root",
    "choices_folder",
]


def repository_root() -> Path:
    """The one repository every wing reads and writes: ``EVIDENCE_ROOT`` if set, else the checkout
    this package is in.

    ``evidence build`` sets ``EVIDENCE_ROOT`` for every kernel, so the data a notebook analyses,
    the published tables and references it reads and the folder its outputs go under are those of
    the repository being built (not the installed package's).

    Examples
    --------
    >>> (repository_root() / "evidence" / "io.py").is_file()
    True
    """
    env = os.environ.get("EVIDENCE_ROOT")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[1]


def choices_folder(params: dict) -> str:
    """The folder name of a build or run with method choices, under ``builds/``.

    Examples
    --------
    >>> choices_folder({"METHOD": "DL", "TEST": "z"})
    'method-DL_test-z'
    >>> choices_folder({})
    'defaults'
    """
    import re

    name = "_".join(
        f"{k.lower()}-{re.sub(r'[^A-Za-z0-9.]+', '-', str(v))}" for k, v in params.items()
    )
    return name or "defaults"


#: File formats :func:`save_figure` writes.
FORMATS = ("svg", "png", "pdf")

#: Render-time settings pinned while saving, so that a user's global rcParams cannot change the
#: bytes: fixed SVG hash salt (element ids), glyphs as paths in SVG, TrueType (type 42) fonts in
#: PDF (journals reject type 3) and no path simplification. Text hinting, hinting factor and
#: kerning factor are pinned to matplotlib's own defaults (``_DEFAULT_KEYS``).
SAVE_RC = MappingProxyType(
    {
        "svg.hashsalt": "evidence",
        "svg.fonttype": "path",
        "svg.image_inline": True,
        "pdf.fonttype": 42,
        "pdf.compression": 6,
        "pdf.use14corefonts": False,
        "pdf.inheritcolor": False,
        "path.simplify": False,
        "agg.path.chunksize": 0,
        "savefig.facecolor": "auto",
        "savefig.edgecolor": "auto",
        "savefig.transparent": False,
        "savefig.bbox": "standard",
        "savefig.pad_inches": 0.0,
    }
)

_DEFAULT_KEYS = ("text.hinting", "text.hinting_factor", "text.kerning_factor", "text.antialiased")

# metadata keys set to None are left out of the file by matplotlib's writers
_METADATA = MappingProxyType(
    {
        "svg": {"Date": None, "Creator": None},
        "png": {"Software": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    }
)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; renamed into place on success.

    The temporary file sits in the target's folder (same file system, so the rename is atomic)
    and is removed if the block raises, including on ``KeyboardInterrupt``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = pathlib.Path(d) / "table.csv"
    ...     with atomic_path(target) as tmp:
    ...         _ = tmp.write_text("a,b\\n")
    ...     print(target.read_text() == "a,b\\n", sorted(p.name for p in pathlib.Path(d).iterdir()))
    True ['table.csv']
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_figure(
    fig: Any,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    dpi: float = 300,
    bbox_inches: str | None = None,
) -> Path:
    """Save a figure as SVG, PNG or PDF with identical bytes for identical input.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes
        The figure (an Axes is accepted and its figure is saved).
    path : str or path-like
        Output file; its suffix (``.svg``, ``.png``, ``.pdf``) selects the format unless
        ``format`` is given. The parent directory must exist. The file is written to a
        temporary name and renamed into place (:func:`atomic_path`).
    format : {"svg", "png", "pdf"}, optional
        Overrides the suffix.
    dpi : float, default 300
        Resolution of PNG output (and of any raster parts of SVG/PDF). Fixed, never read from
        ``rcParams``.
    bbox_inches : {None, "tight"}, default None
        ``None`` keeps the figure size (the plots in :mod:`evidence.plots` size their figures
        to fit their content); ``"tight"`` crops to the drawn content.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import evidence as ev
    >>> res = ev.pool([0.1, 0.3, 0.35, 0.65], [0.03, 0.03, 0.05, 0.01], labels=list("ABCD"))
    >>> ax = ev.forest_plot(res)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     a = save_figure(ax, pathlib.Path(d) / "a.svg")
    ...     b = save_figure(ax, pathlib.Path(d) / "b.svg")
    ...     print(a.read_bytes() == b.read_bytes())
    True
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib as mpl

    if not hasattr(fig, "savefig"):
        fig = getattr(fig, "figure", None)
        if fig is None or not hasattr(fig, "savefig"):
            raise TypeError("save_figure: expected a matplotlib Figure or Axes")
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(
            f"save_figure: cannot write {str(path)!r}: format {fmt or '(none)'!r} is not one of "
            f"{FORMATS}; give the file a .svg, .png or .pdf suffix or pass format="
        )
    if bbox_inches not in (None, "tight"):
        raise ValueError("save_figure: bbox_inches must be None or 'tight'")
    kwargs: dict[str, Any] = {
        "format": fmt,
        "dpi": dpi,
        "metadata": dict(_METADATA[fmt]),
        "bbox_inches": bbox_inches,  # None falls back to rcParams["savefig.bbox"], pinned below
    }
    if fmt == "png":
        kwargs["backend"] = "agg"  # rasterise with Agg whatever the interactive backend is
    rc = {key: mpl.rcParamsDefault[key] for key in _DEFAULT_KEYS} | dict(SAVE_RC)
    with mpl.rc_context(rc), atomic_path(path) as tmp:
        fig.savefig(tmp, **kwargs)
    return path
