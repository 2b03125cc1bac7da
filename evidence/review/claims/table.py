"""The claims table: one row per claim, with its verdict, certainty and the trials behind it.

Every verdict sentence in it is one of :func:`evidence.review.certainty.verdict`'s, taken from
the section's own table; where a claim spans several questions (claim 1: eleven named
conditions; claim 2: several conditions) the row says how many of them support it and the
certainty is that of the weakest part (the GRADE rule for a body of evidence across outcomes).
"""

from __future__ import annotations

import pandas as pd

from ..certainty import LEVELS

__all__ = ["CLAIMS", "claims_table", "question"]

#: The claims, as students meet them in articles about PDT (issue 25), and the question each
#: becomes on the claims page.
CLAIMS = (
    (
        "PDT can treat depression, social anxiety disorder, panic disorder, somatic disorders, "
        "some personality disorders, PTSD, eating disorders, substance use disorders, anxiety, "
        "interpersonal problems and psychological distress.",
        "Per named condition: did PDT do better than waitlist, usual care, placebo or attention "
        "control, or other control (each apart)?",
    ),
    (
        "Psychodynamic therapy can be just as effective as CBT for many conditions.",
        "Per condition and pooled: does PDT vs CBT lie within the equivalence margin (TOST)?",
    ),
    (
        "Online psychodynamic therapy may be as effective as online CBT.",
        "Internet PDT vs internet CBT: direct trials, and a network split by delivery format.",
    ),
    (
        "Today's PDT is time-limited; brief and long-term forms both exist (is long-term better?).",
        "Does the effect of PDT against controls grow with the number of sessions?",
    ),
)


def _weakest(levels) -> str:
    levels = [lv for lv in levels if lv in LEVELS]
    return max(levels, key=LEVELS.index) if levels else "very low"


def _claim1(table: pd.DataFrame, untested: pd.DataFrame) -> tuple[str, str, str]:
    """Named conditions with a "PDT did better" verdict against some control class (the
    verdict's own rule: interval above 0 and certainty above very low)."""
    from .conditions import CLAIMED_CONDITIONS

    better = table[(table["verdict_low"] > 0) & (table["certainty"] != "very low")]
    best = (
        better.assign(rank=better["certainty"].map(LEVELS.index))
        .sort_values(["rank", "k"], ascending=[True, False], kind="stable")
        .drop_duplicates("claimed")
    )
    shown = [f"{r.claimed} ({r.comparison.removeprefix('PDT vs ')}, {r.certainty})"
             for r in best.itertuples()]  # fmt: skip
    none = list(untested["claimed"]) if len(untested) else []
    rest = [c for c in CLAIMED_CONDITIONS if c not in set(best["claimed"]) and c not in none]
    text = (
        f"PDT did better than a control class in {len(shown)} of {len(CLAIMED_CONDITIONS)} "
        f"named conditions: {'; '.join(shown) or 'none'}. Trials without such a verdict: "
        f"{', '.join(rest) or 'none'}. No pooled comparison with a control class: "
        f"{', '.join(none) or 'none'}."
    )
    per_condition = table.assign(rank=table["certainty"].map(LEVELS.index))
    top = per_condition.sort_values("rank", kind="stable").drop_duplicates("claimed")
    certainty = _weakest(top["certainty"])
    labels = {t for cell in table["trials"] for t in cell.split(", ") if t}
    return text, certainty, f"{len(labels)} trials in {len(table)} pooled cells (section 1)"


def _claim2(eq: pd.DataFrame) -> tuple[str, str, str]:
    pooled = eq[eq["scope"] == "all conditions pooled"].iloc[0]
    direct = eq[eq["source"] == "direct trials (pairwise)"]
    direct = direct[direct["scope"] != "all conditions pooled"]
    net = eq[eq["source"].str.startswith("network")]
    text = (
        f"All conditions pooled: {pooled.verdict} Equivalence within the margin shown in "
        f"{int(direct['equivalent'].sum())} of {len(direct)} conditions (direct trials) and "
        f"{int(net['equivalent'].sum())} of {len(net)} condition networks."
    )
    return text, pooled.certainty, f"{int(pooled.k)}: {pooled.trials}"


def _claim3(direct: pd.DataFrame, network: pd.DataFrame) -> tuple[str, str, str]:
    hit = network[network["node"] == "cbt"] if "node" in network else network.iloc[:0]
    if direct.empty:  # the certainty is then the networks' (CINeMA), weakest first
        text = "No trial randomizes to internet PDT and internet CBT."
        certainty, trials = _weakest(hit["cinema"]) if len(hit) else "very low", "0"
    else:
        r = direct.iloc[0]
        text, certainty = f"Direct: {r.verdict}", r.certainty
        trials = f"{int(r.k)}: {r.trials}" if "trials" in direct else str(int(r.k))
    from ..network_data import DATABASE_NAMES

    for r in hit.itertuples():
        text += f" {DATABASE_NAMES.get(r.database, r.database)} network: {r.verdict}"
    return text, certainty, trials


