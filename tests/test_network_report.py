"""Network sections (evidence.review.network_report): data preparation, honesty rules, overview."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evidence.meta.dependence import aggregate_effects
from evidence.meta.effects import effect_sizes
from evidence.review.network_data import load_network
from evidence.review.network_report import (
    fit_network,
    network_effects,
    network_report,
    overview_statements,
    pdt_vs_cbt_overview,
)
from evidence.review.network_report.fits import _contrasts

# closed-form aggregation and effect sizes reproduce to rounding error
TOL = 1e-10


@pytest.fixture(scope="module")
def net() -> pd.DataFrame:
    return load_network()


@pytest.fixture(scope="module")
def sad(net):
    return network_report(net, "sad-psyctr")


def test_effects_are_the_aggregated_oriented_row_effects(net):
    """One effect per study and node pair = aggregate_effects of the oriented row g's."""
    rows = net[(net["study"] == "Leichsenring, 2013") & (net["database"] == "sad-psyctr")]
    rows = rows[(rows["timepoint"] == "post") & (rows["node1"] == "pdt")]
    es = effect_sizes(
        "SMD",
        m1=rows["mean1"], sd1=rows["sd1"], n1=rows["n1"],
        m2=rows["mean2"], sd2=rows["sd2"], n2=rows["n2"],
    )  # fmt: skip
    sign = np.where(rows["higher_is_better"].astype(bool), 1.0, -1.0)
    want = aggregate_effects(sign * es["yi"], es["vi"], ["x"] * len(rows), rho=0.5)
    eff = network_effects(rows)
    assert len(eff) == 1 and eff["node_a"].iloc[0] == "pdt"
    assert eff["yi"].iloc[0] == pytest.approx(want["yi"].iloc[0], abs=TOL)
    assert eff["vi"].iloc[0] == pytest.approx(want["vi"].iloc[0], abs=TOL)


def test_node_pairs_are_ordered_and_turned(net):
    eff = network_effects(net[net["database"] == "panic-psyctr"])
    from evidence.review.network_data import NODES

    order = {n: i for i, n in enumerate(NODES)}
    assert (eff["node_a"].map(order) < eff["node_b"].map(order)).all()
    assert not eff.duplicated(["study_id", "node_a", "node_b"]).any()


