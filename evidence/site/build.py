"""``evidence build``: validate the data, execute every notebook, write figures, tables and a site.

The build runs in three stages, each one function:

1. :func:`execute_notebook` runs each jupytext ``py:percent`` notebook of ``notebooks/`` in a
   fresh kernel (working directory ``notebooks/``, local IPC transport; forked from a server
   that has imported the libraries once, :mod:`evidence.site.kernels`); the notebooks write
   their figures (SVG and PNG, via :func:`evidence.io.save_figure`) to ``figures/`` and their
   tables (CSV, via :func:`evidence.review.save_table`) to ``results/``;
2. :func:`evidence.site.render.render_site` renders the executed notebooks with Sphinx (myst-nb,
   sphinx-book-theme) to ``site/`` (the one call a different site generator replaces);
3. :func:`_swap_in` moves the new ``figures/``, ``results/`` and ``site/`` into place.

Nothing the user sees changes until every notebook has succeeded: the outputs are built in a
staging folder (a copy of the current outputs, so a ``--notebook`` build keeps the other pages),
every file is written to a temporary name and renamed, and the staged folders are swapped in as
the last step with Ctrl-C held back. A failure or an interruption leaves the outputs as they were.

Choices (``params``, e.g. the tau^2 estimator) reach the notebooks through a cell inserted after
the cell tagged ``parameters``, as papermill does, and are stated in a note under each page's
title. A build with choices never writes over the committed outputs: it writes to
``builds/<choices>/`` (e.g. ``builds/method-DL_test-z/``) unless ``out`` names another folder.
Everything the build reads is in the repository: it never needs ``../shared``.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BuildError",
    "BuildStep",
    "OUTPUTS",
    "build",
    "execute_notebook",
    "notebook_paths",
    "output_folder",
    "ROOT",
]

ROOT = Path(__file__).resolve().parents[2]
KERNEL_TIMEOUT = 600  # seconds per cell; the whole build takes well under a minute
JOBS = 2  # notebooks executed at once (the machines this project targets have 2 cores)
#: The output folders a build writes (relative to the output folder).
OUTPUTS = ("figures", "results", "site")
_STAGING = ".evidence-staging-"  # prefix of the staging folders (git-ignored)


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


def output_folder(
    root: Path, params: Mapping[str, object] | None = None, out: str | Path | None = None
) -> Path:
    """Where a build writes ``figures/``, ``results/`` and ``site/``.

    Without choices: ``root`` (the committed outputs). With choices: ``out`` if given, else
    ``root/builds/<choices>``, named after the choices; never ``root`` itself.

    Examples
    --------
    >>> from pathlib import Path
    >>> output_folder(Path("repo")).as_posix()
    'repo'
    >>> output_folder(Path("repo"), {"METHOD": "DL", "TEST": "z"}).as_posix()
    'repo/builds/method-DL_test-z'
    """
    root = Path(root)
    if not params:
        return Path(out) if out is not None else root
    if out is None:
        from evidence.io import choices_folder

        return root / "builds" / choices_folder(params)
    if Path(out).resolve() == root.resolve():
        raise BuildError(
            "--out names the folder of the committed outputs; a build with choices "
            "(--method, --test) must write elsewhere"
        )
    return Path(out)


def _inject_parameters(nb, params: Mapping[str, object]) -> None:
    """Insert the choices after the ``parameters`` cell and a note stating them under the title."""
    if not params:
        return
    import nbformat

    lines = ["# injected by evidence build"] + [f"{k} = {v!r}" for k, v in params.items()]
    new = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    for i, cell in enumerate(nb.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            nb.cells.insert(i + 1, new)
            break
    else:
        raise BuildError(
            f"{nb.metadata.get('evidence_name', 'notebook')}: no cell tagged 'parameters'"
        )
    stated = ", ".join(f"`{k} = {v!r}`" for k, v in params.items())
    note = nbformat.v4.new_markdown_cell(
        f"> **Choices of this build:** {stated}. These differ from the committed pages, which "
        "use the defaults set in the notebook's parameters cell.",
        metadata={"tags": ["build-choices"]},
    )
    first = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(first + 1, note)


def _error_line(cell) -> str:
    """``Name: value`` of the error output of a failed cell (no traceback)."""
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            return f"{o.get('ename', 'Error')}: {o.get('evalue', '')}".strip()
    return "unknown error"


def execute_notebook(
    path: Path,
    params: Mapping[str, object],
    root: Path = ROOT,
    output: Path | None = None,
    running: list | None = None,
    server: Path | None = None,
    cache: Path | None = None,
):
    """Execute one notebook in a fresh local kernel; returns the executed notebook node.

    The kernel reads the repository at ``root`` and writes ``figures/`` and ``results/`` under
    ``output`` (default ``root``). It talks to this process over IPC sockets in a private
    temporary folder (no TCP port, so no unencrypted-TCP warning). Its environment is passed to
    it (nothing in this process changes), so several notebooks can run at once; ``running``,
    when given, collects the client so that the caller can kill the kernel on Ctrl-C.
    ``server``, when given, is a :func:`evidence.site.kernels.kernel_server` to fork the kernel
    from (a fresh kernel all the same, without the ~3 s of imports).
    """
    import jupytext
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    nb = jupytext.read(path)
    nb.metadata["evidence_name"] = path.name
    _inject_parameters(nb, params)
    # inline figures in the notebook (even when the caller, e.g. CI, runs with MPLBACKEND=Agg),
    # inputs from the repository being built, outputs to the staging folder
    env = kernel_env(root, output or root, cache)
    with tempfile.TemporaryDirectory(prefix="evidence-kernel-") as private:
        config = Config({"KernelManager": {"transport": "ipc", "ip": f"{private}/k"}})
        client = NotebookClient(
            nb,
            timeout=KERNEL_TIMEOUT,
            kernel_name="python3",
            kernel_manager_class=_forked_manager(server) if server else AsyncKernelManager,
            config=config,
            log=_QUIET,
            resources={"metadata": {"path": str(path.parent)}},
        )
        if running is not None:
            running.append(client)
        log = Path(private) / "kernel.log"
        with log.open("wb") as stderr:  # the kernel's own messages, shown only if it dies
            try:
                client.execute(stderr=stderr, env=env)
            except CellExecutionError:
                index, cell = next(
                    ((i, c) for i, c in enumerate(nb.cells) if _has_error(c)), (None, None)
                )
                where = f"cell {index}" if index is not None else "an unknown cell"
                source = cell.source.strip().splitlines() if cell is not None else []
                first = source[0] if source else ""
                error = _error_line(cell) if cell is not None else "unknown error"
                raise BuildError(f"{path.name}: {where} failed ({first!r}): {error}") from None
            except Exception as exc:
                # the kernel's last message says why it died (its traceback, with file names
                # of the installation, stays out of the report)
                tail = log.read_text(errors="replace").strip().splitlines()[-1:]
                detail = "".join(f"\n{line}" for line in tail)
                raise BuildError(
                    f"{path.name}: the kernel failed: {type(exc).__name__}: {exc}{detail}"
                ) from None
    return nb


def _warm_up_site() -> None:
    """Import Sphinx, myst-nb and the theme (about 2 s), so that rendering starts at once; the
    build calls it in a thread while the kernels run (an import that fails is left to the
    render, which reports it)."""
    import importlib

    for name in ("sphinx.application", "myst_nb", "myst_nb.sphinx_ext", "sphinx_book_theme"):
        try:
            importlib.import_module(name)
        except ImportError:
            return


def kernel_env(root: Path, output: Path, cache: Path | None = None) -> dict[str, str]:
    """The kernels' environment: inline figures in the notebook (even when the caller, e.g.
    CI, runs with ``MPLBACKEND=Agg``), inputs from ``root``, outputs to ``output``, and the
    folder of results the build's kernels share (:mod:`evidence.review.cache`), if any."""
    from evidence.review.cache import CACHE_ENV

    env = dict(
        os.environ,
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        EVIDENCE_ROOT=str(root),
        EVIDENCE_OUTPUT=str(output),
    )
    env.pop(CACHE_ENV, None)
    if cache is not None:
        env[CACHE_ENV] = str(cache)
    return env


