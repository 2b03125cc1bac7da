"""Rules for the reading log and the derived counts (stage 1, **data**; issue 22 section 3).

``reading_log.csv`` records, for every trial report re-read, what was read (address, title,
date) and what it gave: an effect (held in ``outcomes_reports.csv``), a direction in words only
(a *vote*: direction, no size, never pooled) or no usable number (with the reason).
``derived_counts.csv`` holds every event count derived from a printed percentage and a printed
arm size, with its rule and the range of counts consistent with the printed (rounded)
percentage: the rounding sensitivity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .problems import _Problems

__all__ = ["round_half_up", "consistent_counts", "rounding_sensitivity"]


def round_half_up(x):
    """Round to the nearest integer, halves up (the rule of ``derived_counts.csv``).

    Examples
    --------
    >>> round_half_up(53.82), round_half_up(2.5), round_half_up(75.24)
    (54, 3, 75)
    """
    out = np.floor(np.asarray(x, dtype=float) + 0.5).astype(int)
    return int(out) if out.ndim == 0 else out


def consistent_counts(percent: float, n: int) -> tuple[int, int]:
    """The smallest and largest count ``k`` (0 <= k <= n) whose percentage of ``n``, rounded
    to a whole percent (halves up), is ``percent``: the counts a printed whole percentage
    cannot tell apart.

    Raises
    ------
    ValueError
        When ``n`` is not a positive integer or no count of ``n`` rounds to ``percent``.

    Examples
    --------
    >>> consistent_counts(26, 207), consistent_counts(9, 79)
    ((53, 54), (7, 7))
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    k = np.arange(int(n) + 1)
    ok = k[round_half_up(100 * k / n) == percent]
    if ok.size == 0:
        raise ValueError(f"no count of n = {n} rounds to {percent!r}%")
    return int(ok.min()), int(ok.max())


def _rule_reading_log(t: dict, p: _Problems) -> None:
    """An effect row names outcome rows that exist; a vote row has its direction and words; a
    row without an effect says why; a direction is only ever a vote (never on an effect row)."""
    log, out = t["reading_log"], t["outcomes"]
    kind = log["outcome"]
    ids = log["effect_ids"].fillna("").str.split("; ")
    known = set(out["effect_id"])
    effect = kind == "gives an effect"
    missing = effect & ids.map(lambda xs: not xs or not all(x in known for x in xs))
    p.rows(
        log,
        missing,
        "effect_ids",
        "effect rows exist",
        "a 'gives an effect' row names effect_ids of outcomes_reports.csv",
    )
    stray = ~effect & log["effect_ids"].notna()
    p.rows(
        log,
        stray,
        "effect_ids",
        "effect rows only on effects",
        "only a 'gives an effect' row names effect_ids",
    )
    vote = kind == "direction only"
    p.rows(
        log,
        vote & (log["direction"].isna() | log["quote"].isna()),
        "direction",
        "vote has its words",
        "a 'direction only' row needs the direction and its quote",
    )
    p.rows(
        log,
        ~vote & log["direction"].notna(),
        "direction",
        "direction is a vote",
        "a direction is recorded only on 'direction only' rows (a vote, never an effect)",
    )


