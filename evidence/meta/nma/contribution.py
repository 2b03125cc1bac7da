"""Network meta-analysis, the contribution matrix: what share of each network estimate comes
from each direct comparison (the "percentage contribution" CINeMA judges certainty by).

Certainty stage. For every pair of treatments (a row) :meth:`NetworkResult.contribution` gives
the share of the network estimate contributed by each direct comparison (a column: a pair of
treatments compared head to head in at least one trial); every row sums to 1. The definitions
are netmeta's ``netcontrib()`` (netmeta 3.6-2, files ``R/netcontrib.R``,
``R/contribution.matrix.R``, ``R/hatmatrix.R`` (``hatmatrix.aggr``) and ``R/multiarm.R``),
written anew:

1. **Weights of the direct comparisons.** A study contributes the information matrix
   ``I_s = X_s' (V_s + tau^2 R_s)^-1 X_s`` of its contrasts (all treatments as columns): a
   weighted graph Laplacian on its arms, whose off-diagonal entries are minus the weights of the
   study's pairs of arms. That is ``1 / (v + tau^2)`` for a two-arm study and Rucker's (2012)
   reduced weights for a multi-arm study (netmeta's ``multiarm()`` derives the same Laplacian
   from the study's pairwise variances; as there, a negative weight smaller than 0.1% of the
   study's total absolute weight is set to 0). A direct comparison's weight ``w_e`` is the sum
   over the studies that hold both treatments; tau^2 is the network's (0 for a common-effect
   fit), as netmeta's random-effects matrix uses ``seTE.adj.random``.
2. **The aggregated hat matrix** (netmeta ``hatmatrix.aggr``, Davies et al. 2022, type
   "long"). With ``B`` the incidence of the direct comparisons and ``L = B' diag(w) B`` (the
   network's information: ``L^+`` gives ``vcov``), the network estimate of a vs b is
   ``sum_e H[ab, e] y_e`` over the direct estimates ``y_e``, with
   ``H[ab, e] = w_e (phi_i - phi_j)`` for the direct comparison e = i vs j and the potentials
   ``phi = L^+ (e_a - e_b)``. Row ab is a *unit flow* from a to b on the graph of direct
   comparisons (:meth:`NetworkResult.hat_matrix`); it runs from higher to lower potential, so
   the flow graph is acyclic.
3. **Streams.** The flow is split into streams, paths from a to b each carrying part of the
   unit flow; a stream of ``l`` edges carrying ``f`` gives ``f / l`` to each of its edges, and
   an edge's contribution is the sum over the streams through it.

   ``"shortestpath"`` (Papakonstantinou et al. 2018, F1000Research 7:610; netmeta's default):
   repeatedly take a shortest path (fewest edges) from a to b among the edges with flow left;
   it carries the smallest flow left on its edges, which is subtracted from each of them.
   Where several shortest paths tie, the first found by a breadth-first search that follows
   the direct comparisons in column order is taken (netmeta takes igraph's first; where the
   decomposition is not unique the two can differ).

   ``"randomwalk"`` (Davies et al. 2022, Stat Med 41:2091): the streams are the paths of a
   random walk from a that leaves every node along an outgoing edge with probability
   proportional to its flow (transition matrix ``P``) until it reaches b; a path's flow is
   its probability. Closed form (the walk reaches u in i steps, takes u -> v, then reaches b in
   j steps, ``i + j + 1`` edges in all)::

       contribution(u -> v) = P_uv sum_{i, j >= 0} (P^i)_{a u} (P^j)_{v b} / (i + j + 1)

   a finite sum (``P`` is nilpotent: the flow graph is acyclic) that weights the powers of
   ``P`` with the Hilbert matrix ``1 / (i + j + 1)``. netmeta enumerates every path instead.

:meth:`NetworkResult.direct_evidence_proportion` is netmeta's ``P.random`` (``P.common``):
the variance of the network estimate over that of the direct estimate.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .inputs import _name

#: Methods of :meth:`NetworkResult.contribution`.
CONTRIBUTION_METHODS = ("randomwalk", "shortestpath")
#: netmeta's multiarm(): a negative reduced weight below this share of the study's total
#: absolute weight is set to 0.
_NEGATIVE_SHARE = 1e-3


@dataclass(frozen=True)
class _Flows:
    """The aggregated hat matrix of a network: ``pairs`` (K, 2) treatment positions (i, j),
    i > j, of the rows; ``edges`` (E, 2) those of the direct comparisons; ``w`` (E,) their
    weights; ``H`` (K, E) the flow of row k along edge e, from ``edges[e, 0]`` to
    ``edges[e, 1]`` when positive."""

    treatments: tuple[str, ...]
    pairs: np.ndarray
    edges: np.ndarray
    w: np.ndarray
    H: np.ndarray

    def labels(self, idx: np.ndarray) -> list[str]:
        return [f"{self.treatments[i]} vs {self.treatments[j]}" for i, j in idx]

    def frame(self, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            values,
            index=pd.Index(self.labels(self.pairs), name="comparison"),
            columns=pd.Index(self.labels(self.edges), name="direct"),
        )


def _lower_pairs(T: int) -> np.ndarray:
    """All (i, j), i > j, in the order of :meth:`NetworkResult.comparisons`."""
    i, j = np.tril_indices(T, -1)
    return np.column_stack([i, j])


def _study_laplacians(res, tau2: float) -> np.ndarray:
    """Information matrices ``X_s' (V_s + tau2 R_s)^-1 X_s`` (S, T, T), all treatments."""
    X = np.column_stack([-res._X.sum(axis=1), res._X])  # the reference column restored
    out = []
    for idx, V, R in res._blocks.groups:
        Xg = X[idx]
        W = np.linalg.inv(V + tau2 * R)
        out.append(np.einsum("sbi,sbc,sct->sit", Xg, W, Xg))
    return np.concatenate(out)


