"""The review protocol, read from ``data/protocol.toml`` (stage 1, **data**: the review's rules).

The protocol states, for every condition, the target construct of its continuous and event
analyses and the priority list that picks **one primary outcome per trial** (the first
instrument of the list the trial reports, as metapsyTools' ``filterPriorityRule``); the
comparator classes that are never lumped (add-on designs as a class of their own); the
timepoints; the minimally important difference and the equivalence margin with their sources;
and the Bayesian small-cell rule. :func:`load_protocol` reads and checks it against
``data/instruments.csv`` (every listed instrument exists and measures the construct it is
listed under); :func:`primary_outcomes` applies the outcome rules to outcome rows.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = [
    "Protocol",
    "OutcomeRule",
    "ProtocolError",
    "load_protocol",
    "primary_outcomes",
    "protocol_markdown",
]

#: Which rule of a condition an analysis measure follows.
_KIND = {"SMD": "continuous", "MD": "continuous", "OR": "events"}


class ProtocolError(ValueError):
    """The protocol file is inconsistent (names the file, the entry and what is wrong)."""


@dataclass(frozen=True)
class OutcomeRule:
    """The target construct of one condition and kind (continuous or events) and the priority
    list of its instruments (first = preferred)."""

    condition: str
    kind: str
    construct: str
    priority: tuple[str, ...]


@dataclass(frozen=True)
class Protocol:
    """The protocol (see the module docstring); ``rules`` maps (condition, kind) to its
    :class:`OutcomeRule`."""

    version: str
    date: str
    title: str
    changelog: tuple[dict, ...]
    rules: dict = field(repr=False)
    comparator_classes: tuple[str, ...]
    control_classes: tuple[str, ...]
    secondary_label: str
    timepoints: dict = field(repr=False)
    mid: float
    mid_source: str
    equivalence_margin: float
    equivalence_source: str
    small_k: int
    priors: dict = field(repr=False)
    grade: dict = field(default_factory=dict, repr=False)

    def rule(self, condition: str, measure: str) -> OutcomeRule | None:
        """The outcome rule of ``condition`` for an analysis of ``measure`` (None: no rule)."""
        return self.rules.get((condition, _KIND.get(measure, "")))

    def stated(self) -> str:
        """The line every page prints under its title."""
        return f"Built under protocol version {self.version} ({self.date}; data/protocol.toml)."


def _fail(path: Path, entry: str, detail: str):
    raise ProtocolError(f"{path.name}: {entry}: {detail}")


def _rules(path: Path, outcomes: dict, instruments: pd.DataFrame, conditions) -> dict:
    construct = dict(zip(instruments["instrument"], instruments["construct"], strict=True))
    unknown = set(outcomes) - set(conditions)
    if unknown:
        _fail(path, "outcomes", f"unknown condition label(s) {sorted(unknown)}")
    missing = set(conditions) - set(outcomes)
    if missing:
        _fail(path, "outcomes", f"no entry for condition(s) {sorted(missing)}")
    rules = {}
    for cond, spec in outcomes.items():
        for kind in ("continuous", "events"):
            if kind not in spec:
                continue
            target, priority = spec[kind], tuple(spec.get(f"{kind}_priority", ()))
            for inst in priority:
                if inst not in construct:
                    _fail(path, f"outcomes.{cond}", f"{inst!r} is not in instruments.csv")
                if construct[inst] != target:
                    _fail(
                        path,
                        f"outcomes.{cond}",
                        f"{inst!r} measures {construct[inst]!r}, not the target {target!r}",
                    )
            if len(set(priority)) != len(priority):
                _fail(path, f"outcomes.{cond}", f"{kind}_priority lists an instrument twice")
            rules[(cond, kind)] = OutcomeRule(cond, kind, target, priority)
    return rules


def load_protocol(data: str | Path | None = None) -> Protocol:
    """Read and check ``protocol.toml`` of a data folder (default: the repository's ``data/``).

    Raises
    ------
    ProtocolError
        An instrument not in ``instruments.csv`` or not of the construct it is listed under, a
        condition without an entry or an unknown one, a comparator class outside the data's
        vocabulary, or a missing field.

    Examples
    --------
    >>> p = load_protocol()
    >>> p.version, p.equivalence_margin, p.mid
    ('1.1.0', 0.25, 0.24)
    >>> p.rule("depression", "SMD").priority[:3]
    ('HDRS-17', 'HDRS-24', 'BDI-II')
    """
    import json

    from evidence.io import repository_root

    root = Path(data) if data else repository_root() / "data"
    path = root / "protocol.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProtocolError(f"{path}: cannot be read: {exc}") from None
    schema = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    fields = {
        f["name"]: f
        for r in schema["resources"]
        for f in r["schema"]["fields"]
        if r["path"] in ("trials.csv", "arms.csv")
    }
    conditions = fields["condition"]["constraints"]["enum"]
    classes = [*fields["arm_class"]["constraints"]["enum"], "add_on"]
    instruments = pd.read_csv(root / "instruments.csv", dtype=str, keep_default_na=False)
    try:
        parts = ("protocol", "comparators", "thresholds", "bayes")
        meta, comp, thr, bayes = (raw[k] for k in parts)
        rules = _rules(path, raw["outcomes"], instruments, conditions)
        bad = set(comp["classes"]) - set(classes)
        if bad:
            _fail(path, "comparators.classes", f"not comparator classes: {sorted(bad)}")
        return Protocol(
            version=meta["version"],
            date=str(meta["date"]),
            title=meta["title"],
            changelog=tuple(raw.get("changelog", ())),
            rules=rules,
            comparator_classes=tuple(comp["classes"]),
            control_classes=tuple(comp["control_classes"]),
            secondary_label=comp["secondary_label"],
            timepoints=dict(raw["timepoints"]),
            mid=float(thr["mid"]),
            mid_source=thr["mid_source"],
            equivalence_margin=float(thr["equivalence_margin"]),
            equivalence_source=thr["equivalence_source"],
            small_k=int(bayes["small_k"]),
            priors={"SMD": bayes["prior_smd"], "OR": bayes["prior_or"]},
            grade=dict(raw["grade"]),
        )
    except KeyError as exc:
        raise ProtocolError(f"{path.name}: missing field {exc.args[0]!r}") from None


def primary_outcomes(
    outcomes: pd.DataFrame, protocol: Protocol, measure: str, *, which: str = "primary"
) -> tuple[pd.DataFrame, pd.Series]:
    """The outcome rows the protocol pools for ``measure``, and why each other row is not.

    ``which="primary"``: per comparison and timepoint, the row of the highest-priority
    instrument of the condition's target construct. ``which="construct"``: every row of the
    target construct (the all-instruments sensitivity analysis). Rows of another construct, or
    of a condition without a rule for the measure, never enter.

    Returns
    -------
    (kept rows, reasons)
        ``reasons`` is indexed like ``outcomes``: empty for kept rows, else why the row is out.
    """
    if which not in ("primary", "construct"):
        raise ValueError(f"which must be 'primary' or 'construct'; got {which!r}")
    rules = {c: protocol.rule(c, measure) for c in outcomes["condition"].unique()}
    target = outcomes["condition"].map(lambda c: rules[c].construct if rules[c] else None)
    rank_of = {(c, inst): i for c, r in rules.items() if r for i, inst in enumerate(r.priority)}
    rank = pd.Series(
        [
            rank_of.get((c, i))
            for c, i in zip(outcomes["condition"], outcomes["instrument"], strict=True)
        ],
        index=outcomes.index,
        dtype=float,
    )
    reasons = pd.Series("", index=outcomes.index, dtype=object)
    no_rule = target.isna()
    kind = _KIND.get(measure, measure)
    reasons[no_rule] = f"the protocol has no {kind} outcome for the condition"
    other = ~no_rule & rank.isna()
    reasons[other] = [
        f"{inst} is not an instrument of the target construct ({t}) in the protocol"
        for inst, t in zip(outcomes.loc[other, "instrument"], target[other], strict=True)
    ]
    keep = rank.notna()
    if which == "primary":
        key = ["comparison_id", "timepoint"]
        best = rank[keep].groupby([outcomes.loc[keep, k] for k in key]).transform("min")
        lower = keep.copy()
        lower[keep] = rank[keep] > best
        reasons[lower] = "another instrument of the comparison comes first in the protocol"
        keep &= ~lower
    return outcomes[keep], reasons


def protocol_markdown(protocol: Protocol) -> str:
    """``docs/protocol.md``: the protocol in prose, generated from ``data/protocol.toml``
    (``tools/make_protocol_doc.py`` writes it; a test fails when the two differ)."""
    from .vocabulary import COMPARATOR_NAMES, CONDITION_NAMES

    lines = [
        f"# Protocol {protocol.version} ({protocol.date})",
        "",
        f"*{protocol.title}.* Generated from `data/protocol.toml` by "
        "`tools/make_protocol_doc.py`; the library reads the TOML file, this page is its prose.",
        "",
        "## Outcomes: one primary outcome per trial",
        "",
        "For each condition, the target construct of its continuous (Hedges' g) and event (odds "
        "ratio) analyses, and the instruments in priority order: a trial comparison contributes "
        "the first instrument it reports. An instrument of another construct never enters a "
        "pool; all instruments of the construct together are a sensitivity analysis.",
        "",
        "| condition | analysis | target construct | instruments, in priority order |",
        "|---|---|---|---|",
    ]
    for (cond, kind), rule in sorted(protocol.rules.items()):
        instruments = ", ".join(rule.priority) or "none in the data yet"
        name = CONDITION_NAMES.get(cond, cond)
        lines.append(f"| {name} | {kind} | {rule.construct} | {instruments} |")
    classes = ", ".join(COMPARATOR_NAMES.get(c, c) for c in protocol.comparator_classes)
    lines += [
        "",
        "## Timepoints",
        "",
        *(f"- **{k.replace('_', '-')}**: {v}" for k, v in protocol.timepoints.items()),
        "",
        "## Comparators",
        "",
        f"PDT is compared with one class at a time, never lumped: {classes}. Add-on designs "
        "(PDT + X vs X) form a class of their own. A summary against "
        f'"{protocol.secondary_label}" may appear only as a labelled secondary line.',
        "",
        "## Thresholds",
        "",
        f"- Minimally important difference: g = {protocol.mid:g}. {protocol.mid_source}",
        f"- Equivalence margin: g = {protocol.equivalence_margin:g}. {protocol.equivalence_source}",
        f"- Small cells: fewer than {protocol.small_k} trial comparisons are headlined by a "
        f"Bayesian estimate; priors: g, {protocol.priors['SMD']}; log OR, {protocol.priors['OR']}.",
        "",
        "## Changelog",
        "",
        *(f"- {c['version']} ({c['date']}): {c['change']}" for c in protocol.changelog),
        "",
    ]
    return "\n".join(lines)
