"""Tests for evidence.review.data: the bundled dataset, its validation rules and agreement with
Metapsy."""

from __future__ import annotations

import csv
import os
import re
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence import effect_sizes
from evidence.review.data import DataValidationError, default_path, load
from evidence.review.sources import metapsy_source, read_metapsy

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "data_bad"
METAPSY = ROOT.parent / "shared" / "metapsy"

# Metapsy's stored .g is d * (1 - 3/(4N - 9)) from the same means; reproduced to rounding error.
TOL_METAPSY_G = 1e-6
# Exact-J Hedges' g vs Metapsy's approximate J: rows further apart are listed in data/README.md.
TOL_README_G = 0.01


@pytest.fixture(scope="module")
def ds():
    return load()


@pytest.fixture(scope="module")
def metapsy_dir() -> Path:
    if not METAPSY.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{METAPSY} is missing; the agreement tests must run in CI")
        pytest.skip(f"{METAPSY} not present (fresh clone without ../shared)")
    return METAPSY


@cache
def _frame(folder: str, db: str) -> pd.DataFrame:
    return read_metapsy(Path(folder) / db)


# ------------------------------------------------------------------ the bundled data


def test_default_path_is_repository_data():
    assert default_path() == ROOT / "data"


def test_counts_meet_the_issue(ds):
    assert ds.trials["trial_id"].nunique() >= 35
    assert ds.trials["condition"].nunique() >= 7
    assert set(ds.outcomes["trial_id"]) == set(ds.trials["trial_id"])


def test_public_contract_columns(ds):
    need = [
        "trial_id", "study", "condition", "comparator_class", "timepoint", "source", "yi", "vi",
        "n1", "mean1", "sd1", "n2", "mean2", "sd2", "events1", "events2", "effect_id",
        "comparison_id", "outcome", "instrument", "rater", "comparator", "pdt_variant",
        "format", "sessions", "rob", "measure",
    ]  # fmt: skip
    assert not [c for c in need if c not in ds.outcomes.columns]
    assert ds.outcomes["effect_id"].is_unique
    assert ds.outcomes["study"].str.fullmatch(r"\S.* \d{4}").all()
    assert np.isfinite(ds.outcomes["yi"]).all() and (ds.outcomes["vi"] > 0).all()


def test_every_row_has_a_source_and_every_trial_a_citation(ds):
    src = ds.outcomes["source"]
    assert src.str.match(r"^(metapsy:[a-z-]+@[0-9a-f]{7}|doi:10\.|pmid:\d|url:https?://)").all()
    assert ds.trials[["doi", "pmid", "reference"]].notna().any(axis=1).all()


def test_direct_pdt_vs_cbt_comparisons_present(ds):
    cbt = ds.outcomes[ds.outcomes["comparator_class"] == "cbt"]
    trials = set(cbt["trial_id"])
    want = {"leichsenring2013", "cooper2003", "fonagy2019", "andersson2012", "brom1989"}
    assert want <= trials


def test_direction_rule_positive_favours_pdt(ds):
    o = ds.outcomes.set_index("effect_id")
    # Leichsenring 2013 LSAS: PDT 50.71 vs waiting list 68.13, lower is better -> positive
    assert o.loc["leichsenring2013-pdt-wl:lsas:post", "yi"] > 0
    # ... and CBT 42.94 is lower than PDT -> negative
    assert o.loc["leichsenring2013-pdt-cbt:lsas:post", "yi"] < 0
    # Bateman 2009: suicidal behaviour 2/71 vs 16/63 (events are bad) -> positive
    assert o.loc["bateman2009-mbt-scm:suicidal-behaviour-count-events:post", "yi"] > 0
    # Poulsen 2014: OR 4.34 reported CBT vs PDT for a good event -> negative log OR
    row = o.loc["poulsen2014-pdt-cbt:ede-binge-purge-abstinence:post"]
    assert row["yi"] == pytest.approx(-np.log(4.34), abs=1e-12)
    assert row["vi"] == pytest.approx(((np.log(14.21) - np.log(1.33)) / (2 * 1.959964)) ** 2, 1e-5)


def test_effects_match_effect_sizes(ds):
    o = ds.outcomes[ds.outcomes["stats_form"] == "msd"]
    es = effect_sizes("SMD", m1=o.mean1, sd1=o.sd1, n1=o.n1, m2=o.mean2, sd2=o.sd2, n2=o.n2)
    sign = np.where(o["higher_is_better"], 1.0, -1.0)
    np.testing.assert_allclose(o["yi"], sign * es["yi"], rtol=0, atol=0)
    np.testing.assert_allclose(o["vi"], es["vi"], rtol=0, atol=0)


def test_dependent_rows_share_comparison_id(ds):
    fonagy = ds.outcomes[ds.outcomes["comparison_id"] == "fonagy2019-pdt-cbt"]
    assert len(fonagy) == 3 and fonagy["instrument"].nunique() == 3


def test_exclusions_reported(ds):
    assert len(ds.exclusions) > 0 and ds.exclusions["reason"].notna().all()
    assert "Britton 2020" in set(ds.exclusions["source_study"])
    text = ds.summary()
    assert "Britton 2020" in text and "condition x comparator class" in text


