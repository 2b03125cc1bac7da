"""Network meta-analysis, where the inconsistency is: design decomposition and the net heat matrix.

Inconsistency stage, after the global test (:mod:`.inconsistency`). A *design* is the set of
treatments of a trial. Krahn, Binder and König (2013, BMC Med Res Methodol 13:35; netmeta's
``decomp.design`` and ``netheat``) split the generalised Q of the consistency model into

* ``Q within designs`` (heterogeneity between trials of one design, summed over designs) and
* ``Q between designs`` (the inconsistency: direct evidence of the designs against the network),

and locate the inconsistency in two ways:

* **contribution** of each design to Q between designs, and **detachment**: Q between designs
  when one design is *detached* (given treatment effects of its own, so that it no longer
  informs the rest of the network). A design whose detachment removes most of Q between designs
  is where the network disagrees with itself;
* the **net heat matrix**: entry (row i, column j) is the drop in design i's contribution when
  design j is detached; a large positive entry says that the evidence of design j and that of
  design i disagree.

The Q statistics are computed at a fixed tau^2 (default 0, Krahn's common-effect decomposition;
netmeta's random-effects version uses the tau^2 of the design-by-treatment model, here
``tau2="within"``). Everything is a GLS fit of the contrast-level model: detaching design d adds
its own columns (the design-by-treatment columns of d) to the consistency design matrix, and per
design contributions are the quadratic forms ``r' W r`` of the residuals over the design's rows
(designs consist of whole trials, so ``W`` is block diagonal within them). Checked against
metafor ``rma.mv`` fits by ``tools/make_reference_network.R``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

from .inconsistency import _design_matrix
from .model import _Design, _fit_d, _gls_d, _new_columns


def _pvalue(q: np.ndarray, df: np.ndarray) -> np.ndarray:
    q, df = np.asarray(q, float), np.asarray(df, float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, stats.chi2.sf(q, np.maximum(df, 1)), np.nan)


@dataclass(frozen=True)
class DesignDecomposition:
    """Krahn's decomposition of Q (see :mod:`evidence.meta.nma.decomposition`).

    ``q`` has rows total / within designs / between designs (Q, df, p); ``designs`` one row per
    design: trials, Q within the design (df, p), its contribution to Q between designs, and Q
    between designs after detaching it (df, p); ``heat`` the net heat matrix (designs in loops
    only, rows and columns in the order of ``designs``). ``tau2`` is the tau^2 the Q statistics
    were computed at.
    """

    q: pd.DataFrame
    designs: pd.DataFrame
    heat: pd.DataFrame
    tau2: float

    def to_frame(self) -> pd.DataFrame:
        """The per-design table with the overall Q statistics as leading rows."""
        total = self.q.reset_index().rename(columns={"part": "design"})
        return pd.concat([total, self.designs.reset_index()], ignore_index=True)

    def summary(self) -> str:
        """The Q decomposition and the designs ordered by Q after detaching them."""
        order = self.designs.sort_values("q_detached")
        return (
            f"Design decomposition of Q (tau^2 = {self.tau2:.4g})\n"
            + self.q.round(4).to_string()
            + "\n\n"
            + order.round(4).to_string()
        )

    def _repr_html_(self) -> str:
        return self.q.round(4).to_html() + self.designs.round(4).to_html()


def _contributions(d: _Design, beta: np.ndarray, tau2: float, codes, n_designs) -> np.ndarray:
    """Per design, the residual quadratic form r' W r at ``beta`` and ``tau2`` (whitening mixes
    rows only within a study, so the whitened rows of a design are its own)."""
    w = 1.0 / (1.0 + tau2 * d.lam)
    r = d.y - d.x @ beta
    return np.bincount(codes, weights=w * r * r, minlength=n_designs)


def _local(Z: sparse.csr_matrix, owner: np.ndarray) -> np.ndarray:
    """``Z`` in each row's own design's columns: (n, q), entry (i, j) that of row i in the
    j-th column of its design (zero-padded). Every row of ``Z`` lies in its design's columns."""
    starts = np.cumsum(np.bincount(owner)) - np.bincount(owner)
    local = np.zeros((Z.shape[0], int(np.bincount(owner).max())))
    coo = Z.tocoo()
    local[coo.row, coo.col - starts[owner[coo.col]]] = coo.data
    return local


def _detach_each(d, fit, tau2, basis, design, net) -> tuple[np.ndarray, np.ndarray]:
    """Row g: per design, r' W r after detaching design g (adding its columns of ``Z`` that add
    to the rank of the consistency design, as metafor drops redundant moderators), and the
    number of columns added; a design in no loop adds none and keeps ``net``. ``design`` is
    ``(Z, owner, codes, T)``: :func:`~evidence.meta.nma.inconsistency._design_matrix` and the
    whitener; ``d`` and ``fit`` are the consistency design and its GLS at ``tau2``, ``basis`` an
    orthonormal basis of its columns.

    Detaching is the partitioned inverse of the consistency fit with the design's (whitened)
    columns ``e`` added: ``B = X'We``, ``S = e'We - B' (X'WX)^-1 B``, ``gamma = S^-1 e'W r``,
    ``r_new = r + X (X'WX)^-1 B gamma - e gamma``: O(n p + n_g p k) per design, no refit."""
    Z, owner, codes, T = design
    G, n = net.size, codes.size
    after, gain = np.tile(net, (G, 1)), np.zeros(G, dtype=int)
    E_all, e_all = _local(Z, owner), _local(sparse.csr_matrix(T @ Z), owner)
    x, V = d.x.toarray(), fit["vcov"]
    w = 1.0 / (1.0 + tau2 * d.lam)
    r0 = d.y - x @ fit["beta"]
    rows = np.split(np.argsort(codes, kind="stable"), np.cumsum(np.bincount(codes))[:-1])
    for g, rg in enumerate(rows):
        E = np.zeros((n, np.count_nonzero(owner == g)))
        E[rg] = E_all[rg, : E.shape[1]]
        keep = _new_columns(basis, E)
        gain[g] = np.count_nonzero(keep)
        if gain[g]:
            e = e_all[rg][:, : keep.size][:, keep]
            we = w[rg, None] * e
            B = x[rg].T @ we  # X'W e
            gamma = np.linalg.solve(e.T @ we - B.T @ V @ B, we.T @ r0[rg])
            r = r0 + x @ (V @ (B @ gamma))
            r[rg] -= e @ gamma
            after[g] = np.bincount(codes, weights=w * r * r, minlength=G)
    return after, gain


