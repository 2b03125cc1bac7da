"""The rendered site: executed notebooks -> ``site/`` (Sphinx + myst-nb + sphinx-book-theme).

:func:`render_site` takes the notebooks that :mod:`evidence.site.build` has just executed and
renders them, with a landing page and a glossary, into a static site with a sidebar listing
every page, previous/next links, a table of contents per page and search. myst-nb does not
execute anything (``nb_execution_mode = "off"``): the pages show exactly the outputs the build
produced. Code cells are collapsed behind a "Show code cell source" toggle (tag ``hide-input``),
except in the how-to, where the code is the point; figures and tables stay visible.

The site sources are in ``docs/`` (``conf.py``, ``index.md``, ``glossary.md``, ``protocol.md``,
``_static/``).
``index.md`` is a template: ``{{headline_table}}``, ``{{condition_links}}`` and ``{{toctree}}``
are filled from the tables the overview notebook wrote to ``results/`` (nothing is recomputed)
and from the notebooks present.

Each executed notebook is also kept as ``site/_notebooks/<name>.ipynb``. A build of one notebook
(``evidence build --notebook NAME``) re-renders the whole site from the new notebook and the
kept ones, and :attr:`SiteReport.stale` names the kept pages that are older than the data or
the library.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
import warnings as warnings_module
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["SiteReport", "SiteError", "render_site", "landing_table", "SOURCE"]

ROOT = Path(__file__).resolve().parents[2]
#: The site sources (Sphinx configuration, landing-page template, glossary, stylesheet).
SOURCE = ROOT / "docs"
#: Notebooks whose code is shown expanded (the code is what the page teaches).
SHOW_CODE = frozenset({"91_howto"})
#: Headline families of the landing table: results file stem and column header.
FAMILIES = (
    ("overview_cbt_by_condition", "PDT vs CBT"),
    ("overview_usual_care_by_condition", "PDT vs usual care"),
    ("overview_waitlist_by_condition", "PDT vs waitlist"),
)
#: Metapsy network (``results/network_pdt_vs_cbt.csv``) -> the condition whose row it fills on the
#: landing page; networks on another scale (log OR) or of a broader population are not shown there.
NETWORK_CONDITIONS = {
    "depression-psyctr": "depression",
    "panic-psyctr": "panic",
    "sad-psyctr": "social_anxiety",
    "gad-psyctr": "generalized_anxiety",
    "ptsd-psyctr": "ptsd",
    "borderline-psyctr": "borderline_pd",
}
HEADLINE_FIGURE = "headline_cbt_forest.png"
FIGURE_BLOCK = f"""\
:::{{figure}} figures/{HEADLINE_FIGURE}
:alt: Forest plot of PDT vs CBT by condition: pooled Hedges' g with 95% confidence intervals
:class: landing-figure