def test_frames_are_copies_of_a_frozen_dataset(ds):
    with pytest.raises(AttributeError):
        ds.trials = None  # type: ignore[misc]


# ------------------------------------------------------------------ validation rules

# fixture file -> (data row or None for the header, column, rule fragment)
BAD = {
    "outcomes_reports__events_exceed_n.csv": (2, "events1", "events <= n"),
    "outcomes_reports__sd_not_positive.csv": (2, "sd1", "SD > 0"),
    "outcomes_reports__n_below_2.csv": (2, "n2", "n >= 2"),
    "outcomes_reports__negative_n.csv": (2, "n1", "minimum"),
    "outcomes_reports__two_forms.csv": (2, "stats_form", "exactly one statistics form"),
    "outcomes_reports__partial_form.csv": (2, "sd2", "complete statistics form"),
    "outcomes_reports__form_mismatch.csv": (2, "stats_form", "matches the filled columns"),
    "outcomes_reports__unknown_vocabulary.csv": (2, "timepoint", "controlled vocabulary"),
    "outcomes_reports__duplicate_id.csv": (2, "effect_id", "unique id"),
    "outcomes_reports__unknown_comparison.csv": (2, "comparison_id", "reference exists"),
    "outcomes_reports__unknown_instrument.csv": (2, "instrument", "reference exists"),
    "outcomes_reports__bad_source.csv": (2, "source", "source prefix"),
    "outcomes_reports__not_a_number.csv": (2, "n1", "type number"),
    "outcomes_reports__missing_required.csv": (2, "rater", "required"),
    "outcomes_reports__missing_n.csv": (2, "n1", "required for this form"),
    "outcomes_reports__no_spread.csv": (2, "reported_se", "CI or SE given"),
    "outcomes_reports__ci_order.csv": (2, "reported_ci_high", "CI upper > lower"),
    "outcomes_reports__unknown_column.csv": (None, "extra_column", "known column"),
    "comparisons__unknown_arm.csv": (2, "arm2_id", "reference exists"),
    "comparisons__arm1_not_pdt.csv": (2, "arm1_id", "arm 1 is PDT"),
    "comparisons__arm_of_other_trial.csv": (2, "arm2_id", "arm belongs to the trial"),
    "trials__missing_citation.csv": (2, "reference", "citation"),
    "trials__unknown_condition.csv": (2, "condition", "controlled vocabulary"),
    "trials__bad_id_pattern.csv": (2, "trial_id", "pattern"),
    "trials__not_an_integer.csv": (2, "year", "type integer"),
    "arms__pdt_without_variant.csv": (3, "pdt_variant", "PDT arm has a variant"),
    "arms__unknown_trial.csv": (2, "trial_id", "reference exists"),
    "instruments__bad_boolean.csv": (2, "higher_is_better", "type boolean"),
    "trials__id_not_marked.csv": (1, "id_verified", "identifier marked"),
    "trials__bad_country.csv": (1, "country", "controlled vocabulary"),
    "arms__alt_class_on_pdt.csv": (1, "alt_class", "comparator arms only"),
    "arms__alt_class_same.csv": (2, "alt_class", "alternative differs"),
    "arms__format_not_delivery.csv": (1, "format", "format follows delivery"),
    "arms__delivery_unknown.csv": (2, "delivery", "controlled vocabulary"),
    "arms__delivery_without_source.csv": (1, "delivery_source", "delivery has a source"),
    "arms__delivery_missing.csv": (2, "delivery", "required"),
    "comparisons__add_on_missing.csv": (1, "add_on", "required"),
    "outcomes_reports__flag_without_reason.csv": (1, "flag_reason", "flag has a reason"),
    "outcomes_reports__zero_weeks.csv": (1, "time_weeks", "time_weeks > 0"),
}


def test_every_fixture_has_an_expectation():
    assert sorted(p.name for p in FIXTURES.glob("*.csv")) == sorted(BAD)


def bad_folder(tmp_path: Path, fixture: str) -> tuple[Path, str]:
    folder = tmp_path / "data"
    shutil.copytree(default_path(), folder)
    table = fixture.split("__")[0] + ".csv"
    shutil.copy(FIXTURES / fixture, folder / table)
    return folder, table


@pytest.mark.parametrize("fixture", sorted(BAD))
def test_bad_file_names_file_row_column_and_rule(tmp_path, fixture):
    row, column, rule = BAD[fixture]
    folder, table = bad_folder(tmp_path, fixture)
    with pytest.raises(DataValidationError) as info:
        load(folder)
    msg = str(info.value)
    assert table in msg
    where = "header (CSV line 1)" if row is None else f"data row {row} (CSV line {row + 1})"
    assert where in msg
    assert f"column '{column}'" in msg
    assert rule in msg
    assert (info.value.row, info.value.column) == (row, column)


def test_missing_datapackage(tmp_path):
    with pytest.raises(DataValidationError, match="datapackage.json"):
        load(tmp_path)


def test_validation_error_is_a_value_error():
    assert issubclass(DataValidationError, ValueError)


# ------------------------------------------------------------------ agreement with Metapsy


def _metapsy_rows(ds) -> pd.DataFrame:
    o = ds.outcomes[ds.outcomes["source"].str.startswith("metapsy:")].copy()
    o["database"] = o["source"].str.extract(r"metapsy:([a-z-]+)@")[0]
    o["commit"] = o["source"].str.extract(r"@([0-9a-f]+)$")[0]
    return o


