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
# # Post-traumatic stress disorder
#
# Few randomized trials have tested psychodynamic therapy for PTSD; the sources available to
# this project give very few comparisons, so every estimate here is preliminary.

# %% tags=["parameters"]
METHOD = "REML"  # tau^2 estimator
TEST = "knha"  # Knapp-Hartung
RHO = 0.5  # assumed correlation between instruments of one comparison

# %%
import evidence.data
from evidence import report

data = evidence.data.load()
analyses = report.condition_analyses(data, "ptsd", method=METHOD, test=TEST, rho=RHO)
report.show_introduction(analyses)

# %%
report.show_sections(data, analyses, "ptsd")

# %% [markdown]
# <!-- sensitivity: start (issue 10) -->
# ## Sensitivity to the classification and to flagged values

# %%
report.show_scenarios(data, "ptsd", method=METHOD, test=TEST, rho=RHO)

# %% [markdown]
# <!-- sensitivity: end -->

# %%
from evidence import network_report

_ = network_report.show_network_section("ptsd", method=METHOD, rho=RHO)

# %%
report.show_conclusion(analyses, "ptsd")
