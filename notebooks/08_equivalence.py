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
# # Is PDT as good as established treatments? Steinert et al. (2017) side by side
#
# Steinert, Munder, Rabung, Hoyer and Leichsenring (Am J Psychiatry 2017;174:943-953) tested
# whether psychodynamic therapy (PDT) is **equivalent** to treatments of established efficacy
# (CBT, other psychotherapies, medication) on target symptoms, with two one-sided tests (TOST)
# against a margin of g = 0.25 and the 90% confidence interval. This notebook runs the same test
# on this project's data and prints our numbers beside the published ones, which are typed once
# in `data/published/steinert2017.csv` with their source.
#
# Selection here: every trial comparison of PDT vs CBT, other psychotherapy or medication,
# **add-on designs excluded** (PDT + X vs X tests adding PDT, not PDT against X), continuous
# outcomes (Hedges' g), all symptom instruments of a trial aggregated into one effect
# (compound symmetry, correlation `RHO`). Positive g favours PDT; Steinert et al. report
# negative g as favouring the comparison treatments, the same orientation.

# %% tags=["parameters"]
METHOD = "REML"  # tau^2 estimator
TEST = "knha"  # Knapp-Hartung
RHO = 0.5  # assumed correlation between instruments of one comparison
MARGIN = 0.25  # equivalence margin in g (as Steinert et al. 2017)

# %%
import pandas as pd
from IPython.display import Markdown, display

import evidence.review.data
from evidence import review
from evidence.review.tables import format_table

review.announce_outputs(METHOD=METHOD, TEST=TEST, RHO=RHO, MARGIN=MARGIN)

data = evidence.review.data.load()
published = review.load_published("steinert2017")
ours = review.steinert_equivalence(data, margin=MARGIN, method=METHOD, test=TEST, rho=RHO)

# %% [markdown]
# ## The trials used here

# %%
effects = ours["post"][0]
format_table(
    effects[["label", "condition", "comparator_class", "comparator", "instruments", "yi", "vi"]],
    scale="g",
)

# %% [markdown]
# ## This project beside the published result

# %%
rows = []
for _, pub in published.iterrows():
    tp = pub["timepoint"]
    eff, res, eq = ours[tp]
    rows.append(
        {
            "timepoint": tp.replace("_", " "),
            "source": "Steinert et al. 2017 (published)",
            "k trials": int(pub["k_trials"]),
            "g": pub["estimate"],
            "90% CI": f"{pub['ci_low']:.3f} to {pub['ci_high']:.3f}",
            "equivalent (margin 0.25)": "yes (as reported)",
        }
    )
    rows.append(
        {
            "timepoint": tp.replace("_", " "),
            "source": "this dataset",
            "k trials": 0 if res is None else res.k,
            "g": float("nan") if res is None else res.estimate,
            "90% CI": "no trial" if eq is None else f"{eq.ci_low:.3f} to {eq.ci_high:.3f}",
            "equivalent (margin 0.25)": "not testable"
            if eq is None
            else ("yes" if eq.equivalent else "not shown"),
        }
    )
side = pd.DataFrame(rows)
review.save_table(side, "equivalence_steinert2017_side_by_side")
format_table(side)

# %% [markdown]
# The follow-up interval is recorded **as printed in the abstract** (-0.137 to -0.038); it is
# not symmetric about g = -0.049, which lies outside it, so the upper limit was probably
# +0.038 with the sign lost in print. See the `note` column of the data file:

# %%
columns = ["timepoint", "estimate", "ci_low", "ci_high", "ci_level", "note", "source"]
format_table(published[columns], scale="g")  # the CI header states the published level (90%)

# %% [markdown]
# ## TOST details for this dataset

# %%
eq_post = ours["post"][2]
format_table(eq_post.to_frame()) if eq_post is not None else "no trial qualifies at post"

# %% [markdown]
# ## Which trials overlap
#
# The full list of Steinert's 23 trials is not in the shared research material or the searched
# sources. `data/published/steinert2017_trials_named.csv` lists the trials that the project's
# research notes (pdt-trials.md section 4) name as Steinert trials; none of them has arm-level
# data in the sources available to this project, so none is in this dataset. Whether our
# trials are among Steinert's cannot be checked without the full list.

# %%
named = review.load_published("steinert2017_trials_named")
in_data = set(data.trials["study"])
named["in this dataset"] = named["study"].isin(in_data)
overlap = pd.DataFrame(
    {
        "trial (this dataset, post)": effects["label"],
        "named as a Steinert trial in the notes": effects["label"].isin(named["study"]),
    }
)
display(format_table(named[["study", "in this dataset"]]), format_table(overlap))

# %% [markdown]
# ## Verdict in words

# %%
res, eq = ours["post"][1], ours["post"][2]
pub = published.set_index("timepoint")
lines = []
if res is not None:
    lines.append(
        f"**Post-treatment.** Steinert et al. found g = {pub.loc['post', 'estimate']:.3f} "
        f"(90% CI {pub.loc['post', 'ci_low']:.3f} to {pub.loc['post', 'ci_high']:.3f}, "
        f"{int(pub.loc['post', 'k_trials'])} trials): equivalence shown. This dataset gives "
        f"g = {res.estimate:.3f} (90% CI {eq.ci_low:.3f} to {eq.ci_high:.3f}, {res.k} trials): "
        + (
            "equivalence is shown as well."
            if eq.equivalent
            else f"equivalence is **not shown**: the 90% CI reaches beyond the margin of -{MARGIN}."
        )
    )
    same_sign = (res.estimate < 0) == (pub.loc["post", "estimate"] < 0)
    lines.append(
        "What agrees: "
        + (
            "the point estimates have the same sign (slightly favouring the comparison "
            "treatments) and are small, well inside the margin."
            if same_sign and abs(res.estimate) < MARGIN
            else "the estimates are small."
        )
        + " What does not: our interval is "
        f"{(eq.ci_high - eq.ci_low) / (pub.loc['post', 'ci_high'] - pub.loc['post', 'ci_low']):.1f}"
        " times as wide, because it rests on "
        f"{res.k} trials instead of {int(pub.loc['post', 'k_trials'])}, with a Knapp-Hartung "
        "t-interval; most head-to-head trials of PDT report no arm-level data in the open "
        "sources available here. Outcomes also differ: Steinert et al. chose one 'target "
        "symptom' measure per trial, while this dataset aggregates every symptom instrument the "
        "sources give for a comparison, and it includes trials (e.g. of PTSD and panic) and "
        "comparators (supportive therapy, counselling) chosen by availability, not by a "
        "systematic search."
    )
fu = ours["follow_up"]
lines.append(
    "**Follow-up.** "
    + (
        "No trial in this dataset compares PDT with an established treatment at follow-up on "
        "a continuous outcome, so the follow-up test cannot be repeated here."
        if fu[1] is None
        else f"This dataset gives g = {fu[1].estimate:.3f} ({fu[1].k} trials)."
    )
)
Markdown("\n\n".join(lines))