def _txt(x: object) -> str:
    return "" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)


def _arm(row: pd.Series, group: str, form: str) -> tuple:
    if form == "msd":
        return (row[f"n_{group}"], row[f"mean_{group}"], row[f"sd_{group}"])
    return (row[f"totaln_{group}"], row[f"event_{group}"])


def test_values_equal_their_metapsy_source_rows(ds, metapsy_dir):
    o = _metapsy_rows(ds)
    assert len(o) > 0
    for r in o.itertuples():
        assert metapsy_source(metapsy_dir / r.database)["commit"].startswith(r.commit)
        frame = _frame(str(metapsy_dir), r.database)
        s1 = frame.iloc[int(r.source_row1) - 1]
        s2 = frame.iloc[int(r.source_row2) - 1]
        assert s1["source_row"] == int(r.source_row1)
        assert s1["study"] == r.source_study
        assert _txt(s1.get("instrument")) == _txt(r.source_instrument)
        assert s1["arm1_class"] == "psychodynamic", r.effect_id
        if r.stats_form == "reported":  # the database's stored g (no usable arm statistics)
            assert (r.reported_estimate, r.reported_se) == (s1[".g"], s1[".g_se"]), r.effect_id
            assert (r.n1, r.n2) == (s1["n_arm1"], s1["n_arm2"]), r.effect_id
            assert r.reported_measure == "SMD" and r.derived.startswith("effect = stored .g")
            continue
        mine1 = (r.n1, r.mean1, r.sd1) if r.stats_form == "msd" else (r.n1, r.events1)
        mine2 = (r.n2, r.mean2, r.sd2) if r.stats_form == "msd" else (r.n2, r.events2)
        assert mine1 == _arm(s1, "arm1", r.stats_form), r.effect_id
        assert mine2 == _arm(s2, r.source_arm2_columns, r.stats_form), r.effect_id
        if r.source_arm2_columns == "arm1":  # direct comparison: both rows share the control
            assert s2["study"] == s1["study"]
            assert _arm(s1, "arm2", r.stats_form) == _arm(s2, "arm2", r.stats_form)


def test_every_metapsy_pdt_row_is_used_or_excluded(ds, metapsy_dir):
    o = _metapsy_rows(ds)
    exc = ds.exclusions[ds.exclusions["source"].str.startswith("metapsy:")]
    for db in o["database"].unique():
        frame = _frame(str(metapsy_dir), db)
        pdt = set(frame.loc[frame["arm1_class"] == "psychodynamic", "source_row"])
        used = set(o.loc[o["database"] == db, "source_row1"].astype(int))
        dropped = exc.loc[exc["source"].str.contains(f":{db}@"), "source_row"].astype(int)
        assert pdt <= used | set(dropped) and used <= pdt, db


def _readme_listed() -> set[str]:
    text = (default_path() / "README.md").read_text(encoding="utf-8")
    section = text.split("<!-- g-mismatch:start -->")[1].split("<!-- g-mismatch:end -->")[0]
    return set(re.findall(r"`([a-z0-9-]+:[a-z0-9-]+:[a-z_]+)`", section))


def test_recomputed_g_agrees_with_metapsy(ds, metapsy_dir):
    o = _metapsy_rows(ds)
    o = o[(o["stats_form"] == "msd") & (o["source_arm2_columns"] == "arm2")]
    big = set()
    signs = {}
    for r in o.itertuples():
        stored = _frame(str(metapsy_dir), r.database).iloc[int(r.source_row1) - 1][".g"]
        n = r.n1 + r.n2
        sp = np.sqrt(((r.n1 - 1) * r.sd1**2 + (r.n2 - 1) * r.sd2**2) / (n - 2))
        d = (r.mean1 - r.mean2) / sp
        g_metapsy = d * (1 - 3 / (4 * n - 9))
        sign = 1.0 if abs(stored - g_metapsy) <= abs(stored + g_metapsy) else -1.0
        if abs(g_metapsy) > TOL_METAPSY_G:  # a zero difference says nothing about the sign
            signs.setdefault((r.database, r.higher_is_better), set()).add(sign)
            assert stored == pytest.approx(sign * g_metapsy, abs=TOL_METAPSY_G), r.effect_id
        exact = r.yi if r.higher_is_better else -r.yi  # undo the direction rule: raw m1 - m2
        if abs(sign * exact - stored) > TOL_README_G:
            big.add(r.effect_id)
    # one sign convention per database and direction
    assert all(len(s) == 1 for s in signs.values()), signs
    assert big == _readme_listed()


# ------------------------------------------------------------------ audit corrections (issue 10)


def test_johansson_2017_is_in_the_data(ds):
    row = ds.outcomes.set_index("effect_id").loc["johansson2017-pdt-wl:lsas-sr:post"]
    assert (row["source_row1"], row["comparator_class"], row["n1"]) == ("139", "waitlist", 36)
    assert row["yi"] > 0  # LSAS-SR 43.29 vs 55.2, lower is better


