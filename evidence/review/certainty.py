"""How sure are we? GRADE certainty for every pooled comparison, and the verdict that follows it.

Stage 6 (report), after the analyses. Every pooled cell (condition or condition group x
comparator class x construct x timepoint) starts at **high** certainty (randomized trials) and
each GRADE domain takes 0, 1 or 2 levels off by a rule of the protocol (``[grade]`` of
``data/protocol.toml``), with its reason in words:

* **risk of bias**: the share of the pooled weight from trials not at low risk, on one
  harmonised three-level scale across sources (:func:`harmonised_rob`);
* **inconsistency**: I^2 together with a prediction interval that reaches beyond the minimally
  important difference (MID) on both sides;
* **indirectness**: add-on designs, mixed populations;
* **imprecision**: the confidence interval against no effect and the MID, and the optimal
  information size;
* **publication bias**: Egger's test where there are enough trials, otherwise "not assessable".

:func:`verdict` then chooses one sentence per question from the estimate, its interval, the
equivalence margin and the certainty: "PDT did better than X", "X did better", "PDT and X did
not differ by more than the margin", or "we do not know"; a single trial's result is said to be
that trial's. The same function writes the verdict wherever a page states one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "LEVELS",
    "PRIOR_SET",
    "Certainty",
    "harmonised_rob",
    "grade",
    "interval",
    "verdict",
    "cell_verdict",
    "certainty_table",
    "sof_table",
]

#: Certainty levels, from high (0 levels off) to very low (3 or more off).
LEVELS = ("high", "moderate", "low", "very low")
#: Domains in the order GRADE lists them.
DOMAINS = ("risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias")


def harmonised_rob(value: object, rules: dict) -> str:
    """One risk-of-bias scale across sources: ``low``, ``some concerns`` or ``high``.

    RoB 2 judgements are taken as given; a RoB 1 score (criteria met of four) maps by the
    protocol's thresholds; a missing rating counts as ``some concerns``.

    Examples
    --------
    >>> rules = {"rob_score_low": 4, "rob_score_some_concerns": 3}
    >>> [harmonised_rob(v, rules) for v in ("High", "some concerns", "Low", 4.0, 3, 1, None)]
    ['high', 'some concerns', 'low', 'low', 'some concerns', 'high', 'some concerns']
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "some concerns"
    try:
        score = float(value)
    except (TypeError, ValueError):
        text = str(value).strip().lower().removesuffix(" risk")
        if text in ("low", "some concerns", "high"):
            return text
        return "some concerns"
    if score >= rules["rob_score_low"]:
        return "low"
    return "some concerns" if score >= rules["rob_score_some_concerns"] else "high"


@dataclass(frozen=True)
class Certainty:
    """The GRADE rating of one pooled cell: levels taken off and the reason, per domain."""

    level: str
    downgrades: dict
    reasons: dict

    def summary(self) -> str:
        """``moderate (imprecision: ...)``: the level and the reasons of every downgrade."""
        why = "; ".join(f"{d}: {self.reasons[d]}" for d in DOMAINS if self.downgrades[d])
        return f"{self.level} ({why})" if why else self.level

    def to_frame(self) -> pd.DataFrame:
        """One row per domain: levels taken off and the reason."""
        return pd.DataFrame(
            {"levels_off": [self.downgrades[d] for d in DOMAINS],
             "reason": [self.reasons[d] for d in DOMAINS]},
            index=pd.Index(DOMAINS, name="domain"),
        )  # fmt: skip


def _rob(result, effects: pd.DataFrame, rules: dict) -> tuple[int, str]:
    w = np.asarray(result.weights, float) / 100.0
    rob = [harmonised_rob(v, rules) for v in effects["rob"]]
    not_low = float(sum(wi for wi, r in zip(w, rob, strict=True) if r != "low"))
    high = float(sum(wi for wi, r in zip(w, rob, strict=True) if r == "high"))
    text = (
        f"{100 * not_low:.0f}% of the weight from trials not at low risk ({100 * high:.0f}% high)"
    )
    if high > rules["rob_high_share"]:
        return 2, text
    return (1 if not_low > rules["rob_not_low_share"] else 0), text


