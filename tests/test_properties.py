"""Standing property suite (issue 9, section 5) and agreement with metafor on generated data.

Reference values: tools/make_reference_random.R -> tests/reference/random.json (250 data sets,
every estimator). Properties are checked with hypothesis, derandomized (seeded) so that every
run tries the same examples.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evidence as ev
from evidence.meta import pooling
from evidence.meta.pooling.estimators import _loglik

REF = json.loads((Path(__file__).parent / "reference" / "random.json").read_text())
METHODS = ("FE", "DL", "HE", "HS", "SJ", "PM", "EB", "ML", "REML")
#: Closed-form estimators: floating-point rounding only (JSON keeps 15 significant digits).
TOL_CLOSED = 1e-9
#: Iterative estimators: both sides converge to 1e-12 on tau^2.
TOL_ITERATIVE = 1e-7
#: Invariance checks compare two fits of the same model in double precision.
RTOL_INVARIANCE = 1e-7
#: Global-optimum property: no dense-profile point may beat the fit by more.
LL_SLACK = 1e-8
PROPS = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_random_grid_is_complete():
    assert len(REF["sets"]) == 250
    assert all(set(s["fits"]) == set(METHODS) for s in REF["sets"])
    assert REF["meta"]["metafor"].startswith("3.8")


def _ll(y, v, t, method):
    t = np.atleast_1d(np.asarray(t, float))
    B = t.size
    yy, vv = np.broadcast_to(y, (B, y.size)), np.broadcast_to(v, (B, y.size))
    return _loglik(method == "REML")(yy, vv, np.ones((B, y.size)), t)


@pytest.mark.parametrize("method", METHODS)
def test_agreement_with_metafor_on_generated_data(method):
    tol = TOL_ITERATIVE if method in ("PM", "EB", "ML", "REML") else TOL_CLOSED
    checked = moved = 0
    for i, s in enumerate(REF["sets"]):
        y, v = np.array(s["yi"], float), np.array(s["vi"], float)
        ref = s["fits"][method]
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            res = ev.pool(y, v, method=method)
        if "error" in ref:  # metafor's Fisher scoring did not converge: we must be global
            assert method in ("ML", "REML", "EB")
            continue
        local = [w for w in rec if issubclass(w.category, pooling.LocalMaximumWarning)]
        if local:  # metafor stopped at a local maximum: ours is higher, and we said so
            moved += 1
            assert _ll(y, v, res.tau2, method)[0] > ref["loglik"] + 1e-9, i
            continue
        scale = max(1.0, abs(ref["estimate"]))
        assert res.estimate == pytest.approx(ref["estimate"], abs=tol * scale), i
        assert res.se == pytest.approx(ref["se"], abs=tol * scale), i
        assert res.tau2 == pytest.approx(ref["tau2"], abs=tol * max(1.0, ref["tau2"])), i
        checked += 1
    assert checked >= 245 and moved <= 5


finite = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
variance = st.floats(0.001, 1.0, allow_nan=False, allow_infinity=False)


@st.composite
def datasets(draw, min_k=2, max_k=12):
    k = draw(st.integers(min_k, max_k))
    y = np.array(draw(st.lists(finite, min_size=k, max_size=k)))
    v = np.array(draw(st.lists(variance, min_size=k, max_size=k)))
    return y, v


def _fit(y, v, method, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ev.pool(y, v, method=method, **kw)


def _same(a, b, fields=("estimate", "se", "tau2", "pvalue", "q", "i2")):
    for f in fields:
        x, z = getattr(a, f), getattr(b, f)
        if np.isnan(x):
            assert np.isnan(z), f
        else:
            assert z == pytest.approx(x, rel=RTOL_INVARIANCE, abs=1e-10), f


@PROPS
@given(datasets(), st.sampled_from(METHODS), st.randoms(use_true_random=False))
def test_order_invariance(data, method, rnd):
    y, v = data
    perm = np.array(rnd.sample(range(y.size), y.size))
    _same(_fit(y, v, method), _fit(y[perm], v[perm], method))


@PROPS
@given(datasets(), st.sampled_from(METHODS), st.floats(-50, 50))
def test_shift_invariance(data, method, c):
    y, v = data
    a, b = _fit(y, v, method), _fit(y + c, v, method)
    assert b.estimate == pytest.approx(a.estimate + c, rel=RTOL_INVARIANCE, abs=1e-9)
    _same(a, b, ("se", "tau2", "q", "i2"))


@PROPS
@given(
    datasets(),
    st.sampled_from(METHODS),
    st.sampled_from([1e-6, 1e-3, 0.5, 7.0, 1e3, 1e5]),
    st.sampled_from(["z", "knha"]),
)
def test_scale_invariance(data, method, c, test):
    """Scaling yi by c and vi by c^2 scales the estimate by c and tau^2 by c^2; p unchanged."""
    y, v = data
    a, b = _fit(y, v, method, test=test), _fit(c * y, c**2 * v, method, test=test)
    assert b.estimate == pytest.approx(c * a.estimate, rel=RTOL_INVARIANCE, abs=1e-12 * c)
    assert b.se == pytest.approx(c * a.se, rel=RTOL_INVARIANCE)
    assert b.tau2 == pytest.approx(c**2 * a.tau2, rel=1e-6, abs=1e-10 * c**2)
    for f in ("pvalue", "q", "i2", "q_pvalue"):
        x, z = getattr(a, f), getattr(b, f)
        assert (np.isnan(x) and np.isnan(z)) or z == pytest.approx(x, rel=1e-6, abs=1e-9), f


DENSE = np.r_[0.0, np.geomspace(1e-8, 1.0, 3000)]


@PROPS
@given(datasets(min_k=3, max_k=9), st.sampled_from(["ML", "REML"]), st.booleans())
def test_global_optimum_property(data, method, precise):
    y, v = data
    if precise:  # the hard kind: one very precise study beside imprecise ones
        v = np.r_[0.0005, 0.2 + 0.1 * v[1:]]
    res = _fit(y, v, method)
    grid = DENSE * max(1.0, 2 * np.ptp(y) ** 2 + v.max())
    assert _ll(y, v, res.tau2, method)[0] >= _ll(y, v, grid, method).max() - LL_SLACK
