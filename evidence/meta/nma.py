"""Network meta-analysis: contrast-based frequentist NMA at metafor parity.

The model is the one of R netmeta and of metafor's ``rma.mv`` NMA examples. Each row is one
contrast ``treat1`` vs ``treat2`` of one study (``yi`` = treat1 minus treat2); a study with ``a``
arms contributes ``a - 1`` contrasts against its baseline arm. With ``d`` the effects of every
treatment against the reference (the *basic parameters*, ``d_reference = 0``)::

    y = X d + u + e,   e ~ N(0, V),   u ~ N(0, tau^2 R)

``X`` has +1 in the column of treat1 and -1 in the column of treat2 (the reference column
dropped), ``V`` is the within-study covariance (block diagonal by study) and ``R`` has 1 on the
diagonal and 1/2 between two contrasts of one multi-arm study (one heterogeneity variance for
every comparison, consistency within multi-arm studies: metafor
``random = ~ comp | study, rho = 1/2``).

Estimators of tau^2 (method strings recorded in the result):

``FE``   common effect: tau^2 = 0 (``CE`` accepted as an alias).
``REML`` restricted maximum likelihood: the global maximum over tau^2 >= 0 of the restricted
         log-likelihood ``-1/2 (log|M| + log|X' M^-1 X| + r' M^-1 r)``, ``M = V + tau^2 R``
         (metafor ``rma.mv(method = "REML")``). A grid over tau^2 (0 and 48 points up to 10^4
         times the mean sampling variance, extended upwards while the likelihood rises) locates
         the best bracket; the root of the score ``tr(P R) = r' M^-1 R M^-1 r`` in it is found to
         machine precision (GLS in closed form for every tau^2).
``DL``   the generalised DerSimonian-Laird estimator of netmeta (Jackson, White and Riley 2012;
         netmeta ``nma.ruecker``): ``tau^2 = max(0, (Q - df) / tr(P_0 R))`` with Q the
         common-effect Q, ``df = n - (T - 1)`` and ``P_0 = V^-1 - V^-1 X (X' V^-1 X)^-1 X' V^-1``.
         netmeta writes the denominator as ``tr((I - H) (B B' o E / 2) W)`` over all pairwise
         contrasts with Rucker's reduced weights; for covariances that derive from arm-level
         variances (as netmeta's do) the two are the same number.

Q is metafor's ``QE``: the generalised residual sum of squares of the common-effect fit, ``df`` =
number of contrasts minus (T - 1). Standard errors are the GLS ones at the estimated tau^2 (Wald
``z`` tests; ``test="t"`` uses t with ``n - (T - 1)`` df as ``rma.mv(test = "t")``); prediction
intervals add tau^2 to the variance of each estimate (metafor ``predict``).

Node-splitting (:meth:`NetworkResult.split`) is the indicator-moderator ("split") model fitted
with ``rma.mv`` in the style of the metafor NMA examples; the exact definition implemented (and
given to metafor in tools/make_reference_network.R) is this: for a comparison A vs B with
direct evidence, an indicator moderator is added that is +1 (-1) on every contrast with A as
treat1 (treat2) in a study that contains both A and B, so the direct A-vs-B evidence gets its
own parameter alpha (A's arm shifted by alpha in those studies; B and any other arm stay
consistent, as Dias et al. 2010 with B as the baseline of the split studies). The model is
refitted (tau^2 re-estimated with the same method): indirect = ``d_A - d_B``, direct =
``d_A - d_B + alpha``, and the test of their difference is the Wald test of alpha. Where the
indicator lies in the span of ``X`` there is no independent indirect evidence: direct = network
and indirect is NaN. Back-calculation (netmeta ``netsplit`` default) is not implemented.

Design-by-treatment interaction (:meth:`NetworkResult.inconsistency`, Higgins et al. 2012): each
design (the set of treatments of a study) gets its own treatment effects. Its residual Q is the
within-design heterogeneity; total Q minus within-design Q is the between-design
(inconsistency) Q. With random effects the model's own tau^2 is estimated and the interaction
terms are tested with a Wald test (metafor ``rma.mv`` with the interaction moderators, ``QM``
with ``btt`` on them).

P-scores: Rucker and Schwarzer (2015), as netmeta ``netrank``. League table: netmeta ``netleague``
layout (row treatment vs column treatment).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = ["NETWORK_METHODS", "NETWORK_TESTS", "NetworkResult", "network", "network_from_arms"]

NETWORK_METHODS = ("FE", "REML", "DL")
NETWORK_TESTS = ("z", "t")
_METHOD_TEXT = {
    "FE": "common effect",
    "REML": "random effects, REML",
    "DL": "random effects, generalised DerSimonian-Laird (netmeta)",
}
#: Grid for the REML global search: tau^2 = s * 10^linspace(-8, 4, 48), s = mean sampling var.
_GRID = 10.0 ** np.linspace(-8.0, 4.0, 48)


# ---------------------------------------------------------------------------------------------
# the data of one network: contrasts grouped into within-study blocks of equal size


@dataclass(frozen=True)
class _Blocks:
    """Row indices of each study, grouped by block size, with the within-study covariances."""

    groups: tuple[tuple[np.ndarray, np.ndarray], ...]  # (idx (S, b), V (S, b, b)) per size b
    mean_v: float

    @classmethod
    def build(cls, study_codes: np.ndarray, cov: np.ndarray | None, v: np.ndarray) -> _Blocks:
        """Blocks from the full covariance ``cov`` (or the variances ``v`` when it is None)."""
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
            groups.append((idx, V))
        return cls(tuple(groups), float(v.mean()))

    def multi_contrast_studies(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(rows, covariance block) of every study with more than one contrast."""
        return [
            (rows, V[j]) for idx, V in self.groups if idx.shape[1] > 1 for j, rows in enumerate(idx)
        ]


