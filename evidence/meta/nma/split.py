"""Network meta-analysis, node-splitting: direct, indirect and network estimates.

Inconsistency stage. :meth:`NetworkResult.comparisons` lists the pairs with direct evidence;
:meth:`NetworkResult.split` refits the model with an indicator moderator per split comparison
(the split model defined in the docstring of :mod:`evidence.meta.nma`, as given to metafor in
tools/make_reference_network.R). Both are methods of
:class:`~evidence.meta.nma.result.NetworkResult`, mixed in from :class:`_SplitMethods`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .model import _fit


class _SplitMethods:
    """Comparisons and node-splitting; mixed into :class:`~evidence.meta.nma.result.NetworkResult`
    (uses its data, fit and ``_study_arms``)."""

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
        :mod:`evidence.meta.nma` docstring): for comparison ``treat1`` vs ``treat2`` the model
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