def test_multi_arm_covariance_is_positive_definite_and_a_tree(net):
    eff = network_effects(net[net["database"] == "depression-psyctr"])
    kept, cov, dropped = _contrasts(eff, "SMD")
    assert np.allclose(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() > 0
    # a spanning tree: a study with a arms has a - 1 contrasts
    for _sid, g in kept.groupby("study_id"):
        assert len(g) == len(set(g["node_a"]) | set(g["node_b"])) - 1
    # a shared arm gives a positive correlation near 1/2 for equal arms
    multi = kept[kept.duplicated("study_id", keep=False)]
    assert len(multi) > 20


def test_reference_is_waitlist_or_usual_care(net, sad):
    assert sad.reference == "waitlist"
    bpd = network_report(net, "borderline-psyctr")
    assert bpd.reference == "usual_care"  # no waitlist arm in the borderline network
    assert "reference usual care" in bpd.summary()  # the node by its name, as readers see it


def test_every_network_estimate_carries_direct_trials_and_inconsistency(sad):
    """Honesty rule: the PDT table has k_direct for every node, the summary the random-effects
    global test (the common-effect Q between designs only as a description), the direct share
    and the direct-vs-indirect test, and a prediction interval."""
    t = sad.to_frame()
    assert t["k_direct"].notna().all() and set(t["node"]) == set(sad.result.treatments) - {"pdt"}
    assert (t["pi_low"] <= t["ci_low"]).all() and (t["pi_high"] >= t["ci_high"]).all()
    s = sad.summary()
    assert "random-effects design-by-treatment test chi2(" in s and "descriptive only" in s
    assert "direct vs indirect p =" in s and "prediction interval" in s
    assert "1 head-to-head trial" in s and "% of the network estimate's precision is direct" in s
    assert "ranks are uncertain" in s
    c = sad.pdt_cbt.iloc[0]
    assert c.k_direct == 1 and np.isfinite(c.indirect) and np.isfinite(c.global_p)
    # network estimate = league cell PDT vs CBT
    lg = sad.result.league()
    cell = lg[(lg["treat1"] == "pdt") & (lg["treat2"] == "cbt")]["estimate"].iloc[0]
    assert c.network == pytest.approx(cell, abs=TOL)


def test_no_direct_evidence_is_said(net):
    rep = network_report(net, "panic-psyctr")
    assert int(rep.pdt_cbt["k_direct"].iloc[0]) == 0
    assert "no head-to-head trial" in rep.summary()


def test_fragile_link_gets_leave_one_out(net):
    """gad-psyctr: PDT (Andersson 2012) reaches the network only through waitlist."""
    rep = network_report(net, "gad-psyctr")
    assert rep.fragile
    assert list(rep.leave_one_out["left_out"]) == ["Andersson, 2012"]
    assert rep.leave_one_out["note"].iloc[0] == "PDT not in this network"
    assert "Fragile" in rep.summary()
    assert not network_report(net, "sad-psyctr").fragile  # three PDT trials


def test_sensitivity_scenarios_drop_what_they_say(net, sad):
    s = sad.sensitivity.set_index("scenario")
    assert s.loc["all trials", "studies"] == sad.result.k
    eff = network_effects(net[net["database"] == "sad-psyctr"])
    wl = eff.loc[(eff["node_a"] == "waitlist") | (eff["node_b"] == "waitlist"), "study_id"]
    assert s.loc["without waitlist-controlled trials", "studies"] == (
        eff["study_id"].nunique() - wl.nunique()
    )


def test_overview_direct_is_pairwise_of_direct_trials(net):
    tab = pdt_vs_cbt_overview()
    assert set(tab["database"]) == set(net["database"])
    ed = tab[tab["database"] == "ed-psyctr"].iloc[0]
    assert ed.measure == "OR" and ed.k_direct == 2
    assert np.isfinite(ed.direct) and np.isfinite(ed.network)
    none = tab[tab["k_direct"] == 0]
    assert (none["agreement"].str.startswith("no direct evidence")).all()
    assert tab["direct"].isna().sum() >= len(none)


def test_fit_without_pdt_returns_none(net):
    eff = network_effects(net[net["database"] == "bodily-distress-psyctr"])
    res, kept, dropped = fit_network(eff)
    assert res is None and kept.empty


def test_statements_name_direct_trials_and_inconsistency():
    tab = pdt_vs_cbt_overview()
    text = overview_statements(tab)
    lines = text.splitlines()
    assert len(lines) == len(tab)
    for r, line in zip(tab.itertuples(), lines, strict=True):
        if np.isfinite(getattr(r, "network", np.nan)):
            assert "inconsistency" in line, line
            assert ("no direct trial" in line) == (r.k_direct == 0), line
            if r.k_direct > 0:  # what the network adds is computed from the direct share
                share = f"{100 * r.direct_share:.0f}% of its precision"
                nothing = "adds practically nothing"
                assert (share in line) != (nothing in line), line
                assert (nothing in line) == (r.direct_share >= 0.995), line


def test_direct_is_the_head_to_head_trial_where_pdt_sits_in_one_three_arm_trial(net):
    """GAD and PTSD: PDT is in one trial with CBT and waitlist. The direct column holds that
    trial's PDT vs CBT contrast (not the network value), the indirect one is back-calculated."""
    for db, direct in (("gad-psyctr", -0.05), ("ptsd-psyctr", -0.17)):
        rep = network_report(net, db)
        c = rep.pdt_cbt.iloc[0]
        assert round(c.direct, 2) == direct and abs(c.direct - c.network) > 0.05, db
        assert c.indirect_method == "back-calculation" and 0 < c.direct_share < 1, db


def test_pdt_forest_is_byte_stable(sad, tmp_path):
    import matplotlib.pyplot as plt

    from evidence.io import save_figure
    from evidence.review.network_report.section import _pdt_forest

    out = []
    for i in range(2):
        ax = _pdt_forest(sad)
        path = tmp_path / f"f{i}.svg"
        save_figure(ax.figure, path)
        plt.close(ax.figure)
        out.append(path.read_bytes())
    assert out[0] == out[1]


def test_low_risk_of_bias_rule():
    from evidence.review.network_report.fits import _low_rob

    rob = pd.Series(["4", "3", "low", "Low", "low risk", "some concerns", "", "High"])
    assert _low_rob(rob).tolist() == [True, False, True, True, True, False, False, False]


def test_league_row_and_column_of_pdt(sad):
    lg = sad.league_pdt
    assert "pdt" not in lg.index and set(lg.index) == set(sad.result.treatments) - {"pdt"}
    assert (lg["k_direct"] == sad.pdt_table.set_index("node")["k_direct"].reindex(lg.index)).all()
    # the row is PDT vs node, the column its mirror image
    row = lg.loc["cbt", "PDT vs node (PDT's row)"]
    est = float(row.split()[0])
    assert est == pytest.approx(sad.pdt_cbt["network"].iloc[0], abs=0.005)


def test_graph_and_forest_name_nodes_for_readers():
    """Figures say 'usual care' and 'PDT', not the node ids 'usual_care' and 'pdt'."""
    import matplotlib.pyplot as plt

    from evidence.review.network_data import NODE_NAMES, NODES
    from evidence.review.network_report import condition_networks
    from evidence.review.network_report.section import _pdt_forest

    assert set(NODES) <= set(NODE_NAMES)
    rep = next(r for r in condition_networks("depression") if r.result is not None)
    ax = rep.result.network_plot(labels=NODE_NAMES)
    names = {t.get_text() for t in ax.texts if t.get_gid() == "node-label"}
    assert {"PDT", "CBT", "usual care", "waitlist"} <= names
    assert not any("_" in n for n in names)
    fig = _pdt_forest(rep)
    texts = {t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))}
    assert "usual care" in texts and "usual_care" not in texts
    plt.close("all")