def _gls(blocks: _Blocks, X: np.ndarray, y: np.ndarray, tau2: float, score: bool = False):
    """GLS at tau^2: beta, (X'WX)^-1, r'Wr, log|M|, log|X'WX| and optionally the REML score.

    The score is d ll / d tau^2 = -1/2 (tr(W R) - tr(A^-1 X'WRWX) - (Wr)' R (Wr)).
    """
    p = X.shape[1]
    A = np.zeros((p, p))
    c = np.zeros(p)
    ywy = logdet = 0.0
    parts = []
    for idx, V in blocks.groups:
        b = idx.shape[1]
        R = 0.5 * (np.ones((b, b)) + np.eye(b))
        Xg, yg = X[idx], y[idx]
        if b == 1:
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
            if R.shape[0] == 1:
                tr_wr += float(W.sum())
                G = np.einsum("sbp,sbq->pq", WX, WX)
                quad += float((Wr**2).sum())
            else:
                tr_wr += float(np.einsum("sij,ji->", W, R))
                G = np.einsum("sip,ij,sjq->pq", WX, R, WX)
                quad += float(np.einsum("si,ij,sj->", Wr, R, Wr))
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
    for idx, V in blocks.groups:
        b = idx.shape[1]
        Xg, yg = X[idx], y[idx]
        if b == 1:
            w = 1.0 / (V[None, :, 0, 0] + grid[:, None])  # (G, S)
            x, yy = Xg[:, 0, :], yg[:, 0]
            A += (x.T[None] * w[:, None, :]) @ x
            c += (w * yy) @ x
            ywy += w @ yy**2
            logdet -= np.log(w).sum(axis=1)
            continue
        R = 0.5 * (np.ones((b, b)) + np.eye(b))
        M = V[None] + grid[:, None, None, None] * R  # (G, S, b, b)
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
    if method == "DL":
        if df <= 0:
            return 0.0
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


# ---------------------------------------------------------------------------------------------
# input checks