def claims_table(
    claim1: pd.DataFrame,
    untested: pd.DataFrame,
    claim2: pd.DataFrame,
    claim3_direct: pd.DataFrame,
    claim3_network: pd.DataFrame,
    claim4: dict,
) -> pd.DataFrame:
    """One row per claim of :data:`CLAIMS`: the claim, the question, the verdict, the
    certainty (one of :data:`~evidence.review.certainty.LEVELS`) and the trials behind it.

    Parameters
    ----------
    claim1, untested
        :func:`~evidence.review.claims.claim1_table` and
        :func:`~evidence.review.claims.untested_conditions`.
    claim2
        :func:`~evidence.review.claims.cbt_equivalence`.
    claim3_direct
        The summary of findings of :func:`~evidence.review.claims.internet_direct`
        (:func:`~evidence.review.certainty.certainty_table`), with a ``trials`` column.
    claim3_network
        :func:`~evidence.review.claims.format_network_table`.
    claim4
        :func:`~evidence.review.claims.dose_verdict`.
    """
    parts = [
        _claim1(claim1, untested),
        _claim2(claim2),
        _claim3(claim3_direct, claim3_network),
        (claim4["verdict"], claim4["certainty"], f"{claim4['k']} comparisons with a session count"),
    ]
    rows = [
        {"claim": i + 1, "says": says, "question": q, "verdict": v, "certainty": c, "trials": t}
        for i, ((says, q), (v, c, t)) in enumerate(zip(CLAIMS, parts, strict=True))
    ]
    return pd.DataFrame(rows).set_index("claim")


def question(protocol, claim: int) -> str:
    """The testable question of ``claim`` (1 to 4) in Markdown: population, comparator class,
    construct, timepoint and margin, read from the protocol (``data/protocol.toml``).

    Examples
    --------
    >>> from evidence.review.protocol import load_protocol
    >>> "margin g = 0.25" in question(load_protocol(), 2)
    True
    """
    from ..vocabulary import COMPARATOR_NAMES, CONDITION_NAMES
    from .conditions import CLAIMED_CONDITIONS

    if claim not in (1, 2, 3, 4):
        raise ValueError(f"claim must be 1, 2, 3 or 4, got {claim!r}")
    m = protocol.equivalence_margin
    controls = ", ".join(COMPARATOR_NAMES[c] for c in protocol.control_classes)

    def construct(cond: str) -> str:
        rules = [protocol.rule(cond, k) for k in ("SMD", "OR")]
        return " / ".join(r.construct for r in rules if r is not None) or "no construct set"

    labels = dict.fromkeys(c for v in CLAIMED_CONDITIONS.values() for c in v)
    constructs = "; ".join(f"{CONDITION_NAMES[c]}: {construct(c)}" for c in labels)
    common = (
        f"**Timepoint**: post-treatment and follow-up, never pooled together. **Margin**: "
        f'g = {m:g} for "as good as" (the protocol\'s equivalence margin); the minimally '
        f"important difference is g = {protocol.mid:g}."
    )
    text = {
        1: f"**Population**: each named condition (the trials' condition label). "
        f'**Comparator classes**, each apart, never "vs control": {controls}. '
        f"**Construct** (the protocol's target per condition): {constructs}. {common}",
        2: "**Population**: each condition, and all conditions pooled (a summary across "
        "different target constructs). **Comparator class**: CBT. **Construct**: each "
        f"condition's target. **Timepoint**: post-treatment. **Test**: two one-sided tests, "
        f"90% CI inside the margin g = {m:g}; and the posterior probability that |g| < {m:g}.",
        3: "**Population**: each condition network that holds an internet PDT arm. "
        "**Comparator**: internet-delivered CBT (guided or unguided), with face-to-face PDT "
        "and CBT and every control as their own nodes. **Construct**: the network's outcomes "
        "(Metapsy instruments, aggregated per trial). **Timepoint**: post-treatment. "
        f"**Margin**: g = {m:g}.",
        4: f"**Population**: every condition, PDT against each control class ({controls}; the "
        "class a covariate). **Construct**: each condition's target, Hedges' g. **Timepoint**: "
        "post-treatment. **Dose**: sessions of the PDT arm, and weeks to the end-of-treatment "
        "assessment.",
    }
    return text[claim]
