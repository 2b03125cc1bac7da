"""Sensitivity analyses: influence diagnostics, Baujat coordinates, GOSH.

All three refit the model on many subsets of the studies at once: leave-one-out diagnostics are a
batch of ``k`` masks, GOSH a batch of up to 2^20 masks, fitted with the batched engines
(:func:`evidence.meta.pooling.fit_batch`, :func:`evidence.meta.regression.fit_regression_batch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .pooling import METHODS, check_inputs
from .pooling.checks import _name
from .pooling.fit import BATCH_CELLS, chunks, fit_batch, merge_chunks
from .regression.fit import _gram, fit_regression_batch
from .results import _html_table

__all__ = ["InfluenceResult", "GoshResult", "influence", "baujat", "gosh"]

#: Largest inclusion matrix (subsets x studies) GOSH builds; beyond it a clear error suggests
#: fewer random subsets (the default number of random subsets is capped to stay below it).
GOSH_MAX_CELLS = 200_000_000


def _model(result):
    """(yi, vi, X, method, test, level, labels) of a PoolResult or MetaRegressionResult."""
    X = getattr(result, "X", None)
    if X is None:
        X = np.ones((result.k, 1))
    labels = getattr(result, "labels", None)
    labels = tuple(labels) if labels else tuple(f"Study {i + 1}" for i in range(result.k))
    return result.yi, result.vi, X, result.method, result.test, result.level, labels


def _loo(result):
    """Full and leave-one-out fits of a result's model (batched)."""
    y, v, X, method, test, level, labels = _model(result)
    k, p = X.shape
    if k < 2:
        raise ValueError("influence diagnostics need at least 2 studies")
    io = p == 1
    full = fit_regression_batch(
        y[None],
        v[None],
        np.ones((1, k), bool),
        X,
        method=method,
        test=test,
        level=level,
        intercept_only=io,
    )
    parts = []
    for a, b in chunks(k, k * p):  # leave-one-out fits in chunks: memory linear in k
        B = b - a
        f = fit_regression_batch(
            np.broadcast_to(y, (B, k)),
            np.broadcast_to(v, (B, k)),
            np.arange(k) != np.arange(a, b)[:, None],
            X,
            method=method,
            test=test,
            level=level,
            intercept_only=io,
        )
        f.pop("resid")
        parts.append(f)
    return y, v, X, method, labels, full, merge_chunks(parts)


@dataclass(frozen=True, eq=False)
class InfluenceResult:
    """Case-deletion diagnostics (metafor ``influence.rma.uni``), one entry per study.

    Cook's distance and the covariance ratio involve all p coefficients (as metafor).
    ``inf`` flags a study as influential when |DFFITS| > 3 sqrt(p / (k - p)), the chi^2(p)
    probability of Cook's distance exceeds 0.5, the hat value exceeds 3 p / k, or any
    |DFBETAS| exceeds 1 (metafor's rule). Under Knapp-Hartung with every residual exactly 0
    (e.g. identical studies) the scaled variance is 0 and every ratio to it (``rstudent``,
    ``dffits``, ``cook_d``, ``cov_r``, ``dfbetas``) is 0/0: NaN, and only the hat value can flag
    a study (metafor stops with an error); ``tau2_del``, ``qe_del``, ``hat`` and ``weight``
    stay defined.
    """

    labels: tuple[str, ...]
    method: str
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    inf: np.ndarray
    dfbetas: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """metafor's ``influence()`` table (same column names), indexed by study."""
        return pd.DataFrame(
            {
                "rstudent": self.rstudent,
                "dffits": self.dffits,
                "cook.d": self.cook_d,
                "cov.r": self.cov_r,
                "tau2.del": self.tau2_del,
                "QE.del": self.qe_del,
                "hat": self.hat,
                "weight": self.weight,
                "inf": self.inf,
            },
            index=pd.Index(self.labels, name="study"),
        )

    def summary(self) -> str:
        flagged = [lab for lab, f in zip(self.labels, self.inf, strict=True) if f]
        head = f"Influence diagnostics ({self.method}; k = {len(self.labels)})"
        tail = f"influential: {', '.join(flagged)}" if flagged else "no study flagged influential"
        return f"{head}\n{self.to_frame().round(4).to_string()}\n{tail}"

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self.to_frame().round(4).to_html()