class _DecompositionMethods:
    """Design decomposition and net heat matrix; mixed into
    :class:`~evidence.meta.nma.result.NetworkResult`."""

    def design_decomposition(self, tau2: float | str = 0.0) -> DesignDecomposition:
        """Krahn's design decomposition of Q with detachment, and the net heat matrix.

        Cost: two GLS fits (the consistency and the design-by-treatment design, the latter
        block-wise by design) and, per design, its detachment from the consistency fit by the
        partitioned inverse, O(nnz + n k + p^2 k) for its ``k`` columns; which columns add rank
        is decided by projection, O(n p k). No refit and no SVD per design: linear in the number
        of studies for a fixed number of treatments.

        Parameters
        ----------
        tau2 : float or "within"
            tau^2 at which the Q statistics are computed: 0 (common effect, the default, as
            netmeta's ``decomp.design``), a number, or ``"within"`` (the tau^2 of the
            design-by-treatment interaction model, netmeta's random-effects version).

        Examples
        --------
        >>> import evidence as ev
        >>> res = ev.network([0.5, 0.3, 0.2, 0.1, 0.45], [0.04, 0.05, 0.06, 0.05, 0.05],
        ...                  ["B", "C", "C", "C", "B"], ["A", "A", "B", "B", "A"],
        ...                  [1, 2, 3, 4, 5], method="FE")
        >>> dec = res.design_decomposition()
        >>> dec.q.round(4).reset_index()
                      part       q  df  pvalue
        0            total  1.1688   3  0.7605
        1   within designs  0.1187   2  0.9424
        2  between designs  1.0501   1  0.3055
        >>> dec.designs[["k", "q_contribution", "q_detached"]].round(4).reset_index()
          design  k  q_contribution  q_detached
        0    A:B  2          0.2345         0.0
        1    A:C  1          0.5277         0.0
        2    B:C  2          0.2878         0.0
        """
        codes, names, Z, owner = _design_matrix(self)
        blk, X, y, n = self._blocks, self._X, self.yi, self.n_contrasts
        dz = _Design.build(blk, Z, y, components=True)  # one block per design
        if tau2 == "within":
            tau2 = _fit_d(dz, "REML" if self.method == "FE" else self.method)["tau2"]
        tau2 = float(tau2)
        if not np.isfinite(tau2) or tau2 < 0:
            raise ValueError(f"tau2 must be a non-negative number or 'within'; got {tau2!r}")
        G = len(names)
        dx = _Design.build(blk, X, y)
        fx = _gls_d(dx, tau2)
        het = _contributions(dz, _gls_d(dz, tau2)["beta"], tau2, codes, G)
        net = _contributions(dx, fx["beta"], tau2, codes, G)
        rank_x, rank_z = X.shape[1], Z.shape[1]
        df_within, df_between = n - rank_z, rank_z - rank_x
        q = pd.DataFrame(
            {
                "q": [net.sum(), het.sum(), net.sum() - het.sum()],
                "df": [n - rank_x, df_within, df_between],
            },
            index=pd.Index(["total", "within designs", "between designs"], name="part"),
        )
        q["pvalue"] = _pvalue(q["q"], q["df"])
        basis = np.linalg.qr(X)[0]
        design = (Z, owner, codes, blk.whitener[0])
        after, gain = _detach_each(dx, fx, tau2, basis, design, net)
        # a quadratic form: >= 0 up to rounding, which is cut off
        detached = np.maximum(after.sum(axis=1) - het.sum(), 0.0)
        detached[gain == 0] = q.loc["between designs", "q"]
        df_detached = df_between - gain
        heat = (net - het)[:, None] - (after - het).T
        # rounding residue (|x| below 1e-10 of the total Q) is exactly zero: a design with no
        # residual degree of freedom has Q within 0, not 1e-32 (stable outputs across machines)
        floor = 1e-10 * max(float(net.sum()), 1.0)
        het, net, detached, heat = (
            np.where(np.abs(a) < floor, 0.0, a) for a in (het, net, detached, heat)
        )
        first = ~pd.Series(self.study).duplicated().to_numpy()
        designs = pd.DataFrame(
            {
                "k": np.bincount(codes[first], minlength=G),
                "q_within": het,
                "df_within": np.bincount(codes, minlength=G) - np.bincount(owner, minlength=G),
                "q_contribution": net - het,
                "q_detached": detached,
                "df_detached": df_detached,
            },
            index=pd.Index(names, name="design"),
        )
        designs["p_within"] = _pvalue(designs["q_within"], designs["df_within"])
        designs["p_detached"] = _pvalue(designs["q_detached"], designs["df_detached"])
        in_loops = np.abs(designs["q_contribution"].to_numpy()) > 1e-10
        frame = pd.DataFrame(heat, index=names, columns=names).loc[in_loops, in_loops]
        return DesignDecomposition(q, designs, frame, tau2)
