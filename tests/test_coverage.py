"""evidence.review.coverage and evidence.plots.prisma: the PRISMA 2020 flow computed from the
data, the reason categories of every exclusion, and the coverage of the trials the notes know."""

from __future__ import annotations

import csv
import os
import re
import shutil
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

import evidence.review.data
from evidence.io import save_figure
from evidence.plots.prisma import prisma_flow
from evidence.review import CONDITION_GROUPS, CONDITION_NAMES, coverage
from evidence.review.data import default_path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="module")
def data():
    return evidence.review.data.load()


@pytest.fixture(scope="module")
def records(data):
    return coverage.coverage_records(data)


@pytest.fixture(scope="module")
def overview(data, records):
    return coverage.prisma_counts(data, records=records)


@pytest.fixture(scope="module")
def table(data):
    return coverage.coverage_table(data)


def _shared(sub: str) -> Path:
    folder = SHARED / sub
    if not folder.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{folder} is missing; the audit tests must run in CI")
        pytest.skip(f"{folder} not present (fresh clone without ../shared)")
    return folder


# ---------------------------------------------------------------- reason categories


def test_every_exclusion_falls_into_exactly_one_category(data):
    reasons = coverage.exclusion_reasons(data)
    files = {"exclusions_metapsy.csv", "exclusions_reports.csv", "network/exclusions.csv"}
    assert set(reasons["file"]) == files
    n_files = sum(
        len(pd.read_csv(default_path() / f, dtype=str, keep_default_na=False)) for f in files
    )
    assert len(reasons) == n_files  # every row of every exclusion file
    for r in reasons.itertuples():
        hits = [
            key
            for key, (_, rule) in coverage.EXCLUSION_CATEGORIES.items()
            if re.search(rule, r.reason, re.IGNORECASE)
        ]
        assert hits == [r.category], (r.file, r.study, r.reason, hits)
    labels = [label for label, _ in coverage.EXCLUSION_CATEGORIES.values()]
    assert len(set(labels)) == len(labels)


def test_a_reason_in_no_category_or_in_two_is_refused():
    with pytest.raises(ValueError, match="matches 0 categories"):
        coverage.exclusion_category("the abstract was in Finnish")
    with pytest.raises(ValueError, match="matches 2 categories"):
        coverage.exclusion_category("duplicate of row 3; no usable number")


# ---------------------------------------------------------------- the flow


def test_flow_stages_add_up(overview):
    c = overview
    assert c.records_identified == c.duplicates_removed + c.records_screened
    assert c.records_screened == c.screening_excluded + c.database_assessed
    assert c.database_assessed == sum(n for _, n in c.database_excluded) + c.database_included
    assert c.reports_identified == sum(n for _, n in c.reports_excluded) + c.reports_included
    assert c.studies_included == c.studies_pooled + sum(n for _, n in c.not_pooled)
    frame = c.to_frame().set_index(["source", "box", "item"])["n"].sort_index()
    identified = frame.loc["Metapsy", "Records identified from databases"]
    assert identified[""] == identified.drop("").sum() == c.records_identified
    assert all(a == b for a, b in c.balances().values())