def _forked_manager(server: Path):
    """A kernel manager class whose kernels ``server`` forks (same protocol, same kernel)."""
    from jupyter_client.manager import AsyncKernelManager

    from .kernels import kernel_spec

    spec = kernel_spec(server)

    class ForkedKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self):
            return spec

    return ForkedKernelManager


_QUIET = logging.getLogger(
    "evidence.site.build.kernel"
)  # nbclient's own log: failures are reported
_QUIET.addHandler(logging.NullHandler())  # by the build, so nothing is printed twice
_QUIET.propagate = False


def execute_all(
    paths: list[Path],
    params: Mapping[str, object],
    root: Path,
    output: Path,
    progress: Callable[[str], None],
    jobs: int = JOBS,
    server: Path | None = None,
) -> list[tuple[Path, object, float]]:
    """Execute ``paths`` with up to ``jobs`` kernels at once; ``(path, notebook, seconds)`` each,
    in the order given.

    Worker threads run the notebooks; the main thread waits, so Ctrl-C raises KeyboardInterrupt
    here as usual: every kernel is then killed, the workers finish and the interrupt is raised
    again. When notebooks fail, the first failure in build order is raised after all finished.
    The kernels are forked from ``server`` (default: a
    :func:`~evidence.site.kernels.kernel_server` of their own; ordinary kernels where processes
    cannot fork) and share a folder of results (:mod:`evidence.review.cache`) that lives as
    long as this call.
    """
    from .kernels import kernel_server

    with ExitStack() as stack:
        if server is None:
            server = stack.enter_context(kernel_server(kernel_env(root, output)))
        cache = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="evidence-cache-")))
        return _run_notebooks(paths, params, root, output, progress, jobs, server, cache)


