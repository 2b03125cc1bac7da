"""Guards, edge cases and result objects of evidence.meta.pooling (values: see
test_reference_core)."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import evidence as ev
from evidence.meta import pooling
from evidence.meta.pooling import estimators
from evidence.meta.pooling import fit as pooling_fit

REF = json.loads((Path(__file__).parent / "reference" / "core.json").read_text())
NORMAND = REF["datasets"]["normand1999_smd"]
Y, V = np.array(NORMAND["yi"]), np.array(NORMAND["vi"])


@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [
        ([0.1, 0.2], [0.1], "unequal lengths"),
        ([0.1, np.nan], [0.1, 0.1], "yi: non-finite value .* position 1"),
        ([0.1, 0.2], [0.1, np.inf], "vi: non-finite value .* position 1"),
        ([0.1, 0.2, 0.3], [0.1, 0.0, 0.2], "vi <= 0 at position 1"),
        ([0.1, 0.2], [-0.1, 0.1], "vi <= 0 at position 0"),
        ([], [], "k = 0"),
        (["a"], [0.1], "yi: values must be numeric"),
    ],
)
def test_guards(yi, vi, message):
    with pytest.raises(ValueError, match=message):
        ev.pool(yi, vi)


def test_unknown_choices_are_rejected():
    for kw in ({"method": "XYZ"}, {"test": "t"}, {"pi": "wide"}):
        with pytest.raises(ValueError, match="unknown"):
            ev.pool(Y, V, **kw)
    with pytest.raises(ValueError, match="labels has 2 entries"):
        ev.pool(Y, V, labels=["a", "b"])


def test_aliases_map_to_canonical_names():
    assert ev.pool(Y, V, method="CE").method == "FE"
    assert ev.pool(Y, V, method="reml").method == "REML"
    assert ev.pool(Y, V, test="KNHA").test == "knha"


def test_single_study_has_undefined_heterogeneity():
    res = ev.pool([0.4], [0.04])
    assert res.k == 1 and res.estimate == 0.4 and res.se == pytest.approx(0.2)
    assert res.tau2 == 0
    for f in ("q", "q_pvalue", "i2", "h2", "tau2_ci_low", "tau2_ci_high"):
        assert np.isnan(getattr(res, f)), f
    assert "heterogeneity is undefined" in res.summary()


def test_tau2_is_floored_at_zero_for_every_estimator():
    y = np.array([0.30, 0.31, 0.29, 0.30])  # far less spread than the variances allow
    v = np.array([0.05, 0.04, 0.06, 0.05])
    for method in pooling.METHODS:
        res = ev.pool(y, v, method=method)
        if method == "SJ":  # Sidik-Jonkman is positive by construction (metafor too)
            assert 0 < res.tau2 < 1e-6
            continue
        assert res.tau2 == 0.0, method
        assert res.i2 == 0.0, method


def test_prediction_interval_rules():
    z = ev.pool(Y, V)
    hig = ev.pool(Y, V, pi="higgins")
    tk1 = ev.pool(Y, V, pi="t_k1")
    half = np.sqrt(z.se**2 + z.tau2)
    assert z.pi_high - z.estimate == pytest.approx(stats.norm.ppf(0.975) * half)
    assert hig.pi_high - hig.estimate == pytest.approx(stats.t.ppf(0.975, Y.size - 2) * half)
    assert tk1.pi_high - tk1.estimate == pytest.approx(stats.t.ppf(0.975, Y.size - 1) * half)
    assert hig.pi_rule == "higgins" and "k-2" in hig.summary()


def test_adhoc_se_never_below_wald():
    wald = ev.pool(Y, V, method="DL")
    kh = ev.pool(Y, V, method="DL", test="knha")
    adhoc = ev.pool(Y, V, method="DL", test="adhoc")
    assert adhoc.se == pytest.approx(max(wald.se, kh.se))


def test_level_changes_interval_width():
    r90 = ev.pool(Y, V, level=90)
    r95 = ev.pool(Y, V)
    assert r90.ci_high - r90.ci_low < r95.ci_high - r95.ci_low
    ratio = (r90.ci_high - r90.ci_low) / (r95.ci_high - r95.ci_low)
    assert ratio == pytest.approx(stats.norm.ppf(0.95) / stats.norm.ppf(0.975))


def test_result_is_frozen_and_outputs_name_the_methods():
    res = ev.pool(
        Y, V, method="PM", test="knha", labels=[f"S{i}" for i in range(Y.size)], measure="SMD"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0.0
    text = res.summary()
    for needed in ("PM (Paule-Mandel)", "Knapp-Hartung", "PI rule", "Q(8)", "measure SMD"):
        assert needed in text
    assert str(res) == text == repr(res)
    html = res._repr_html_()
    assert "<table>" in html and "Random effects, PM, Knapp-Hartung" in html
    frame = res.to_frame()
    assert frame.shape[0] == 1 and frame.loc[0, "estimate"] == res.estimate
    assert {"method", "test", "pi_rule", "tau2_ci_low", "tau"} <= set(frame.columns)
    assert res.weights.sum() == pytest.approx(100.0)
    assert list(res.leave_one_out().index) == list(res.labels)


def test_leave_one_out_rows_equal_separate_fits():
    res = ev.pool(Y, V, method="REML", test="knha")
    loo = res.leave_one_out()
    for i in (0, 4, 8):
        sub = ev.pool(np.delete(Y, i), np.delete(V, i), method="REML", test="knha")
        assert loo["estimate"].iloc[i] == pytest.approx(sub.estimate, abs=1e-10)
        assert loo["tau2"].iloc[i] == pytest.approx(sub.tau2, abs=1e-10)
    cum = res.cumulative()
    assert cum["estimate"].iloc[0] == Y[0]
    assert cum["estimate"].iloc[-1] == pytest.approx(res.estimate, abs=1e-12)


def test_non_convergence_warns_with_iteration_count(monkeypatch):
    monkeypatch.setattr(estimators, "MAX_ITER", 2)  # the iterations
    monkeypatch.setattr(pooling_fit, "MAX_ITER", 2)  # the warning that names the limit
    with pytest.warns(pooling.ConvergenceWarning, match="did not converge within 2 iterations"):
        res = ev.pool(Y, V, method="REML")
    assert not res.converged and "did not converge" in res.summary()


def test_converged_fit_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ev.pool(Y, V, method="ML").converged


def test_pool_binary_guards_and_summary():
    with pytest.raises(ValueError, match="Peto's method pools odds ratios only"):
        ev.pool_binary([1], [10], [2], [10], measure="RR", method="Peto")
    with pytest.raises(ValueError, match="events1: events exceed"):
        ev.pool_binary([11, 1], [10, 10], [2, 1], [10, 10])
    res = ev.pool_binary([0, 3, 2], [10, 20, 20], [0, 6, 5], [10, 20, 20], measure="RR")
    assert res.excluded == (0,) and res.q_df == 1
    assert "no events in either arm" in res.summary() and "<table>" in res._repr_html_()


def test_pool_binary_refuses_empty_input_as_pool_does():
    with pytest.raises(ValueError, match=r"no studies to pool \(k = 0\)"):
        ev.pool([], [])
    for method in ("MH", "Peto"):
        with pytest.raises(ValueError, match=r"no studies to pool \(k = 0\)"):
            ev.pool_binary([], [], [], [], method=method)
    one = ev.pool_binary([4], [50], [8], [50])  # k = 1 is allowed, as by pool
    assert one.k == 1 and np.isnan(one.q) and np.isfinite(one.estimate)


@pytest.mark.parametrize("test", ["z", "knha"])
def test_identical_studies_trim_and_fill(test):
    """Every vi equal: metafor's side rule has no slope; nothing is missing on either side."""
    res = ev.pool([0.2] * 5, [0.1] * 5, test=test)
    tf = res.trim_and_fill()
    assert tf.k0 == 0 and tf.pooled is res and tf.estimate == 0.2 and tf.test == test
    assert ev.trim_and_fill([0.2] * 5, [0.1] * 5).estimate == 0.2
    # unequal effects with equal variances: the side matters, so it must be given
    y = [0.1, 0.2, 0.9, 0.3, 0.25]
    with pytest.raises(ValueError, match="same variance.*pass side='left' or side='right'"):
        ev.trim_and_fill(y, [0.1] * 5)
    assert ev.trim_and_fill(y, [0.1] * 5, side="right").k0 == 1