def test_flow_counts_are_the_rows_of_the_data_files(data, overview, records):
    """Counted again here from the files, by other code: every Metapsy row the files hold, the
    curated rows used and excluded, the trial reports and the trials."""
    net = pd.read_csv(default_path() / "network" / "comparisons.csv", dtype=str)
    nex = pd.read_csv(default_path() / "network" / "exclusions.csv", dtype=str)
    loc = r"^metapsy:([^@]+)@\w+ row (\d+)$"
    rows = pd.concat([net["source"], nex["source"]]).str.extract(loc).dropna()
    om = pd.read_csv(default_path() / "outcomes_metapsy.csv", dtype=str)
    em = pd.read_csv(default_path() / "exclusions_metapsy.csv", dtype=str)
    db = om["source"].str.extract(r"^metapsy:([^@]+)@")[0]
    used = set(zip(db, om["source_row1"], strict=True)) | set(
        zip(db, om["source_row2"], strict=True)
    )
    excluded = set(
        zip(em["source"].str.extract(r"^metapsy:([^@]+)@")[0], em["source_row"], strict=True)
    )
    every = set(map(tuple, rows.to_numpy())) | used | excluded
    assert overview.records_identified == len(every)
    assert overview.database_included == len(used) and overview.database_assessed == len(
        used | excluded
    )
    assert sum(n for _, n in overview.database_excluded) == len(em)
    er = pd.read_csv(default_path() / "exclusions_reports.csv", dtype=str)
    orep = pd.read_csv(default_path() / "outcomes_reports.csv", dtype=str)
    assert sum(n for _, n in overview.reports_excluded) == er["source_study"].str.count(
        "; "
    ).sum() + len(er)
    trial = orep["comparison_id"].map(
        pd.read_csv(default_path() / "comparisons.csv").set_index("comparison_id")["trial_id"]
    )
    # one report per trial and source (Creed 2003 and Leichsenring 2013: two comparisons each)
    assert overview.reports_included == len(orep.assign(trial=trial).drop_duplicates(
        ["trial", "source"]))  # fmt: skip
    assert overview.studies_included == len(pd.read_csv(default_path() / "trials.csv"))
    assert not records["scope"].eq("").any()  # every record belongs to a page or a condition


def test_network_databases_are_counted_whole(overview):
    """Each network database contributes every row of its Metapsy data.csv (read here with the
    csv module from ../shared), so 'records identified' is the database, not a sample."""
    metapsy = _shared("metapsy")
    partial = set(overview.partial_databases)
    assert partial == {"depression-anxiety-transdiagnostic"}
    for db, n in overview.databases:
        with (metapsy / db / "data.csv").open(encoding="utf-8-sig", newline="") as fh:
            raw = sum(1 for r in csv.reader(fh, delimiter=";", quotechar='"') if r) - 1
        assert (n < raw) if db in partial else (n == raw), db


def test_each_condition_sums_to_the_overview(data, records, overview):
    scopes = sorted(set(records["scope"]) | set(data.trials["condition"].map(coverage._scope)))
    assert set(scopes) <= set(CONDITION_GROUPS) | set(CONDITION_NAMES)
    parts = [coverage.prisma_counts(data, s, records=records).to_frame() for s in scopes]
    keys = ["stage", "source", "box", "item"]
    total = pd.concat(parts).groupby(keys)["n"].sum()
    whole = overview.to_frame().groupby(keys)["n"].sum()
    additive = whole.index.get_level_values("box") != "Studies by analysis"
    pd.testing.assert_series_equal(total.reindex(whole.index[additive]), whole[additive])


def test_unknown_condition_is_refused(data, records):
    with pytest.raises(ValueError, match="condition 'bipolar'"):
        coverage.prisma_counts(data, "bipolar", records=records)


# ---------------------------------------------------------------- nothing typed


def _copy_data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    return folder


def _append(path: Path, row: dict) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True).fillna("")
    frame.to_csv(path, index=False, lineterminator="\n")


