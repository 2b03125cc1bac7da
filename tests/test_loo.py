"""Leave-one-out at large k (evidence/meta/pooling/loo.py) against the batch engine.

The leave-one-out backend runs the batch engine's estimators on prefix/suffix sums and series in
tau^2 instead of a (fits x k) mask; the two must give the same fits (agreement against metafor
is tests/test_reference_core.py's, through the batch engine). Below ``loo.FAST_K`` studies
``leave_one_out`` is the batch engine itself, so the tests force the backend on with
``monkeypatch`` where they use the small reference data sets.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import evidence as ev
from evidence.meta import pooling
from evidence.meta.pooling import fit as pooling_fit
from evidence.meta.pooling import fit_leave_one_out, fit_masks, loo

REF = Path(__file__).parent / "reference"
CORE = json.loads((REF / "core.json").read_text())["datasets"]
HARD = json.loads((REF / "hard.json").read_text())["datasets"]

#: The two engines add the same terms in a different order (prefix sums, series in tau^2 with
#: a remainder below 2^-60): measured differences are below 1e-11 of each quantity's scale.
RTOL = 1e-10
METHODS = ("FE", "DL", "HE", "HS", "SJ", "PM", "EB", "ML", "REML")
LOCATION = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")


def _batch(y, v, **settings):
    k = y.size
    return fit_masks(y, v, lambda a, b: np.arange(k) != np.arange(a, b)[:, None], k, **settings)


def _scale(key, want, fit, v):
    """Each quantity's natural scale: locations by the SE, tau^2 by the variances, p-values and
    I^2 on their own ranges."""
    if key in LOCATION:
        return np.maximum(np.abs(want), fit["se"])
    if key == "tau2":
        return np.maximum(np.abs(want), v.mean())
    if key in ("pvalue", "q_pvalue"):
        return 1.0
    if key == "i2":
        return 100.0
    return np.maximum(np.abs(want), 1.0 if key in ("statistic", "q", "h2") else 0.0)


def _assert_same(got, want, v, what):
    assert got.keys() <= want.keys()
    np.testing.assert_array_equal(got["k"], want["k"], err_msg=what)
    for key in (*LOCATION, "se", "statistic", "pvalue", "tau2", "i2", "h2", "q", "q_pvalue"):
        g, w = np.asarray(got[key], float), np.asarray(want[key], float)
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=f"{what} {key} NaN")
        ok = ~np.isnan(w)
        with np.errstate(invalid="ignore"):  # equal infinities count as equal
            err = np.where(g[ok] == w[ok], 0.0, np.abs(g[ok] - w[ok]))
        bound = RTOL * np.broadcast_to(_scale(key, w, want, v), w.shape)[ok]
        assert np.all(err <= bound), f"{what} {key}: {np.max(err - bound):.2e} beyond"


def _fit_both(y, v, method, test):
    """Both engines; also whether each warned of a local maximum."""
    out = []
    for fit in (fit_leave_one_out, _batch):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            res = fit(y, v, method=method, test=test)
        out += [res, any(issubclass(w.category, pooling.LocalMaximumWarning) for w in rec)]
    return out


@pytest.mark.parametrize("name", sorted(n for n, d in CORE.items() if len(d["yi"]) >= 3))
def test_backend_equals_batch_engine_on_reference_data(monkeypatch, name):
    monkeypatch.setattr(loo, "FAST_K", 3)
    y, v = np.array(CORE[name]["yi"], float), np.array(CORE[name]["vi"], float)
    for method in METHODS:
        for test in ("z", "knha", "adhoc"):
            got, warned, want, batch_warned = _fit_both(y, v, method, test)
            _assert_same(got, want, v, f"{name} {method} {test}")
            assert warned == batch_warned


def test_backend_equals_batch_engine_where_likelihoods_have_local_maxima(monkeypatch):
    """hard.json: one very precise study beside imprecise ones; leave-one-out fits there need
    the global-maximum safeguard, whose polishing the backend hands to the batch engine."""
    monkeypatch.setattr(loo, "FAST_K", 3)
    moved = 0
    for i, d in enumerate(HARD):
        y, v = np.array(d["yi"], float), np.array(d["vi"], float)
        for method in ("PM", "ML", "REML"):
            got, warned, want, batch_warned = _fit_both(y, v, method, "knha")
            _assert_same(got, want, v, f"hard {i} {method}")
            assert warned == batch_warned, f"hard {i} {method}"
            moved += warned
    assert moved >= 1  # the local-maximum path ran


def test_large_k_edge_cases_and_exact_zeros():
    rng = np.random.default_rng(12)
    k = loo.FAST_K + 37
    v = rng.uniform(0.01, 0.2, k)
    cases = {
        "identical effects": (np.full(k, 0.37), v),
        "one dominant study": (rng.normal(0.2, 0.4, k), np.r_[1e-7, v[1:]]),
        "far from zero": (rng.normal(0.2, 0.4, k) + 1e4, v),
        "tiny scale": (rng.normal(0.2, 0.4, k) * 1e-8, v * 1e-16),
        "an outlier": (np.r_[50.0, rng.normal(0.2, 0.1, k - 1)], v),
    }
    for name, (y, vi) in cases.items():
        for method in ("DL", "SJ", "PM", "ML", "REML"):
            got, _, want, _ = _fit_both(y, vi, method, "knha")
            _assert_same(got, want, vi, f"{name} {method}")
    got = fit_leave_one_out(np.full(k, 0.37), v, method="REML", test="knha")
    assert np.all(got["q"] == 0) and np.all(got["tau2"] == 0) and np.all(got["se"] == 0)
    assert np.all(got["estimate"] == 0.37)


def test_leave_one_out_uses_the_backend_from_fast_k(monkeypatch):
    """From FAST_K studies ``leave_one_out`` never builds the (fits x k) batch."""
    rng = np.random.default_rng(13)
    k = loo.FAST_K
    v = rng.uniform(0.01, 0.2, k)
    y = rng.normal(0.3, np.sqrt(v + 0.05))
    res = ev.pool(y, v, method="REML", test="knha", labels=[f"s{i}" for i in range(k)])
    want = _batch(y, v, method="REML", test="knha")

    def refuse(*args, **kwargs):
        raise AssertionError("the O(k^2) batch engine ran")

    monkeypatch.setattr(pooling_fit, "fit_batch", refuse)
    frame = res.leave_one_out()
    assert list(frame.index) == list(res.labels)
    _assert_same({c: frame[c].to_numpy() for c in frame.columns}, want, v, "leave_one_out")


def test_series_sums_equal_direct_sums():
    """The sums behind every estimator, at per-fit tau^2 spread over several clusters (several
    series centres, and fits too far from any centre summed directly)."""
    rng = np.random.default_rng(14)
    k = 300
    y, v = rng.normal(0, 1, k), rng.uniform(0.01, 0.5, k)
    data = loo.LeaveOneOut(y, v)
    rows = rng.permutation(k)[:250]
    t = np.concatenate([0.1 + 1e-4 * rng.random(100), 2.0 + 0.2 * rng.random(100)])
    t = np.concatenate([t, 10 ** rng.uniform(-3, 2, 50)])
    got, got_log = data.sums(rows, t)
    want, want_log = data._direct(rows, t)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13 * np.abs(want).max())
    np.testing.assert_allclose(got_log, want_log, rtol=1e-13)