PDT vs CBT by condition (Hedges' g at post-treatment). The shaded band is the equivalence
margin of g = ±0.25; squares are trials, diamonds pooled estimates.
:::"""


class SiteError(RuntimeError):
    """The site could not be rendered (missing sources, or Sphinx failed)."""


@dataclass(frozen=True)
class SiteReport:
    """What :func:`render_site` did: pages rendered (in order), pages reused from an earlier
    build, the reused pages that are out of date, and Sphinx's warnings (none expected)."""

    pages: tuple[str, ...]
    reused: tuple[str, ...]
    stale: tuple[str, ...]
    warnings: tuple[str, ...]

    def summary(self) -> str:
        """One line per fact, for the build log.

        Examples
        --------
        >>> print(SiteReport(("00_overview", "01_depression"), ("00_overview",),
        ...                  ("00_overview",), ()).summary())
        site: 2 pages (1 from an earlier build)
        out of date (rebuild with `evidence build`): 00_overview
        """
        lines = [f"site: {len(self.pages)} pages ({len(self.reused)} from an earlier build)"]
        if self.stale:
            lines.append(f"out of date (rebuild with `evidence build`): {', '.join(self.stale)}")
        lines += [f"site warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _section(stem: str) -> str:
    """Sidebar section of a notebook: a condition page is named after its condition key
    (``01_depression``); other numbered pages (``08_equivalence``) compare across conditions.

    >>> [_section(s) for s in ("00_overview", "07_self_harm", "08_equivalence", "91_howto")]
    ['Overview', 'Conditions', 'Across conditions', 'Methods and reference']
    """
    from evidence.review import CONDITION_GROUPS

    if stem.startswith("00"):
        return "Overview"
    if stem.split("_", 1)[-1] in CONDITION_GROUPS:
        return "Conditions"
    if stem.startswith("9"):
        return "Methods and reference"
    return "Across conditions"


def _toctree(stems: list[str]) -> str:
    sections: dict[str, list[str]] = {}
    for stem in stems:
        sections.setdefault(_section(stem), []).append(stem)
    sections.setdefault("Methods and reference", []).extend(["protocol", "glossary"])
    order = ("Overview", "Conditions", "Across conditions", "Methods and reference")
    blocks = [
        f"```{{toctree}}\n:hidden:\n:caption: {name}\n\n" + "\n".join(sections[name]) + "\n```"
        for name in order
        if name in sections
    ]
    return "\n\n".join(blocks)


def _condition_pages(stems: list[str]) -> dict[str, str]:
    """Condition label (as in the results tables) -> notebook stem of its page."""
    from evidence.review import CONDITION_GROUPS, CONDITION_NAMES

    out = {}
    for key, labels in CONDITION_GROUPS.items():
        stem = next((s for s in stems if s.split("_", 1)[-1] == key), None)
        if stem is not None:
            out.update({CONDITION_NAMES.get(lab, lab): stem for lab in labels})
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _bayes_stem(stem: str) -> str:
    """``overview_cbt_by_condition`` -> ``headline_cbt_bayes.csv`` (the overview's small cells)."""
    return stem.replace("overview_", "headline_").replace("_by_condition", "_bayes") + ".csv"


def _bayes_lines(path: Path) -> dict[str, str]:
    """Per condition whose cell is headlined by its Bayesian estimate (k < 5): a third line of
    its landing-table cell, posterior median [95% credible interval]. None when the overview
    wrote no Bayesian table."""
    import html as _html

    from evidence.review.tables import _interval, _number

    if not path.exists():
        return {}
    out = {}
    for row in _read(path):
        if row["headline"] == "Bayesian":
            text = (
                f"Bayesian {_number(float(row['bayes_median']), 2)} "
                f"{_interval(float(row['bayes_ci_low']), float(row['bayes_ci_high']))}"
            )
            out[row["group"]] = f'<br><span class="bayes">{_html.escape(text)}</span>'
    return out


def landing_table(results: Path, stems: list[str], titles: Mapping[str, str] | None = None) -> str:
    """The landing page's table (HTML): per condition, PDT vs CBT, vs other active treatments
    and vs control conditions as pooled g [95% CI] with the number of trials, read from the
    overview notebook's ``results/overview_*_by_condition.csv``; each condition links to its
    page.

    Raises
    ------
    FileNotFoundError
        When a results table is missing (the overview notebook has not run).

    Examples
    --------
    >>> html = landing_table(ROOT / "results", ["01_depression"])
    >>> '<a href="01_depression.html">Depression</a>' in html
    True
    """
    import html as _html

    from evidence.review import CONDITION_NAMES
    from evidence.review.tables import MISSING

    pages = _condition_pages(stems)
    cells = _family_cells(results)
    heads = [h for _, h in FAMILIES]
    columns = [stem for stem, _ in FAMILIES]
    if _network_cells(results, cells):  # the overview's network section has run
        heads.insert(1, "PDT vs CBT, network")
        columns.insert(1, "network")
    order = {name: i for i, name in enumerate(CONDITION_NAMES.values())}
    rows = []
    for condition in sorted(cells, key=lambda c: order.get(c, len(order))):
        name = _html.escape(condition[:1].upper() + condition[1:])
        stem = pages.get(condition)
        link = f'<a href="{stem}.html">{name}</a>' if stem else name
        tds = "".join(f'<td class="num">{cells[condition].get(s, MISSING)}</td>' for s in columns)
        rows.append(f"<tr><td>{link}</td>{tds}</tr>")
    head = "".join(f"<th>{_html.escape(h)}</th>" for h in heads)
    shown = {pages.get(c) for c in cells}
    others = [s for s in stems if _section(s) == "Conditions" and s not in shown]
    # the note follows the scroll container, not inside it: a caption is as wide as its table,
    # and the right half of its lines scrolled out of view with the table's last columns
    return (
        '<div class="table-wrap"><table class="evidence-table landing-table"><thead><tr>'
        f"<th>Condition</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f'<p class="table-note">{_landing_caption(cells, others, titles or {})}</p>'
    )


def _cell(estimate: float, low: float, high: float, trials: str, extra: str = "") -> str:
    """A landing-table cell: estimate [interval], then the number of trials (and ``extra``)."""
    import html as _html

    from evidence.review.tables import _interval, _number

    text = f"{_number(estimate, 2)} {_interval(low, high)}"
    return (
        f'<span class="est">{_html.escape(text)}</span><br>'
        f'<span class="k">{_html.escape(trials)}</span>{extra}'
    )


def _family_cells(results: Path) -> dict[str, dict[str, str]]:
    """Condition -> family stem -> cell, from the overview's ``overview_*_by_condition.csv``."""
    cells: dict[str, dict[str, str]] = {}
    certainty = _certainty(results)
    for stem, _ in FAMILIES:
        path = results / f"{stem}.csv"
        if not path.exists():
            raise FileNotFoundError(f"results/{stem}.csv is missing")
        bayes = _bayes_lines(results / _bayes_stem(stem))
        family = stem.removeprefix("overview_").removesuffix("_by_condition")
        for row in _read(path):
            k = int(row["k"])
            trials = f"{k} trial" + ("s" if k != 1 else "")
            level = certainty.get((family, row["group"]))
            if level:
                trials += f"; {level} certainty"
            est = (float(row[c]) for c in ("estimate", "ci_low", "ci_high"))
            cells.setdefault(row["group"], {})[stem] = _cell(
                *est, trials, bayes.get(row["group"], "")
            )
    return cells


def _certainty(results: Path) -> dict[tuple[str, str], str]:
    """(family, condition) -> GRADE level, from the overview's summary of findings (empty when
    the overview did not write one)."""
    path = results / "overview_certainty.csv"
    if not path.exists():
        return {}
    return {
        (row["analysis"], row["comparison"].split(": PDT vs ")[0]): row["certainty"]
        for row in _read(path)
    }


def _network_cells(results: Path, cells: dict[str, dict[str, str]]) -> bool:
    """Add the network column's cells (PDT vs CBT in the condition's Metapsy network); False
    when the overview wrote no network table."""
    from evidence.review import CONDITION_NAMES

    network = results / "network_pdt_vs_cbt.csv"
    if not network.exists():
        return False
    for row in _read(network):
        code = NETWORK_CONDITIONS.get(row["database"])
        if code is None or row["measure"] != "SMD" or not row["network"]:
            continue
        share = float(row.get("direct_share") or 0.0) if float(row["k_direct"] or 0) else 0.0
        trials = f"{int(float(row['k_network']))} trials, " + (
            f"{100 * share:.0f}% direct" if share else "indirect only"
        )
        # the rating on a line of its own: one long line pushed the estimate out of the column
        rating = f"{row['cinema']} confidence (CINeMA)" if row.get("cinema") else ""
        extra = f'<br><span class="k">{rating}</span>' if rating else ""
        est = (float(row[c]) for c in ("network", "network_low", "network_high"))
        cells.setdefault(CONDITION_NAMES[code], {})["network"] = _cell(*est, trials, extra)
    return True


def _landing_caption(cells: dict, others: list[str], titles: Mapping[str, str]) -> str:
    import html as _html

    from evidence.review.tables import MISSING

    text = (
        'Pooled <a href="glossary.html#hedges-g">Hedges\' g</a> at post-treatment '
        'with its <a href="glossary.html#confidence-interval">95% confidence interval</a> and '
        "the number of trials; positive values favour PDT; "
        f"{MISSING} = no randomized comparison in the data. Direct comparisons, except the "
        "network column: a network meta-analysis (REML) of every psychotherapy trial of the "
        "condition's Metapsy database, with the number of trials in the network, the share of "
        "its precision that comes from direct PDT vs CBT trials, and the "
        '<a href="glossary.html#cinema">CINeMA</a> confidence in the network estimate; it '
        "assumes transitivity (see each condition page)."
    )
    if any('class="bayes"' in c for row in cells.values() for c in row.values()):
        text += (
            " With fewer than 5 trials, a third line gives the Bayesian posterior median with its "
            "95% credible interval (half-normal prior on \u03c4): the estimate that the "
            "protocol's rule and the condition pages use for such small cells (methods page)."
        )
    if others:
        names = ", ".join(
            f'<a href="{s}.html">{_html.escape(titles.get(s, s))}</a>' for s in others
        )
        text += (
            f" Not in this table (no continuous post-treatment comparison; their pages show "
            f"event and follow-up outcomes): {names}."
        )
    return text


def _coverage(results: Path) -> str:
    """The landing page's sentence on how many of the known head-to-head PDT vs CBT trials the
    data hold, from ``results/coverage.csv`` (empty before the overview has run)."""
    from evidence.review.coverage import coverage_sentence

    path = results / "coverage.csv"
    if not path.exists():
        return ""
    table = pd.read_csv(path, keep_default_na=False)
    return f"**Coverage.** {coverage_sentence(table)}"


def _condition_links(titles: Mapping[str, str]) -> str:
    return "\n".join(
        f"- [{title}]({stem}.ipynb)"
        for stem, title in titles.items()
        if _section(stem) == "Conditions"
    )


def _prepare(nb, stem: str):
    """A display copy: code inputs collapsed behind a toggle (not in :data:`SHOW_CODE`)."""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        if stem not in SHOW_CODE and "hide-input" not in tags:
            tags.append("hide-input")
    nb.metadata.pop("evidence_name", None)
    nb.cells = _split_at_headings(nb.cells)
    return nb


def _heading(output) -> str | None:
    """The Markdown of a displayed output that opens a section or subsection (``## ...``,
    ``### ...``), else None."""
    text = output.get("data", {}).get("text/markdown") if "data" in output else None
    text = "".join(text) if isinstance(text, list) else text
    return text if text and text.startswith(("## ", "### ")) else None


def _fold(output) -> str | None:
    """The toggle text of an output that opens a folded part of a section (``fold`` in the
    output's ``evidence`` metadata, set by :func:`evidence.review.output.show_items`)."""
    meta = output.get("metadata", {}).get("evidence", {})
    return meta.get("fold") if isinstance(meta, dict) else None


def _unfold(output) -> bool:
    meta = output.get("metadata", {}).get("evidence", {})
    return isinstance(meta, dict) and bool(meta.get("unfold"))


def _alt(output) -> str | None:
    """The alt text a figure output carries (``alt`` in its ``image/png`` metadata)."""
    meta = output.get("metadata", {}).get("image/png", {})
    return meta.get("alt") if isinstance(meta, dict) else None


_CONTINUED = "# outputs of the call above"
_FOLD_END = "</details>"


def _fold_start(text: str) -> str:
    import html as _html

    return f'<details class="evidence-fold">\n<summary>{_html.escape(text)}</summary>'


def _split_at_headings(cells: list) -> list:
    """Split a cell's outputs into cells that the site can place: section headings that a
    library call displays (``report.show_sections``) become Markdown cells of their own, so that
    the page's table of contents lists them; outputs marked as folded (diagnostics) go inside a
    ``<details>`` element, closed by default, that ends at the next heading, fold or the end of
    the call's outputs; each figure with alt text becomes a cell whose image carries it. The
    outputs follow in cells without input (their code is the call above)."""
    import nbformat

    def continuation(alt: str | None = None):
        meta = {"tags": ["remove-input"]}
        if alt:
            meta["mystnb"] = {"image": {"alt": alt}}
        # (myst-nb skips a code cell without source; this one's input is not shown)
        return nbformat.v4.new_code_cell(_CONTINUED, metadata=meta)

    out = []
    for cell in cells:
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        if not any(_heading(o) or _fold(o) or _alt(o) or _unfold(o) for o in outputs):
            out.append(cell)
            continue
        cell.outputs, current, folded = [], cell, False
        out.append(cell)
        for output in outputs:
            text, fold, alt = _heading(output), _fold(output), _alt(output)
            if folded and _unfold(output):
                out.append(nbformat.v4.new_markdown_cell(_FOLD_END))
                current, folded = continuation(), False
                out.append(current)
            if text is not None or fold:
                if folded:
                    out.append(nbformat.v4.new_markdown_cell(_FOLD_END))
                folded = False
            if text is not None:
                out.append(nbformat.v4.new_markdown_cell(text))
            if fold:
                out.append(nbformat.v4.new_markdown_cell(_fold_start(fold)))
                folded = True
            if text is not None or fold or alt:
                current = continuation(alt)
                out.append(current)
            if text is None:
                current.outputs.append(output)
            if alt:
                current = continuation()
                out.append(current)
        if folded:
            out.append(nbformat.v4.new_markdown_cell(_FOLD_END))
    return [c for c in out if c.get("outputs") or c.source != _CONTINUED]


def _stale(kept: Path, root: Path, stem: str) -> bool:
    """A kept page is out of date when its notebook, the data or the library changed after it."""
    built = kept.stat().st_mtime
    inputs = [root / "notebooks" / f"{stem}.py"]
    inputs += [p for p in (root / "data").rglob("*") if p.is_file()]
    inputs += [p for p in (ROOT / "evidence").rglob("*.py") if p.name != "site.py"]
    return any(p.exists() and p.stat().st_mtime > built for p in inputs)


def _sphinx(src: Path, out: Path, doctrees: Path, warnings: io.StringIO):
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    try:
        # as sphinx-build does: docutils registrations do not outlive this build, so a second
        # build in one process (tests, a long-lived kernel) starts clean
        with patch_docutils(src), docutils_namespace():
            app = Sphinx(
                str(src), str(src), str(out), str(doctrees), "html",
                status=None, warning=warnings, freshenv=True,
                parallel=min(2, os.cpu_count() or 1),  # reading and writing pages: 2 processes
            )  # fmt: skip
            app.build(force_all=True)
    except Exception as exc:  # Sphinx raises many kinds; name the stage and keep the cause
        raise SiteError(f"rendering the site failed: {exc}") from exc
    return app


def render_site(
    executed: Mapping[str, object],
    root: Path = ROOT,
    out: Path | None = None,
    *,
    outputs: Path | None = None,
) -> SiteReport:
    """Render executed notebooks (name -> nbformat notebook) into a static site.

    Parameters
    ----------
    executed : mapping
        Notebook stem (e.g. ``"01_depression"``) -> executed notebook, in build order.
    root : Path
        The repository being built: ``results/`` and ``figures/`` are read from it and
        ``notebooks/`` names the pages a complete site has.
    out : Path, optional
        The site folder (default ``root/site``); ``out/index.html`` is the landing page.
    outputs : Path, optional
        The folder holding this build's ``figures/`` and ``results/`` (default ``root``; the
        build passes its staging folder).

    Returns
    -------
    SiteReport

    Raises
    ------
    SiteError
        When the site sources or the overview results are missing, or Sphinx fails.
    """
    import nbformat

    root = Path(root)
    out = Path(out) if out is not None else root / "site"
    outputs = Path(outputs) if outputs is not None else root
    if not (SOURCE / "conf.py").exists():
        raise SiteError("the site sources (docs/conf.py) are missing from this checkout")
    kept_dir = out / "_notebooks"
    kept_dir.mkdir(parents=True, exist_ok=True)
    for stem, nb in executed.items():
        nbformat.write(nb, kept_dir / f"{stem}.ipynb")
    known = [p.stem for p in sorted((root / "notebooks").glob("*.py"))]
    stems = [s for s in known if (kept_dir / f"{s}.ipynb").exists()]
    stems += [s for s in executed if s not in stems]
    reused = tuple(s for s in stems if s not in executed)
    stale = tuple(s for s in reused if _stale(kept_dir / f"{s}.ipynb", root, s))

    with tempfile.TemporaryDirectory(prefix="evidence-site-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(SOURCE, src, ignore=shutil.ignore_patterns("_build", "__pycache__"))
        titles = {}
        for stem in stems:
            nb = executed.get(stem) or nbformat.read(kept_dir / f"{stem}.ipynb", as_version=4)
            titles[stem] = notebook_title(nb)
            nbformat.write(_prepare(nb, stem), src / f"{stem}.ipynb")
        figure = outputs / "figures" / HEADLINE_FIGURE
        if figure.exists():
            (src / "figures").mkdir()
            shutil.copy2(figure, src / "figures" / HEADLINE_FIGURE)
        page = (src / "index.md").read_text(encoding="utf-8")
        page = page.replace("{{headline_figure}}", FIGURE_BLOCK if figure.exists() else "")
        try:
            table = landing_table(outputs / "results", stems, titles)
        except FileNotFoundError as exc:
            table = f"*The summary table appears once the overview notebook has run ({exc}).*"
        page = page.replace("{{headline_table}}", table)
        page = page.replace("{{coverage_sentence}}", _coverage(outputs / "results"))
        page = page.replace("{{condition_links}}", _condition_links(titles))
        page = page.replace("{{toctree}}", _toctree(stems))
        # links to pages this build does not have (one notebook built afresh) become plain text
        page = re.sub(
            r"\[([^\]]+)\]\(([\w-]+)\.ipynb\)",
            lambda m: m.group(0) if m.group(2) in stems else m.group(1),
            page,
        )
        (src / "index.md").write_text(page, encoding="utf-8")

        warnings = io.StringIO()
        staging = Path(tmp) / "html"
        # Sphinx's deprecation notices to extension authors (myst-parser) are not for readers
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore", DeprecationWarning)
            warnings_module.simplefilter("ignore", PendingDeprecationWarning)
            app = _sphinx(src, staging, Path(tmp) / "doctrees", warnings)
        if app.statuscode:
            raise SiteError(f"rendering the site failed:\n{warnings.getvalue()}")
        for child in out.iterdir():
            if child.name != "_notebooks":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        for child in staging.iterdir():
            if child.name != ".buildinfo" and child.name != ".doctrees":
                shutil.move(str(child), out / child.name)
    # the build folder is temporary: name the page only; no terminal colours in the log
    text = re.sub(r"\x1b\[[0-9;]*m", "", warnings.getvalue()).replace(f"{src}{os.sep}", "")
    lines = tuple(w.strip() for w in text.splitlines() if w.strip())
    return SiteReport(tuple(stems), reused, stale, lines)


def notebook_title(nb) -> str:
    """The first level-1 Markdown heading of a notebook ("untitled" when there is none)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if m:
                return m.group(1).strip()
    return "untitled"