def _aggregate(res) -> tuple[np.ndarray, np.ndarray]:
    """Direct comparisons (E, 2) and their weights (E,) at the network's tau^2 (see 1. in the
    module docstring)."""
    T = len(res.treatments)
    weights = -_study_laplacians(res, res.tau2)
    weights[:, np.arange(T), np.arange(T)] = 0.0
    lower = np.tril(np.ones((T, T), dtype=bool), -1)
    total = np.abs(weights[:, lower]).sum(axis=1)
    small = (weights < 0) & (np.abs(weights) < _NEGATIVE_SHARE * total[:, None, None])
    weights[small] = 0.0
    pos = {t: i for i, t in enumerate(res.treatments)}
    held = np.zeros((T, T), dtype=bool)  # pairs of treatments some study holds both of
    for a in res._study_arms().values():
        ix = [pos[t] for t in a]
        held[np.ix_(ix, ix)] = True
    pairs = _lower_pairs(T)
    edges = pairs[held[pairs[:, 0], pairs[:, 1]]]
    return edges, weights.sum(axis=0)[edges[:, 0], edges[:, 1]]


def _flows(res) -> _Flows:
    """The aggregated hat matrix (see 2. in the module docstring), every row at once."""
    T = len(res.treatments)
    edges, w = _aggregate(res)
    B = np.zeros((edges.shape[0], T))
    B[np.arange(edges.shape[0]), edges[:, 0]] = 1.0
    B[np.arange(edges.shape[0]), edges[:, 1]] = -1.0
    L = B.T @ (w[:, None] * B)
    pairs = _lower_pairs(T)
    C = np.zeros((T, pairs.shape[0]))
    C[pairs[:, 0], np.arange(pairs.shape[0])] = 1.0
    C[pairs[:, 1], np.arange(pairs.shape[0])] = -1.0
    phi = np.zeros((T, pairs.shape[0]))
    try:  # potentials with phi_reference = 0: the grounded Laplacian is invertible
        phi[1:] = np.linalg.solve(L[1:, 1:], C[1:])
    except np.linalg.LinAlgError:
        raise ValueError(
            "the direct comparisons with a positive weight do not connect the network; "
            "the contributions are not defined"
        ) from None
    H = w[None, :] * (phi[edges[:, 0]] - phi[edges[:, 1]]).T
    return _Flows(tuple(res.treatments), pairs, edges, w, H)


def _transitions(fl: _Flows) -> np.ndarray:
    """Random-walk transition matrices (K, T, T) of every row: from each node along the edges
    with positive flow, in proportion to it; the sink (``pairs[k, 1]``) has no exit."""
    K, T = fl.pairs.shape[0], len(fl.treatments)
    Q = np.zeros((K, T, T))
    i, j = fl.edges[:, 0], fl.edges[:, 1]
    Q[:, i, j] = np.maximum(fl.H, 0.0)
    Q[:, j, i] = np.maximum(-fl.H, 0.0)
    Q[np.arange(K), fl.pairs[:, 1], :] = 0.0
    out = Q.sum(axis=2, keepdims=True)
    return np.divide(Q, out, out=np.zeros_like(Q), where=out > 0)


