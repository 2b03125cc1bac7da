"""Network meta-analysis, the model: within-study blocks, GLS, REML likelihood, tau^2, fit.

Fitting stage (after :mod:`.inputs` has validated the data). :class:`_Blocks` holds the contrasts
of each study with their within-study covariance, grouped by block size; :class:`_Design` is a
design whitened by the blocks; :func:`_gls` (:func:`_gls_d`) is the GLS fit in closed form at a
given tau^2 (with the REML score and ``tr(P R)``); :func:`_reml_ll` and :func:`_reml_ll_grid`
(:func:`_ll_grid`) give the restricted log-likelihood; :func:`_tau2` holds the estimators FE,
REML (global search) and DL; :func:`_fit` fits at the estimated tau^2. The model and the
estimators are described in the docstring of :mod:`evidence.meta.nma`.

Cost. Each study's block is whitened once (``T V T' = I``, ``T R T' = diag(lam)``: a Cholesky
factor and an eigendecomposition of size ``b``, the study's number of contrasts), after which
``M = V + tau^2 R`` is diagonal at every tau^2: one evaluation of the likelihood, the GLS or the
score costs O(n a^2) for the sparse products of the ``n`` rows (``a`` the most arms of a study)
plus O(C q^3) for ``X'WX``, block diagonal over ``C`` column components of at most ``q``
columns (one block of ``p = T - 1`` for a network's design; one per design, ``q`` = its arms
minus one, for the design-by-treatment model), in O(n a^2 + C q^2) memory; nothing is ``n x n``.
The REML search evaluates the likelihood at about 80 values of tau^2 (vectorised) and the score
at about 10. A split model reuses the consistency design (:meth:`_Design.with_column`) and its
fits on the first grid (:func:`_ll_with_column`, the partitioned inverse).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import optimize, sparse
from scipy.sparse import csgraph

NETWORK_METHODS = ("FE", "REML", "DL")
NETWORK_TESTS = ("z", "t")
_METHOD_TEXT = {
    "FE": "common effect",
    "REML": "random effects, REML",
    "DL": "random effects, generalised DerSimonian-Laird (netmeta)",
}
#: Ratio measures: analysed on the log scale, shown exponentiated in summaries and league tables.
_RATIO = ("OR", "RR", "HR", "IRR", "ROM")
#: Grid for the REML global search: tau^2 = s * 10^linspace(-8, 4, 48), s = mean sampling var.
_GRID = 10.0 ** np.linspace(-8.0, 4.0, 48)


# ---------------------------------------------------------------------------------------------
# the data of one network: contrasts grouped into within-study blocks of equal size


@dataclass(frozen=True)
class _Blocks:
    """Row indices of each study, grouped by block size, with the within-study covariances and
    the random-effects correlations."""

    groups: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]  # (idx (S, b), V, R (S, b, b))
    mean_v: float

    @classmethod
    def build(
        cls,
        study_codes: np.ndarray,
        cov: np.ndarray | None,
        v: np.ndarray,
        arms: tuple[np.ndarray, np.ndarray],
    ) -> _Blocks:
        """Blocks from the full covariance ``cov`` (or the variances ``v`` when it is None);
        ``arms`` holds the treatment codes of treat1 and treat2 of every row (for R)."""
        order = np.argsort(study_codes, kind="stable")
        codes = study_codes[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        sizes = np.diff(np.r_[starts, codes.size])
        groups = []
        for b in np.unique(sizes):
            idx = order[starts[sizes == b][:, None] + np.arange(b)]
            if cov is None:
                V = v[idx][:, :, None]
            else:
                V = cov[idx[:, :, None], idx[:, None, :]]
            groups.append((idx, V, _correlation(arms[0][idx], arms[1][idx])))
        return cls(tuple(groups), float(v.mean()))

    @cached_property
    def whitener(self) -> tuple[sparse.csr_matrix, np.ndarray, float]:
        """``T`` (block diagonal, sparse) with ``T V T' = I`` and ``T R T' = diag(lam)``, ``lam``
        and ``log|V|``: per study ``V = L L'`` (Cholesky) and ``L^-1 R L^-T = Q diag(lam) Q'``,
        ``T = Q' L^-1``. Then ``M = V + tau^2 R`` has ``T M T' = diag(1 + tau^2 lam)``."""
        n = sum(idx.size for idx, _, _ in self.groups)
        lam, logdet, parts = np.empty(n), 0.0, []
        for idx, V, R in self.groups:
            L = np.linalg.cholesky(V)
            Li = np.linalg.inv(L)
            lam[idx], Q = np.linalg.eigh(Li @ R @ np.swapaxes(Li, 1, 2))
            T = np.swapaxes(Q, 1, 2) @ Li
            logdet += 2.0 * float(np.log(np.diagonal(L, axis1=1, axis2=2)).sum())
            rows, cols = np.broadcast_arrays(idx[:, :, None], idx[:, None, :])
            parts.append((T.ravel(), rows.ravel(), cols.ravel()))
        val, rows, cols = (np.concatenate(a) for a in zip(*parts, strict=True))
        return sparse.csr_matrix((val, (rows, cols)), shape=(n, n)), lam, logdet

    def without(self, drop: np.ndarray, mean_v: float) -> _Blocks:
        """The blocks of the studies with no row in ``drop`` (a mask over the rows), their rows
        renumbered as in ``y[~drop]``; ``mean_v`` is the mean variance of the rows kept."""
        new = np.cumsum(~drop) - 1
        groups = []
        for idx, V, R in self.groups:
            keep = ~drop[idx].any(axis=1)
            if keep.any():
                groups.append((new[idx[keep]], V[keep], R[keep]))
        return _Blocks(tuple(groups), mean_v)

    def multi_contrast_studies(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(rows, covariance block) of every study with more than one contrast."""
        return [
            (rows, V[j])
            for idx, V, _ in self.groups
            if idx.shape[1] > 1
            for j, rows in enumerate(idx)
        ]


