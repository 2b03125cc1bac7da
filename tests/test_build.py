"""evidence build: executes notebooks, names the failing notebook and cell, writes the site."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evidence import build

ROOT = Path(__file__).resolve().parents[1]
FAILING = """# %% [markdown]
# # A notebook that fails

# %% tags=["parameters"]
X = 1

# %%
y = X + 1

# %%
raise RuntimeError("boom")
"""


@pytest.fixture()
def repo(tmp_path):
    for folder in ("data", "notebooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copytree(ROOT / "tests" / "reference", tmp_path / "tests" / "reference")
    return tmp_path


def test_one_notebook_builds_figures_tables_and_page(repo):
    messages = []
    steps = build.build(
        repo, only="90_methods_validation", params={"METHOD": "DL"}, progress=messages.append
    )
    assert [s.notebook for s in steps] == ["90_methods_validation.py"]
    assert steps[0].title.startswith("Methods and validation")
    html = (repo / "site" / "90_methods_validation.html").read_text()
    assert "injected by evidence build" in html
    assert "DL (DerSimonian-Laird)" in html  # the injected parameter reached the kernel
    assert 'src="_images/' in html  # the figure, extracted by the site renderer
    assert (repo / "site" / "index.html").exists()  # one notebook still rebuilds the index
    table = (repo / "results" / "validation_vs_metafor.csv").read_text().splitlines()
    assert table[0] == "method,fits,within 1e-6" and len(table) == 10
    assert all(line.endswith(",True") for line in table[1:])
    assert any(m.startswith("data: ") for m in messages)
    assert any("[1/1] 90_methods_validation.py" in m for m in messages)


def test_failure_names_notebook_and_cell(repo):
    (repo / "notebooks" / "zz_fail.py").write_text(FAILING)
    with pytest.raises(build.BuildError, match=r"zz_fail\.py: cell 3 failed \('raise Runtime"):
        build.build(repo, only="zz_fail", progress=lambda m: None)


def test_unknown_notebook_and_missing_parameters_cell(repo):
    with pytest.raises(build.BuildError, match="no notebook named 'nope'"):
        build.build(repo, only="nope", progress=lambda m: None)
    (repo / "notebooks" / "zz_noparams.py").write_text("# %%\nx = 1\n")
    with pytest.raises(build.BuildError, match="no cell tagged 'parameters'"):
        build.build(repo, only="zz_noparams", params={"X": 2}, progress=lambda m: None)


def test_every_notebook_has_a_title_and_parameters_cell():
    import jupytext

    paths = build.notebook_paths(ROOT)
    assert len(paths) >= 10
    for path in paths:
        nb = jupytext.read(path)
        assert build._title(nb) != "untitled", path.name
        tags = [t for c in nb.cells for t in c.get("metadata", {}).get("tags", [])]
        assert "parameters" in tags, path.name


def test_overview_shows_every_saved_figure_inline(repo):
    """Each figure a notebook saves is also shown in its page (once)."""
    build.build(repo, only="00_overview", progress=lambda m: None)
    html = (repo / "site" / "00_overview.html").read_text()
    saved = sorted((repo / "figures").glob("*.png"))
    assert len(saved) >= 4
    assert html.count('src="_images/') == len(saved)
