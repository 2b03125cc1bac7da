"""Contribution matrix of a network meta-analysis (evidence.meta.nma.contribution).

No R reference: netmeta is not installed here. The matrix is checked by its invariants, by
networks whose shares follow by hand from the flows (derivations in the docstrings), by the
two stream methods agreeing where the stream decomposition is unique, and by second
computations written independently in this file: netmeta's own random-walk algorithm (every
simple path enumerated), a seeded Monte Carlo simulation of the walk, Rucker's (2012) reduced
weights of multi-arm studies (netmeta's ``multiarm()``) and :meth:`NetworkResult.netsplit`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evidence as ev
from evidence.meta.nma import NetworkResult, network_from_arms
from evidence.meta.nma.contribution import CONTRIBUTION_METHODS, _aggregate, _flows, _streams

REF = json.loads((Path(__file__).parent / "reference" / "network.json").read_text())
NETWORKS = ("hasselblad1998", "senn2013", "project_depression")
#: Closed forms and exact stream decompositions: agreement to rounding (values are <= 1).
EXACT = 1e-12
#: Monte Carlo with 10^5 walks per comparison: the standard error of a share is at most
#: sqrt(0.25 / 1e5) = 0.0016, so 1e-2 is over six standard errors.
MONTE_CARLO = 1e-2


def _reference(name: str, method: str) -> NetworkResult:
    net = REF["networks"][name]
    arms = pd.DataFrame(net["arms"])
    return network_from_arms(
        arms, measure=net["measure"], reference=net["reference"], method=method
    )


@pytest.fixture(scope="module")
def fits() -> dict[tuple[str, str], NetworkResult]:
    return {(n, m): _reference(n, m) for n in NETWORKS for m in ("FE", "REML")}


def _two_arm(edges, v, method="FE", y=None):
    """One two-arm trial per (treat1, treat2) in ``edges`` with variances ``v``."""
    t1, t2 = zip(*edges, strict=True)
    y = np.linspace(0.1, 0.5, len(edges)) if y is None else y
    return ev.network(y, v, list(t1), list(t2), list(range(len(edges))), method=method)


def _network_contrasts(res: NetworkResult) -> tuple[np.ndarray, np.ndarray]:
    """Estimate and variance of every pair i vs j (i > j), in the rows' order."""
    d, V = res._full()
    i, j = np.tril_indices(len(res.treatments), -1)
    return d[i] - d[j], V[i, i] + V[j, j] - 2 * V[i, j]


