"""Analyses against metafor 3.8 (reference values from tools/make_reference_analyses.R).

Every number compared here was written by the committed R script into
tests/reference/analyses.json (R calls named next to each test); CI regenerates the file and
fails if it differs, so no reference is typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence import pool
from evidence.meta.analyses import (
    aggregate_effects,
    baujat,
    egger_test,
    gosh,
    influence,
    meta_regression,
    rank_test,
    subgroups,
    three_level,
    trim_and_fill,
)

REF = json.loads((Path(__file__).parent / "reference" / "analyses.json").read_text())

#: The project's promise for every estimator: both sides converge tau^2 to 1e-12 (metafor
#: control threshold/tol 1e-12), so estimates, SEs, tests and diagnostics agree far inside 1e-6.
TOL = 1e-6
#: Statistics in the hundreds (Q, QM, I^2 in percent) carry the same relative error, so they
#: are compared relative to their size as well.
RTOL = 1e-8
#: Permutation p-values are counts over N enumerated permutations (N <= 360 here), so any real
#: difference is at least 1/N > 1e-4: this tolerance demands identical counts.
TOL_PERM = 1e-4
#: rma.mv's nlminb optimiser stops at rel.tol = 1e-10 (tighter settings fail to converge on
#: boundary fits), so variance components agree to about 1e-9; 1e-6 keeps a wide margin.
TOL_MV = 1e-6


def _arr(x) -> np.ndarray:
    """JSON value (scalar, list, null) as a float array; null (R's NA/Inf) becomes NaN."""
    if x is None:
        return np.array([np.nan])
    return np.array([np.nan if v is None else v for v in np.atleast_1d(x)], dtype=float)


def _list(x) -> list:
    """jsonlite unboxes length-1 vectors: turn scalars back into lists."""
    if x is None:
        return []
    return list(x) if isinstance(x, list) else [x]


def _close(got, want, what, atol=TOL, rtol=RTOL):
    want = _arr(want)
    got = np.atleast_1d(np.asarray(got, dtype=float))
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs {want.shape}"
    missing = np.isnan(want)
    assert np.all(~np.isfinite(got[missing])), f"{what}: metafor gives NA/Inf"
    np.testing.assert_allclose(got[~missing], want[~missing], atol=atol, rtol=rtol, err_msg=what)


def _data(name):
    d = REF["datasets"][name]
    return np.asarray(d["yi"], float), np.asarray(d["vi"], float), d["mods"]


def _mods(d_mods, names, rows=None):
    out = {}
    for n in names:
        col = _list(d_mods[n])
        out[n] = col if rows is None else [col[i - 1] for i in rows]
    return pd.DataFrame(out)


def _id(case, *keys):
    return "-".join(
        str(case[k]) if not isinstance(case[k], list) else "+".join(case[k]) for k in keys
    )


# ---- grid completeness ---------------------------------------------------------------------

EXPECTED = {
    "subgroups": 8,
    "regressions": 8 * (9 * 2 - 1),
    "permutations": 4,
    "aggregates": 2 * 3,
    "three_level": 2 * 2,
    "influence": 7,
    "gosh": 3,
    "regtests": 5 * 5,
    "ranktests": 5,
    "trimfills": 5 * 3,
}


def test_reference_grid_is_complete():
    """Coverage cannot quietly shrink: every section holds its full grid of cases."""
    for section, n in EXPECTED.items():
        assert len(REF[section]) == n, section
    assert set(REF["datasets"]) == {"bcg", "normand1999", "hackshaw1998", "molloy2014", "project"}
    assert set(REF["multilevel"]) == {"konstantopoulos2011", "project"}
    methods = {(c["method"], c["test"]) for c in REF["regressions"]}
    assert len(methods) == 17
    assert {c["method"] for c in REF["trimfills"]} == {"FE", "DL", "REML"}
    assert {(c["model"], c["predictor"]) for c in REF["regtests"]} == {
        ("lm", "sei"),
        ("lm", "vi"),
        ("rma", "sei"),
    }
    for section in (
        "subgroups",
        "regressions",
        "influence",
        "regtests",
        "ranktests",
        "trimfills",
        "aggregates",
        "three_level",
    ):
        assert any(c["dataset"] == "project" for c in REF[section]), section
    meta = REF["meta"]
    assert meta["metafor"].startswith("3.8") and meta["control"]["threshold"] == 1e-12


# ---- subgroups: rma(yi, vi, subset = g == l); rma(est, sei = se, mods = ~ group, "FE") -------


@pytest.mark.parametrize(
    "case", REF["subgroups"], ids=lambda c: _id(c, "dataset", "method", "test")
)
def test_subgroups_separate(case):
    y, v, mods = _data(case["dataset"])
    res = subgroups(y, v, _list(mods[case["by"]]), method=case["method"], test=case["test"])
    ref = case["separate"]
    for g in ref["groups"]:
        row = res.table.loc[g["group"]]
        for col in ("k", "estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q", "q_pvalue"):
            _close(row[col], g[col], f"{g['group']} {col}")
    assert list(res.results) == [g["group"] for g in ref["groups"]]
    _close(res.q_between, ref["q_between"], "Q between")
    assert res.q_between_df == ref["q_between_df"]
    _close(res.q_between_pvalue, ref["q_between_pvalue"], "Q between p")


@pytest.mark.parametrize(
    "case", REF["subgroups"], ids=lambda c: _id(c, "dataset", "method", "test")
)
def test_subgroups_common(case):
    """rma(yi, vi, mods = ~ factor(g)) for QM and tau^2; ~ factor(g) - 1 for group estimates."""
    y, v, mods = _data(case["dataset"])
    res = subgroups(
        y, v, _list(mods[case["by"]]), method=case["method"], test=case["test"], tau2="common"
    )
    ref = case["common"]
    _close(res.tau2_common, ref["tau2"], "common tau2")
    _close(res.q_between, ref["q_between"], "QM")
    assert res.q_between_df == ref["q_between_df"]
    _close(res.q_between_pvalue, ref["q_between_pvalue"], "QM p")
    for g in ref["groups"]:
        r = res.results[g["group"]]
        for col in ("estimate", "se", "ci_low", "ci_high"):
            _close(getattr(r, col), g[col], f"{g['group']} {col}")


# ---- meta-regression: rma(yi, vi, mods = ~ ..., method, test) --------------------------------


@pytest.mark.parametrize(
    "case", REF["regressions"], ids=lambda c: _id(c, "dataset", "mods", "method", "test")
)
def test_meta_regression(case):
    y, v, mods = _data(case["dataset"])
    res = meta_regression(
        y, v, _mods(mods, _list(case["mods"])), method=case["method"], test=case["test"]
    )
    assert list(res.names) == _list(case["names"])
    for key, got in (
        ("coef", res.coef),
        ("se", res.se),
        ("statistic", res.statistic),
        ("pvalue", res.pvalue),
        ("ci_low", res.ci_low),
        ("ci_high", res.ci_high),
        ("tau2", res.tau2),
        ("qm", res.qm),
        ("qm_pvalue", res.qm_pvalue),
        ("qe", res.qe),
        ("qe_pvalue", res.qe_pvalue),
        ("i2", res.i2),
        ("h2", res.h2),
        ("r2", res.r2),
    ):
        _close(got, case[key], key)


# ---- permutation tests: permutest(rma(...), exact = TRUE) -------------------------------------


@pytest.mark.parametrize(
    "case", REF["permutations"], ids=lambda c: _id(c, "dataset", "method", "test")
)
def test_exact_permutation_test(case):
    """Exact tests enumerate every distinct permutation, so they do not depend on any RNG."""
    y, v, mods = _data(case["dataset"])
    rows = _list(case["rows"])
    names = _list(case["mods"])
    m = _mods(mods, names, rows) if names else None
    idx = np.asarray(rows) - 1
    res = meta_regression(y[idx], v[idx], m, method=case["method"], test=case["test"])
    perm = res.permutation_test(n=1000, seed=1)
    assert perm.exact
    assert perm.n == case["n"]
    _close(perm.statistic, case["statistic"], "observed statistics")
    _close(perm.qm, case["qm"], "observed QM")
    _close(perm.pvalues, case["pvalues"], "permutation p", atol=TOL_PERM)
    _close(perm.qm_pvalue, case["qm_pvalue"], "permutation QM p", atol=TOL_PERM)


# ---- dependent effects: aggregate(escalc, cluster, rho); rma.mv(random = ~ 1 | trial/effect) --


@pytest.mark.parametrize("case", REF["aggregates"], ids=lambda c: _id(c, "dataset", "rho"))
def test_aggregate(case):
    d = REF["multilevel"][case["dataset"]]
    agg = aggregate_effects(d["yi"], d["vi"], d["trial"], rho=case["rho"])
    assert [str(c) for c in agg.index] == [str(c) for c in _list(case["cluster"])]
    _close(agg["yi"], case["yi"], "aggregated yi")
    _close(agg["vi"], case["vi"], "aggregated vi")


@pytest.mark.parametrize("case", REF["three_level"], ids=lambda c: _id(c, "dataset", "test"))
def test_three_level(case):
    d = REF["multilevel"][case["dataset"]]
    res = three_level(d["yi"], d["vi"], d["trial"], d["effect"], test=case["test"])
    _close(res.sigma2, case["sigma2"], "sigma2", atol=TOL_MV)
    for key in (
        "estimate",
        "se",
        "statistic",
        "pvalue",
        "ci_low",
        "ci_high",
        "q",
        "q_pvalue",
        "loglik",
    ):
        _close(getattr(res, key), case[key], key, atol=TOL_MV)


# ---- influence() and baujat() ------------------------------------------------------------------


def _fit(case):
    y, v, mods = _data(case["dataset"])
    names = _list(case["mods"])
    if names:
        return meta_regression(y, v, _mods(mods, names), method=case["method"], test=case["test"])
    return pool(y, v, method=case["method"], test=case["test"])


@pytest.mark.parametrize(
    "case", REF["influence"], ids=lambda c: _id(c, "dataset", "mods", "method", "test")
)
def test_influence(case):
    res = _fit(case)
    inf = influence(res)
    for key in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight"):
        _close(getattr(inf, key), case[key], key)
    assert inf.inf.tolist() == _list(case["inf"])
    assert list(inf.dfbetas.columns) == list(case["dfbetas"])
    for name in inf.dfbetas.columns:
        _close(inf.dfbetas[name], case["dfbetas"][name], f"dfbetas {name}")
    b = baujat(res)
    _close(b["x"], case["baujat_x"], "baujat x")
    _close(b["y"], case["baujat_y"], "baujat y")


# ---- gosh() ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", REF["gosh"], ids=lambda c: _id(c, "dataset", "method"))
def test_gosh(case):
    y, v, _ = _data(case["dataset"])
    idx = np.asarray(_list(case["rows"])) - 1
    g = gosh(y[idx], v[idx], method=case["method"])
    assert g.exact and len(g.table) == len(case["k"])
    for col in ("k", "QE", "I2", "H2", "tau2", "estimate"):
        _close(g.table[col], case[col], col)


# ---- regtest(), ranktest(), trimfill() -----------------------------------------------------------


@pytest.mark.parametrize(
    "case", REF["regtests"], ids=lambda c: _id(c, "dataset", "model", "predictor", "method", "test")
)
def test_regtest(case):
    y, v, _ = _data(case["dataset"])
    e = egger_test(
        y,
        v,
        model=case["model"],
        predictor=case["predictor"],
        method=case["method"],
        test=case["test"],
    )
    _close(e.statistic, case["statistic"], "statistic")
    _close(e.pvalue, case["pvalue"], "pvalue")
    if case["df"] is not None:
        assert e.df == case["df"]
    _close(e.limit_estimate, case["limit_estimate"], "limit estimate")
    _close(e.limit_ci_low, case["limit_ci_low"], "limit ci low")
    _close(e.limit_ci_high, case["limit_ci_high"], "limit ci high")


@pytest.mark.parametrize("case", REF["ranktests"], ids=lambda c: c["dataset"])
def test_ranktest(case):
    y, v, _ = _data(case["dataset"])
    r = rank_test(y, v)
    _close(r.tau, case["tau"], "Kendall tau")
    _close(r.pvalue, case["pvalue"], "p")


@pytest.mark.parametrize("case", REF["trimfills"], ids=lambda c: _id(c, "dataset", "method"))
def test_trimfill(case):
    """k0 and side must agree exactly; the filled model then agrees at the usual 1e-6."""
    y, v, _ = _data(case["dataset"])
    tf = trim_and_fill(y, v, method=case["method"])
    assert tf.k0 == case["k0"] and tf.side == case["side"]
    for key in ("se_k0", "estimate", "se", "ci_low", "ci_high", "pvalue", "tau2"):
        _close(getattr(tf, key), case[key], key)
