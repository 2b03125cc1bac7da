"""Claim 4: brief and long-term PDT, and what the number of sessions has to do with the effect.

The testable question is "is long-term PDT better than brief PDT?". No trial in the data
randomizes between them, so the data can only say how the effect of PDT against a control class
varies with the length of the PDT arm **between** trials: a dose meta-regression of Hedges' g
(PDT vs each control class, post-treatment) on the number of sessions (and on the weeks to the
end-of-treatment assessment), with the condition and the control class as covariates
(:func:`evidence.meta.regression.meta_regression`). That comparison is observational: the long
PDT arms are the borderline personality disorder trials, so length and population are
confounded, and the certainty of any answer starts low and is rated down for it
(:func:`dose_verdict`).
"""

from __future__ import annotations

import textwrap

import pandas as pd

__all__ = [
    "pdt_arm_lengths",
    "dose_effects",
    "dose_regression",
    "dose_verdict",
    "dose_plot",
    "brief_vs_long_trials",
    "DOSE_STEP",
]

#: The verdict of claim 4 reads the regression slope over this many sessions (or weeks).
DOSE_STEP = 10


def _post_weeks(dataset) -> pd.Series:
    """Weeks from randomization to the post-treatment assessment, per comparison (the latest
    post row; the sources give no treatment length for PDT arms)."""
    post = dataset.outcomes[dataset.outcomes["timepoint"] == "post"]
    return post.groupby("comparison_id")["time_weeks"].max()


def pdt_arm_lengths(dataset) -> pd.DataFrame:
    """Every PDT arm of the data with its condition, variant, delivery, number of sessions and
    the weeks to its post-treatment assessment (NaN where the sources give none).

    Examples
    --------
    >>> import evidence.review.data
    >>> arms = pdt_arm_lengths(evidence.review.data.load())
    >>> int(arms["sessions"].max()), arms.loc[arms["sessions"].idxmax(), "study"]
    (156, 'Carlyle 2020')
    """
    arms = dataset.arms[dataset.arms["arm_class"] == "psychodynamic"]
    trials = dataset.trials.set_index("trial_id")
    weeks = _post_weeks(dataset)
    comp = dataset.comparisons
    by_arm = comp.assign(weeks=comp["comparison_id"].map(weeks)).groupby("arm1_id")["weeks"].max()
    return pd.DataFrame(
        {
            "study": arms["trial_id"].map(trials["study"]).to_numpy(),
            "condition": arms["trial_id"].map(trials["condition"]).to_numpy(),
            "arm": arms["label"].to_numpy(),
            "pdt_variant": arms["pdt_variant"].to_numpy(),
            "delivery": arms["delivery"].to_numpy(),
            "sessions": pd.to_numeric(arms["sessions"], errors="coerce").to_numpy(),
            "weeks_to_post": arms["arm_id"].map(by_arm).to_numpy(dtype=float),
        }
    ).sort_values(["sessions", "study"], kind="stable", na_position="last", ignore_index=True)


def dose_effects(families: dict, dataset) -> pd.DataFrame:
    """PDT against each control class (Hedges' g, post), one row per trial comparison, with the
    PDT arm's sessions and the weeks to the post assessment.

    ``families`` is :func:`evidence.review.headline`'s result; only the protocol's control
    classes are taken (each row keeps its class: the regression adjusts for it).
    """
    controls = [f for f in dataset.protocol.control_classes if f in families]
    if not controls:
        return pd.DataFrame(columns=["label", "condition", "comparator_class", "sessions", "yi"])
    eff = pd.concat([families[f].effects for f in controls], ignore_index=True)
    ids = eff["effect_ids"].map(lambda ids: ids[0])
    comparison = ids.map(dataset.outcomes.set_index("effect_id")["comparison_id"])
    return eff.assign(
        sessions=pd.to_numeric(eff["sessions"], errors="coerce"),
        weeks=comparison.map(_post_weeks(dataset)).astype(float),
    )[["label", "trial_id", "condition", "comparator_class", "sessions", "weeks", "yi", "vi"]]


