"""One-call analyses and plots of a pooled result, registered on the result classes.

``res.leave_one_out()``, ``res.influence()``, ``res.egger_test()``, ``res.forest_plot()`` and
the other one-call methods are defined here and registered on the result classes when the
package is imported (``evidence/__init__.py`` imports this module). The dependency runs one
way: results know nothing of the analyses; this accessor module knows both. Each method only
forwards to the function that implements it, with the result's own settings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .regression import MetaRegressionResult
from .results import PoolResult

__all__: list[str] = []  # nothing to import from here: use the methods on the results


def _analyses():
    from evidence.meta import analyses  # imported on first use: analyses are the heaviest stage

    return analyses


def _batch(self, masks, index) -> pd.DataFrame:
    from .pooling import fit_leave_one_out, fit_masks  # memory linear in k

    settings = {"method": self.method, "test": self.test, "level": self.level, "pi": self.pi_rule}
    if masks is None:  # leave-one-out: O(k) work per evaluation from FAST_K studies on
        fit = fit_leave_one_out(self.yi, self.vi, **settings)
    else:
        fit = fit_masks(self.yi, self.vi, masks, self.k, **settings)
    cols = [
        "k",
        "estimate",
        "se",
        "statistic",
        "pvalue",
        "ci_low",
        "ci_high",
        "q",
        "q_pvalue",
        "tau2",
        "i2",
        "h2",
        "pi_low",
        "pi_high",
    ]
    return pd.DataFrame({c: fit[c] for c in cols}, index=pd.Index(index, name="study"))


def leave_one_out(self) -> pd.DataFrame:
    """Refit omitting each study in turn (metafor ``leave1out``); one row per omitted study.

    See :func:`evidence.meta.pooling.fit_leave_one_out`: from
    :data:`evidence.meta.pooling.loo.FAST_K` studies on, O(k) memory and O(k) work per
    iteration for all k fits together (REML at k = 10,000 in about a second).
    """
    if self.k < 2:
        raise ValueError("leave-one-out needs at least 2 studies")
    return _batch(self, None, self.study_labels)


def cumulative(self) -> pd.DataFrame:
    """Cumulative meta-analysis in input order (metafor ``cumul``); row i pools studies 0..i."""
    studies = np.arange(self.k)
    return _batch(self, lambda a, b: studies <= np.arange(a, b)[:, None], self.study_labels)


def profile(self, tau2=None, steps: int = 200):
    """Profile likelihood of tau^2; see :func:`evidence.meta.pooling.profile_likelihood`."""
    from .pooling import profile_likelihood

    return profile_likelihood(self, tau2=tau2, steps=steps)


def influence(self):
    """metafor ``influence()`` diagnostics; see :func:`evidence.meta.analyses.influence`."""
    return _analyses().influence(self)


def baujat(self) -> pd.DataFrame:
    """Baujat coordinates; see :func:`evidence.meta.analyses.baujat`."""
    return _analyses().baujat(self)


def gosh(self, **kwargs):
    """GOSH over subsets with this model's estimator; see :func:`evidence.meta.analyses.gosh`."""
    return _analyses().gosh(self.yi, self.vi, method=self.method, **kwargs)


def egger_test(self, **kwargs):
    """Egger's regression test; see :func:`evidence.meta.analyses.egger_test`."""
    return _analyses().egger_test(self, **kwargs)


def rank_test(self):
    """Begg's rank correlation test; see :func:`evidence.meta.analyses.rank_test`."""
    return _analyses().rank_test(self)


def trim_and_fill(self, **kwargs):
    """Trim-and-fill; see :func:`evidence.meta.analyses.trim_and_fill`."""
    return _analyses().trim_and_fill(self, **kwargs)


def pet_peese(self, **kwargs):
    """PET-PEESE; see :func:`evidence.meta.analyses.pet_peese`."""
    return _analyses().pet_peese(self, **kwargs)


def equivalence_test(self, margin=0.25, alpha: float = 0.05):
    """TOST equivalence and non-inferiority; see :func:`evidence.meta.analyses.equivalence_test`."""
    return _analyses().equivalence_test(self, margin=margin, alpha=alpha)


def subgroups(self, groups, **kwargs):
    """Subgroup analysis with this model's settings; see :func:`evidence.subgroups`."""
    settings = {
        "method": self.method,
        "test": self.test,
        "labels": self.labels,
        "measure": self.measure,
        "level": self.level,
        **kwargs,
    }
    return _analyses().subgroups(self.yi, self.vi, groups, **settings)


def meta_regression(self, moderators):
    """Meta-regression with this model's settings; see :func:`evidence.meta_regression`."""
    return _analyses().meta_regression(
        self.yi, self.vi, moderators, method=self.method, test=self.test, level=self.level
    )


def forest_plot(self, **kwargs):
    """Forest plot of this result; see :func:`evidence.plots.forest_plot`."""
    from evidence.plots import forest_plot

    return forest_plot(self, **kwargs)


def funnel_plot(self, **kwargs):
    """Contour-enhanced funnel plot; see :func:`evidence.plots.funnel_plot`."""
    from evidence.plots import funnel_plot

    return funnel_plot(self, **kwargs)


def sensitivity_plot(self, kind: str = "leave_one_out", **kwargs):
    """Forest of the leave-one-out or cumulative analysis (``kind``), with this result."""
    from evidence.plots import forest_from_frame

    frames = {"leave_one_out": leave_one_out, "cumulative": cumulative}
    if kind not in frames:
        raise ValueError(f"kind must be one of {tuple(frames)}; got {kind!r}")
    return forest_from_frame(frames[kind](self), result=self, **kwargs)


def regression_influence(self):
    """Influence diagnostics (metafor ``influence()``); see :func:`evidence.influence`."""
    from .sensitivity import influence

    return influence(self)


_ONE_CALL = (
    "leave_one_out",
    "cumulative",
    "profile",
    "influence",
    "baujat",
    "gosh",
    "egger_test",
    "rank_test",
    "trim_and_fill",
    "pet_peese",
    "equivalence_test",
    "subgroups",
    "meta_regression",
    "forest_plot",
    "funnel_plot",
    "sensitivity_plot",
)
for _name in _ONE_CALL:
    setattr(PoolResult, _name, globals()[_name])
MetaRegressionResult.influence = regression_influence