def test_every_network_section_has_the_suspect_and_add_on_scenarios(net):
    """Issue 21: the network sections get the pairwise pages' scenarios: without suspect rows
    (Bateman 2009 IIP, Heshmati 2023 WAI-d, Scheidt 2013 ...) and without add-on designs
    (PDT + usual care vs usual care); where no row is dropped, the row says so."""
    dep = network_report(net, "depression-psyctr").sensitivity.set_index("scenario")
    panic = network_report(net, "panic-psyctr").sensitivity.set_index("scenario")
    for s in (dep, panic):
        assert {"without suspect rows", "without add-on designs (PDT + X vs X)"} <= set(s.index)
    assert dep.loc["without suspect rows", "pdt_trials"] < dep.loc["all trials", "pdt_trials"]
    addon = "without add-on designs (PDT + X vs X)"
    assert panic.loc[addon, "pdt_trials"] == panic.loc["all trials", "pdt_trials"] - 1
    assert panic.loc["without suspect rows", "note"] == (
        "no row of this network is dropped by this rule"
    )


def test_every_network_estimate_of_pdt_carries_its_cinema_confidence(net):
    """Issue 24: CINeMA for every network estimate the pages show, with domain reasons; the
    level is the number of levels taken off, and the contribution matrix weights the risk of
    bias (every row of it sums to 1)."""
    from evidence.review.network_report.cinema import CINEMA_DOMAINS

    rep = network_report(net, "sad-psyctr")
    t = rep.to_frame()
    assert t["cinema"].isin(["high", "moderate", "low", "very low"]).all()
    cbt = t.set_index("node").loc["cbt"]
    assert cbt["cinema"] == "very low"
    assert "within-study bias" in cbt["cinema_reasons"] and "imprecision" in cbt["cinema_reasons"]
    assert all(d in CINEMA_DOMAINS for d in ("within-study bias", "incoherence"))
    contrib = rep.result.contribution()
    np.testing.assert_allclose(contrib.sum(axis=1), 1.0, atol=1e-10)
    assert rep.pdt_cbt["cinema"].iloc[0] == "very low"
    assert rep.pdt_vs("cbt").endswith("CINeMA confidence: very low.")


def test_cinema_indirectness_weights_add_on_designs_by_their_contribution(net):
    """Issue 24: indirectness is rated, not "not rated". Panic: PDT vs usual care rests mostly
    on Wiborg 1996 (PDT + clomipramine vs clomipramine, an add-on design): more than half of
    its contribution is indirect, one level off. Social anxiety has no add-on design: none off,
    and the reason says so. Depression inpatients: the only PDT trial (Roten 2017) is add-on:
    100%."""
    from evidence.review.network_report.cinema import _edge_share, _indirectness, cinema_table
    from evidence.review.protocol import load_protocol

    protocol = load_protocol()
    rules = protocol.grade
    panic = network_report(net, "panic-psyctr")
    assert panic.contrasts["add_on"].sum() == 1  # one study contrast of the network
    row = cinema_table(panic, protocol).set_index("node").loc["usual_care"]
    assert "indirectness: " in row["cinema_reasons"]
    share = float(row["cinema_reasons"].split("indirectness: ")[1].split("%")[0]) / 100
    # the same share by hand: contribution of each edge x its share of add-on contrasts
    contrib = panic.result.contribution()
    key = next(k for k in ("pdt vs usual_care", "usual_care vs pdt") if k in contrib.index)
    edges = _edge_share(panic.contrasts.assign(add_on=panic.contrasts["add_on"]), "add_on")
    by_hand = sum(contrib.loc[key, e] * edges.get(e, 0.0) for e in contrib.columns)
    assert share == pytest.approx(by_hand, abs=0.005) and by_hand > rules["cinema_indirect_share"]
    inpat = cinema_table(network_report(net, "depression-inpatients"), protocol)
    assert (
        "indirectness: 100% of the contributing evidence from add-on designs"
        in (inpat.set_index("node").loc["usual_care", "cinema_reasons"])
    )
    sad = network_report(net, "sad-psyctr")
    assert not sad.contrasts["add_on"].any()
    assert not cinema_table(sad, protocol)["cinema_reasons"].str.contains("indirectness").any()
    # the threshold, case by case: above it one level off, at or below it none (stated)
    e = pd.Series({"pdt vs x": 1.0, "y vs x": 0.0})
    assert _indirectness(pd.Series({"pdt vs x": 0.51, "y vs x": 0.49}), e, rules)[0] == 1
    off, why = _indirectness(pd.Series({"pdt vs x": 0.5, "y vs x": 0.5}), e, rules)
    assert off == 0 and why.startswith("50% of the contributing evidence from add-on designs")
    off, why = _indirectness(pd.Series({"pdt vs x": 0.0, "y vs x": 1.0}), e, rules)
    assert (off, why) == (0, "no add-on designs in the contributing evidence")