def _random_walk(fl: _Flows) -> np.ndarray:
    """Contributions (K, E) by the closed form of the random walk (module docstring, 3.)."""
    P = _transitions(fl)
    K, T = fl.pairs.shape[0], len(fl.treatments)
    n = max(T - 1, 1)  # no path has more than T - 1 edges
    F = np.zeros((n, K, T))  # F[i, k, u] = (P^i)[source, u]
    G = np.zeros((n, K, T))  # G[j, k, v] = (P^j)[v, sink]
    F[0, np.arange(K), fl.pairs[:, 0]] = 1.0
    G[0, np.arange(K), fl.pairs[:, 1]] = 1.0
    for step in range(1, n):
        F[step] = np.einsum("kt,ktu->ku", F[step - 1], P)
        G[step] = np.einsum("ktu,ku->kt", P, G[step - 1])
    ij = np.arange(n)
    hilbert = 1.0 / (ij[:, None] + ij[None, :] + 1.0)
    node = P * np.einsum("iku,ij,jkv->kuv", F, hilbert, G, optimize=True)
    i, j = fl.edges[:, 0], fl.edges[:, 1]
    return node[:, i, j] + node[:, j, i]


def _streams(h: np.ndarray, edges: np.ndarray, source: int, sink: int, T: int):
    """Papakonstantinou's stream decomposition of one row's flow ``h`` (E,): a list of (edge
    indices of a shortest path from ``source`` to ``sink``, flow it carries), in the order
    taken (module docstring, 3.)."""
    tail = np.where(h > 0, edges[:, 0], edges[:, 1]).tolist()
    head = np.where(h > 0, edges[:, 1], edges[:, 0]).tolist()
    left = np.abs(h).tolist()  # flow not yet in a stream (plain lists: a loop follows)
    out_edges: list[list[int]] = [[] for _ in range(T)]
    for e in np.flatnonzero(h != 0).tolist():
        out_edges[tail[e]].append(e)
    streams = []
    for _ in range(h.size + 1):  # each stream empties at least one edge
        via = {source: -1}  # the edge by which breadth-first search first reached each node
        queue = deque([source])
        while queue and sink not in via:
            u = queue.popleft()
            for e in out_edges[u]:
                if left[e] > 0 and head[e] not in via:
                    via[head[e]] = e
                    queue.append(head[e])
        if sink not in via:
            return streams
        path, v = [], sink
        while v != source:
            path.append(via[v])
            v = tail[via[v]]
        path.reverse()
        flow = min(left[e] for e in path)
        for e in path:
            left[e] = max(left[e] - flow, 0.0)
        streams.append((tuple(path), flow))
    raise RuntimeError("the stream decomposition did not end")  # pragma: no cover


def _shortest_path(fl: _Flows) -> np.ndarray:
    """Contributions (K, E) by the stream decomposition of every row (module docstring, 3.)."""
    out = np.zeros_like(fl.H)
    T = len(fl.treatments)
    for k, (a, b) in enumerate(fl.pairs):
        for path, flow in _streams(fl.H[k], fl.edges, int(a), int(b), T):
            out[k, list(path)] += flow / len(path)
    return out


def _direct_variances(res) -> np.ndarray:
    """Variance (K,) of the direct estimate of every pair (inf without direct evidence): the
    inverse-variance pool of each study's own estimate, with tau^2 added."""
    info = _study_laplacians(res, 0.0)
    pairs = _lower_pairs(len(res.treatments))
    C = np.zeros((pairs.shape[0], len(res.treatments)))
    C[np.arange(pairs.shape[0]), pairs[:, 0]] = 1.0
    C[np.arange(pairs.shape[0]), pairs[:, 1]] = -1.0
    arms = np.abs(info).sum(axis=2) > 0  # (S, T): the arms of each study
    holds = arms[:, pairs[:, 0]] & arms[:, pairs[:, 1]]  # (S, K)
    # a study's variance of a vs b: the effective resistance c' I_s^+ c on its arms
    v = np.einsum("kt,stu,ku->sk", C, np.linalg.pinv(info, hermitian=True), C)
    prec = np.where(holds, 1.0 / np.where(holds, v + res.tau2, 1.0), 0.0).sum(axis=0)
    return np.divide(1.0, prec, out=np.full(prec.shape, np.inf), where=prec > 0)