def dose_regression(
    eff: pd.DataFrame, moderator: str = "sessions", *, method: str = "REML", test: str = "knha"
):
    """Meta-regression of ``eff`` (:func:`dose_effects`) on ``moderator`` with the condition
    and the control class as covariates (each only when it has two levels or more); rows
    without the moderator are left out.

    Returns the :class:`~evidence.meta.regression.MetaRegressionResult`; its ``yi`` are the rows
    used, in ``eff`` order.

    Raises
    ------
    ValueError
        ``moderator`` not a column of ``eff``.

    Examples
    --------
    >>> import evidence.review.data
    >>> from evidence.review import headline
    >>> ds = evidence.review.data.load()
    >>> fit = dose_regression(dose_effects(headline(ds), ds))
    >>> fit.names[:2]
    ('intrcpt', 'sessions')
    """
    from evidence.meta.regression import meta_regression

    if moderator not in eff:
        raise ValueError(f"moderator {moderator!r} is not a column of eff: {list(eff.columns)}")
    ok = eff[moderator].notna().to_numpy()
    rows = eff[ok]
    mods = {moderator: rows[moderator].to_numpy(dtype=float)}
    for name, col in (("condition", "condition"), ("control class", "comparator_class")):
        if rows[col].nunique() > 1:
            mods[name] = rows[col].to_numpy()
    return meta_regression(rows["yi"], rows["vi"], mods, method=method, test=test)


def dose_verdict(fit, moderator: str = "sessions", *, step: int = DOSE_STEP) -> dict:
    """Claim 4's verdict from the dose regression: the difference in g that ``step`` more
    sessions (or weeks) go with, read as "how does PDT compare with longer PDT?" (positive =
    the shorter arm does better), with its certainty: a between-trial comparison starts at
    **low** (it is not randomized) and loses one level because length is confounded with the
    population (the longest arms are the borderline personality disorder trials), so it is
    **very low** whatever the estimate.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fit = SimpleNamespace(names=("intrcpt", "sessions"), coef=[0.5, 0.004],
    ...                       ci_low=[0.1, -0.002], ci_high=[0.9, 0.01], k=20)
    >>> dose_verdict(fit)["verdict"]
    'We do not know how PDT compares with longer PDT (very low certainty).'
    """
    from ..certainty import verdict

    i = list(fit.names).index(moderator)
    est = -step * float(fit.coef[i])
    low, high = -step * float(fit.ci_high[i]), -step * float(fit.ci_low[i])
    certainty = "very low"
    return {
        "per": f"{step} more {moderator}",
        "slope": float(fit.coef[i]),
        "estimate": est,
        "ci_low": low,
        "ci_high": high,
        "k": int(fit.k),
        "certainty": certainty,
        "reasons": "between-trial comparison (not randomized): starts at low; length "
        "confounded with the population (the longest PDT arms are the borderline personality "
        "disorder trials): one level off",
        "verdict": verdict(
            est, low, high, k=int(fit.k), certainty=certainty, comparator="longer PDT"
        ),  # fmt: skip
    }


#: Marker of each control class in the dose figure.
_MARKERS = {"usual_care": "o", "placebo_attention": "D", "other_control": "s", "waitlist": "^"}