def _run_notebooks(paths, params, root, output, progress, jobs, server, cache):
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import wait as wait_for

    running: list = []

    def one(i: int, path: Path) -> tuple[Path, object, float]:
        progress(f"[{i}/{len(paths)}] {path.name} ...")
        start = time.perf_counter()
        nb = execute_notebook(path, params, root, output, running, server, cache)
        seconds = time.perf_counter() - start
        progress(f"      {path.name} done in {seconds:.1f} s")
        return path, nb, seconds

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="evidence-notebook")
    futures = [pool.submit(one, i, path) for i, path in enumerate(paths, 1)]
    try:
        while wait_for(futures, timeout=0.1).not_done:
            pass
    except KeyboardInterrupt:
        for future in futures:
            future.cancel()
        for _ in range(600):  # kernels may still be starting: wait for them, then kill them
            for client in running:
                _kill_kernel(client)
            if not wait_for(futures, timeout=0.1).not_done:
                break
        pool.shutdown(wait=False)
        raise
    pool.shutdown()
    for future in futures:
        if future.exception() is not None:
            raise future.exception()
    return [future.result() for future in futures]


def _kill_kernel(client) -> None:
    """Kill the kernel's process group (it runs in a session of its own), if it has started."""
    provisioner = getattr(getattr(client, "km", None), "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    if pid:
        try:
            os.killpg(getattr(provisioner, "pgid", None) or pid, signal.SIGKILL)
        except OSError:  # already gone
            pass


def _has_error(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


# ------------------------------------------------------------------------------ staging


@contextmanager
def _staging(target: Path, keep: bool = True) -> Iterator[Path]:
    """A staging folder next to the outputs, holding a copy of them when ``keep`` (a build of
    one notebook keeps the other pages' outputs; a full build starts empty, so an output no
    notebook writes any more disappears); removed on exit."""
    try:
        target.mkdir(parents=True, exist_ok=True)
        # one folder per build, so builds running at the same time do not share it (a build
        # killed with SIGKILL leaves its folder behind; it is git-ignored)
        stage = Path(tempfile.mkdtemp(prefix=_STAGING, dir=target))
    except OSError as exc:
        raise BuildError(f"cannot write outputs in {target}: {exc.strerror or exc}") from None
    try:
        for name in OUTPUTS:
            if keep and (target / name).is_dir():
                shutil.copytree(target / name, stage / name)
            else:
                (stage / name).mkdir()
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


class _Interrupts(list):
    """The SIGINT signals received while held back (see :func:`_hold_interrupts`)."""

    def __init__(self) -> None:
        super().__init__()
        self._previous = None

    def hold(self) -> None:
        """Hold back Ctrl-C from now until the block ends (a no-op outside the main thread)."""
        if self._previous is None:
            try:
                self._previous = signal.signal(signal.SIGINT, lambda sig, frame: self.append(sig))
            except ValueError:  # not the main thread: signals cannot be handled here anyway
                pass


@contextmanager
def _hold_interrupts(hold: bool = True) -> Iterator[_Interrupts]:
    """Hold back SIGINT (Ctrl-C) during the block (or from ``.hold()`` on, with ``hold=False``);
    yields the list of signals received. Blocks nested inside it (a staging folder's clean-up)
    finish before the previous handler is back."""
    received = _Interrupts()
    if hold:
        received.hold()
    try:
        yield received
    finally:
        if received._previous is not None:
            signal.signal(signal.SIGINT, received._previous)


def _swap_in(stage: Path, target: Path) -> None:
    """Replace each output folder of ``target`` by the staged one (folder renames)."""
    old = stage / ".old"
    old.mkdir()
    for name in OUTPUTS:
        if (target / name).exists():
            os.rename(target / name, old / name)
        os.rename(stage / name, target / name)


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix() or "."
    except ValueError:
        return str(path)


def build(
    root: Path = ROOT,
    *,
    only: str | None = None,
    params: Mapping[str, object] | None = None,
    out: str | Path | None = None,
    progress: Callable[[str], None] = print,
) -> list[BuildStep]:
    """Validate the data, execute the notebooks and render the site; returns one step per notebook.

    Outputs change only when every notebook succeeded (see the module docstring); a build with
    ``params`` writes to :func:`output_folder` (``builds/<choices>/`` or ``out``).

    Raises
    ------
    BuildError
        When a notebook fails (naming the notebook and the cell) or ``only`` names no notebook.
    evidence.review.data.DataValidationError
        When the bundled data is invalid (every problem is listed).
    KeyboardInterrupt
        When interrupted before the outputs were swapped in; the outputs are unchanged.
    """
    from .kernels import kernel_server

    # one absolute root and output folder before anything runs: the kernels work in notebooks/,
    # so a relative path handed to them would resolve there
    root = Path(root).resolve()
    params = dict(params or {})
    t0 = time.perf_counter()
    with kernel_server(kernel_env(root, root)) as server:  # it imports while the data is checked
        return _build(root, only, params, out, progress, t0, server)


def _build(root, only, params, out, progress, t0, server) -> list[BuildStep]:
    from evidence.review.data import load
    from evidence.review.network_maps import validate_network

    bundle = load(root / "data")
    validate_network(root / "data")
    progress(
        f"data: {len(bundle.trials)} trials, {len(bundle.outcomes)} outcome rows valid "
        f"({len(bundle.exclusions)} rows excluded, see `evidence validate`)"
    )
    paths = notebook_paths(root, only)
    target = output_folder(root, params, out).resolve()
    shown = _display(target, root)
    if params:
        stated = ", ".join(f"{k}={v}" for k, v in params.items())
        progress(f"choices {stated} -> outputs in {shown}/ (committed outputs untouched)")
    from .render import notebook_title, render_site

    # this process waits while the kernels work: it imports the site's libraries meanwhile
    threading.Thread(target=_warm_up_site, name="evidence-site-imports", daemon=True).start()
    with _hold_interrupts(hold=False) as interrupts, _staging(target, only is not None) as stage:
        done = execute_all(paths, params, root, stage, progress, server=server)
        report = render_site(
            {path.stem: nb for path, nb, _ in done}, root, stage / "site", outputs=stage
        )
        progress(report.summary())
        interrupts.hold()  # from here to the end of the clean-up, Ctrl-C is held back
        _swap_in(stage, target)
    if interrupts:
        progress("interrupt received while the new outputs were moved in; they are complete")
    result = [
        BuildStep(path.name, notebook_title(nb), seconds, target / "site" / f"{path.stem}.html")
        for path, nb, seconds in done
    ]
    page = "index.html" if only is None else result[0].html.name
    progress(
        f"built {len(result)} notebooks in {time.perf_counter() - t0:.1f} s; "
        f"open {shown}/site/{page}"
    )
    return result