def _rule_derived_counts(t: dict, p: _Problems) -> None:
    """Every derived count has its rule, follows from the printed percentage and arm size, lies
    in the rounding range, and is the count (and arm size) of its outcome row, whose ``derived``
    states the rule: a derived value without a rule is refused."""
    dc, out = t["derived_counts"], t["outcomes"]
    p.rows(
        dc, dc["rule"].isna(), "rule", "derived value has a rule", "a derived count needs its rule"
    )
    ok = dc[["printed_percent", "printed_n"]].notna().all(axis=1) & (dc["printed_n"] >= 1)
    rule = pd.Series(False, index=dc.index)
    rule[ok] = (
        round_half_up(dc.loc[ok, "printed_percent"] / 100 * dc.loc[ok, "printed_n"])
        == (dc.loc[ok, "events"])
    )
    p.rows(
        dc,
        ~rule,
        "events",
        "count follows the rule",
        "events = round(printed_percent / 100 * printed_n), halves up",
    )
    rng = [
        consistent_counts(r.printed_percent, int(r.printed_n)) if o else (None, None)
        for r, o in zip(dc.itertuples(), ok, strict=True)
    ]
    lo = pd.Series([a for a, _ in rng], index=dc.index)
    hi = pd.Series([b for _, b in rng], index=dc.index)
    bad = ok & ((dc["consistent_low"] != lo) | (dc["consistent_high"] != hi))
    p.rows(
        dc,
        bad,
        "consistent_low",
        "rounding range",
        "consistent_low/high: the counts whose percentage of printed_n rounds to printed_percent",
    )
    row = out.drop_duplicates("effect_id").set_index("effect_id")
    found = dc["effect_id"].isin(row.index) & dc["arm"].isin([1, 2])
    p.rows(dc, ~found, "effect_id", "reference exists", "expected an effect_id of outcomes")
    for col, what in (("events", "events"), ("printed_n", "n")):
        cell = [
            row.at[e, f"{what}{int(a)}"] if f else np.nan
            for e, a, f in zip(dc["effect_id"], dc["arm"], found, strict=True)
        ]
        p.rows(
            dc,
            found & (pd.Series(cell, index=dc.index) != dc[col]),
            col,
            "matches the outcome row",
            f"expected the outcome row's {what}1/{what}2",
        )
    no_rule = [
        found.iloc[i] and pd.isna(row.at[e, "derived"]) for i, e in enumerate(dc["effect_id"])
    ]
    p.rows(
        dc,
        pd.Series(no_rule, index=dc.index),
        "effect_id",
        "derived value has a rule",
        "the outcome row of a derived count must state the rule in 'derived'",
    )


#: The rules of this module, run after the other cross-field rules.
READING_RULES = (_rule_reading_log, _rule_derived_counts)


def rounding_sensitivity(dataset) -> pd.DataFrame:
    """The log odds ratio of every outcome row with derived counts, at the derived counts and at
    each corner of the counts consistent with the printed (rounded) percentages
    (``derived_counts.csv``): where rounding is ambiguous, a count one off either way.

    Returns
    -------
    DataFrame
        One row per effect: ``effect_id``, ``yi`` (as in the data, positive favours PDT),
        ``yi_low`` and ``yi_high`` (smallest and largest over the corners), ``corners`` (how
        many count pairs were tried).

    Examples
    --------
    >>> from evidence.review.data import load
    >>> s = rounding_sensitivity(load()).set_index("effect_id")
    >>> r = s.loc["leichsenring2013-pdt-cbt:lsas-remission:post"]
    >>> bool(r.yi_low <= r.yi <= r.yi_high), int(r.corners)
    (True, 4)
    """
    from evidence.meta.effects import effect_sizes

    dc = dataset.derived_counts
    out = dataset.outcomes.drop_duplicates("effect_id").set_index("effect_id")
    rows = []
    for eid, g in dc.groupby("effect_id", sort=False):
        o = out.loc[eid]
        ranges = {}
        for arm in (1, 2):
            hit = g[g["arm"] == arm]
            e = o[f"events{arm}"]
            ranges[arm] = (
                sorted(
                    {
                        int(hit["consistent_low"].iloc[0]),
                        int(e),
                        int(hit["consistent_high"].iloc[0]),
                    }
                )
                if len(hit)
                else [int(e)]
            )
        pairs = [(a, b) for a in ranges[1] for b in ranges[2]]
        es = effect_sizes(
            "OR",
            events1=[a for a, _ in pairs],
            n1=[o["n1"]] * len(pairs),
            events2=[b for _, b in pairs],
            n2=[o["n2"]] * len(pairs),
        )["yi"].to_numpy()
        sign = 1.0 if o["higher_is_better"] else -1.0
        rows.append((eid, o["yi"], float(np.min(sign * es)), float(np.max(sign * es)), len(pairs)))
    return pd.DataFrame(rows, columns=["effect_id", "yi", "yi_low", "yi_high", "corners"])