def test_no_add_on_trial_is_classed_medication(ds):
    o = ds.outcomes
    assert not (o["add_on"] & (o["comparator_class"] == "medication")).any()
    add_on = set(o.loc[o["add_on"], "trial_id"])
    assert {"wiborg1996", "fonagy2015", "roten2017", "amianto2011"} <= add_on
    assert set(o.loc[o["add_on"], "comparator_class"]) == {"usual_care"}
    wiborg = ds.arms.set_index("arm_id").loc["wiborg1996-med"]
    assert (wiborg["arm_class"], wiborg["alt_class"]) == ("usual_care", "medication")


def test_judgement_calls_are_recorded(ds):
    arms = ds.arms.set_index("arm_id")
    for arm in ("bateman2009-scm", "carlyle2020-scm", "amianto2011-stm", "fonagy2019-lit",
                "martini2011-sp", "wiborg1996-med"):  # fmt: skip
        assert arms.loc[arm, "comparator_detail"] and arms.loc[arm, "alt_class"], arm
    o = ds.outcomes
    changed = o["comparator_class_alt"] != o["comparator_class"]
    assert set(o.loc[changed, "trial_id"]) >= {"bateman2009", "fonagy2019", "martini2011"}


def _shared_text() -> str:
    shared = ROOT.parent / "shared"
    files = [*(shared / "research").glob("*.md"), *(shared / "metapsy").glob("*/data.csv"),
             *(shared / "metapsy").glob("*/metadata/references.json")]  # fmt: skip
    return "".join(f.read_text(encoding="utf-8", errors="replace") for f in files).lower()


def test_every_identifier_resolves_or_is_marked_unverified(ds, metapsy_dir):
    text = _shared_text()
    t = ds.trials
    for r in t.itertuples():
        ids = [x for x in (r.doi, r.pmid) if isinstance(x, str)]
        if not ids:
            assert pd.isna(r.id_verified), r.trial_id
            continue
        found = all(x.lower() in text for x in ids)
        assert r.id_verified == found, (r.trial_id, ids)
    unverified = set(t.loc[t["id_verified"] == False, "trial_id"])  # noqa: E712
    assert {"blay2002", "roten2017", "stefini2017"} <= unverified
    # a row's source never rests on an unverified identifier
    src = ds.outcomes["source"]
    ident = src[src.str.match(r"^(doi|pmid):")].str.split(":", n=1).str[1]
    assert all(x.lower() in text for x in ident), set(x for x in ident if x.lower() not in text)


def test_suicide_ideation_sign_convention(metapsy_dir):
    """suicide-psyctr stores ideation as .g only; most interventions reduce ideation, so the sign
    is established from the database itself: negative .g = less ideation in arm 1."""
    from scipy.stats import binomtest

    frame = _frame(str(metapsy_dir), "suicide-psyctr")
    g = frame.loc[frame["outcome_type"] == "ideation", ".g"].dropna()
    assert len(g) >= 100
    neg = int((g < 0).sum())
    assert neg / len(g) > 0.7 and binomtest(neg, len(g), 0.5).pvalue < 1e-6
    wl = frame.loc[(frame["outcome_type"] == "ideation") & (frame["condition_arm2"] ==
                   "Waiting list"), ".g"]  # fmt: skip
    assert (wl < 0).mean() > 0.7  # against waitlist, where the intervention should help


def test_ideation_rows_follow_the_sign_convention(ds, metapsy_dir):
    o = ds.outcomes.set_index("effect_id")
    frame = _frame(str(metapsy_dir), "suicide-psyctr")
    for eid, row in (("guthrie2001-pdt-cau:suicidal-ideation:post", 77),
                     ("walker2016-pdt-ctr:suicidal-ideation:post", 177)):  # fmt: skip
        stored = frame.iloc[row - 1][".g"]
        assert o.loc[eid, "yi"] == pytest.approx(-stored, abs=0)  # less ideation = favours PDT


def test_transdiagnostic_rows(ds, metapsy_dir):
    o = ds.outcomes.set_index("effect_id")
    frame = _frame(str(metapsy_dir), "depression-anxiety-transdiagnostic")
    # + = arm 1 better in this database (metapsy.md section 3): kept positive for PDT
    assert o.loc["johansson2013-pdt-ctr:phq-9:post", "yi"] == frame.iloc[43][".g"] == 0.76
    assert o.loc["scheidt2013-pdt-cau:hads-d:post", "yi"] == frame.iloc[96][".g"] == 0.55
    exc = ds.exclusions
    hamilton = exc[exc["source_study"] == "Hamilton, 2020"]
    assert len(hamilton) == 3 and hamilton["reason"].str.contains("cognitive analytic").all()


def test_considered_non_pdt_rows_are_logged(ds):
    studies = set(ds.exclusions["source_study"])
    assert {"Andreoli, 2016", "Heckman, 2013", "Levy Berg, 2009", "Orvati Aziz, 2020"} <= studies


def test_suspect_rows_are_flagged(ds):
    o = ds.outcomes.set_index("effect_id")
    for eid in ("bateman2009-mbt-scm:iip:post", "heshmati2023-pdt-wl:wai-d:post"):
        assert o.loc[eid, "flag"] == "suspect" and o.loc[eid, "flag_reason"]
    assert o.loc["bateman2009-mbt-scm:iip:post", "sd1"] == 0.13  # the source value is kept


