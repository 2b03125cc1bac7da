"""Exact p-values of Kendall's tau without ties (evidence/meta/kendall.py), for Begg's test.

metafor's ``ranktest`` calls R's ``cor.test(method = "kendall", exact = TRUE)``; scipy's
``kendalltau(method="exact")`` runs the same O(n c) recursion, so it is the reference here (the
metafor values for the committed data sets are in tests/test_analyses_reference.py). R's
exact p-value is NaN from n = 171 on (its counts overflow), so larger n have no R reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evidence.meta import kendall
from evidence.meta.bias import rank_test
from evidence.meta.kendall import kendall_exact_pvalue

#: The recursion and the Fourier inversion are both exact in exact arithmetic; rounding stays
#: below this relative error (measured: 3e-13 down to p = 1e-100)...
RTOL = 1e-12
#: ...and below this in the far tail, where p = exp(K - theta c) with |K - theta c| > 230.
TAIL_RTOL = 1e-11


def _discordant(x, y) -> int:
    n = x.size
    tau = stats.kendalltau(x, y).statistic
    return round(n * (n - 1) // 2 * (1 - tau) / 2)


def test_matches_scipy_exact_p():
    rng = np.random.default_rng(21)
    for n in (3, 4, 5, 8, 12, 33, 60, 171, 250):
        for rho in (0.0, 0.3, 0.8, -0.6):
            x = rng.normal(size=n)
            y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
            want = stats.kendalltau(x, y, method="exact").pvalue
            got = kendall_exact_pvalue(n, _discordant(x, y))
            assert got == pytest.approx(want, rel=RTOL, abs=1e-300), (n, rho)


def test_fourier_inversion_equals_recursion(monkeypatch):
    """The O(n^2) path forced on for every n, against the O(n c) recursion, p >= 1e-300."""
    monkeypatch.setattr(kendall, "DIRECT_CELLS", 0)
    checked = 0
    for n in (12, 20, 40, 100, 171, 400):
        total = n * (n - 1) // 2
        for c in np.unique(np.linspace(1, (total - 1) // 2, 40).astype(int)):
            want = kendall._p_recursion(n, int(c))
            if want < 1e-300:
                continue
            rtol = RTOL if want >= 1e-100 else TAIL_RTOL
            assert kendall_exact_pvalue(n, int(c)) == pytest.approx(want, rel=rtol), (n, c)
            checked += 1
    assert checked > 150


def test_symmetry_and_small_cases():
    assert kendall_exact_pvalue(1, 0) == 1.0
    assert kendall_exact_pvalue(2, 0) == kendall_exact_pvalue(2, 1) == 1.0
    assert kendall_exact_pvalue(4, 3) == 1.0  # c = N/2
    assert kendall_exact_pvalue(5, 0) == pytest.approx(2 / 120, rel=1e-15)
    assert kendall_exact_pvalue(5, 1) == pytest.approx(2 * 5 / 120, rel=1e-15)
    for n, c in ((30, 100), (900, 150_000)):
        total = n * (n - 1) // 2
        assert kendall_exact_pvalue(n, c) == kendall_exact_pvalue(n, total - c)
    assert kendall_exact_pvalue(3000, 10_000) == 0.0  # below the smallest double


@pytest.mark.parametrize(
    ("n", "c", "match"),
    [(0, 0, "n must be an integer >= 1"), (5, -1, "c must be"), (5, 11, "exceeds the 10 pairs")],
)
def test_invalid_arguments(n, c, match):
    with pytest.raises(ValueError, match=match):
        kendall_exact_pvalue(n, c)
    with pytest.raises(ValueError, match="must be an integer"):
        kendall_exact_pvalue(5.5, 2)


def test_rank_test_at_large_k_is_exact_without_the_cubic_recursion(monkeypatch):
    """rank_test at k = 700 (past the recursion's cut-off) gives scipy's exact p-value without
    ever asking scipy for it (that recursion is O(k^3): minutes at k = 5,000)."""
    rng = np.random.default_rng(22)
    k = 700
    v = rng.uniform(0.01, 0.2, k)
    y = rng.normal(0.0, np.sqrt(v + 0.02)) + 0.3 * np.sqrt(v)
    w = 1 / v
    ystar = (y - np.sum(w * y) / w.sum()) / np.sqrt(v - 1 / w.sum())
    want = stats.kendalltau(ystar, v, method="exact")
    assert k * (_discordant(ystar, v) + 1) > kendall.DIRECT_CELLS
    real = stats.kendalltau

    def no_exact(x, y, **kwargs):
        if kwargs.get("method") == "exact" and np.size(x) > 500:
            raise AssertionError("the O(k^3) exact recursion ran")
        return real(x, y, **kwargs)

    monkeypatch.setattr(stats, "kendalltau", no_exact)
    res = rank_test(y, v)
    assert res.exact and res.k == k
    assert res.tau == want.statistic
    assert res.pvalue == pytest.approx(want.pvalue, rel=RTOL)
