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

# %% tags=["parameters"]
METHOD = "REML"  # tau^2 estimator
TEST = "knha"  # Knapp-Hartung
RHO = 0.5  # assumed correlation between instruments of one comparison

# %%
import evidence.data
from evidence import report

data = evidence.data.load()
analyses = report.condition_analyses(data, "self_harm", method=METHOD, test=TEST, rho=RHO)
report.show_introduction(analyses)

# %%
report.show_sections(data, analyses, "self_harm")

# %% [markdown]
# <!-- sensitivity: start (issue 10) -->
# ## Sensitivity to the classification and to flagged values

# %%
report.show_scenarios(data, "self_harm", method=METHOD, test=TEST, rho=RHO)

# %% [markdown]
# <!-- sensitivity: end -->

# %%
from evidence import network_report

_ = network_report.show_network_section("self_harm", method=METHOD, rho=RHO)

# %%
report.show_conclusion(analyses, "self_harm")
