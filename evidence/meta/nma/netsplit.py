"""Network meta-analysis, direct and indirect evidence separated (netmeta's ``netsplit``).

Inconsistency stage. For every pair of treatments with head-to-head evidence,
:meth:`NetworkResult.netsplit` gives

* **direct**: the inverse-variance pool of the trials that compare the two treatments head to
  head, one contrast per trial (a multi-arm trial contributes its A vs B contrast, variance
  ``l' V l`` from its within-study covariance), each with the network's tau^2 added: netmeta's
  ``TE.direct.random`` (``TE.direct.common`` for a common-effect network);
* **indirect**: SIDDE (netmeta's ``sidde()``, "separating indirect from direct design
  evidence"): the network refitted without every trial that contains both treatments (a
  multi-arm trial is dropped whole, so none of its arms moves), tau^2 re-estimated by the same
  method; where that network no longer connects the two treatments, the indirect estimate is
  **back-calculated** from the network and direct estimates (Dias et al. 2010; netmeta's
  ``netsplit(method = "Back-calculation")``): with ``P = var(network) / var(direct)``,
  ``indirect = (network - P direct) / (1 - P)`` and ``var(indirect) = var(network) / (1 - P)``;
* **direct share** ``P``: the share of the network estimate's precision that is direct
  (netmeta's ``prop.direct``); 1 means the network adds nothing to the head-to-head trials;
* **difference** direct minus indirect with its z (or t) test, the two taken as independent.

The indicator-moderator node-split that metafor's examples fit is
:meth:`NetworkResult.split`; unlike SIDDE it moves the split arm against every comparator of a
multi-arm trial that holds the pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse import csgraph

from .model import _fit
from .split import _pairs, _study_codes

#: How the indirect estimate of a row was obtained.
INDIRECT_METHODS = ("SIDDE", "back-calculation", "none")


def _study_contrast(X: np.ndarray, V: np.ndarray, y: np.ndarray, cc: np.ndarray):
    """One study's estimate of the contrast ``cc`` (in basic parameters) and its variance."""
    lw, *_ = np.linalg.lstsq(X.T, cc, rcond=None)
    return float(lw @ y), float(lw @ V @ lw)


def _refit_without(res, drop: np.ndarray, a: int, b: int, arms: tuple[np.ndarray, np.ndarray]):
    """Estimate and SE of treatment ``a`` vs ``b`` (indices into ``res.treatments``; ``arms``:
    those of treat1 and treat2 of every row) in the network without the rows ``drop`` (whole
    studies), or None when the remaining network does not connect all its treatments or lacks
    ``a`` or ``b``. The blocks of the studies kept are reused (no covariance is rebuilt)."""
    keep = ~drop
    if not keep.any():
        return None
    t1, t2 = arms[0][keep], arms[1][keep]
    present = np.unique(np.r_[t1, t2])  # in the order of res.treatments: its first the reference
    if a not in present or b not in present:
        return None
    n, T = t1.size, present.size
    c1, c2 = np.searchsorted(present, t1), np.searchsorted(present, t2)
    edges = sparse.coo_matrix((np.ones(n), (c1, c2)), shape=(T, T))
    if csgraph.connected_components(edges, directed=False)[0] > 1:  # X would lose rank
        return None
    rows, sign = np.r_[np.arange(n), np.arange(n)], np.r_[np.ones(n), -np.ones(n)]
    X = sparse.coo_matrix((sign, (rows, np.r_[c1, c2])), shape=(n, T)).tocsc()[:, 1:]
    blocks = res._blocks.without(drop, float(res.vi[keep].mean()))
    fit = _fit(blocks, X, res.yi[keep], res.method)
    cc = np.zeros(T)
    cc[np.searchsorted(present, a)] += 1
    cc[np.searchsorted(present, b)] -= 1
    cc = cc[1:]
    return float(cc @ fit["beta"]), float(np.sqrt(cc @ fit["vcov"] @ cc)), fit["tau2"]


