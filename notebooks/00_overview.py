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
# This project collects an **open-data subset** of the randomized trials of **psychodynamic
# therapy (PDT)** and pools them, condition by condition, against one comparator class at a
# time: CBT, other psychotherapies, medication, usual care, placebo or attention control,
# waitlist, and add-on designs (PDT added to a treatment, against that treatment alone).
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
import pandas as pd
from IPython.display import Markdown, display

import evidence.review.data
from evidence import review
from evidence.review.tables import format_table

review.announce_outputs(METHOD=METHOD, TEST=TEST, MARGIN=MARGIN)

data = evidence.review.data.load()
print(data.summary().splitlines()[1])  # the counts (line 0 is the data folder)

# %% [markdown]
# <!-- coverage: start (issue 22) -->
# ## Coverage
#
# This is an **open-data subset** of the randomized trials of PDT: the trials whose numbers are
# in the Metapsy databases or in the trial abstracts the project read. The PRISMA 2020 flow
# below is computed from `data/` (every record, and why each one left the flow), and the table
# after it places every head-to-head trial that the shared research notes name as included,
# excluded (with the reason) or not in the open sources. A direction that the notes state only
# in words is shown as a vote (direction, no size) and never enters a pool.

# %%
from evidence.review.coverage import show_coverage

# every pooled analysis of the pages, computed once: the headline families, then each page's
headline = review.headline(data, method=METHOD, test=TEST)
analyses = review.build_analyses(data, method=METHOD, test=TEST, families=headline).values()
# figures/overview_prisma, results/coverage.csv
coverage_counts = show_coverage(data, analyses=analyses, heading=False)

# %% [markdown]
# <!-- coverage: end -->

# %% [markdown]
# ## The dataset
#
# Trials by condition and comparator class (a trial with several comparators counts once in
# each of its classes), then the number of PDT sessions, publication years and formats.

# %%
table = data.crosstab()
review.save_table(table, "overview_trials_by_condition_and_comparator")
format_table(table.rename(index=review.CONDITION_NAMES, columns=review.COMPARATOR_NAMES))

# %%
format_table(review.dataset_profile(data))

# %% [markdown]
# Every outcome row of the dataset enters at least one pooled analysis of these pages, or is
# listed here with the reason it does not.

# %%
Markdown(review.accounting_text(review.row_accounting(data, analyses), scope="in the dataset"))

# %% [markdown]
# ## Headline results
#
# PDT against one comparator class at a time, pooled by condition with a separate τ² per
# condition (the protocol never lumps two classes in a verdict): CBT, other psychotherapies,
# medication, usual care, pill placebo or attention control, other controls, waitlist, and
# add-on designs (PDT added to a treatment X, against X alone). Classes without a trial at
# post-treatment are left out. A "vs any control" line follows at the end, labelled as the
# secondary summary it is.

# %%
for family, an in headline.items():
    review.save_table(an.table(), f"overview_{family}_by_condition")

# %% [markdown]
# Every headline comparison with its certainty of evidence and its verdict, across conditions:
# the same sentence, from the same rules, as on the condition pages.

# %%
from evidence.review.display import show_summary_of_findings

_ = show_summary_of_findings(
    headline, data.protocol, "overview", margin=data.protocol.equivalence_margin, level=3
)

# %% [markdown]
# ### PDT vs CBT

# %%
headline["cbt"].forest(title="PDT vs CBT by condition (Hedges' g, post)", band=(-MARGIN, MARGIN))
Markdown(headline["cbt"].statements(comparator="CBT"))

# %% [markdown]
# <!-- pdt-vs-cbt-all-outcomes: start (issue 10) -->
# ### PDT vs CBT on every outcome type
#
# The forest above pools continuous outcomes only. This table shows **every condition with a
# PDT vs CBT comparison, whatever the outcome type**: Hedges' g for continuous outcomes and
# odds ratios for event outcomes, each on its own scale and never pooled together, with the
# outcome named and its direction in words. "g from OR" converts an OR to g with the logistic
# conversion ln(OR) x sqrt(3)/pi, as a sensitivity only. In bulimia nervosa CBT did clearly
# better on binge-purge abstinence (Poulsen 2014: OR 13.4 in favour of CBT at 5 months, when
# CBT had ended; 4.34 at 2 years), which a continuous-only headline leaves out.

# %%
cbt_all = review.pdt_vs_cbt_all_outcomes(data, method=METHOD, test=TEST)
review.save_table(cbt_all, "overview_cbt_all_outcome_types")
format_table(cbt_all)