def influence(result) -> InfluenceResult:
    """Influence diagnostics of a fitted model (metafor ``influence()``).

    Works on a :class:`~evidence.meta.results.PoolResult` or a
    :class:`~evidence.meta.regression.MetaRegressionResult`. Every leave-one-out model is fitted in
    one batch.

    Examples
    --------
    >>> from evidence import pool
    >>> inf = influence(pool([0.1, 0.3, 0.35, 0.65, 0.45, 0.15],
    ...                      [0.03, 0.03, 0.05, 0.01, 0.05, 0.02]))
    >>> print(inf.to_frame()[["rstudent", "cook.d", "hat"]].round(3).iloc[3])
    rstudent    3.241
    cook.d      1.209
    hat         0.237
    Name: Study 4, dtype: float64
    """
    y, v, X, method, labels, full, dele = _loo(result)
    k, p = X.shape
    btt = list(range(p))  # metafor's influence() uses every coefficient (int.incl = FALSE)
    beta, vb = full["beta"][0], full["vb"][0]
    tau2 = full["tau2"][0]
    w = 1 / (v + tau2)
    ainv = np.linalg.inv(_gram(X[None], w[None]))[0]
    hat = np.einsum("ij,jk,ik->i", X, ainv, X) * w
    pred = X @ beta
    bdel, vbdel, s2w = dele["beta"], dele["vb"], dele["s2w"]
    t2del = dele["tau2"]
    delpred = (X * bdel).sum(1)
    vdelpred = np.einsum("ij,ijk,ik->i", X, vbdel, X)
    with np.errstate(divide="ignore", invalid="ignore"):
        dffits = (pred - delpred) / np.sqrt(s2w * hat * (t2del + v))
        diag = np.empty((k, p))
        for a, b in chunks(k, k * p):  # all k studies, tau^2 of each deletion fit
            wd = 1 / (v[None, :] + t2del[a:b, None])
            vb_d = np.linalg.inv(_gram(np.broadcast_to(X, (b - a, k, p)), wd))
            diag[a:b] = np.diagonal(vb_d, axis1=1, axis2=2)
        dfb = beta[None, :] - bdel
        dfbs = dfb / np.sqrt(s2w[:, None] * diag)
        d = dfb[:, btt]
        if full["s2w"][0] > 0:
            svb = np.linalg.inv(vb[np.ix_(btt, btt)])
            cook = np.einsum("bi,ij,bj->b", d, svb, d)
        else:  # Knapp-Hartung with every residual 0: the covariance is 0, cook.d is 0/0
            cook = np.full(k, np.nan)
        cov_r = np.linalg.det(vbdel[:, btt][:, :, btt]) / np.linalg.det(vb[np.ix_(btt, btt)])
        resid = y - delpred
        resid[np.abs(resid) < 100 * np.finfo(float).eps] = 0.0
        rstudent = resid / np.sqrt(v * s2w + vdelpred + t2del * s2w)
    if full["s2w"][0] == 0:  # the same 0/0 for every ratio to the Knapp-Hartung variance
        rstudent, dffits, cov_r = (np.full(k, np.nan) for _ in range(3))
        dfbs = np.full((k, p), np.nan)
    weight = 100 * w / w.sum()
    inf = (
        (np.abs(dffits) > 3 * np.sqrt(p / (k - p)))
        | (stats.chi2.cdf(cook, len(btt)) > 0.5)
        | (hat > 3 * p / k)
        | np.any(np.abs(dfbs) > 1, axis=1)
    )
    names = getattr(result, "names", ("intrcpt",))
    return InfluenceResult(
        labels=labels,
        method=method,
        rstudent=rstudent,
        dffits=dffits,
        cook_d=cook,
        cov_r=cov_r,
        tau2_del=t2del,
        qe_del=dele["qe"],
        hat=hat,
        weight=weight,
        inf=inf,
        dfbetas=pd.DataFrame(dfbs, columns=list(names), index=pd.Index(labels, name="study")),
    )


