"""The network engine at scale (issue 27): what makes it linear in the number of studies.

The numbers themselves are checked against metafor by tests/test_network.py (unchanged); these
tests check the pieces that replace the dense computations: the per-study whitening, the
column components of the design-by-treatment model, the partitioned inverse of the split models,
the rank checks without an SVD per comparison, and the memory of the design-by-treatment fit.
No timings (benchmarks/bench_network.py prints those).
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from evidence.meta.nma import network_from_arms

REF = json.loads((Path(__file__).parent / "reference" / "network.json").read_text())


def _simulated(k: int = 300, treatments: int = 40, seed: int = 27):
    """Seeded arm-level network: a chain through every treatment (connected), then random
    pairs, one study in ten with three arms; fitted by REML."""
    rng = np.random.default_rng(seed)
    true = rng.normal(0.0, 0.3, treatments)
    rows = []
    for s in range(k):
        size = 3 if s >= treatments - 1 and rng.random() < 0.1 else 2
        arms = [s, s + 1] if s < treatments - 1 else rng.choice(treatments, size, replace=False)
        for a in arms:
            n = int(rng.integers(20, 200))
            rows.append((f"s{s:04d}", f"T{a:02d}", true[a] + rng.normal(0, 0.15 + 1 / n**0.5), n))
    arms = pd.DataFrame(rows, columns=["study", "treatment", "mean", "n"]).assign(sd=1.0)
    return network_from_arms(arms, measure="MD", method="REML")


@pytest.fixture(scope="module")
def large():
    return _simulated()


def _oriented(method: str = "REML"):
    import evidence as ev

    net = REF["oriented"]["multiarm"]
    c = net["contrasts"]
    return ev.network(
        c["yi"],
        c["vi"],
        c["treat1"],
        c["treat2"],
        c["study"],
        cov=np.array(net["V"], dtype=float),
        reference=net["reference"],
        method=method,
    )


def _dense(res) -> tuple[np.ndarray, np.ndarray]:
    """V and R of every contrast as full (n, n) matrices."""
    n = res.n_contrasts
    V, R = np.zeros((n, n)), np.zeros((n, n))
    for idx, Vg, Rg in res._blocks.groups:
        V[idx[:, :, None], idx[:, None, :]] = Vg
        R[idx[:, :, None], idx[:, None, :]] = Rg
    return V, R


def test_whitener_turns_v_and_r_diagonal():
    """T V T' = I and T R T' = diag(lam), so M = V + tau^2 R is diag(1 + tau^2 lam) after T;
    log|V| is that of the dense V (a network with three- and four-arm studies, R with -1/2)."""
    res = _oriented()
    T, lam, logdet_v = res._blocks.whitener
    V, R = _dense(res)
    T = T.toarray()
    np.testing.assert_allclose(T @ V @ T.T, np.eye(V.shape[0]), atol=1e-12)
    np.testing.assert_allclose(T @ R @ T.T, np.diag(lam), atol=1e-12)
    assert logdet_v == pytest.approx(np.linalg.slogdet(V)[1], rel=1e-12)


@pytest.mark.parametrize("tau2", [0.0, 0.03, 1.7])
def test_whitened_gls_is_the_dense_gls(tau2):
    """beta, (X'WX)^-1, r'Wr, log|M|, log|X'WX|, the REML score and tr(P R) of the whitened
    design equal the textbook formulas with the dense W = (V + tau^2 R)^-1."""
    from evidence.meta.nma.model import _Design, _gls_d

    res = _oriented()
    V, R = _dense(res)
    X, y = res._X, res.yi
    W = np.linalg.inv(V + tau2 * R)
    A = X.T @ W @ X
    beta = np.linalg.solve(A, X.T @ W @ y)
    r = y - X @ beta
    P = W - W @ X @ np.linalg.solve(A, X.T @ W)
    got = _gls_d(_Design.build(res._blocks, X, y), tau2, score=True)
    want = {
        "beta": beta,
        "vcov": np.linalg.inv(A),
        "rwr": r @ W @ r,
        "logdet_m": np.linalg.slogdet(V + tau2 * R)[1],
        "logdet_a": np.linalg.slogdet(A)[1],
        "trace_pr": np.trace(P @ R),
        "score": -0.5 * (np.trace(P @ R) - r @ W @ R @ W @ r),
    }
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-10, atol=1e-12, err_msg=key)


def test_design_by_treatment_model_is_fitted_block_wise(large):
    """Z'WZ is block diagonal by design: the design-by-treatment fit works on one small block
    per design (columns: the design's treatments but one), not on a dense (p, p) matrix."""
    from evidence.meta.nma.inconsistency import _design_matrix
    from evidence.meta.nma.model import _Design

    codes, names, Z, owner = _design_matrix(large)
    d = _Design.build(large._blocks, Z, large.yi, components=True)
    arms = max(len(a) for a in large._study_arms().values())
    assert d.cols.shape == (len(names), arms - 1)
    assert sorted(d.cols[d.cols >= 0]) == list(range(Z.shape[1]))
    assert all(set(owner[c[c >= 0]]) == {owner[c[0]]} for c in d.cols)  # one design each
    # the columns of each design are the old dense construction
    t1, t2 = np.array(large.treat1, dtype=object), np.array(large.treat2, dtype=object)
    des = np.array(names, dtype=object)[codes]
    dense = np.column_stack(
        [
            (des == g) * ((t1 == t).astype(float) - (t2 == t))
            for g in names
            for t in g.split(":")[1:]
        ]
    )
    np.testing.assert_array_equal(Z.toarray(), dense)


def test_inconsistency_memory_is_linear_in_the_network(large):
    """The design-by-treatment REML fit of 300 studies x 40 treatments (about 280 interaction
    columns) allocates a few MB: the dense fit held (grid, p, p) and (grid, p, studies) arrays,
    about 100 MB here and 1.8 GB at 2,000 studies."""
    tracemalloc.start()
    try:
        inc = large.inconsistency()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert inc.loc["between designs", "df"] > 200
    assert peak < 20e6, f"peak {peak / 1e6:.0f} MB"


def test_per_comparison_methods_need_no_svd_of_the_design(monkeypatch):
    """split, netsplit and design_decomposition decide identifiability, connectivity and which
    columns add rank by projections and graph components, not by an SVD of the (n, p) design
    per comparison (O(n p^2) each, most of split()'s time at 2,000 studies)."""

    def refuse(*args, **kwargs):
        raise AssertionError("np.linalg.matrix_rank called")

    small = _simulated(k=60, treatments=8, seed=5)
    monkeypatch.setattr(np.linalg, "matrix_rank", refuse)
    monkeypatch.setattr(np.linalg, "svd", refuse)
    assert small.split()["identifiable"].any()
    assert (small.netsplit()["indirect_method"] == "SIDDE").any()
    assert len(small.design_decomposition().designs) > 1


def test_split_design_shares_the_consistency_design(large):
    """The split model's design is the consistency design with the indicator appended (products
    moved, not recomputed) and its restricted likelihood on the first REML grid comes from the
    consistency fits by the partitioned inverse: both equal a fresh build."""
    from evidence.meta.nma.model import (
        _Design,
        _grid_fits,
        _ll_grid,
        _ll_with_column,
        _reml_grid,
    )

    X, y, blk = large._X, large.yi, large._blocks
    base = _Design.build(blk, X, y)
    fits = _grid_fits(base, _reml_grid(base))
    st = np.array(large.study, dtype=object)
    split = large.split()
    split = split[split["identifiable"]]
    assert len(split) > 100
    for a, b in split[["treat1", "treat2"]].to_numpy()[[0, len(split) // 2, -1]]:
        held = [s for s, arms in large._study_arms().items() if {a, b} <= arms]
        t1, t2 = np.array(large.treat1, dtype=object), np.array(large.treat2, dtype=object)
        ind = np.isin(st, held) * ((t1 == a).astype(float) - (t2 == a))
        z = blk.whitener[0] @ ind
        got = base.with_column(z)
        want = _Design.build(blk, np.column_stack([X, ind]), y)
        for key in ("gram", "lin", "x"):
            g, w = (sparse.csr_matrix(getattr(d, key)).toarray() for d in (got, want))
            np.testing.assert_allclose(g, w, atol=1e-14)
        grid = _reml_grid(base)
        np.testing.assert_allclose(_ll_with_column(base, fits, z), _ll_grid(want, grid), rtol=1e-11)


def test_new_columns_match_the_rank_of_the_augmented_design(large):
    """The columns kept to detach a design are those that add to the rank, in order, as
    np.linalg.matrix_rank decides (metafor drops redundant moderators so)."""
    from evidence.meta.nma.inconsistency import _design_matrix
    from evidence.meta.nma.model import _new_columns

    _, _, Z, owner = _design_matrix(large)
    X = large._X
    Q = np.linalg.qr(X)[0]
    Z = Z.toarray()
    for g in np.unique(owner)[::7]:
        E = Z[:, owner == g]
        want, cur = [], X
        for col in E.T:
            cand = np.column_stack([cur, col])
            add = np.linalg.matrix_rank(cand) > np.linalg.matrix_rank(cur)
            want.append(add)
            cur = cand if add else cur
        assert _new_columns(Q, E).tolist() == want


def test_rank_of_the_design_by_treatment_matrix_block_by_block(large):
    """rank(Z) from the designs' blocks equals the SVD rank of the dense Z, also when a design's
    columns are dependent (a four-arm study given as B-A and D-C only: its design A:B:C:D has
    three columns of rank two)."""
    import evidence as ev
    from evidence.meta.nma.inconsistency import _design_matrix, _rank_by_design
    from evidence.meta.nma.model import _Design

    v = np.full(7, 0.1)
    t1, t2 = ["B", "D", "B", "C", "D", "C", "D"], ["A", "C", "A", "A", "C", "B", "B"]
    gap = ev.network(np.arange(7) / 10, v, t1, t2, [1, 1, 2, 3, 4, 5, 6], cov=np.diag(v))
    for res in (large, gap):
        Z = _design_matrix(res)[2]
        cols = _Design.build(res._blocks, Z, res.yi, components=True).cols
        assert _rank_by_design(Z, cols) == np.linalg.matrix_rank(Z.toarray())
    assert np.linalg.matrix_rank(Z.toarray()) < Z.shape[1]
