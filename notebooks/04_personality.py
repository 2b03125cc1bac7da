# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Personality disorders
#
# Trials in personality disorders (mostly borderline personality disorder) test longer
# psychodynamic treatments such as mentalization-based and transference-focused therapy,
# usually against usual care or structured clinical management.

# %% tags=["parameters"]
METHOD = "REML"  # tau^2 estimator
TEST = "knha"  # Knapp-Hartung
RHO = 0.5  # assumed correlation between instruments of one comparison

# %%
import evidence.data
from evidence import report

data = evidence.data.load()
analyses = report.condition_analyses(data, "personality", method=METHOD, test=TEST, rho=RHO)
report.show_introduction(analyses)

# %%
report.show_sections(data, analyses)

# %% [markdown]
# <!-- bayes: start (issue 14) -->
# ## Bayesian estimates for small cells
#
# Pre-specified rule (methods page): where a comparator class has fewer than 5 comparisons,
# the Bayesian random-effects estimate (posterior median, 95% credible interval, prior on tau
# named in the footnote) is shown beside the REML + Knapp-Hartung one and its statement below
# replaces the frequentist one above; with 5 or more, both estimates are in the table and the
# statement above stands. `p_pdt_better` is the posterior probability that PDT is better on
# average (g > 0, OR > 1).

# %%
from evidence import bayes_report

bayes_report.show_small_cells(analyses)

# %% [markdown]
# <!-- bayes: end -->

# %% [markdown]
# <!-- multiplicity: start (issue 9) -->
# ## Many comparisons, one dataset
#
# Each p-value above is stated alone, but this page makes several claims from one dataset.
# The table lists every pooled comparison of the page (each comparator class, measure and
# timepoint) with its p-value unadjusted, adjusted by Holm's step-down method (family-wise
# error rate; the primary view) and by Benjamini-Hochberg (false discovery rate; secondary).

# %%
from evidence import claims

claims.show_multiplicity(analyses, "personality")

# %% [markdown]
# <!-- multiplicity: end -->

# %% [markdown]
# <!-- sensitivity: start (issue 10) -->
# ## Sensitivity to the classification and to flagged values
#
# Bateman 2009's MBT post-treatment IIP SD (0.13, against 0.55 in the control arm and 0.54
# and 0.47 at baseline) is flagged suspect and kept as the source gives it; the pool is shown
# with and without it. Structured generic treatments (structured clinical or case management,
# supervised team management, community psychotherapists) are classed usual care; the
# alternative classification counts them as other psychotherapy.

# %%
report.show_scenarios(data, "personality", method=METHOD, test=TEST, rho=RHO)

# %% [markdown]
# <!-- sensitivity: end -->

# %% [markdown]
# <!-- network: start (issue 13) -->
# ## PDT in the evidence network
#
# Every usable psychotherapy comparison of this condition's Metapsy database(s)
# (`data/network/`), with the curated PDT trials reconciled, in a network meta-analysis
# (REML): PDT is compared with every treatment and control, directly where trials compared
# them and indirectly through shared comparators. Indirect comparisons assume
# **transitivity** (the trials of each comparison are alike in what modifies the effect);
# the tables below show the inconsistency tests and effect modifiers that check it. Every
# network estimate is shown with the number of direct trials behind it.

# %%
from evidence import network_report

_ = network_report.show_network_section("personality", method=METHOD, rho=RHO)

# %% [markdown]
# <!-- network: end -->

# %%
report.show_conclusion(analyses, "personality")