# ---- invariants ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", CONTRIBUTION_METHODS)
@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("model", ["FE", "REML"])
def test_rows_sum_to_one_and_lie_in_the_unit_interval(name, model, method, fits):
    res = fits[(name, model)]
    cm = res.contribution(method)
    T = len(res.treatments)
    assert cm.shape == (T * (T - 1) // 2, len(res.comparisons()))
    comps = res.comparisons()
    assert list(cm.columns) == [
        f"{a} vs {b}" for a, b in zip(comps.treat1, comps.treat2, strict=True)
    ]
    np.testing.assert_allclose(cm.sum(axis=1), 1.0, rtol=0, atol=EXACT)
    assert (cm.to_numpy() >= 0).all()
    assert (cm.to_numpy() <= 1 + EXACT).all()


@pytest.mark.parametrize("method", CONTRIBUTION_METHODS)
def test_a_comparison_with_only_direct_evidence_gets_everything_from_itself(method):
    """D hangs on the loop A-B-C by its one trial vs C: the unit flow from D to C can only run
    along that edge, so "D vs C" is 100% "D vs C"; in a network of two treatments the single
    comparison is 100% its own."""
    res = _two_arm([("B", "A"), ("C", "A"), ("C", "B"), ("D", "C")], [0.04, 0.05, 0.06, 0.03])
    row = res.contribution(method).loc["D vs C"]
    assert row["D vs C"] == pytest.approx(1.0, abs=EXACT)
    assert row.drop("D vs C").abs().max() <= EXACT
    pair = _two_arm([("B", "A"), ("B", "A")], [0.04, 0.05], method="REML")
    assert pair.contribution(method).to_numpy().tolist() == [[pytest.approx(1.0, abs=EXACT)]]


@pytest.mark.parametrize("method", CONTRIBUTION_METHODS)
@pytest.mark.parametrize("v", [(0.05, 0.05, 0.05), (0.02, 0.09, 0.04)])
def test_star_network_by_hand(v, method):
    """Star A-B, A-C, A-D (one trial each, variances ``v``).

    Hand derivation. B and C each have one edge, so the unit flow of "C vs B" leaves C along
    C-A (flow 1) and enters B along A-B (flow 1); D is a dead end (one edge), so by
    conservation of flow at D the flow on A-D is 0. The flow is one stream C -> A -> B of
    length 2: 1/2 from "B vs A" and 1/2 from "C vs A", whatever the precisions (equal in the
    first case, unequal in the second: the weights move no flow in a tree). The hat matrix
    row is the flow itself: +1 on "C vs A" (C -> A), -1 on "B vs A" (A -> B), 0 on "D vs A".
    "B vs A" is one stream of length 1: 100% itself.
    """
    res = _two_arm([("B", "A"), ("C", "A"), ("D", "A")], list(v))
    cm = res.contribution(method)
    np.testing.assert_allclose(cm.loc["C vs B"], [0.5, 0.5, 0.0], rtol=0, atol=EXACT)
    np.testing.assert_allclose(cm.loc["D vs C"], [0.0, 0.5, 0.5], rtol=0, atol=EXACT)
    np.testing.assert_allclose(cm.loc["B vs A"], [1.0, 0.0, 0.0], rtol=0, atol=EXACT)
    np.testing.assert_allclose(res.hat_matrix().loc["C vs B"], [-1, 1, 0], rtol=0, atol=EXACT)


@pytest.mark.parametrize("method", CONTRIBUTION_METHODS)
@pytest.mark.parametrize("model", ["FE", "REML"])
def test_loop_network_by_hand(model, method):
    """Loop A-B, B-C, A-C with one trial each (variances v_AB, v_BC, v_AC).

    Hand derivation. The weights are ``w = 1 / (v + tau^2)`` (tau^2 the network's: 0.283 for
    REML here, 0 for FE). For "B vs A", the hat matrix is the unit flow from B to A in the
    electrical network with conductances w: the direct edge and the path B-C-A (conductance
    ``w_BC w_AC / (w_BC + w_AC)`` in series) share it in proportion to their conductances, so
    the direct edge carries ``f = w_AB / (w_AB + w_BC w_AC / (w_BC + w_AC))`` and each edge
    of the path ``1 - f``. Hat matrix row: (f, 1 - f, -(1 - f)) on (B vs A, C vs A, C vs B)
    (the path runs B -> C against the orientation of "C vs B", then C -> A). Streams: B -> A
    (length 1, flow f) and B -> C -> A (length 2, flow 1 - f), the only decomposition: the
    contributions are f, (1 - f) / 2, (1 - f) / 2 by both methods. Likewise for the other rows
    with the roles of the edges exchanged. ``f`` is also var(network) / var(direct) =
    ``(1 / (w_AB + w_BC w_AC / (w_BC + w_AC))) / (1 / w_AB)``, the direct evidence proportion.
    """
    v = {"B vs A": 0.04, "C vs A": 0.05, "C vs B": 0.06}
    res = _two_arm([("B", "A"), ("C", "A"), ("C", "B")], list(v.values()), model, [0.9, 0.1, 0.2])
    assert (res.tau2 > 0.1) == (model == "REML")
    w = {k: 1.0 / (x + res.tau2) for k, x in v.items()}
    cm, hat, prop = res.contribution(method), res.hat_matrix(), res.direct_evidence_proportion()
    for row in v:
        e1, e2 = (k for k in v if k != row)
        f = w[row] / (w[row] + w[e1] * w[e2] / (w[e1] + w[e2]))
        want = pd.Series({row: f, e1: (1 - f) / 2, e2: (1 - f) / 2})
        np.testing.assert_allclose(cm.loc[row, want.index], want, rtol=0, atol=EXACT)
        np.testing.assert_allclose(hat.loc[row].abs()[want.index], [f, 1 - f, 1 - f], atol=EXACT)
        assert prop[row] == pytest.approx(f, abs=EXACT)
    f = prop["B vs A"]
    np.testing.assert_allclose(hat.loc["B vs A"], [f, 1 - f, -(1 - f)], rtol=0, atol=EXACT)


# ---- the two stream methods -------------------------------------------------------------------


def test_methods_agree_where_the_stream_decomposition_is_unique():
    """A chain A-B-C-D, a star and a loop: every row's flow graph has one decomposition into
    streams (a path, or paths sharing no edge), so the shortest-path streams and the random walk
    give the same matrix; on the chain a pair k edges apart gets 1/k from each edge between."""
    chain = _two_arm([("B", "A"), ("C", "B"), ("D", "C")], [0.04, 0.05, 0.06])
    rw = chain.contribution("randomwalk")
    np.testing.assert_allclose(rw.loc["D vs A"], [1 / 3] * 3, rtol=0, atol=EXACT)
    np.testing.assert_allclose(rw.loc["C vs A"], [0.5, 0.5, 0.0], rtol=0, atol=EXACT)
    star = _two_arm([("B", "A"), ("C", "A"), ("D", "A"), ("E", "A")], [0.04, 0.05, 0.06, 0.1])
    loop = _two_arm(
        [("B", "A"), ("C", "A"), ("C", "B")], [0.04, 0.05, 0.06], "REML", [0.9, 0.1, 0.2]
    )
    for res in (chain, star, loop):
        np.testing.assert_allclose(
            res.contribution("randomwalk"), res.contribution("shortestpath"), rtol=0, atol=EXACT
        )


def test_methods_differ_where_streams_cross(fits):
    """In senn2013 the flows of some rows split and merge again (several decompositions):
    the two methods are different definitions, and differ by about 1%."""
    res = fits[("senn2013", "REML")]
    diff = (res.contribution("randomwalk") - res.contribution("shortestpath")).abs()
    assert diff.to_numpy().max() > 1e-3


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("model", ["FE", "REML"])
def test_shortest_path_streams_decompose_the_flow(name, model, fits):
    """Papakonstantinou's streams of every row are paths from the row's first treatment to its
    second, taken shortest first, and their flows add up to the flow of the hat matrix on every
    edge (the decomposition is complete)."""
    res = fits[(name, model)]
    fl = _flows(res)
    for k, (a, b) in enumerate(fl.pairs):
        streams = _streams(fl.H[k], fl.edges, int(a), int(b), len(res.treatments))
        carried = np.zeros(fl.edges.shape[0])
        lengths = [len(path) for path, _ in streams]
        assert lengths == sorted(lengths)
        for path, flow in streams:
            node = int(a)
            for e in path:  # consecutive edges, each taken along its flow
                i, j = fl.edges[e]
                nxt = j if fl.H[k, e] > 0 else i
                assert node == (i if fl.H[k, e] > 0 else j)
                node = nxt
            assert node == b
            carried[list(path)] += flow
        np.testing.assert_allclose(carried, np.abs(fl.H[k]), rtol=0, atol=EXACT)


def _paths_netmeta(hat_row: pd.Series, treatments, source: str, sink: str) -> pd.Series:
    """netmeta's contribution.matrix.davies for one row, written from its description: the
    transition matrix from the positive flows, every simple path from source to sink
    enumerated, each path's probability divided by its length added to each of its edges."""
    T = len(treatments)
    pos = {t: i for i, t in enumerate(treatments)}
    Q = np.zeros((T, T))
    for label, h in hat_row.items():
        i, j = (pos[t] for t in label.split(" vs "))
        Q[i, j], Q[j, i] = max(h, 0.0), max(-h, 0.0)
    P = Q / np.where(Q.sum(axis=1, keepdims=True) > 0, Q.sum(axis=1, keepdims=True), 1.0)
    share = np.zeros((T, T))

    def walk(path, prob):
        u = path[-1]
        if u == pos[sink]:
            for x, y in zip(path[:-1], path[1:], strict=True):
                share[x, y] += prob / (len(path) - 1)
            return
        for v in np.flatnonzero(P[u] > 0):
            if v not in path:
                walk(path + [int(v)], prob * P[u, v])

    walk([pos[source]], 1.0)
    return pd.Series(
        {
            label: share[pos[a], pos[b]] + share[pos[b], pos[a]]
            for label in hat_row.index
            for a, b in [label.split(" vs ")]
        }
    )


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("model", ["FE", "REML"])
def test_random_walk_closed_form_equals_enumerating_the_paths(name, model, fits):
    res = fits[(name, model)]
    cm, hat = res.contribution("randomwalk"), res.hat_matrix()
    for row in cm.index:
        a, b = row.split(" vs ")
        want = _paths_netmeta(hat.loc[row], res.treatments, a, b)
        np.testing.assert_allclose(cm.loc[row], want[cm.columns], rtol=0, atol=EXACT, err_msg=row)


def _simulate(hat_row: pd.Series, treatments, source: str, sink: str, n: int, rng) -> pd.Series:
    """``n`` random walks from source to sink along the positive flows (each step to a
    neighbour with probability proportional to the flow to it); each walk of length L adds 1/L
    to each edge it used; the mean over walks."""
    T = len(treatments)
    pos = {t: i for i, t in enumerate(treatments)}
    Q = np.zeros((T, T))
    for label, h in hat_row.items():
        i, j = (pos[t] for t in label.split(" vs "))
        Q[i, j], Q[j, i] = max(h, 0.0), max(-h, 0.0)
    cum = np.cumsum(Q, axis=1)
    at = np.full(n, pos[source])
    steps = []
    while (at != pos[sink]).any():
        moving = at != pos[sink]
        u = rng.random(n) * cum[at, -1]
        nxt = np.where(moving, np.minimum((cum[at] <= u[:, None]).sum(axis=1), T - 1), at)
        steps.append((at.copy(), nxt, moving))
        at = nxt
    length = sum(m.astype(float) for _, _, m in steps)
    share = np.zeros((T, T))
    for u, v, m in steps:
        np.add.at(share, (u[m], v[m]), 1.0 / length[m])
    share /= n
    return pd.Series(
        {
            label: share[pos[a], pos[b]] + share[pos[b], pos[a]]
            for label in hat_row.index
            for a, b in [label.split(" vs ")]
        }
    )


def test_random_walk_closed_form_agrees_with_a_simulation(fits):
    rng = np.random.default_rng(20240624)
    res = fits[("senn2013", "REML")]  # 10 treatments, 45 rows, a three-arm trial
    cm, hat = res.contribution("randomwalk"), res.hat_matrix()
    for row in cm.index:
        a, b = row.split(" vs ")
        got = _simulate(hat.loc[row], res.treatments, a, b, 100_000, rng)
        np.testing.assert_allclose(cm.loc[row], got[cm.columns], rtol=0, atol=MONTE_CARLO)


# ---- the hat matrix is the model's -------------------------------------------------------------


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("model", ["FE", "REML"])
def test_hat_matrix_reproduces_the_network_variances(name, model, fits):
    """With independent direct estimates of variance 1 / w_e, the network estimate sum_e H y_e
    has variance sum_e H^2 / w_e: it is the fitted model's (tau^2 included, multi-arm trials
    by their information)."""
    res = fits[(name, model)]
    _, w = _aggregate(res)
    H = res.hat_matrix().to_numpy()
    _, var = _network_contrasts(res)
    np.testing.assert_allclose((H**2 / w).sum(axis=1), var, rtol=1e-10, atol=0)


def _rucker(res: NetworkResult):
    """Per study, netmeta's multiarm(): the pairwise variances r_ij of the study's arms (plus
    tau^2) to the Laplacian L = (-1/2 C R C)^+ (C centring), reduced weights -L_ij; each pair's
    own estimate from the study. Returns {pair: [(weight, estimate), ...]}."""
    T = len(res.treatments)
    Xf = np.column_stack([-res._X.sum(axis=1), res._X])
    st = np.array(res.study, dtype=object)
    out: dict[tuple[int, int], list] = {}
    for s in dict.fromkeys(res.study):
        r = np.flatnonzero(st == s)
        arms = np.flatnonzero(np.abs(Xf[r]).sum(axis=0))
        k = arms.size
        est, var = np.zeros((k, k)), np.zeros((k, k))
        for x in range(k):
            for y in range(k):
                if x != y:
                    c = np.zeros(T)
                    c[arms[x]], c[arms[y]] = 1.0, -1.0
                    lw = np.linalg.lstsq(Xf[r].T, c, rcond=None)[0]
                    est[x, y] = lw @ res.yi[r]
                    var[x, y] = lw @ res.cov[np.ix_(r, r)] @ lw + res.tau2
        centre = np.eye(k) - 1.0 / k
        L = np.linalg.pinv(-0.5 * centre @ var @ centre)
        for x in range(k):
            for y in range(x):
                key = tuple(sorted((arms[x], arms[y]), reverse=True))
                ex, ey = (x, y) if arms[x] > arms[y] else (y, x)
                out.setdefault(key, []).append((-L[x, y], est[ex, ey]))
    return out


@pytest.mark.parametrize("name", ["hasselblad1998", "senn2013"])
@pytest.mark.parametrize("model", ["FE", "REML"])
def test_multi_arm_weights_are_ruckers_and_the_hat_matrix_gives_the_estimates(name, model, fits):
    """For covariances that derive from arm variances (OR, MD) the weights of the direct
    comparisons are Rucker's reduced weights summed over studies (as netmeta's
    hatmatrix.aggr), and H applied to the aggregated direct estimates (the weighted mean of the
    studies' own estimates) gives the network estimates. (SMD covariances do not derive from
    arm variances exactly; there only the information route reproduces the fit, which the
    variance test above checks.)"""
    res = fits[(name, model)]
    edges, w = _aggregate(res)
    ruck = _rucker(res)
    assert sorted(ruck) == sorted(map(tuple, edges.tolist()))
    w_r = np.array([sum(x for x, _ in ruck[tuple(e)]) for e in edges.tolist()])
    np.testing.assert_allclose(w, w_r, rtol=1e-10, atol=0)
    y = np.array([sum(x * t for x, t in ruck[tuple(e)]) for e in edges.tolist()]) / w_r
    est, _ = _network_contrasts(res)
    np.testing.assert_allclose(res.hat_matrix().to_numpy() @ y, est, rtol=0, atol=1e-10)


# ---- direct evidence proportion ---------------------------------------------------------------


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("model", ["FE", "REML"])
def test_direct_evidence_proportion_is_netsplits_direct_share(name, model, fits):
    res = fits[(name, model)]
    prop = res.direct_evidence_proportion()
    sp = res.netsplit().set_index("comparison")["direct_share"]
    np.testing.assert_allclose(prop[sp.index], sp, rtol=0, atol=EXACT)
    assert (prop.drop(sp.index) == 0).all()
    assert len(prop) == len(res.treatments) * (len(res.treatments) - 1) // 2


@pytest.mark.parametrize("method", CONTRIBUTION_METHODS)
def test_two_arm_network_own_contribution_is_the_direct_proportion(method):
    """Without multi-arm trials the weight of a direct comparison is 1 / var(direct), so the
    hat matrix's diagonal ``w_e var(network)`` is the direct proportion; a simple path from a
    to b through the edge a-b is that edge alone, so its contribution is its flow, by both
    stream methods."""
    edges = [("B", "A"), ("C", "A"), ("C", "B"), ("D", "B"), ("D", "C"), ("D", "A"), ("E", "D")]
    res = _two_arm(edges + edges[:3], np.linspace(0.03, 0.12, 10), "REML", np.sin(np.arange(10)))
    prop = res.direct_evidence_proportion()
    cm, hat = res.contribution(method), res.hat_matrix()
    for col in cm.columns:
        assert cm.loc[col, col] == pytest.approx(prop[col], abs=EXACT)
        assert hat.loc[col, col] == pytest.approx(prop[col], abs=EXACT)


# ---- guards -----------------------------------------------------------------------------------


def test_unknown_method_is_refused():
    res = _two_arm([("B", "A")], [0.04])
    with pytest.raises(ValueError, match="unknown method 'paths'"):
        res.contribution("paths")
    assert res.contribution("RandomWalk").shape == (1, 1)


def test_negative_reduced_weight_is_refused():
    """A four-arm trial whose covariances do not derive from arm variances can give a pair of
    its arms a negative weight: the flows are then not acyclic and there are no streams; the
    hat matrix itself is still defined."""
    V = np.array([[1.0, 0.5, 0.1], [0.5, 1.0, 0.9], [0.1, 0.9, 1.0]])
    cov = np.zeros((4, 4))
    cov[:3, :3], cov[3, 3] = V, 0.5
    res = ev.network(
        [0.1, 0.2, 0.3, 0.1],
        [1, 1, 1, 0.5],
        ["B", "C", "D", "B"],
        ["A", "A", "A", "C"],
        [1, 1, 1, 2],
        cov=cov,
        method="FE",
    )
    with pytest.raises(ValueError, match=r"direct comparison D vs B is negative \(-17.5\)"):
        res.contribution()
    assert np.isfinite(res.hat_matrix().to_numpy()).all()


def test_small_negative_reduced_weight_is_set_to_zero_as_netmeta():
    """A four-arm trial A, B, C, D whose arm A is nearly exact (covariances 1e-3) but whose
    B-A and C-A contrasts are given covariance 0 instead of 1e-3: its information gives B-C the
    weight -1e-6, less than 0.1% of the trial's total, which netmeta's multiarm() sets to 0. The
    weight of "C vs B" is then exactly that of the two-arm trial 2 (1 / 0.5)."""
    e = 1e-3
    cov = np.zeros((5, 5))
    cov[:3, :3] = [[1 + e, 0.0, e], [0.0, 1 + e, e], [e, e, 1 + e]]
    cov[3, 3], cov[4, 4] = 0.5, 0.3
    res = ev.network(
        [0.1, 0.2, 0.3, 0.1, 0.2],
        np.diag(cov),
        ["B", "C", "D", "C", "D"],
        ["A", "A", "A", "B", "C"],
        [1, 1, 1, 2, 3],
        cov=cov,
        method="FE",
    )
    edges, w = _aggregate(res)
    labels = [f"{res.treatments[i]} vs {res.treatments[j]}" for i, j in edges]
    assert w[labels.index("C vs B")] == 2.0
    cm = res.contribution()
    np.testing.assert_allclose(cm.sum(axis=1), 1.0, rtol=0, atol=EXACT)
    assert (cm.to_numpy() >= 0).all()
