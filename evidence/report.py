"""Helpers the notebooks call (stage 6: ... -> results -> plots -> **report**).

The notebooks contain no statistics of their own. This module selects and aggregates the curated
outcome rows into one effect per trial comparison (dependent effects are never pooled as if
independent), writes figures and tables deterministically, and words the plain-language
statement that every analysis ends with, from the numbers themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "output_root",
    "output_dir",
    "save_table",
    "save_plot",
    "comparison_effects",
    "describe",
    "overview_text",
    "dataset_profile",
    "EFFECT_COLUMNS",
    "analyse",
    "Analysis",
    "headline",
    "condition_analyses",
    "ConditionAnalyses",
    "build_analyses",
    "row_accounting",
    "accounting_text",
    "show_comparisons",
    "show_forests",
    "show_pooled",
    "show_sensitivity",
    "show_small_study",
    "show_moderators",
    "rho_sensitivity",
    "reference_comparison",
    "COMPARATOR_ORDER",
    "COMPARATOR_NAMES",
    "CONDITION_GROUPS",
    "SENSITIVITY_SCENARIOS",
    "sensitivity_scenarios",
    "pdt_vs_cbt_all_outcomes",
    "load_published",
    "steinert_equivalence",
]

#: Display order of comparator classes in tables and subgroup plots.
COMPARATOR_ORDER = (
    "cbt",
    "other_psychotherapy",
    "medication",
    "usual_care",
    "placebo_attention",
    "other_control",
    "waitlist",
)
#: Readable names of the comparator classes (plots, tables, statements).
COMPARATOR_NAMES = {
    "cbt": "CBT",
    "other_psychotherapy": "other psychotherapy",
    "medication": "medication",
    "usual_care": "usual care",
    "placebo_attention": "placebo or attention control",
    "other_control": "other control",
    "waitlist": "waitlist",
}
#: The notebooks' condition groups and the dataset's condition labels they cover.
#: Comparator families of the headline analyses.
COMPARATOR_FAMILIES = {
    "cbt": ("cbt",),
    "other_active": ("other_psychotherapy", "medication"),
    "control": ("usual_care", "placebo_attention", "other_control", "waitlist"),
}
#: Readable names of the condition labels.
CONDITION_NAMES = {
    "depression": "depression",
    "panic": "panic disorder",
    "social_anxiety": "social anxiety disorder",
    "generalized_anxiety": "generalized anxiety disorder",
    "ptsd": "PTSD",
    "borderline_pd": "borderline personality disorder",
    "other_personality_disorder": "other personality disorders",
    "anorexia_nervosa": "anorexia nervosa",
    "bulimia_nervosa": "bulimia nervosa",
    "somatic_symptom": "somatic symptoms",
    "self_harm": "self-harm and suicidality",
    "substance_use": "substance use",
    "mixed_common_mental": "mixed common mental disorders",
}
CONDITION_GROUPS = {
    "depression": ("depression",),
    "anxiety": ("panic", "social_anxiety", "generalized_anxiety"),
    "ptsd": ("ptsd",),
    "personality": ("borderline_pd", "other_personality_disorder"),
    "eating": ("anorexia_nervosa", "bulimia_nervosa"),
    "somatic": ("somatic_symptom",),
    "self_harm": ("self_harm",),
}
#: Columns that describe a comparison (identical on all its outcome rows) and are kept as is.
_COMPARISON_COLUMNS = (
    "trial_id",
    "study",
    "year",
    "condition",
    "comparator_class",
    "comparator",
    "pdt_variant",
    "format",
    "sessions",
    "rob",
)


def output_root() -> Path:
    """The repository root that figures and tables go under (``EVIDENCE_ROOT`` or this checkout)."""
    env = os.environ.get("EVIDENCE_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[1]


def output_dir() -> Path:
    """The folder that ``figures/`` and ``results/`` are written under: ``EVIDENCE_OUTPUT`` (set
    by ``evidence build`` to its staging folder) or else :func:`output_root`."""
    env = os.environ.get("EVIDENCE_OUTPUT")
    return Path(env) if env else output_root()


def save_table(frame: pd.DataFrame, name: str, *, root: Path | None = None) -> Path:
    """Write ``results/<name>.csv`` byte-stably (fixed float format and line endings) and
    atomically (a temporary file renamed into place)."""
    from .io import atomic_path

    path = (root or output_dir()) / "results" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, float_format="%.6g", lineterminator="\n")
    return path


def save_plot(obj, name: str, *, root: Path | None = None) -> list[Path]:
    """Write ``figures/<name>.svg`` and ``.png`` from an Axes or Figure (byte-stable); in a
    notebook, also show the figure."""
    from .io import save_figure

    fig = obj.figure if hasattr(obj, "figure") and obj.figure is not None else obj
    folder = (root or output_dir()) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.{ext}" for ext in ("svg", "png")]
    for p in paths:
        save_figure(fig, p)
    _display_in_notebook(fig)
    return paths


def _display_in_notebook(fig) -> None:
    """In a Jupyter kernel, show the figure once now and release it (outside one, do nothing).

    The inline backend only shows figures it saw being drawn, which misses figures built and
    saved inside a library call; displaying explicitly and closing avoids both gaps and repeats.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)


