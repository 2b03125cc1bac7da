"""Network meta-analysis, the model: within-study blocks, GLS, REML likelihood, tau^2, fit.

Fitting stage (after :mod:`.inputs` has validated the data). :class:`_Blocks` holds the contrasts
of each study with their within-study covariance, grouped by block size; :func:`_gls` is the GLS
fit in closed form at a given tau^2 (with the REML score and ``tr(P R)``); :func:`_reml_ll` and
:func:`_reml_ll_grid` give the restricted log-likelihood; :func:`_tau2` holds the estimators FE,
REML (global search) and DL; :func:`_fit` fits at the estimated tau^2. The model and the
estimators are described in the docstring of :mod:`evidence.meta.nma`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

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


def _gls(blocks: _Blocks, X: np.ndarray, y: np.ndarray, tau2: float, score: bool = False):
    """GLS at tau^2: beta, (X'WX)^-1, r'Wr, log|M|, log|X'WX| and optionally the REML score.

    The score is d ll / d tau^2 = -1/2 (tr(W R) - tr(A^-1 X'WRWX) - (Wr)' R (Wr)).
    """
    p = X.shape[1]
    A = np.zeros((p, p))
    c = np.zeros(p)
    ywy = logdet = 0.0
    parts = []
    for idx, V, R in blocks.groups:
        Xg, yg = X[idx], y[idx]
        if idx.shape[1] == 1:
            w = 1.0 / (V[:, 0, 0] + tau2)
            WX = Xg * w[:, None, None]
            Wy = yg * w[:, None]
            logdet -= np.log(w).sum()
            W = w[:, None, None]
        else:
            M = V + tau2 * R
            W = np.linalg.inv(M)
            logdet += np.linalg.slogdet(M)[1].sum()
            WX = W @ Xg
            Wy = np.einsum("sij,sj->si", W, yg)
        A += np.einsum("sbp,sbq->pq", Xg, WX)
        c += np.einsum("sbp,sb->p", WX, yg)
        ywy += float((yg * Wy).sum())
        parts.append((R, W, WX, Wy))
    Ainv = np.linalg.inv(A)
    beta = Ainv @ c
    rwr = ywy - float(c @ beta)
    out = {"beta": beta, "vcov": Ainv, "rwr": rwr, "logdet_m": logdet}
    out["logdet_a"] = float(np.linalg.slogdet(A)[1])
    if score:
        tr_wr = tr_a = quad = 0.0
        for R, W, WX, Wy in parts:
            Wr = Wy - WX @ beta  # W r = W y - W X beta
            if R.shape[1] == 1:
                tr_wr += float(W.sum())
                G = np.einsum("sbp,sbq->pq", WX, WX)
                quad += float((Wr**2).sum())
            else:
                tr_wr += float(np.einsum("sij,sji->", W, R))
                G = np.einsum("sip,siq->pq", WX, R @ WX)
                quad += float(np.einsum("si,si->", Wr, np.einsum("sij,sj->si", R, Wr)))
            tr_a += float((Ainv * G).sum())
        out["trace_pr"] = tr_wr - tr_a
        out["score"] = -0.5 * (tr_wr - tr_a - quad)
    return out


def _reml_ll(blocks, X, y, tau2) -> float:
    g = _gls(blocks, X, y, tau2)
    return -0.5 * (g["logdet_m"] + g["logdet_a"] + g["rwr"])


def _reml_ll_grid(blocks: _Blocks, X: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The restricted log-likelihood at every tau^2 of ``grid`` at once (vectorised GLS)."""
    G, p = grid.size, X.shape[1]
    A = np.zeros((G, p, p))
    c = np.zeros((G, p))
    ywy = np.zeros(G)
    logdet = np.zeros(G)
    for idx, V, R in blocks.groups:
        Xg, yg = X[idx], y[idx]
        if idx.shape[1] == 1:
            w = 1.0 / (V[None, :, 0, 0] + grid[:, None])  # (G, S)
            x, yy = Xg[:, 0, :], yg[:, 0]
            A += (x.T[None] * w[:, None, :]) @ x
            c += (w * yy) @ x
            ywy += w @ yy**2
            logdet -= np.log(w).sum(axis=1)
            continue
        M = V[None] + grid[:, None, None, None] * R[None]  # (G, S, b, b)
        W = np.linalg.inv(M)
        logdet += np.linalg.slogdet(M)[1].sum(axis=1)
        WX = W @ Xg[None]
        A += np.einsum("sbp,gsbq->gpq", Xg, WX)
        c += np.einsum("gsbp,sb->gp", WX, yg)
        ywy += np.einsum("sb,gsbc,sc->g", yg, W, yg)
    beta = np.linalg.solve(A, c[..., None])[..., 0]
    rwr = ywy - (c * beta).sum(axis=1)
    return -0.5 * (logdet + np.linalg.slogdet(A)[1] + rwr)


def _tau2(blocks: _Blocks, X: np.ndarray, y: np.ndarray, method: str) -> float:
    if method == "FE":
        return 0.0
    df = y.size - X.shape[1]
    # saturated: the likelihood is flat in tau^2, which is not identifiable (metafor: 0)
    if df <= 0:
        return 0.0
    if method == "DL":
        g = _gls(blocks, X, y, 0.0, score=True)
        return max(0.0, (g["rwr"] - df) / g["trace_pr"])
    # REML: global maximum on a grid, then the score root inside the best bracket
    grid = np.r_[0.0, blocks.mean_v * _GRID]
    ll = _reml_ll_grid(blocks, X, y, grid)
    while np.argmax(ll) == grid.size - 1:  # still rising at the top: extend
        grid = np.r_[grid, grid[-1] * 10.0]
        ll = np.r_[ll, _reml_ll(blocks, X, y, grid[-1])]
        if grid[-1] > 1e12 * blocks.mean_v:
            raise ValueError("REML: the restricted likelihood keeps rising with tau^2")
    i = int(np.argmax(ll))

    def score(t: float) -> float:
        return _gls(blocks, X, y, t, score=True)["score"]

    if i == 0 and score(0.0) <= 0:
        return 0.0
    lo, hi = grid[max(i - 1, 0)], grid[i + 1]
    for _ in range(60):  # narrow [lo, hi] around the highest point until the score changes sign
        sub = np.linspace(lo, hi, 33)
        j = int(np.argmax(_reml_ll_grid(blocks, X, y, sub)))
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


def _fit(blocks: _Blocks, X: np.ndarray, y: np.ndarray, method: str) -> dict:
    tau2 = _tau2(blocks, X, y, method)
    g = _gls(blocks, X, y, tau2)
    g["tau2"] = tau2
    return g
