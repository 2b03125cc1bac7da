"""Network meta-analysis, ranking: league table and P-scores of a :class:`NetworkResult`.

Output stage. :meth:`NetworkResult.league` gives every pairwise estimate (netmeta ``netleague``
layout: row treatment vs column treatment), :meth:`NetworkResult.pscores` the P-scores of Rucker
and Schwarzer (2015, netmeta ``netrank``). Both are methods of
:class:`~evidence.meta.nma.result.NetworkResult`, mixed in from :class:`_RankingMethods`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .model import _RATIO


class _RankingMethods:
    """League table and P-scores; mixed into :class:`~evidence.meta.nma.result.NetworkResult`
    (uses its ``treatments``, ``measure``, ``_full``, ``_crit`` and ``_pvalue``)."""

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
