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
# # Methods and validation: our numbers beside metafor's
#
# Every pooled estimate in this project comes from `evidence.pool`, which reimplements the
# random-effects models of R's **metafor** (version 3.8), the field's reference implementation.
# This notebook sets our results beside metafor's reference values and shows the differences.
#
# The reference values are produced by the committed script `tools/make_reference.R` and stored
# in `tests/reference/core.json`; CI reruns the script and fails if a single byte changes, so no
# reference number is ever typed by hand. The test suite compares every value at named
# tolerances (1e-9 for closed-form estimators, 1e-7 for iterative ones).

# %% tags=["parameters"]
METHOD = "REML"
TEST = "z"

# %%
import json

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

import evidence as ev
from evidence import review
from evidence.review.output import figure_alt

review.announce_outputs(METHOD=METHOD, TEST=TEST)

ref = json.loads((review.output_root() / "tests" / "reference" / "core.json").read_text())
print("reference generated with", ref["meta"]["r_version"], "and metafor", ref["meta"]["metafor"])

# %% [markdown]
# ## The grid
#
# Eight datasets (standardized mean differences, log risk ratios, log odds ratios, 160 Fisher-z
# correlations, and four edge cases: k = 2, identical effects, one dominant study, extreme
# heterogeneity) x nine τ² estimators x three tests (Wald z, Knapp-Hartung, ad hoc
# Knapp-Hartung).

# %%
table = review.reference_comparison()
summary = table.groupby("method", sort=False).agg(
    fits=("max_abs_diff", "size"), largest_difference=("max_abs_diff", "max")
)
summary["within 1e-6"] = summary["largest_difference"] < 1e-6
# the committed table keeps only what cannot drift with the last bits of floating point
review.save_table(summary[["fits", "within 1e-6"]], "validation_vs_metafor")
(
    summary.reset_index()
    .rename(
        columns={"method": "Estimator", "fits": "Fits", "largest_difference": "Largest difference"}
    )
    .style.set_uuid("validation")  # a fixed id: the page's HTML is the same in every build
    .hide(axis="index")
    .format({"Largest difference": "{:.1e}", "within 1e-6": lambda ok: "yes" if ok else "no"})
)

# %% [markdown]
# ## Largest absolute difference by estimator and dataset
#
# Each dot is the largest absolute difference between our value and metafor's over the
# estimate, SE, CI limits, τ², Q and the prediction-interval limits of one fit. The dashed
# line is the project's promise (1e-6).

# %%
methods = list(dict.fromkeys(table["method"]))
fig, ax = plt.subplots(figsize=(7, 3.6))
floor = 1e-17  # exact agreement drawn at the bottom of the log axis
for i, m in enumerate(methods):
    d = np.maximum(table.loc[table["method"] == m, "max_abs_diff"].to_numpy(), floor)
    ax.scatter(np.full(d.size, i) + np.linspace(-0.25, 0.25, d.size), d, s=12, color="#1f4e79")
ax.axhline(1e-6, ls="--", color="#b22222", lw=1)
ax.set_yscale("log")
ax.set_xticks(range(len(methods)), methods)
ax.set_ylabel("largest |evidence - metafor|")
ax.set_title("evidence vs metafor 3.8: 8 datasets x 3 tests per estimator", fontsize=10)
fig.tight_layout()  # shown here only: differences of 1e-15 vary with the CPU, so not saved
display(fig, metadata={"image/png": {"alt": figure_alt(fig)}})  # the site's alt text: its title
plt.close(fig)

# %% [markdown]
# ## One fit in full
#
# The first dataset (`dat.normand1999`, standardized mean differences) with the parameters of
# this build, printed as a researcher would see it in a terminal.

# %%
d = ref["datasets"]["normand1999_smd"]
res = ev.pool(d["yi"], d["vi"], method=METHOD, test=TEST, measure="SMD")
print(res.summary())
row = next(
    f
    for f in ref["fits"]
    if f["dataset"] == "normand1999_smd" and f["method"] == METHOD and f["test"] == TEST
)
print("\nmetafor 3.8, same data and settings:")
for key in ("estimate", "se", "tau2", "pi_low", "pi_high"):
    print(f"  {key:<8} {row[key]:.6f}")

# %% [markdown]
# <!-- bayes: start (issue 14) -->
# ## The protocol's rule: Bayesian estimates for cells with fewer than 5 trials
#
# The rule and its priors, as every condition page applies them (the text comes from
# `evidence.review.bayes_report.RULE_TEXT`, so the pages' footnotes and this statement cannot drift
# apart). The Bayesian engine (`evidence.meta.bayes`) reproduces R's bayesmeta to 1e-5
# (`tests/test_bayes.py`, reference values from `tools/make_reference_bayes.R`).

# %%
from IPython.display import Markdown

from evidence.review import bayes_report

Markdown(bayes_report.RULE_TEXT)

# %% [markdown]
# <!-- bayes: end -->

# %% [markdown]
# ## What this does and does not show
#
# It shows that, on these datasets, our estimators, tests, intervals, leave-one-out and
# cumulative analyses and Mantel-Haenszel/Peto pooling reproduce metafor to far better than the
# precision anyone reports. It does not show that a random-effects model is the right model for
# a given set of trials, nor that the trials themselves are free of bias: those are questions
# of the data, addressed in the condition notebooks.