def test_scheidt_hads_sds_are_flagged_with_the_source_values_kept(ds, metapsy_dir):
    """Scheidt 2013's HADS SDs (0.9 and 0.8 with n = 23 per arm) are very probably SEs: both rows
    are suspect, with the reason, and still carry the database's stored g and n."""
    o = ds.outcomes.set_index("effect_id")
    raw = _frame(str(metapsy_dir), "depression-anxiety-transdiagnostic")
    for eid, row, sd in (("scheidt2013-pdt-cau:hads-d:post", 97, 0.9),
                         ("scheidt2013-pdt-cau:hads-a:post", 98, 0.8)):  # fmt: skip
        src = raw.iloc[row - 1]
        assert src["study"] == "Scheidt, 2013" and src["sd_arm1"] == src["sd_arm2"] == sd
        assert o.loc[eid, "flag"] == "suspect", eid
        assert "standard errors" in o.loc[eid, "flag_reason"], eid
        assert o.loc[eid, "reported_estimate"] == src[".g"] and o.loc[eid, "n1"] == src["n_arm1"]
    # the claim in the reason: the smallest HADS SDs of the databases beside it are 1.0 and up
    sds = []
    for db in ("depression-psyctr", "depression-anxiety-transdiagnostic"):
        f = _frame(str(metapsy_dir), db)
        h = f[f["instrument"].fillna("").str.lower().str.contains("hads") & (f["study"] !=
              "Scheidt, 2013")]  # fmt: skip
        sds += [*h["sd_arm1"].dropna(), *h["sd_arm2"].dropna()]
    assert min(sds) == 1.0


def test_duplicate_exclusions_name_the_curated_comparison(ds):
    """suicide-psyctr rows of trials the curated data take from borderline-psyctr say which
    comparison holds them (the network of their own database keeps them); no other exclusion
    is marked as a duplicate."""
    exc = ds.exclusions
    dup = exc[exc["duplicate_of"].notna()].set_index("source_study")["duplicate_of"].to_dict()
    assert dup == {
        "Amianto 2011": "amianto2011-pdt-stm",
        "Bateman 2009": "bateman2009-mbt-scm",
        "Doering 2010": "doering2010-tfp-ctbe",
        "Gregory 2008": "gregory2008-pdt-tau",
    }
    held = ds.outcomes[ds.outcomes["comparison_id"].isin(dup.values())]
    assert held["source"].str.startswith("metapsy:borderline-psyctr@").all()