def test_flow_counts_follow_the_data(tmp_path, overview):
    """Adding a row to a copy of the data changes the counts and the figure: nothing is typed."""
    folder = _copy_data(tmp_path)
    dep = dict(overview.databases)["depression-psyctr"]
    _append(
        folder / "network" / "exclusions.csv",
        {"database": "depression-psyctr", "source": f"metapsy:depression-psyctr@ceeabb7 row "
         f"{dep + 1}", "study": "Added, 2030", "arms": "cbt vs wl", "what": "msd bdi",
         "reason": "no complete statistics group (means/SDs/n, change scores, events or precalc)"},
    )  # fmt: skip
    reports = folder / "exclusions_reports.csv"
    first = pd.read_csv(reports, dtype=str, keep_default_na=False).iloc[2].to_dict()
    _append(reports, first | {"source_study": "Added 2031", "reason": "No usable number."})
    data = evidence.review.data.load(folder)
    c = coverage.prisma_counts(data)
    assert dict(c.databases)["depression-psyctr"] == dep + 1
    assert c.records_identified == overview.records_identified + 1
    assert c.screening_excluded == overview.screening_excluded + 1
    assert c.reports_identified == overview.reports_identified + 1
    label = coverage.EXCLUSION_CATEGORIES["no_usable_number"][0]
    assert dict(c.reports_excluded)[label] == dict(overview.reports_excluded)[label] + 1
    texts = [t.get_text() for t in prisma_flow(c).texts]
    assert any(f"depression-psyctr (n\u00a0=\u00a0{dep + 1})" in t for t in texts)
    assert any(f"({overview.records_identified + 1:,})".replace("(", "(n\u00a0=\u00a0") in t
               for t in texts)  # fmt: skip
    import matplotlib.pyplot as plt

    plt.close("all")


def test_contradictory_data_draw_no_flow(tmp_path, data):
    """A Metapsy row both used and excluded stops the counts instead of drawing them."""
    folder = _copy_data(tmp_path)
    used = data.outcomes[data.outcomes["source"].str.startswith("metapsy:")].iloc[0]
    _append(
        folder / "exclusions_metapsy.csv",
        {"source": used["source"], "source_row": str(int(used["source_row1"])),
         "source_study": "x", "source_arms": "dyn vs wl", "what": "msd x",
         "reason": "not PDT (test)", "duplicate_of": ""},
    )  # fmt: skip
    with pytest.raises(ValueError, match="used and excluded"):
        coverage.prisma_counts(evidence.review.data.load(folder))


# ---------------------------------------------------------------- the figure


def test_prisma_figure_is_byte_stable(tmp_path, data, records):
    import matplotlib.pyplot as plt

    counts = coverage.prisma_counts(data, "ptsd", records=records)
    out = []
    for name in ("a", "b"):
        ax = prisma_flow(counts)
        out.append(
            [
                save_figure(ax.figure, tmp_path / f"{name}.{ext}").read_bytes()
                for ext in ("svg", "png")
            ]
        )
        plt.close(ax.figure)
    assert out[0] == out[1]


def test_figure_shows_every_box_with_its_count(overview):
    import matplotlib.pyplot as plt

    texts = "\n".join(t.get_text() for t in prisma_flow(overview).texts).replace("\n", " ")
    plt.close("all")
    for box in ("Records identified from databases", "Records removed before screening",
                "Records screened", "Reports assessed for eligibility", "Reports excluded",
                "Studies included in review", "Reports of included studies"):  # fmt: skip
        assert box in texts
    n = "n\u00a0=\u00a0"
    assert f"Records screened ({n}{overview.records_screened:,})" in texts
    assert f"Studies included in review ({n}{overview.studies_included})" in texts


# ---------------------------------------------------------------- coverage table


def test_coverage_statuses_match_the_data(data, table):
    t = table.set_index(["study", "comparator_class"])
    assert t.loc[("Driessen 2013", "cbt"), "status"] == "excluded: no usable number"
    assert (
        t.loc[("Connolly Gibbons 2016", "cbt"), "status"] == "excluded: direction not established"
    )
    assert t.loc[("Svartberg 2004", "cbt"), "status"] == "excluded: percentages only"
    assert t.loc[("Leichsenring 2013", "cbt"), "status"] == "included"
    brom = t.loc[("Brom 1989", "other_psychotherapy")]  # hypnotherapy arm: not in Metapsy
    assert brom["status"] == "not in the open sources" and brom["trial_in_data"]
    assert t.loc[("Emmelkamp 2006", "cbt"), "direction_stated"] == "favours comparator"
    # every row, by other code: included iff the data hold the trial with that comparator class
    pairs = set(zip(data.outcomes["study"], data.outcomes["comparator_class"], strict=True))
    for r in table.itertuples():
        assert (r.status == "included") == ((r.study, r.comparator_class) in pairs), r.study
        author = unicodedata.normalize("NFKD", r.study.split()[0]).encode("ascii", "ignore")
        named = data.exclusions["source_study"].str.contains(author.decode(), regex=False)
        if r.status.startswith("excluded"):
            assert named.any() and r.reason, r.study
        assert r.pooled_in == "" or r.status == "included"
    assert set(table.loc[table["steinert2017"], "study"]) == set(
        pd.read_csv(default_path() / "published" / "steinert2017_trials_named.csv")["study"]
    )


