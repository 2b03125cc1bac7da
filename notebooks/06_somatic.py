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
# # Somatic symptoms
#
# Somatic symptom and functional disorders: the trials compare brief psychodynamic therapy
# (often psychodynamic interpersonal therapy) with usual care or enhanced medical care.

# %% tags=["parameters"]
METHOD = "REML"  # tau^2 estimator
TEST = "knha"  # Knapp-Hartung
RHO = 0.5  # assumed correlation between instruments of one comparison

# %%
from evidence.review.pages import ConditionPage

page = ConditionPage.load("somatic", method=METHOD, test=TEST, rho=RHO)
page.introduction()

# %%
page.coverage()

# %%
page.sections()

# %% [markdown]
# <!-- sensitivity: start (issue 10) -->
# ## Sensitivity to the classification and to flagged values

# %%
page.scenarios()

# %% [markdown]
# <!-- sensitivity: end -->

# %%
page.network()

# %%
page.conclusion()
