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
# # How to: add a trial, rerun, compare estimators, tests and prediction intervals
#
# A practical guide for researchers who want to extend the analyses.

# %% tags=["parameters"]
METHOD = "REML"
TEST = "knha"

# %%
import shutil
import tempfile
from pathlib import Path

import pandas as pd

import evidence as ev
import evidence.review.data
from evidence import review
from evidence.meta import pooling
from evidence.review.tables import format_table

review.announce_outputs(METHOD=METHOD, TEST=TEST)

data = evidence.review.data.load()

# %% [markdown]
# ## 1. Add a trial
#
# The data live in `data/` (see `data/README.md` for the full procedure and the schema in
# `data/datapackage.json`):
#
# 1. add the trial to `data/trials.csv` (citation, DOI or PMID, year, country, condition),
#    its arms to `data/arms.csv` and the comparison to `data/comparisons.csv`;
# 2. add one row per outcome x timepoint to `data/outcomes_reports.csv`, with the arm-level
#    statistics exactly as the report gives them and the `source` (DOI and the place in the
#    abstract or table); mark anything derived in `derived` and `note`;
# 3. run `evidence validate`; it lists every problem, each with file, row, column and rule;
# 4. run `evidence build` to regenerate every notebook, figure and table.
#
# Validation in action: a copy of the data with one trial id duplicated is rejected with a
# message that says exactly where. The error lists every problem found (`exc.problems`), each
# with file, row, column, rule and what was expected.

# %%
with tempfile.TemporaryDirectory() as tmp:
    copy = Path(tmp) / "data"
    shutil.copytree(data.path, copy)
    trials = (copy / "trials.csv").read_text().splitlines()
    (copy / "trials.csv").write_text("\n".join([*trials, trials[1]]) + "\n")
    try:
        evidence.review.data.load(copy)
    except evidence.review.data.DataValidationError as exc:
        for problem in exc.problems:  # file names shown relative to the copied data folder
            print(str(problem).replace(f"{copy.as_posix()}/", "data/"))

# %% [markdown]
# ## 2. Rerun with other settings
#
# `evidence build --method DL --test z` rebuilds every notebook with another τ² estimator and
# test, into `builds/method-DL_test-z/` (or `--out DIR`) so the committed outputs stay as they
# are; each page then states the choices under its title. `evidence build --notebook
# 01_depression` rebuilds one notebook.
#
# ## 3. Compare τ² estimators
#
# PDT vs usual care in depression (one aggregated effect per comparison), pooled with every
# estimator the library offers.

# %%
dep = review.analyse(data, "depression", method=METHOD, test=TEST)
group = dep.largest_group
res = dep.results[group]
print(f"PDT vs {review.COMPARATOR_NAMES[group]} in depression, k = {res.k}")
rows = []
for method in pooling.METHODS:
    r = ev.pool(res.yi, res.vi, method=method, test=TEST)
    rows.append(
        {
            "method": method,
            "tau2": r.tau2,
            "estimate": r.estimate,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "i2": r.i2,
        }
    )
format_table(pd.DataFrame(rows), scale="g")

# %% [markdown]
# ## 4. Wald z vs Knapp-Hartung
#
# The Knapp-Hartung test uses a t distribution with k - 1 df and a rescaled SE; with few trials
# its intervals are usually wider and more honest. The ad hoc variant never lets the SE fall
# below the Wald SE.

# %%
tests_frame = pd.DataFrame(
    [
        {
            "test": t,
            **ev.pool(res.yi, res.vi, method=METHOD, test=t)
            .to_frame()[["se", "ci_low", "ci_high", "pvalue"]]
            .iloc[0],
        }
        for t in pooling.TESTS
    ]
)
format_table(tests_frame, scale="g")

# %% [markdown]
# ## 5. Prediction-interval rules
#
# `metafor` (default: normal quantile under z, t with k - 1 df under Knapp-Hartung), `higgins`
# (t with k - 2 df, Higgins et al. 2009) and `t_k1` (t with k - 1 df). The rule is recorded in
# every result and printed in every figure footnote.

# %%
rules_frame = pd.DataFrame(
    [
        {
            "rule": p,
            **ev.pool(res.yi, res.vi, method=METHOD, test=TEST, pi=p)
            .to_frame()[["pi_low", "pi_high"]]
            .iloc[0],
        }
        for p in pooling.PI_RULES
    ]
)
format_table(rules_frame, scale="g")

# %% [markdown]
# Every result prints its method choices:

# %%
print(ev.pool(res.yi, res.vi, method=METHOD, test=TEST, pi="higgins", labels=res.labels))

# %% [markdown]
# ## 6. Bayesian random effects: observed and shrunken trial effects
#
# With few trials the posterior of each trial's true effect borrows strength from the others.
# The shrinkage forest shows, per trial, the observed estimate (open square, Wald CI) above
# its shrunken estimate (filled circle, posterior median and credible interval), then the
# posterior of the mean effect and the predictive interval for a new trial. The prior on tau
# is the project's default for small cells (see the methods page).

# %%
fit = ev.bayes_pool(res.yi, res.vi, labels=res.labels, measure=res.measure)
title = f"Depression, PDT vs {review.COMPARATOR_NAMES[group]}: observed and shrunken"
favours = (review.COMPARATOR_NAMES[group], "PDT")  # positive effects favour PDT
_ = review.save_plot(fit.shrinkage_plot(title=title, favours=favours), "howto_shrinkage_forest")

# %% [markdown]
# ## 7. A condition page in your own notebook
#
# Every condition page is one `ConditionPage`: its data, its analyses and one call per
# section. Load one with other choices and reuse its analyses, e.g. the depression page's
# pooled Hedges' g by comparator under DerSimonian-Laird with a Wald z test (`page.sections()`
# would show the whole page under these choices):

# %%
from evidence.review.pages import ConditionPage

page = ConditionPage.load("depression", method="DL", test="z", data=data)
print(sorted(page.analyses))
format_table(page.analyses["SMD post"].table(), scale="g")
