"""The validated dataset and :func:`load` (stage 1, **data**: the public entry point).

:func:`load` reads the schema (:mod:`.schema`) and the tables (:mod:`.parse`), runs the
cross-field rules (:mod:`.rules`), joins trial, arm and instrument fields into the outcome rows
and computes the effect sizes with the direction rule, returning a :class:`Dataset`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evidence.meta.effects import effect_sizes, from_reported

from .parse import _read_table
from .problems import _Problems
from .rules import RULES
from .schema import TABLES, _schema

_PRIVATE = ["_file", "_row", "_line"]  # bookkeeping columns: where each row came from


def default_path() -> Path:
    """The repository's ``data/`` folder (:func:`evidence.io.repository_root`: ``EVIDENCE_ROOT``
    or this checkout).

    Examples
    --------
    >>> default_path().name
    'data'
    """
    from evidence.io import repository_root

    return repository_root() / "data"


@dataclass(frozen=True)
class Dataset:
    """The validated tables plus the effect sizes (``outcomes.yi``/``vi``) and exclusions."""

    path: Path
    trials: pd.DataFrame
    arms: pd.DataFrame
    comparisons: pd.DataFrame
    instruments: pd.DataFrame
    outcomes: pd.DataFrame
    exclusions: pd.DataFrame
    #: The review protocol of the folder (``protocol.toml``, :mod:`evidence.review.protocol`).
    protocol: object = field(default=None, repr=False)
    #: What was read for each trial report and what it gave (``reading_log.csv``; issue 22).
    reading_log: pd.DataFrame | None = field(default=None, repr=False)
    #: Event counts derived from printed percentages and arm sizes (``derived_counts.csv``).
    derived_counts: pd.DataFrame | None = field(default=None, repr=False)

    def crosstab(self) -> pd.DataFrame:
        """Number of trials by condition x comparator class (a trial can count in several)."""
        pairs = self.outcomes[["trial_id", "condition", "comparator_class"]].drop_duplicates()
        return pd.crosstab(pairs["condition"], pairs["comparator_class"], margins=True)

    def summary(self) -> str:
        """Counts, trials by condition x comparator class, and the exclusions with reasons."""
        o = self.outcomes
        lines = [
            f"data: {_display(self.path)}",
            f"{len(self.trials)} trials, {self.trials['condition'].nunique()} conditions, "
            f"{o['comparison_id'].nunique()} comparisons, {len(o)} outcome rows "
            f"({o['source'].str.startswith('metapsy:').sum()} from Metapsy, "
            f"{(~o['source'].str.startswith('metapsy:')).sum()} from trial reports)",
            "",
            "trials by condition x comparator class:",
            self.crosstab().to_string(),
            "",
            f"{len(self.exclusions)} excluded source rows or trials:",
        ]
        for r in self.exclusions.itertuples():
            row = f" row {r.source_row}" if pd.notna(r.source_row) else ""
            lines.append(f"  - {r.source}{row} {r.source_study}: {r.reason}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{self.summary()}</pre>"

    def to_frame(self) -> pd.DataFrame:
        """The outcome rows with effect sizes (same as ``.outcomes``)."""
        return self.outcomes.copy()


# ---------------------------------------------------------------- effect sizes


def _effects(out: pd.DataFrame) -> pd.DataFrame:
    yi = np.full(len(out), np.nan)
    vi = np.full(len(out), np.nan)
    measure = np.empty(len(out), dtype=object)
    derivation = np.empty(len(out), dtype=object)
    form = out["stats_form"].to_numpy()
    means = np.isin(form, ["msd", "change"])
    if means.any():
        m = out[means]
        es = effect_sizes("SMD", m1=m.mean1, sd1=m.sd1, n1=m.n1, m2=m.mean2, sd2=m.sd2, n2=m.n2)
        yi[means], vi[means] = es["yi"], es["vi"]
        measure[means], derivation[means] = "SMD", "Hedges' g (exact J) from arm statistics"
    ev = form == "events"
    if ev.any():
        m = out[ev]
        es = effect_sizes("OR", events1=m.events1, n1=m.n1, events2=m.events2, n2=m.n2)
        yi[ev], vi[ev] = es["yi"], es["vi"]
        measure[ev], derivation[ev] = "OR", "log odds ratio from events (1/2 added to zero cells)"
    rep = form == "reported"
    for scale in out.loc[rep, "reported_measure"].unique():
        sel = rep & (out["reported_measure"] == scale).to_numpy()
        m = out[sel]
        has_ci = m[["reported_ci_low", "reported_ci_high"]].notna().all(axis=1).to_numpy()
        for use_ci in (True, False):
            part = sel.copy()
            part[sel] = has_ci == use_ci
            if not part.any():
                continue
            p = out[part]
            kw = (
                {"ci_low": p.reported_ci_low, "ci_high": p.reported_ci_high}
                if use_ci
                else {"se": p.reported_se}
            )
            es = from_reported(p.reported_estimate, scale=scale, **kw)
            orient = np.where(p["reported_orientation"] == "comparator_vs_pdt", -1.0, 1.0)
            yi[part], vi[part] = es["yi"].to_numpy() * orient, es["vi"]
            measure[part], derivation[part] = scale, "reported effect: " + es["derivation"]
    sign = np.where(out["higher_is_better"].astype(bool), 1.0, -1.0)
    return pd.DataFrame(
        {"measure": measure, "yi": yi * sign, "vi": vi, "derivation": derivation}, index=out.index
    )


# ---------------------------------------------------------------- public API


# ---------------------------------------------------------------- public API


def _display(folder: Path) -> str:
    """How messages name the data folder: ``data`` for the bundled data, else as given."""
    try:
        if folder.resolve() == default_path():
            return "data"
    except OSError:  # pragma: no cover - unreadable path: show it as given
        pass
    return folder.as_posix()


def load(path: str | Path | None = None) -> Dataset:
    """Load and validate the curated data; compute ``yi``/``vi`` with the direction rule.

    Parameters
    ----------
    path : str or Path, optional
        Folder laid out like ``data/`` (with ``datapackage.json``). Default: the repository's
        ``data/`` folder.

    Returns
    -------
    Dataset
        ``.trials``, ``.arms``, ``.comparisons``, ``.instruments``, ``.exclusions`` and
        ``.outcomes`` (one row per comparison x instrument x timepoint, with trial, arm and
        instrument fields joined in, plus ``measure``, ``yi``, ``vi``, ``derivation``).

    Raises
    ------
    DataValidationError
        When any rule is violated; it carries every problem found (``.problems``), each naming
        file, row, column and rule. Files that cannot be parsed are reported and their rows are
        not checked further; rows with a wrong type are not checked by the cross-field rules.

    Examples
    --------
    >>> ds = load()
    >>> bool((ds.outcomes["trial_id"].nunique() >= 35) and ds.outcomes["yi"].notna().all())
    True
    """
    from ..cache import cached, files_key

    folder = Path(path) if path is not None else default_path()
    return cached("dataset", lambda: (str(folder), files_key(folder)), lambda: _load(folder))


def _load(folder: Path) -> Dataset:
    shown = _display(folder)
    problems = _Problems()
    schema = _schema(folder, shown, problems)
    problems.raise_if_any()
    t = {name: _read_table(folder, shown, schema, name, problems) for name in TABLES}
    if any(frame is None for frame in t.values()):
        problems.raise_if_any()
    for rule in RULES:
        rule(t, problems)
    protocol = _protocol(folder, shown, problems)
    problems.raise_if_any()

    trials, arms, comps, instr, out = (
        t["trials"],
        t["arms"],
        t["comparisons"],
        t["instruments"],
        t["outcomes"],
    )
    tri = trials.set_index("trial_id")
    arm = arms.set_index("arm_id")
    cmp_ = comps.set_index("comparison_id")
    ins = instr.set_index("instrument")
    o = out.drop(columns=_PRIVATE).copy()
    o.insert(2, "trial_id", o["comparison_id"].map(cmp_["trial_id"]))
    o.insert(3, "study", o["trial_id"].map(tri["study"]))
    o.insert(4, "condition", o["trial_id"].map(tri["condition"]))
    a1, a2 = o["comparison_id"].map(cmp_["arm1_id"]), o["comparison_id"].map(cmp_["arm2_id"])
    o.insert(5, "comparator", a2.map(arm["label"]))
    o.insert(6, "comparator_class", a2.map(arm["arm_class"]))
    o.insert(7, "pdt_variant", a1.map(arm["pdt_variant"]))
    o.insert(8, "format", a1.map(arm["format"]))
    o.insert(9, "sessions", a1.map(arm["sessions"]))
    o.insert(10, "rob", o["trial_id"].map(tri["rob"]))
    o.insert(11, "outcome", o["instrument"].map(ins["construct"]))
    o["higher_is_better"] = o["instrument"].map(ins["higher_is_better"]).astype(bool)
    # design and the alternative classification (sensitivity analyses; see data/README.md)
    o["add_on"] = o["comparison_id"].map(cmp_["add_on"]).astype(bool)
    o["comparator_detail"] = a2.map(arm["comparator_detail"])
    o["comparator_class_alt"] = a2.map(arm["alt_class"]).fillna(o["comparator_class"])
    eff = _effects(o)
    o = pd.concat([o, eff], axis=1)
    bad = ~np.isfinite(o["yi"]) | ~np.isfinite(o["vi"]) | ~(o["vi"] > 0)
    if bad.any():  # pragma: no cover - the rules above make this unreachable
        problems.rows(out, bad, "stats_form", "finite effect", "a finite effect and variance")
        problems.raise_if_any()

    def clean(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.drop(columns=_PRIVATE).reset_index(drop=True)

    return Dataset(
        path=folder,
        trials=clean(trials),
        arms=clean(arms),
        comparisons=clean(comps),
        instruments=clean(instr),
        outcomes=o.reset_index(drop=True),
        exclusions=clean(t["exclusions"]),
        protocol=protocol,
        reading_log=clean(t["reading_log"]),
        derived_counts=clean(t["derived_counts"]),
    )


def _protocol(folder: Path, shown: str, problems):
    """The folder's protocol, or None with a problem naming ``protocol.toml``."""
    from ..protocol import ProtocolError, load_protocol

    if not (folder / "protocol.toml").is_file():
        problems.add(
            f"{shown}/protocol.toml", None, None, "file exists", "file not found", location="file"
        )
        return None
    try:
        return load_protocol(folder)
    except ProtocolError as exc:
        problems.add(f"{shown}/protocol.toml", None, None, "protocol", str(exc), location="file")
        return None