def _strings(name: str, x) -> np.ndarray:
    arr = np.asarray(x if hasattr(x, "__len__") else list(x), dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a one-dimensional sequence")
    missing = np.flatnonzero(pd.isna(arr))
    if missing.size:
        raise ValueError(f"{name}: missing value at position {missing[0]}")
    return arr.astype(str).astype(object)


def _components(treatments: list[str], t1: np.ndarray, t2: np.ndarray) -> list[list[str]]:
    parent = list(range(len(treatments)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(t1, t2, strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    comps: dict[int, list[str]] = {}
    for i, t in enumerate(treatments):
        comps.setdefault(find(i), []).append(t)
    return list(comps.values())


def _name(value: str, allowed: tuple[str, ...], what: str) -> str:
    key = {"CE": "FE", "EE": "FE"}.get(str(value).upper(), str(value))
    for a in allowed:
        if key.upper() == a.upper():
            return a
    raise ValueError(f"unknown {what} {value!r}; choose one of {allowed}")


# ---------------------------------------------------------------------------------------------
# public API


def _check_contrast_rows(
    y: np.ndarray, v: np.ndarray, t1s: np.ndarray, t2s: np.ndarray, st: np.ndarray
) -> None:
    """Raise on unequal lengths, no rows, ``treat1 == treat2`` or ``vi <= 0`` (naming the row)."""
    n = y.size
    lengths = {"yi": n, "vi": v.size, "treat1": t1s.size, "treat2": t2s.size, "study": st.size}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"inputs have unequal lengths: {lengths}")
    if n == 0:
        raise ValueError("no contrasts to analyse")
    same = np.flatnonzero(t1s == t2s)
    if same.size:
        raise ValueError(
            f"row {same[0]} (study {st[same[0]]!r}): treat1 and treat2 are both {t1s[same[0]]!r}"
        )
    bad = np.flatnonzero(~(v > 0))
    if bad.size:
        raise ValueError(f"study {st[bad[0]]!r}: sampling variance vi <= 0 at row {bad[0]}")


def _treatment_order(
    t1s: np.ndarray, t2s: np.ndarray, reference: str | None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Treatments with the reference first, the column index of each contrast's two
    treatments, and a check that the network is connected."""
    names = sorted(set(t1s) | set(t2s))
    if reference is None:
        reference = names[0]
    if str(reference) not in names:
        raise ValueError(f"reference {reference!r} is not a treatment of the network: {names}")
    reference = str(reference)
    treatments = [reference] + [t for t in names if t != reference]
    pos = {t: i for i, t in enumerate(treatments)}
    i1 = np.array([pos[t] for t in t1s])
    i2 = np.array([pos[t] for t in t2s])
    comps = _components(treatments, i1, i2)
    if len(comps) > 1:
        text = " | ".join("{" + ", ".join(c) + "}" for c in comps)
        raise ValueError(f"the network is disconnected; its components are {text}")
    return treatments, i1, i2


def _check_cov(
    cov: np.ndarray | None, v: np.ndarray, st: np.ndarray, scode: np.ndarray, studies: list
) -> np.ndarray | None:
    """The validated full within-study covariance matrix, or None when every study has one
    contrast and none was given."""
    n = v.size
    if cov is None:
        counts = np.bincount(scode)
        multi = np.flatnonzero(counts > 1)
        if multi.size:
            raise ValueError(
                f"study {studies[multi[0]]!r} has {counts[multi[0]]} contrasts but no covariance "
                "was given: pass cov= (the full covariance matrix) or use network_from_arms()"
            )
        return None
    full = np.asarray(cov, dtype=float)
    if full.shape != (n, n):
        raise ValueError(f"cov must have shape ({n}, {n}); got {full.shape}")
    if not np.all(np.isfinite(full)):
        raise ValueError("cov: non-finite entries")
    if not np.allclose(full, full.T, rtol=0, atol=1e-12 * np.abs(full).max()):
        raise ValueError("cov is not symmetric")
    if not np.allclose(np.diag(full), v, rtol=1e-10, atol=0):
        i = int(np.flatnonzero(~np.isclose(np.diag(full), v, rtol=1e-10, atol=0))[0])
        raise ValueError(f"cov: diagonal differs from vi at row {i} (study {st[i]!r})")
    cross = (scode[:, None] != scode[None, :]) & (full != 0)
    if cross.any():
        i, j = np.argwhere(cross)[0]
        raise ValueError(
            f"cov: non-zero covariance between rows {i} and {j} of different studies "
            f"({st[i]!r} and {st[j]!r}); cov must be block diagonal by study"
        )
    return full


def _check_study_blocks(
    blk: _Blocks,
    scode: np.ndarray,
    studies: list,
    i1: np.ndarray,
    i2: np.ndarray,
    n_treatments: int,
) -> None:
    """Raise when a multi-contrast study's covariance block is not positive definite or its
    contrasts are linearly dependent (naming the study)."""
    for rows, block in blk.multi_contrast_studies():
        s = int(scode[rows[0]])
        try:
            np.linalg.cholesky(block)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"study {studies[s]!r}: its covariance block is singular or not positive definite"
            ) from None
        D = np.zeros((rows.size, n_treatments))
        D[np.arange(rows.size), i1[rows]] += 1
        D[np.arange(rows.size), i2[rows]] -= 1
        if np.linalg.matrix_rank(D) < rows.size:
            raise ValueError(
                f"study {studies[s]!r}: its contrasts are linearly dependent (give a-1 "
                "contrasts against one baseline arm for an a-arm study)"
            )


def network(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    treat1: Sequence[str],
    treat2: Sequence[str],
    study: Sequence,
    *,
    cov: np.ndarray | None = None,
    reference: str | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    measure: str | None = None,
) -> NetworkResult:
    """Fit a contrast-based network meta-analysis (metafor ``rma.mv`` NMA model).

    Parameters
    ----------
    yi, vi : sequence of float
        One row per contrast: the effect of ``treat1`` minus ``treat2`` and its sampling variance
        (log scale for ratio measures).
    treat1, treat2 : sequence of str
        The two treatments of each contrast.
    study : sequence
        Study of each contrast; a multi-arm study has several rows.
    cov : ndarray, optional
        Full ``(n, n)`` covariance matrix of all contrasts, block diagonal by study, with ``vi``
        on its diagonal. Required when a study has more than one contrast (or use
        :func:`network_from_arms`, which derives it from arm-level data).
    reference : str, optional
        Treatment every effect is expressed against; default: the first in sorted order.
    method : {"REML", "FE", "DL"}
        tau^2 estimator (see the module docstring).
    test : {"z", "t"}
        Wald z tests and normal intervals, or t with ``n - (T - 1)`` df (metafor ``test="t"``).
    level : float
        Confidence (and prediction) level in percent.
    measure : str, optional
        Name of the effect measure (``"OR"`` and other ratio measures are on the log scale).

    Returns
    -------
    NetworkResult

    Raises
    ------
    ValueError
        Unequal lengths, non-finite values, ``treat1 == treat2`` (naming the row), a multi-contrast
        study without ``cov``, a study whose covariance block is singular or not positive
        definite or whose contrasts are linearly dependent (naming the study), a ``cov`` with
        non-zero entries between studies, a disconnected network (naming its components) or an
        unknown reference, method or test.

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.network([0.5, 0.3, 0.2, -0.1], [0.04, 0.05, 0.06, 0.05],
    ...                  ["B", "C", "C", "C"], ["A", "A", "B", "B"], [1, 2, 3, 4], method="FE")
    >>> res.effects[["estimate", "se"]].round(4).reset_index()
      treatment  estimate      se
    0         B    0.4194  0.1623
    1         C    0.4008  0.1694
    >>> round(res.q, 4), res.q_df
    (1.2946, 2)
    """
    method = _name(method, NETWORK_METHODS, "method")
    test = _name(test, NETWORK_TESTS, "test")
    from .pooling.checks import _vector

    y, v = _vector("yi", yi), _vector("vi", vi)
    t1s, t2s, st = _strings("treat1", treat1), _strings("treat2", treat2), _strings("study", study)
    n = y.size
    _check_contrast_rows(y, v, t1s, t2s, st)
    treatments, i1, i2 = _treatment_order(t1s, t2s, reference)
    studies = list(dict.fromkeys(st))
    scode = np.array([studies.index(s) for s in st]) if n < 50 else pd.factorize(st)[0]
    full = _check_cov(cov, v, st, scode, studies)
    blk = _Blocks.build(scode, full, v)
    _check_study_blocks(blk, scode, studies, i1, i2, len(treatments))
    X = np.zeros((n, len(treatments)))
    X[np.arange(n), i1] += 1
    X[np.arange(n), i2] -= 1
    X = X[:, 1:]
    fit = _fit(blk, X, y, method)
    fe = fit if method == "FE" else _gls(blk, X, y, 0.0)
    df = n - X.shape[1]
    q = fe["rwr"]
    return NetworkResult(
        yi=y,
        vi=v,
        treat1=tuple(t1s),
        treat2=tuple(t2s),
        study=tuple(st),
        cov=full if full is not None else np.diag(v),
        treatments=tuple(treatments),
        measure=measure,
        method=method,
        test=test,
        level=float(level),
        k=len(studies),
        n_contrasts=n,
        beta=fit["beta"],
        vcov=fit["vcov"],
        tau2=float(fit["tau2"]),
        q=float(q),
        q_df=int(df),
        q_pvalue=float(stats.chi2.sf(q, df)) if df > 0 else float("nan"),
        _blocks=blk,
        _X=X,
    )


def _arm_contrasts(
    arms: pd.DataFrame, measure: str, treatments: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Contrasts against each study's baseline arm with their exact covariance (see below)."""
    from .effects import effect_sizes

    rank = {t: i for i, t in enumerate(treatments)}
    a = arms.assign(_r=arms["treatment"].map(rank), _s=pd.factorize(arms["_study"])[0])
    a = a.sort_values(["_s", "_r"], kind="stable")
    first = ~a["_study"].duplicated()
    base = a[first].set_index("_study")
    t = a[~first]
    b = base.loc[t["_study"]]
    if measure in ("MD", "SMD"):
        es = effect_sizes(
            measure,
            m1=t["mean"].to_numpy(),
            sd1=t["sd"].to_numpy(),
            n1=t["n"].to_numpy(),
            m2=b["mean"].to_numpy(),
            sd2=b["sd"].to_numpy(),
            n2=b["n"].to_numpy(),
        )
        yi, vi = es["yi"].to_numpy(), es["vi"].to_numpy()
        shared = (b["sd"] ** 2 / b["n"]).to_numpy() if measure == "MD" else 1 / b["n"].to_numpy()
    else:
        ev, ne = a["events"].to_numpy(float), (a["n"] - a["events"]).to_numpy(float)
        zero = pd.Series((ev == 0) | (ne == 0)).groupby(a["_study"].to_numpy()).transform("any")
        ev, ne = ev + 0.5 * zero.to_numpy(), ne + 0.5 * zero.to_numpy()
        lo = np.log(ev / ne)
        f = first.to_numpy()
        bpos = np.flatnonzero(f)[np.cumsum(f) - 1][~f]  # row of each contrast's baseline arm
        yi = lo[~f] - lo[bpos]
        shared = 1 / ev[bpos] + 1 / ne[bpos]
        vi = 1 / ev[~f] + 1 / ne[~f] + shared
    con = pd.DataFrame(
        {
            "study": t["_study"].to_numpy(),
            "treat1": t["treatment"].to_numpy(),
            "treat2": b["treatment"].to_numpy(),
            "yi": yi,
            "vi": vi,
        }
    )
    n = len(con)
    cov = np.diag(vi)
    sc = con["study"].to_numpy()
    same = (sc[:, None] == sc[None, :]) & ~np.eye(n, dtype=bool)
    if measure == "SMD":
        total = a.groupby("_study", sort=False)["n"].sum()
        N = total.loc[sc].to_numpy(float)
        cov = np.where(same, shared[:, None] + np.outer(yi, yi) / (2 * N[:, None]), cov)
    else:
        cov = np.where(same, shared[:, None], cov)
    return con, cov


def network_from_arms(
    data: pd.DataFrame,
    *,
    measure: str,
    study: str = "study",
    treatment: str = "treatment",
    mean: str = "mean",
    sd: str = "sd",
    n: str = "n",
    events: str = "events",
    reference: str | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
) -> NetworkResult:
    """Fit a network meta-analysis from arm-level data (one row per arm).

    Contrasts are built against each study's baseline arm with their exact within-study
    covariances, then :func:`network` is fitted.

    * Treatment order: the reference first, then the other treatments sorted; a study's baseline
      is its arm that comes first in that order; one contrast "arm minus baseline" per other arm.
    * ``MD``: ``m_t - m_b``, variance ``sd_t^2/n_t + sd_b^2/n_b``, covariance of two contrasts of
      one study ``sd_b^2/n_b``.
    * ``OR`` (log odds ratio): if any arm of a study has 0 events or ``n`` events, 1/2 is added to
      the events and non-events of every arm of that study (for a two-arm study exactly escalc's
      ``add = 1/2, to = "only0"``); variance ``1/a_t + 1/(n_t - a_t) + 1/a_b + 1/(n_b - a_b)``,
      covariance ``1/a_b + 1/(n_b - a_b)``.
    * ``SMD``: Hedges' g with the exact correction (escalc ``"SMD"``), variance
      ``1/n_t + 1/n_b + g^2/(2(n_t + n_b))``; covariance of g_1 and g_2 sharing the baseline
      ``1/n_b + g_1 g_2 / (2 N)``, N the study's total size (the standard large-sample
      covariance: Gleser and Olkin 2009, eq. 19.19).

    Parameters
    ----------
    data : DataFrame
        One row per arm.
    measure : {"MD", "SMD", "OR"}
    study, treatment : str
        Column names of the study label and the treatment.
    mean, sd, n, events : str
        Column names of the arm statistics (``mean, sd, n`` for MD/SMD; ``events, n`` for OR).
    reference, method, test, level
        As in :func:`network`.

    Returns
    -------
    NetworkResult

    Raises
    ------
    ValueError
        Unknown measure, a missing column, a study with fewer than two arms or two arms of one
        treatment (naming the study), invalid arm statistics, and everything :func:`network`
        raises.

    Examples
    --------
    >>> import pandas as pd, evidence as ev
    >>> arms = pd.DataFrame({"study": [1, 1, 1, 2, 2, 3, 3],
    ...                      "treatment": ["A", "B", "C", "A", "B", "B", "C"],
    ...                      "events": [10, 15, 18, 8, 12, 20, 22],
    ...                      "n": [50, 50, 50, 40, 40, 60, 60]})
    >>> res = ev.network_from_arms(arms, measure="OR", method="FE")
    >>> res.effects["estimate"].round(4).tolist()
    [0.5604, 0.7662]
    """
    measure = str(measure).upper()
    if measure not in ("MD", "SMD", "OR"):
        raise ValueError(f"unknown measure {measure!r}; choose one of ('MD', 'SMD', 'OR')")
    need = [study, treatment] + ([mean, sd, n] if measure != "OR" else [events, n])
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise ValueError(f"network_from_arms: data lacks column(s) {missing}")
    cols = {study: "_study", treatment: "treatment", n: "n"}
    cols.update({mean: "mean", sd: "sd"} if measure != "OR" else {events: "events"})
    arms = data[list(cols)].rename(columns=cols).reset_index(drop=True)
    arms["_study"] = arms["_study"].astype(str)
    arms["treatment"] = arms["treatment"].astype(str)
    for col in [c for c in ("n", "mean", "sd", "events") if c in arms]:
        vals = pd.to_numeric(arms[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(vals.to_numpy(float)))
        if bad.size:
            raise ValueError(f"network_from_arms: non-numeric or missing {col!r} at row {bad[0]}")
        arms[col] = vals.astype(float)
    if measure == "OR":
        bad = np.flatnonzero((arms["events"] < 0) | (arms["events"] > arms["n"]))
        if bad.size:
            raise ValueError(f"network_from_arms: events outside [0, n] at row {bad[0]}")
    dup = arms.duplicated(["_study", "treatment"])
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ValueError(
            f"study {arms['_study'][i]!r} has two arms of treatment {arms['treatment'][i]!r} "
            f"(row {i}); combine them or name them apart"
        )
    size = arms.groupby("_study", sort=False).size()
    if (size < 2).any():
        raise ValueError(f"study {size.index[np.argmax(size < 2)]!r} has fewer than two arms")
    names = sorted(arms["treatment"].unique())
    ref = names[0] if reference is None else str(reference)
    if ref not in names:
        raise ValueError(f"reference {reference!r} is not a treatment of the network: {names}")
    treatments = [ref] + [t for t in names if t != ref]
    con, cov = _arm_contrasts(arms, measure, treatments)
    res = network(
        con["yi"],
        con["vi"],
        con["treat1"],
        con["treat2"],
        con["study"],
        cov=cov,
        reference=ref,
        method=method,
        test=test,
        level=level,
        measure=measure,
    )
    total = arms.groupby("treatment")["n"].sum().reindex(list(res.treatments))
    return dataclasses.replace(res, participants=total.rename("participants"))


# ---------------------------------------------------------------------------------------------
# result


def _fmt(x: float, digits: int = 4) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _p(x: float) -> str:
    if not np.isfinite(x):
        return "NA"
    return "<.0001" if x < 1e-4 else f"{x:.4f}"


@dataclass(frozen=True, eq=False, repr=False)
class NetworkResult:
    """A fitted network meta-analysis (see :func:`network`).

    ``beta`` holds the effects of ``treatments[1:]`` against ``treatments[0]`` (the reference)
    with covariance ``vcov``; ``q`` is metafor's ``QE`` with ``q_df`` df. A terminal shows
    :meth:`summary`, JupyterLab the HTML table; :meth:`to_frame` gives one row per treatment.

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.network([0.5, 0.3, 0.2, -0.1], [0.04, 0.05, 0.06, 0.05],
    ...                  ["B", "C", "C", "C"], ["A", "A", "B", "B"], [1, 2, 3, 4])
    >>> print(res)
    Network meta-analysis (k = 4 studies, 4 contrasts, 3 treatments; measure not named)
      model     : random effects, REML
      test      : Wald z
      reference : A
    <BLANKLINE>
        estimate      SE            95% CI            95% PI       p
      B   0.4194  0.1623  [0.1012, 0.7376]  [0.1012, 0.7376]  0.0098
      C   0.4008  0.1694  [0.0688, 0.7327]  [0.0688, 0.7327]  0.0180
    <BLANKLINE>
      tau^2 = 0.0000  tau = 0.0000  I^2 = 0.0%
      Q(2) = 1.295  p = 0.5235  (heterogeneity and inconsistency)
    >>> res.to_frame()[["treatment", "reference", "estimate", "method"]].round(4)
      treatment reference  estimate method
    0         B         A    0.4194   REML
    1         C         A    0.4008   REML
    """

    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    treat1: tuple[str, ...] = field(repr=False)
    treat2: tuple[str, ...] = field(repr=False)
    study: tuple[str, ...] = field(repr=False)
    cov: np.ndarray = field(repr=False)
    treatments: tuple[str, ...]
    measure: str | None
    method: str
    test: str
    level: float
    k: int
    n_contrasts: int
    beta: np.ndarray = field(repr=False)
    vcov: np.ndarray = field(repr=False)
    tau2: float
    q: float
    q_df: int
    q_pvalue: float
    _blocks: _Blocks = field(repr=False)
    _X: np.ndarray = field(repr=False)
    #: participants per treatment (sum of arm sizes), known when fitted from arms
    participants: pd.Series | None = field(default=None, repr=False)

    # ---- derived -----------------------------------------------------------------------------
    @property
    def reference(self) -> str:
        return self.treatments[0]

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def i2(self) -> float:
        """I^2 in percent, ``max(0, (Q - df) / Q)`` as netmeta."""
        if self.q_df <= 0 or self.q <= 0:
            return float("nan")
        return float(max(0.0, (self.q - self.q_df) / self.q) * 100)

    def _crit(self) -> float:
        a = (1 - self.level / 100) / 2
        return float(stats.t.isf(a, self.q_df) if self.test == "t" else stats.norm.isf(a))

    def _pvalue(self, z: np.ndarray) -> np.ndarray:
        if self.test == "t":
            return 2 * stats.t.sf(np.abs(z), self.q_df)
        return 2 * stats.norm.sf(np.abs(z))

    def methods_text(self) -> str:
        """One line naming the model and every method choice."""
        tst = "Wald z" if self.test == "z" else f"t({self.q_df})"
        return (
            f"Network meta-analysis, {_METHOD_TEXT[self.method]}, {tst}, reference "
            f"{self.reference}; tau^2 common to all comparisons, rho = 1/2 in multi-arm studies"
        )

    @property
    def effects(self) -> pd.DataFrame:
        """Every treatment vs the reference: estimate, se, z, pvalue, CI and PI."""
        se = np.sqrt(np.diag(self.vcov))
        crit = self._crit()
        z = self.beta / se
        pis = np.sqrt(se**2 + self.tau2)
        return pd.DataFrame(
            {
                "estimate": self.beta,
                "se": se,
                "statistic": z,
                "pvalue": self._pvalue(z),
                "ci_low": self.beta - crit * se,
                "ci_high": self.beta + crit * se,
                "pi_low": self.beta - crit * pis,
                "pi_high": self.beta + crit * pis,
            },
            index=pd.Index(self.treatments[1:], name="treatment"),
        )

    def _full(self) -> tuple[np.ndarray, np.ndarray]:
        """Effects of all treatments (reference 0) and their covariance (reference row 0)."""
        T = len(self.treatments)
        d = np.r_[0.0, self.beta]
        C = np.zeros((T, T))
        C[1:, 1:] = self.vcov
        return d, C

    def league(self, table: bool = False, digits: int = 2) -> pd.DataFrame:
        """All pairwise estimates (netmeta ``netleague``).

        Parameters
        ----------
        table : bool
            ``False``: a tidy frame with one row per ordered pair (``treat1`` vs ``treat2``:
            estimate, se, CI, p). ``True``: the square league table of strings, cell
            (row i, column j) = treatment i vs treatment j, treatment names on the diagonal.
        digits : int
            Digits of the table cells (ratio measures are shown exponentiated).

        Examples
        --------
        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
        ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
        >>> res.league(table=True)
                           A                     B                     C
        A                  A  -0.39 [-0.73, -0.06]  -0.43 [-0.79, -0.08]
        B  0.39 [0.06, 0.73]                     B   -0.04 [-0.41, 0.33]
        C  0.43 [0.08, 0.79]    0.04 [-0.33, 0.41]                     C
        """
        d, C = self._full()
        T = len(self.treatments)
        i, j = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
        est = d[i] - d[j]
        var = np.diag(C)[i] + np.diag(C)[j] - 2 * C[i, j]
        se = np.sqrt(np.maximum(var, 0))
        crit = self._crit()
        lo, hi = est - crit * se, est + crit * se
        if table:
            tf = np.exp if self.measure in _RATIO else (lambda x: x)
            cells = np.empty((T, T), dtype=object)
            for a in range(T):
                for b in range(T):
                    if a == b:
                        cells[a, b] = self.treatments[a]
                    else:
                        cells[a, b] = (
                            f"{tf(est[a, b]):.{digits}f} "
                            f"[{tf(lo[a, b]):.{digits}f}, {tf(hi[a, b]):.{digits}f}]"
                        )
            names = list(self.treatments)
            return pd.DataFrame(cells, index=names, columns=names)
        off = i != j
        with np.errstate(divide="ignore", invalid="ignore"):
            z = est / se
        return pd.DataFrame(
            {
                "treat1": np.array(self.treatments)[i[off]],
                "treat2": np.array(self.treatments)[j[off]],
                "estimate": est[off],
                "se": se[off],
                "ci_low": lo[off],
                "ci_high": hi[off],
                "pvalue": self._pvalue(z[off]),
            }
        )

    def pscores(self, small_values: str = "desirable") -> pd.DataFrame:
        """P-scores (Rucker and Schwarzer 2015; netmeta ``netrank``), best first.

        ``P_i = mean over j != i of Phi((d_j - d_i) / se_ij)`` when small values are desirable
        (``Phi((d_i - d_j) / se_ij)`` when they are undesirable), always with normal quantiles.

        Examples
        --------
        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
        ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
        >>> res.pscores(small_values="undesirable").round(4).reset_index()
          treatment  pscore
        0         C  0.7873
        1         B  0.7028
        2         A  0.0098
        """
        if small_values not in ("desirable", "undesirable"):
            raise ValueError("small_values must be 'desirable' or 'undesirable'")
        d, C = self._full()
        var = np.diag(C)[:, None] + np.diag(C)[None, :] - 2 * C
        sign = -1.0 if small_values == "desirable" else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            P = stats.norm.cdf(sign * (d[:, None] - d[None, :]) / np.sqrt(var))
        np.fill_diagonal(P, 0.0)
        score = P.sum(axis=1) / (len(d) - 1)
        out = pd.DataFrame({"pscore": score}, index=pd.Index(self.treatments, name="treatment"))
        return out.sort_values("pscore", ascending=False, kind="stable")

    # ---- node-splitting ------------------------------------------------------------------------
    def _study_arms(self) -> dict[str, set[str]]:
        arms: dict[str, set[str]] = {}
        for s, a, b in zip(self.study, self.treat1, self.treat2, strict=True):
            arms.setdefault(s, set()).update((a, b))
        return arms

    def comparisons(self) -> pd.DataFrame:
        """Pairs of treatments with direct evidence and the number of studies comparing them.

        A multi-arm study compares every pair of its arms. Pairs are ``treat1`` vs ``treat2``
        with ``treat1`` later in :attr:`treatments`.

        Examples
        --------
        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
        ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
        >>> res.comparisons()
          treat1 treat2  k
        0      B      A  1
        1      C      A  1
        2      C      B  1
        """
        arms = self._study_arms()
        rows = []
        T = len(self.treatments)
        for i in range(1, T):
            for j in range(i):
                a, b = self.treatments[i], self.treatments[j]
                k = sum(a in s and b in s for s in arms.values())
                if k:
                    rows.append((a, b, k))
        return pd.DataFrame(rows, columns=["treat1", "treat2", "k"])

    def split(self) -> pd.DataFrame:
        """Direct, indirect and network estimates for every comparison with direct evidence.

        Node-splitting with an indicator moderator per split comparison (definition in the
        module docstring): for comparison ``treat1`` vs ``treat2`` the model
        is refitted with tau^2 re-estimated by the same method. ``difference`` is direct minus
        indirect with its Wald test; ``tau2`` is the split model's. Comparisons without
        independent indirect evidence have direct = network and NaN indirect.

        Examples
        --------
        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
        ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
        >>> res.split()[["comparison", "direct", "indirect", "network"]].round(3)
          comparison  direct  indirect  network
        0     B vs A     0.5       0.1    0.393
        1     C vs A     0.3       0.7    0.433
        2     C vs B     0.2      -0.2    0.040
        """
        y, X, blk = self.yi, self._X, self._blocks
        st = np.array(self.study, dtype=object)
        t1, t2 = np.array(self.treat1, dtype=object), np.array(self.treat2, dtype=object)
        arms = self._study_arms()
        p = X.shape[1]
        rank_x = np.linalg.matrix_rank(X)
        rows = []
        T = len(self.treatments)
        for i in range(1, T):
            for j in range(i):
                A, B = self.treatments[i], self.treatments[j]
                both = [s for s, a in arms.items() if A in a and B in a]
                if not both:
                    continue
                cc = np.zeros(p)
                cc[i - 1] += 1
                if j > 0:
                    cc[j - 1] -= 1
                net = float(cc @ self.beta)
                net_se = float(np.sqrt(cc @ self.vcov @ cc))
                ind = np.isin(st, both) * ((t1 == A).astype(float) - (t2 == A))
                Xs = np.column_stack([X, ind])
                row = {
                    "comparison": f"{A} vs {B}",
                    "treat1": A,
                    "treat2": B,
                    "k_direct": len(both),
                    "network": net,
                    "network_se": net_se,
                }
                if np.linalg.matrix_rank(Xs) <= rank_x:
                    row.update(direct=net, direct_se=net_se, identifiable=False)
                    rows.append(row)
                    continue
                f = _fit(blk, Xs, y, self.method)
                b, V = f["beta"], f["vcov"]
                cd = np.r_[cc, 1.0]
                ci = np.r_[cc, 0.0]
                row.update(
                    direct=float(cd @ b),
                    direct_se=float(np.sqrt(cd @ V @ cd)),
                    indirect=float(ci @ b),
                    indirect_se=float(np.sqrt(ci @ V @ ci)),
                    difference=float(b[-1]),
                    difference_se=float(np.sqrt(V[-1, -1])),
                    tau2=f["tau2"],
                    identifiable=True,
                )
                rows.append(row)
        cols = [
            "comparison",
            "treat1",
            "treat2",
            "k_direct",
            "direct",
            "direct_se",
            "indirect",
            "indirect_se",
            "network",
            "network_se",
            "difference",
            "difference_se",
            "statistic",
            "pvalue",
            "tau2",
            "identifiable",
        ]
        out = pd.DataFrame(rows).reindex(columns=cols)
        out["statistic"] = out["difference"] / out["difference_se"]
        if self.test == "t":
            df_split = self.n_contrasts - p - 1
            out["pvalue"] = 2 * stats.t.sf(np.abs(out["statistic"]), df_split)
        else:
            out["pvalue"] = 2 * stats.norm.sf(np.abs(out["statistic"]))
        out["identifiable"] = out["identifiable"].astype(bool)
        return out

    # ---- design-by-treatment interaction -------------------------------------------------------
    def inconsistency(self) -> pd.DataFrame:
        """Design-by-treatment interaction model (Higgins et al. 2012), as metafor fits it.

        Rows: ``total`` (the consistency model's Q), ``within designs`` (residual Q of the model
        in which every design has its own effects), ``between designs`` (their difference: the
        inconsistency Q) and, for random-effects methods, ``wald (interaction)``: the Wald test
        of the interaction terms in the interaction model with its own tau^2 (metafor ``QM``).

        Examples
        --------
        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2, 0.1], [0.04, 0.05, 0.06, 0.05],
        ...                  ["B", "C", "C", "C"], ["A", "A", "B", "B"], [1, 2, 3, 4],
        ...                  method="FE")
        >>> res.inconsistency()[["q", "df"]].round(4).reset_index()
                      part       q  df
        0            total  1.1085   2
        1   within designs  0.0909   1
        2  between designs  1.0176   1
        """
        st = np.array(self.study, dtype=object)
        t1, t2 = np.array(self.treat1, dtype=object), np.array(self.treat2, dtype=object)
        arms = self._study_arms()
        order = {t: i for i, t in enumerate(self.treatments)}
        design = {s: ":".join(sorted(a, key=order.get)) for s, a in arms.items()}
        des = np.array([design[s] for s in st], dtype=object)
        cols = []
        for g in sorted(set(des)):
            for t in g.split(":")[1:]:
                cols.append((des == g) * ((t1 == t).astype(float) - (t2 == t)))
        Z = np.column_stack(cols)
        rank_z = np.linalg.matrix_rank(Z)
        p = self._X.shape[1]
        n = self.n_contrasts
        rows = [("total", self.q, self.q_df, self.q_pvalue, self.tau2)]
        if rank_z > p:
            fz = _fit(self._blocks, Z, self.yi, self.method)
            q_w = _gls(self._blocks, Z, self.yi, 0.0)["rwr"] if self.method != "FE" else fz["rwr"]
            df_w = n - rank_z
            rows.append(
                ("within designs", q_w, df_w, stats.chi2.sf(q_w, df_w) if df_w else np.nan, np.nan)
            )
            qb, dfb = self.q - q_w, rank_z - p
            rows.append(("between designs", qb, dfb, stats.chi2.sf(qb, dfb), np.nan))
            if self.method != "FE":
                fx = _gls(self._blocks, self._X, self.yi, fz["tau2"])
                wald = fx["rwr"] - fz["rwr"]
                rows.append(("wald (interaction)", wald, dfb, stats.chi2.sf(wald, dfb), fz["tau2"]))
        else:
            rows.append(("within designs", self.q, self.q_df, self.q_pvalue, np.nan))
            rows.append(("between designs", 0.0, 0, np.nan, np.nan))
        out = pd.DataFrame(rows, columns=["part", "q", "df", "pvalue", "tau2"]).set_index("part")
        return out

    # ---- output --------------------------------------------------------------------------------
    def summary(self) -> str:
        """A readable summary: model, method choices, effects vs the reference, Q and tau^2."""
        lvl = f"{self.level:g}%"
        eff = self.effects
        tf = np.exp if self.measure in _RATIO else (lambda x: x)
        name = self.measure if self.measure in _RATIO else "estimate"
        table = pd.DataFrame(
            {
                name: [_fmt(tf(x)) for x in eff["estimate"]],
                "SE": [_fmt(x) for x in eff["se"]],
                f"{lvl} CI": [
                    f"[{_fmt(tf(a))}, {_fmt(tf(b))}]"
                    for a, b in zip(eff["ci_low"], eff["ci_high"], strict=True)
                ],
                f"{lvl} PI": [
                    f"[{_fmt(tf(a))}, {_fmt(tf(b))}]"
                    for a, b in zip(eff["pi_low"], eff["pi_high"], strict=True)
                ],
                "p": [_p(x) for x in eff["pvalue"]],
            },
            index=list(eff.index),
        )
        lines = [
            f"Network meta-analysis (k = {self.k} studies, {self.n_contrasts} contrasts, "
            f"{len(self.treatments)} treatments; "
            f"{'measure ' + self.measure if self.measure else 'measure not named'})",
            f"  model     : {_METHOD_TEXT[self.method]}",
            f"  test      : {'Wald z' if self.test == 'z' else f't({self.q_df})'}",
            f"  reference : {self.reference}",
            "",
            *("  " + line.rstrip() for line in table.to_string().splitlines()),
        ]
        if self.measure in _RATIO:
            lines.append(f"  ({self.measure}s; SE on the log scale)")
        lines += [
            "",
            f"  tau^2 = {_fmt(self.tau2)}  tau = {_fmt(self.tau)}  I^2 = {_fmt(self.i2, 1)}%",
            f"  Q({self.q_df}) = {_fmt(self.q, 3)}  p = {_p(self.q_pvalue)}  "
            "(heterogeneity and inconsistency)",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    __repr__ = __str__

    def to_frame(self) -> pd.DataFrame:
        """One row per treatment vs the reference, with tau^2, Q and every method choice."""
        out = self.effects.reset_index()
        out.insert(1, "reference", self.reference)
        for key in ("measure", "method", "test", "level", "tau2", "q", "q_df", "q_pvalue"):
            out[key] = getattr(self, key)
        out["k"] = self.k
        return out

    def _repr_html_(self) -> str:
        lvl = f"{self.level:g}%"
        eff = self.effects
        head = "".join(
            f"<th>{h}</th>" for h in ("treatment", "estimate", "SE", f"{lvl} CI", f"{lvl} PI", "p")
        )
        body = "".join(
            f"<tr><td>{html.escape(str(t))}</td><td>{_fmt(r.estimate)}</td><td>{_fmt(r.se)}</td>"
            f"<td>[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]</td>"
            f"<td>[{_fmt(r.pi_low)}, {_fmt(r.pi_high)}]</td><td>{_p(r.pvalue)}</td></tr>"
            for t, r in eff.iterrows()
        )
        note = (
            f"k = {self.k} studies, {self.n_contrasts} contrasts; tau^2 = {_fmt(self.tau2)}; "
            f"Q({self.q_df}) = {_fmt(self.q, 3)}, p = {_p(self.q_pvalue)}. {self.methods_text()}."
        )
        return (
            f"<div><strong>Network meta-analysis vs {html.escape(self.reference)}</strong>"
            f"<table><tr>{head}</tr>{body}</table>"
            f"<p><small>{html.escape(note)}</small></p></div>"
        )

    # ---- plots (evidence.plots.network; matplotlib imported on call) ---------------------------
    def network_plot(self, **kwargs):
        """Network graph; see :func:`evidence.plots.network.network_graph`."""
        from evidence.plots.network import network_graph

        return network_graph(self, **kwargs)

    def forest_plot(self, **kwargs):
        """Every treatment vs the reference; see :func:`evidence.plots.network.network_forest`."""
        from evidence.plots.network import network_forest

        return network_forest(self, **kwargs)

    def split_plot(self, **kwargs):
        """Direct / indirect / network forest; see :func:`evidence.plots.network.split_forest`."""
        from evidence.plots.network import split_forest

        return split_forest(self, **kwargs)


_RATIO = ("OR", "RR", "HR", "IRR", "ROM")
