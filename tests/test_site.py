"""Tables formatted for reading (evidence.review.tables), the glossary they point to, the landing
table and the site renderer (evidence.site.render); the browser tests of the built site are in
tests/browser."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

import evidence.review.data
from evidence import review
from evidence.review.certainty import certainty_table
from evidence.review.tables import GLOSSARY, MISSING, format_p, format_rob, format_table
from evidence.site import render

ROOT = Path(__file__).resolve().parents[1]


def pooled_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "k": [3, 1],
            "estimate": [1.05877, 0.180819],
            "ci_low": [-1.19527, -0.713287],
            "ci_high": [3.3128, 1.07493],
            "tau2": [0.323426, 0.0],
            "i2": [62.2823, np.nan],
            "q_pvalue": [0.0867314, np.nan],
            "pvalue": [0.180669, 0.000012],
        },
        index=pd.Index(["usual care", "placebo or attention control"], name="group"),
    )


def test_table_has_no_index_readable_headers_and_journal_rounding():
    t = format_table(pooled_frame(), scale="g", labels={"group": "Comparator"})
    frame = t.to_frame()
    assert list(frame.columns) == ["Comparator", "k", "g", "95% CI", "τ²", "I² (%)", "p (Q)", "p"]
    assert frame.iloc[0].tolist() == [
        "usual care",
        "3",
        "1.06",
        "[-1.20, 3.31]",
        "0.323",
        "62",
        "0.087",
        "0.181",
    ]
    assert frame.iloc[1]["I² (%)"] == MISSING and frame.iloc[1]["p (Q)"] == MISSING
    assert frame.iloc[1]["p"] == "<0.001"
    html = t._repr_html_()
    assert "<th></th>" not in html and "dataframe" not in html  # no pandas index column
    assert "nan" not in html.lower()


def test_odds_ratio_tables_are_on_the_odds_ratio_scale():
    frame = format_table(pooled_frame(), scale="OR").to_frame()
    assert "OR" in frame.columns and "g" not in frame.columns
    assert frame.iloc[0]["OR"] == f"{np.exp(1.05877):.2f}"
    assert frame.iloc[0]["95% CI"] == f"[{np.exp(-1.19527):.2f}, {np.exp(3.3128):.2f}]"
    assert format_table(pooled_frame(), scale="log OR").to_frame().iloc[0]["log OR"] == "1.06"
    with pytest.raises(ValueError, match="scale must be"):
        format_table(pooled_frame(), scale="RR")


def test_headers_explain_themselves_and_link_to_glossary_entries():
    html = format_table(pooled_frame(), scale="g")._repr_html_()
    anchors = set(re.findall(r'href="glossary\.html#([a-z0-9-]+)"', html))
    assert {"tau2", "i2", "confidence-interval", "hedges-g", "k"} <= anchors
    assert all(a in GLOSSARY for a in anchors)
    assert 'title="tau-squared' in html
    offline = format_table(pooled_frame(), glossary=None)._repr_html_()
    assert "href=" not in offline and "<abbr title=" in offline


def test_influence_headers_name_the_diagnostics():
    frame = pd.DataFrame(
        {"rstudent": [1.2], "dffits": [0.5], "cook.d": [0.27], "cov.r": [1.05]},
        index=pd.Index(["Cooper 2003"], name="study"),
    )
    t = format_table(frame, labels={"study": "Trial"})
    assert list(t.to_frame().columns) == [
        "Trial",
        "rstudent",
        "DFFITS",
        "Cook's distance",
        "Covariance ratio",
    ]
    html = t._repr_html_()
    for anchor in ("rstudent", "dffits", "cooks-distance", "covariance-ratio"):
        assert f"glossary.html#{anchor}" in html


def test_risk_of_bias_in_one_vocabulary_for_every_value_in_the_data():
    data = evidence.review.data.load()
    shown = {format_rob(v) for v in data.trials["rob"]}
    allowed = re.compile(r"low|some concerns|high|[0-4]/4 criteria met|" + MISSING)
    assert all(allowed.fullmatch(s) for s in shown), shown
    assert {"high", "some concerns"} <= shown


def test_p_values_and_missing_values():
    assert format_p(0.00049) == "<0.001" and format_p(0.001) == "0.001"
    assert format_p(float("nan")) == MISSING
    frame = format_table(pd.DataFrame({"note": [None, ""], "equivalent": [True, False]}))
    assert frame.to_frame().to_numpy().tolist() == [[MISSING, "yes"], [MISSING, "no"]]


def test_every_glossary_anchor_is_a_section_of_the_glossary_page():
    text = (render.SOURCE / "glossary.md").read_text()
    labels = set(re.findall(r"^\(([a-z0-9-]+)\)=$", text, flags=re.M))
    assert set(GLOSSARY) <= labels, set(GLOSSARY) - labels
    for term in ("tau²", "I²", "Prediction interval", "Knapp-Hartung", "Hedges' g"):
        assert term in text
    for term in ("Equivalence margin", "rstudent", "DFFITS", "Cook's distance", "Covariance"):
        assert term in text


def test_landing_table_reads_the_overview_results(tmp_path):
    for stem, _ in render.FAMILIES:
        shutil.copy(ROOT / "results" / f"{stem}.csv", tmp_path)
    html = render.landing_table(tmp_path, ["01_depression", "03_ptsd"])
    cbt = pd.read_csv(tmp_path / "overview_cbt_by_condition.csv").set_index("group")
    depression = cbt.loc["depression"]
    assert f"{depression['estimate']:.2f} [{depression['ci_low']:.2f}, " in html
    assert f"{int(depression['k'])} trials" in html and "1 trial<" in html
    assert '<a href="01_depression.html">Depression</a>' in html
    assert '<a href="03_ptsd.html">PTSD</a>' in html
    assert MISSING in html  # conditions without a comparison in a family
    assert "Bayesian" not in html  # the overview's Bayesian tables are not there
    for stem, _ in render.FAMILIES:
        bayes = stem.replace("overview_", "headline_").replace("_by_condition", "_bayes")
        shutil.copy(ROOT / "results" / f"{bayes}.csv", tmp_path)
    html = render.landing_table(tmp_path, ["01_depression", "03_ptsd"])
    b = pd.read_csv(tmp_path / "headline_cbt_bayes.csv").set_index("group").loc["depression"]
    assert b["headline"] == "Bayesian" and b["k"] == 2
    line = f"Bayesian {b['bayes_median']:.2f} [{b['bayes_ci_low']:.2f}, {b['bayes_ci_high']:.2f}]"
    assert line.replace("-", "\u2212") in html or line in html
    usual = pd.read_csv(tmp_path / "overview_usual_care_by_condition.csv").set_index("group")
    assert usual.loc["depression", "k"] >= 5  # a large cell: no Bayesian line
    small = sum(
        pd.read_csv(tmp_path / f"{stem}.csv").set_index("group").loc["depression", "k"] < 5
        for stem, _ in render.FAMILIES
    )
    row = html.split('href="01_depression.html"')[1].split("</tr>")[0]
    assert small >= 2 and row.count("Bayesian") == small  # one line per small cell, no more
    (tmp_path / "overview_usual_care_by_condition.csv").unlink()
    with pytest.raises(FileNotFoundError, match="overview_usual_care_by_condition"):
        render.landing_table(tmp_path, [])


def test_analysis_titles_and_plurals():
    empty = pd.DataFrame()
    an = review.Analysis(
        "ptsd_events_followup", "comparator_class", "OR", "follow_up", "REML", "knha", 0.5,
        empty, {}, None,
    )  # fmt: skip
    assert an.title == "PTSD (odds ratio, follow-up)"
    an = review.Analysis(
        "self_harm", "comparator_class", "SMD", "post", "REML", "knha", 0.5, empty, {}, None
    )
    assert an.title == "Self-harm and suicidality (Hedges' g, post)"
    text = review.overview_text(review.condition_analyses(evidence.review.data.load(), "self_harm"))
    assert "1 comparison from 1 trial," in text and "1 comparisons" not in text


def notebook(title: str, value: int):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    code = nbformat.v4.new_code_cell("value = 6 * 7\nvalue", execution_count=1)
    code.outputs = [
        nbformat.v4.new_output("execute_result", {"text/plain": str(value)}, execution_count=1)
    ]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nSome text."), code]
    return nb


def test_render_site_renders_pages_and_reuses_and_flags_kept_ones(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data").mkdir()
    for stem in ("00_overview", "01_depression"):
        (tmp_path / "notebooks" / f"{stem}.py").write_text("# %%\n")
    (tmp_path / "results").mkdir()
    for stem, _ in render.FAMILIES:
        shutil.copy(ROOT / "results" / f"{stem}.csv", tmp_path / "results")
    out = tmp_path / "site"
    first = render.render_site(
        {"00_overview": notebook("Overview", 42), "01_depression": notebook("Depression", 43)},
        tmp_path,
        out,
    )
    assert first.pages == ("00_overview", "01_depression") and first.reused == ()
    assert first.warnings == ()  # links to pages this build lacks are left out, not broken
    page = (out / "01_depression.html").read_text()
    assert "Depression" in page and "43" in page
    assert "tag_hide-input" in page  # code collapsed behind a toggle
    index = (out / "index.html").read_text()
    assert "landing-table" in index and 'href="01_depression.html"' in index
    assert (out / "glossary.html").exists() and (out / "search.html").exists()
    assert (out / "_notebooks" / "00_overview.ipynb").exists()
    # one notebook rebuilt: the other page is kept, and flagged once its source is newer
    (tmp_path / "notebooks" / "00_overview.py").touch()
    kept = out / "_notebooks" / "00_overview.ipynb"
    old = kept.stat().st_mtime - 10
    os.utime(kept, (old, old))
    second = render.render_site({"01_depression": notebook("Depression", 44)}, tmp_path, out)
    assert second.reused == ("00_overview",) and second.stale == ("00_overview",)
    assert "out of date" in second.summary() and "00_overview" in second.summary()
    assert "44" in (out / "01_depression.html").read_text()
    assert (out / "00_overview.html").exists()


def test_each_condition_page_ends_with_its_own_conclusion():
    data = evidence.review.data.load()
    texts = {}
    for key in review.CONDITION_GROUPS:
        analyses = review.condition_analyses(data, key)
        texts[key] = review.conclusion(analyses, key)
        table = certainty_table(analyses, data.protocol, margin=data.protocol.equivalence_margin)
        for verdict in table["verdict"]:  # every cell's verdict, the summary table's sentence
            assert verdict in texts[key]
    assert len(set(texts.values())) == len(texts)  # no two pages close alike
    assert texts["ptsd"].startswith("**PTSD.**")
    assert "No trial here compares PDT with CBT" in texts["personality"]
    assert "CBT was compared directly in 2 trials" in texts["depression"]
    for key in review.CONDITION_GROUPS:  # every condition notebook ends with it
        source = next((ROOT / "notebooks").glob(f"0?_{key}.py")).read_text()
        assert f'page = ConditionPage.load("{key}", method=METHOD' in source
        assert source.rstrip().endswith("\n# %%\npage.conclusion()")


def _plural_trials(k: int) -> str:
    return f"{k} trial" + ("s" if k != 1 else "")


def test_landing_table_points_to_conditions_it_cannot_show():
    stems = ["01_depression", "05_eating"]
    html = render.landing_table(ROOT / "results", stems, {"05_eating": "Eating disorders"})
    assert "Not in this table" in html and '<a href="05_eating.html">Eating disorders</a>' in html
    # a page across conditions (Steinert's equivalence test) is not a condition left out
    html = render.landing_table(ROOT / "results", [*stems, "08_equivalence"])
    assert "08_equivalence" not in html


def test_counts_have_no_decimals_and_headers_are_capitalised():
    frame = pd.DataFrame({"cbt": [2, 0], "trials": [11, 2], "years": ["1999-2020", "2014-2017"]})
    t = format_table(frame).to_frame()
    assert list(t.columns) == ["CBT", "Trials", "Years"]  # acronyms stay acronyms
    assert t.to_numpy().tolist() == [["2", "11", "1999-2020"], ["0", "2", "2014-2017"]]
    names = format_table(pd.DataFrame(columns=["pdt_vs_cbt", "k_direct_usual_care"])).to_frame()
    assert list(names.columns) == ["PDT vs CBT", "k direct usual care"]


def test_browser_tests_fail_not_skip_in_ci_without_a_browser(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "CI": "1", "EVIDENCE_CHROMIUM": str(tmp_path / "no-chromium")}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "Knapp"]
    run = subprocess.run(
        [*args, str(ROOT / "tests" / "browser" / "test_site_browser.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stdout[-2000:]
    assert "the browser tests must run in CI" in run.stdout
    assert "skipped" not in run.stdout.splitlines()[-1]


def test_landing_table_has_a_network_column_when_the_overview_wrote_one(tmp_path):
    from evidence.site.render import FAMILIES, landing_table

    head = "group,k,estimate,ci_low,ci_high\n"
    for stem, _ in FAMILIES:
        (tmp_path / f"{stem}.csv").write_text(head + "depression,2,0.17,-1.13,1.47\n")
    html = landing_table(tmp_path, ["01_depression"])
    assert "network" not in html.split("<tbody>")[0]
    (tmp_path / "network_pdt_vs_cbt.csv").write_text(
        "database,measure,k_direct,k_network,network,network_low,network_high,direct_share,"
        "cinema\n"
        "depression-psyctr,SMD,2,442,-0.187,-0.510,0.135,0.16,low\n"
        "panic-psyctr,SMD,0,68,0.1,-0.71,0.91,0,very low\n"
        "ed-psyctr,OR,2,5,-0.75,-2.3,0.8,1,low\n"  # another scale: not on the landing page
    )
    html = landing_table(tmp_path, ["01_depression"])
    assert "<th>PDT vs CBT, network</th>" in html
    # the share of the network estimate's precision that is direct, never "1 direct" alone,
    # and the CINeMA confidence on a line of its own
    assert "442 trials, 16% direct</span><br>" in html and "-0.19 [-0.51, 0.14]" in html
    assert '<span class="k">low confidence (CINeMA)</span>' in html
    assert "68 trials, indirect only" in html and "very low confidence (CINeMA)" in html
    assert "bulimia" not in html


def test_section_headings_displayed_by_a_call_become_markdown_cells():
    """show_sections prints '## ...' headings as outputs; the site turns them into Markdown
    cells so that the per-page table of contents lists every section."""
    import nbformat

    from evidence.site.render import _prepare

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("review.show_sections(data, analyses)")
    md = ["## The comparisons\n\nOne row per trial.", "## Forest plots"]
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": md[0]}),
        nbformat.v4.new_output("display_data", data={"text/html": "<table></table>"}),
        nbformat.v4.new_output("display_data", data={"text/markdown": md[1]}),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}),
    ]
    nb.cells = [cell]
    cells = _prepare(nb, "01_depression").cells
    kinds = [
        (c.cell_type, c.source[:20] if c.cell_type == "markdown" else len(c.outputs)) for c in cells
    ]
    assert kinds == [
        ("code", 0),
        ("markdown", "## The comparisons\n\n"),
        ("code", 1),
        ("markdown", "## Forest plots"),
        ("code", 1),
    ]
    assert "remove-input" in cells[2].metadata["tags"]


def test_condition_notebooks_are_their_own_text_around_the_page_calls():
    """Issue 11: no condition notebook repeats code; each is Markdown around the same calls of
    one :class:`evidence.review.pages.ConditionPage` (fewer than 10 lines of code)."""
    import re

    for key in review.CONDITION_GROUPS:
        source = next((ROOT / "notebooks").glob(f"0?_{key}.py")).read_text()
        code = [
            ln.split("  #")[0]
            for ln in source.splitlines()
            if ln.strip() and not ln.startswith("#")
        ]
        assert code == [
            'METHOD = "REML"',
            'TEST = "knha"',
            "RHO = 0.5",
            "from evidence.review.pages import ConditionPage",
            f'page = ConditionPage.load("{key}", method=METHOD, test=TEST, rho=RHO)',
            "page.introduction()",
            "page.coverage()",
            "page.sections()",
            "page.scenarios()",
            "page.network()",
            "page.conclusion()",
        ], key
        intro = re.search(r"# %% \[markdown\]\n# # .+\n#\n((?:# .+\n)+)", source)
        assert intro and len(intro.group(1)) > 100, f"{key}: no introduction of its own"