# %% [markdown]
# <!-- pdt-vs-cbt-all-outcomes: end -->

# %% [markdown]
# **Equivalence.** Two one-sided tests against a margin of g = ±0.25 with the 90% CI, and
# non-inferiority (the lower 90% limit above -0.25). "Not shown equivalent" with few trials
# means the data are too sparse to tell, not that the treatments differ.

# %%
eq = headline["cbt"].equivalence(margin=MARGIN)
review.save_table(eq, "overview_cbt_equivalence")
format_table(eq, scale="g", ci="90% CI", drop=("alpha", "df", "low", "high"))

# %% [markdown]
# ### PDT vs each other comparator class

# %%
review.show_items(
    "The forest plot of each comparator class, by condition, and what it shows.",
    fold="Show the forest plot of each class",
)
for family, an in headline.items():
    if family != "cbt":
        an.forest(title=f"{an.title.split(' (')[0]} by condition (g, post)")
        display(Markdown(an.statements(comparator=review.COMPARATOR_NAMES[family])))

# %% [markdown]
# ### Secondary: PDT vs any control
#
# This line lumps usual care, placebo or attention control, other controls and waitlist, which
# differ in what they control for; it is shown because readers look for it, never as a
# verdict. The verdicts are the class-by-class lines above.

# %%
review.show_items("The lumped line, by condition.", fold="Show the lumped forest plot")
secondary = review.headline(data, method=METHOD, test=TEST, secondary=True)["any_control"]
review.save_table(secondary.table(), "overview_any_control_by_condition")
secondary.forest(title="Secondary: PDT vs any control, lumped (g, post)")

# %% [markdown]
# <!-- bayes: start (issue 14) -->
# ## Bayesian estimates for small cells
#
# The protocol's rule (methods page): where a condition has fewer than 5 comparisons in a
# family, the Bayesian random-effects estimate (posterior median, 95% credible interval, prior
# on τ named in the footnote) is shown beside the REML + Knapp-Hartung one and its statement
# below replaces the frequentist one above; with 5 or more, both estimates are in the table
# and the statement above stands. P(PDT better) is the posterior probability that PDT is
# better on average (g > 0, OR > 1).

# %%
from evidence.review import bayes_report

review.show_items(
    "Each small cell of the families above.", fold="Show the Bayesian estimate of each small cell"
)
bayes_report.show_small_cells(
    {f"PDT vs {review.COMPARATOR_NAMES[f]}": an for f, an in headline.items()},
    comparators=tuple(review.COMPARATOR_NAMES[f] for f in headline),
)

# %% [markdown]
# ### How much do the PDT vs CBT estimates depend on the prior?
#
# Every PDT vs CBT cell (every condition, outcome type and timepoint, as in the table of all
# outcome types above) under half-normal and half-Cauchy priors on tau with scales 0.5 and 1
# and the empirical priors for mental-health outcomes (Rhodes et al. 2015 for g, Turner et al.
# 2015 for log OR; `evidence/meta/bayes/priors.csv` names the source of each), beside REML +
# Knapp-Hartung (`tau` there is the REML estimate). `rule` marks the protocol's prior. ORs
# are shown as ratios. With one trial, the interval is the prior's spread of tau around that
# trial's estimate, and a heavy-tailed prior (half-Cauchy, log-t) makes it very wide: a single
# trial says nothing about heterogeneity. "As good as" is answered by `P(|g| < 0.25)`, the
# posterior probability that the mean effect lies within the equivalence margin, under each
# prior (for odds ratios the margin carried over to the log OR, 0.25 x pi/sqrt(3) = 0.45,
# i.e. an OR between 0.64 and 1.57).

# %%
cbt_prior = bayes_report.sensitivity_table(
    bayes_report.pdt_vs_cbt_cells(data, method=METHOD, test=TEST), margin=MARGIN
)
review.save_table(cbt_prior, "overview_cbt_prior_sensitivity")
review.show_items(
    "Every PDT vs CBT cell under each prior.", fold="Show the estimates under each prior"
)
format_table(
    cbt_prior,
    labels={
        "estimate": "Median (REML: estimate)",
        "ci": "95% CrI (REML: CI)",
        "tau": "\u03c4: posterior median (REML: estimate)",
        "p_pdt_better": "P(PDT better)",
        "p_within_margin": f"P(|g| < {MARGIN:g})",
        "rule": "Protocol prior",
    },
)

# %% [markdown]
# <!-- bayes: end -->

