"""Network meta-analysis, design-by-treatment interaction (Higgins et al. 2012).

Inconsistency stage. :meth:`NetworkResult.inconsistency` gives every design (the set of
treatments of a study) its own treatment effects: total Q, within-design Q and the between-design
(inconsistency) Q, and with random effects the Wald test of the interaction terms at the
interaction model's own tau^2 (metafor ``rma.mv`` ``QM``). A method of
:class:`~evidence.meta.nma.result.NetworkResult`, mixed in from :class:`_InconsistencyMethods`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats

from .model import _Design, _fit_d, _gls, _gls_d


def _design_matrix(res) -> tuple[np.ndarray, list[str], sparse.csr_matrix, np.ndarray]:
    """The design-by-treatment columns of the network ``res``.

    A design is the set of treatments of a study, named by its treatments in the order of
    ``res.treatments`` joined by ``":"``. Returns the design of every row (an index into the
    sorted ``names``), ``names``, the sparse (n, columns) matrix ``Z`` with, for every design in
    turn, one column per treatment but its first (+1 on the design's rows where it is treat1,
    -1 where it is treat2), and the design that owns each column. O(n) time and memory.

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
    ...                  ["A", "A", "B"], [1, 2, 2], cov=np.diag([0.04, 0.05, 0.06]),
    ...                  method="FE")
    >>> codes, names, Z, owner = _design_matrix(res)
    >>> names, codes.tolist(), owner.tolist()
    (['A:B', 'A:B:C'], [0, 1, 1], [0, 1, 1])
    >>> Z.toarray()
    array([[ 1.,  0.,  0.],
           [ 0.,  0.,  1.],
           [ 0., -1.,  1.]])
    """
    order = {t: i for i, t in enumerate(res.treatments)}
    design = {s: tuple(sorted(a, key=order.get)) for s, a in res._study_arms().items()}
    label = {s: ":".join(d) for s, d in design.items()}
    names = sorted(set(label.values()))
    index = {name: g for g, name in enumerate(names)}
    column, owner = {}, []
    for name, d in sorted({label[s]: d for s, d in design.items()}.items()):
        for t in d[1:]:
            column[(index[name], t)] = len(owner)
            owner.append(index[name])
    codes = np.array([index[label[s]] for s in res.study], dtype=np.intp)
    entries = [
        (r, column[(g, t)], sign)
        for r, (g, a, b) in enumerate(zip(codes.tolist(), res.treat1, res.treat2, strict=True))
        for t, sign in ((a, 1.0), (b, -1.0))
        if (g, t) in column
    ]
    rows, cols, vals = zip(*entries, strict=True)
    Z = sparse.csr_matrix((vals, (rows, cols)), shape=(len(codes), len(owner)))
    return codes, names, Z, np.array(owner, dtype=np.intp)


def _rank_by_design(Z: sparse.csr_matrix, cols: np.ndarray) -> int:
    """The rank of ``Z``: the sum of the ranks of its diagonal blocks ``Z_c' Z_c`` (integer
    Gram matrices; ``cols`` the (C, q) column table of the components, -1 padding). O(C q^3)."""
    gram = (Z.T @ Z).tocsr()
    pad = cols < 0
    i, j = np.broadcast_arrays(cols[:, :, None], cols[:, None, :])
    A = np.asarray(
        gram[np.where(pad[:, :, None], 0, i).ravel(), np.where(pad[:, None, :], 0, j).ravel()]
    )
    A = A.reshape(i.shape) * ~(pad[:, :, None] | pad[:, None, :])
    k = np.flatnonzero(pad.ravel())
    A.reshape(-1, cols.shape[1])[k, k % cols.shape[1]] = 1.0
    return int(np.linalg.matrix_rank(A).sum()) - k.size


class _InconsistencyMethods:
    """The design-by-treatment interaction model; mixed into
    :class:`~evidence.meta.nma.result.NetworkResult` (uses its data, fit and ``_study_arms``)."""

    def inconsistency(self) -> pd.DataFrame:
        """Design-by-treatment interaction model (Higgins et al. 2012), as metafor fits it.

        Rows: ``total`` (the consistency model's Q), ``within designs`` (residual Q of the model
        in which every design has its own effects), ``between designs`` (their difference: the
        inconsistency Q) and, for random-effects methods, ``wald (interaction)``: the Wald test
        of the interaction terms in the interaction model with its own tau^2 (metafor ``QM``).

        Cost: the interaction columns are sparse and each design's own, so ``Z'WZ`` is block
        diagonal with one block per design (its arms minus one columns) and the REML fit of the
        interaction model costs O(n a^2 + D q^3) per likelihood evaluation, in O(n + D q^2)
        memory, for ``n`` contrasts and ``D`` designs: linear in the number of studies. 300
        studies x 40 treatments (about 260 designs) take about 0.04 s, 2,000 x 40 about 0.1 s
        (the dense fit: 27 s, and 663 s in 1.8 GB; ``benchmarks/bench_network.py``).

        Examples
        --------
        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2, 0.1], [0.04, 0.05, 0.06, 0.05],
        ...                  ["B", "C", "C", "C"], ["A", "A", "B", "B"], [1, 2, 3, 4],
        ...                  method="FE")
        >>> res.inconsistency()[["q", "df"]].round(4).reset_index()
                      part       q  df
        0            total  1.1085   2
        1   within designs  0.0909   1
        2  between designs  1.0176   1
        """
        Z = _design_matrix(self)[2]
        dz = _Design.build(self._blocks, Z, self.yi, components=True)  # a block per design
        rank_z = _rank_by_design(Z, dz.cols)
        p = self._X.shape[1]
        n = self.n_contrasts
        rows = [("total", self.q, self.q_df, self.q_pvalue, self.tau2)]
        if rank_z > p:
            fz = _fit_d(dz, self.method)
            q_w = _gls_d(dz, 0.0)["rwr"] if self.method != "FE" else fz["rwr"]
            df_w = n - rank_z
            rows.append(
                ("within designs", q_w, df_w, stats.chi2.sf(q_w, df_w) if df_w else np.nan, np.nan)
            )
            qb, dfb = self.q - q_w, rank_z - p
            rows.append(("between designs", qb, dfb, stats.chi2.sf(qb, dfb), np.nan))
            if self.method != "FE":
                fx = _gls(self._blocks, self._X, self.yi, fz["tau2"])
                wald = fx["rwr"] - fz["rwr"]
                rows.append(("wald (interaction)", wald, dfb, stats.chi2.sf(wald, dfb), fz["tau2"]))
        else:
            rows.append(("within designs", self.q, self.q_df, self.q_pvalue, np.nan))
            rows.append(("between designs", 0.0, 0, np.nan, np.nan))
        out = pd.DataFrame(rows, columns=["part", "q", "df", "pvalue", "tau2"]).set_index("part")
        return out