def baujat(result) -> pd.DataFrame:
    """Baujat coordinates (metafor ``baujat()``): one row per study.

    ``x`` is the squared Pearson residual ``(y_i - fitted_i)^2 / (v_i + tau^2)`` (under a
    common-effect model: the study's contribution to Q); ``y`` is the influence on the fitted
    value, ``(fitted_i - fitted_i,(-i))^2 / Var(fitted_i,(-i))``, NaN under Knapp-Hartung when
    every residual is 0 (0/0, as in :func:`influence`).

    Examples
    --------
    >>> from evidence import pool
    >>> b = baujat(pool([0.1, 0.3, 0.35, 0.65, 0.45, 0.15],
    ...                 [0.03, 0.03, 0.05, 0.01, 0.05, 0.02], method="FE"))
    >>> print(b.round(3).iloc[3].tolist())
    [6.413, 4.094]
    """
    y, v, X, _, labels, full, dele = _loo(result)
    pred = X @ full["beta"][0]
    delpred = (X * dele["beta"]).sum(1)
    vdelpred = np.einsum("ij,ijk,ik->i", X, dele["vb"], X)
    xh = (y - pred) ** 2 / (full["tau2"][0] + v)
    with np.errstate(divide="ignore", invalid="ignore"):
        yh = (delpred - pred) ** 2 / vdelpred
    if full["s2w"][0] == 0:  # Knapp-Hartung with every residual 0: 0/0 (not rounding / 0)
        yh = np.full(y.size, np.nan)
    return pd.DataFrame({"x": xh, "y": yh}, index=pd.Index(labels, name="study"))


@dataclass(frozen=True, eq=False)
class GoshResult:
    """GOSH analysis (metafor ``gosh()``): the model fitted to many subsets of the studies.

    ``table`` has one row per subset with metafor's columns ``k, QE, I2, H2, tau2, estimate``,
    ordered as metafor orders them (by subset size; within a size, by the binary code of the
    subset with study 1 as the lowest bit). ``incl`` says which studies each subset includes.
    As metafor, a single-study subset has QE = 0, I^2 = 0, H^2 = 1, and DL fits report
    H^2 = QE / (k - 1).
    """

    method: str
    k: int
    exact: bool
    seed: int | None
    table: pd.DataFrame = field(repr=False)
    incl: np.ndarray = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self) -> str:
        kind = "all subsets" if self.exact else f"random subsets (seed {self.seed})"
        t = self.table
        return (
            f"GOSH ({self.method}; k = {self.k}): {len(t)} models, {kind}\n"
            f"  estimate range [{t.estimate.min():.4f}, {t.estimate.max():.4f}]  "
            f"I^2 range [{t.I2.min():.1f}, {t.I2.max():.1f}]%"
        )

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        t = self.table
        rows = [
            ("models", str(len(t))),
            ("exact", str(self.exact)),
            ("estimate range", f"[{t.estimate.min():.4f}, {t.estimate.max():.4f}]"),
            ("I^2 range", f"[{t.I2.min():.1f}, {t.I2.max():.1f}]%"),
        ]
        return _html_table(f"GOSH (k = {self.k})", rows, f"tau^2 estimator {self.method}")


