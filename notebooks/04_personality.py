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
from evidence.review.pages import ConditionPage

page = ConditionPage.load("personality", method=METHOD, test=TEST, rho=RHO)
page.introduction()

# %%
page.coverage()

# %%
page.sections()

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
page.scenarios()

# %% [markdown]
# <!-- sensitivity: end -->

# %%
page.network()

# %%
page.conclusion()