def _correlation(a1: np.ndarray, a2: np.ndarray) -> np.ndarray:
    """Random-effects correlations R (S, b, b) of the contrasts of each study (contrast ``a1``
    minus ``a2``, treatment codes of shape (S, b)): half the inner product of their arm
    incidences.

    1 on the diagonal; +1/2 for two contrasts whose shared arm is on the same side (B-A and C-A,
    or A-B and A-C), -1/2 when it is on opposite sides (B-A and A-C), 0 when they share no arm:
    the correlations of ``delta_i = theta_a - theta_b`` for arm effects ``theta`` with
    variance tau^2 / 2 (netmeta's ``B B' o E / 2``).

    Examples
    --------
    >>> _correlation(np.array([[1, 0, 4]]), np.array([[0, 2, 3]]))[0]
    array([[ 1. , -0.5,  0. ],
           [-0.5,  1. ,  0. ],
           [ 0. ,  0. ,  1. ]])
    """
    same = (a1[:, :, None] == a1[:, None, :]).astype(float) + (a2[:, :, None] == a2[:, None, :])
    cross = (a1[:, :, None] == a2[:, None, :]).astype(float) + (a2[:, :, None] == a1[:, None, :])
    return 0.5 * (same - cross)


# ---------------------------------------------------------------------------------------------
# the model in whitened coordinates: a diagonal weighted least-squares problem at every tau^2


