"""The statistical core against metafor 3.8 (reference values from tools/make_reference.R).

Every number compared here was written by the committed R script into tests/reference/core.json;
.ci/run regenerates that file and fails if it differs, so no reference is typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import evidence as ev

REF = json.loads((Path(__file__).parent / "reference" / "core.json").read_text())

#: Closed-form quantities (effect sizes, FE/DL/HE/HS/SJ fits, MH, Peto): only floating-point
#: rounding separates us from metafor, and the JSON keeps 15 significant digits.
TOL_CLOSED = 1e-9
#: Iterative estimators (PM, EB, ML, REML) and Q-profile limits: both sides converge to 1e-12 on
#: tau^2, so estimates agree far inside the 1e-6 the project promises.
TOL_ITERATIVE = 1e-7
#: I^2 is reported in percent (values up to 100), so its absolute error is 100x that of tau^2.
TOL_PERCENT = 1e-5
#: Q-profile limits on extreme data (tau^2 in the tens): relative agreement.
RTOL_QPROFILE = 1e-7

METHODS = ("FE", "DL", "HE", "HS", "SJ", "PM", "EB", "ML", "REML")
TESTS = ("z", "knha", "adhoc")
FIELDS = (
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_low",
    "ci_high",
    "tau2",
    "q",
    "q_pvalue",
    "pi_low",
    "pi_high",
)


def _tol(method: str) -> float:
    return TOL_ITERATIVE if method in ("PM", "EB", "ML", "REML") else TOL_CLOSED


def _close(got, want, atol, what):
    """Compare at an absolute tolerance; R's non-finite values (Inf, NaN) arrive as JSON null."""
    want = np.asarray([np.nan if w is None else w for w in np.atleast_1d(want)], float)
    got = np.atleast_1d(np.asarray(got, float))
    missing = np.isnan(want)
    assert np.all(~np.isfinite(got[missing])), f"{what}: metafor gives a non-finite value"
    np.testing.assert_allclose(got[~missing], want[~missing], atol=atol, rtol=0, err_msg=what)


def _scale(x) -> float:
    return 1.0 if x is None else max(1.0, abs(x))


def test_reference_grid_is_complete():
    datasets = set(REF["datasets"])
    assert len(datasets) >= 8
    kinds = " ".join(d["kind"] for d in REF["datasets"].values())
    for needed in (
        "SMD from means",
        "log RR from counts",
        "log OR",
        "k = 160",
        "k = 2",
        "boundary",
        "1/1000",
        "extreme",
    ):
        assert needed in kinds
    grid = {(f["dataset"], f["method"], f["test"]) for f in REF["fits"]}
    assert grid == {(d, m, t) for d in datasets for m in METHODS for t in TESTS}
    qp = {(f["dataset"], f["method"]) for f in REF["qprofile"]}
    assert qp == {(d, m) for d in datasets for m in METHODS if m != "FE"}
    assert {(b["data"], b["method"], b["measure"]) for b in REF["binary"]} == {
        (d, m, s)
        for d in ("bcg", "nielweise2007")
        for m, s in [("MH", "OR"), ("MH", "RR"), ("MH", "RD"), ("Peto", "OR")]
    }
    assert len(REF["effects"]) == 8
    assert len(REF["sensitivity"]) == 4 * 4 * 2
    assert REF["meta"]["metafor"].startswith("3.8")


@pytest.mark.parametrize(
    "row", REF["fits"], ids=lambda r: f"{r['dataset']}-{r['method']}-{r['test']}"
)
def test_pool_matches_rma(row):
    d = REF["datasets"][row["dataset"]]
    res = ev.pool(d["yi"], d["vi"], method=row["method"], test=row["test"])
    tol = _tol(row["method"])
    for f in FIELDS:
        _close(getattr(res, f), row[f], tol * _scale(row[f]), f)
    _close(res.i2, row["i2"], TOL_PERCENT, "i2")
    _close(res.h2, row["h2"], TOL_PERCENT * _scale(row["h2"]), "h2")
    assert res.k == row["k"] and res.method == row["method"] and res.test == row["test"]


@pytest.mark.parametrize("row", REF["qprofile"], ids=lambda r: f"{r['dataset']}-{r['method']}")
def test_q_profile_matches_confint(row):
    d = REF["datasets"][row["dataset"]]
    res = ev.pool(d["yi"], d["vi"], method=row["method"])
    for f in ("tau2_ci_low", "tau2_ci_high"):
        np.testing.assert_allclose(
            getattr(res, f), row[f], rtol=RTOL_QPROFILE, atol=TOL_ITERATIVE, err_msg=f
        )


@pytest.mark.parametrize(
    "row", REF["sensitivity"], ids=lambda r: f"{r['dataset']}-{r['method']}-{r['test']}"
)
def test_leave_one_out_and_cumulative(row):
    d = REF["datasets"][row["dataset"]]
    res = ev.pool(d["yi"], d["vi"], method=row["method"], test=row["test"])
    tol = _tol(row["method"])
    for kind, frame in (("leave1out", res.leave_one_out()), ("cumul", res.cumulative())):
        want = row[kind]
        multi = frame["k"].to_numpy() > 1  # k = 1 rows: heterogeneity is NaN by design
        for f in ("estimate", "se", "ci_low", "ci_high", "tau2"):
            _close(frame[f], want[f], tol * 10, f"{kind} {f}")
        _close(frame["q"][multi], np.asarray(want["q"])[multi], tol * 10, f"{kind} q")
        _close(frame["i2"][multi], np.asarray(want["i2"])[multi], TOL_PERCENT, f"{kind} i2")


@pytest.mark.parametrize("name", sorted(REF["effects"]))
def test_effect_sizes_match_escalc(name):
    data, measure = name.rsplit("_", 1)
    raw = REF["raw"][data]
    if measure in ("SMD", "MD"):
        cols = {
            "m1": raw["m1i"],
            "sd1": raw["sd1i"],
            "n1": raw["n1i"],
            "m2": raw["m2i"],
            "sd2": raw["sd2i"],
            "n2": raw["n2i"],
        }
    else:
        cols = raw
    got = ev.effect_sizes(measure, **cols)
    want = REF["effects"][name]
    _close(got["yi"], want["yi"], TOL_CLOSED, "yi")
    _close(got["vi"], want["vi"], TOL_CLOSED, "vi")


@pytest.mark.parametrize(
    "row", REF["binary"], ids=lambda r: f"{r['data']}-{r['method']}-{r['measure']}"
)
def test_pool_binary_matches_rma_mh_and_peto(row):
    raw = REF["raw"][row["data"]]
    res = ev.pool_binary(
        raw["events1"],
        raw["n1"],
        raw["events2"],
        raw["n2"],
        measure=row["measure"],
        method=row["method"],
    )
    for f in ("estimate", "se", "q", "ci_low", "ci_high"):
        _close(getattr(res, f), row[f], TOL_CLOSED * _scale(row[f]), f)
