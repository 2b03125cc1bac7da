"""Edge cases against metafor 3.8 (reference values from tools/make_reference_edge.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evidence as ev

REF = json.loads((Path(__file__).parent / "reference" / "edge.json").read_text())
#: Iterative fits converge to 1e-12 on both sides.
TOL_ITERATIVE = 1e-7
#: rma.mv's optimiser (nlminb, rel.tol 1e-12) splits confounded components only approximately.
TOL_MV = 1e-6


@pytest.mark.parametrize("case", REF["trimfill"], ids=lambda c: c["method"])
def test_trim_and_fill_without_imputation_keeps_the_knapp_hartung_fit(case):
    fit = ev.pool(case["yi"], case["vi"], method=case["method"], test=case["test"])
    tf = fit.trim_and_fill()
    assert tf.k0 == case["k0"] == 0
    assert tf.test == case["filled_test"] == "knha"
    for f in ("estimate", "se", "pvalue", "ci_low", "ci_high"):
        assert getattr(tf, f) == pytest.approx(case[f], abs=TOL_ITERATIVE), f
    assert "knha" in tf.summary()


@pytest.mark.parametrize("case", REF["trimfill_identical"], ids=lambda c: c["test"])
def test_trim_and_fill_of_identical_studies(case):
    """metafor cannot choose the side (every vi equal) and needs side="left"; we find that
    nothing is missing on either side and return metafor's left-side answer."""
    fit = ev.pool(case["yi"], case["vi"], method=case["method"], test=case["test"])
    tf = fit.trim_and_fill()
    assert (tf.k0, tf.side, tf.test) == (case["k0"], case["side"], case["filled_test"])
    assert case["se_k0"] is None and np.isnan(tf.se_k0)
    for f in ("estimate", "se", "pvalue", "ci_low", "ci_high"):
        assert getattr(tf, f) == pytest.approx(case[f], abs=TOL_ITERATIVE), f


@pytest.mark.parametrize("case", REF["btt"], ids=lambda c: f"{c['test']}-{c['btt']}")
def test_meta_regression_btt_matches_rma(case):
    d = REF["bcg"]
    mods = pd.DataFrame({"ablat": d["ablat"], "year": d["year"], "alloc": d["alloc"]})
    res = ev.meta_regression(d["yi"], d["vi"], mods, test=case["test"], btt=case["btt"])
    assert list(res.names) == case["names"]
    assert res.qm == pytest.approx(case["qm"], rel=1e-7)
    assert res.qm_df == case["qm_df"]
    assert res.qm_pvalue == pytest.approx(case["qm_pvalue"], rel=1e-6, abs=1e-12)
    # the same test from the full model's wald_test, by coefficient names
    stat, df, p, _ = res.wald_test([case["names"][i] for i in np.atleast_1d(case["btt"])])
    assert (stat, df) == (pytest.approx(case["qm"], rel=1e-7), case["qm_df"])


def test_moderator_tests_give_each_moderator_its_own_test():
    d = REF["bcg"]
    mods = pd.DataFrame({"ablat": d["ablat"], "year": d["year"], "alloc": d["alloc"]})
    for test in ("z", "knha"):
        res = ev.meta_regression(d["yi"], d["vi"], mods, test=test)
        table = res.moderator_tests()
        assert list(table.index) == ["ablat", "year", "alloc"]
        alloc = table.loc["alloc"]
        want = next(c for c in REF["btt"] if c["test"] == test and c["btt"] == [3, 4])
        assert alloc["statistic"] == pytest.approx(want["qm"], rel=1e-7)
        assert alloc["df1"] == 2 and alloc["pvalue"] == pytest.approx(want["qm_pvalue"], rel=1e-6)
        assert alloc["coefficients"] == "allocrandom, allocsystematic"
        assert alloc["adjusted_for"] == "ablat, year"
        assert alloc["r2_model"] == pytest.approx(res.r2)
        assert table.loc["ablat", "pvalue"] != pytest.approx(res.qm_pvalue)


def test_btt_is_validated():
    d = REF["bcg"]
    with pytest.raises(ValueError, match="unknown coefficient"):
        ev.meta_regression(d["yi"], d["vi"], {"ablat": d["ablat"]}, btt="lat")
    with pytest.raises(ValueError, match="not a coefficient index"):
        ev.meta_regression(d["yi"], d["vi"], {"ablat": d["ablat"]}, btt=[5])


@pytest.mark.parametrize("fit", REF["three_level"]["fits"], ids=lambda f: f["case"])
def test_three_level_degenerate_designs(fit):
    t = REF["three_level"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = ev.three_level(t["yi"], t["vi"], fit["trial"])
    np.testing.assert_allclose(res.sigma2, fit["sigma2"], atol=TOL_MV)
    assert res.estimate == pytest.approx(fit["estimate"], abs=TOL_MV)
    assert res.se == pytest.approx(fit["se"], abs=TOL_MV)


def test_single_study_summary_is_a_z_test_without_pooling_words():
    for test in ("z", "knha"):
        text = ev.pool([0.3], [0.04], test=test).summary()
        assert " z = 1.500" in text and "t(" not in text
        assert "pooled" not in text.replace("nothing is pooled", "")
        assert "PI" not in text and "prediction" not in text.lower()


def test_three_level_does_not_stall_next_to_the_boundary():
    c = REF["three_level_stall"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converges: no ConvergenceWarning
        res = ev.three_level(c["yi"], c["vi"], c["trial"])
    # metafor's nlminb stops within ~1e-10 of the boundary for the within-trial component
    np.testing.assert_allclose(res.sigma2, c["sigma2"], atol=TOL_MV)
    assert res.estimate == pytest.approx(c["estimate"], abs=TOL_MV)
    assert res.se == pytest.approx(c["se"], abs=TOL_MV)
