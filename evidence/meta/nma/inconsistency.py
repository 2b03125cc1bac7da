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
from scipy import stats

from .model import _fit, _gls


class _InconsistencyMethods:
    """The design-by-treatment interaction model; mixed into
    :class:`~evidence.meta.nma.result.NetworkResult` (uses its data, fit and ``_study_arms``)."""

    def inconsistency(self) -> pd.DataFrame:
        """Design-by-treatment interaction model (Higgins et al. 2012), as metafor fits it.

        Rows: ``total`` (the consistency model's Q), ``within designs`` (residual Q of the model
        in which every design has its own effects), ``between designs`` (their difference: the
        inconsistency Q) and, for random-effects methods, ``wald (interaction)``: the Wald test
        of the interaction terms in the interaction model with its own tau^2 (metafor ``QM``).

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
        st = np.array(self.study, dtype=object)
        t1, t2 = np.array(self.treat1, dtype=object), np.array(self.treat2, dtype=object)
        arms = self._study_arms()
        order = {t: i for i, t in enumerate(self.treatments)}
        design = {s: ":".join(sorted(a, key=order.get)) for s, a in arms.items()}
        des = np.array([design[s] for s in st], dtype=object)
        cols = []
        for g in sorted(set(des)):
            for t in g.split(":")[1:]:
                cols.append((des == g) * ((t1 == t).astype(float) - (t2 == t)))
        Z = np.column_stack(cols)
        rank_z = np.linalg.matrix_rank(Z)
        p = self._X.shape[1]
        n = self.n_contrasts
        rows = [("total", self.q, self.q_df, self.q_pvalue, self.tau2)]
        if rank_z > p:
            fz = _fit(self._blocks, Z, self.yi, self.method)
            q_w = _gls(self._blocks, Z, self.yi, 0.0)["rwr"] if self.method != "FE" else fz["rwr"]
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