# %% [markdown]
# <!-- multiplicity: start (issue 9) -->
# ### Many comparisons, one dataset
#
# The families above state one p-value per condition, each alone. The table lists all of
# these headline comparisons (PDT vs each comparator class, by condition, Hedges' g at post)
# with the p-value unadjusted, adjusted by Holm's step-down method across all of them
# (family-wise error rate; the primary view) and by Benjamini-Hochberg (false discovery rate;
# secondary).

# %%
from evidence.review import multiplicity

review.show_items(
    "The headline p-values, unadjusted and adjusted.",
    fold="Show the p-values adjusted for multiplicity",
)
multiplicity.show_multiplicity(headline, "overview")

# %% [markdown]
# <!-- multiplicity: end -->

# %% [markdown]
# <!-- sensitivity: start (issue 10) -->
# ## Judgement calls: classification, add-on designs and flagged values
#
# Some comparators could be classed otherwise (the comparator's detail and its alternative
# class in `data/arms.csv`): structured generic borderline treatments classed usual care,
# Fonagy 2019's
# low-intensity arm (other control), Martini 2011's supportive psychotherapy (a control in the
# panic database). **Add-on designs** (PDT + X vs X: Fonagy 2015, Roten 2017, Amianto 2011,
# Wiborg 1996) test adding PDT to a treatment both arms get; their comparator is classed usual
# care, so "PDT vs medication" here means PDT instead of medication, which no anxiety trial in
# the data tests (Wiborg 1996 adds PDT to clomipramine). Two values are flagged suspect and kept
# (Bateman 2009's IIP SD, Heshmati 2023's WAI-d). The table pools g at post, by condition group
# and comparator, as classified and under each alternative that changes a group; the
# condition notebooks show the same per page.

# %%
sens = pd.concat(
    {
        key: review.sensitivity_scenarios(data, key, method=METHOD, test=TEST)
        for key in review.CONDITION_GROUPS
    },
    names=["condition group"],
)
sens = sens[sens["k"].notna()]
review.save_table(sens, "overview_sensitivity_scenarios")
review.show_items(
    "Pooled g at post under each scenario.", fold="Show the pooled estimates under each scenario"
)
format_table(sens, scale="g")

# %% [markdown]
# **Not in any pool.** Blay 2002 (brief group dynamic psychotherapy vs clinical management in
# minor psychiatric disorders; GHQ improvement 23/42 vs 11/41) is the only trial of mixed common
# mental disorders, and the quoted abstract does not say when improvement was assessed
# (timepoint "not stated"), so it is shown in the data but pooled nowhere. Creed 2003
# (psychodynamic-interpersonal therapy vs paroxetine and vs usual care in severe IBS) is kept as
# a mean difference in SF-36 physical component improvement with an SE derived from the quoted
# SEMs, also without a stated timepoint. The equivalence test of Steinert et al. (2017) is
# repeated on these data, beside the published numbers, in the notebook
# `08_equivalence`.
#
# <!-- sensitivity: end -->

# %% [markdown]
# ## Small-study effects
#
# Egger's regression test, Begg's rank test and trim-and-fill (with its contour-enhanced funnel
# plot) wherever a condition has at least 10 comparisons in one family. With fewer, these
# tests cannot tell bias from chance and are not run.

# %%
review.show_items(
    "The tests, where a family has 10 or more comparisons.", fold="Show the small-study tests"
)
review.show_small_study(headline)

# %% [markdown]
# ## What this evidence does and does not show
#
# Against CBT, the direct randomized comparisons available from open sources are few, and
# several conditions have a single trial: where the confidence interval includes zero the
# trials do not show a difference, which is not evidence of equivalence unless the
# equivalence test says so. Against waitlist the pooled effects are larger than against usual
# care, which is why the classes are never lumped; heterogeneity is substantial and the
# prediction intervals are wide: a new trial could find a much smaller (or larger) effect. Risk
# of bias is rated differently by each source database and is shown as given. The condition
# notebooks show each analysis in detail, with leave-one-out, influence, small-study and
# moderator analyses where the number of trials allows.

# %% [markdown]
# <!-- network: start (issue 13) -->
# ## PDT vs CBT: direct trials and the evidence network
#
# For each condition network: PDT vs CBT from the direct trials only (pairwise REML), from the
# network meta-analysis (direct and indirect evidence), whether direct and indirect agree
# (node-splitting test), the design-by-treatment inconsistency p, and the number of direct
# trials behind each. Positive favours PDT (SMD, or log OR where the network is of events).

# %%
from evidence.review import network_report

network_report.show_network_overview(method=METHOD)

# %% [markdown]
# <!-- network: end -->