def _inconsistency(result, mid: float, events: bool, rules: dict) -> tuple[int, str]:
    if result.k < 2:
        return 0, "not assessable with one trial"
    if events:  # the MID on the log-OR scale: g x pi / sqrt(3)
        mid = round(mid * np.pi / np.sqrt(3), 2)
    wide = result.pi_low < -mid and result.pi_high > mid
    scale = "log OR " if events else ""
    text = (
        f"I^2 = {result.i2:.0f}%, {scale}prediction interval {result.pi_low:.2f} to "
        f"{result.pi_high:.2f}"
    )
    if wide and result.i2 >= rules["i2_very_serious"]:
        return 2, text + f" reaches beyond -{mid:g} and +{mid:g}"
    if wide and result.i2 >= rules["i2_serious"]:
        return 1, text + f" reaches beyond -{mid:g} and +{mid:g}"
    return 0, text


def _indirectness(classes: set, conditions: set, rules: dict) -> tuple[int, str]:
    if classes & set(rules["indirect_classes"]):
        return 1, "add-on design: PDT added to a treatment, not PDT instead of it"
    mixed = conditions & set(rules["indirect_conditions"])
    if mixed:
        return 1, f"population of mixed disorders ({', '.join(sorted(mixed))})"
    return 0, "direct comparison in the target population"


def _imprecision(result, n: float, events: bool, mid: float, rules: dict) -> tuple[int, str]:
    lo, hi = result.ci_low, result.ci_high
    if events:  # the MID on the log-OR scale: g x pi / sqrt(3)
        mid = round(mid * np.pi / np.sqrt(3), 2)
    crosses_zero = lo < 0 < hi
    beyond = (lo < -mid) + (hi > mid)
    ois = rules["ois_participants_events" if events else "ois_participants"]
    scale = f"log OR CI (MID {mid:g})" if events else f"CI (MID {mid:g})"
    text = f"{scale} {lo:.2f} to {hi:.2f}; {n:.0f} participants"
    if crosses_zero and beyond == 2:
        return 2, text + " (includes no effect and differences beyond the MID both ways)"
    if crosses_zero and beyond == 1:
        return 1, text + " (includes no effect and a difference beyond the MID)"
    if n < ois:
        return 1, text + f" (fewer than the optimal information size, {ois})"
    return 0, text


def _publication_bias(result, rules: dict) -> tuple[int, str]:
    if result.k < rules["egger_min_k"]:
        return (
            0,
            f"not assessable with {result.k} trials (Egger's test needs {rules['egger_min_k']})",
        )
    p = float(result.egger_test().pvalue)
    if p < rules["egger_alpha"]:
        return 1, f"funnel asymmetry (Egger p = {p:.3f})"
    return 0, f"no funnel asymmetry shown (Egger p = {p:.3f})"


def grade(an, group: str, protocol) -> Certainty:
    """GRADE certainty of the pooled cell ``group`` of the analysis ``an``.

    Examples
    --------
    >>> import evidence.review.data
    >>> from evidence.review import condition_analyses
    >>> ds = evidence.review.data.load()
    >>> an = condition_analyses(ds, "depression")["SMD post"]
    >>> c = grade(an, "waitlist", ds.protocol)
    >>> c.level, [d for d, k in c.downgrades.items() if k]
    ('moderate', ['imprecision'])
    """
    r = an.results[group]
    rules = protocol.grade
    eff = an.effects[an.effects[an.by] == group]
    n = float(np.nansum(eff["n1"]) + np.nansum(eff["n2"]))
    conditions = set(eff["condition"])
    off, why = {}, {}
    for domain, (k, text) in zip(
        DOMAINS,
        (
            _rob(r, eff, rules),
            _inconsistency(r, protocol.mid, an.measure == "OR", rules),
            _indirectness(set(eff["comparator_class"]), conditions, rules),
            _imprecision(r, n, an.measure == "OR", protocol.mid, rules),
            _publication_bias(r, rules),
        ),
        strict=True,
    ):
        off[domain], why[domain] = k, text
    level = LEVELS[min(sum(off.values()), 3)]
    return Certainty(level, off, why)


