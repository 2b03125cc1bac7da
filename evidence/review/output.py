"""Figures and tables written to disk byte-stably (``figures/``, ``results/``), and the
forest plot of an analysis."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .vocabulary import event_display

__all__ = [
    "show_items",
    "output_root",
    "output_dir",
    "announce_outputs",
    "save_table",
    "save_plot",
    "forest",
    "figure_alt",
]


def output_root() -> Path:
    """The repository root that figures and tables go under (``EVIDENCE_ROOT`` or this checkout)."""
    from evidence.io import repository_root

    return repository_root()


def output_dir() -> Path:
    """The folder that ``figures/`` and ``results/`` are written under.

    ``EVIDENCE_OUTPUT``: set by ``evidence build`` (its staging folder, swapped into the
    repository when every notebook succeeded) or by :func:`announce_outputs` in a notebook run
    by hand. Anything else writes to ``builds/interactive/``: only ``evidence build`` writes the
    committed ``figures/`` and ``results/``, so a rerun by hand never changes them.
    """
    env = os.environ.get("EVIDENCE_OUTPUT")
    return Path(env) if env else output_root() / "builds" / "interactive"


def announce_outputs(**choices) -> Path:
    """The protocol this page is built under, and where this notebook run writes its figures and
    tables; the first call of every notebook.

    Run by hand (JupyterLab, a script) it sends the outputs to ``builds/<choices>/`` (e.g.
    ``builds/method-DL_test-knha_rho-0.5/``) by setting ``EVIDENCE_OUTPUT`` for this kernel and
    says so in its first line; under ``evidence build`` (``EVIDENCE_OUTPUT`` set) it returns the
    build's folder. Either way it then prints the protocol version (``data/protocol.toml``), so
    every page states it.
    """
    from evidence.io import choices_folder

    from .protocol import load_protocol

    if os.environ.get("EVIDENCE_OUTPUT"):
        print(load_protocol().stated())
        return Path(os.environ["EVIDENCE_OUTPUT"])
    folder = output_root() / "builds" / choices_folder(choices)
    os.environ["EVIDENCE_OUTPUT"] = str(folder)
    shown = folder.relative_to(output_root()).as_posix()
    print(
        f"Outputs of this run go to {shown}/ (figures/ and results/ are written only by "
        "`evidence build`)."
    )
    print(load_protocol().stated())
    return folder


def save_table(frame: pd.DataFrame, name: str, *, root: Path | None = None) -> Path:
    """Write ``results/<name>.csv`` byte-stably (fixed float format and line endings) and
    atomically (a temporary file renamed into place)."""
    from evidence.io import atomic_path

    path = (root or output_dir()) / "results" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, float_format="%.6g", lineterminator="\n")
    return path


#: The widest a forest plot of the pages may be (inches): at this width a figure fills the
#: site's 688 px column and its 7.5 pt footnote is 9 px on screen.
FIGURE_MAX_WIDTH = 7.9

#: Resolution of the review's PNG figures: twice the site's pixels (``figure.dpi`` 100), so
#: they stay sharp on high-density screens. The SVG beside each PNG is the print version.
PNG_DPI = 200


def save_plot(obj, name: str, *, root: Path | None = None, alt: str | None = None) -> list[Path]:
    """Write ``figures/<name>.svg`` and ``.png`` (at :data:`PNG_DPI`) from an Axes or Figure
    (byte-stable); in a notebook, also show the figure, with ``alt`` (default:
    :func:`figure_alt`, from its title) as the alt text the site gives the image."""
    from evidence.io import save_figure

    fig = obj.figure if hasattr(obj, "figure") and obj.figure is not None else obj
    folder = (root or output_dir()) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.{ext}" for ext in ("svg", "png")]
    for p in paths:
        save_figure(fig, p, dpi=PNG_DPI)
    _display_in_notebook(fig, alt or figure_alt(fig), paths[1])
    return paths


def _display_in_notebook(fig, alt: str, png: Path) -> None:
    """In a Jupyter kernel, show the saved ``png`` once now and release the figure (outside
    one, do nothing).

    The page shows the committed image itself, at the width the inline backend would give the
    figure (``figure.dpi`` pixels an inch), and the figure is not drawn a second time. The inline
    backend only shows figures it saw being drawn, which misses figures built and saved inside a
    library call; displaying explicitly and closing avoids both gaps and repeats.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    import base64

    import matplotlib.pyplot as plt
    from IPython.display import display

    from evidence.plots.style import STYLE

    data = {"image/png": base64.b64encode(png.read_bytes()).decode("ascii"), "text/plain": alt}
    width = round(fig.get_figwidth() * STYLE["figure.dpi"])
    display(data, raw=True, metadata={"image/png": {"alt": alt, "width": width}})
    plt.close(fig)


