"""evidence.review: aggregation, grouped analyses, statements and deterministic tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evidence as ev
import evidence.review.data
from evidence import review
from evidence.meta.dependence import aggregate_effects


@pytest.fixture(scope="module")
def data():
    return evidence.review.data.load()


def test_comparison_effects_aggregates_each_comparison_once(data):
    rows = data.outcomes[
        (data.outcomes["measure"] == "SMD") & (data.outcomes["timepoint"] == "post")
    ]
    eff = review.comparison_effects(data.outcomes, rho=0.5)
    assert eff["cluster_id"].is_unique
    assert set(eff["cluster_id"]) == set(rows["comparison_id"])
    assert eff["n_effects"].sum() == len(rows)
    multi = eff[eff["n_effects"] > 1].iloc[0]
    sub = rows[rows["comparison_id"] == multi["cluster_id"]]
    want = aggregate_effects(sub["yi"], sub["vi"], sub["comparison_id"], rho=0.5)
    assert multi["yi"] == pytest.approx(want["yi"].iloc[0], abs=1e-12)
    assert multi["vi"] == pytest.approx(want["vi"].iloc[0], abs=1e-12)


def test_rho_changes_aggregated_variance(data):
    lo = review.comparison_effects(data.outcomes, rho=0.0).set_index("cluster_id")
    hi = review.comparison_effects(data.outcomes, rho=0.9).set_index("cluster_id")
    multi = lo.index[lo["n_effects"] > 1]
    assert (hi.loc[multi, "vi"] > lo.loc[multi, "vi"]).all()
    single = lo.index[lo["n_effects"] == 1]
    np.testing.assert_allclose(hi.loc[single, "vi"], lo.loc[single, "vi"])


def test_analyse_pools_each_group_like_pool(data):
    an = review.analyse(data, "depression", method="DL", test="z")
    assert an.by_group is not None and len(an.groups) >= 2
    for g, res in an.results.items():
        sub = an.effects[an.effects["comparator_class"] == g]
        want = ev.pool(sub["yi"], sub["vi"], method="DL")
        assert res.k == len(sub) == sub["trial_id"].nunique()  # a trial counts once per group
        assert res.estimate == pytest.approx(want.estimate, abs=1e-12)
    table = an.table()
    assert list(table.index) == [review.COMPARATOR_NAMES[g] for g in an.groups]
    assert set(an.effects["condition"]) == {"depression"}


def test_analyse_by_condition_and_family_filter(data):
    an = review.analyse(
        data, "x", conditions=tuple(review.CONDITION_NAMES), comparators=("cbt",), by="condition"
    )
    assert set(an.effects["comparator_class"]) == {"cbt"}
    assert an.groups == tuple(dict.fromkeys(an.effects["condition"]))


def test_empty_selection_is_falsy_and_says_so(data):
    an = review.analyse(data, "none", conditions=("no_such_condition",))
    assert not an and an.groups == ()
    assert "No usable" in an.statements()
    with pytest.raises(ValueError, match="nothing to plot"):
        an.forest(save=False)
    assert "No usable comparisons" in review.overview_text({})


def test_describe_wording_follows_the_numbers():
    pos = ev.pool([0.5, 0.6, 0.4], [0.01, 0.02, 0.015], method="DL")
    text = review.describe(pos, comparator="waitlist")
    assert "3 trial comparisons" in text and "PDT did better than waitlist" in text
    assert "fewer than five" in text
    neg = ev.pool([-0.5, -0.6, -0.4, -0.5, -0.55], [0.01] * 5, method="DL")
    assert "waitlist did better than PDT" in review.describe(neg, comparator="waitlist")
    null = ev.pool([0.3, -0.3, 0.2, -0.2, 0.0, 0.1], [0.04] * 6, method="DL")
    text = review.describe(null)
    assert "do not show a difference" in text and "fewer than five" not in text


def test_statements_state_the_summary_table_verdict_not_their_own_reading(data):
    """Each paragraph of Analysis.statements() ends in the certainty code's verdict. Social
    anxiety vs waitlist (k = 3): the KH CI excludes 0, but the protocol's prior set does not,
    so the verdict is open (before: "on average PDT did better than waitlist" beside an open
    summary table); the one CBT trial is "the one trial", not "on average"."""
    from evidence.review.certainty import certainty_table

    analyses = review.condition_analyses(data, "anxiety")
    table = certainty_table(analyses, data.protocol, margin=data.protocol.equivalence_margin)
    for akey, an in analyses.items():
        text = an.statements()
        rows = table[table["analysis"] == akey]
        for r in rows.itertuples():
            para = next(p for p in text.split("\n\n") if p.startswith(f"**{r.comparison}.**"))
            assert f"Verdict: {r.verdict}" in para, (akey, r.comparison)
            assert "did better" not in para.replace(r.verdict, ""), (akey, r.comparison)
    soc = analyses["social anxiety disorder: SMD post"].statements()
    assert "on average PDT did better than waitlist" not in soc
    assert "these trials" not in soc


def test_describe_words_a_single_trial_as_the_one_trial():
    one = ev.pool([0.1], [0.04], measure="SMD")
    text = review.describe(one, comparator="CBT")
    assert "the one trial does not show" in text and "these trials" not in text
    neg = ev.pool([-0.4], [0.01], measure="SMD")
    text = review.describe(neg, comparator="CBT")
    assert "CBT did better than PDT in the one trial" in text and "on average" not in text


def test_describe_words_a_harmful_event_as_the_forest_shows_it():
    """reverse=True: the natural PDT-vs-comparator OR (exp(-yi)), CI ends swapped; the verdict
    still follows the data orientation (positive yi = fewer events with PDT)."""
    res = ev.pool([1.6, 1.2, 0.9], [0.2, 0.3, 0.25], measure="OR", method="DL")
    text = review.describe(res, effect="OR", reverse=True)
    assert f"pooled OR = {np.exp(-res.estimate):.2f}" in text
    assert f"95% CI {np.exp(-res.ci_high):.2f} to {np.exp(-res.ci_low):.2f}" in text
    assert "excludes 1: on average PDT did better" in text
    one = ev.pool([0.3], [0.04], measure="SMD")
    assert "pooled" not in review.describe(one)


def test_moderators_report_what_cannot_be_estimated(data):
    an = review.analyse(data, "ptsd")
    mods = an.moderators()
    assert set(mods.index) == {"treatment length", "internet delivery", "risk of bias"}
    assert mods["note"].str.startswith("not estimable").all()


def test_save_table_is_byte_stable(tmp_path):
    frame = pd.DataFrame({"a": [1 / 3, 2 / 3], "b": ["x", "y"]})
    p1 = review.save_table(frame, "t", root=tmp_path)
    first = p1.read_bytes()
    review.save_table(frame, "t", root=tmp_path)
    assert p1.read_bytes() == first and b"\r" not in first
    assert first.splitlines()[1] == b"0,0.333333,x"


def test_reference_comparison_is_within_promise():
    table = review.reference_comparison()
    assert len(table) == 8 * 9 * 3
    assert table["max_abs_diff"].max() < 1e-6


def test_forest_by_comparator_never_pools_across_comparators(data):
    import matplotlib.pyplot as plt

    an = review.analyse(data, "depression")
    ax = an.forest(save=False)
    gids = {a.get_gid() for a in [*ax.patches, *ax.lines, *ax.collections, *ax.texts]}
    assert "diamond-overall" not in gids and "prediction-interval" not in gids
    assert {f"diamond-subgroup-{j}" for j in range(len(an.groups))} <= gids
    for j, res in enumerate(an.results.values()):  # each subgroup names its own PI
        assert (f"prediction-interval-{j}" in gids) == (res.k > 1)
    note = next(
        t.get_text()
        for t in ax.figure.findobj()
        if getattr(t, "get_gid", None) and t.get_gid() == "footnote"
    )
    if an.shared_trials():
        assert "shared PDT arm" in note.replace("\xa0", " ")
    plt.close(ax.figure)


def test_no_trial_counts_twice_within_a_group(data):
    analyses = [
        review.analyse(data, key, measure=m)
        for key in review.CONDITION_GROUPS
        for m in ("SMD", "OR")
    ]
    analyses += list(review.headline(data).values())
    checked = 0
    for an in analyses:
        if an:
            assert not an.effects.duplicated(["trial_id", an.by]).any(), an.name
            checked += len(an.effects)
    assert checked > 50
    # a trial with two PDT arms against one waitlist is one aggregated row, not two
    multi = [an for an in analyses if (an.effects.get("n_comparisons", pd.Series()) > 1).any()]
    assert multi


def test_trim_and_fill_funnel_draws_imputed_studies_open():
    import matplotlib.pyplot as plt

    y = [0.1, 0.3, 0.35, 0.65, 0.45, 0.15, 0.8, 0.9]
    v = [0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.09, 0.1]
    tf = ev.trim_and_fill(y, v)
    assert tf.k0 >= 1
    ax = tf.funnel_plot()
    gids = {c.get_gid(): c for c in ax.collections}
    assert len(gids["funnel-studies"].get_offsets()) == len(y)
    assert len(gids["funnel-filled"].get_offsets()) == tf.k0
    plt.close(ax.figure)


def test_risk_of_bias_moderator_uses_the_harmonised_three_level_scale(data):
    """Sources rate risk of bias as RoB 1 scores (depression, 0-4 criteria) or RoB 2 labels in
    five spellings ("High", "high risk", "Some concerns", "some concerns", "Low"); the
    moderator takes them on one three-level scale. Before: anxiety (all its conditions, k = 7)
    had five levels and a rank-deficient design, and PDT vs usual care (scores and labels)
    was "not estimable: different scales"."""
    from evidence.review.certainty import harmonised_rob

    three = {"low", "some concerns", "high"}
    for an in (review.analyse(data, "anxiety"), review.headline(data)["usual_care"]):
        row = an.moderators().loc["risk of bias"]
        assert row["levels"] == "high (reference), low, some concerns", an.name
        assert row["k"] >= 6 and np.isfinite(row["pvalue"]) and row["test"].startswith("F(2, ")
        assert not row["note"].startswith("not estimable")
    e = review.analyse(data, "anxiety").effects
    mod = review.multiplicity.moderator_candidates(e, data.protocol.grade)["risk of bias"]
    assert set(mod.dropna()) <= three
    assert mod.tolist() == [harmonised_rob(v, data.protocol.grade) for v in e["rob"]]
    # not rated stays not rated (NA), it is not imputed as "some concerns" in a regression
    blank = e.assign(rob=[""] + list(e["rob"].iloc[1:]))
    assert pd.isna(review.multiplicity.moderator_candidates(blank)["risk of bias"].iloc[0])


#: The report's modules in the order the data flows through them (issue 11).
REPORT_FLOW = (
    "vocabulary",
    "selection",
    "analysis",
    "condition",
    "followups",
    "wording",
    "output",
    "display",
)


def test_report_modules_are_small_and_the_data_flows_one_way():
    """Each report module of the review under 300 lines; each imports only report modules earlier
    in the flow."""
    import ast

    root = Path(review.__file__).parent
    assert set(REPORT_FLOW) <= {p.stem for p in root.glob("*.py")}
    for i, name in enumerate(REPORT_FLOW):
        path = root / f"{name}.py"
        assert len(path.read_text().splitlines()) < 300, name
        imported = {
            node.module.removeprefix("evidence.review.")
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom)
            and node.module
            and (node.level == 1 or node.module.startswith("evidence.review."))
        }
        flow = imported & set(REPORT_FLOW)
        assert flow <= set(REPORT_FLOW[:i]), (name, flow - set(REPORT_FLOW[:i]))


def test_every_public_name_is_importable_from_evidence_review():
    for name in review.__all__:
        assert getattr(review, name) is not None
    an = review.Analysis
    assert an.forest is review.forest and an.statements is review.statements


def test_conclusion_is_written_from_the_numbers(data):
    """Self-harm: Walker 2016 (suicidal behaviour, one trial) fewer events with PDT: the
    verdict is that trial's, not 'these trials', and it is the summary table's sentence."""
    from evidence.review.certainty import certainty_table

    analyses = review.condition_analyses(data, "self_harm")
    text = review.conclusion(analyses, "self_harm")
    assert text.startswith("**Self-harm and suicidality.**")
    r = analyses["OR post"].results["other_control"]
    assert r.k == 1 and r.ci_low > 0  # the trial's CI excludes no effect, favouring PDT
    table = certainty_table(analyses, data.protocol, margin=data.protocol.equivalence_margin)
    row = table[(table["analysis"] == "OR post") & (table["comparison"] == "PDT vs other control")]
    verdict = row["verdict"].iloc[0]
    assert verdict.startswith("PDT did better than other control in the one trial")
    assert verdict in text and "these trials" not in text


def test_conclusion_judges_small_cells_by_every_prior_of_the_set(data):
    """2 to 4 trials: the widest credible interval over the protocol's prior set decides
    (depression waitlist, k = 3: excludes 0 under every prior; CBT, k = 2: open); k >= 5 keeps
    the CI (usual care, k = 6)."""
    from evidence.review.certainty import PRIOR_SET, interval

    analyses = review.condition_analyses(data, "depression")
    an = analyses["SMD post"]
    text = review.conclusion(analyses, "depression")
    low, high, read = interval(an, "waitlist", data.protocol)
    assert read.startswith("widest CrI") and low > 0 and len(PRIOR_SET) >= 4
    assert "PDT did better than waitlist (" in text
    assert "whether PDT or CBT is better" in text
    r = an.results["usual_care"]
    assert interval(an, "usual_care", data.protocol) == (r.ci_low, r.ci_high, "CI")


def test_single_trial_rows_have_no_tau2_and_no_prediction_interval(data):
    """k = 1: the table leaves tau^2 and the PI missing (metafor's tau^2 = 0 and PI = CI are
    kept in the result object); groups with k >= 2 keep theirs."""
    an = review.condition_analyses(data, "ptsd")["SMD post"]
    t = an.table()
    single = t[t["k"] == 1]
    assert len(single) >= 1
    assert single[["pi_low", "pi_high", "tau2"]].isna().all().all()
    r = an.results["cbt"]
    assert r.k == 1 and r.pi_low == r.ci_low and r.tau2 == 0.0
    several = review.condition_analyses(data, "depression")["SMD post"].table()
    assert several.loc[several["k"] >= 2, ["pi_low", "pi_high", "tau2"]].notna().all().all()


def test_condition_forests_show_the_bayesian_estimate_of_small_groups_only(data):
    """The small-cell rule in the main forest: groups with k < 5 get a hollow diamond at the
    same posterior as the Bayesian table; larger groups do not."""
    import matplotlib.pyplot as plt

    from evidence.review.bayes_report import cell_table
    from evidence.review.small_cells import SMALL_K

    an = review.condition_analyses(data, "depression")["SMD post"]
    ax = review.forest(an, save=False)
    try:
        bayes = {p.get_gid(): p.get_xy() for p in ax.patches if "bayes" in (p.get_gid() or "")}
        t = cell_table(an)
        small = [i for i, g in enumerate(an.results) if an.results[g].k < SMALL_K]
        assert sorted(bayes) == sorted(f"diamond-bayes-{i}" for i in small) and small
        for i in small:
            name = an._name(list(an.results)[i])
            assert bayes[f"diamond-bayes-{i}"][1, 0] == pytest.approx(t.loc[name, "bayes_median"])
        foot = next(x for x in ax.texts if x.get_gid() == "footnote").get_text()
        assert f"fewer than {SMALL_K} trials" in foot.replace("\n", " ")
    finally:
        plt.close("all")