def comparison_effects(
    outcomes: pd.DataFrame,
    *,
    measure: str = "SMD",
    timepoint: str = "post",
    rho: float = 0.5,
    cluster: tuple[str, ...] = ("comparison_id",),
) -> pd.DataFrame:
    """One effect per cluster (by default per trial comparison), aggregated under ``rho``.

    Rows of one measure and timepoint that share the ``cluster`` columns (several instruments
    of one comparison; with ``cluster=("trial_id", "comparator_class")`` also several arms of
    one trial against comparators of one class, which share an arm) are combined with
    :func:`evidence.dependence.aggregate_effects` (compound symmetry, correlation ``rho``), as
    metafor's ``aggregate()`` does. Arm sizes are kept when the cluster is one comparison whose
    rows all report the same; other columns describing the comparison come from the cluster's
    first row, and ``comparator`` lists every comparator of the cluster.

    Returns
    -------
    pandas.DataFrame
        One row per cluster (input order) with ``cluster_id``, the comparison columns, ``yi``,
        ``vi``, ``n_effects``, ``n_comparisons``, ``effect_ids`` (the outcome rows combined),
        ``instruments``, ``n1``, ``n2`` and ``label``.

    Raises
    ------
    ValueError
        When a selected row has no finite effect or positive variance (it is never dropped
        silently; :func:`evidence.data.load` refuses such rows, so this signals a bug).
    """
    from .dependence import aggregate_effects

    rows = outcomes[(outcomes["measure"] == measure) & (outcomes["timepoint"] == timepoint)]
    _check_usable(rows)
    if rows.empty:
        return pd.DataFrame(columns=["cluster_id", *_COMPARISON_COLUMNS, "yi", "vi", "n_effects"])
    rows = rows.assign(cluster_id=rows[list(cluster)].astype(str).agg("|".join, axis=1))
    agg = aggregate_effects(rows["yi"], rows["vi"], rows["cluster_id"], rho=rho)
    grouped = rows.groupby("cluster_id", sort=False)
    keep = [c for c in _COMPARISON_COLUMNS if c in rows.columns]
    out = grouped[keep].first()
    out["yi"] = agg["yi"].reindex(out.index)
    out["vi"] = agg["vi"].reindex(out.index)
    out["n_effects"] = agg["n"].reindex(out.index).astype(int)
    out["n_comparisons"] = grouped["comparison_id"].nunique()
    if "effect_id" in rows:  # which outcome rows each pooled effect stands for
        out["effect_ids"] = grouped["effect_id"].agg(tuple)
    joined = {"instruments": "instrument", "comparator": "comparator", "construct": "construct"}
    for name, col in joined.items():
        if col in rows:
            out[name] = grouped[col].agg(lambda s: "; ".join(dict.fromkeys(s.astype(str))))
    for col in ("n1", "n2"):  # arm sizes only where they describe one pair of arms
        same = (grouped[col].nunique(dropna=False) == 1) & (out["n_comparisons"] == 1)
        out[col] = grouped[col].first().where(same)
    for col in ("events1", "events2"):  # event counts only where they are one 2x2 table
        if col in rows:
            out[col] = grouped[col].first().where(out["n_effects"] == 1)
    if "higher_is_better" in rows:  # True/False when every row of the cluster agrees
        hib = grouped["higher_is_better"]
        out["higher_is_better"] = hib.first().where(hib.nunique(dropna=False) == 1)
    out["label"] = out["study"].astype(str)
    return out.reset_index()


def _check_usable(rows: pd.DataFrame) -> None:
    """Refuse selected rows without a finite effect and a positive finite variance."""
    ok = np.isfinite(rows["yi"]) & np.isfinite(rows["vi"]) & (rows["vi"] > 0)
    if not ok.all():
        ids = rows.loc[~ok, "effect_id"] if "effect_id" in rows else rows.index[~ok]
        raise ValueError(
            "selected outcome rows have no finite effect or variance (not dropped silently): "
            + ", ".join(map(str, ids))
        )


#: Columns shown for the comparisons of an analysis.
EFFECT_COLUMNS = [
    "label",
    "condition",
    "comparator",
    "comparator_class",
    "pdt_variant",
    "sessions",
    "format",
    "rob",
    "n_comparisons",
    "n_effects",
    "instruments",
    "yi",
    "vi",
]


def overview_text(analyses: dict) -> str:
    """Markdown: how many comparisons and trials an analysis dict (measure -> Analysis) holds."""
    if not analyses:
        rows = getattr(analyses, "rows", None)
        return (
            "**No usable comparisons for this condition in the curated data yet.** Nothing is "
            "pooled below; see `data/README.md` for the trials that were looked at and why "
            "they are not (yet) included."
        ) + ("" if rows is None or not len(rows) else "\n\n" + accounting_text(rows))
    parts = []
    for an in analyses.values():
        e = an.effects
        kind = (
            "continuous outcomes (Hedges' g)" if an.measure == "SMD" else "event outcomes (log OR)"
        )
        kind += f" at {an.timepoint.replace('_', '-')}"
        parts.append(
            f"- {kind}: {len(e)} comparisons from {e['trial_id'].nunique()} trials, "
            f"{int(e['n_effects'].sum())} effects before aggregation; comparators: "
            + ", ".join(f"{COMPARATOR_NAMES.get(g, g)} (k = {r.k})" for g, r in an.results.items())
        )
    text = "This notebook pools:\n\n" + "\n".join(parts)
    rows = getattr(analyses, "rows", None)
    return text if rows is None else text + "\n\n" + accounting_text(rows)


