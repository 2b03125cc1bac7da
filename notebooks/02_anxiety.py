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
# # Anxiety disorders: panic, social anxiety and GAD
#
# Panic disorder, social anxiety disorder and generalized anxiety disorder share this notebook
# but are analysed condition by condition: their target constructs differ (panic and anxiety
# severity, social anxiety severity, worry), so the protocol never pools them together.

# %% tags=["parameters"]
METHOD = "REML"  # tau^2 estimator
TEST = "knha"  # Knapp-Hartung
RHO = 0.5  # assumed correlation between instruments of one comparison

# %%
from evidence.review.pages import ConditionPage

page = ConditionPage.load("anxiety", method=METHOD, test=TEST, rho=RHO)
page.introduction()

# %%
page.coverage()

# %%
page.sections()

# %% [markdown]
# <!-- sensitivity: start (issue 10) -->
# ## Sensitivity to the classification and to flagged values
#
# **What "vs medication" would mean, and why no anxiety trial is classed so.** Wiborg 1996
# gave clomipramine to both arms and brief dynamic psychotherapy to one: it tests *adding* PDT
# to medication, not PDT *instead of* medication. Like the other add-on designs in the data
# (Fonagy 2015, Roten 2017, Amianto 2011) its comparator is classed usual care (the background
# treatment both arms get). No trial here compares PDT with medication alone in anxiety, so
# these data say nothing about PDT against medication. The alternative classification below
# shows the pool with Wiborg 1996 classed as medication, and Martini 2011's supportive
# psychotherapy (which the panic database treats as a control) as other control.

# %%
page.scenarios()

# %% [markdown]
# <!-- sensitivity: end -->

# %%
page.network()

# %%
page.conclusion()
