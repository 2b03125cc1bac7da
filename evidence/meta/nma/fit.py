"""Network meta-analysis, entry points: :func:`network` and :func:`network_from_arms`.

:func:`network` takes one row per contrast (with the full covariance when a study has several),
checks it (:mod:`.inputs`), fits the model (:mod:`.model`) and returns a
:class:`~evidence.meta.nma.result.NetworkResult`. :func:`network_from_arms` takes one row per
arm, builds the contrasts against each study's baseline arm with their exact within-study
covariance and fits :func:`network`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_level
from ..pooling import check_aligned
from .inputs import (
    _check_contrast_rows,
    _check_cov,
    _check_study_blocks,
    _labels,
    _name,
    _strings,
    _treatment_order,
)
from .model import NETWORK_METHODS, NETWORK_TESTS, _Blocks, _Design, _fit_d, _gls_d
from .result import NetworkResult


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
        tau^2 estimator (see the :mod:`evidence.meta.nma` docstring).
    test : {"z", "t"}
        Wald z tests and normal intervals, or t with ``n - (T - 1)`` df (metafor ``test="t"``).
    level : float
        Confidence (and prediction) level in percent; a proportion such as 0.95 is read as 95%
        (as metafor and :func:`evidence.pool`; :func:`evidence.meta.checks.check_level`).
    measure : str, optional
        Name of the effect measure (``"OR"`` and other ratio measures are on the log scale).

    Returns
    -------
    NetworkResult

    Raises
    ------
    ValueError
        Unequal lengths, pandas inputs (Series, a DataFrame ``cov``) with different indexes
        (they would be paired by position), missing labels, labels of different types that
        print alike (``1`` and ``"1"``), non-finite values or ``|yi|``, ``vi`` beyond 1e100 (or
        ``vi`` below 1e-100), ``treat1 == treat2`` (naming the row), a multi-contrast study
        without ``cov``, a study whose covariance block is singular or not positive definite,
        implies a negative arm variance or whose contrasts are linearly dependent (naming the
        study), a ``cov`` with non-zero entries between studies, a disconnected network (naming
        its components), a level outside (1, 100) (or (0.5, 1) as a proportion) or an unknown
        reference, method or test.

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
    from ..pooling.checks import _vector

    y, v = _vector("yi", yi), _vector("vi", vi)
    check_aligned(yi=yi, vi=vi, treat1=treat1, treat2=treat2, study=study, cov=cov)
    level = check_level(level)
    t1s, t2s = _labels(treat1=treat1, treat2=treat2)
    st = _strings("study", study)
    n = y.size
    _check_contrast_rows(y, v, t1s, t2s, st)
    treatments, i1, i2 = _treatment_order(t1s, t2s, reference)
    studies = list(dict.fromkeys(st))
    scode = np.array([studies.index(s) for s in st]) if n < 50 else pd.factorize(st)[0]
    full = _check_cov(cov, v, st, scode, studies)
    blk = _Blocks.build(scode, full, v, (i1, i2))
    _check_study_blocks(blk, scode, studies, i1, i2, treatments)
    X = np.zeros((n, len(treatments)))
    X[np.arange(n), i1] += 1
    X[np.arange(n), i2] -= 1
    X = X[:, 1:]
    design = _Design.build(blk, X, y)
    fit = _fit_d(design, method)
    fe = fit if method == "FE" else _gls_d(design, 0.0)
    df = n - X.shape[1]
    q = fe["rwr"]
    if not all(np.isfinite(x).all() for x in (fit["beta"], fit["vcov"], fit["tau2"], q)):
        raise ValueError("the fit overflowed: yi, vi or cov are too extreme for double precision")
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
        level=level,
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
    from ..effects import effect_sizes

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
        Unknown measure, a missing column, no rows, a missing study or treatment label or labels
        of different types that print alike (naming the column and the row), a study with fewer
        than two arms or two arms of one treatment (naming the study), invalid arm statistics,
        and everything :func:`network` raises.

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
    if len(data) == 0:
        raise ValueError("network_from_arms: data has no rows (give one row per arm)")
    arms = data[list(cols)].rename(columns=cols).reset_index(drop=True)
    arms["_study"] = _strings(f"network_from_arms: column {study!r}", arms["_study"])
    arms["treatment"] = _strings(f"network_from_arms: column {treatment!r}", arms["treatment"])
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