def forest(an, *, save: bool = True, **kwargs):
    """Forest plot by group (saved as ``figures/<name>_forest``).

    Groups with fewer than :data:`evidence.review.small_cells.SMALL_K` trial comparisons also show
    their Bayesian estimate (the protocol's rule; pass ``bayes=None`` to leave it out).
    """
    from evidence.plots import forest_plot

    from .small_cells import SMALL_K, small_cell_fits

    if not an:
        raise ValueError(f"{an.name}: nothing to plot (no usable comparisons)")
    arms = ("events1", "n1", "events2", "n2") if an.measure == "OR" else ("n1", "n2")
    arms = [c for c in arms if c in an.effects and an.effects[c].notna().any()]
    data = an.effects[arms] if arms else None
    kwargs.setdefault("favours", ("comparator", "PDT"))  # positive = favours PDT
    if an.measure == "OR":
        kwargs.update({k: v for k, v in event_display(an).items() if k not in kwargs})
    kwargs.setdefault("overall", False)  # groups differ in kind and may share PDT arms
    kwargs.setdefault("max_width", FIGURE_MAX_WIDTH)
    shared = an.shared_trials()
    if shared and an.by_group is not None:
        kwargs.setdefault(
            "footnote",
            f"{', '.join(shared)} contribute to more than one subgroup (shared PDT arm); the "
            "test for subgroup differences assumes independent subgroups and is approximate.",
        )
    kwargs.setdefault("title", an.title)
    if "bayes" not in kwargs:
        grouped = an.by_group is not None
        cells = {an._name(g): r for g, r in an.results.items()} if grouped else an.results
        fits = small_cell_fits(cells, an.measure)
        kwargs["bayes"] = fits if grouped else next(iter(fits.values()), None)
        if fits:
            rule = f"Bayesian estimate for groups of fewer than {SMALL_K} trials (methods page)."
            kwargs["footnote"] = f"{kwargs.get('footnote', '')} {rule}".strip()
    ax = forest_plot(an.by_group or next(iter(an.results.values())), data=data, **kwargs)
    if save:
        save_plot(ax, f"{an.name}_forest")
    return ax


def show_items(*objs, fold: str | None = None, unfold: bool = False) -> None:
    """Display text (as Markdown), frames (formatted for reading) and other objects in turn.

    ``fold`` folds them on the site behind a toggle with that text, closed by default, up to the
    next section heading, fold, ``unfold`` or the end of the cell's outputs (diagnostics a
    student may skip; :func:`evidence.site.render` reads the mark). ``unfold`` ends a fold
    before them. In a notebook both change nothing.
    """
    from IPython.display import Markdown, display

    from .tables import format_table

    items = [
        Markdown(o) if isinstance(o, str) else format_table(o) if isinstance(o, pd.DataFrame) else o
        for o in objs
    ]
    if not items:
        return
    mark = {"fold": fold} if fold else {"unfold": True} if unfold else None
    if mark:
        display(items[0], metadata={"evidence": mark})
        items = items[1:]
    display(*items)


def figure_alt(fig) -> str:
    """Alt text of a figure from its caption: its title (the suptitle, a text drawn as the
    title, with ``gid="title"``, or the axes' titles), else its largest bold text.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("Forest plot: PDT vs CBT")
    >>> figure_alt(fig)
    'Figure: Forest plot: PDT vs CBT'
    >>> plt.close(fig)
    """
    texts = list(fig.texts) + [t for ax in fig.axes for t in ax.texts]
    sup = getattr(fig, "_suptitle", None)
    titles = [sup] if sup is not None else []
    titles += [t for t in texts if t.get_gid() == "title"]
    titles += [ax.title for ax in fig.axes] + [ax._left_title for ax in fig.axes]
    words = [" ".join(t.get_text().split()) for t in titles]
    if not any(words):
        bold = [t for t in texts if t.get_fontweight() in ("bold", 700) and t.get_text().strip()]
        bold.sort(key=lambda t: -t.get_fontsize())
        words = [" ".join(t.get_text().split()) for t in bold[:1]]
    text = "; ".join(dict.fromkeys(w for w in words if w))
    return f"Figure: {text}" if text else "Figure"