def test_duplicate_of_must_name_a_comparison(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(default_path(), copy)
    path = copy / "exclusions_metapsy.csv"
    path.write_text(path.read_text().replace(",amianto2011-pdt-stm", ",no-such-comparison"))
    with pytest.raises(DataValidationError) as err:
        load(copy)
    assert any(q.column == "duplicate_of" for q in err.value.problems)


def test_no_zero_week_post_rows_and_one_country_vocabulary(ds):
    o = ds.outcomes
    assert not ((o["timepoint"] == "post") & (o["time_weeks"] == 0)).any()
    assert ds.trials["country"].dropna().isin(
        ["uk", "europe", "europe_incl_uk", "north_america", "south_america", "asia", "oceania",
         "other", "western_unspecified"]
    ).all()  # fmt: skip


def test_zipfel_and_creed_reasons(ds):
    exc = ds.exclusions.set_index("source_study")
    assert "does not say which arm is subtracted" in exc.loc["Zipfel 2014 (ANTOP)", "reason"]
    assert "Creed 2003" not in exc.index
    creed = ds.outcomes[ds.outcomes["trial_id"] == "creed2003"].set_index("comparison_id")
    assert creed.loc["creed2003-pdt-tau", "yi"] == 5.5
    assert creed.loc["creed2003-pdt-tau", "vi"] == pytest.approx(1.26**2 + 1.17**2, rel=1e-5)


# ------------------------------------------------------------------ analyses that rest on them


def test_anxiety_page_has_no_medication_comparison(ds):
    from evidence import review

    analyses = review.condition_analyses(ds, "anxiety")
    assert all("medication" not in an.results for an in analyses.values())
    statements = " ".join(an.statements() for an in analyses.values())
    assert "better than medication" not in statements


def test_sensitivity_scenarios_show_the_judgement_calls(ds):
    from evidence import review

    dep = review.sensitivity_scenarios(ds, "depression")
    alt = dep.loc["alternative classification"]
    k = dep.loc["as classified", "k"]
    # Fonagy 2019's second control moves from other control to other psychotherapy
    assert alt.loc["other psychotherapy", "k"] == k["other psychotherapy"] + 1
    assert alt.loc["other control", "k"] == k["other control"] - 1
    assert alt["changed"].str.endswith(": Fonagy 2019").all()
    sus = dep.loc["suspect rows excluded"]
    assert sus.loc["usual care", "k"] == k["usual care"] - 1  # Scheidt 2013 (HADS SDs)
    assert sus.loc["waitlist", "k"] == k["waitlist"] - 1  # Heshmati 2023 (WAI-d)
    assert "Heshmati 2023" in sus.loc["waitlist", "changed"]
    # a flagged row that no pool uses changes nothing, and the table says so
    pers = review.sensitivity_scenarios(ds, "personality")
    assert pers.loc["suspect rows excluded", "changed"].iloc[0].startswith("no change")
    anx = review.sensitivity_scenarios(ds, "anxiety")  # add-on designs keep their own class
    assert anx.loc["alternative classification", "changed"].iloc[0].startswith("no change")


def test_pdt_vs_cbt_overview_covers_every_outcome_type(ds):
    from evidence import review

    table = review.pdt_vs_cbt_all_outcomes(ds)
    cbt = ds.outcomes.loc[ds.outcomes["comparator_class"] == "cbt", "condition"]
    cbt_conditions = {review.CONDITION_NAMES[c] for c in cbt}
    assert set(table["condition"]) == cbt_conditions
    bulimia = table[(table["condition"] == "bulimia nervosa") & (table["measure"] == "OR")]
    early = bulimia[bulimia["timepoint"] == "during treatment"].iloc[0]
    assert early["estimate"] == pytest.approx(1 / 13.40, rel=1e-12)  # OR 13.4 for CBT
    assert early["result"] == "favours CBT" and "OR > 1 favours PDT" in early["direction"]


def test_steinert_selection_excludes_add_on_and_controls(ds):
    from evidence import review

    published = review.load_published("steinert2017").set_index("timepoint")
    assert published.loc["post", ["estimate", "ci_low", "ci_high", "k_trials"]].tolist() == [
        -0.153, -0.227, -0.079, 23
    ]  # fmt: skip
    assert published.loc["follow_up", ["estimate", "ci_low", "ci_high"]].tolist() == [
        -0.049, -0.137, -0.038
    ]  # fmt: skip
    assert "not symmetric" in published.loc["follow_up", "note"]
    eff, res, eq = review.steinert_equivalence(ds)["post"]
    chosen = ds.outcomes[ds.outcomes["trial_id"].isin(eff["trial_id"])]
    assert res.k == len(eff) == eff["trial_id"].nunique()
    assert not {"wiborg1996", "fonagy2015", "roten2017", "amianto2011"} & set(eff["trial_id"])
    assert set(eff["comparator_class"]) <= {"cbt", "other_psychotherapy", "medication"}
    assert len(chosen) and eq.alpha == 0.05 and (eq.low, eq.high) == (-0.25, 0.25)


# ------------------------------------------------------------------ independent audit (issue 10)
# Every Metapsy-sourced value is re-read here from the raw data.csv with the csv module alone
# (not with evidence.review.sources.read_metapsy), so a reader bug cannot hide a wrong value.

RESEARCH = ROOT.parent / "shared" / "research"


@pytest.fixture(scope="module")
def research_dir() -> Path:
    if not RESEARCH.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{RESEARCH} is missing; the audit tests must run in CI")
        pytest.skip(f"{RESEARCH} not present (fresh clone without ../shared)")
    return RESEARCH


@cache
def _raw_records(folder: str, db: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Header and data records of a Metapsy data.csv; record i is data row i + 1 (the header
    line is not counted, records may span lines, blank records are skipped)."""
    with (Path(folder) / db / "data.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [tuple(r) for r in csv.reader(fh, delimiter=";", quotechar='"') if r]
    return rows[0], tuple(rows[1:])


def _raw(folder: Path, db: str, row: int) -> dict[str, str]:
    header, records = _raw_records(str(folder), db)
    cells = (c.strip() for c in records[row - 1])
    rec = dict(zip((h.strip() for h in header), cells, strict=True))
    if "" in rec:  # the unnamed row-index column counts rows the same way (1-based, no header)
        assert rec[""] == str(row), (db, row, rec[""])
    return rec


def _num(cell: str | None) -> float:
    return np.nan if cell in (None, "", "NA") else float(cell.replace(",", "."))


def _same(mine: object, cell: str | None) -> bool:
    a, b = float(mine), _num(cell)  # type: ignore[arg-type]
    return (np.isnan(a) and np.isnan(b)) or a == b


def _db(source: str) -> str:
    return re.match(r"metapsy:([a-z-]+)@[0-9a-f]{7}", source).group(1)  # type: ignore[union-attr]


def test_every_metapsy_value_is_reread_from_its_raw_source_row(ds, metapsy_dir):
    o = _metapsy_rows(ds)
    for r in o.itertuples():
        db = _db(r.source)
        assert metapsy_source(metapsy_dir / db)["commit"].startswith(r.commit), r.effect_id
        s1 = _raw(metapsy_dir, db, int(r.source_row1))
        s2 = _raw(metapsy_dir, db, int(r.source_row2))
        assert s1["study"] == r.source_study, r.effect_id
        assert s1.get("instrument", "NA").replace("NA", "") == _txt(r.source_instrument)
        assert s1["outcome_type"] == r.source_outcome_type, r.effect_id
        assert r.source_arms.startswith(s1["condition_arm1"]), r.effect_id
        pairs: list[tuple[object, str | None]]
        if r.stats_form == "reported":  # stored g; its sign rule is tested below
            pairs = [(r.reported_estimate, s1[".g"]), (r.reported_se, s1[".g_se"]),
                     (r.n1, s1["n_arm1"]), (r.n2, s1["n_arm2"])]  # fmt: skip
        elif r.stats_form == "msd":
            g2 = r.source_arm2_columns
            pairs = [(r.n1, s1["n_arm1"]), (r.mean1, s1["mean_arm1"]), (r.sd1, s1["sd_arm1"]),
                     (r.n2, s2[f"n_{g2}"]), (r.mean2, s2[f"mean_{g2}"]),
                     (r.sd2, s2[f"sd_{g2}"])]  # fmt: skip
        else:
            g2 = r.source_arm2_columns
            pairs = [(r.n1, s1["totaln_arm1"]), (r.events1, s1["event_arm1"]),
                     (r.n2, s2[f"totaln_{g2}"]), (r.events2, s2[f"event_{g2}"])]  # fmt: skip
        bad = [(mine, cell) for mine, cell in pairs if not _same(mine, cell)]
        assert not bad, (r.effect_id, bad)
        weeks = _num(s1.get("time_weeks"))
        if weeks == 0 and r.timepoint == "post":  # placeholder, emptied with the rule
            assert pd.isna(r.time_weeks) and "left empty" in r.derived, r.effect_id
        else:
            assert _same(r.time_weeks, s1.get("time_weeks")), r.effect_id
        time = s1.get("time", "post").lower()
        assert (r.timepoint == "post") == time.startswith("post"), (r.effect_id, time)
        if r.source_arm2_columns == "arm1":  # direct comparison: the two rows share the control
            shared = ("study", "instrument", "outcome_type", "time", "time_weeks", "condition_arm2")
            assert all(s1.get(c) == s2.get(c) for c in shared), r.effect_id


# yi = SIGN * stored .g for every stored-g row (lower-is-better scales); each rule is
# established from its own database by the two tests that follow.
STORED_G_SIGN = {"depression-anxiety-transdiagnostic": 1.0, "suicide-psyctr": -1.0}


def test_stored_g_rows_follow_their_database_sign_rule(ds, metapsy_dir):
    o = _metapsy_rows(ds)
    o = o[o["stats_form"] == "reported"]
    assert {"johansson2013", "scheidt2013", "guthrie2001", "walker2016"} <= set(o["trial_id"])
    for r in o.itertuples():
        db = _db(r.source)
        assert db in STORED_G_SIGN, f"{r.effect_id}: no established sign rule for {db}"
        assert not r.higher_is_better, r.effect_id
        g = _num(_raw(metapsy_dir, db, int(r.source_row1))[".g"])
        assert r.yi == STORED_G_SIGN[db] * g, r.effect_id


def test_transdiagnostic_sign_convention(metapsy_dir):
    """The transdiagnostic means lost their decimal points (metapsy.md 7.1), but the sign of the
    stored .g can still be established: over every msd row, try each decimal position for both
    means; the stored .g (2 dp) is reproduced only as (mean2 - mean1)/sd, i.e. + = arm 1 lower,
    which is arm 1 better on its symptom scales."""
    header, records = _raw_records(str(metapsy_dir), "depression-anxiety-transdiagnostic")
    flipped_only = raw_only = 0
    for rec in records:
        s = dict(zip(header, rec, strict=True))
        if s["outcome_type"] != "msd" or "NA" in (s[".g"], s["mean_arm1"], s["mean_arm2"]):
            continue
        n1, n2, sd1, sd2 = (_num(s[c]) for c in ("n_arm1", "n_arm2", "sd_arm1", "sd_arm2"))
        n = n1 + n2
        sp = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n - 2))
        shifts = 10.0 ** np.arange(4)
        d = (_num(s["mean_arm1"]) / shifts[:, None] - _num(s["mean_arm2"]) / shifts) / sp
        g = np.round(d * (1 - 3 / (4 * n - 9)), 2)
        stored = _num(s[".g"])
        raw_fit = np.any(np.abs(g - stored) <= 0.011)
        flip_fit = np.any(np.abs(-g - stored) <= 0.011)
        flipped_only += flip_fit and not raw_fit
        raw_only += raw_fit and not flip_fit
    assert flipped_only >= 100 and raw_only == 0, (flipped_only, raw_only)


def test_trial_and_arm_metadata_equal_their_metapsy_rows(ds, metapsy_dir):
    loc = re.compile(r"^metapsy:([a-z-]+)@[0-9a-f]{7} row (\d+)$")
    for r in ds.trials.itertuples():
        m = loc.match(r.metadata_source)
        if m is None:
            assert r.metadata_source.startswith(("doi:", "url:", "https://")), r.trial_id
            continue
        s = _raw(metapsy_dir, m.group(1), int(m.group(2)))
        assert s["study"].split(",")[0].split()[0] == r.study.split()[0], r.trial_id
        if "year" in s:
            assert _num(s["year"]) == r.year, r.trial_id
        assert _txt(r.country_source) == s.get("country", "NA").replace("NA", ""), r.trial_id
        if isinstance(r.rob_source, str):
            col = re.search(r"@[0-9a-f]{7} column '([^']+)'$", r.rob_source).group(1)  # type: ignore[union-attr]
            assert m.group(1) in r.rob_source, r.trial_id
            mine, cell = _txt(r.rob), s[col]
            numeric = re.fullmatch(r"\d+([.,]\d+)?", cell)
            assert _same(mine, cell) if numeric else mine == cell, (r.trial_id, mine, cell)
    arms = ds.arms[ds.arms["arm_class"] == "psychodynamic"]
    for r in arms.itertuples():
        m = re.match(r"^metapsy:([a-z-]+)@[0-9a-f]{7} row (\d+)$", r.source)
        if m is None:
            continue
        s = _raw(metapsy_dir, m.group(1), int(m.group(2)))
        names = ("n_sessions_arm1", "n_sessions_ig", "n_sessions", "psychotherapy_sessions_mean")
        cell = next((s[c] for c in names if c in s), "")
        if re.fullmatch(r"\d+([.,]\d+)?", cell):
            assert _same(r.sessions, cell), r.arm_id
        else:
            assert pd.isna(r.sessions), r.arm_id


def test_metapsy_exclusions_point_at_their_rows(ds, metapsy_dir):
    exc = ds.exclusions[ds.exclusions["source"].str.startswith("metapsy:")]
    assert len(exc) >= 16
    for r in exc.itertuples():
        db = _db(r.source)
        assert metapsy_source(metapsy_dir / db)["commit"].startswith(r.source.split("@")[1])
        s = _raw(metapsy_dir, db, int(r.source_row))
        assert s["study"] == r.source_study, (db, r.source_row)
        assert r.source_arms.startswith(s["condition_arm1"]), (db, r.source_row)
        assert r.what.split()[0] == s["outcome_type"], (db, r.source_row)


def _research_text(research_dir: Path) -> str:
    text = (research_dir / "pdt-trials.md").read_text(encoding="utf-8")
    return text.replace("\u2212", "-").replace("\u2013", "-").replace("\u00b7", ".")


def _numbers(text: str) -> set[float]:
    return {float(x) for x in re.findall(r"(?<![\d.])-?\d+(?:\.\d+)?", text)}


def test_report_values_are_in_the_quoted_sources(ds, research_dir):
    text = _research_text(research_dir)
    rep = ds.outcomes[~ds.outcomes["source"].str.startswith("metapsy:")]
    assert len(rep) == 11
    derived_counts = set(ds.derived_counts["effect_id"])  # checked in tests/test_reading.py
    for r in rep.itertuples():
        author = r.study.split()[0]
        lines = [ln for ln in text.splitlines() if author in ln]
        assert lines, r.effect_id
        numbers = _numbers(" ".join(lines))
        for q in re.findall(r'"([^"]{20,})"', r.source_location):  # quotes are verbatim
            assert any(q in ln for ln in lines), (r.effect_id, q)
        derived = r.derived if isinstance(r.derived, str) else ""
        cols = ["n1", "n2", "reported_ci_low", "reported_ci_high"]
        if r.effect_id not in derived_counts:  # derived counts: from the printed % and n
            cols += ["events1", "events2"]
        if not derived.startswith("MD ="):
            cols += ["reported_estimate"]
        for c in cols:
            v = getattr(r, c)
            assert pd.isna(v) or float(v) in numbers, (r.effect_id, c, v)


def test_creed_2003_differences_recompute_from_the_quoted_sems(ds, research_dir):
    line = next(ln for ln in _research_text(research_dir).splitlines() if ln.startswith("## Creed"))
    pairs = re.findall(r"(-?\d+\.\d+) \[SEM, (\d+\.\d+)\]", line)
    (m_pdt, s_pdt), (m_par, s_par), (m_tau, s_tau) = [(float(a), float(b)) for a, b in pairs]
    assert "(psychotherapy, paroxetine, TAU)" in line and "n=85" in line and "(n=86)" in line
    o = ds.outcomes.set_index("comparison_id")
    for cid, m2, s2, n2 in (("creed2003-pdt-tau", m_tau, s_tau, 86),
                            ("creed2003-pdt-par", m_par, s_par, 86)):  # fmt: skip
        row = o.loc[cid]
        assert row["reported_estimate"] == pytest.approx(m_pdt - m2, abs=1e-12)
        assert row["reported_se"] == round(np.hypot(s_pdt, s2), 5)
        assert (row["n1"], row["n2"], row["reported_orientation"]) == (85, n2, "pdt_vs_comparator")
        assert row["yi"] == row["reported_estimate"] and row["higher_is_better"]


def test_published_steinert_numbers_are_in_the_notes(research_dir):
    text = _research_text(research_dir)
    line = next(ln for ln in text.splitlines() if ln.startswith("| Steinert 2017"))
    pub = pd.read_csv(default_path() / "published" / "steinert2017.csv")
    for c in ("estimate", "ci_low", "ci_high", "margin"):
        assert set(pub[c]) <= _numbers(line), c
    assert "23 RCTs, 2,751 patients" in line and set(pub["k_trials"]) == {23}
    named = pd.read_csv(default_path() / "published" / "steinert2017_trials_named.csv")
    item = next(ln for ln in text.splitlines() if ln.startswith("3. The comparison target"))
    assert all(s in item for s in named["study"]), set(s for s in named["study"] if s not in item)


def test_every_source_rests_on_a_verified_identifier(ds, metapsy_dir):
    text = _shared_text()
    for frame, key in ((ds.arms, "arm_id"), (ds.trials, "trial_id")):
        col = "source" if "source" in frame else "metadata_source"
        for r in frame[[key, col]].itertuples(index=False):
            ident = re.match(r"^(?:doi|pmid):(\S+)", r[1])
            assert ident is None or ident.group(1).lower() in text, r
