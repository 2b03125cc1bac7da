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
# # Depression
#
# Depression is the condition with the most psychodynamic-therapy trials. Comparators range
# from CBT and other psychotherapies to usual care and waitlist. Trials often report several
# depression scales; they are combined into one effect per comparison before pooling.

# %% tags=["parameters"]
METHOD = "REML"  # tau^2 estimator
TEST = "knha"  # Knapp-Hartung
RHO = 0.5  # assumed correlation between instruments of one comparison

# %%
from evidence.review.pages import ConditionPage

page = ConditionPage.load("depression", method=METHOD, test=TEST, rho=RHO)
page.introduction()

# %%
page.coverage()

# %%
page.sections()

# %% [markdown]
# <!-- sensitivity: start (issue 10) -->
# ## Sensitivity to the classification and to flagged values
#
# Heshmati 2023's only outcome, "WAI-d", is flagged suspect (what it measures could not be
# verified; it gives the largest depression effect), so the waitlist pool is shown without it.
# Fonagy 2019's low-intensity arm is "other control" here and other psychotherapy in the
# alternative classification; Fonagy 2015 and Roten 2017 are add-on designs (PDT + usual care
# vs usual care). Johansson 2013 and Scheidt 2013 enter with the stored g of the transdiagnostic
# database (its means lost their decimal points).

# %%
page.scenarios()

# %% [markdown]
# <!-- sensitivity: end -->

# %%
page.network()

# %%
page.conclusion()
