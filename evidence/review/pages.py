"""One condition page (stage 7: ... -> report -> **pages**), the object a condition notebook uses.

What a condition page shows is the same for every condition: an introduction written from its
numbers, its coverage (:mod:`evidence.review.coverage`: the PRISMA 2020 flow and the known trials),
the standard sections (:func:`evidence.review.show_sections`), the sensitivity
scenarios, the network section (:mod:`evidence.review.network_report`) and a conclusion written
from its numbers. What differs is the condition's own text around them, which stays in the
notebook. A :class:`ConditionPage` holds the data, the condition's analyses and the choices
(estimator, test, rho) and shows each part with one call, so a condition notebook is its own text
around six calls, and a researcher reaches everything the page shows through ``page.data`` and
``page.analyses``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evidence import review
from evidence.review import network_report
from evidence.review.coverage import show_coverage

from .condition import ConditionAnalyses
from .data import Dataset, load

__all__ = ["ConditionPage"]


@dataclass(frozen=True, eq=False)
class ConditionPage:
    """The analyses of one condition and the calls that show them in a notebook.

    Build it with :meth:`load`. The ``show`` methods display Markdown, tables and figures in a
    notebook and save the figures and tables (see :mod:`evidence.review.output`).

    Examples
    --------
    >>> page = ConditionPage.load("ptsd")
    >>> page.key, page.method, page.test, page.rho
    ('ptsd', 'REML', 'knha', 0.5)
    >>> sorted(page.analyses) == sorted(review.condition_analyses(page.data, "ptsd"))
    True
    """

    key: str
    data: Dataset = field(repr=False)
    analyses: ConditionAnalyses = field(repr=False)
    method: str = "REML"
    test: str = "knha"
    rho: float = 0.5

    @classmethod
    def load(
        cls,
        key: str,
        *,
        method: str = "REML",
        test: str = "knha",
        rho: float = 0.5,
        data: Dataset | None = None,
    ) -> ConditionPage:
        """Load the curated data (or use ``data``) and run the analyses of condition ``key``
        (one of :data:`evidence.review.CONDITION_GROUPS`) with the given choices."""
        data = load() if data is None else data
        analyses = review.condition_analyses(data, key, method=method, test=test, rho=rho)
        return cls(key, data, analyses, method, test, rho)

    def introduction(self) -> None:
        """Where this run's outputs go and the protocol it follows
        (:func:`evidence.review.announce_outputs`), the summary of findings with certainty and
        verdicts (:func:`evidence.review.certainty.show_summary_of_findings`), then what was
        pooled, in plain words (:func:`evidence.review.show_introduction`)."""
        from .display import show_summary_of_findings

        review.announce_outputs(METHOD=self.method, TEST=self.test, RHO=self.rho)
        review.save_table(self.effects(), f"{self.key}_effects")
        show_summary_of_findings(
            self.analyses,
            self.data.protocol,
            self.key,
            margin=self.data.protocol.equivalence_margin,
        )
        review.show_introduction(self.analyses)

    def effects(self):
        """The per-trial effects that enter this page's pools (saved as
        ``results/<key>_effects.csv``): trial, comparator class, construct, the instrument the
        protocol's priority rule chose, timepoint, yi and vi (positive favours PDT)."""
        eff = self.analyses.effects()
        cols = ["analysis", "trial_id", "study", "condition", "comparator_class", "construct"]
        cols += ["instruments", "yi", "vi", "n_effects", "effect_ids"]
        out = eff.reindex(columns=cols)
        out.insert(1, "timepoint", out["analysis"].str.split(": ").str[-1].str.split(" ").str[1])
        out["effect_ids"] = out["effect_ids"].map("; ".join)
        return out.rename(columns={"instruments": "instrument"})

    def coverage(self) -> None:
        """The condition's PRISMA 2020 flow (``figures/<key>_prisma``) and its rows of the
        coverage table (``results/<key>_coverage.csv``), with the sentence saying how many of
        the known head-to-head trials the data hold (:func:`evidence.review.coverage.show_coverage`;
        "pooled in" refers to this page's analyses)."""
        show_coverage(self.data, self.key, analyses=self.analyses.values())

    def sections(self) -> None:
        """The standard sections (:func:`evidence.review.show_sections`)."""
        review.show_sections(self.data, self.analyses, self.key)

    def scenarios(self) -> None:
        """The pooled estimates under each sensitivity scenario
        (:func:`evidence.review.show_scenarios`)."""
        review.show_scenarios(self.data, self.key, method=self.method, test=self.test, rho=self.rho)

    def network(self) -> None:
        """The network section (:func:`evidence.review.network_report.show_network_section`)."""
        network_report.show_network_section(self.key, method=self.method, rho=self.rho)

    def conclusion(self) -> None:
        """The condition's conclusion, written from its numbers
        (:func:`evidence.review.show_conclusion`)."""
        review.show_conclusion(self.analyses, self.key)