@dataclass(frozen=True)
class _Design:
    """A design ``X`` and data ``y`` whitened by the blocks, ready for GLS at any tau^2.

    With ``T`` the whitener of the blocks (``T V T' = I``, ``T R T' = diag(lam)``), the
    covariance ``M = V + tau^2 R`` becomes ``diag(1 + tau^2 lam)``: GLS is weighted least squares
    of ``T y`` on ``T X`` with weights ``w = 1 / (1 + tau^2 lam)``. The columns of ``X`` are split
    into *components* (columns linked by a row that uses both; the whole of ``X`` for a connected
    network, one design each in the design-by-treatment model): ``X'WX`` is block diagonal over
    them, each block padded to the widest (``q`` columns) with the identity. ``gram`` and ``lin``
    map the weights of the rows to the blocks of ``X'WX`` and ``X'W y``, so one evaluation costs
    O(nnz(X) a) (``a`` the most arms of a study) plus O(C q^3) for the ``C`` blocks.
    """

    y: np.ndarray  # T y
    lam: np.ndarray  # T R T' = diag(lam)
    logdet_v: float  # log|V|
    x: sparse.csr_matrix  # T X
    gram: sparse.csr_matrix  # (C q q, n): blocks of X'WX = gram @ w
    lin: sparse.csr_matrix  # (C q, n): blocks of X'Wy = lin @ (w * T y)
    cols: np.ndarray  # (C, q): column of X of each local column, -1 for padding
    mean_v: float  # mean sampling variance (scale of the tau^2 grid)

    @classmethod
    def build(cls, blocks: _Blocks, X, y: np.ndarray, components: bool = False) -> _Design:
        """The design ``X`` (dense or sparse) and data ``y``, its columns split into components
        when ``components`` (for designs of many small blocks, as the design-by-treatment
        model's), else taken as one (a network's design; as :meth:`with_column` needs)."""
        T, lam, logdet_v = blocks.whitener
        x = sparse.csr_matrix(T @ sparse.csr_matrix(X))
        x.eliminate_zeros()
        if components:
            comp, loc, cols = _components(x)
        else:
            p = x.shape[1]
            comp, loc, cols = np.zeros(p, dtype=np.intp), np.arange(p), np.arange(p)[None]
        gram, lin = _products(x, comp * cols.shape[1] + loc, cols.shape)
        y = T @ np.asarray(y, float)
        return cls(y, lam, logdet_v, x, gram, lin, cols, blocks.mean_v)

    @cached_property
    def coo(self) -> tuple[sparse.coo_matrix, sparse.coo_matrix, sparse.coo_matrix, np.ndarray]:
        """``x``, ``gram`` and ``lin`` as COO and ``x`` dense (for :meth:`with_column`)."""
        return self.x.tocoo(), self.gram.tocoo(), self.lin.tocoo(), self.x.toarray()

    def with_column(self, zt: np.ndarray) -> _Design:
        """This design (one component) with the whitened column ``zt`` appended: the products
        of ``X`` are moved, not recomputed (O(nnz(gram) + nnz(x)))."""
        p, n = self.p, self.y.size
        if self.cols.shape != (1, p):
            raise ValueError("with_column needs a design of one component (components=False)")
        x, g, lin, _ = self.coo
        nz = np.flatnonzero(zt)
        on = zt[x.row] != 0  # the entries x_ki of the rows k where z is not 0
        k, i, xz = x.row[on], x.col[on], x.data[on] * zt[x.row[on]]
        q = p + 1
        flat = np.r_[g.row + g.row // p, i * q + p, p * q + i, np.full(nz.size, p * q + p)]
        gram = (np.r_[g.data, xz, xz, zt[nz] ** 2], (flat, np.r_[g.col, k, k, nz]))
        lin = (np.r_[lin.data, zt[nz]], (np.r_[lin.row, np.full(nz.size, p)], np.r_[lin.col, nz]))
        x = (np.r_[x.data, zt[nz]], (np.r_[x.row, nz], np.r_[x.col, np.full(nz.size, p)]))
        return _Design(
            self.y,
            self.lam,
            self.logdet_v,
            sparse.csr_matrix(x, shape=(n, q)),
            sparse.csr_matrix(gram, shape=(q * q, n)),
            sparse.csr_matrix(lin, shape=(q, n)),
            np.arange(q)[None],
            self.mean_v,
        )

    @property
    def p(self) -> int:
        return self.x.shape[1]

    def normal_equations(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Blocks of ``X'WX`` (padded, (G, C, q, q)) and ``X'Wy`` ((G, C, q)) for weights
        ``w`` of shape (G, n)."""
        G, (C, q) = w.shape[0], self.cols.shape
        A = (self.gram @ w.T).T.reshape(G, C, q, q)
        pad = np.flatnonzero(self.cols.ravel() < 0)
        A.reshape(G, C * q, q)[:, pad, pad % q] = 1.0
        c = (self.lin @ (w * self.y).T).T.reshape(G, C, q)
        return A, c


def _components(x: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Component and local index of every column of ``x`` (columns linked when a row uses
    both), and the (C, q) table of the columns of each component (-1 pads)."""
    p = x.shape[1]
    pattern = sparse.csr_matrix((np.ones(x.nnz), x.indices, x.indptr), shape=x.shape)
    comp = csgraph.connected_components(pattern.T @ pattern, directed=False)[1]
    counts = np.bincount(comp)
    order = np.argsort(comp, kind="stable")
    loc = np.empty(p, dtype=np.intp)
    loc[order] = np.arange(p) - np.repeat(np.cumsum(counts) - counts, counts)
    cols = np.full((counts.size, counts.max()), -1, dtype=np.intp)
    cols[comp, loc] = np.arange(p)
    return comp, loc, cols


def _products(x: sparse.csr_matrix, slot: np.ndarray, shape: tuple[int, int]):
    """Sparse maps from row weights to the blocks of ``X'WX`` and ``X'Wy`` (see
    :class:`_Design`); ``slot`` is the flat block position (component * q + local) of each
    column."""
    n, (C, q) = x.shape[0], shape
    per_row = np.diff(x.indptr)
    k = np.arange(per_row.max(initial=0))
    ok = k < per_row[:, None]  # (n, m): the stored entries of each row, padded
    at = np.where(ok, x.indptr[:-1, None] + k, 0)
    j = np.where(ok, slot[x.indices[at]] if x.nnz else 0, 0)
    v = np.where(ok, x.data[at] if x.nnz else 0.0, 0.0)
    row = np.broadcast_to(np.arange(n)[:, None], ok.shape)
    lin = sparse.csr_matrix((v[ok], (j[ok], row[ok])), shape=(C * q, n))
    pair = ok[:, :, None] & ok[:, None, :]
    flat = (j // q * q * q + j % q * q)[:, :, None] + (j % q)[:, None, :]
    val = v[:, :, None] * v[:, None, :]
    rows = np.broadcast_to(row[:, :, None], pair.shape)
    gram = sparse.csr_matrix((val[pair], (flat[pair], rows[pair])), shape=(C * q * q, n))
    return gram, lin


def _gls_d(d: _Design, tau2: float, score: bool = False) -> dict:
    """GLS at tau^2: beta, (X'WX)^-1, r'Wr, log|M|, log|X'WX| and optionally the REML score.

    The score is d ll / d tau^2 = -1/2 (tr(W R) - tr(A^-1 X'WRWX) - (Wr)' R (Wr)); in whitened
    coordinates ``W R`` is ``diag(w lam)`` and ``W R W`` is ``diag(w^2 lam)``.
    """
    w = 1.0 / (1.0 + tau2 * d.lam)
    A, c = d.normal_equations(w[None])
    Ainv = np.linalg.inv(A[0])
    b = (Ainv @ c[0][..., None])[..., 0]
    if d.cols.shape == (1, d.p):  # one component, columns in order (a connected network)
        beta, vcov = b[0], Ainv[0]
    else:
        used = d.cols >= 0
        beta = np.zeros(d.p)
        beta[d.cols[used]] = b[used]
        k, i, j = np.nonzero(used[:, :, None] & used[:, None, :])
        vcov = np.zeros((d.p, d.p))
        vcov[d.cols[k, i], d.cols[k, j]] = Ainv[k, i, j]
    out = {
        "beta": beta,
        "vcov": vcov,
        "rwr": float(w @ d.y**2 - (c[0] * b).sum()),
        "logdet_m": d.logdet_v + float(np.log1p(tau2 * d.lam).sum()),
        "logdet_a": float(np.linalg.slogdet(A[0])[1].sum()),
    }
    if score:
        tr_wr = float(w @ d.lam)
        tr_a = float((Ainv.ravel() * (d.gram @ (w * w * d.lam))).sum())
        quad = float(d.lam @ (w * (d.y - d.x @ beta)) ** 2)
        out["trace_pr"] = tr_wr - tr_a
        out["score"] = -0.5 * (tr_wr - tr_a - quad)
    return out


def _ll_grid(d: _Design, grid: np.ndarray) -> np.ndarray:
    """The restricted log-likelihood at every tau^2 of ``grid`` (vectorised, in chunks)."""
    out = np.empty(grid.size)
    step = max(1, int(4e6 // max(d.gram.shape[0], d.y.size)))
    for s in range(0, grid.size, step):
        t = grid[s : s + step]
        w = 1.0 / (1.0 + t[:, None] * d.lam)
        A, c = d.normal_equations(w)
        beta = np.linalg.solve(A, c[..., None])[..., 0]
        rwr = w @ d.y**2 - (c * beta).sum(axis=(1, 2))
        logdet_m = d.logdet_v + np.log1p(t[:, None] * d.lam).sum(axis=1)
        out[s : s + step] = -0.5 * (logdet_m + np.linalg.slogdet(A)[1].sum(axis=1) + rwr)
    return out


def _new_columns(Q: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Which columns of ``E`` add to the rank of ``[X, E]`` taken in order, as metafor drops
    redundant moderators; ``Q`` is an orthonormal basis of the columns of ``X``. A column adds
    when what is left of it after projecting out ``X`` and the columns taken before it has
    norm above 1e-8 times its own (0/1 columns: far from the threshold either way). O(n p k)
    for k columns, where ``np.linalg.matrix_rank`` of ``[X, E]`` is an SVD per column.

    Examples
    --------
    >>> Q = np.linalg.qr(np.array([[1.0], [1.0], [0.0]]))[0]
    >>> _new_columns(Q, np.array([[2.0, 0, 1], [2, 0, 0], [0, 1, 0]]))
    array([False,  True,  True])
    """
    basis = Q
    keep = np.zeros(E.shape[1], dtype=bool)
    for j, e in enumerate(E.T):
        left = e - basis @ (basis.T @ e)
        left -= basis @ (basis.T @ left)  # twice is enough (Giraud et al. 2005)
        norm = np.linalg.norm(left)
        if norm > 1e-8 * np.linalg.norm(e):
            keep[j] = True
            basis = np.column_stack([basis, left / norm])
    return keep


def _gls(blocks: _Blocks, X, y: np.ndarray, tau2: float, score: bool = False) -> dict:
    """:func:`_gls_d` of the design ``X`` (dense or sparse) and data ``y``."""
    return _gls_d(_Design.build(blocks, X, y), tau2, score)


def _reml_ll(blocks: _Blocks, X, y: np.ndarray, tau2: float) -> float:
    return float(_ll_grid(_Design.build(blocks, X, y), np.array([tau2]))[0])


def _reml_ll_grid(blocks: _Blocks, X, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The restricted log-likelihood at every tau^2 of ``grid`` at once (vectorised GLS)."""
    return _ll_grid(_Design.build(blocks, X, y), np.asarray(grid, float))


def _reml_grid(d: _Design) -> np.ndarray:
    """The first grid of the REML search: 0 and 48 points up to 10^4 times the mean variance."""
    return np.r_[0.0, d.mean_v * _GRID]


def _grid_fits(d: _Design, grid: np.ndarray) -> dict:
    """GLS of a one-component design at every tau^2 of ``grid``: weights,
    (X'WX)^-1, beta and the terms of the restricted log-likelihood, for
    :func:`_ll_with_column`."""
    w = 1.0 / (1.0 + grid[:, None] * d.lam)
    A, c = d.normal_equations(w)
    Ainv = np.linalg.inv(A[:, 0])
    beta = (Ainv @ c[:, 0, :, None])[..., 0]
    rwr = w @ d.y**2 - (c[:, 0] * beta).sum(axis=1)
    logdet = (
        d.logdet_v + np.log1p(grid[:, None] * d.lam).sum(axis=1) + np.linalg.slogdet(A)[1][:, 0]
    )
    return {"w": w, "vcov": Ainv, "beta": beta, "rwr": rwr, "logdet": logdet}


def _ll_with_column(base: _Design, fits: dict, z: np.ndarray) -> np.ndarray:
    """The restricted log-likelihood of ``base`` with the whitened column ``z`` appended on the
    grid of ``fits`` (:func:`_grid_fits` of ``base``), by the partitioned inverse: with
    ``a = X'Wz``, ``s = z'Wz - a' (X'WX)^-1 a``, log|A| gains log s and r'Wr loses
    (z'Wr)^2 / s. O(G (k p + p^2)) for the k rows where z is not 0, against O(G (nnz + p^3))
    for a fit."""
    nz = np.flatnonzero(z)
    w, zt, x = fits["w"][:, nz], z[nz], base.coo[3][nz]
    a = (w * zt) @ x
    r = base.y[nz, None] - x @ fits["beta"].T  # (k, G) residuals of the base fits
    s = w @ zt**2 - np.einsum("gp,gpq,gq->g", a, fits["vcov"], a)
    u = (w * zt * r.T).sum(axis=1)
    return -0.5 * (fits["logdet"] + np.log(s) + fits["rwr"] - u**2 / s)


def _tau2(d: _Design, method: str, first: np.ndarray | None = None) -> float:
    """tau^2 by ``method``; ``first``: the restricted log-likelihood on :func:`_reml_grid`
    when the caller has it (a split model from its consistency model)."""
    if method == "FE":
        return 0.0
    df = d.y.size - d.p
    # saturated: the likelihood is flat in tau^2, which is not identifiable (metafor: 0)
    if df <= 0:
        return 0.0
    if method == "DL":
        g = _gls_d(d, 0.0, score=True)
        return max(0.0, (g["rwr"] - df) / g["trace_pr"])
    # REML: global maximum on a grid, then the score root inside the best bracket
    grid = _reml_grid(d)
    ll = _ll_grid(d, grid) if first is None else first
    while np.argmax(ll) == grid.size - 1:  # still rising at the top: extend
        grid = np.r_[grid, grid[-1] * 10.0]
        ll = np.r_[ll, _ll_grid(d, grid[-1:])]
        if grid[-1] > 1e12 * d.mean_v:
            raise ValueError("REML: the restricted likelihood keeps rising with tau^2")
    i = int(np.argmax(ll))

    def score(t: float) -> float:
        return _gls_d(d, t, score=True)["score"]

    if i == 0 and score(0.0) <= 0:
        return 0.0
    lo, hi = grid[max(i - 1, 0)], grid[i + 1]
    for _ in range(60):  # narrow [lo, hi] around the highest point until the score changes sign
        sub = np.linspace(lo, hi, 33)
        j = int(np.argmax(_ll_grid(d, sub)))
        if j == 0 and lo == 0.0 and score(0.0) <= 0:
            return 0.0
        a, b = sub[max(j - 1, 0)], sub[min(j + 1, sub.size - 1)]
        sa, sb = score(a), score(b)
        if sa > 0 >= sb:
            lo, hi = a, b
            break
        lo, hi = a, b
    else:
        return float(0.5 * (lo + hi))  # flat to machine precision: any point of the bracket
    return float(optimize.brentq(score, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))


def _fit(blocks: _Blocks, X, y: np.ndarray, method: str) -> dict:
    """GLS at the tau^2 of ``method`` (see :func:`_tau2`)."""
    return _fit_d(_Design.build(blocks, X, y), method)


def _fit_d(d: _Design, method: str) -> dict:
    """:func:`_fit` of a built design."""
    tau2 = _tau2(d, method)
    g = _gls_d(d, tau2)
    g["tau2"] = tau2
    return g
