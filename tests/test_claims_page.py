"""The claims page (issue 25): evidence.review.claims on the project's data.

Format relabelling, the format-split network, the claim-1 cells (never "vs control" lumped),
the equivalence rows, the dose regression as a direct meta_regression call, and the claims
table (one row per claim, certainty from the allowed levels, verdicts from certainty.verdict).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evidence.review import analyse, claims, headline
from evidence.review.certainty import LEVELS, verdict
from evidence.review.vocabulary import COMPARATOR_NAMES, CONDITION_NAMES


@pytest.fixture(scope="module")
def pieces(ds, net):
    """Every table of the page, built once (as the notebook builds them)."""
    from evidence.review.certainty import certainty_table
    from evidence.review.network_report import network_report

    p = ds.protocol
    control = claims.control_analyses(ds)
    c1 = claims.claim1_table(control, p)
    un = claims.untested_conditions(ds, c1)
    head = headline(ds)
    pooled = analyse(
        ds, "claims_cbt_pooled", conditions=tuple(CONDITION_NAMES), comparators=("cbt",)
    )
    reports = [network_report(net, db) for db in ("sad-psyctr", "gad-psyctr")]
    c2 = claims.cbt_equivalence(head["cbt"], pooled, reports, p)
    online = claims.internet_direct(ds, pooled)
    c3d = certainty_table({"online": online}, p, margin=p.equivalence_margin)
    c3d["trials"] = ", ".join(online.effects["label"])
    fmt = claims.format_networks(net[net["database"] == "gad-psyctr"])
    c3n = claims.format_network_table(fmt, p)
    dose = claims.dose_effects(head, ds)
    fit = claims.dose_regression(dose)
    c4 = claims.dose_verdict(fit)
    table = claims.claims_table(c1, un, c2, c3d, c3n, c4)
    return dict(control=control, c1=c1, un=un, c2=c2, pooled=pooled, online=online, c3n=c3n,
                dose=dose, fit=fit, c4=c4, table=table, head=head)  # fmt: skip


def test_format_relabelling_maps_internet_pdt_and_cbt(net):
    split = claims.format_nodes(net)
    gad = split[split["database"] == "gad-psyctr"]
    andersson = gad[gad["study"] == "Andersson, 2012"]
    # Andersson 2012: internet PDT and internet CBT, each against the waitlist
    assert set(andersson["node1"]) == {"pdt", "cbt"}
    sad = split[(split["database"] == "sad-psyctr") & (split["study"] == "Leichsenring, 2013")]
    assert "pdt_face_to_face" in set(sad["node1"]) and "pdt" not in set(sad["node1"])
    # every internet PDT arm, and only those, keeps the node id pdt
    was_pdt = net["node1"] == "pdt"
    internet = net["delivery1"].isin(claims.formats.INTERNET)
    assert ((split["node1"] == "pdt") == (was_pdt & internet)).all()
    # controls and other therapies keep their node
    other = ~net["node1"].isin(["pdt", "cbt"])
    assert (split.loc[other, "node1"] == net.loc[other, "node1"]).all()
    assert set(split["node2"]) - set(net["node2"]) <= set(claims.FORMAT_NODE_NAMES)


def test_format_nodes_names_the_missing_column():
    with pytest.raises(ValueError, match="delivery2"):
        claims.format_nodes(pd.DataFrame({"node1": [], "node2": [], "delivery1": []}))


def test_tree_accepts_nodes_outside_the_vocabulary_and_keeps_the_listed_order():
    from evidence.review.network_report.fits import _tree

    # a format-split node is ordered after every listed node, by name
    assert _tree(["pdt", "cbt_face_to_face"], ["waitlist", "waitlist"]) == [0, 1]
    assert _tree(["cbt", "pdt"], ["waitlist", "waitlist"]) == [0, 1]


def test_internet_pdt_vs_internet_cbt_has_direct_indirect_and_network_estimates(pieces):
    t = pieces["c3n"]
    row = t[(t["database"] == "gad-psyctr") & (t["node"] == "cbt")].iloc[0]
    assert row["comparison"] == "internet PDT vs internet CBT"
    assert row["k_direct"] == 1
    assert np.isfinite([row["direct"], row["indirect"], row["network"]]).all()
    assert row["ci_low"] < row["network"] < row["ci_high"]
    assert row["cinema"] in LEVELS
    assert row["verdict"] == verdict(
        row["network"], row["ci_low"], row["ci_high"], k=int(row["studies_in_network"]),
        certainty=row["cinema"], comparator="internet CBT", margin=0.25,
        treatment="internet PDT",
    )  # fmt: skip


def test_the_direct_online_trial_is_andersson_2012(pieces):
    assert pieces["online"].effects["label"].tolist() == ["Andersson 2012"]
    assert pieces["online"].results["cbt"].k == 1


def test_claim1_never_lumps_control_classes(pieces, ds):
    controls = set(ds.protocol.control_classes)
    for an in pieces["control"].values():
        assert set(an.groups) <= controls
        for g in an.groups:  # one class per cell
            assert set(an.effects.loc[an.effects[an.by] == g, "comparator_class"]) == {g}
    names = {f"PDT vs {COMPARATOR_NAMES[c]}" for c in controls}
    assert set(pieces["c1"]["comparison"]) <= names
    assert not pieces["c1"]["comparison"].str.contains("any control").any()


def test_claim1_names_untested_conditions_with_the_notes_trials(pieces):
    un = pieces["un"].set_index("claimed")
    assert {"substance use disorders", "interpersonal problems"} <= set(un.index)
    subst = un.loc["substance use disorders", "named_in_notes"]
    assert "Crits-Christoph 1999" in subst and "Woody 1984" in subst
    assert "depression" not in un.index


def test_claim2_rows_are_tost_and_posterior_of_the_library(pieces, ds):
    from evidence.meta.bayes import bayes_pool
    from evidence.meta.comparisons import equivalence_test
    from evidence.review.small_cells import rule_prior

    t = pieces["c2"]
    row = t[t["scope"] == "all conditions pooled"].iloc[0]
    r = pieces["pooled"].results["cbt"]
    eq = equivalence_test(r, margin=ds.protocol.equivalence_margin)
    assert row["ci90_low"] == eq.ci_low and row["p_tost"] == eq.pvalue
    post = bayes_pool(r.yi, r.vi, tau_prior=rule_prior("SMD"))
    assert row["p_within_margin"] == pytest.approx(post.prob_equivalent(0.25), abs=1e-12)
    assert 0 < row["p_within_margin"] < 1
    net = t[t["source"].str.startswith("network")]
    assert len(net) == 2 and net["p_within_margin"].isna().all()


def test_dose_regression_is_a_direct_meta_regression_call(pieces):
    from evidence.meta.regression import meta_regression

    d = pieces["dose"]
    ok = d["sessions"].notna()
    mods = {
        "sessions": d.loc[ok, "sessions"].to_numpy(),
        "condition": d.loc[ok, "condition"].to_numpy(),
        "control class": d.loc[ok, "comparator_class"].to_numpy(),
    }
    direct = meta_regression(d.loc[ok, "yi"], d.loc[ok, "vi"], mods, method="REML", test="knha")
    fit = pieces["fit"]
    assert fit.names == direct.names
    np.testing.assert_allclose(fit.coef, direct.coef, rtol=0, atol=1e-12)
    assert fit.k == int(ok.sum()) == pieces["c4"]["k"]
    assert set(d["comparator_class"]) <= {
        "usual_care",
        "placebo_attention",
        "other_control",
        "waitlist",
    }


def test_dose_regression_names_a_missing_moderator(pieces):
    with pytest.raises(ValueError, match="'dose'"):
        claims.dose_regression(pieces["dose"], "dose")


def test_claims_table_one_row_per_claim_with_an_allowed_certainty(pieces):
    t = pieces["table"]
    assert list(t.index) == [1, 2, 3, 4]
    assert t["certainty"].isin(LEVELS).all()
    assert (t["verdict"].str.len() > 0).all()
    # the verdicts quote certainty.verdict's sentences
    assert pieces["c4"]["verdict"] == t.loc[4, "verdict"]
    pooled = pieces["c2"].query("scope == 'all conditions pooled'").iloc[0]
    assert pooled["verdict"] in t.loc[2, "verdict"]
    assert "Andersson 2012" in t.loc[3, "trials"]


def test_dose_plot_is_one_point_per_comparison_with_a_session_count(pieces):
    import matplotlib.pyplot as plt

    fig = claims.dose_plot(pieces["dose"], pieces["fit"])
    ax = fig.axes[0]
    n = sum(len(c.get_offsets()) for c in ax.collections)
    assert n == int(pieces["dose"]["sessions"].notna().sum())
    plt.close(fig)


def test_question_reads_the_protocol(ds):
    text = claims.question(ds.protocol, 1)
    assert "waitlist" in text and "usual care" in text and 'never "vs control"' in text
    with pytest.raises(ValueError, match="claim must be"):
        claims.question(ds.protocol, 5)


def test_claim3_without_a_direct_trial_reads_the_networks(pieces):
    from evidence.review.claims.table import _claim3

    text, certainty, trials = _claim3(pd.DataFrame(), pieces["c3n"])
    assert text.startswith("No trial randomizes")
    assert "Generalized anxiety disorder network:" in text
    assert "psyctr" not in text  # the networks are named as readers know them
    assert certainty in LEVELS and trials == "0"


def test_format_network_verdicts_name_internet_pdt(pieces):
    """The format-split network's verdicts are about internet PDT, and say so."""
    verdicts = pieces["c3n"]["verdict"].dropna()
    assert len(verdicts) > 0
    assert all("internet PDT" in v or "Internet PDT" in v for v in verdicts)
