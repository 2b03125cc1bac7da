"""Moderators reported by their own tests, and pages' claims adjusted for multiplicity (issue 9)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import evidence.review.data
from evidence import review
from evidence.meta.regression import meta_regression
from evidence.review import multiplicity

#: The same arithmetic (a quadratic form and an F or t tail) done two ways in double precision.
TOL_SAME_TEST = 1e-10


@pytest.fixture(scope="module")
def data():
    return evidence.review.data.load()


@pytest.fixture(scope="module")
def depression(data):
    return review.condition_analyses(data, "depression")


def _refit(an, name):
    """The moderator's model, fitted here independently of multiplicity.py."""
    e = an.effects
    mod = multiplicity.moderator_candidates(e)[name]
    ok = mod.notna().to_numpy()
    mods = {name: mod[ok].astype(str).to_numpy(), "cc": e.loc[ok, "comparator_class"].to_numpy()}
    return meta_regression(e.loc[ok, "yi"], e.loc[ok, "vi"], mods, method="REML", test="knha")


def test_depression_internet_delivery_shows_its_own_test_not_the_omnibus(depression):
    an = depression["SMD post"]
    table = an.moderators()
    row = table.loc["internet delivery"]
    fit = _refit(an, "internet delivery")
    j = fit.names.index("internet deliveryinternet")
    # one coefficient under Knapp-Hartung: the moderator's own F(1, k - p) is its t squared
    assert row["test"] == f"F(1, {fit.k - fit.p})"
    assert row["statistic"] == pytest.approx(fit.statistic[j] ** 2, rel=TOL_SAME_TEST)
    assert row["pvalue"] == pytest.approx(fit.pvalue[j], abs=TOL_SAME_TEST)
    # the whole-model omnibus (moderator + comparator classes) is a different, smaller p and
    # is not what the row shows
    assert fit.qm_pvalue < 0.05 < row["pvalue"]
    assert "qm_pvalue" not in table.columns and "qm" not in table.columns
    assert row["adjusted_for"] == "comparator class"
    assert row["r2"] == pytest.approx(fit.r2, abs=TOL_SAME_TEST)
    assert row["levels"] == "face to face (reference), internet"
    lo, hi = fit.ci_low[j], fit.ci_high[j]
    assert (
        row["coefficients"] == f"internet vs face to face: {fit.coef[j]:.2f} [{lo:.2f}, {hi:.2f}]"
    )


def test_a_moderator_confounded_with_the_comparator_class_is_not_estimable(depression):
    """Depression's only long-term PDT trial (Fonagy 2015) is an add-on design, a comparator
    class of its own under the protocol: treatment length adjusted for class cannot be
    estimated, and the table says so instead of giving a number."""
    row = depression["SMD post"].moderators().loc["treatment length"]
    assert row["note"].startswith("not estimable: design matrix is rank deficient")
    assert pd.isna(row["pvalue"])


def test_multilevel_moderator_is_tested_on_all_its_levels_at_once(depression):
    an = depression["SMD post"]
    row = an.moderators().loc["risk of bias"]
    fit = _refit(an, "risk of bias")
    rob = [n for n in fit.names if n.startswith("risk of bias")]
    assert len(rob) >= 2  # a real multi-level case on this page
    joint = meta_regression(
        fit.yi,
        fit.vi,
        pd.DataFrame(fit.X[:, 1:], columns=fit.names[1:]),
        method="REML",
        test="knha",
        btt=[n for n in fit.names[1:] if n.startswith("risk of bias")],
    )  # same design, btt on the risk-of-bias columns (metafor's rma(..., btt=))
    assert row["test"] == f"F({len(rob)}, {fit.k - fit.p})"
    assert row["pvalue"] == pytest.approx(joint.qm_pvalue, abs=TOL_SAME_TEST)
    assert row["coefficients"].count(" vs ") == len(rob)
    assert row["levels"].count(",") == len(rob)  # every level listed, the reference marked
    assert "(reference)" in row["levels"]
    # scores on the harmonised scale (4/4 criteria met: low; 0-2: high), in words
    assert "low vs high" in row["coefficients"]