def dataset_profile(dataset) -> pd.DataFrame:
    """Per condition: trials, comparisons, PDT sessions (median, range), years and formats."""
    o = dataset.outcomes.drop_duplicates("comparison_id").merge(
        dataset.trials[["trial_id", "year"]], on="trial_id", how="left"
    )
    sessions = pd.to_numeric(o["sessions"], errors="coerce")

    def span(s: pd.Series) -> str:
        s = s.dropna()
        return "not reported" if s.empty else f"{s.median():g} ({s.min():g}-{s.max():g})"

    rows = []
    for cond, g in o.groupby("condition", sort=True):
        rows.append(
            {
                "condition": CONDITION_NAMES.get(cond, cond),
                "trials": g["trial_id"].nunique(),
                "comparisons": len(g),
                "PDT sessions, median (range)": span(sessions[g.index]),
                "years": f"{int(g['year'].min())}-{int(g['year'].max())}",
                "formats": ", ".join(sorted(g["format"].dropna().unique())),
            }
        )
    return pd.DataFrame(rows).set_index("condition")


def _pct(x: float) -> str:
    return "not estimable" if not np.isfinite(x) else f"{x:.0f}%"


def describe(
    result, *, effect: str = "g", comparator: str = "the comparator", reverse: bool = False
) -> str:
    """A plain-language statement of what a pooled result does and does not show.

    It reports k, the pooled effect with its CI, heterogeneity, the prediction interval and the
    caveats that follow from them (few trials, wide or sign-crossing intervals). The result is
    oriented so that positive favours PDT; ``reverse`` words the numbers as the forest plot
    shows them for a harmful event (natural PDT-vs-comparator odds ratio, -yi).
    """
    k = result.k
    ratio = getattr(result, "measure", None) in ("OR", "RR")
    sign = -1.0 if reverse else 1.0

    def shown(a: float, b: float) -> tuple[float, float]:
        a, b = sorted((sign * a, sign * b))
        return (np.exp(a), np.exp(b)) if ratio else (a, b)

    est = np.exp(sign * result.estimate) if ratio else sign * result.estimate
    lo, hi = shown(result.ci_low, result.ci_high)
    null = "1" if ratio else "zero"
    parts = [
        f"{k} trial comparison{'s' if k != 1 else ''}; {'pooled ' if k > 1 else ''}{effect} = "
        f"{est:.2f} "
        f"(95% CI {lo:.2f} to {hi:.2f})."
    ]
    if result.ci_low > 0:  # the orientation of the data: positive favours PDT
        parts.append(f"The CI excludes {null}: on average PDT did better than {comparator}.")
    elif result.ci_high < 0:
        parts.append(f"The CI excludes {null}: on average {comparator} did better than PDT.")
    else:
        parts.append(
            f"The CI includes no effect: these trials do not show a difference between PDT and "
            f"{comparator}, which is not the same as showing that there is none."
        )
    if k >= 2:
        pl, ph = shown(result.pi_low, result.pi_high)
        parts.append(
            f"Heterogeneity: I^2 = {_pct(result.i2)}, tau^2 = {result.tau2:.3f}; the 95% "
            f"prediction interval for a new trial runs from {pl:.2f} to {ph:.2f}."
        )
        if result.pi_low < 0 < result.pi_high:
            parts.append("A new trial could plausibly find an effect in either direction.")
    if k < 5:
        parts.append(
            "With fewer than five trials, tau^2 and the prediction interval are very uncertain; "
            "treat this estimate as preliminary."
        )
    return " ".join(parts)


