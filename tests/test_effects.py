"""Unit tests for evidence.meta.effects beyond the metafor reference grid (guards, derivations)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import evidence as ev
from evidence.meta.effects import hedges_correction

ARMS = {
    "m1": [10.0, 8.0],
    "sd1": [4.0, 3.0],
    "n1": [20, 15],
    "m2": [12.0, 9.0],
    "sd2": [5.0, 3.5],
    "n2": [20, 16],
}


def test_hedges_correction_tends_to_one_and_matches_approximation():
    m = np.array([10.0, 50.0, 1000.0])
    j = hedges_correction(m)
    assert np.all(j < 1) and np.all(np.diff(j) > 0)
    np.testing.assert_allclose(j, 1 - 3 / (4 * m - 1), rtol=1e-3)


def test_smd_sign_follows_arm_order():
    a = ev.effect_sizes("SMD", **ARMS)
    swapped = {
        "m1": ARMS["m2"],
        "sd1": ARMS["sd2"],
        "n1": ARMS["n2"],
        "m2": ARMS["m1"],
        "sd2": ARMS["sd1"],
        "n2": ARMS["n1"],
    }
    b = ev.effect_sizes("SMD", **swapped)
    np.testing.assert_allclose(a["yi"], -b["yi"])
    np.testing.assert_allclose(a["vi"], b["vi"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sd1": [4.0, -1.0]}, r"sd1: standard deviations must be positive \(position 1"),
        ({"n2": [1, 16]}, r"n2: each arm needs n >= 2 \(position 0"),
        ({"m1": [np.nan, 8.0]}, r"m1: means must be finite numbers \(position 0"),
        ({"m1": ["a", 8.0]}, r"m1: values must be numeric"),
        ({"m1": [1.0]}, r"unequal lengths"),
    ],
)
def test_continuous_guards_name_column_and_position(change, message):
    with pytest.raises(ValueError, match=message):
        ev.effect_sizes("SMD", **{**ARMS, **change})


def test_missing_and_unknown_keywords():
    with pytest.raises(ValueError, match="missing: \\['sd2'\\]"):
        ev.effect_sizes("MD", **{k: v for k, v in ARMS.items() if k != "sd2"})
    with pytest.raises(ValueError, match="unknown measure 'HR'"):
        ev.effect_sizes("HR", **ARMS)


@pytest.mark.parametrize(
    ("cols", "message"),
    [
        ({"events1": [11], "n1": [10], "events2": [1], "n2": [10]}, "events1: events exceed"),
        ({"events1": [-1], "n1": [10], "events2": [1], "n2": [10]}, "events1: counts must be"),
        ({"events1": [1], "n1": [0], "events2": [1], "n2": [10]}, "n1: arm totals"),
    ],
)
def test_binary_guards(cols, message):
    with pytest.raises(ValueError, match=message):
        ev.effect_sizes("OR", **cols)


def test_double_zero_is_kept_by_default_and_dropped_on_request():
    cols = {"events1": [0, 2], "n1": [10, 10], "events2": [0, 5], "n2": [10, 10]}
    kept = ev.effect_sizes("OR", **cols)
    assert kept["yi"][0] == 0.0 and np.isfinite(kept["vi"][0]) and kept["excluded"][0] == ""
    dropped = ev.effect_sizes("OR", drop00=True, **cols)
    assert np.isnan(dropped["yi"][0]) and "no events in either arm" in dropped["excluded"][0]
    assert dropped["yi"][1] == kept["yi"][1]


def test_zero_cell_correction_only_on_tables_with_a_zero():
    out = ev.effect_sizes("OR", events1=[0, 3], n1=[10, 10], events2=[2, 5], n2=[10, 10])
    # second table has no zero cell: plain log OR
    assert out["yi"][1] == pytest.approx(np.log((3 * 5) / (7 * 5)))
    assert out["yi"][0] == pytest.approx(np.log((0.5 * 8.5) / (10.5 * 2.5)))


def test_from_reported_ci_se_and_p_agree():
    yi, se = np.log(0.6), 0.2
    z = stats.norm.ppf(0.975)
    lo, hi = np.exp(yi - z * se), np.exp(yi + z * se)
    from_ci = ev.from_reported([0.6], scale="OR", ci_low=[lo], ci_high=[hi])
    from_se = ev.from_reported([yi], scale="SMD", se=[se])
    p = 2 * stats.norm.sf(abs(yi) / se)
    from_p = ev.from_reported([yi], scale="SMD", pvalue=[p])
    for frame in (from_ci, from_se, from_p):
        assert frame["vi"][0] == pytest.approx(se**2, rel=1e-12)
    assert "95% CI" in from_ci["derivation"][0] and "log(hi)" in from_ci["derivation"][0]
    assert from_p["derivation"][0].startswith("se = |yi| / z")


def test_from_reported_guards():
    with pytest.raises(ValueError, match="exactly one"):
        ev.from_reported([0.3], scale="SMD", se=[0.1], pvalue=[0.2])
    with pytest.raises(ValueError, match="upper CI limit"):
        ev.from_reported([0.3], scale="SMD", ci_low=[0.5], ci_high=[0.1])
    with pytest.raises(ValueError, match="ratio estimates must be positive"):
        ev.from_reported([-0.3], scale="RR", se=[0.1])


# ---- pandas inputs are aligned on their index, never paired by position ----------------------
def test_effect_sizes_refuse_series_with_different_indexes():
    idx = ["s1", "s2"]
    cols = {name: pd.Series(vals, index=idx) for name, vals in ARMS.items()}
    shuffled = dict(cols, m1=cols["m1"].iloc[::-1])  # same values per study, other row order
    with pytest.raises(ValueError, match="m1 and sd1 are pandas objects with different indexes"):
        ev.effect_sizes("SMD", **shuffled)
    # aligned Series: the arrays' answer, indexed by the Series' index
    es = ev.effect_sizes("SMD", **cols)
    assert list(es.index) == idx
    np.testing.assert_array_equal(es["yi"], ev.effect_sizes("SMD", **ARMS)["yi"])
    binary = {"events1": [3, 5], "n1": [10, 12], "events2": [4, 6], "n2": [11, 12]}
    series = {name: pd.Series(vals, index=idx) for name, vals in binary.items()}
    with pytest.raises(ValueError, match="events1 and n1 .* different indexes"):
        ev.effect_sizes("OR", **dict(series, events1=series["events1"].iloc[::-1]))
    assert list(ev.effect_sizes("OR", **series).index) == idx


def test_from_reported_refuses_series_with_different_indexes():
    est = pd.Series([0.5, 2.0], index=["a", "b"])
    lo, hi = pd.Series([0.25, 1.0], index=["a", "b"]), pd.Series([1.0, 4.0], index=["a", "b"])
    with pytest.raises(ValueError, match="estimate and ci_low .* different indexes"):
        ev.from_reported(est, scale="OR", ci_low=lo.iloc[::-1], ci_high=hi)
    with pytest.raises(ValueError, match="estimate and se .* different indexes"):
        ev.from_reported(est, scale="OR", se=pd.Series([0.1, 0.2], index=["b", "a"]))
    out = ev.from_reported(est, scale="OR", ci_low=lo, ci_high=hi)
    assert list(out.index) == ["a", "b"]
    plain = ev.from_reported([0.5, 2.0], scale="OR", ci_low=[0.25, 1.0], ci_high=[1.0, 4.0])
    np.testing.assert_array_equal(out["vi"], plain["vi"])