def test_known_conditions_agree_with_the_data(data, table):
    cond = dict(zip(data.trials["study"], data.trials["condition"], strict=True))
    inc = table[table["trial_in_data"]]
    assert len(inc) and all(cond[r.study] == r.condition for r in inc.itertuples())


def test_coverage_sentence_is_computed(table):
    cbt = table[table["comparator_class"] == "cbt"].drop_duplicates("study")
    held = int((cbt["status"] == "included").sum())
    out = int(cbt["status"].str.startswith("excluded").sum())
    sentence = coverage.coverage_sentence(table)
    assert sentence.startswith(
        f"This dataset holds {held} of the {len(cbt)} head-to-head PDT vs CBT"
    )
    assert f"{out} are excluded (" in sentence
    votes = cbt.loc[cbt["status"] != "included", "direction_stated"]
    assert f"state the result of {int((votes != '').sum())} in words" in coverage.votes_sentence(
        table
    )
    fewer = table[table["study"] != "Driessen 2013"]
    assert f"{held} of the {len(cbt) - 1} " in coverage.coverage_sentence(fewer)


def test_known_trials_are_quoted_from_the_notes(data):
    text = (_shared("research") / "pdt-trials.md").read_text(encoding="utf-8").splitlines()
    section, sections = "", []
    for line in text:
        m = re.match(r"^## (\d)\. |^## (Appendix)", line)
        section = f"section {m.group(1)}" if m and m.group(1) else "appendix" if m else section
        sections.append(section)

    def line_of(source: str) -> str:
        m = re.match(r"^pdt-trials\.md (section \d|appendix), line (\d+)", source)
        assert m and sections[int(m.group(2)) - 1] == m.group(1), source
        return text[int(m.group(2)) - 1]

    known = coverage.known_trials(data)
    for r in known.itertuples():
        line = line_of(r.source)
        author, year = r.study.rsplit(" ", 1)
        assert r.quote in line and author.split()[0] in line and year in line, r.study
        if r.direction_source:
            where = line_of(r.direction_source)
            for q in re.findall(r'"([^"]+)"', r.direction_source):
                assert q in where, (r.study, q)
    assert set(
        pd.read_csv(default_path() / "published" / "steinert2017_trials_named.csv")["study"]
    ) <= set(known["study"])
    for r in pd.read_csv(default_path() / "published" / "keefe2014_trials_named.csv").itertuples():
        line = line_of(r.source)
        assert "Keefe" in line and r.study.split()[0] in line and r.study in set(known["study"])


# ---------------------------------------------------------------- the page


def test_page_coverage_writes_its_flow_and_table(tmp_path, monkeypatch):
    from evidence.review.pages import ConditionPage

    monkeypatch.setenv("EVIDENCE_OUTPUT", str(tmp_path))
    ConditionPage.load("ptsd").coverage()
    import matplotlib.pyplot as plt

    plt.close("all")
    assert (tmp_path / "figures" / "ptsd_prisma.svg").is_file()
    assert (tmp_path / "figures" / "ptsd_prisma.png").is_file()
    saved = pd.read_csv(tmp_path / "results" / "ptsd_coverage.csv")
    assert set(saved["study"]) == {"Brom 1989", "Gilboa-Schechtman 2010"}