def reference_comparison(path: Path | None = None) -> pd.DataFrame:
    """Our fits beside metafor's reference values (``tests/reference/core.json``).

    One row per dataset x estimator x test with metafor's and our estimate, SE and tau^2 and the
    largest absolute difference over estimate, SE, CI limits, tau^2, Q and the PI limits.
    """
    import json

    from .pooling import pool

    path = path or Path(__file__).resolve().parents[1] / "tests" / "reference" / "core.json"
    ref = json.loads(Path(path).read_text())
    fields = ("estimate", "se", "ci_low", "ci_high", "tau2", "q", "pi_low", "pi_high")
    rows = []
    for f in ref["fits"]:
        d = ref["datasets"][f["dataset"]]
        ours = pool(d["yi"], d["vi"], method=f["method"], test=f["test"])
        diffs = [abs(getattr(ours, x) - f[x]) for x in fields if f[x] is not None]
        rows.append(
            {
                "dataset": f["dataset"],
                "method": f["method"],
                "test": f["test"],
                "k": f["k"],
                "metafor_estimate": f["estimate"],
                "evidence_estimate": ours.estimate,
                "metafor_tau2": f["tau2"],
                "evidence_tau2": ours.tau2,
                "max_abs_diff": max(diffs),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Analysis:
    """Everything a notebook shows for one selection of comparisons, computed once.

    ``effects`` holds one aggregated effect per trial comparison (positive = favours PDT);
    ``results`` maps each group present (comparator class or condition, display order) to its
    pooled result; ``by_group`` is the subgroup analysis (separate tau^2 per group) when there
    are at least two groups, else None.
    """

    name: str
    by: str
    measure: str
    timepoint: str
    method: str
    test: str
    rho: float
    effects: pd.DataFrame = field(repr=False)
    results: dict = field(repr=False)
    by_group: object = field(repr=False)

    @property
    def groups(self) -> tuple[str, ...]:
        """Group keys present, in display order."""
        return tuple(self.results)

    def __bool__(self) -> bool:
        return bool(self.results)

    @property
    def largest_group(self) -> str:
        """The group with the most comparisons (first in display order on ties)."""
        return max(self.results, key=lambda g: self.results[g].k)

    def _name(self, key: str) -> str:
        names = COMPARATOR_NAMES if self.by == "comparator_class" else CONDITION_NAMES
        return names.get(key, key)

    def table(self) -> pd.DataFrame:
        """Per group: k, estimate, CI, PI, tau^2, I^2, Q and p values."""
        cols = (
            "k",
            "estimate",
            "ci_low",
            "ci_high",
            "pi_low",
            "pi_high",
            "tau2",
            "i2",
            "q",
            "q_pvalue",
            "pvalue",
        )
        rows = [
            {"group": self._name(g), **{c: getattr(r, c) for c in cols}}
            for g, r in self.results.items()
        ]
        return pd.DataFrame(rows, columns=["group", *cols]).set_index("group")

    def statements(self, comparator: str | None = None) -> str:
        """Markdown: one plain-language paragraph per group."""
        effect = "g" if self.measure == "SMD" else self.measure
        reverse = self.measure == "OR" and self._event_display().get("reverse", False)
        if reverse:
            effect = "OR (PDT vs comparator; below 1 = fewer events with PDT)"
        if not self:
            return f"No usable {self.measure} comparisons at {self.timepoint}."
        out = []
        for g, r in self.results.items():
            if self.by == "comparator_class":
                head, comp = f"PDT vs {self._name(g)}", self._name(g)
            else:
                label = self._name(g)
                head, comp = label[:1].upper() + label[1:], comparator or "the comparator"
            text = describe(r, effect=effect, comparator=comp, reverse=reverse)
            out.append(f"**{head}.** " + text)
        return "\n\n".join(out)

    def forest(self, *, save: bool = True, **kwargs):
        """Forest plot by group (saved as ``figures/<name>_forest``)."""
        from .plots import forest_plot

        if not self:
            raise ValueError(f"{self.name}: nothing to plot (no usable comparisons)")
        arms = ("events1", "n1", "events2", "n2") if self.measure == "OR" else ("n1", "n2")
        arms = [c for c in arms if c in self.effects and self.effects[c].notna().any()]
        data = self.effects[arms] if arms else None
        kwargs.setdefault("favours", ("comparator", "PDT"))  # positive = favours PDT
        if self.measure == "OR":
            kwargs.update({k: v for k, v in self._event_display().items() if k not in kwargs})
        kwargs.setdefault("overall", False)  # groups differ in kind and may share PDT arms
        shared = self.shared_trials()
        if shared and self.by_group is not None:
            kwargs.setdefault(
                "footnote",
                f"{', '.join(shared)} contribute to more than one subgroup (shared PDT arm); the "
                "test for subgroup differences assumes independent subgroups and is approximate.",
            )
        kwargs.setdefault(
            "title",
            f"{self.name.replace('_', ' ').capitalize()} ({self.measure}, {self.timepoint})",
        )
        ax = forest_plot(self.by_group or next(iter(self.results.values())), data=data, **kwargs)
        if save:
            save_plot(ax, f"{self.name}_forest")
        return ax

    def _event_display(self) -> dict:
        """Forest settings of an event outcome: the event named; a harmful event (every effect
        has ``higher_is_better`` false) shown as the natural PDT-vs-comparator odds ratio."""
        e = self.effects
        out = {}
        if "construct" in e and e["construct"].notna().all():
            out["event"] = " or ".join(dict.fromkeys("; ".join(e["construct"]).split("; ")))
        hib = e["higher_is_better"] if "higher_is_better" in e else pd.Series(dtype=object)
        if len(hib) and hib.notna().all() and not hib.astype(bool).any():
            out["reverse"] = True
        return out

    def shared_trials(self) -> list[str]:
        """Labels of trials that contribute comparisons to more than one group."""
        n = self.effects.groupby("trial_id")[self.by].nunique()
        ids = set(n.index[n > 1])
        return list(dict.fromkeys(self.effects.loc[self.effects["trial_id"].isin(ids), "label"]))

    def leave_one_out(self, group: str) -> pd.DataFrame:
        """Leave-one-out analysis of one group."""
        frame = self.results[group].leave_one_out()
        return frame[["k", "estimate", "ci_low", "ci_high", "tau2", "i2"]]

    def influence(self, group: str) -> pd.DataFrame:
        """metafor-style influence diagnostics for one group."""
        from .sensitivity import influence

        return influence(self.results[group]).to_frame()

    def small_study(self, min_k: int = 10) -> pd.DataFrame:
        """Egger's test, Begg's rank test and trim-and-fill for groups with k >= ``min_k``."""
        from .bias import egger_test, rank_test, trim_and_fill

        rows = []
        for g, r in self.results.items():
            if r.k < min_k:
                continue
            eg, rk = egger_test(r.yi, r.vi), rank_test(r.yi, r.vi)
            tf = trim_and_fill(r.yi, r.vi, method=self.method)
            rows.append(
                {
                    "group": self._name(g),
                    "k": r.k,
                    "egger_z": eg.statistic,
                    "egger_p": eg.pvalue,
                    "begg_tau": rk.tau,
                    "begg_p": rk.pvalue,
                    "trimfill_k0": tf.k0,
                    "trimfill_side": tf.side,
                    "trimfill_estimate": tf.estimate,
                }
            )
        return pd.DataFrame(rows)

    def equivalence(self, margin: float = 0.25) -> pd.DataFrame:
        """TOST equivalence (90% CI) and non-inferiority of each group's pooled effect."""
        from .analyses import equivalence_test

        rows = []
        for g, r in self.results.items():
            eq = equivalence_test(r, margin=margin)
            rows.append({"group": self._name(g), "k": r.k, **eq.to_frame().iloc[0].to_dict()})
        return pd.DataFrame(rows).set_index("group") if rows else pd.DataFrame()

    def moderators(self, min_k: int = 6) -> pd.DataFrame:
        """Meta-regressions: brief (<= 30 sessions) vs long-term (>= 50), internet vs face to
        face, and risk of bias, with the grouping factor as covariate when there is more than
        one group. A moderator with fewer than ``min_k`` usable comparisons or a single level is
        reported as not estimable, never silently skipped."""
        from .regression import meta_regression

        e = self.effects
        sessions = pd.to_numeric(e["sessions"], errors="coerce")
        length = np.where(sessions <= 30, "brief", np.where(sessions >= 50, "long-term", None))
        internet = e["format"].where(e["format"].isna(), e["format"] == "internet")
        candidates = {
            "treatment length": pd.Series(length, index=e.index, dtype=object),
            "internet delivery": internet.map({True: "internet", False: "face to face"}),
            "risk of bias": e["rob"].where(e["rob"].astype(str).str.strip() != ""),
        }
        rows = []
        for name, mod in candidates.items():
            ok = mod.notna().to_numpy()
            levels = int(mod[ok].nunique())
            row = {"moderator": name, "k": int(ok.sum()), "levels": levels}
            numeric = pd.to_numeric(mod[ok], errors="coerce").notna()
            if name == "risk of bias" and 0 < numeric.sum() < ok.sum():
                row["note"] = "not estimable: the sources rate risk of bias on different scales"
                rows.append(row)
                continue
            if ok.sum() < min_k or levels < 2:
                row["note"] = "not estimable: too few comparisons or a single level"
                rows.append(row)
                continue
            mods = {name: mod[ok].astype(str).to_numpy()}
            if e.loc[ok, self.by].nunique() > 1:
                mods[self.by] = e.loc[ok, self.by].to_numpy()
            try:
                fit = meta_regression(
                    e.loc[ok, "yi"], e.loc[ok, "vi"], mods, method=self.method, test=self.test
                )
            except ValueError as exc:  # rank-deficient design or too few studies: say so
                row["note"] = f"not estimable: {exc}"
                rows.append(row)
                continue
            first = next(i for i, n in enumerate(fit.names) if n.startswith(name))
            row.update(
                coefficient=fit.names[first],
                estimate=float(fit.coef[first]),
                se=float(fit.se[first]),
                qm=fit.qm,
                qm_pvalue=fit.qm_pvalue,
                tau2=fit.tau2,
                r2=fit.r2,
                note=f"covariates: {', '.join(mods)}",
            )
            rows.append(row)
        return pd.DataFrame(rows).set_index("moderator")


def rho_sensitivity(dataset, analysis: Analysis, rhos=(0.0, 0.3, 0.5, 0.7, 0.9)):
    """Pooled estimate of every group under other assumed within-comparison correlations."""
    conditions = tuple(analysis.effects["condition"].unique())
    comparators = tuple(analysis.effects["comparator_class"].unique())
    rows = []
    for rho in rhos:
        again = analyse(
            dataset,
            analysis.name,
            conditions=conditions,
            comparators=comparators,
            by=analysis.by,
            measure=analysis.measure,
            timepoint=analysis.timepoint,
            method=analysis.method,
            test=analysis.test,
            rho=rho,
        )
        rows += [
            {
                "rho": rho,
                "group": again._name(g),
                "k": r.k,
                "estimate": r.estimate,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
            }
            for g, r in again.results.items()
        ]
    return pd.DataFrame(rows).pivot(index="group", columns="rho", values="estimate")


def analyse(
    dataset,
    name: str,
    *,
    conditions: tuple[str, ...] | None = None,
    comparators: tuple[str, ...] | None = None,
    by: str = "comparator_class",
    measure: str = "SMD",
    timepoint: str = "post",
    method: str = "REML",
    test: str = "knha",
    rho: float = 0.5,
) -> Analysis:
    """Select comparisons, aggregate dependent effects, and pool by group.

    Parameters
    ----------
    dataset
        :func:`evidence.data.load`'s result.
    name : str
        Name of the analysis (figure and table file names). When ``conditions`` is not given,
        ``name`` must be a key of :data:`CONDITION_GROUPS`, or ``"all"`` for every condition.
    conditions, comparators : tuple of str, optional
        Condition labels and comparator classes to keep (default: all comparator classes).
    by : {"comparator_class", "condition"}
        Grouping of the subgroup analysis.
    measure, timepoint, method, test, rho
        Effect measure (``SMD`` or ``OR``), timepoint, tau^2 estimator, test, and the assumed
        correlation between instruments of one comparison.
    """
    from .analyses import subgroups
    from .pooling import pool

    if conditions is None:
        conditions = tuple(CONDITION_NAMES) if name == "all" else CONDITION_GROUPS[name]
    outcomes = dataset.outcomes
    if "year" not in outcomes:
        outcomes = outcomes.merge(dataset.trials[["trial_id", "year"]], on="trial_id", how="left")
    if "construct" not in outcomes and hasattr(dataset, "instruments"):
        constructs = dataset.instruments[["instrument", "construct"]]
        outcomes = outcomes.merge(constructs, on="instrument", how="left")
    keep = outcomes["condition"].isin(conditions)
    if comparators is not None:
        keep &= outcomes["comparator_class"].isin(comparators)
    # one effect per trial and group: instruments of a comparison, and comparisons of one trial
    # that share an arm within a group, are aggregated so that no trial counts twice in a group
    eff = comparison_effects(
        outcomes[keep], measure=measure, timepoint=timepoint, rho=rho, cluster=("trial_id", by)
    )
    order = {
        c: i
        for i, c in enumerate(COMPARATOR_ORDER if by == "comparator_class" else CONDITION_NAMES)
    }
    if len(eff):
        eff = eff.sort_values(
            [by, "year", "label"],
            key=lambda s: s.map(order) if s.name == by else s,
            kind="stable",
        ).reset_index(drop=True)
    names = COMPARATOR_NAMES if by == "comparator_class" else CONDITION_NAMES
    groups = list(dict.fromkeys(eff[by])) if len(eff) else []
    by_group, results = None, {}
    if len(groups) > 1:
        by_group = subgroups(
            eff["yi"],
            eff["vi"],
            [names.get(g, g) for g in eff[by]],
            method=method,
            test=test,
            labels=eff["label"],
            measure=measure,
        )
        results = {g: by_group.results[names.get(g, g)] for g in groups}
    elif groups:
        results = {
            groups[0]: pool(
                eff["yi"], eff["vi"], method=method, test=test, labels=eff["label"], measure=measure
            )
        }
    return Analysis(name, by, measure, timepoint, method, test, rho, eff, results, by_group)


def headline(dataset, *, method: str = "REML", test: str = "knha") -> dict:
    """PDT vs CBT, vs other active treatments and vs control, by condition (SMD, post).

    Returns a dict family -> :class:`Analysis` grouped by condition.
    """
    return {
        family: analyse(
            dataset,
            f"headline_{family}",
            conditions=tuple(CONDITION_NAMES),
            comparators=classes,
            by="condition",
            method=method,
            test=test,
        )
        for family, classes in COMPARATOR_FAMILIES.items()
    }


# ------------------------------------------------------------------------------------------
# notebook sections: one call per section, so the condition notebooks share one implementation


def condition_analyses(
    dataset, key: str, *, method: str = "REML", test: str = "knha", rho: float = 0.5
) -> dict:
    """Continuous (SMD) and event (OR) analyses of one condition group, at post-treatment and
    at follow-up (kept separate, never pooled together); empty ones are left out. Keys are
    ``"<measure> <timepoint>"``, e.g. ``"SMD post"``. The result's ``rows`` accounts for
    every outcome row of the group's conditions (:func:`row_accounting`)."""
    out = ConditionAnalyses()
    for timepoint, tsuffix in (("post", ""), ("follow_up", "_followup")):
        for measure, msuffix in (("SMD", ""), ("OR", "_events")):
            an = analyse(
                dataset,
                f"{key}{msuffix}{tsuffix}",
                conditions=CONDITION_GROUPS[key],
                measure=measure,
                timepoint=timepoint,
                method=method,
                test=test,
                rho=rho,
            )
            if an:
                out[f"{measure} {timepoint.replace('_', '-')}"] = an
    conditions = dataset.outcomes["condition"].isin(CONDITION_GROUPS[key])
    out.rows = row_accounting(dataset, out.values())[conditions.to_numpy()]
    return out


def _show(*objs) -> None:
    from IPython.display import Markdown, display

    display(*(Markdown(o) if isinstance(o, str) else o for o in objs))


def show_comparisons(analyses: dict) -> None:
    """Section: the aggregated comparisons, one table per measure."""
    for measure, an in analyses.items():
        _show(f"**{measure}**", an.effects[EFFECT_COLUMNS])


def show_forests(analyses: dict) -> None:
    """Section: forest plots by comparator class (also saved to figures/)."""
    for an in analyses.values():
        an.forest()


def show_pooled(analyses: dict) -> None:
    """Section: pooled estimates, heterogeneity, PIs (saved to results/) and the statements."""
    for an in analyses.values():
        save_table(an.table(), f"{an.name}_by_comparator")
        _show(an.table().round(3), an.statements())


def show_sensitivity(analyses: dict, min_k: int = 3) -> None:
    """Section: leave-one-out and influence diagnostics for the largest comparator class."""
    for an in analyses.values():
        group = an.largest_group
        if an.results[group].k < min_k:
            _show(
                f"**{an.name}**: fewer than {min_k} comparisons in every class; "
                "leave-one-out is not informative."
            )
            continue
        _show(
            f"**{an.name}: PDT vs {COMPARATOR_NAMES.get(group, group)}**",
            an.leave_one_out(group).round(3),
            an.influence(group).round(3),
        )


def show_small_study(analyses: dict, min_k: int = 10) -> None:
    """Section: small-study tests and trim-and-fill funnel plots (saved as
    ``figures/<name>_<group>_funnel``) where a class has at least ``min_k`` comparisons."""
    from .bias import trim_and_fill

    for an in analyses.values():
        ss = an.small_study(min_k)
        if len(ss):
            _show(ss.round(3))
            for g, res in an.results.items():
                if res.k >= min_k:
                    tf = trim_and_fill(res, method=an.method)
                    title = (
                        f"{an._name(g).capitalize()}, {an.name.replace('_', ' ')}: "
                        f"trim-and-fill ({an.method}) imputes {tf.k0} on the {tf.side}"
                    )
                    save_plot(tf.funnel_plot(title=title), f"{an.name}_{g}_funnel")
        else:
            _show(
                f"**{an.name}**: no class has {min_k} or more comparisons; "
                "small-study tests not run."
            )


def show_moderators(dataset, analyses: dict) -> None:
    """Section: meta-regressions and the sensitivity of the pooled estimates to rho."""
    for an in analyses.values():
        _show(
            f"**{an.name}**",
            an.moderators().round(3),
            "Pooled estimate by assumed correlation rho:",
            rho_sensitivity(dataset, an).round(3),
        )


# ------------------------------------------------------------------------------------------
# audit follow-ups (issue 10): sensitivity to judgement calls, PDT vs CBT on every outcome type,
# and the Steinert et al. 2017 equivalence analysis. Separate functions, no shared state.

#: Sensitivity scenarios: name -> (what changes, how the outcome rows are changed).
SENSITIVITY_SCENARIOS = {
    "alternative classification": "comparators classed by alt_class (data/arms.csv)",
    "add-on designs excluded": "comparisons with add_on = true left out",
    "suspect rows excluded": "outcome rows flagged 'suspect' left out",
}


def _scenario_outcomes(outcomes: pd.DataFrame, scenario: str) -> pd.DataFrame:
    if scenario == "alternative classification":
        return outcomes.assign(comparator_class=outcomes["comparator_class_alt"])
    if scenario == "add-on designs excluded":
        return outcomes[~outcomes["add_on"].astype(bool)]
    if scenario == "suspect rows excluded":
        return outcomes[outcomes["flag"].isna()]
    raise ValueError(f"unknown scenario {scenario!r}; known: {list(SENSITIVITY_SCENARIOS)}")


def sensitivity_scenarios(
    dataset, key: str, *, method: str = "REML", test: str = "knha", rho: float = 0.5
) -> pd.DataFrame:
    """Pooled SMD at post by comparator class, as classified and under each scenario of
    :data:`SENSITIVITY_SCENARIOS` that changes this condition group's rows.

    One row per scenario x comparator class (k, estimate, 95% CI, the trials that moved or left);
    a scenario that changes nothing for the group is listed once with a note.

    Examples
    --------
    >>> from evidence.data import load
    >>> t = sensitivity_scenarios(load(), "anxiety")
    >>> "medication" in t.loc["alternative classification"].index  # Wiborg 1996 re-classed
    True
    """
    import dataclasses

    conditions = CONDITION_GROUPS[key]
    base = dataset.outcomes[dataset.outcomes["condition"].isin(conditions)]
    rows = []

    def add(scenario: str, outcomes: pd.DataFrame, note: str) -> None:
        ds = dataclasses.replace(dataset, outcomes=outcomes)
        an = analyse(ds, f"{key}_sens", conditions=conditions, method=method, test=test, rho=rho)
        for g, r in an.results.items():
            rows.append(
                {
                    "scenario": scenario,
                    "comparator": COMPARATOR_NAMES.get(g, g),
                    "k": r.k,
                    "estimate": r.estimate,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "changed": note,
                }
            )

    add("as classified", base, "")
    for scenario, what in SENSITIVITY_SCENARIOS.items():
        alt = _scenario_outcomes(base, scenario)
        moved = base.loc[
            ~base["effect_id"].isin(alt["effect_id"])
            | (base["comparator_class"] != base["comparator_class_alt"])
            & (scenario == "alternative classification"),
            "study",
        ]
        studies = ", ".join(dict.fromkeys(moved))
        if not studies:
            rows.append({"scenario": scenario, "changed": f"no change ({what})"})
            continue
        add(scenario, alt, f"{what}: {studies}")
    if not any("k" in r for r in rows):
        rows.insert(0, {"scenario": "as classified", "changed": "no comparisons pooled at post"})
    cols = ["scenario", "comparator", "k", "estimate", "ci_low", "ci_high", "changed"]
    return pd.DataFrame(rows, columns=cols).set_index(["scenario", "comparator"])


def _direction_words(measure: str) -> str:
    if measure == "OR":
        return "OR > 1 favours PDT (odds of the good outcome, or lower odds of the bad one)"
    return "g > 0 favours PDT"


def pdt_vs_cbt_all_outcomes(
    dataset, *, method: str = "REML", test: str = "knha", rho: float = 0.5
) -> pd.DataFrame:
    """Every condition with a PDT vs CBT comparison, whatever the outcome type and timepoint.

    Continuous outcomes are pooled as Hedges' g, event outcomes as odds ratios, each on its own
    scale (never pooled together). The named outcome and its direction are given in words.
    As a sensitivity only, ORs are also shown converted to g with the logistic conversion
    g = ln(OR) * sqrt(3) / pi (Hasselblad and Hedges), so that the rows can be compared.

    Examples
    --------
    >>> from evidence.data import load
    >>> t = pdt_vs_cbt_all_outcomes(load())
    >>> row = t[t["condition"] == "bulimia nervosa"].iloc[0]
    >>> row["timepoint"], row["measure"], row["result"]
    ('during treatment', 'OR', 'favours CBT')
    """
    o = dataset.outcomes[dataset.outcomes["comparator_class"] == "cbt"]
    rows = []
    for cond in [c for c in CONDITION_NAMES if c in set(o["condition"])]:
        oc = o[o["condition"] == cond]
        for (measure, timepoint), part in oc.groupby(["measure", "timepoint"], sort=True):
            if measure not in ("SMD", "OR"):
                continue
            an = analyse(
                dataset,
                f"cbt_{cond}",
                conditions=(cond,),
                comparators=("cbt",),
                measure=measure,
                timepoint=timepoint,
                method=method,
                test=test,
                rho=rho,
            )
            if not an:
                continue
            r = an.results["cbt"]
            tr = np.exp if measure == "OR" else (lambda x: x)
            est, lo, hi = tr(r.estimate), tr(r.ci_low), tr(r.ci_high)
            null = 1.0 if measure == "OR" else 0.0
            if lo > null:
                verdict = "favours PDT"
            elif hi < null:
                verdict = "favours CBT"
            else:
                verdict = "no difference shown"
            rows.append(
                {
                    "condition": CONDITION_NAMES[cond],
                    "timepoint": timepoint.replace("_", " "),
                    "measure": "g" if measure == "SMD" else "OR",
                    "k": r.k,
                    "trials": ", ".join(dict.fromkeys(an.effects["label"])),
                    "outcome": "; ".join(dict.fromkeys(part["instrument"])),
                    "estimate": est,
                    "ci_low": lo,
                    "ci_high": hi,
                    "direction": _direction_words(measure),
                    "result": verdict,
                    "g_from_or": r.estimate * np.sqrt(3) / np.pi if measure == "OR" else np.nan,
                }
            )
    return pd.DataFrame(rows)


def load_published(name: str, *, root: Path | None = None) -> pd.DataFrame:
    """A published result typed once in ``data/published/<name>.csv`` (with its source).

    Examples
    --------
    >>> load_published("steinert2017")[["timepoint", "estimate", "ci_low", "ci_high"]]
       timepoint  estimate  ci_low  ci_high
    0       post    -0.153  -0.227   -0.079
    1  follow_up    -0.049  -0.137   -0.038
    """
    path = (root or Path(__file__).resolve().parents[1]) / "data" / "published" / f"{name}.csv"
    return pd.read_csv(path, dtype={"note": str, "source": str}, keep_default_na=False)


def steinert_equivalence(
    dataset, *, margin: float = 0.25, method: str = "REML", test: str = "knha", rho: float = 0.5
) -> dict:
    """Steinert et al. (2017) on this dataset: PDT vs established active treatments (CBT, other
    psychotherapies, medication; add-on designs excluded), all symptom outcomes of a trial
    aggregated, post-treatment and follow-up; TOST with ``margin`` and the 90% CI.

    Returns ``{timepoint: (effects, pooled result or None, EquivalenceResult or None)}`` for
    ``post`` and ``follow_up`` (one aggregated effect per trial; None when no trial qualifies).

    Examples
    --------
    >>> from evidence.data import load
    >>> eff, res, eq = steinert_equivalence(load())["post"]
    >>> bool(eff["trial_id"].is_unique), sorted(set(eff["comparator_class"]))
    (True, ['cbt', 'other_psychotherapy'])
    """
    import dataclasses

    from .analyses import equivalence_test
    from .pooling import pool

    o = dataset.outcomes
    active = ("cbt", "other_psychotherapy", "medication")
    keep = o["comparator_class"].isin(active) & ~o["add_on"].astype(bool)
    ds = dataclasses.replace(dataset, outcomes=o[keep])
    out = {}
    for timepoint in ("post", "follow_up"):
        eff = comparison_effects(ds.outcomes, timepoint=timepoint, rho=rho, cluster=("trial_id",))
        if len(eff) == 0:
            out[timepoint] = (eff, None, None)
            continue
        res = pool(eff["yi"], eff["vi"], method=method, test=test, labels=eff["label"])
        out[timepoint] = (eff, res, equivalence_test(res, margin=margin))
    return out


# row accounting: every outcome row is pooled somewhere or listed with the reason it is not


class ConditionAnalyses(dict):
    """The analyses of one condition group (``"<measure> <timepoint>"`` -> :class:`Analysis`),
    with ``rows``: the group's outcome rows and where each is pooled (:func:`row_accounting`)."""

    rows: pd.DataFrame | None = None


def build_analyses(
    dataset, *, method: str = "REML", test: str = "knha", rho: float = 0.5
) -> dict[str, Analysis]:
    """Every pooled analysis the notebooks run (headline families and condition pages), by name."""
    out = {an.name: an for an in headline(dataset, method=method, test=test).values()}
    for key in CONDITION_GROUPS:
        for an in condition_analyses(dataset, key, method=method, test=test, rho=rho).values():
            out[an.name] = an
    return out


def _not_pooled_reason(row) -> str:
    if row.timepoint not in ("post", "follow_up"):
        return (
            f"timepoint {row.timepoint.replace('_', ' ')}: only post-treatment and follow-up "
            "are pooled"
        )
    if row.measure not in ("SMD", "OR"):
        return f"measure {row.measure}: only Hedges' g and odds ratios are pooled"
    if not any(row.condition in group for group in CONDITION_GROUPS.values()):
        return (
            f"{CONDITION_NAMES.get(row.condition, row.condition)} has no condition page; the "
            "headline pools only Hedges' g at post-treatment"
        )
    return "selected by no analysis"


def row_accounting(dataset, analyses=None) -> pd.DataFrame:
    """One row per outcome row: the analyses that pool it (``pooled_in``) or, when none does,
    the ``reason``. ``analyses`` defaults to :func:`build_analyses` (everything the build pools).

    Examples
    --------
    >>> import evidence.data
    >>> acc = row_accounting(evidence.data.load())
    >>> bool((acc["pooled_in"].astype(bool) | acc["reason"].astype(bool)).all())
    True
    """
    if analyses is None:
        analyses = build_analyses(dataset).values()
    pooled: dict[str, list[str]] = {}
    for an in analyses:
        for ids in an.effects.get("effect_ids", []):
            for effect_id in ids:
                pooled.setdefault(effect_id, []).append(an.name)
    o = dataset.outcomes
    out = o[["effect_id", "study", "condition", "instrument", "measure", "timepoint"]].copy()
    out["pooled_in"] = o["effect_id"].map(lambda e: "; ".join(pooled.get(e, [])))
    out["reason"] = [
        "" if pooled.get(r.effect_id) else _not_pooled_reason(r) for r in o.itertuples()
    ]
    return out


def accounting_text(rows: pd.DataFrame, scope: str = "of this page's conditions") -> str:
    """Markdown: how many outcome rows are pooled and each one that is not, with its reason."""
    missing = rows[rows["pooled_in"] == ""]
    n, k, m = len(rows), len(rows) - len(missing), len(missing)
    text = (
        f"**Outcome rows {scope}:** {n}; {k} enter at least one pooled analysis, "
        f"{m} {'does' if m == 1 else 'do'} not"
    )
    if missing.empty:
        return text + "."
    items = "\n".join(
        f"- {r.study}, {r.instrument} ({r.timepoint.replace('_', ' ')}): {r.reason}"
        for r in missing.itertuples()
    )
    return text + ":\n\n" + items
