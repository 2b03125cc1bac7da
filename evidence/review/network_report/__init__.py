"""PDT in each condition's evidence network: data preparation, fits and the notebook sections.

One network per database of ``data/network/comparisons.csv`` (:mod:`evidence.review.network_data`).
The steps, each a named choice recorded in the result:

1. **Effects per row**: Hedges' g (exact J, :func:`evidence.meta.effects.effect_sizes`) from means
   or change scores, log odds ratios from events, or the row's stored effect (``precalc_g``,
   ``reported``), multiplied by -1 where ``higher_is_better`` is false (effect-only rows are
   already oriented), so that a positive value favours arm 1.
2. **One effect per study and contrast**: rows are turned so that the pair of nodes is in
   :data:`evidence.review.network_data.NODES` order, then the rows of one study, node pair, measure
   and timepoint (several instruments, and several arms of one node against one comparator) are
   combined with :func:`evidence.meta.dependence.aggregate_effects` under correlation ``rho``, as
   the condition notebooks combine instruments (:func:`evidence.review.comparison_effects`).
3. **Multi-arm studies**: one spanning tree of each study's contrasts is kept (breadth first from
   the study's most connected node; a contrast that closes a loop within a study is redundant
   and dropped, counted in ``dropped``). Two contrasts that share an arm are correlated as
   contrasts of independent arms are: ``r = +/- v_shared / sqrt(v_a v_b)`` with arm variances
   ``1/n`` (SMD) or ``1/e + 1/(n - e)`` (log OR), scaled by the aggregated variances.
4. **Fit**: :func:`evidence.network` (REML, Wald z), reference ``waitlist`` where the network has
   it, else ``usual_care``; only the connected part that holds PDT is fitted.

The measure of a network is SMD unless its PDT trials report only events (suicide-psyctr:
attempts, log OR); the timepoint is post-treatment.

The stage is split by what a reader looks for:

* :mod:`~evidence.review.network_report.effects`: steps 1 and 2, the effect of every row and
  one effect per study and contrast (:func:`network_effects`);
* :mod:`~evidence.review.network_report.fits`: steps 3 and 4, multi-arm contrasts and their
  covariance, :func:`fit_network`, and the refits (sensitivity, leave-one-PDT-trial-out);
* :mod:`~evidence.review.network_report.report`: :class:`NetworkReport`, its tables and
  :func:`network_report` / :func:`condition_networks`;
* :mod:`~evidence.review.network_report.overview`: PDT vs CBT across the condition networks
  (:func:`pdt_vs_cbt_overview`, :func:`overview_statements`);
* :mod:`~evidence.review.network_report.section`: the notebook sections with their figures
  and tables (:func:`show_network_section`, :func:`show_network_overview`).
"""

from __future__ import annotations

from .effects import network_effects
from .fits import FRAGILE_MAX_TRIALS as FRAGILE_MAX_TRIALS
from .fits import NETWORK_REFERENCES, fit_network
from .overview import overview_statements, pdt_vs_cbt_overview
from .report import NetworkReport, condition_networks, network_report
from .section import NETWORK_SECTION_TEXT as NETWORK_SECTION_TEXT
from .section import show_network_overview, show_network_section

__all__ = [
    "NETWORK_REFERENCES",
    "network_effects",
    "fit_network",
    "NetworkReport",
    "network_report",
    "condition_networks",
    "pdt_vs_cbt_overview",
    "overview_statements",
    "show_network_section",
    "show_network_overview",
]
