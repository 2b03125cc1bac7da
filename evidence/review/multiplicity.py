"""What a page claims, tested as claimed: moderators by their own tests, and the page's pooled
comparisons adjusted for multiplicity (issue 9).

Two questions a results page must answer honestly:

* **Does this moderator matter?** Each moderator of a meta-regression is tested on its own
  coefficients (all levels of a categorical moderator together, metafor's ``btt``), adjusted
  for the other covariates of the model; the whole-model omnibus test, which includes the
  covariates, is not shown next to a moderator (:func:`moderator_table`).
* **How many claims does the page make?** A page that states one p-value per condition,
  comparator and timepoint makes many claims from one dataset. :func:`multiplicity_table`
  gathers exactly the pooled comparisons a page states (its *family*) and adds Holm's
  step-down adjustment (family-wise error rate, the primary view) and Benjamini-Hochberg's
  (false discovery rate, secondary), through :func:`evidence.meta.analyses.adjust_pvalues`.

The notebooks call :func:`show_multiplicity` (one cell per page); the condition pages' moderator
section shows :func:`moderator_report`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "MODERATOR_MIN_K",
    "moderator_candidates",
    "moderator_table",
    "moderator_report",
    "claims_family",
    "multiplicity_table",
    "multiplicity_text",
    "show_multiplicity",
]

#: Fewest usable comparisons for which a moderator is fitted (below it: "not estimable").
MODERATOR_MIN_K = 6
#: Primary and secondary multiplicity adjustments (names of ``adjust_pvalues``).
PRIMARY_ADJUSTMENT = "holm"
SECONDARY_ADJUSTMENT = "fdr_bh"
#: Level at which "significant" is counted in the sentence under the table.
ALPHA = 0.05


# ------------------------------------------------------------------------------------------
# moderators


def _rob_levels(rob: pd.Series, rules: dict) -> pd.Series:
    """Risk of bias on the harmonised three-level scale (:func:`~evidence.review.certainty.
    harmonised_rob`), NA where the source gives no rating (not coded, so not imputed here)."""
    from .certainty import harmonised_rob

    given = rob.notna() & (rob.astype(str).str.strip() != "")
    out = pd.Series(np.nan, index=rob.index, dtype=object)
    out[given] = [harmonised_rob(v, rules) for v in rob[given]]
    return out


def moderator_candidates(effects: pd.DataFrame, rules: dict | None = None) -> dict[str, pd.Series]:
    """The moderators the condition pages examine, one value per comparison (NA = not coded).

    ``treatment length``: brief (<= 30 PDT sessions) or long-term (>= 50), NA in between;
    ``internet delivery``: internet or face to face; ``risk of bias`` on one harmonised
    three-level scale across sources (``low``, ``some concerns``, ``high``: RoB 2 labels as
    given, RoB 1 scores by the thresholds of the protocol's ``[grade]`` ``rules``, default
    ``data/protocol.toml``), NA where not rated.

    Examples
    --------
    >>> e = pd.DataFrame({"sessions": [12, 40, 60, 20], "format": ["internet", "individual",
    ...                   None, "group"], "rob": ["Low", " ", "high risk", 3.0]})
    >>> out = moderator_candidates(e, {"rob_score_low": 4, "rob_score_some_concerns": 3})
    >>> {k: v.tolist() for k, v in out.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'treatment length': ['brief', None, 'long-term', 'brief'],
     'internet delivery': ['internet', 'face to face', nan, 'face to face'],
     'risk of bias': ['low', nan, 'high', 'some concerns']}
    """
    if rules is None:
        from .protocol import load_protocol

        rules = load_protocol().grade
    sessions = pd.to_numeric(effects["sessions"], errors="coerce")
    length = np.where(sessions <= 30, "brief", np.where(sessions >= 50, "long-term", None))
    fmt = effects["format"]
    internet = fmt.where(fmt.isna(), fmt == "internet")
    return {
        "treatment length": pd.Series(length, index=effects.index, dtype=object),
        "internet delivery": internet.map({True: "internet", False: "face to face"}),
        "risk of bias": _rob_levels(effects["rob"], rules),
    }


def _level_text(fit, name: str, idx: tuple[int, ...], levels: list[str]) -> tuple[str, str]:
    """("brief (reference), long-term", "long-term vs brief: 0.15 [-0.46, 0.76]; ...")."""
    shown = str
    coef_levels = [fit.names[i].removeprefix(name).strip() for i in idx]
    ref = [lev for lev in levels if lev not in coef_levels]
    if len(ref) != 1:  # a continuous moderator has no reference level
        return ", ".join(levels), "; ".join(
            f"{fit.names[i]}: {fit.coef[i]:.2f} [{fit.ci_low[i]:.2f}, {fit.ci_high[i]:.2f}]"
            for i in idx
        )
    listed = ", ".join(shown(lev) + (" (reference)" if lev == ref[0] else "") for lev in levels)
    coefs = "; ".join(
        f"{shown(lev)} vs {shown(ref[0])}: "
        f"{fit.coef[i]:.2f} [{fit.ci_low[i]:.2f}, {fit.ci_high[i]:.2f}]"
        for lev, i in zip(coef_levels, idx, strict=True)
    )
    return listed, coefs


def moderator_table(
    analysis, min_k: int = MODERATOR_MIN_K, rules: dict | None = None
) -> pd.DataFrame:
    """One row per moderator with **its own test**, for one :class:`~evidence.review.Analysis`.

    Each moderator enters a mixed-effects meta-regression (the analysis' tau^2 estimator and
    test) together with the analysis' grouping factor (comparator class or condition) when the
    comparisons span more than one group. The row reports the test of the moderator's own
    coefficients (all levels together; Wald chi^2, or F under Knapp-Hartung, metafor's
    ``btt``), adjusted for that covariate: never the whole-model omnibus test, which includes
    the covariate's terms. A moderator with fewer than ``min_k`` comparisons, a single level,
    or a rank-deficient design is listed as not estimable, with the
    reason. Risk of bias is on the harmonised three-level scale (:func:`moderator_candidates`;
    ``rules``: the protocol's ``[grade]`` thresholds), so sources that rate it on different
    scales (RoB 1 scores, RoB 2 labels) enter one moderator.

    Returns
    -------
    pandas.DataFrame
        Indexed by moderator: ``k``, ``levels`` (all levels, the reference marked),
        ``coefficients`` (each level against the reference with its CI, on the model's scale),
        ``test`` (e.g. ``"F(1, 11)"``), ``statistic``, ``pvalue`` (the moderator's own test),
        ``adjusted_for``, ``r2`` (R^2 of the whole model, percent), ``tau2`` (residual) and
        ``note``.
    """
    from evidence.meta.regression import meta_regression

    e = analysis.effects
    by_name = "comparator class" if analysis.by == "comparator_class" else "condition"
    rows = []
    for name, mod in moderator_candidates(e, rules).items():
        ok = mod.notna().to_numpy()
        levels = sorted(mod[ok].astype(str).unique())
        row = {"moderator": name, "k": int(ok.sum()), "levels": ", ".join(levels)}
        if ok.sum() < min_k or len(levels) < 2:
            row["note"] = "not estimable: too few comparisons or a single level"
            rows.append(row)
            continue
        mods = {name: mod[ok].astype(str).to_numpy()}
        if e.loc[ok, analysis.by].nunique() > 1:
            mods[by_name] = e.loc[ok, analysis.by].to_numpy()
        try:
            fit = meta_regression(
                e.loc[ok, "yi"], e.loc[ok, "vi"], mods, method=analysis.method, test=analysis.test
            )
        except ValueError as exc:  # rank-deficient design or too few studies: say so
            row["note"] = f"not estimable: {exc}"
            rows.append(row)
            continue
        own = fit.moderator_tests().loc[name]
        idx = dict(fit.terms)[name]
        row["levels"], row["coefficients"] = _level_text(fit, name, idx, levels)
        df2 = "" if own["distribution"] == "chi2" else f", {own['df2']:g}"
        row.update(
            test=f"{own['distribution']}({own['df1']}{df2})",
            statistic=float(own["statistic"]),
            pvalue=float(own["pvalue"]),
            adjusted_for=own["adjusted_for"],
            r2=fit.r2,
            tau2=fit.tau2,
            note=f"{fit.methods_text()}; test of this moderator's coefficients only",
        )
        rows.append(row)
    cols = ["k", "levels", "coefficients", "test", "statistic", "pvalue", "adjusted_for"]
    cols += ["r2", "tau2", "note"]
    return pd.DataFrame(rows).set_index("moderator").reindex(columns=cols)


def moderator_report(analysis, min_k: int = MODERATOR_MIN_K):
    """:func:`moderator_table` formatted for a page, with a caption saying what each p tests."""
    from .tables import format_table

    scale = "g" if analysis.measure == "SMD" else "log OR"
    return format_table(
        moderator_table(analysis, min_k),
        scale=scale,
        labels={
            "coefficients": f"Coefficients ({scale}, 95% CI)",
            "pvalue": "p (this moderator)",
            "adjusted_for": "Adjusted for",
            "r2": "R² of model (%)",
        },
        caption=(
            "Each p tests only that moderator's coefficients (all its levels together), "
            "adjusted for the covariates listed; R² is that of the whole model. Moderator "
            "analyses compare trials with each other, not randomized groups."
        ),
    )


# ------------------------------------------------------------------------------------------
# multiplicity


def claims_family(analyses: dict) -> pd.DataFrame:
    """The pooled comparisons a page states, one row each: the family to adjust.

    ``analyses`` is what a page pools and states (e.g. :func:`evidence.review.headline`'s or
    :func:`evidence.review.condition_analyses`' result): every group of every analysis is one
    claim with its own p-value (the pooled test, Knapp-Hartung or z as the analysis states).

    Returns
    -------
    pandas.DataFrame
        Columns ``analysis`` (the analysis' title), ``comparison`` (e.g. "PDT vs CBT", or
        the condition when the analysis is grouped by condition), ``measure``, ``k``,
        ``estimate``, ``ci_low``, ``ci_high`` (model scale: g, or log OR) and ``pvalue``, in
        page order.
    """
    from .vocabulary import COMPARATOR_NAMES, CONDITION_NAMES

    rows = []
    for an in analyses.values():
        for g, r in an.results.items():
            if an.by == "comparator_class":
                comparison = f"PDT vs {COMPARATOR_NAMES.get(g, g)}"
            else:  # the analysis (e.g. "PDT vs CBT (Hedges' g, post)") names the comparator
                comparison = CONDITION_NAMES.get(g, g)
            rows.append(
                {
                    "analysis": an.title,
                    "comparison": comparison,
                    "measure": an.measure,
                    "k": r.k,
                    "estimate": r.estimate,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "pvalue": r.pvalue,
                }
            )
    cols = ["analysis", "comparison", "measure", "k", "estimate", "ci_low", "ci_high", "pvalue"]
    return pd.DataFrame(rows, columns=cols)


def multiplicity_table(analyses: dict) -> pd.DataFrame:
    """The page's family of claims with raw, Holm-adjusted and Benjamini-Hochberg p-values.

    Holm's step-down adjustment (family-wise error rate) is the primary view,
    Benjamini-Hochberg (false discovery rate) the secondary one; both are computed over
    exactly the rows of :func:`claims_family` (``statsmodels`` ``multipletests``).

    Returns
    -------
    pandas.DataFrame
        :func:`claims_family` plus ``p_holm`` and ``p_bh``; ``attrs["family"]`` is the number
        of claims and ``attrs["methods"]`` the adjustments' names.

    Raises
    ------
    ValueError
        When the page states no pooled comparison, or a claim has no p-value (named).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> r = lambda p: NS(k=3, estimate=0.3, ci_low=0.0, ci_high=0.6, pvalue=p)
    >>> an = NS(name="x", by="comparator_class", measure="SMD", title="X (Hedges' g, post)",
    ...         results={"cbt": r(0.01), "waitlist": r(0.04), "usual_care": r(0.03)})
    >>> multiplicity_table({"SMD post": an})[["comparison", "pvalue", "p_holm", "p_bh"]]
              comparison  pvalue  p_holm  p_bh
    0         PDT vs CBT    0.01    0.03  0.03
    1    PDT vs waitlist    0.04    0.06  0.04
    2  PDT vs usual care    0.03    0.06  0.04
    """
    from evidence.meta.analyses import ADJUST_NAMES, adjust_pvalues

    fam = claims_family(analyses)
    if fam.empty:
        raise ValueError("the page states no pooled comparison: nothing to adjust")
    bad = fam.index[~np.isfinite(fam["pvalue"].to_numpy(dtype=float))]
    if len(bad):
        row = fam.loc[bad[0]]
        raise ValueError(f"{row['analysis']}, {row['comparison']}: no p-value to adjust")
    out = fam.assign(
        p_holm=adjust_pvalues(fam["pvalue"], PRIMARY_ADJUSTMENT)["p_adjusted"].to_numpy(),
        p_bh=adjust_pvalues(fam["pvalue"], SECONDARY_ADJUSTMENT)["p_adjusted"].to_numpy(),
    )
    out.attrs["family"] = len(out)
    out.attrs["methods"] = (ADJUST_NAMES[PRIMARY_ADJUSTMENT], ADJUST_NAMES[SECONDARY_ADJUSTMENT])
    return out


def multiplicity_text(table: pd.DataFrame, family: str, alpha: float = ALPHA) -> str:
    """One paragraph: which family was adjusted, how, and what survives.

    ``family`` describes the claims in words (e.g. "PDT vs CBT, other active treatments and
    control conditions in each condition, Hedges' g at post").

    Examples
    --------
    >>> t = pd.DataFrame({"pvalue": [0.01, 0.04, 0.03], "p_holm": [0.03, 0.06, 0.06],
    ...                   "p_bh": [0.04, 0.04, 0.04]})
    >>> print(multiplicity_text(t, "three comparisons"))  # doctest: +NORMALIZE_WHITESPACE
    The family adjusted is the 3 pooled comparisons this page states (three comparisons):
    Holm's step-down adjustment (family-wise error rate) is the primary view,
    Benjamini-Hochberg (false discovery rate) the secondary. Of the 3 p-values, 3 are below
    0.05 unadjusted, 1 after Holm and 3 after Benjamini-Hochberg.
    """
    n = len(table)
    if n == 1:
        return (
            f"This page states a single pooled comparison ({family}), so there is no family to "
            "adjust: its p-value stands as it is."
        )
    raw, holm, bh = (int((table[c] < alpha).sum()) for c in ("pvalue", "p_holm", "p_bh"))
    return (
        f"The family adjusted is the {n} pooled comparisons this page states ({family}): "
        "Holm's step-down adjustment (family-wise error rate) is the primary view, "
        "Benjamini-Hochberg (false discovery rate) the secondary. "
        f"Of the {n} p-values, {raw} {'is' if raw == 1 else 'are'} below {alpha:g} unadjusted, "
        f"{holm} after Holm and "
        f"{bh} after Benjamini-Hochberg."
    )


#: How each page's family reads in the sentence under its table.
FAMILY_WORDS = {
    "overview": (
        "PDT vs CBT, vs other active treatments and vs control conditions in each condition, "
        "Hedges' g at post-treatment"
    ),
}
_CONDITION_FAMILY = "PDT vs each comparator class, for every measure and timepoint pooled above"


def show_multiplicity(analyses: dict, name: str) -> None:
    """Notebook section: the page's family with raw, Holm and BH p-values, and the sentence.

    ``name`` is ``"overview"`` or the condition group's key; the table is saved as
    ``results/<name>_multiplicity.csv``.
    """
    from IPython.display import Markdown, display

    from .output import save_table
    from .tables import format_p, format_table

    table = multiplicity_table(analyses)
    save_table(table, f"{name}_multiplicity")
    shown = table.drop(columns=["measure", "estimate", "ci_low", "ci_high"]).assign(
        **{c: table[c].map(format_p) for c in ("pvalue", "p_holm", "p_bh")}
    )
    text = multiplicity_text(table, FAMILY_WORDS.get(name, _CONDITION_FAMILY))
    display(
        format_table(
            shown,
            labels={
                "analysis": "Analysis",
                "comparison": "Comparison",
                "pvalue": "p (raw)",
                "p_holm": "p (Holm)",
                "p_bh": "p (BH)",
            },
        ),
        Markdown(text),
    )