def dose_plot(eff: pd.DataFrame, fit, *, moderator: str = "sessions"):
    """Effect (g, PDT vs a control class) against the number of sessions of the PDT arm: one
    point per trial comparison, area proportional to its random-effects weight in ``fit``
    (``1 / (v + tau^2)``), colour by condition, marker by control class, x on a log scale; the
    footnote states the choices. Returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from evidence.plots.style import GREY, INK, NOTE_PT, SMALL_PT, style

    from ..vocabulary import COMPARATOR_NAMES, CONDITION_NAMES

    rows = eff[eff[moderator].notna()]
    w = 1.0 / (rows["vi"].to_numpy() + fit.tau2)
    size = 20 + 180 * w / w.max()
    conds = [c for c in CONDITION_NAMES if c in set(rows["condition"])]
    colours = dict(zip(conds, plt.get_cmap("tab10").colors, strict=False))
    with style():
        fig, ax = plt.subplots(figsize=(7.6, 4.6))
        for cls, marker in _MARKERS.items():
            m = (rows["comparator_class"] == cls).to_numpy()
            if m.any():
                ax.scatter(
                    rows.loc[m, moderator], rows.loc[m, "yi"], s=size[m], marker=marker,
                    c=[colours[c] for c in rows.loc[m, "condition"]], alpha=0.8,
                    edgecolors=INK, linewidths=0.5,
                )  # fmt: skip
        ax.axhline(0, color=GREY, lw=0.8, ls="--")
        ax.set_xscale("log")
        lo, hi = float(rows[moderator].min()), float(rows[moderator].max())
        ticks = [t for t in (2, 5, 10, 20, 50, 100, 200) if lo / 1.5 <= t <= hi * 1.5]
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set_xlim(lo / 1.3, hi * 1.3)
        ax.minorticks_off()
        ax.set_xlabel(f"{moderator.capitalize()} of the PDT arm (log scale)")
        ax.set_ylabel("Hedges' g, PDT vs control class (> 0 favours PDT)")
        ax.set_title(f"Effect of PDT against the number of {moderator}, one point per comparison")
        handles = [
            Line2D([], [], ls="", marker="o", color=colours[c], label=CONDITION_NAMES[c])
            for c in conds
        ]
        handles += [
            Line2D([], [], ls="", marker=mk, mfc="white", mec=INK, label=COMPARATOR_NAMES[cl])
            for cl, mk in _MARKERS.items()
            if (rows["comparator_class"] == cl).any()
        ]
        ax.legend(handles=handles, fontsize=SMALL_PT, frameon=False, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0))  # fmt: skip
        for s in ("right", "top"):
            ax.spines[s].set_visible(False)
        left_out = int(eff[moderator].isna().sum())
        note = (
            f"Hedges' g at post-treatment, PDT vs each control class ({len(rows)} trial "
            f"comparisons; {left_out} without a count of {moderator} not shown). Point area "
            f"proportional to the weight 1/(v\u00a0+\u00a0\u03c4\u00b2) in the meta-regression on "
            f"{moderator} with condition and control class as covariates ({fit.method}, "
            f"\u03c4\u00b2\u00a0=\u00a0{fit.tau2:.3f}). "
            "A comparison between trials, not randomized: length is confounded with the population."
        )
        fig.text(0.01, 0.01, "\n".join(textwrap.wrap(note, 130)), fontsize=NOTE_PT, color=GREY,
                 va="bottom")  # fmt: skip
        fig.subplots_adjust(bottom=0.24, right=0.70)
    return fig


def brief_vs_long_trials(dataset) -> pd.DataFrame:
    """The trials the shared notes name that randomize between a long-term and a short-term
    PDT arm (their arms, as quoted in ``data/published/known_trials.csv``, name both), with
    whether the data hold them and why not.

    Examples
    --------
    >>> import evidence.review.data
    >>> brief_vs_long_trials(evidence.review.data.load())["study"].tolist()
    ['Knekt 2008']
    """
    from ..coverage import coverage_table
    from ..records import known_trials

    known = coverage_table(dataset, analyses=[]).assign(quote=known_trials(dataset)["quote"])
    long = known["quote"].str.contains(r"\bL(?:T)?PP\b|long-term psychodynamic", regex=True)
    short = known["quote"].str.contains(r"\bS(?:T)?PP\b|short-term psychodynamic", regex=True)
    hit = known[long & short].drop_duplicates("study")
    return hit[["study", "condition", "quote", "status", "reason"]].reset_index(drop=True)
