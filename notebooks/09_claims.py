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
# # What is claimed, and what the trials show
#
# Students meet psychodynamic therapy (PDT) through articles that make claims like the four
# below. This page turns each claim into a question the randomized trials can answer
# (population, comparator, outcome, timepoint, margin, from the protocol in
# `data/protocol.toml`), answers it with the same library calls as every other page, and gives
# a verdict in one sentence with its certainty (GRADE: high, moderate, low, very low; CINeMA for
# network estimates). The verdict sentences are written by the same code as everywhere else on
# this site. **Positive values favour PDT.**

# %% tags=["parameters"]
METHOD = "REML"  # tau^2 estimator
TEST = "knha"  # Knapp-Hartung
RHO = 0.5  # assumed correlation between instruments of one comparison

# %%
import evidence.review.data
from evidence import review
from evidence.review import claims
from evidence.review.certainty import certainty_table, sof_table
from evidence.review.network_data import NODE_NAMES, load_network
from evidence.review.network_report import network_report
from evidence.review.network_report.report import named_comparisons
from evidence.review.tables import format_table

review.announce_outputs(METHOD=METHOD, TEST=TEST, RHO=RHO)

data = evidence.review.data.load()
protocol = data.protocol
MARGIN = protocol.equivalence_margin
net = load_network()

# claim 1: PDT vs each control class, condition by condition
control = claims.control_analyses(data, method=METHOD, test=TEST, rho=RHO)
claim1 = claims.claim1_table(control, protocol)
untested = claims.untested_conditions(data, claim1)
# claim 2: PDT vs CBT, per condition, pooled, and in each condition network
headline = review.headline(data, method=METHOD, test=TEST)
pooled_cbt = review.analyse(
    data, "claims_cbt_pooled", comparators=("cbt",), method=METHOD, test=TEST, rho=RHO,
    conditions=tuple(review.CONDITION_NAMES),
)  # fmt: skip
reports = [network_report(net, db, method=METHOD, rho=RHO) for db in dict.fromkeys(net["database"])]
claim2 = claims.cbt_equivalence(headline["cbt"], pooled_cbt, reports, protocol)
# claim 3: internet PDT vs internet CBT, direct and in the format-split networks
online = claims.internet_direct(data, pooled_cbt)
claim3_direct = certainty_table({"internet PDT vs internet CBT": online}, protocol, margin=MARGIN)
claim3_direct["trials"] = ", ".join(online.effects["label"])
format_reports = claims.format_networks(net, method=METHOD, rho=RHO)
claim3_network = claims.format_network_table(format_reports, protocol)
# claim 4: sessions and weeks of PDT, and the dose meta-regression
dose = claims.dose_effects(headline, data)
dose_sessions = claims.dose_regression(dose, "sessions", method=METHOD, test=TEST)
dose_weeks = claims.dose_regression(dose, "weeks", method=METHOD, test=TEST)
claim4 = claims.dose_verdict(dose_sessions, "sessions")

# %% [markdown]
# ## The claims, checked
#
# One row per claim: what it says, the question it becomes, the verdict and its certainty, and
# the trials behind it. Each section below shows how the verdict is reached.

# %%
table = claims.claims_table(claim1, untested, claim2, claim3_direct, claim3_network, claim4)
review.save_table(table, "claims")
review.show_items(table)

# %% [markdown]
# ## Claim 1: "PDT can treat" these conditions
#
# > PDT can treat depression, social anxiety disorder, panic disorder, somatic disorders, some
# > personality disorders, PTSD, eating disorders, substance use disorders, anxiety,
# > interpersonal problems and psychological distress.
#
# "Can treat" becomes: **did PDT do better than a control condition in randomized trials?**
# Waitlist, usual care, placebo or attention control and other controls are kept apart: a
# waitlist controls for time only, usual care for receiving care, so an effect against a
# waitlist says less.

# %%
review.show_items(claims.question(protocol, 1))

# %% [markdown]
# Every pooled cell, with its certainty and the verdict (the same rules as the summary of
# findings on the overview page):

# %%
sof = sof_table(claim1)
sof.insert(0, "named condition", claim1["claimed"])
sof["trials"] = claim1["trials"]
review.save_table(claim1, "claims_conditions")
review.show_items(sof)

# %% [markdown]
# **Named conditions without a pooled comparison with a control class.** The trials of that
# population in the data (with their comparators and timepoints), and the trials the project's
# research notes name for it, with the reason they are not in the data:

# %%
review.show_items(untested, fold="Show the named conditions without a pooled comparison")

# %% [markdown]
# ## Claim 2: "as effective as CBT"
#
# > Evidence suggests psychodynamic therapy can be just as effective as CBT for many conditions.

# %%
review.show_items(claims.question(protocol, 2))

# %% [markdown]
# Each row: the pooled estimate, the 90% interval of the two one-sided tests (TOST) and its
# p-value, whether equivalence within the margin is shown, the posterior probability that the
# true difference lies within the margin (direct trials; the protocol's prior on tau), the
# certainty (GRADE; CINeMA for networks) and the verdict.

# %%
review.save_table(claim2, "claims_cbt_equivalence")
format_table(
    claim2,
    scale="g",
    ci="90% CI",
    labels={
        "ci90_low": "90% CI low",
        "ci90_high": "90% CI high",
        "p_tost": "TOST p",
        "p_within_margin": "P(|g| < margin)",
        "k": "direct trials",
    },
)