class _NetsplitMethods:
    """Direct and indirect evidence separated; mixed into
    :class:`~evidence.meta.nma.result.NetworkResult`."""

    def netsplit(self) -> pd.DataFrame:
        """Direct, indirect (SIDDE or back-calculated) and network estimates, with the direct
        share, for every pair of treatments with head-to-head trials.

        Definitions in the :mod:`evidence.meta.nma.netsplit` docstring; checked against metafor
        (``rma.uni`` for the direct pool, ``rma.mv`` refits for SIDDE) by
        ``tools/make_reference_network.R``. Pairs are ``treat1`` vs ``treat2`` with ``treat1``
        later in :attr:`treatments`; ``indirect_method`` says how each indirect estimate was
        obtained (:data:`INDIRECT_METHODS`).

        Cost: per comparison, the direct pool (O(k_direct) small least-squares problems), a
        connectivity check of the remaining network (graph components, O(n)) and one REML refit
        of it, which reuses the kept studies' covariance blocks (no ``n x n`` covariance is
        sliced) and costs O(n a^2 + p^3) per likelihood evaluation: linear in the number of
        studies for a fixed number of treatments.

        Examples
        --------
        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
        ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
        >>> sp = res.netsplit()
        >>> sp[["comparison", "direct", "indirect", "network", "direct_share"]].round(3)
          comparison  direct  indirect  network  direct_share
        0     B vs A     0.5       0.1    0.393         0.733
        1     C vs A     0.3       0.7    0.433         0.667
        2     C vs B     0.2      -0.2    0.040         0.600
        >>> sp["indirect_method"].tolist()
        ['SIDDE', 'SIDDE', 'SIDDE']
        """
        codes = _study_codes(self)
        index = {t: i for i, t in enumerate(self.treatments)}
        arms = tuple(np.array([index[t] for t in tr]) for tr in (self.treat1, self.treat2))
        order = np.argsort(codes, kind="stable")
        rows_of = np.split(order, np.cumsum(np.bincount(codes))[:-1])
        p = self._X.shape[1]
        rows = []
        for (i, j), both in _pairs(self).items():
            cc = np.zeros(p)
            cc[i - 1] += 1
            if j > 0:
                cc[j - 1] -= 1
            held = [rows_of[s] for s in both]
            rows.append(self._netsplit_row((i, j), cc, held, codes, arms))
        out = pd.DataFrame(rows)
        out["difference"] = out["direct"] - out["indirect"]
        out["difference_se"] = np.sqrt(out["direct_se"] ** 2 + out["indirect_se"] ** 2)
        out["statistic"] = out["difference"] / out["difference_se"]
        if self.test == "t":
            out["pvalue"] = 2 * stats.t.sf(np.abs(out["statistic"]), self.q_df)
        else:
            out["pvalue"] = 2 * stats.norm.sf(np.abs(out["statistic"]))
        return out

    def _netsplit_row(self, pair, cc, held, codes, arms) -> dict:
        """One row of :meth:`netsplit` for the treatments ``pair`` (indices): ``held`` lists
        the rows of each study holding both, ``arms`` the treatments of every row."""
        a, b = self.treatments[pair[0]], self.treatments[pair[1]]
        est = [_study_contrast(self._X[r], self.cov[np.ix_(r, r)], self.yi[r], cc) for r in held]
        y, v = np.array(est).T
        w = 1.0 / (v + self.tau2)
        direct, direct_var = float(w @ y / w.sum()), float(1.0 / w.sum())
        net, net_var = float(cc @ self.beta), float(cc @ self.vcov @ cc)
        share = min(net_var / direct_var, 1.0)
        row = {
            "comparison": f"{a} vs {b}",
            "treat1": a,
            "treat2": b,
            "k_direct": len(held),
            "direct": direct,
            "direct_se": np.sqrt(direct_var),
            "indirect": np.nan,
            "indirect_se": np.nan,
            "indirect_method": "none",
            "tau2_indirect": np.nan,
            "network": net,
            "network_se": np.sqrt(net_var),
            "direct_share": share,
        }
        drop = np.isin(codes, codes[[r[0] for r in held]])
        refit = _refit_without(self, drop, *pair, arms)
        if refit is not None:
            row.update(indirect=refit[0], indirect_se=refit[1], tau2_indirect=refit[2])
            row["indirect_method"] = "SIDDE"
        elif share < 1.0 - 1e-9:
            row["indirect"] = (net - share * direct) / (1.0 - share)
            row["indirect_se"] = np.sqrt(net_var / (1.0 - share))
            row["indirect_method"] = "back-calculation"
        return row
