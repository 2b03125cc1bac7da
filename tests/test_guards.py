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


IDX = list("abcdef")
YS, VS = pd.Series(Y, index=IDX), pd.Series(V, index=IDX)
X = pd.DataFrame({"x": np.arange(6.0), "z": [1.0, 0.0, 2.0, 1.0, 3.0, 0.0]}, index=IDX)


def test_meta_regression_refuses_moderators_with_another_index():
    ref = ev.meta_regression(Y, V, X.to_numpy())
    with pytest.raises(ValueError, match="vi and moderators are pandas objects with different"):
        ev.meta_regression(YS, VS, X.iloc[::-1])  # used to flip the slope's sign
    with pytest.raises(ValueError, match=r"moderators\['x'\] .* different indexes"):
        ev.meta_regression(YS, VS, {"x": X["x"].iloc[::-1]})
    with pytest.raises(ValueError, match="different indexes"):
        ev.meta_regression(Y, V, {"x": X["x"], "z": X["z"].iloc[::-1]})
    # aligned pandas inputs give the arrays' answer
    np.testing.assert_allclose(ev.meta_regression(YS, VS, X).coef, ref.coef, rtol=1e-12)
    np.testing.assert_allclose(
        ev.meta_regression(YS, VS, X.iloc[::-1].sort_index()).coef, ref.coef, rtol=1e-12
    )


def test_pool_binary_refuses_counts_with_another_index():
    counts = ([4, 6, 3], [50, 60, 40], [8, 10, 9], [50, 58, 41])
    s = [pd.Series(c, index=["p", "q", "r"]) for c in counts]
    with pytest.raises(ValueError, match="events1 and n1 are pandas objects with different"):
        ev.pool_binary(s[0].iloc[::-1], *s[1:])
    with pytest.raises(ValueError, match="n2 and labels .* different indexes"):
        ev.pool_binary(*s, labels=pd.Series(["P", "Q", "R"], index=["r", "q", "p"]))
    assert ev.pool_binary(*s).estimate == pytest.approx(ev.pool_binary(*counts).estimate)


def test_pool_refuses_labels_with_another_index():
    with pytest.raises(ValueError, match="vi and labels .* different indexes"):
        ev.pool(YS, VS, labels=pd.Series(IDX, index=IDX[::-1]))
    assert ev.pool(YS, VS, labels=pd.Series(IDX, index=IDX)).study_labels == tuple(IDX)


def test_clusters_must_share_the_index_of_the_effects():
    trial = pd.Series(["t1", "t1", "t2", "t2", "t3", "t4"], index=IDX)
    with pytest.raises(ValueError, match="vi and cluster .* different indexes"):
        ev.aggregate_effects(YS, VS, trial.iloc[::-1])
    with pytest.raises(ValueError, match="vi and cluster .* different indexes"):
        ev.rho_sensitivity(YS, VS, trial.iloc[::-1])
    with pytest.raises(ValueError, match="vi and trial .* different indexes"):
        ev.three_level(YS, VS, trial.iloc[::-1])
    effect = pd.Series(["e1", "e2", "e1", "e2", "e1", "e1"], index=IDX)
    with pytest.raises(ValueError, match="trial and effect .* different indexes"):
        ev.three_level(YS, VS, trial, effect.iloc[::-1])
    agg = ev.aggregate_effects(YS, VS, trial)
    pd.testing.assert_frame_equal(agg, ev.aggregate_effects(Y, V, list(trial)))
    a, b = ev.three_level(YS, VS, trial, effect), ev.three_level(Y, V, list(trial), list(effect))
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)


def test_level_is_checked_wherever_it_is_taken():
    """A result's own analyses take an explicit level (it used to be ignored), and the batch
    engines read 0.95 as 95% as pool does (they used to read it as 0.95%)."""
    res = ev.pool(Y, V)
    for bad in (150, 0.05, "95"):
        with pytest.raises(ValueError, match="level"):
            res.egger_test(level=bad)
        with pytest.raises(ValueError, match="level"):
            ev.pet_peese(res, level=bad)
    assert res.egger_test(level=90).limit_ci_high < res.egger_test().limit_ci_high
    r90 = ev.pool(Y, V, level=90)
    assert r90.egger_test().limit_ci_high == res.egger_test(level=90).limit_ci_high
    assert r90.pet_peese().ci_high == pytest.approx(ev.pet_peese(Y, V, level=90).ci_high)
    from evidence.meta.pooling import fit_batch, q_profile
    from evidence.meta.regression import fit_regression_batch

    one = np.ones((1, Y.size), bool)
    a, b = fit_batch(Y[None], V[None], one, level=95), fit_batch(Y[None], V[None], one, level=0.95)
    assert a["ci_low"] == pytest.approx(b["ci_low"]) and a["ci_low"] == pytest.approx(res.ci_low)
    assert q_profile(Y, V, level=0.95) == pytest.approx(q_profile(Y, V, level=95))
    Xd = np.column_stack([np.ones(6), np.arange(6.0)])
    c = fit_regression_batch(Y[None], V[None], one, Xd, level=0.95)
    d = fit_regression_batch(Y[None], V[None], one, Xd, level=95)
    np.testing.assert_allclose(c["ci_low"], d["ci_low"])
    for call in (
        lambda: fit_batch(Y[None], V[None], one, level=150),
        lambda: q_profile(Y, V, level=float("nan")),
        lambda: fit_regression_batch(Y[None], V[None], one, Xd, level=0),
    ):
        with pytest.raises(ValueError, match="level"):
            call()


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
