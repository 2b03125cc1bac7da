"""Binary outcomes (stage 3: **pooling**): common-effect pooling of 2x2 tables by
Mantel-Haenszel or Peto (metafor ``rma.mh``, ``rma.peto``), :func:`pool_binary`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_level
from ..results import BinaryPoolResult
from .checks import _name, check_aligned


def _mh(measure, a, b, c, d):
    n1, n2 = a + b, c + d
    n = n1 + n2
    if measure == "OR":
        r, s = a * d / n, b * c / n
        p, q = (a + d) / n, (b + c) / n
        R, S = r.sum(), s.sum()
        var = (p * r).sum() / (2 * R**2) + (p * s + q * r).sum() / (2 * R * S)
        var += (q * s).sum() / (2 * S**2)
        return np.log(R / S), var
    if measure == "RR":
        R, S = (a * n2 / n).sum(), (c * n1 / n).sum()
        var = ((n1 * n2 * (a + c) - a * c * n) / n**2).sum() / (R * S)
        return np.log(R / S), var
    W = (n1 * n2 / n).sum()
    est = ((a * n2 - c * n1) / n).sum() / W
    P = ((n1**2 * c - n2**2 * a + n1 * n2 * (n2 - n1) / 2) / n**2).sum()
    Q = ((a * (n2 - c) + c * (n1 - a)) / (2 * n)).sum()
    return est, (est * P + Q) / W**2


def _peto_terms(a, b, c, d):
    n1, n2 = a + b, c + d
    n = n1 + n2
    ev = a + c
    o_e = a - ev * n1 / n
    var = ev * (n - ev) * n1 * n2 / (n**2 * (n - 1))
    return o_e, var


def pool_binary(
    events1,
    n1,
    events2,
    n2,
    *,
    measure: str = "OR",
    method: str = "MH",
    level: float = 95.0,
    labels: Sequence[str] | None = None,
) -> BinaryPoolResult:
    """Common-effect pooling of 2x2 tables: Mantel-Haenszel or Peto (``rma.mh``, ``rma.peto``).

    The pooled estimate uses the uncorrected tables (metafor's ``add=c(1/2, 0)``); the study-level
    effects used for Q, the weights shown in plots and the display carry the 1/2 zero-cell
    correction, and tables with no events in either arm are excluded from Q (``drop00=TRUE``) and
    listed in ``excluded``. pandas Series arguments (counts and ``labels``) must share one
    index, and at least one table is needed (``ValueError`` otherwise).

    Examples
    --------
    >>> r = pool_binary([4, 6, 3], [50, 60, 40], [8, 10, 9], [50, 58, 41], measure="OR")
    >>> print(round(r.estimate, 4), round(r.se, 4))
    -0.8463 0.3597
    """
    level = check_level(level)
    check_aligned(events1=events1, n1=n1, events2=events2, n2=n2, labels=labels)
    method = _name(method, ("MH", "Peto"), "binary method")
    measure = _name(measure, ("OR", "RR", "RD"), "measure")
    if method == "Peto" and measure != "OR":
        raise ValueError("Peto's method pools odds ratios only (measure='OR')")
    from ..effects import effect_sizes  # local: effects and pooling are sibling stages

    es = effect_sizes(measure, events1=events1, n1=n1, events2=events2, n2=n2, drop00=True)
    if len(es) == 0:
        raise ValueError("no studies to pool (k = 0)")
    if labels is not None:
        labels = tuple(str(x) for x in labels)
        if len(labels) != len(es):
            raise ValueError(f"labels has {len(labels)} entries for {len(es)} studies")
    if method == "Peto":
        es = _peto_effects(events1, n1, events2, n2)
    a = np.asarray(events1, float)
    c = np.asarray(events2, float)
    b, d = np.asarray(n1, float) - a, np.asarray(n2, float) - c
    if method == "MH":
        est, var = _mh(measure, a, b, c, d)
    else:
        o_e, var_i = _peto_terms(a, b, c, d)
        est, var = o_e.sum() / var_i.sum(), 1 / var_i.sum()
    se = float(np.sqrt(var))
    ok = np.isfinite(es["yi"].to_numpy())
    yi, vi = es["yi"].to_numpy(), es["vi"].to_numpy()
    kq = int(ok.sum())
    q = float(((yi[ok] - est) ** 2 / vi[ok]).sum()) if kq > 1 else float("nan")
    crit = stats.norm.isf((1 - level / 100) / 2)
    z = est / se
    return BinaryPoolResult(
        yi=yi,
        vi=vi,
        labels=labels,
        measure=measure,
        method=method,
        level=level,
        k=int(a.size),
        estimate=float(est),
        se=se,
        statistic=float(z),
        pvalue=float(2 * stats.norm.sf(abs(z))),
        ci_low=float(est - crit * se),
        ci_high=float(est + crit * se),
        q=q,
        q_df=kq - 1,
        q_pvalue=float(stats.chi2.sf(q, kq - 1)) if kq > 1 else float("nan"),
        i2=float(max(0.0, 100 * (q - (kq - 1)) / q)) if kq > 1 and np.isfinite(q) else np.nan,
        excluded=tuple(np.flatnonzero(~ok).tolist()),
    )


def _peto_effects(events1, n1, events2, n2):
    """Per-study Peto log odds ratios (O - E) / V; double-zero tables are NaN (as ``rma.peto``)."""
    a = np.asarray(events1, float)
    c = np.asarray(events2, float)
    cells = np.stack([a, np.asarray(n1, float) - a, c, np.asarray(n2, float) - c])
    dz = (a == 0) & (c == 0)
    o_e, var = _peto_terms(*cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.where(dz, np.nan, o_e / var)
        vi = np.where(dz, np.nan, 1 / var)
    return pd.DataFrame({"yi": yi, "vi": vi})
