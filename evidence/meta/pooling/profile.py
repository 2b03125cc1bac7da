"""Profiles of tau^2 (stage 3: **pooling**): the Q-profile confidence interval and the
profile (restricted) likelihood (metafor ``confint`` and ``profile`` of an ``rma`` fit).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_level
from ..results import PoolResult, _fmt, _html_table
from .estimators import ConvergenceWarning, _loglik, _q_equation, _solve


def q_profile(y, v, *, level=95.0) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (metafor ``confint(rma(...))``).

    The limits solve Q(tau^2) = chi^2_{k-1} quantiles with the generalised Q statistic; a limit
    whose equation has no positive root is 0 (metafor reports such a limit as 0 too). ``level``
    is checked as by :func:`~evidence.meta.pooling.pool`.
    """
    level = check_level(level)
    y, v = np.atleast_2d(y), np.atleast_2d(v)
    k = y.shape[1]
    if k < 2:
        return float("nan"), float("nan")
    alpha = 1 - level / 100
    m = np.ones_like(y, dtype=bool)
    targets = np.array([stats.chi2.isf(alpha / 2, k - 1), stats.chi2.ppf(alpha / 2, k - 1)])
    yy, vv, mm = (np.repeat(a, 2, axis=0) for a in (y, v, m))
    t, iters = _solve(_q_equation, yy, vv, mm, targets)
    if iters < 0:
        warnings.warn("Q-profile interval did not converge", ConvergenceWarning, stacklevel=2)
    return float(t[0]), float(t[1])


@dataclass(frozen=True, eq=False)
class ProfileResult:
    """Profile (restricted) log-likelihood of tau^2 (metafor ``profile(rma(...))``).

    ``likelihood`` is ``"ML"`` for ML fits and ``"REML"`` for every other estimator (as metafor,
    whose ``logLik`` of a non-ML fit is the restricted one). ``tau2`` is the fit's estimate.
    """

    method: str
    likelihood: str
    k: int
    tau2: float
    grid: np.ndarray = field(repr=False)
    loglik: np.ndarray = field(repr=False)
    estimate: np.ndarray = field(repr=False)

    @property
    def local_maxima(self) -> np.ndarray:
        """tau^2 of every local maximum of the profile on the grid (boundary 0 included)."""
        ll = self.loglik
        left = np.r_[True, ll[1:] > ll[:-1]]
        right = np.r_[ll[:-1] >= ll[1:], True]
        return self.grid[left & right]

    def to_frame(self) -> pd.DataFrame:
        """One row per grid point: ``tau2``, ``loglik`` and the pooled ``estimate`` there."""
        return pd.DataFrame({"tau2": self.grid, "loglik": self.loglik, "estimate": self.estimate})

    def summary(self) -> str:
        peaks = ", ".join(f"{x:.4g}" for x in self.local_maxima)
        return (
            f"Profile {self.likelihood} log-likelihood of tau^2 ({self.method}; k = {self.k}), "
            f"{self.grid.size} points on [{self.grid[0]:.4g}, {self.grid[-1]:.4g}]\n"
            f"  tau^2 = {_fmt(self.tau2)}; local maxima on the grid at tau^2 = {peaks}"
        )

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = [
            ("tau^2 (fit)", _fmt(self.tau2)),
            ("local maxima", ", ".join(f"{x:.4g}" for x in self.local_maxima)),
            ("grid", f"{self.grid.size} points on [{self.grid[0]:.4g}, {self.grid[-1]:.4g}]"),
        ]
        return _html_table("Profile likelihood of tau^2", rows, f"{self.likelihood} likelihood")

    def plot(self, **kwargs):
        """Plot the profile; see :func:`evidence.plots.profile.profile_plot`."""
        from evidence.plots.profile import profile_plot

        return profile_plot(self, **kwargs)


def profile_likelihood(result: PoolResult, tau2=None, steps: int = 200) -> ProfileResult:
    """Profile (restricted) log-likelihood of tau^2 for a fitted random-effects model.

    Parameters
    ----------
    result : PoolResult
        A random-effects fit (not ``FE``) with k >= 2.
    tau2 : (float, float) or array-like, optional
        Range ``(low, high)`` scanned with ``steps`` evenly spaced points, or the grid itself.
        Default: 0 to twice the larger of the estimate and the Q-profile upper limit (at least
        the largest sampling variance).
    steps : int, default 200
        Number of grid points when a range is given.

    Returns
    -------
    ProfileResult

    Examples
    --------
    >>> from evidence.meta.pooling import pool
    >>> res = pool([0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02])
    >>> prof = res.profile()
    >>> frame = prof.to_frame()
    >>> print(round(frame.tau2[frame.loglik.idxmax()], 2), prof.likelihood, len(frame))
    0.03 REML 200
    """
    if result.method == "FE" or result.k < 2:
        raise ValueError("profile() needs a random-effects fit (method other than FE) with k >= 2")
    if tau2 is None:
        hi = 2 * max(result.tau2, np.nan_to_num(result.tau2_ci_high), float(np.max(result.vi)))
        tau2 = (0.0, hi)
    t = np.asarray(tau2, dtype=float)
    if t.ndim == 1 and t.size == 2:
        if not (0 <= t[0] < t[1]) or not np.all(np.isfinite(t)):
            raise ValueError(f"tau2 range must satisfy 0 <= low < high (finite); got {tuple(t)}")
        t = np.linspace(t[0], t[1], int(steps))
    if t.ndim != 1 or t.size < 2 or np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("tau2 must be a (low, high) range or a grid of finite values >= 0")
    likelihood = "ML" if result.method == "ML" else "REML"
    B, k = t.size, result.k
    y, v = np.broadcast_to(result.yi, (B, k)), np.broadcast_to(result.vi, (B, k))
    m = np.ones((B, k))
    ll = _loglik(likelihood == "REML")(y, v, m, t)
    w = 1 / (v + t[:, None])
    est = (w * y).sum(axis=1) / w.sum(axis=1)
    return ProfileResult(
        method=result.method,
        likelihood=likelihood,
        k=k,
        tau2=result.tau2,
        grid=t,
        loglik=ll,
        estimate=est,
    )
