"""The reading log and the derived counts (issue 22 section 3): every derived number against the
text it was derived from, the loader's refusals, the rounding sensitivity, and votes that never
enter a pool."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence.meta.effects import effect_sizes
from evidence.review.data import DataValidationError, default_path, load
from evidence.review.data.reading import (
    consistent_counts,
    round_half_up,
    rounding_sensitivity,
)
from evidence.review.records import _norm

ROOT = Path(__file__).resolve().parents[1]
RESEARCH = ROOT.parent / "shared" / "research"


@pytest.fixture()
def copy(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    return folder


def _rules(err) -> set[tuple[str, str]]:
    return {(p.column, p.rule) for p in err.value.problems}


# ---------------------------------------------------------------- numbers against their source


def test_every_derived_count_follows_from_the_printed_text(ds):
    """Each derived count: its printed percentage and arm size are in the text recorded in the
    reading log (quote and printed numbers of the trial's row), and the count follows from them
    under the recorded rule, within the rounding range."""
    dc, log = ds.derived_counts, ds.reading_log
    assert len(dc) == 8
    for r in dc.itertuples():
        entry = log[log["effect_ids"].fillna("").str.contains(re.escape(r.effect_id))]
        assert len(entry) == 1, r.effect_id
        text = entry["quote"].iloc[0] + " " + entry["printed"].iloc[0]
        assert f"{int(r.printed_percent)}%" in text, (r.effect_id, r.printed_percent)
        assert f"N={int(r.printed_n)}" in text, (r.effect_id, r.printed_n)
        assert r.rule.startswith("events = round(printed_percent / 100 * printed_n)")
        assert r.events == int(np.floor(r.printed_percent / 100 * r.printed_n + 0.5))
        assert r.consistent_low <= r.events <= r.consistent_high
        k = np.arange(int(r.printed_n) + 1)
        ok = k[np.floor(100 * k / r.printed_n + 0.5) == r.printed_percent]
        assert (ok.min(), ok.max()) == (r.consistent_low, r.consistent_high)


def test_leichsenring_2013_counts_are_the_abstract_percentages_of_the_randomised_n(ds):
    o = ds.outcomes.set_index("effect_id")
    want = {  # effect: (PDT %, PDT N, comparator %, comparator N), as printed in the abstract
        "leichsenring2013-pdt-cbt:lsas-remission:post": (26, 207, 36, 209),
        "leichsenring2013-pdt-cbt:lsas-response:post": (52, 207, 60, 209),
        "leichsenring2013-pdt-wl:lsas-remission:post": (26, 207, 9, 79),
        "leichsenring2013-pdt-wl:lsas-response:post": (52, 207, 15, 79),
    }
    for eid, (p1, n1, p2, n2) in want.items():
        row = o.loc[eid]
        assert (row["n1"], row["n2"]) == (n1, n2)
        assert row["events1"] == round_half_up(p1 / 100 * n1), eid
        assert row["events2"] == round_half_up(p2 / 100 * n2), eid
        assert row["derived"].startswith("DERIVED counts: events = round(")
        assert row["measure"] == "OR" and row["timepoint"] == "post"
    assert (o.loc[list(want), ["events1", "events2"]].to_numpy() == [
        [54, 75], [108, 125], [54, 7], [108, 12]]).all()  # fmt: skip


def test_leichsenring_2013_percentages_are_in_the_shared_notes():
    if not RESEARCH.is_dir():
        pytest.skip(f"{RESEARCH} not present (fresh clone without ../shared)")
    text = (RESEARCH / "pdt-trials.md").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("## Leichsenring 2013"))
    assert "CBT 209, PDT 207, WL 79" in line
    assert "LSAS remission 36%/26%/9%; response 60%/52%/15%" in line


def test_consistent_counts_and_rounding():
    assert consistent_counts(26, 207) == (53, 54) and consistent_counts(36, 209) == (75, 76)
    assert consistent_counts(15, 79) == (12, 12)
    assert round_half_up(0.5) == 1 and round_half_up(1.5) == 2  # not banker's rounding
    with pytest.raises(ValueError, match="no count of n = 3 rounds to 50"):
        consistent_counts(50, 3)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        consistent_counts(10, 0)


def test_rounding_sensitivity_spans_the_corners(ds):
    s = rounding_sensitivity(ds).set_index("effect_id")
    r = s.loc["leichsenring2013-pdt-cbt:lsas-remission:post"]
    corners = effect_sizes("OR", events1=[53, 53, 54, 54], n1=[207] * 4,
                           events2=[75, 76, 75, 76], n2=[209] * 4)["yi"]  # fmt: skip
    assert r["yi_low"] == pytest.approx(corners.min(), abs=1e-12)
    assert r["yi_high"] == pytest.approx(corners.max(), abs=1e-12)
    assert r["yi_low"] <= r["yi"] <= r["yi_high"] and r["corners"] == 4
    # the waitlist counts are not ambiguous (one count each), only the PDT arm's are
    assert s.loc["leichsenring2013-pdt-wl:lsas-remission:post", "corners"] == 2
    assert (s["yi_high"] - s["yi_low"] < 0.05).all()  # rounding moves no log OR by 0.05


# ---------------------------------------------------------------- the loader refuses


@pytest.mark.parametrize(
    ("file", "column", "value", "rules"),
    [
        ("derived_counts.csv", "rule", "", {("rule", "required")}),
        (  # a count that does not follow from the printed text
            "derived_counts.csv",
            "events",
            "55",
            {("events", "count follows the rule"), ("events", "matches the outcome row")},
        ),
        ("derived_counts.csv", "consistent_low", "52", {("consistent_low", "rounding range")}),
        (  # a direction on a row that gave an effect
            "reading_log.csv",
            "direction",
            "favours comparator",
            {("direction", "direction is a vote")},
        ),
    ],
)
def test_loader_refuses_a_bad_cell_of_the_first_row(copy, set_cell, file, column, value, rules):
    set_cell(copy / file, 1, column, value)
    with pytest.raises(DataValidationError) as err:
        load(copy)
    assert rules <= _rules(err)


def test_loader_refuses_a_derived_outcome_row_without_its_rule(copy, set_cell):
    rows = pd.read_csv(copy / "outcomes_reports.csv", dtype=str)
    row = int(np.flatnonzero(rows["effect_id"].str.contains("lsas-remission"))[0]) + 1
    set_cell(copy / "outcomes_reports.csv", row, "derived", "")
    with pytest.raises(DataValidationError) as err:
        load(copy)
    assert ("effect_id", "derived value has a rule") in _rules(err)


def test_loader_refuses_a_vote_without_its_words_or_an_unknown_effect(copy, set_cell):
    log = pd.read_csv(copy / "reading_log.csv", dtype=str)
    vote = int(np.flatnonzero(log["outcome"] == "direction only")[0]) + 1
    set_cell(copy / "reading_log.csv", vote, "quote", "")
    set_cell(copy / "reading_log.csv", 1, "effect_ids", "leichsenring2013-pdt-cbt:nothing:post")
    with pytest.raises(DataValidationError) as err:
        load(copy)
    assert {("direction", "vote has its words"), ("effect_ids", "effect rows exist")} <= (
        _rules(err)
    )


# ---------------------------------------------------------------- the log and the votes


def test_reading_log_covers_every_excluded_report_and_the_named_trials(ds):
    log = ds.reading_log
    read = set(log["study"].map(_norm))
    ex = ds.exclusions[~ds.exclusions["source"].str.startswith("metapsy:")]
    named = {s for cell in ex["source_study"] for s in cell.split("; ")}
    named = {_norm(re.sub(r" \(.*\)$", "", s)) for s in named}
    assert named <= read, named - read
    extra = {"Leichsenring 2013", "Mechler 2022", "Crits-Christoph 1999", "Woody 1983",
             "Woody 1995"}  # fmt: skip
    assert {_norm(s) for s in extra} <= read
    assert log["date_read"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    assert (log["reason"].str.len() > 10).all()


def test_votes_never_enter_a_pool(ds, tmp_path):
    """Flipping every vote of the reading log changes the coverage table's words column only:
    no outcome row, no pooled row, no pooled estimate."""
    from evidence.review.condition import build_analyses
    from evidence.review.coverage import coverage_table
    from evidence.review.selection import pooled_rows

    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    log = pd.read_csv(folder / "reading_log.csv", dtype=str, keep_default_na=False)
    flip = {"favours PDT": "favours comparator", "favours comparator": "favours PDT",
            "no difference": "mixed", "mixed": "no difference"}  # fmt: skip
    log["direction"] = log["direction"].map(lambda d: flip.get(d, d))
    log.to_csv(folder / "reading_log.csv", index=False, lineterminator="\n")
    other = load(folder)
    pd.testing.assert_frame_equal(other.outcomes, ds.outcomes)
    a, b = build_analyses(ds), build_analyses(other)
    pd.testing.assert_frame_equal(pooled_rows(ds, a.values()), pooled_rows(other, b.values()))
    t1, t2 = coverage_table(ds), coverage_table(other)
    assert (t1["direction_words"] != t2["direction_words"]).any()
    assert t1.drop(columns="direction_words").equals(t2.drop(columns="direction_words"))
    votes = ds.reading_log[ds.reading_log["outcome"] == "direction only"]
    assert votes["effect_ids"].isna().all()


def test_coverage_table_shows_the_report_words(ds):
    from evidence.review.coverage import coverage_table

    t = coverage_table(ds).set_index(["study", "comparator_class"])
    assert t.loc[("Durham 1994", "cbt"), "direction_words"] == "favours comparator"
    assert t.loc[("Milrod 2007", "other_psychotherapy"), "direction_words"] == "favours PDT"
    assert t.loc[("Leichsenring 2013", "cbt"), "reading"] == "gives an effect"
    assert t.loc[("Leichsenring 2013", "cbt"), "direction_words"] == ""
    assert t.loc[("Beutel 2013", "cbt"), "reading"] == "no usable number"
