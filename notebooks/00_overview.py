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
# # Psychodynamic therapy in randomized trials: overview
#
# This project collects randomized trials of **psychodynamic therapy (PDT)** and pools them,
# condition by condition, against CBT, other active treatments (other psychotherapies and
# medication) and control conditions (usual care, placebo or attention control, waitlist).
# Every number comes from the curated dataset in `data/`, where each value is traced to a
# Metapsy database row or a trial report; every pooled estimate comes from the `evidence`
# library, which reproduces R's metafor (see the methods-and-validation notebook).
#
# Effects are oriented so that **positive values favour PDT**. Continuous outcomes are
# Hedges' g at post-treatment, one aggregated effect per trial comparison.

# %% tags=["parameters"]
METHOD = "REML"  # tau^2 estimator
TEST = "knha"  # Knapp-Hartung
MARGIN = 0.25  # equivalence margin in g (as Steinert et al. 2017)

# %%
from IPython.display import Markdown

import evidence.data
from evidence import report
from evidence.tables import format_table

data = evidence.data.load()
print(data.summary().splitlines()[1])  # the counts (line 0 is the data folder)

# %% [markdown]
# ## The dataset
#
# Trials by condition and comparator class (a trial with several comparators counts once in
# each of its classes), then the number of PDT sessions, publication years and formats.

# %%
table = data.crosstab()
report.save_table(table, "overview_trials_by_condition_and_comparator")
format_table(table.rename(index=report.CONDITION_NAMES, columns=report.COMPARATOR_NAMES))

# %%
format_table(report.dataset_profile(data))

# %% [markdown]
# ## Headline results
#
# Three families of comparisons, each pooled by condition with a separate tau^2 per condition:
# PDT vs CBT, PDT vs other active treatments, and PDT vs control conditions.

# %%
headline = report.headline(data, method=METHOD, test=TEST)
for family, an in headline.items():
    report.save_table(an.table(), f"overview_{family}_by_condition")

# %% [markdown]
# ### PDT vs CBT

# %%
headline["cbt"].forest(title="PDT vs CBT by condition (Hedges' g, post)", band=(-MARGIN, MARGIN))
Markdown(headline["cbt"].statements(comparator="CBT"))

# %% [markdown]
# **Equivalence.** Two one-sided tests against a margin of g = ±0.25 with the 90% CI, and
# non-inferiority (the lower 90% limit above -0.25). "Not shown equivalent" with few trials
# means the data are too sparse to tell, not that the treatments differ.

# %%
eq = headline["cbt"].equivalence(margin=MARGIN)
report.save_table(eq, "overview_cbt_equivalence")
format_table(eq, scale="g", ci="90% CI", drop=("alpha", "df", "low", "high"))

# %% [markdown]
# ### PDT vs other active treatments

# %%
headline["other_active"].forest(title="PDT vs other active treatments by condition (g, post)")
Markdown(headline["other_active"].statements(comparator="other active treatments"))

# %% [markdown]
# ### PDT vs control conditions

# %%
headline["control"].forest(title="PDT vs control conditions by condition (g, post)")
Markdown(headline["control"].statements(comparator="control conditions"))

# %% [markdown]
# ## Small-study effects
#
# Egger's regression test, Begg's rank test and trim-and-fill (with its contour-enhanced funnel
# plot) wherever a condition has at least 10 comparisons in one family. With fewer, these
# tests cannot tell bias from chance and are not run.

# %%
report.show_small_study(headline)

# %% [markdown]
# ## What this evidence does and does not show
#
# Against CBT, the direct randomized comparisons available from open sources are few, and
# several conditions have a single trial: where the confidence interval includes zero the
# trials do not show a difference, which is not evidence of equivalence unless the
# equivalence test says so. Against control conditions the pooled effects are larger, but
# heterogeneity is substantial and the prediction intervals are wide: a new trial could find a
# much smaller (or larger) effect. Risk of bias is rated differently by each source database
# and is shown as given. The condition notebooks show each analysis in detail, with
# leave-one-out, influence, small-study and moderator analyses where the number of trials
# allows.
