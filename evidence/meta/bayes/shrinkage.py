"""Shrunken study effects: each study's true effect under the fitted model.

A summary of :mod:`.posterior`, like :mod:`.marginals`: study i's shrunken effect is the mixture
over tau of ``N(b y_i + (1 - b) m, b v_i + (1 - b)^2 s^2)`` with ``b = tau^2 / (v_i + tau^2)``
(bayesmeta's ``$theta``). Here are its normal components, its mean and SD (computed with every
fit), its quantiles (computed on first use: k quantile problems) and the table of
:meth:`BayesResult.shrinkage <evidence.meta.bayes.BayesResult.shrinkage>`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .marginals import _mix_ppf
from .posterior import _Post


def _components(post: _Post, v_row: np.ndarray, y_row: np.ndarray, b: int, what):
    """(mean, sd) arrays (1, N) of the normal components of a marginal of fit ``b``."""
    if what == "mu":
        return post.mean[b : b + 1], post.sd[b : b + 1]
    if what == "predictive":
        return post.mean[b : b + 1], np.sqrt(post.sd[b : b + 1] ** 2 + post.tau[b : b + 1] ** 2)
    i = int(what)
    t2 = post.tau[b] ** 2
    sh = t2 / (v_row[i] + t2)
    mean = sh * y_row[i] + (1 - sh) * post.mean[b]
    sd = np.sqrt(sh * v_row[i] + (1 - sh) ** 2 * post.sd[b] ** 2)
    return mean[None, :], sd[None, :]


def _study_components(post: _Post, y: np.ndarray, v: np.ndarray):
    """(mean, sd) arrays (k, N) of the normal components of every study's shrunken effect."""
    t2 = post.tau**2  # (1, N)
    sh = t2 / (v[:, None] + t2)  # (k, N)
    mean = sh * y[:, None] + (1 - sh) * post.mean
    sd = np.sqrt(sh * v[:, None] + (1 - sh) ** 2 * post.sd**2)
    return mean, sd


def _study_moments(post: _Post, y: np.ndarray, v: np.ndarray):
    """Posterior means and SDs (k,) of the shrunken study effects of a single fit."""
    w = post.w
    th_mean, th_sd = _study_components(post, y, v)
    theta_mean = (w * th_mean).sum(axis=1)
    theta_sd = np.sqrt((w * (th_sd**2 + (th_mean - theta_mean[:, None]) ** 2)).sum(axis=1))
    return theta_mean, theta_sd


def _study_quantiles(res) -> np.ndarray:
    """(k, 3): central lower limit, median and upper limit of each shrunken effect of ``res``."""
    lv = res.level / 100
    post = res._post
    mean, sd = _study_components(post, res.yi, res.vi)
    w = np.broadcast_to(post.w, mean.shape)
    probs = np.tile([(1 - lv) / 2, 0.5, (1 + lv) / 2], (res.k, 1))
    return _mix_ppf(probs, w, mean, sd)


def _shrinkage_table(res) -> pd.DataFrame:
    """Observed and shrunken study effects of a BayesResult, one row per study."""
    z = stats.norm.ppf(0.5 + res.level / 200)
    se = np.sqrt(res.vi)
    return pd.DataFrame(
        {
            "yi": res.yi,
            "vi": res.vi,
            "ci_low": res.yi - z * se,
            "ci_high": res.yi + z * se,
            "theta_mean": res.theta_mean,
            "theta_sd": res.theta_sd,
            "theta_ci_low": res.theta_ci_low,
            "theta_ci_high": res.theta_ci_high,
        },
        index=pd.Index(res.study_labels, name="study"),
    )