# %% [markdown]
# **Why "no difference found" is not "as effective".** A trial or a pool that finds no
# significant difference between PDT and CBT has only failed to rule out "no difference"; its
# interval may still hold differences large enough to matter to a patient, in either
# direction. "As effective" is a different claim: that the difference is *small*, which needs
# an interval that lies entirely within a margin chosen in advance (here g = 0.25, about the
# smallest difference that matters clinically). With a handful of small trials the interval is
# wide, so the data can fail both tests at once: no difference shown, and no equivalence shown.
# That is what "we do not know" means in the verdicts above, and it is why the posterior
# probability of |g| < margin is shown: it says how much of the plausible range lies within the
# margin, which the absence of a significant difference does not.

# %% [markdown]
# ## Claim 3: online PDT vs online CBT
#
# > Online psychodynamic therapy may be as effective as online CBT.

# %%
review.show_items(claims.question(protocol, 3))

# %% [markdown]
# ### The direct trials
#
# Trials that randomize patients to internet PDT and to internet CBT (the delivery of both
# arms from `data/arms.csv`):

# %%
review.save_table(claim3_direct, "claims_internet_direct")
review.show_items(sof_table(claim3_direct).assign(trials=claim3_direct["trials"]))

# %% [markdown]
# ### A network split by delivery format
#
# In each condition network that holds internet PDT, the PDT and CBT nodes are split by the
# harmonised delivery format of each arm (`data/network_formats.csv`): internet PDT,
# face-to-face PDT, internet CBT, face-to-face CBT (other or unreported formats as their own
# nodes), with every control and other psychotherapy as in the condition networks. Internet
# PDT vs internet CBT then has a direct estimate (trials with both arms), an indirect one
# (through shared comparators, mostly waitlist) and the network estimate, with the node-split
# test of their agreement and its CINeMA confidence. Written to
# `results/claims_format_network.csv` (the table shows internet PDT against the format-split
# nodes and waitlist; the file has every node). In these verdicts "PDT" is internet PDT.

# %%
review.save_table(claim3_network, "claims_format_network")
shown = claim3_network["node"].isin([*claims.FORMAT_NODE_NAMES, "waitlist"])
format_table(
    claim3_network.loc[
        shown,
        ["database", "comparison", "k_direct", "network", "ci_low", "ci_high", "direct",
         "indirect", "pvalue_split", "cinema", "verdict"],
    ],
    scale="g",
    labels={"network": "network g", "pvalue_split": "direct vs indirect p", "cinema": "CINeMA"},
)  # fmt: skip

# %% [markdown]
# **Transitivity: who gets internet treatment?** An indirect comparison of internet PDT with
# internet CBT through waitlist assumes that the trials of each would have found the same
# effects had they swapped patients. Internet trials often recruit by advertisement, take
# people with milder symptoms who are at ease with computers and willing to wait, and compare
# with waitlists; face-to-face trials more often take referred patients and compare with usual
# care. The effect-modifier tables below (year, risk of bias and format of the studies of each
# comparison that involves a PDT or CBT node) show how far the comparisons differ.

# %%
for rep in format_reports:
    if rep.result is not None:
        tr = rep.transitivity
        keep = tr["comparison"].str.contains("pdt|cbt")
        names = {**NODE_NAMES, **claims.FORMAT_NODE_NAMES}  # the split nodes by their names
        review.show_items(
            f"**{rep.database}**",
            named_comparisons(tr[keep], names),
            fold=f"Show the effect modifiers of the {rep.database} network",
        )

# %% [markdown]
# ## Claim 4: brief and long-term PDT
#
# > Today's PDT is time-limited (sessions once or twice a week for up to a year), unlike
# > open-ended psychoanalysis; brief and long-term forms both exist.
#
# That both forms exist is true (see the session counts below). The question a student asks
# next, **is long-term PDT better than brief PDT?**, needs trials that randomize between them.

# %%
review.show_items(claims.question(protocol, 4))

# %% [markdown]
# ### Sessions and length of the PDT arms in the data
#
# Weeks are to the post-treatment assessment (the sources give no treatment length for the PDT
# arms; the network data's treatment-length columns are empty for them).

# %%
arms = claims.pdt_arm_lengths(data)
review.save_table(arms, "claims_pdt_sessions")
review.show_items(arms, fold="Show the sessions and length of every PDT arm")

# %% [markdown]
# ### Randomized comparisons of brief and long-term PDT in the sources

# %%
review.show_items(claims.brief_vs_long_trials(data))

# %% [markdown]
# ### The dose meta-regression
#
# Hedges' g of PDT against each control class regressed on the number of sessions (then on the
# weeks to the post assessment), with the condition and the control class as covariates. **Read
# it as confounded**: the longest PDT arms are the borderline personality disorder trials, the
# shortest are internet and brief depression and anxiety trials, so session count, population,
# control class and outcome scale move together; the condition covariate removes only part of
# that, and with about twenty comparisons it cannot remove much.

# %%
review.show_items(
    dose_sessions.to_frame().reset_index(),
    f"Residual \u03c4\u00b2 = {dose_sessions.tau2:.3f}, k = {dose_sessions.k}.",
    dose_weeks.to_frame().reset_index(),
    f"Residual \u03c4\u00b2 = {dose_weeks.tau2:.3f}, k = {dose_weeks.k}.",
)

# %%
fig = claims.dose_plot(dose, dose_sessions)
_ = review.save_plot(fig, "claims_sessions")

# %%
review.show_items(
    f"**Verdict.** {claim4['verdict']} With {claim4['per']}, the shorter arm's effect minus "
    f"the longer one's is {claim4['estimate']:.2f} (95% CI {claim4['ci_low']:.2f} to "
    f"{claim4['ci_high']:.2f}, {claim4['k']} comparisons); certainty: {claim4['reasons']}."
)
