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
from scipy import stats

from .model import _fit, _gls


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


def _weighted(blocks, r: np.ndarray, tau2: float) -> np.ndarray:
    """``W r`` for the within-study blocks at ``tau2`` (random-effects correlations R)."""
    out = np.empty_like(r)
    for idx, V, R in blocks.groups:
        M = V + tau2 * R
        out[idx] = np.linalg.solve(M, r[idx][..., None])[..., 0]
    return out


def _contributions(blocks, X, y, tau2, codes, n_designs) -> np.ndarray:
    """Per design, the residual quadratic form r' W r of the GLS fit of ``X`` at ``tau2``."""
    r = y - X @ _gls(blocks, X, y, tau2)["beta"]
    return np.bincount(codes, weights=r * _weighted(blocks, r, tau2), minlength=n_designs)


def _augment(X: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """``X`` with the columns of ``extra`` that add to its rank (in order, as metafor drops
    redundant moderators)."""
    rank = np.linalg.matrix_rank(X)
    for col in extra.T:
        cand = np.column_stack([X, col])
        if np.linalg.matrix_rank(cand) > rank:
            X, rank = cand, rank + 1
    return X


class _DecompositionMethods:
    """Design decomposition and net heat matrix; mixed into
    :class:`~evidence.meta.nma.result.NetworkResult`."""

    def design_decomposition(self, tau2: float | str = 0.0) -> DesignDecomposition:
        """Krahn's design decomposition of Q with detachment, and the net heat matrix.

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
        st = np.array(self.study, dtype=object)
        t1, t2 = np.array(self.treat1, dtype=object), np.array(self.treat2, dtype=object)
        order = {t: i for i, t in enumerate(self.treatments)}
        design = {s: ":".join(sorted(a, key=order.get)) for s, a in self._study_arms().items()}
        des = np.array([design[s] for s in st], dtype=object)
        names = sorted(set(des))
        codes = np.array([names.index(d) for d in des])
        cols, owner = [], []
        for g, name in enumerate(names):
            for t in name.split(":")[1:]:
                cols.append((des == name) * ((t1 == t).astype(float) - (t2 == t)))
                owner.append(g)
        Z, owner = np.column_stack(cols), np.array(owner)
        blk, X, y, n = self._blocks, self._X, self.yi, self.n_contrasts
        if tau2 == "within":
            tau2 = _fit(blk, Z, y, "REML" if self.method == "FE" else self.method)["tau2"]
        tau2 = float(tau2)
        if not np.isfinite(tau2) or tau2 < 0:
            raise ValueError(f"tau2 must be a non-negative number or 'within'; got {tau2!r}")
        het = _contributions(blk, Z, y, tau2, codes, len(names))
        net = _contributions(blk, X, y, tau2, codes, len(names))
        rank_x, rank_z = np.linalg.matrix_rank(X), Z.shape[1]
        df_within, df_between = n - rank_z, rank_z - rank_x
        q = pd.DataFrame(
            {
                "q": [net.sum(), het.sum(), net.sum() - het.sum()],
                "df": [n - rank_x, df_within, df_between],
            },
            index=pd.Index(["total", "within designs", "between designs"], name="part"),
        )
        q["pvalue"] = _pvalue(q["q"], q["df"])
        heat = np.full((len(names), len(names)), np.nan)
        detached, df_detached = np.full(len(names), np.nan), np.zeros(len(names), int)
        for g in range(len(names)):
            Xd = _augment(X, Z[:, owner == g])
            gain = Xd.shape[1] - X.shape[1]
            if gain == 0:  # the design is in no loop: detaching it changes nothing
                detached[g], df_detached[g], heat[:, g] = q.loc["between designs", "q"], 0, 0.0
                df_detached[g] = df_between
                continue
            after = _contributions(blk, Xd, y, tau2, codes, len(names))
            # a quadratic form: >= 0 up to rounding, which is cut off
            detached[g], df_detached[g] = max(after.sum() - het.sum(), 0.0), df_between - gain
            heat[:, g] = (net - het) - (after - het)
        designs = pd.DataFrame(
            {
                "k": pd.Series(design).value_counts().reindex(names).to_numpy(),
                "q_within": het,
                "df_within": np.bincount(codes, minlength=len(names)) - np.bincount(owner),
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
