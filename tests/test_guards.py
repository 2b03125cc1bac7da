"""Nothing wrong is accepted silently: every case here once returned a plausible wrong answer
(issue 9, section 3), and now gives the right answer or one clear error."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evidence as ev
from evidence.meta import analyses, sensitivity
from evidence.meta.pooling import fit as pooling_fit
from evidence.meta.regression.permutation import EXACT_MAX

Y = np.array([0.1, 0.3, 0.35, 0.65, 0.45, 0.15])
V = np.array([0.03, 0.03, 0.05, 0.01, 0.05, 0.02])
G = ["a", "a", "a", "b", "b", "b"]


# ---- confidence level: 95 and 0.95 both mean 95% (metafor); everything else is refused -----
@pytest.mark.parametrize(
    "call",
    [
        lambda lv: ev.pool(Y, V, level=lv),
        lambda lv: ev.pool_binary([4, 6, 3], [50, 60, 40], [8, 10, 9], [50, 58, 41], level=lv),
        lambda lv: ev.subgroups(Y, V, G, level=lv).results["a"],
        lambda lv: ev.meta_regression(Y, V, {"x": np.arange(6.0)}, level=lv),
        lambda lv: ev.bucher(ev.pool(Y, V), ev.pool(Y[:3], V[:3]), level=lv),
        lambda lv: ev.three_level(Y, V, G, level=lv),
        lambda lv: ev.pet_peese(Y, V, level=lv),
    ],
)
def test_level_conventions_everywhere(call):
    a, b = call(95), call(0.95)
    assert np.allclose(a.ci_low, b.ci_low) and np.allclose(a.ci_high, b.ci_high)
    if hasattr(a, "level"):
        assert b.level == 95.0
    for bad in (150, -5, "95", 0.05, 1, 100, float("nan"), True):
        with pytest.raises(ValueError, match="level"):
            call(bad)


def test_from_reported_level_proportion():
    a = ev.from_reported([0.5], scale="OR", ci_low=[0.25], ci_high=[1.0], level=95)
    b = ev.from_reported([0.5], scale="OR", ci_low=[0.25], ci_high=[1.0], level=0.95)
    assert np.allclose(a.vi, b.vi)


# ---- scale-invariant convergence ------------------------------------------------------------
def test_convergence_is_scale_invariant():
    c = 1e-6  # variances near 1e-12
    a = ev.pool(Y, V, method="REML")
    b = ev.pool(c * Y, c**2 * V, method="REML")
    assert b.tau2 == pytest.approx(c**2 * a.tau2, rel=1e-8)
    assert b.i2 == pytest.approx(a.i2, rel=1e-8)
    for method in ("PM", "EB", "ML"):
        assert ev.pool(c * Y, c**2 * V, method=method).tau2 == pytest.approx(
            c**2 * ev.pool(Y, V, method=method).tau2, rel=1e-8
        )
    x = {"x": np.arange(6.0)}
    for method in ("REML", "PM"):
        r1 = ev.meta_regression(Y, V, x, method=method)
        r2 = ev.meta_regression(c * Y, c**2 * V, x, method=method)
        assert r2.tau2 == pytest.approx(c**2 * r1.tau2, rel=1e-8)


# ---- group labels ------------------------------------------------------------------------
@pytest.mark.parametrize("missing", [None, np.nan, np.float32("nan"), pd.NA, pd.NaT])
def test_missing_group_labels_are_refused(missing):
    g = ["a", "a", missing, "b", "b", "b"]
    with pytest.raises(ValueError, match="missing label at position 2"):
        ev.subgroups(Y, V, g)
    with pytest.raises(ValueError, match="missing label at position 2"):
        ev.subgroups(Y, V, g, tau2="common")
    with pytest.raises(ValueError, match="missing label at position 2"):
        ev.three_level(Y, V, g)


def test_groups_that_print_alike_are_refused():
    with pytest.raises(ValueError, match=r"print as the same label '1'.*positions \[0, 1, 2, 3\]"):
        ev.subgroups(Y, V, [1, 1, "1", "1", 2, 2])


def test_series_with_different_index_order_are_refused():
    yi = pd.Series(Y, index=list("abcdef"))
    vi = pd.Series(V, index=list("abcdef")).iloc[::-1]
    with pytest.raises(ValueError, match="different indexes .* position 0"):
        ev.pool(yi, vi)
    # the same labels in the same order are fine
    assert ev.pool(yi, vi.sort_index()).estimate == pytest.approx(ev.pool(Y, V).estimate)


# ---- effect sizes and reported effects ---------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n1": [20.5]}, "n1: sample sizes must be whole .position 0"),
        ({"n2": [np.inf]}, "n2: sample sizes must be whole"),
        ({"sd1": [1e-300], "sd2": [1e-300]}, "yi: effect size or its variance is not finite"),
    ],
)
def test_effect_sizes_refuse_impossible_arms(change, message):
    cols = {"m1": [10.0], "sd1": [4.0], "n1": [20], "m2": [12.0], "sd2": [5.0], "n2": [20]}
    cols.update(change)
    with pytest.raises(ValueError, match=message):
        ev.effect_sizes("SMD", **cols)


def test_effect_sizes_refuse_fractional_counts():
    with pytest.raises(ValueError, match="events1: counts must be whole"):
        ev.effect_sizes("OR", events1=[2.5], n1=[10], events2=[3], n2=[10])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"estimate": [np.nan], "scale": "SMD", "se": [0.1]}, "estimate: estimates must be finite"),
        ({"estimate": [0.3], "scale": "SMD", "se": [np.inf]}, "se: standard errors must be"),
        ({"estimate": [0.3], "scale": "XYZ", "se": [0.1]}, "unknown scale"),
    ],
)
def test_from_reported_refuses(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ev.from_reported(**kwargs)


def test_pool_binary_checks_labels_and_infinite_q():
    with pytest.raises(ValueError, match="labels has 2 entries for 3 studies"):
        ev.pool_binary([4, 6, 3], [50, 60, 40], [8, 10, 9], [50, 58, 41], labels=["a", "b"])


# ---- degenerate but legal input ----------------------------------------------------------
def test_equivalence_test_with_zero_se():
    from types import SimpleNamespace

    eq = ev.equivalence_test(SimpleNamespace(estimate=0.1, se=0.0), margin=0.25)
    assert eq.equivalent and eq.p_lower == 0 and eq.p_upper == 0
    eq = ev.equivalence_test(SimpleNamespace(estimate=0.4, se=0.0), margin=0.25)
    assert not eq.equivalent and eq.noninferior


def test_three_level_degenerate_designs_match_metafor():
    # metafor 3.8: rma.mv(y, v, random = ~ 1 | tr/ef) with one trial fixes sigma2.1 = 0 and
    # gives the REML tau^2 of rma(); with singleton trials it splits the total equally.
    reml = ev.pool(Y, V, method="REML")
    with pytest.warns(UserWarning, match="single trial"):
        one = ev.three_level(Y, V, ["a"] * 6)
    assert one.sigma2 == (0.0, pytest.approx(reml.tau2, rel=1e-6))
    assert one.estimate == pytest.approx(reml.estimate, rel=1e-6)
    with pytest.warns(UserWarning, match="not separately identified"):
        sing = ev.three_level(Y, V, list("abcdef"))
    assert sing.sigma2[0] == sing.sigma2[1] == pytest.approx(reml.tau2 / 2, rel=1e-6)
    assert sing.se == pytest.approx(reml.se, rel=1e-6)


def test_huge_effects_give_one_clear_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="too large to square"):
            ev.pool([1e154, 2e154, 3e154], [1.0, 1.0, 1.0])


# ---- memory: batches in chunks, exhaustive procedures guarded ----------------------------
def test_leave_one_out_is_chunked(monkeypatch):
    """With a tiny chunk bound the batched paths give the same answer as one batch."""
    rng = np.random.default_rng(4)
    y, v = rng.normal(0.3, 0.3, 40), rng.uniform(0.01, 0.1, 40)
    res = ev.pool(y, v, method="REML")
    loo, cum, inf = res.leave_one_out(), res.cumulative(), res.influence().to_frame()
    seen = []
    real = pooling_fit.fit_batch

    def spy(y, v, m, **kw):
        seen.append(np.shape(m)[0])
        return real(y, v, m, **kw)

    monkeypatch.setattr(pooling_fit, "BATCH_CELLS", 40 * 7)
    monkeypatch.setattr(pooling_fit, "fit_batch", spy)
    pd.testing.assert_frame_equal(res.leave_one_out(), loo)
    pd.testing.assert_frame_equal(res.cumulative(), cum)
    pd.testing.assert_frame_equal(res.influence().to_frame(), inf)
    assert seen and max(seen) <= 7


def test_gosh_and_exact_permutation_are_guarded():
    rng = np.random.default_rng(2)
    y, v = rng.normal(0.3, 0.3, 300), rng.uniform(0.01, 0.1, 300)
    with pytest.raises(ValueError, match="max_subsets <="):
        sensitivity.gosh(y, v, max_subsets=10**6)
    mr = ev.meta_regression(Y[:5].tolist() * 2, V[:5].tolist() * 2, {"x": np.arange(10.0)})
    with pytest.raises(ValueError, match="exact=False with n random permutations"):
        mr.permutation_test(exact=True)
    assert EXACT_MAX < 3628800
    perm = mr.permutation_test(n=200, seed=1)
    assert not perm.exact and perm.n == 200


def test_subgroup_module_reexports():
    assert analyses.subgroups is ev.subgroups


def test_gosh_chunks_give_the_same_subsets_and_fits(monkeypatch):
    rng = np.random.default_rng(5)
    y, v = rng.normal(0.3, 0.3, 25), rng.uniform(0.01, 0.1, 25)
    whole = {m: sensitivity.gosh(y, v, method=m, max_subsets=500, seed=3) for m in ("FE", "DL")}
    monkeypatch.setattr(pooling_fit, "BATCH_CELLS", 25 * 7)
    monkeypatch.setattr(sensitivity, "BATCH_CELLS", 25 * 7)
    for m, g in whole.items():
        again = sensitivity.gosh(y, v, method=m, max_subsets=500, seed=3)
        np.testing.assert_array_equal(again.incl, g.incl)
        pd.testing.assert_frame_equal(again.table, g.table)


def test_pool_binary_reports_no_i2_when_q_is_not_finite():
    """No events in any comparator arm: the MH odds ratio is infinite, so Q is not finite and
    I^2 is undefined (NaN, printed NA), never 0%."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = ev.pool_binary([3, 4], [10, 10], [0, 0], [10, 10], method="MH", measure="OR")
    assert not np.isfinite(res.q)
    assert np.isnan(res.i2)
    assert "I^2 = NA%" in res.summary() and "I^2 = 0.0%" not in res.summary()
