"""Properties of the analyses (hypothesis), closed forms for TOST and Bucher, and input guards."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats

import evidence
from evidence import pool
from evidence.meta.analyses import (
    aggregate_effects,
    bucher,
    egger_test,
    equivalence_test,
    gosh,
    influence,
    meta_regression,
    pet_peese,
    rank_test,
    rho_sensitivity,
    subgroups,
    three_level,
    trim_and_fill,
)
from evidence.meta.pooling import ConvergenceWarning

#: Two fits of the same data in a different order differ only by floating-point summation order
#: and the iterative estimators' stopping point (1e-13 on tau^2).
TOL_ORDER = 1e-8
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def studies(draw, min_k=6, max_k=12):
    k = draw(st.integers(min_k, max_k))
    # effects on a 0.001 grid and distinct variances: real meta-analytic data, not denormals
    y = draw(st.lists(st.integers(-2000, 2000).map(lambda i: i / 1000), min_size=k, max_size=k))
    v = draw(
        st.lists(st.integers(10, 500).map(lambda i: i / 1000), min_size=k, max_size=k, unique=True)
    )
    perm = draw(st.permutations(range(k)))
    return np.array(y), np.array(v), np.array(perm)


def _groups(k):
    return ["a" if i % 2 else "b" for i in range(k)]


# ---- study order does not change any result ------------------------------------------------


@SETTINGS
@given(studies())
def test_order_invariance(data):
    y, v, p = data
    k = y.size
    g = np.array(_groups(k))
    x = np.linspace(0, 1, k) ** 2
    # Fisher scoring can fail to converge on flat likelihoods (metafor stops with an error on
    # the same data; we warn and flag iterations < 0): the property is about converged fits.
    assume(meta_regression(y, v, {"g": g}).iterations >= 0)
    assume(meta_regression(y, v, {"x": x, "g": g}).iterations >= 0)
    for tau2 in ("separate", "common"):
        a = subgroups(y, v, g, tau2=tau2).table
        b = subgroups(y[p], v[p], g[p], tau2=tau2).table
        np.testing.assert_allclose(
            a.loc[b.index].to_numpy(float), b.to_numpy(float), atol=TOL_ORDER
        )
    a = meta_regression(y, v, {"x": x, "g": g})
    b = meta_regression(y[p], v[p], {"x": x[p], "g": g[p]})
    np.testing.assert_allclose(a.coef, b.coef, atol=TOL_ORDER)
    np.testing.assert_allclose([a.tau2, a.qm, a.qe], [b.tau2, b.qm, b.qe], atol=TOL_ORDER)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            ia, ib = influence(pool(y, v)).to_frame(), influence(pool(y[p], v[p])).to_frame()
        except ConvergenceWarning:
            assume(False)  # a leave-one-out fit did not converge (flagged, as metafor errors)
    cols = ["rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "hat"]
    np.testing.assert_allclose(ia[cols].to_numpy()[p], ib[cols].to_numpy(), atol=TOL_ORDER)
    ea, eb = egger_test(y, v), egger_test(y[p], v[p])
    np.testing.assert_allclose(
        [ea.statistic, ea.limit_estimate], [eb.statistic, eb.limit_estimate], atol=TOL_ORDER
    )
    assert rank_test(y, v).tau == pytest.approx(
        rank_test(y[p], v[p]).tau, abs=TOL_ORDER, nan_ok=True
    )
    cl = np.arange(k) // 2
    aa = aggregate_effects(y, v, cl).sort_index()
    ab = aggregate_effects(y[p], v[p], cl[p]).sort_index()
    np.testing.assert_allclose(aa.to_numpy(float), ab.to_numpy(float), atol=TOL_ORDER)
    ta, tb = three_level(y, v, cl), three_level(y[p], v[p], cl[p])
    np.testing.assert_allclose([ta.estimate, *ta.sigma2], [tb.estimate, *tb.sigma2], atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(studies(min_k=5, max_k=8))
def test_order_invariance_gosh_and_trimfill(data):
    y, v, p = data
    ga, gb = gosh(y, v, method="DL"), gosh(y[p], v[p], method="DL")
    for col in ("estimate", "tau2", "QE"):
        np.testing.assert_allclose(np.sort(ga.table[col]), np.sort(gb.table[col]), atol=TOL_ORDER)
    # with tied effects metafor's ranks (ties.method = "first") depend on input order too
    assume(np.unique(y).size == y.size)
    fa, fb = trim_and_fill(y, v, method="FE"), trim_and_fill(y[p], v[p], method="FE")
    assert fa.k0 == fb.k0
    assert fa.estimate == pytest.approx(fb.estimate, abs=TOL_ORDER)


# ---- flipping the sign of every yi flips every estimate ----------------------------------------


@SETTINGS
@given(studies())
def test_sign_flip(data):
    y, v, _ = data
    k = y.size
    g = _groups(k)
    x = np.linspace(0, 1, k) ** 2
    assume(meta_regression(y, v, {"g": g}).iterations >= 0)  # see test_order_invariance
    assume(meta_regression(y, v, {"x": x, "g": g}).iterations >= 0)
    for tau2 in ("separate", "common"):
        a, b = subgroups(y, v, g, tau2=tau2), subgroups(-y, v, g, tau2=tau2)
        np.testing.assert_allclose(a.table.estimate, -b.table.estimate, atol=TOL_ORDER)
        np.testing.assert_allclose(a.table.tau2, b.table.tau2, atol=TOL_ORDER)
        assert a.q_between == pytest.approx(b.q_between, abs=TOL_ORDER)
    a, b = meta_regression(y, v, {"x": x, "g": g}), meta_regression(-y, v, {"x": x, "g": g})
    np.testing.assert_allclose(a.coef, -b.coef, atol=TOL_ORDER)
    ea, eb = egger_test(y, v, model="rma"), egger_test(-y, v, model="rma")
    assert ea.limit_estimate == pytest.approx(-eb.limit_estimate, abs=TOL_ORDER)
    assert ea.statistic == pytest.approx(-eb.statistic, abs=TOL_ORDER)
    cl = np.arange(k) // 2
    np.testing.assert_allclose(
        aggregate_effects(y, v, cl).yi, -aggregate_effects(-y, v, cl).yi, atol=TOL_ORDER
    )
    assert three_level(y, v, cl).estimate == pytest.approx(
        -three_level(-y, v, cl).estimate, abs=1e-6
    )
    assert pet_peese(y, v).pet.limit_estimate == pytest.approx(
        -pet_peese(-y, v).pet.limit_estimate, abs=TOL_ORDER
    )
    ga, gb = gosh(y[:6], v[:6]), gosh(-y[:6], v[:6])
    np.testing.assert_allclose(ga.table.estimate, -gb.table.estimate, atol=TOL_ORDER)
    ta, tb = trim_and_fill(y, v, method="FE"), trim_and_fill(-y, v, method="FE")
    assert ta.k0 == tb.k0
    if np.ptp(y) > 0:  # metafor's side rule puts a zero slope on the left for both signs
        assert ta.side == {"left": "right", "right": "left"}[tb.side]
    assert ta.estimate == pytest.approx(-tb.estimate, abs=TOL_ORDER)


# ---- TOST and Bucher: hand-checkable closed forms ------------------------------------------------


def test_tost_closed_form():
    # estimate 0.05, SE 0.08, margin 0.25: z_lower = 0.30/0.08 = 3.75, z_upper = -0.20/0.08 = -2.5
    eq = equivalence_test(SimpleNamespace(estimate=0.05, se=0.08), margin=0.25, alpha=0.05)
    assert eq.p_lower == pytest.approx(stats.norm.sf(3.75), abs=1e-15)
    assert eq.p_upper == pytest.approx(stats.norm.cdf(-2.5), abs=1e-15)
    assert eq.pvalue == eq.p_upper and eq.equivalent and eq.noninferior
    z95 = stats.norm.isf(0.05)  # 90% CI
    assert (eq.ci_low, eq.ci_high) == pytest.approx((0.05 - z95 * 0.08, 0.05 + z95 * 0.08))
    assert eq.ci_level == pytest.approx(90.0)
    # TOST rejects exactly when the 90% CI lies inside the margins
    far = equivalence_test(SimpleNamespace(estimate=0.2, se=0.1), margin=0.25)
    assert not far.equivalent and far.ci_high > 0.25 and far.noninferior


def test_tost_uses_t_under_knapp_hartung():
    res = pool([0.1, 0.3, 0.35, 0.65, 0.45], [0.03, 0.03, 0.05, 0.01, 0.05], test="knha")
    eq = equivalence_test(res, margin=(-0.3, 0.5))
    assert eq.df == 4
    assert eq.p_lower == pytest.approx(stats.t.sf((res.estimate + 0.3) / res.se, 4), abs=1e-15)
    assert eq.p_upper == pytest.approx(stats.t.cdf((res.estimate - 0.5) / res.se, 4), abs=1e-15)


def test_bucher_closed_form():
    ac, bc = SimpleNamespace(estimate=0.5, se=0.3), SimpleNamespace(estimate=0.2, se=0.4)
    b = bucher(ac, bc)
    assert b.estimate == pytest.approx(0.3, abs=1e-15)
    assert b.se == pytest.approx(0.5, abs=1e-15)  # sqrt(0.09 + 0.16)
    assert b.pvalue == pytest.approx(2 * stats.norm.sf(0.6), abs=1e-15)
    assert np.isnan(b.inconsistency)
    d = bucher(ac, bc, direct=SimpleNamespace(estimate=0.0, se=1.2))
    assert d.inconsistency == pytest.approx(-0.3, abs=1e-15)
    assert d.inconsistency_se == pytest.approx(1.3, abs=1e-15)  # sqrt(1.44 + 0.25)
    assert d.inconsistency_pvalue == pytest.approx(2 * stats.norm.sf(0.3 / 1.3), abs=1e-15)
    w = np.array([1 / 1.44, 1 / 0.25])
    assert d.combined == pytest.approx(w[1] * 0.3 / w.sum(), abs=1e-15)


# ---- permutation test: reproducible, and the exact test is seed-free --------------------------


def test_permutation_test_seeded_and_exact():
    y = np.array([0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.5, 0.2, 0.4, 0.55, 0.05, 0.6])
    v = np.array([0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02, 0.03, 0.05, 0.02, 0.04])
    res = meta_regression(y, v, {"x": np.arange(12.0)}, method="DL")
    a, b = res.permutation_test(n=200, seed=3), res.permutation_test(n=200, seed=3)
    assert not a.exact and np.array_equal(a.pvalues, b.pvalues) and a.qm_pvalue == b.qm_pvalue
    assert a.n == 200 and 0 < a.qm_pvalue <= 1
    small = meta_regression(y[:5], v[:5], {"x": np.arange(5.0)}, method="DL")
    e1, e2 = small.permutation_test(n=1000, seed=1), small.permutation_test(n=1000, seed=2)
    assert e1.exact and e1.n == 120 and np.array_equal(e1.pvalues, e2.pvalues)


# ---- guards and plumbing -------------------------------------------------------------------


def test_bad_inputs_raise_clear_errors():
    y, v = [0.1, 0.2, 0.3, 0.4], [0.1, 0.1, 0.1, 0.1]
    with pytest.raises(ValueError, match="groups: missing label at position 2"):
        subgroups(y, v, ["a", "b", None, "a"])
    with pytest.raises(ValueError, match="at least 2 groups"):
        subgroups(y, v, ["a"] * 4)
    with pytest.raises(ValueError, match="moderator 'x': missing value at row 1"):
        meta_regression(y, v, {"x": [1.0, np.nan, 2.0, 3.0]})
    with pytest.raises(ValueError, match="rank deficient"):
        meta_regression(y, v, {"x": [1.0, 2, 3, 4], "z": [2.0, 4, 6, 8]})
    with pytest.raises(ValueError, match="rho = 1.0"):
        aggregate_effects(y, v, ["a", "a", "b", "b"], rho=1.0)
    with pytest.raises(ValueError, match="cluster: missing label at position 0"):
        aggregate_effects(y, v, [None, "a", "b", "b"])
    with pytest.raises(ValueError, match="margin must be positive"):
        equivalence_test(pool(y, v), margin=-0.1)
    with pytest.raises(ValueError, match="unknown tau2 rule"):
        subgroups(y, v, ["a", "b", "a", "b"], tau2="pooled")


def test_categorical_moderator_matches_model_matrix():
    res = meta_regression(
        [0.1, 0.3, 0.35, 0.65, 0.45, 0.15],
        [0.03, 0.03, 0.05, 0.01, 0.05, 0.02],
        pd.DataFrame({"fmt": ["ind", "grp", "ind", "web", "grp", "web"]}),
    )
    assert res.names == ("intrcpt", "fmtind", "fmtweb")  # first level (sorted) is reference
    assert res.qm_df == 2


def test_aggregate_rho_zero_is_inverse_variance_mean():
    agg = aggregate_effects([0.2, 0.6, 1.0], [0.1, 0.3, 0.2], ["a", "a", "b"], rho=0.0)
    w = np.array([10.0, 1 / 0.3])
    assert agg.loc["a", "yi"] == pytest.approx((w * [0.2, 0.6]).sum() / w.sum(), abs=1e-15)
    assert agg.loc["a", "vi"] == pytest.approx(1 / w.sum(), abs=1e-15)
    assert agg.loc["b", "yi"] == 1.0 and agg.loc["b", "n"] == 1
    tab = rho_sensitivity([0.2, 0.6, 1.0], [0.1, 0.3, 0.2], ["a", "a", "b"], rhos=[0.0, 0.5])
    assert list(tab.index) == [0.0, 0.5] and (tab.k == 2).all()


def test_results_print_and_export():
    y = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.5, 0.2]
    v = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02]
    res = pool(y, v)
    objs = [
        subgroups(y, v, _groups(8)),
        meta_regression(y, v, {"x": np.arange(8.0)}),
        three_level(y, v, [0, 0, 1, 1, 2, 2, 3, 3]),
        influence(res),
        gosh(y[:5], v[:5]),
        egger_test(y, v),
        rank_test(y, v),
        trim_and_fill(y, v),
        pet_peese(y, v),
        equivalence_test(res),
        bucher(res, pool(y[:4], v[:4])),
        meta_regression(y, v, {"x": np.arange(8.0)}).permutation_test(n=50, seed=1),
    ]
    for o in objs:
        assert isinstance(o.summary(), str) and o.summary()
        assert "<" in o._repr_html_()
        assert isinstance(o.to_frame(), pd.DataFrame)
    assert evidence.subgroups is subgroups and evidence.trim_and_fill is trim_and_fill
    assert evidence.egger_test is egger_test and evidence.meta_regression is meta_regression
    assert egger_test(res).statistic == egger_test(y, v).statistic
