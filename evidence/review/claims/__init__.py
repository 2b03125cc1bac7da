"""What is claimed about PDT, and what the trials show: the analyses of the claims page.

Report stage. Four claims that students meet in articles about psychodynamic therapy (PDT)
(:data:`CLAIMS`), each turned into a testable question and answered by library calls on
``data/``; the verdicts come from :func:`evidence.review.certainty.verdict`, the same sentence
as on every other page, and the certainty from the same GRADE rules (CINeMA for network
estimates).

* :mod:`.conditions`: claim 1, PDT against each control class, condition by condition;
* :mod:`.cbt`: claim 2, "as effective as CBT": two one-sided tests against the protocol's
  margin, direct and network, and the posterior probability that |g| < margin;
* :mod:`.formats`: claim 3, online PDT vs online CBT: the direct trials and a network in which
  delivery format splits the PDT and CBT nodes;
* :mod:`.dose`: claim 4, brief vs long-term PDT: session counts, the dose meta-regression and
  its figure;
* :mod:`.table`: the one-screen claims table.
"""

from __future__ import annotations

from .cbt import cbt_equivalence
from .conditions import CLAIMED_CONDITIONS, claim1_table, control_analyses, untested_conditions
from .dose import (
    brief_vs_long_trials,
    dose_effects,
    dose_plot,
    dose_regression,
    dose_verdict,
    pdt_arm_lengths,
)
from .formats import (
    FORMAT_NODE_NAMES,
    format_network_table,
    format_networks,
    format_nodes,
    internet_direct,
)
from .table import CLAIMS, claims_table, question

__all__ = [
    "CLAIMS",
    "CLAIMED_CONDITIONS",
    "control_analyses",
    "claim1_table",
    "untested_conditions",
    "cbt_equivalence",
    "FORMAT_NODE_NAMES",
    "format_nodes",
    "format_networks",
    "format_network_table",
    "internet_direct",
    "pdt_arm_lengths",
    "dose_effects",
    "dose_regression",
    "dose_verdict",
    "dose_plot",
    "brief_vs_long_trials",
    "claims_table",
    "question",
]
