"""The protocol's Bayesian rule for small cells, as the notebooks show it (issue 14, part 3).

**Rule** (stated once on the methods page, :data:`RULE_TEXT`): where a pooled cell has fewer
than :data:`SMALL_K` trial comparisons, its forest plot and table show the Bayesian estimate
(normal-normal hierarchical model, flat prior on the mean, the prior on tau named in the
footnote) beside the frequentist REML + Knapp-Hartung one, and its plain-language statement
uses the Bayesian credible interval and ``P(PDT better)``; where k >= 5 both are shown in the
table and the statement stays frequentist.

**Priors** (:data:`RULE_PRIORS`): half-normal with scale 0.5 on tau for Hedges' g, a weakly
informative choice (Friede et al. 2017; Roever et al. 2021, Res Synth Methods 12:448-474) that
gives tau > 0.5 (large heterogeneity on the SMD scale) a probability of 32% and tau > 0.98 one of
5%, so it allows large heterogeneity while ruling out the values of several SD units that k = 2
lets REML + Knapp-Hartung entertain. For log odds ratios the same prior is carried over with the
logistic conversion this project already uses (``g = ln(OR) sqrt(3) / pi``, Hasselblad and
Hedges): half-normal with scale ``0.5 pi / sqrt(3) = 0.907`` on tau of log OR. The empirical
priors of Rhodes et al. (2015) and Turner et al. (2015) (``evidence/meta/bayes/priors.csv``) are
more concentrated; they enter the prior-sensitivity table, not the rule.

**Orientation.** Effects are oriented so that positive values favour PDT on both scales
(``data/README.md``: ``yi`` is turned round for lower-is-better instruments and undesirable
events; an OR > 1 favours PDT), so ``P(PDT better)`` is the posterior probability that the
mean effect is above 0 (g) or the mean log OR above 0 (OR above 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from evidence.meta.bayes import (
    SENSITIVITY_PRIORS,
    bayes_pool,
    compare_cells,
    empirical_priors,
    make_prior,
    prior_sensitivity,
)

from .small_cells import RULE_PRIORS, SMALL_K, rule_prior

__all__ = [
    "SMALL_K",
    "RULE_PRIORS",
    "RULE_TEXT",
    "rule_prior",
    "footnote",
    "cell_table",
    "display_table",
    "statements",
    "pdt_vs_cbt_cells",
    "sensitivity_table",
    "show_small_cells",
]

#: The rule in words, for the methods page.
RULE_TEXT = (
    f"**The protocol's rule for small cells.** Where a pooled cell has fewer than {SMALL_K} "
    "trial comparisons, \u03c4\u00b2 cannot be estimated with any precision and the REML + "
    "Knapp-Hartung interval, which uses a t distribution with k - 1 degrees of freedom, "
    "becomes very wide (with k = 2 it uses t with 1 df). Such cells are therefore also "
    "analysed with a Bayesian normal-normal random-effects model (flat prior on the mean "
    "effect, computed exactly by quadrature, `evidence.meta.bayes`): their forest plot and table "
    "show the Bayesian posterior median with its 95% credible interval beside the frequentist "
    "estimate, and their plain-language statement uses the credible interval and the posterior "
    "probability that PDT is better on average, P(PDT better). Where k >= 5, both are shown in "
    "the table and the statement stays frequentist.\n\n"
    "**Prior on the heterogeneity tau.** Hedges' g: "
    f"{RULE_PRIORS['SMD'].label}, weakly informative (Friede et al. 2017; Roever et al. 2021): "
    "prior probability 32% that tau > 0.5 (large heterogeneity in g) and 5% that tau > 0.98: "
    "it allows large heterogeneity but not the several SD units that two trials leave open "
    "to REML + Knapp-Hartung. Log odds ratios: the same prior carried over with the logistic "
    "conversion used elsewhere on this site (g = ln(OR) x sqrt(3)/pi), i.e. "
    f"{RULE_PRIORS['OR'].label} on the log OR scale. The empirical priors of Rhodes et al. "
    "(2015, SMD) and Turner et al. (2015, log OR) for mental-health outcomes "
    "(`evidence/meta/bayes/priors.csv`) are more concentrated at small tau; together with "
    "half-normal and half-Cauchy priors of scale 0.5 and 1 they form the prior-sensitivity "
    "table on the overview page.\n\n"
    "**Orientation.** Positive g and OR > 1 favour PDT, so P(PDT better) is the posterior "
    "probability that the mean g is above 0 or the mean OR above 1."
)
_REML = "REML + Knapp-Hartung"


def footnote(measure: str) -> str:
    """Footnote naming the model and the prior, for tables and forest plots.

    Examples
    --------
    >>> footnote("SMD")[:40]
    'Bayesian: normal-normal random effects, '
    """
    return (
        f"Bayesian: normal-normal random effects, flat prior on mu, "
        f"{rule_prior(measure).label} on tau; posterior median, 95% central credible "
        f"interval. Frequentist: {_REML}. Headline for k < {SMALL_K}: Bayesian."
    )


def _effect_name(measure: str) -> str:
    return "g" if measure == "SMD" else measure


def _cells(analysis) -> dict:
    names = {g: analysis._name(g) for g in analysis.results}
    return {names[g]: r for g, r in analysis.results.items()}


def cell_table(analysis, *, level: float = 95.0) -> pd.DataFrame:
    """Both estimates per pooled cell of an :class:`~evidence.review.Analysis`, display scale.

    Odds ratios are shown as ratios (exponentiated), g as is. Columns: ``k``, the
    frequentist ``reml_*`` estimate, CI and PI, the Bayesian ``bayes_median``, credible
    interval and predictive interval, ``tau_median`` (analysis scale), ``p_pdt_better``,
    ``headline`` (which estimate the statement uses), ``tau_prior`` and ``measure``.

    Examples
    --------
    >>> from evidence.review.data import load
    >>> from evidence.review import condition_analyses
    >>> t = cell_table(condition_analyses(load(), "eating")["bulimia nervosa: OR post"])
    >>> int(t.loc["CBT", "k"]), t.loc["CBT", "headline"]
    (1, 'Bayesian')
    >>> bool(t.loc["CBT", "bayes_ci_low"] > 0)  # a ratio
    True
    """
    prior = rule_prior(analysis.measure)
    t = compare_cells(_cells(analysis), tau_prior=prior, level=level)
    t = t.rename(columns={"p_mu_positive": "p_pdt_better"})
    if analysis.measure in ("OR", "RR"):
        ratio_cols = [c for c in t.columns if c.startswith(("reml_", "bayes_"))]
        t[ratio_cols] = np.exp(t[ratio_cols].astype(float))
    t["headline"] = np.where(t["k"] < SMALL_K, "Bayesian", _REML)
    t.index.name = "group"
    return t


def display_table(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """:func:`cell_table` for reading: one text column per estimate with its interval.

    Examples
    --------
    >>> from evidence.review.data import load
    >>> from evidence.review import condition_analyses
    >>> an = condition_analyses(load(), "eating")["bulimia nervosa: OR post"]
    >>> t = display_table(cell_table(an))
    >>> t.loc["CBT", "Bayesian: median [95% CrI]"], t.loc["CBT", "P(PDT better)"]
    ('0.23 [0.02, 2.14]', '7%')
    """

    def num(x: float) -> str:
        return f"{x:.{digits}f}" if np.isfinite(x) else "\u2014"

    def iv(lo: pd.Series, hi: pd.Series) -> list[str]:
        return [f"[{num(a)}, {num(b)}]" for a, b in zip(lo, hi, strict=True)]

    est = [num(x) for x in table["reml_estimate"]]
    med = [num(x) for x in table["bayes_median"]]
    out = pd.DataFrame(
        {
            "k": table["k"].astype(int),
            f"{_REML}: estimate [95% CI]": [
                f"{e} {i}"
                for e, i in zip(est, iv(table["reml_ci_low"], table["reml_ci_high"]), strict=True)
            ],
            f"{_REML}: 95% PI": iv(table["reml_pi_low"], table["reml_pi_high"]),
            "Bayesian: median [95% CrI]": [
                f"{e} {i}"
                for e, i in zip(med, iv(table["bayes_ci_low"], table["bayes_ci_high"]), strict=True)
            ],
            "Bayesian: 95% PI": iv(table["bayes_pi_low"], table["bayes_pi_high"]),
            "Posterior median of \u03c4": [f"{x:.3f}" for x in table["tau_median"]],
            "P(PDT better)": [_pct(p) for p in table["p_pdt_better"]],
            "Headline": table["headline"],
        },
        index=table.index,
    )
    return out


def _pct(p: float) -> str:
    return "above 99%" if p > 0.99 else "below 1%" if p < 0.01 else f"{100 * p:.0f}%"


def _bayes_statement(row: pd.Series, effect: str, comparator: str, reading: tuple) -> str:
    """The numbers of a small cell, then the one verdict (:func:`certainty.cell_verdict`).

    ``reading`` is ``(verdict, (low, high, interval read))``: the verdict holds under every
    prior of the protocol's set; where the rule's prior alone would give a direction that the
    set does not, this is said, and the question stays open.
    """
    k, p = int(row["k"]), float(row["p_pdt_better"])
    text, (low, high, read) = reading
    who = "The one trial" if k == 1 else f"{k} trial comparisons"
    what = "Bayesian estimate" if k == 1 else "Bayesian pooled"
    parts = [
        f"{who}; {what} {effect} = "
        f"{row['bayes_median']:.2f} (95% credible interval {row['bayes_ci_low']:.2f} to "
        f"{row['bayes_ci_high']:.2f}; prior {row['tau_prior']} on tau), beside "
        f"{_REML} {row['reml_estimate']:.2f} (95% CI {row['reml_ci_low']:.2f} to "
        f"{row['reml_ci_high']:.2f}).",
        f"The probability that PDT did better than {comparator} on average is {_pct(p)}.",
        f"Verdict: {text}",
    ]
    ratio = row["measure"] in ("OR", "RR")  # the table shows ratios; the reading is on log OR
    lo_rule, hi_rule = (
        (np.log(row["bayes_ci_low"]), np.log(row["bayes_ci_high"]))
        if ratio
        else (row["bayes_ci_low"], row["bayes_ci_high"])
    )
    if read.startswith("widest") and (lo_rule > 0 or hi_rule < 0) and low < 0 < high:
        lo_s, hi_s = (np.exp(low), np.exp(high)) if ratio else (low, high)
        parts.append(
            "The protocol's prior alone gives a credible interval that excludes no effect, but "
            "not every prior of the protocol's set does (widest 95% credible interval "
            f"{lo_s:.2f} to {hi_s:.2f}), so no direction is stated."
        )
    parts.append(
        f"A new trial's effect would lie between {row['bayes_pi_low']:.2f} and "
        f"{row['bayes_pi_high']:.2f} (95% predictive interval). With fewer than {SMALL_K} "
        "trials the heterogeneity is set largely by the prior; treat this as preliminary."
    )
    return " ".join(parts)


def statements(analysis, comparator: str | None = None, *, table=None, protocol=None) -> str:
    """Markdown: the Bayesian plain-language statement of every cell with k < :data:`SMALL_K`.

    Each statement gives the numbers and then the one verdict of the summary-of-findings table
    (:func:`evidence.review.certainty.cell_verdict`: stated only if it holds under every prior
    of the protocol's prior set, otherwise "open"; a single trial's verdict is that trial's).
    Cells with k >= 5 keep their frequentist statement (``Analysis.statements``); they are
    listed in one closing sentence. ``table`` is :func:`cell_table`'s result, if at hand;
    ``protocol`` defaults to ``data/protocol.toml``.

    Examples
    --------
    >>> from evidence.review.data import load
    >>> from evidence.review import condition_analyses
    >>> print(statements(condition_analyses(load(), "eating")["bulimia nervosa: OR post"])[:53])
    **PDT vs CBT.** The one trial; Bayesian estimate OR =
    """
    from .certainty import cell_verdict
    from .protocol import load_protocol

    protocol = protocol or load_protocol()
    t = cell_table(analysis) if table is None else table
    effect = _effect_name(analysis.measure)
    groups = {analysis._name(g): g for g in analysis.results}
    out = []
    for name, row in t.iterrows():
        if row["headline"] != "Bayesian":
            continue
        if analysis.by == "comparator_class":
            head, comp = f"PDT vs {name}", name
        else:
            head, comp = name[:1].upper() + name[1:], comparator or "the comparator"
        text, _, interval = cell_verdict(
            analysis, groups[name], protocol, comp, margin=protocol.equivalence_margin
        )
        out.append(f"**{head}.** " + _bayes_statement(row, effect, comp, (text, interval)))
    large = [str(n) for n, h in t["headline"].items() if h != "Bayesian"]
    if large:
        out.append(
            f"k >= {SMALL_K} ({', '.join(large)}): the {_REML} statement above stands; "
            "both estimates are in the table."
        )
    return "\n\n".join(out)


def pdt_vs_cbt_cells(dataset, *, method: str = "REML", test: str = "knha") -> dict:
    """Every PDT vs CBT cell, by condition, measure and timepoint (as the overview lists them).

    Returns ``{"<condition>, <measure>, <timepoint>": pooled result}``.

    Examples
    --------
    >>> from evidence.review.data import load
    >>> cells = pdt_vs_cbt_cells(load())
    >>> "bulimia nervosa, OR, post" in cells
    True
    """
    from .followups import cbt_cells
    from .vocabulary import CONDITION_NAMES

    out = {}
    for cond, measure, timepoint, _, an in cbt_cells(dataset, method=method, test=test):
        if measure in RULE_PRIORS:
            key = f"{CONDITION_NAMES[cond]}, {measure}, {timepoint.replace('_', '-')}"
            out[key] = an.results["cbt"]
    return out


def _margin_on_scale(margin: float, measure: str) -> float:
    """The equivalence margin (g) on the analysis scale: ln OR = g pi / sqrt(3) for ORs."""
    return margin * (np.pi / np.sqrt(3) if measure in ("OR", "RR") else 1.0)


def _sensitivity_priors(measure: str) -> list:
    """The prior set of the sensitivity table: :data:`SENSITIVITY_PRIORS`, the empirical priors
    for ``measure`` (as :func:`~evidence.meta.bayes.prior_sensitivity` chooses by default), and
    the rule's prior if it is not among them."""
    fam = {"SMD": "SMD", "OR": "logOR"}.get(measure)
    table = empirical_priors()
    priors = [make_prior(p) for p in SENSITIVITY_PRIORS]
    priors += [make_prior(n) for n in table.loc[table["measure"] == fam, "name"]] if fam else []
    rule = rule_prior(measure)
    if rule.label not in {p.label for p in priors}:  # the OR rule's scale is not in the grid
        priors.append(rule)
    return priors


def sensitivity_table(
    cells: Mapping, *, level: float = 95.0, margin: float | None = None
) -> pd.DataFrame:
    """Prior sensitivity of pooled cells: one row per cell and prior, plus the REML + KH row.

    The priors are :func:`evidence.meta.bayes.prior_sensitivity`'s defaults (half-normal and
    half-Cauchy with scales 0.5 and 1, and the empirical priors for the cell's measure); the
    rule's prior is marked in ``rule``. Estimates are on the display scale (OR as ratios).
    With ``margin`` (the equivalence margin in g), ``p_within_margin`` is the posterior
    probability that |mu| is below it under each prior (:meth:`BayesResult.prob_within
    <evidence.meta.bayes.BayesResult.prob_within>`; for odds ratios the margin carried over to
    log OR, ``margin x pi / sqrt(3)``), NaN in the REML row.

    Examples
    --------
    >>> from evidence.meta.pooling import pool
    >>> r = pool([0.3, 0.6], [0.05, 0.04], method="REML", test="knha", measure="SMD")
    >>> t = sensitivity_table({"A": r}, margin=0.25)
    >>> bool(t.loc[("A", "half-normal(scale = 0.5)"), "rule"]), len(t)
    (True, 9)
    >>> round(float(t.loc[("A", "half-normal(scale = 0.5)"), "p_within_margin"]), 3)
    0.176
    """
    frames = []
    for name, r in cells.items():
        priors = _sensitivity_priors(r.measure)
        rule = rule_prior(r.measure).label
        s = prior_sensitivity(r.yi, r.vi, priors, measure=r.measure, level=level)
        f = pd.DataFrame(
            {
                "k": s["k"].astype(int),
                "estimate": s["mu_median"],
                "ci_low": s["mu_ci_low"],
                "ci_high": s["mu_ci_high"],
                "tau": s["tau_median"],
                "p_pdt_better": s["p_mu_positive"],
                "rule": s.index == rule,
            },
            index=s.index,
        )
        if margin is not None:
            m = _margin_on_scale(margin, r.measure)
            f["p_within_margin"] = [
                bayes_pool(r.yi, r.vi, tau_prior=p, level=level).prob_within(m) for p in priors
            ]
        f.loc[_REML] = {
            "k": r.k,
            "estimate": r.estimate,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "tau": np.sqrt(r.tau2),
            "p_pdt_better": np.nan,
            "rule": False,
            **({} if margin is None else {"p_within_margin": np.nan}),
        }
        if r.measure in ("OR", "RR"):
            with np.errstate(over="ignore"):  # a half-Cauchy with k = 1 reaches e^1000
                f[["estimate", "ci_low", "ci_high"]] = np.exp(f[["estimate", "ci_low", "ci_high"]])
        f.index.name = "prior"
        frames.append(pd.concat({name: f}, names=["cell"]))
    return pd.concat(frames)


def show_small_cells(analyses: Mapping, comparators: Sequence[str] | None = None) -> None:
    """Notebook section: per analysis, both estimates per cell and the Bayesian statements.

    ``analyses`` maps a heading to an :class:`~evidence.review.Analysis`; ``comparators``
    (one per analysis) names the comparator in statements of analyses grouped by condition.
    Each table is saved as ``results/<name>_bayes``; the cells with k < 5 are drawn by
    :func:`evidence.plots.bayes.cell_forest` (``figures/<name>_bayes_forest``).
    """
    from evidence.plots.bayes import cell_forest

    from .output import save_plot, save_table, show_items
    from .tables import format_table

    comps = [None] * len(analyses) if comparators is None else list(comparators)
    if len(comps) != len(analyses):
        raise ValueError(f"comparators: {len(comps)} names for {len(analyses)} analyses")
    for (key, an), comp in zip(analyses.items(), comps, strict=True):
        t = cell_table(an)
        save_table(t, f"{an.name}_bayes")
        effect = "odds ratios" if an.measure == "OR" else "Hedges' g"
        show_items(
            f"**{key}** ({effect}; \u03c4 on the analysis scale).",
            format_table(display_table(t), caption=footnote(an.measure)),
        )
        small = t[t["k"] < SMALL_K]
        if len(small):
            ax = cell_forest(
                small,
                measure=an.measure,
                title=f"{key}: cells with fewer than {SMALL_K} trials",
                footnote=f"Prior on \u03c4 set by the protocol for {_effect_name(an.measure)} "
                "(methods page).",
            )
            save_plot(ax, f"{an.name}_bayes_forest")
        show_items(statements(an, comp, table=t))