def verdict(
    estimate: float,
    low: float,
    high: float,
    *,
    k: int,
    certainty: str,
    comparator: str,
    margin: float | None = None,
    measure: str = "SMD",
    treatment: str = "PDT",
) -> str:
    """One sentence answering "how does ``treatment`` (PDT) compare with ``comparator``?".

    The interval (a confidence interval, or for small cells the widest credible interval
    under the protocol's prior set) decides the direction; ``margin`` (g) allows "did not
    differ by more than"; the certainty is always stated, and very low certainty gives "we do
    not know". For odds ratios, ``estimate``, ``low`` and ``high`` are log ORs (> 0 favours
    PDT) and the margin is carried over with ln OR = g pi / sqrt(3).

    Examples
    --------
    >>> verdict(-0.35, -0.51, -0.18, k=1, certainty="low", comparator="CBT")
    'CBT did better than PDT in the one trial (low certainty).'
    >>> verdict(0.05, -0.1, 0.2, k=6, certainty="moderate", comparator="CBT", margin=0.25)
    'PDT and CBT did not differ by more than 0.25 (moderate certainty).'
    >>> verdict(0.2, -0.3, 0.7, k=3, certainty="very low", comparator="usual care")
    'We do not know how PDT compares with usual care (very low certainty).'
    >>> verdict(0.3, 0.1, 0.5, k=9, certainty="low", comparator="internet CBT",
    ...         treatment="internet PDT")
    'Internet PDT did better than internet CBT (low certainty).'
    """
    one = " in the one trial" if k == 1 else ""
    lead = treatment[:1].upper() + treatment[1:]  # PDT stays PDT; internet PDT starts a sentence
    if certainty == "very low":
        return f"We do not know how {treatment} compares with {comparator} ({certainty} certainty)."
    if low > 0:
        return f"{lead} did better than {comparator}{one} ({certainty} certainty)."
    if high < 0:
        name = comparator[:1].upper() + comparator[1:]
        return f"{name} did better than {treatment}{one} ({certainty} certainty)."
    if margin is not None:
        m = margin * (np.pi / np.sqrt(3) if measure == "OR" else 1.0)
        if -m < low and high < m:
            return (
                f"{lead} and {comparator} did not differ by more than {margin:g}{one} "
                f"({certainty} certainty)."
            )
    where = "the one trial does" if k == 1 else "the trials do"
    return (
        f"The question stays open: {where} not show whether {treatment} or {comparator} is "
        f"better ({certainty} certainty)."
    )


#: The protocol's prior set for small cells (half-normal and half-Cauchy on tau, scales for
#: Hedges' g; on the log-OR scale multiplied by pi / sqrt 3): a verdict from a small cell must
#: hold under every one of them.
PRIOR_SET = (("halfnormal", 0.5), ("halfnormal", 1.0), ("halfcauchy", 0.5), ("halfcauchy", 1.0))


def interval(an, group: str, protocol) -> tuple[float, float, str]:
    """The interval a verdict reads: the CI with ``small_k`` or more trials, and the trial's own
    CI for a single trial (the verdict is then that trial's); with 2 to ``small_k - 1``
    trials, the widest 95% credible interval under the protocol's prior set (a verdict must
    hold under every prior)."""
    from evidence.meta.bayes import bayes_pool

    r = an.results[group]
    if r.k >= protocol.small_k:
        return r.ci_low, r.ci_high, "CI"
    if r.k == 1:  # the verdict describes that trial: its own interval
        return r.ci_low, r.ci_high, "the trial's CI"
    scale = np.pi / np.sqrt(3) if an.measure == "OR" else 1.0
    fits = [bayes_pool(r.yi, r.vi, tau_prior=prior, tau_scale=s * scale) for prior, s in PRIOR_SET]
    low = min(f.mu_ci_low for f in fits)
    high = max(f.mu_ci_high for f in fits)
    return low, high, "widest CrI over the prior set"


