"""``evidence build``: validate the data, execute every notebook, write figures, tables and a site.

The notebooks in ``notebooks/`` are jupytext ``py:percent`` sources. Each is executed in a fresh
kernel (working directory ``notebooks/``); the notebooks themselves write their figures (SVG and
PNG, via :func:`evidence.io.save_figure`) to ``figures/`` and their tables (CSV, via
:func:`evidence.report.save_table`) to ``results/``. The executed notebooks are rendered by
:func:`evidence.site.render_site` into the static site ``site/`` (landing page ``index.html``).

Build parameters (for example the tau^2 estimator) reach the notebooks through a cell inserted
after the cell tagged ``parameters``, as papermill does. Everything the build reads is in the
repository: it never needs ``../shared``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BuildError", "BuildStep", "build", "notebook_paths", "ROOT"]

ROOT = Path(__file__).resolve().parents[1]
KERNEL_TIMEOUT = 600  # seconds per cell; the whole build takes well under a minute


class BuildError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


@dataclass(frozen=True)
class BuildStep:
    notebook: str
    title: str
    seconds: float
    html: Path


def notebook_paths(root: Path = ROOT, only: str | None = None) -> list[Path]:
    """The notebooks in build order: ``00_*`` first, then by name; ``only`` selects one by stem."""
    paths = sorted((root / "notebooks").glob("*.py"))
    if only is not None:
        paths = [p for p in paths if p.stem == only or p.name == only]
        if not paths:
            known = ", ".join(p.stem for p in sorted((root / "notebooks").glob("*.py")))
            raise BuildError(f"no notebook named {only!r}; known notebooks: {known}")
    return paths


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if m:
                return m.group(1).strip()
    return "untitled"


def _inject_parameters(nb, params: dict[str, object]) -> None:
    if not params:
        return
    import nbformat

    lines = ["# injected by evidence build"] + [f"{k} = {v!r}" for k, v in params.items()]
    new = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    for i, cell in enumerate(nb.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            nb.cells.insert(i + 1, new)
            return
    raise BuildError(f"{nb.metadata.get('evidence_name', 'notebook')}: no cell tagged 'parameters'")


def _execute(path: Path, params: dict[str, object], root: Path = ROOT):
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(path)
    nb.metadata["evidence_name"] = path.name
    _inject_parameters(nb, params)
    client = NotebookClient(
        nb,
        timeout=KERNEL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    saved = {k: os.environ.get(k) for k in ("MPLBACKEND", "EVIDENCE_ROOT")}
    # the kernel inherits this environment: inline figures in the notebook (even when the
    # caller, e.g. CI, runs with MPLBACKEND=Agg), outputs under the repository being built
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["EVIDENCE_ROOT"] = str(root)
    try:
        client.execute()
    except CellExecutionError as exc:
        index, cell = next(((i, c) for i, c in enumerate(nb.cells) if _has_error(c)), (None, None))
        where = f"cell {index}" if index is not None else "an unknown cell"
        first = cell.source.strip().splitlines()[0] if cell is not None and cell.source else ""
        raise BuildError(f"{path.name}: {where} failed ({first!r}):\n{exc}") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def _has_error(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def build(
    root: Path = ROOT,
    *,
    only: str | None = None,
    params: dict[str, object] | None = None,
    progress: Callable[[str], None] = print,
) -> list[BuildStep]:
    """Validate the data, execute the notebooks and render the site; returns one step per notebook.

    Raises
    ------
    BuildError
        When a notebook fails (naming the notebook and the cell) or ``only`` names no notebook.
    evidence.data.DataValidationError
        When the bundled data is invalid.
    """
    from .data import load

    root = Path(root)
    t0 = time.perf_counter()
    bundle = load(root / "data")
    progress(
        f"data: {len(bundle.trials)} trials, {len(bundle.outcomes)} outcome rows valid "
        f"({len(bundle.exclusions)} rows excluded, see `evidence validate`)"
    )
    for folder in ("figures", "results", "site"):
        (root / folder).mkdir(exist_ok=True)
    paths = notebook_paths(root, only)
    steps, executed = [], {}
    for i, path in enumerate(paths, 1):
        progress(f"[{i}/{len(paths)}] {path.name} ...")
        start = time.perf_counter()
        nb = _execute(path, params or {}, root)
        target = root / "site" / f"{path.stem}.html"
        executed[path.stem] = nb
        steps.append(BuildStep(path.name, _title(nb), time.perf_counter() - start, target))
        progress(f"      done in {steps[-1].seconds:.1f} s -> {target.relative_to(root)}")
    from .site import render_site

    progress(render_site(executed, root, root / "site").summary())
    progress(
        f"built {len(steps)} notebooks in {time.perf_counter() - t0:.1f} s; open site/index.html"
    )
    return steps