@pytest.mark.parametrize("vi", [[0.1] * 5, [0.1, 0.2, 0.3, 0.1, 0.05]])
def test_identical_effects_influence_under_knapp_hartung(vi):
    """Zero residuals give a Knapp-Hartung variance of 0: ratios to it are 0/0 (NaN)."""
    res = ev.pool([0.2] * 5, vi, test="knha")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inf = res.influence()
        bj = res.baujat()
    frame = inf.to_frame()
    for col in ("rstudent", "dffits", "cook.d", "cov.r"):
        assert frame[col].isna().all(), col
    assert inf.dfbetas.isna().all().all() and bj["y"].isna().all()
    z = ev.pool([0.2] * 5, vi).influence().to_frame()  # what stays defined is as under z
    for col in ("tau2.del", "QE.del", "hat", "weight"):
        np.testing.assert_allclose(frame[col], z[col], atol=1e-12)
    assert not frame["inf"].any() and np.isfinite(bj["x"]).all()
    x = np.arange(6.0)  # a meta-regression that fits every study exactly
    mr = ev.meta_regression(0.1 + 0.05 * x, [0.1, 0.2, 0.1, 0.3, 0.1, 0.2], {"x": x}, test="knha")
    assert mr.influence().to_frame()["cook.d"].isna().all()


def test_import_does_not_load_matplotlib():
    import subprocess
    import sys

    code = "import sys, evidence; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_analysis_is_one_call_from_a_result():
    import matplotlib.pyplot as plt

    res = ev.pool(Y, V, method="REML", labels=[f"S{i}" for i in range(Y.size)], measure="SMD")
    assert len(res.influence().to_frame()) == res.k
    assert len(res.baujat()) == res.k
    assert len(res.gosh().table) == 2**res.k - 1
    assert np.isfinite(res.egger_test().pvalue) and np.isfinite(res.rank_test().pvalue)
    assert res.trim_and_fill().k0 >= 0 and np.isfinite(res.pet_peese().estimate)
    assert res.equivalence_test(margin=0.25).low == -0.25
    sg = res.subgroups(["a"] * 4 + ["b"] * 5)
    assert sg.method == "REML" and sg.overall.estimate == pytest.approx(res.estimate)
    mr = res.meta_regression({"x": np.arange(Y.size, dtype=float)})
    assert mr.coef.size == 2
    for kind in ("leave_one_out", "cumulative"):
        ax = res.sensitivity_plot(kind)
        assert ax is not None
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="kind must be one of"):
        res.sensitivity_plot("gosh")
    for name in ("influence", "gosh", "bucher", "equivalence_test", "forest_from_frame"):
        assert callable(getattr(ev, name))
