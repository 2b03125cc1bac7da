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
# # Self-harm and suicidality
#
# Self-harm and suicidal behaviour are usually reported as the number of people with an event,
# analysed here as odds ratios (positive log odds ratio = fewer events with PDT after the
# direction rule).
#
# All effects are oriented so that **positive values favour psychodynamic therapy (PDT)**.
# Continuous outcomes are Hedges' g; event outcomes are log odds ratios. Several instruments
# reported for one comparison are first combined into one effect (compound symmetry with an
# assumed correlation `RHO`), so that no trial counts twice within a pooled estimate. Every
# step below is one call into the `evidence` library; the statistics live there, checked
# against metafor.

# %% tags=["parameters"]
METHOD = "REML"  # tau^2 estimator
TEST = "knha"  # Knapp-Hartung
RHO = 0.5  # assumed correlation between instruments of one comparison

# %%
from IPython.display import Markdown

import evidence.data
from evidence import report

data = evidence.data.load()
analyses = report.condition_analyses(data, "self_harm", method=METHOD, test=TEST, rho=RHO)
Markdown(report.overview_text(analyses))

# %% [markdown]
# ## The comparisons
#
# One row per trial comparison after aggregation: comparator, PDT variant, number of PDT
# sessions, format, risk of bias as the source gives it, and how many effects were combined.

# %%
report.show_comparisons(analyses)

# %% [markdown]
# ## Forest plots by comparator class

# %%
report.show_forests(analyses)

# %% [markdown]
# ## Pooled estimates, heterogeneity and prediction intervals

# %%
report.show_pooled(analyses)

# %% [markdown]
# ## Does one trial drive the result?
#
# Leave-one-out estimates and influence diagnostics (metafor's `influence()`) for the
# comparator class with the most trials.

# %%
report.show_sensitivity(analyses)

# %% [markdown]
# ## Small-study effects
#
# Egger's regression test, Begg's rank test and trim-and-fill are computed only for classes with
# at least 10 comparisons; with fewer, these tests cannot tell bias from chance.

# %%
report.show_small_study(analyses)

# %% [markdown]
# ## Moderators and dependent effects
#
# Meta-regressions on treatment length (brief, up to 30 sessions, vs long-term, 50 or more),
# internet vs face-to-face delivery and risk of bias (with comparator class as a covariate),
# and the pooled estimates under other assumed correlations between instruments.

# %%
report.show_moderators(data, analyses)

# %% [markdown]
# <!-- sensitivity: start (issue 10) -->
# ## Sensitivity to the classification and to flagged values
#
# Pooled g at post by comparator class, as classified and with: the alternative classification
# of judgement-call comparators (`alt_class` in `data/arms.csv`), add-on designs (PDT + X vs X)
# left out, and rows flagged suspect left out. Only scenarios that change this page's trials
# are pooled; the `changed` column names the trials that moved or left.


# %%
report.sensitivity_scenarios(data, "self_harm", method=METHOD, test=TEST, rho=RHO).round(3)

# %% [markdown]
# <!-- sensitivity: end -->

# %% [markdown]
# ## What this evidence does and does not show
#
# The statements above are written from the numbers: they give k, the pooled effect and its
# confidence interval, heterogeneity and the prediction interval for a new trial. Where k is
# small the prediction interval is wide and tau^2 is barely estimable: such estimates say what
# the few available trials found, not what PDT does in general. Risk of bias is shown as the
# sources rate it; the moderator analyses are observational comparisons across trials, not
# randomized evidence.

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

_ = network_report.show_network_section("self_harm", method=METHOD, rho=RHO)

# %% [markdown]
# <!-- network: end -->
