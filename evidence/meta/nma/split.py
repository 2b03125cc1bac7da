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

from .model import _Design, _gls_d, _grid_fits, _ll_with_column, _new_columns, _reml_grid, _tau2


def _pairs(res) -> dict[tuple[int, int], list[int]]:
    """Every pair of treatments with direct evidence, ``(i, j)`` with ``i > j`` (indices into
    ``res.treatments``) in the order ``(1, 0), (2, 0), (2, 1), ...``, mapped to the studies
    that hold both (indices in order of first appearance). O(sum of squared arm counts).

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
    ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
    >>> _pairs(res)
    {(1, 0): [0], (2, 0): [1], (2, 1): [2]}
    """
    index = {t: i for i, t in enumerate(res.treatments)}
    found: dict[tuple[int, int], list[int]] = {}
    for s, held in enumerate(res._study_arms().values()):
        codes = sorted(index[t] for t in held)
        for a, i in enumerate(codes):
            for j in codes[:a]:
                found.setdefault((i, j), []).append(s)
    return dict(sorted(found.items()))


def _study_codes(res) -> np.ndarray:
    """The study of every row, numbered in order of first appearance."""
    return pd.factorize(np.array(res.study, dtype=object))[0]


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
        t = self.treatments
        rows = [(t[i], t[j], len(s)) for (i, j), s in _pairs(self).items()]
        return pd.DataFrame(rows, columns=["treat1", "treat2", "k"])

    def split(self) -> pd.DataFrame:
        """Direct, indirect and network estimates for every comparison with direct evidence.

        Node-splitting with an indicator moderator per split comparison (definition in the
        :mod:`evidence.meta.nma` docstring): for comparison ``treat1`` vs ``treat2`` the model
        is refitted with tau^2 re-estimated by the same method. ``difference`` is direct minus
        indirect with its Wald test; ``tau2`` is the split model's. Comparisons without
        independent indirect evidence have direct = network and NaN indirect.

        Cost: per comparison, an identifiability check by projection (O(n p)) and a REML refit
        whose design is the consistency design with one column appended (its products moved,
        not recomputed) and whose likelihood on the first grid of the REML search comes from
        the consistency model's fits there by the partitioned inverse (O(k p + p^2) per grid
        point for the ``k`` rows of the split studies); the rest of the search costs
        O(n a^2 + p^3) per evaluation. Linear in the number of studies for a fixed number of
        treatments: 300 studies x 40 treatments (about 290 comparisons) in about 2 s, against
        about 3 s per refit for metafor (``benchmarks/bench_network.py``).

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
        X, p = self._X, self._X.shape[1]
        t1, t2 = np.array(self.treat1, dtype=object), np.array(self.treat2, dtype=object)
        codes, basis = _study_codes(self), np.linalg.qr(X)[0]
        base = _Design.build(self._blocks, X, self.yi)  # shared by every split
        fits = _grid_fits(base, _reml_grid(base)) if self.method == "REML" else None
        rows = []
        for (i, j), both in _pairs(self).items():
            A, B = self.treatments[i], self.treatments[j]
            cc = np.zeros(p)
            cc[i - 1] += 1
            if j > 0:
                cc[j - 1] -= 1
            net, net_se = float(cc @ self.beta), float(np.sqrt(cc @ self.vcov @ cc))
            ind = np.isin(codes, both) * ((t1 == A).astype(float) - (t2 == A))
            row = {"comparison": f"{A} vs {B}", "treat1": A, "treat2": B, "k_direct": len(both)}
            row.update(network=net, network_se=net_se)
            if _new_columns(basis, ind[:, None])[0]:
                row.update(self._split_fit(base, fits, ind, cc))
            else:  # the indicator is in the span of X: no independent indirect evidence
                row.update(direct=net, direct_se=net_se, identifiable=False)
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

    def _split_fit(self, base, fits, ind: np.ndarray, cc: np.ndarray) -> dict:
        """The split model of the indicator ``ind`` (comparison ``cc`` in basic parameters):
        ``base`` (the consistency design) with ``ind`` appended, its restricted likelihood on
        the first REML grid from ``fits`` (the consistency model's GLS there) by the
        partitioned inverse, then the usual search."""
        z = self._blocks.whitener[0] @ ind
        d = base.with_column(z)
        tau2 = _tau2(d, self.method, None if fits is None else _ll_with_column(base, fits, z))
        f = _gls_d(d, tau2)
        b, V = f["beta"], f["vcov"]
        cd, ci = np.r_[cc, 1.0], np.r_[cc, 0.0]
        return {
            "direct": float(cd @ b),
            "direct_se": float(np.sqrt(cd @ V @ cd)),
            "indirect": float(ci @ b),
            "indirect_se": float(np.sqrt(ci @ V @ ci)),
            "difference": float(b[-1]),
            "difference_se": float(np.sqrt(V[-1, -1])),
            "tau2": tau2,
            "identifiable": True,
        }