def test_moderator_report_says_what_each_p_tests(depression):
    text = multiplicity.moderator_report(depression["SMD post"])
    assert "p (this moderator)" in text.to_frame().columns
    assert "only that moderator's coefficients" in text.caption


def _fake(results: dict, by="comparator_class", measure="SMD", title="X (Hedges' g, post)"):
    res = {
        g: SimpleNamespace(k=2, estimate=0.1, ci_low=-0.1, ci_high=0.3, pvalue=p)
        for g, p in results.items()
    }
    return SimpleNamespace(name="x", by=by, measure=measure, title=title, results=res)


def test_holm_and_bh_match_a_hand_checked_family():
    page = {"SMD post": _fake({"cbt": 0.01, "waitlist": 0.04}), "OR post": _fake({"tau": 0.03})}
    t = multiplicity.multiplicity_table(page)
    # Holm: sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.04, running maximum
    np.testing.assert_allclose(t["p_holm"], [0.03, 0.06, 0.06])
    # BH: sorted times 3/1, 3/2, 3/3 -> 0.03, 0.045, 0.04, running minimum from the top
    np.testing.assert_allclose(t["p_bh"], [0.03, 0.04, 0.04])
    assert t.attrs["family"] == 3 and t.attrs["methods"][0].startswith("Holm")
    text = multiplicity.multiplicity_text(t, "two measures")
    assert "3 pooled comparisons" in text and "Holm" in text and "Benjamini-Hochberg" in text
    assert "3 are below 0.05 unadjusted, 1 after Holm and 3 after Benjamini-Hochberg" in text
    one = multiplicity.multiplicity_table({"a": _fake({"cbt": 0.02})})
    assert one["p_holm"].iloc[0] == one["p_bh"].iloc[0] == 0.02
    assert "single pooled comparison" in multiplicity.multiplicity_text(one, "PDT vs CBT")


def test_a_claim_without_p_is_refused_by_name():
    with pytest.raises(ValueError, match="PDT vs waitlist: no p-value"):
        multiplicity.multiplicity_table({"a": _fake({"cbt": 0.2, "waitlist": float("nan")})})
    with pytest.raises(ValueError, match="no pooled comparison"):
        multiplicity.multiplicity_table({})


def _holm(p):
    """Holm's step-down by the textbook formula."""
    order = np.argsort(p, kind="stable")
    m = len(p)
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order]).clip(max=1)
    out = np.empty(m)
    out[order] = adj
    return out


def test_condition_page_family_is_exactly_its_stated_comparisons(depression):
    t = multiplicity.multiplicity_table(depression)
    stated = [(an.title, g) for an in depression.values() for g in an.results]
    assert len(t) == len(stated)
    expected = [(title, f"PDT vs {review.COMPARATOR_NAMES.get(g, g)}") for title, g in stated]
    assert list(zip(t["analysis"], t["comparison"], strict=True)) == expected
    pooled = [r.pvalue for an in depression.values() for r in an.results.values()]
    np.testing.assert_allclose(t["pvalue"], pooled, rtol=0, atol=0)
    np.testing.assert_allclose(t["p_holm"], _holm(np.array(pooled)), atol=TOL_SAME_TEST)
    assert (t["p_holm"] >= t["p_bh"] - TOL_SAME_TEST).all()
    assert (t["p_bh"] >= t["pvalue"] - TOL_SAME_TEST).all()


def test_overview_family_is_the_headline_comparisons(data):
    headline = review.headline(data)
    t = multiplicity.multiplicity_table(headline)
    assert len(t) == sum(len(an.results) for an in headline.values())
    assert set(t["analysis"]) == {an.title for an in headline.values()}
    assert (t["measure"] == "SMD").all()
    np.testing.assert_allclose(t["p_holm"], _holm(t["pvalue"].to_numpy()), atol=TOL_SAME_TEST)


def test_show_multiplicity_saves_the_table(depression, tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_OUTPUT", str(tmp_path))
    multiplicity.show_multiplicity(depression, "depression")
    saved = pd.read_csv(tmp_path / "results" / "depression_multiplicity.csv", index_col=0)
    assert list(saved.columns[-2:]) == ["p_holm", "p_bh"]
    assert len(saved) == len(multiplicity.claims_family(depression))