def cell_verdict(
    an, group: str, protocol, comparator: str, *, margin: float | None = None
) -> tuple[str, Certainty, tuple[float, float, str]]:
    """The verdict on the pooled cell ``group`` of ``an``, with its certainty and interval.

    The one verdict code every surface uses: :func:`grade` gives the certainty,
    :func:`interval` the interval read (for 2 to ``small_k - 1`` trials the widest credible
    interval over :data:`PRIOR_SET`, so a Bayesian verdict is stated only if it holds under
    every prior; otherwise the question stays open), :func:`verdict` the sentence.

    Examples
    --------
    >>> import evidence.review.data
    >>> from evidence.review import condition_analyses
    >>> ds = evidence.review.data.load()
    >>> an = condition_analyses(ds, "anxiety")["social anxiety disorder: SMD post"]
    >>> text, c, (low, high, read) = cell_verdict(an, "cbt", ds.protocol, "CBT", margin=0.25)
    >>> text
    'CBT did better than PDT in the one trial (moderate certainty).'
    >>> read
    "the trial's CI"
    """
    c = grade(an, group, protocol)
    low, high, read = interval(an, group, protocol)
    r = an.results[group]
    text = verdict(
        r.estimate, low, high, k=r.k, certainty=c.level, comparator=comparator, margin=margin,
        measure=an.measure,
    )  # fmt: skip
    return text, c, (low, high, read)


def certainty_table(analyses: dict, protocol, *, margin: float | None = None) -> pd.DataFrame:
    """Summary of findings: one row per pooled cell of ``analyses`` (name -> Analysis): trials,
    participants, effect with CI and PI, certainty with the reasons, and the verdict."""
    from .vocabulary import COMPARATOR_NAMES, CONDITION_NAMES, event_display

    rows = []
    for key, an in analyses.items():
        family = an.name.removeprefix("headline_")
        shown = event_display(an) if an.measure == "OR" else {}
        for group, r in an.results.items():
            eff = an.effects[an.effects[an.by] == group]
            if an.by == "comparator_class":
                comparator, where = COMPARATOR_NAMES.get(group, group), ""
            else:  # a headline family: one comparator class, grouped by condition
                comparator = COMPARATOR_NAMES.get(family, family)
                where = f"{CONDITION_NAMES.get(group, group)}: "
            text, c, (low, high, read) = cell_verdict(
                an, group, protocol, comparator, margin=margin
            )
            rows.append(
                {
                    "analysis": key,
                    "comparison": f"{where}PDT vs {comparator}",
                    "measure": an.measure,
                    "timepoint": an.timepoint.replace("_", "-"),
                    "k": r.k,
                    "participants": int(np.nansum(eff["n1"]) + np.nansum(eff["n2"])),
                    "estimate": r.estimate,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "pi_low": r.pi_low if r.k > 1 else np.nan,
                    "pi_high": r.pi_high if r.k > 1 else np.nan,
                    "event": shown.get("event", ""),
                    "natural_or": bool(shown.get("reverse")),
                    "verdict_interval": read,
                    "verdict_low": low,
                    "verdict_high": high,
                    "certainty": c.level,
                    "reasons": c.summary().removeprefix(c.level).strip(" ()"),
                    "verdict": text,
                }
            )
    return pd.DataFrame(rows)


def sof_table(table: pd.DataFrame) -> pd.DataFrame:
    """The summary-of-findings table for reading: comparator (with condition, scale and
    timepoint), trials and participants, the effect with its 95% CI (odds ratios as ratios),
    the certainty and the verdict."""

    def scale(r):
        """Shown values: g; odds ratios as ratios, a harmful event as the natural OR of the
        event (PDT vs comparator, < 1 favours PDT), as in the forest plots."""
        if r.measure != "OR":
            return lambda x: x
        return (lambda x: np.exp(-x)) if r.natural_or else np.exp

    def effect(r) -> str:
        f = scale(r)
        lo, hi = sorted((f(r.ci_low), f(r.ci_high)))
        if r.measure != "OR":
            return f"g {f(r.estimate):.2f} [{lo:.2f}, {hi:.2f}]"
        side = "< 1" if r.natural_or else "> 1"
        what = f"OR of {r.event}" if r.event else "OR"
        return f"{what} {f(r.estimate):.2f} [{lo:.2f}, {hi:.2f}] ({side} favours PDT)"

    out = pd.DataFrame(
        {
            "comparison": [
                f"{r.comparison.removeprefix('PDT vs ')}"
                f" ({r.analysis.split(': ')[0] + ', ' if ': ' in r.analysis else ''}"
                f"{'OR' if r.measure == 'OR' else 'g'}, {r.timepoint})"
                for r in table.itertuples()
            ],
            "trials (participants)": [f"{r.k} ({r.participants})" for r in table.itertuples()],
            "effect [95% CI]": [effect(r) for r in table.itertuples()],
            "certainty": table["certainty"],
            "verdict": table["verdict"],
        }
    )
    return out