class _ContributionMethods:
    """Hat matrix, contribution matrix and direct evidence proportions; mixed into
    :class:`~evidence.meta.nma.result.NetworkResult`."""

    def hat_matrix(self) -> pd.DataFrame:
        """The aggregated hat matrix: the coefficient of each direct comparison's estimate in
        each network estimate (netmeta ``hatmatrix(method = "Davies", type = "long")``).

        Rows: every pair ``"a vs b"`` (``a`` later in :attr:`treatments`); columns: the direct
        comparisons, oriented alike. Each row is a unit flow from ``a`` to ``b`` on the graph
        of direct comparisons (definition in the :mod:`evidence.meta.nma.contribution`
        docstring), at the network's tau^2.

        Examples
        --------
        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
        ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
        >>> res.hat_matrix().round(4)  # doctest: +NORMALIZE_WHITESPACE
        direct      B vs A  C vs A  C vs B
        comparison
        B vs A      0.7333  0.2667 -0.2667
        C vs A      0.3333  0.6667  0.3333
        C vs B     -0.4000  0.4000  0.6000
        """
        fl = _flows(self)
        return fl.frame(fl.H)

    def contribution(self, method: str = "randomwalk") -> pd.DataFrame:
        """The contribution matrix: the share of each network estimate that each direct
        comparison contributes (netmeta ``netcontrib``; CINeMA's percentage contribution).

        Parameters
        ----------
        method : {"randomwalk", "shortestpath"}
            How the flow of each row is split into streams: the random walk of Davies et al.
            (2022), in closed form, or the shortest-path streams of Papakonstantinou et al.
            (2018). Definitions in the :mod:`evidence.meta.nma.contribution` docstring.

        Returns
        -------
        DataFrame
            Rows: every pair ``"a vs b"`` of treatments (``a`` later in :attr:`treatments`);
            columns: the direct comparisons; values: proportions, each row summing to 1.
            Computed at the network's tau^2 (a common-effect fit gives the common-effect
            matrix).

        Raises
        ------
        ValueError
            An unknown method, or a direct comparison whose aggregated weight is negative
            (possible only for a multi-arm study whose covariance does not derive from arm
            variances).

        Examples
        --------
        A loop A-B-C with one trial per comparison: the network estimate of B vs A takes
        73% from the B vs A trial and the rest from the path through C, half from each edge.

        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
        ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
        >>> res.contribution().round(4)  # doctest: +NORMALIZE_WHITESPACE
        direct      B vs A  C vs A  C vs B
        comparison
        B vs A      0.7333  0.1333  0.1333
        C vs A      0.1667  0.6667  0.1667
        C vs B      0.2000  0.2000  0.6000
        """
        method = _name(method, CONTRIBUTION_METHODS, "method")
        fl = _flows(self)
        if (fl.w < 0).any():
            e = int(np.argmin(fl.w))
            raise ValueError(
                f"the weight of the direct comparison {fl.labels(fl.edges[e : e + 1])[0]} is "
                f"negative ({fl.w[e]:.4g}): a multi-arm study's covariance gives a negative "
                "reduced weight, so the flows of the hat matrix are not acyclic and the "
                "contributions are not defined"
            )
        values = _random_walk(fl) if method == "randomwalk" else _shortest_path(fl)
        return fl.frame(values)

    def direct_evidence_proportion(self) -> pd.Series:
        """The share of each network estimate's precision that is direct (netmeta's
        ``P.random``, or ``P.common`` for a common-effect fit).

        ``var(network) / var(direct)`` for every pair ``"a vs b"`` (``a`` later in
        :attr:`treatments`), 0 where no trial compares the two. The direct estimate is the
        inverse-variance pool of each trial's own a vs b estimate (a multi-arm trial's with its
        full variance), the network's tau^2 added: the ``direct_share`` of :meth:`netsplit`.
        Values above 1 by rounding are cut to 1.

        Examples
        --------
        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
        ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
        >>> res.direct_evidence_proportion().round(4)
        comparison
        B vs A    0.7333
        C vs A    0.6667
        C vs B    0.6000
        Name: direct_share, dtype: float64
        """
        _, V = self._full()
        pairs = _lower_pairs(len(self.treatments))
        i, j = pairs[:, 0], pairs[:, 1]
        net = V[i, i] + V[j, j] - 2 * V[i, j]
        share = np.minimum(net / _direct_variances(self), 1.0)
        labels = [f"{self.treatments[a]} vs {self.treatments[b]}" for a, b in pairs]
        return pd.Series(share, index=pd.Index(labels, name="comparison"), name="direct_share")