def _gosh_fe(y, v, incl):
    """Common-effect fits of every subset: estimate, Q, I^2 and H^2 from sums over subsets.

    Effects are centred on their weighted mean first so that Q = S(w y^2) - S(w y)^2 / S(w)
    does not lose precision to cancellation.
    """
    w = 1 / v
    yc = y - (w * y).sum() / w.sum()
    terms = np.stack([w, w * yc, w * yc**2, np.ones_like(w)], axis=1)
    sums = np.empty((incl.shape[0], 4))
    for a, b in chunks(incl.shape[0], y.size):  # in chunks: no float copy of the whole matrix
        sums[a:b] = incl[a:b].astype(float) @ terms
    sw, swy, swy2, k = sums.T
    q = np.maximum(swy2 - swy**2 / sw, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        i2 = np.maximum(0.0, 100 * (q - (k - 1)) / q)
        h2 = q / (k - 1)
    return {
        "k": k,
        "QE": q,
        "I2": i2,
        "H2": h2,
        "tau2": np.zeros(k.size),
        "estimate": swy / sw + (y - yc)[0],
    }


def gosh(
    yi, vi, *, method: str = "FE", max_subsets: int | None = None, seed: int | None = None
) -> GoshResult:
    """Fit the model to every subset of studies (k <= 20) or to random subsets (metafor ``gosh``).

    Parameters
    ----------
    yi, vi : array-like
        Effect sizes and sampling variances.
    method : str, default "FE"
        tau^2 estimator for every subset (``FE`` is the classical GOSH plot).
    max_subsets : int, optional
        All 2^k - 1 subsets are fitted when that number is at most ``max_subsets``; otherwise
        ``max_subsets`` random subsets (size drawn from Binomial(k, 1/2) truncated at 1, then a
        random subset of that size, as metafor). Default: all subsets up to k = 20, else 10^6
        random subsets (metafor's default), capped at ``GOSH_MAX_CELLS / k`` so that memory
        stays bounded; more subsets than that raise ``ValueError``.
    seed : int, optional
        Seed of ``numpy.random.default_rng`` for random subsets.

    Examples
    --------
    >>> g = gosh([0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02])
    >>> len(g.table), g.exact
    (63, True)
    >>> print(round(g.table.estimate.max(), 4))
    0.65
    """
    y, v = check_inputs(yi, vi)
    method = _name(method, METHODS, "method")
    k = y.size
    if k < 2:
        raise ValueError("GOSH needs at least 2 studies")
    n_all = 2**k - 1
    if max_subsets is None:
        max_subsets = n_all if k <= 20 else min(10**6, GOSH_MAX_CELLS // k)
    exact = n_all <= max_subsets
    if min(n_all, max_subsets) * k > GOSH_MAX_CELLS:
        raise ValueError(
            f"GOSH with {min(n_all, max_subsets)} subsets of k = {k} studies exceeds the memory "
            f"bound ({GOSH_MAX_CELLS:.0e} cells); use max_subsets <= {GOSH_MAX_CELLS // k} "
            "(random subsets, seed=...)"
        )
    if exact:
        codes = np.arange(1, 2**k, dtype=np.int64)
        incl = ((codes[:, None] >> np.arange(k)) & 1).astype(bool)
        incl = incl[np.argsort(incl.sum(1), kind="stable")]
    else:
        rng = np.random.default_rng(seed)
        sizes = np.arange(1, k + 1)
        prob = stats.binom.pmf(sizes, k, 0.5)
        size = rng.choice(sizes, size=max_subsets, p=prob / prob.sum())
        incl = np.empty((max_subsets, k), dtype=bool)
        for a, b in chunks(max_subsets, k):  # same random stream as one draw, bounded memory
            ranks = np.argsort(np.argsort(rng.random((b - a, k)), axis=1), axis=1)
            incl[a:b] = ranks < size[a:b, None]
        incl = incl[np.argsort(incl.sum(1), kind="stable")]
    cols = {c: np.empty(incl.shape[0]) for c in ("k", "QE", "I2", "H2", "tau2", "estimate")}
    if method == "FE":  # closed form through three matrix products (no per-subset arrays)
        cols.update(_gosh_fe(y, v, incl))
        incl_done = True
    else:
        incl_done = False
    step = max(1, BATCH_CELLS // k)
    for start in range(0, 0 if incl_done else incl.shape[0], step):
        m = incl[start : start + step]
        B = m.shape[0]
        fit = fit_batch(np.broadcast_to(y, (B, k)), np.broadcast_to(v, (B, k)), m, method=method)
        sl = slice(start, start + B)
        cols["k"][sl] = fit["k"]
        cols["QE"][sl] = fit["q"]
        cols["I2"][sl] = fit["i2"]
        cols["H2"][sl] = fit["h2"]
        cols["tau2"][sl] = fit["tau2"]
        cols["estimate"][sl] = fit["estimate"]
    if method == "DL":  # metafor's fast DL path reports H^2 = Q / (k - 1), unfloored
        with np.errstate(divide="ignore", invalid="ignore"):
            cols["H2"] = cols["QE"] / (cols["k"] - 1)
    one = cols["k"] == 1  # metafor reports a single-study fit as QE = 0, I^2 = 0, H^2 = 1
    cols["QE"][one], cols["I2"][one], cols["H2"][one] = 0.0, 0.0, 1.0
    table = pd.DataFrame(cols)
    table["k"] = table["k"].astype(int)
    return GoshResult(
        method=method, k=k, exact=exact, seed=None if exact else seed, table=table, incl=incl
    )
