"""The small-cell Bayesian rule as the notebooks show it (evidence.review.bayes_report)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from evidence.meta.bayes import bayes_pool, make_prior
from evidence.meta.pooling import pool
from evidence.review import COMPARATOR_NAMES, analyse, condition_analyses, headline
from evidence.review import bayes_report as br
from evidence.review.data import load

#: Quadrature (evidence.meta.bayes, 1e-10 against R) against scipy's adaptive quad of the same
#: integral.
QUAD_TOL = 1e-4


@pytest.fixture(scope="module")
def data():
    return load()


def test_rule_priors_and_rule_text():
    assert br.rule_prior("SMD").label == "half-normal(scale = 0.5)"
    # the OR prior is the SMD prior carried over with g = ln(OR) sqrt(3) / pi
    assert br.rule_prior("OR").scale * np.sqrt(3) / np.pi == pytest.approx(0.5, abs=1e-15)
    for m in ("SMD", "OR"):
        assert br.rule_prior(m).label in br.RULE_TEXT
        assert br.rule_prior(m).label in br.footnote(m)
    assert f"fewer than {br.SMALL_K}" in br.RULE_TEXT
    with pytest.raises(ValueError, match="'MD'"):
        br.rule_prior("MD")


def test_headline_switches_at_five(data):
    t = br.cell_table(condition_analyses(data, "depression")["SMD post"])
    assert (t["headline"] == "Bayesian").tolist() == (t["k"] < 5).tolist()
    assert set(t["headline"]) == {"Bayesian", "REML + Knapp-Hartung"}  # both kinds present
    text = br.statements(condition_analyses(data, "depression")["SMD post"])
    assert "**PDT vs CBT.**" in text and "**PDT vs usual care.**" not in text  # k = 7
    assert "usual care" in text.split("\n\n")[-1]  # listed as keeping its REML statement


def test_orientation_smd(data):
    """Positive g favours PDT: P(PDT better) = P(mu > 0), and it follows the estimate."""
    an = condition_analyses(data, "anxiety")["social anxiety disorder: SMD post"]
    t = br.cell_table(an)
    r = an.results["waitlist"]
    b = bayes_pool(r.yi, r.vi, tau_prior=br.rule_prior("SMD"))
    assert t.loc["waitlist", "p_pdt_better"] == pytest.approx(b.prob(lower=0.0), abs=1e-12)
    assert t.loc["waitlist", "bayes_median"] > 0 and t.loc["waitlist", "p_pdt_better"] > 0.5
    assert t.loc["CBT", "bayes_median"] < 0 and t.loc["CBT", "p_pdt_better"] < 0.5


def test_orientation_or_bulimia_favours_cbt(data):
    """Poulsen 2014 favours CBT on abstinence (data/README): OR < 1, P(PDT better) < 1/2.
    It is the one trial of the protocol's construct (Stefini 2017 reports remission, another
    construct). The ORs are shown as ratios; P(PDT better) is P(log OR > 0) = P(OR > 1).
    """
    an = condition_analyses(data, "eating")["bulimia nervosa: OR post"]
    t = br.cell_table(an)
    row = t.loc["CBT"]
    assert row["bayes_median"] < 1 and row["p_pdt_better"] < 0.5
    r = an.results["cbt"]
    b = bayes_pool(r.yi, r.vi, tau_prior=br.rule_prior("OR"))
    assert row["bayes_ci_low"] == pytest.approx(np.exp(b.mu_ci_low), rel=1e-12)
    assert row["reml_estimate"] == pytest.approx(np.exp(r.estimate), rel=1e-12)
    assert row["p_pdt_better"] == pytest.approx(1 - float(b.cdf(0.0)[0]), abs=1e-12)
    assert row["k"] == 1
    text = br.statements(an)
    assert f"PDT did better than CBT on average is {100 * row['p_pdt_better']:.0f}%" in text


@pytest.mark.parametrize(
    ("key", "measure", "group"),
    [
        ("eating", "bulimia nervosa: OR post", "cbt"),  # Poulsen 2014, k = 1
        ("depression", "OR post", "usual_care"),  # remission, k = 2
        ("anxiety", "panic disorder: SMD post", "add_on"),  # Wiborg 1996 (PDT + clomipramine)
    ],
)
def test_eating_and_panic_cells_finite(data, key, measure, group):
    an = condition_analyses(data, key)[measure]
    t = br.cell_table(an)
    row = t.loc[an._name(group)]
    lo, hi = row["bayes_ci_low"], row["bayes_ci_high"]
    assert np.isfinite([lo, hi, row["bayes_pi_low"], row["bayes_pi_high"]]).all()
    assert lo < row["bayes_median"] < hi
    if "OR" in measure:  # interpretable: within two orders of magnitude of 1
        assert 1e-2 < lo and hi < 1e2
        if row["k"] == 2:  # with two trials REML + KH is uninformative, the Bayesian one is not
            assert row["reml_ci_high"] / row["reml_ci_low"] > 100 * hi / lo
    else:
        assert hi - lo < 3


def test_headline_cells_follow_the_protocol(data):
    """Panic appears only as an add-on design: its one trial with the target construct (Wiborg
    1996, PDT + clomipramine vs clomipramine) is a class of its own, and Martini 2011 reports
    CGI severity, another construct. Small headline cells are headlined by their Bayesian
    estimate."""
    families = headline(data)
    for family, an in families.items():
        t = br.cell_table(an)
        assert ("panic disorder" in t.index) == (family == "add_on"), family
        small = t[t["k"] < br.SMALL_K]
        assert (small["headline"] == "Bayesian").all() and len(small)
        assert np.isfinite(small[["bayes_ci_low", "bayes_ci_high"]].to_numpy()).all()


def test_sensitivity_table(data):
    cells = br.pdt_vs_cbt_cells(data)
    assert "bulimia nervosa, OR, post" in cells and "depression, SMD, post" in cells
    t = br.sensitivity_table(cells)
    assert (t.groupby(level="cell")["rule"].sum() == 1).all()  # the rule's prior, once per cell
    est = t[["estimate", "ci_low", "ci_high"]].to_numpy()
    # the rule's prior always gives finite limits (a half-Cauchy with k = 1 on the OR scale may not)
    assert np.isfinite(t.loc[t["rule"], ["estimate", "ci_low", "ci_high"]].to_numpy()).all()
    ok = np.isfinite(est).all(axis=1)
    assert (est[ok, 1] <= est[ok, 0]).all() and (est[ok, 0] <= est[ok, 2]).all()
    assert t.xs("REML + Knapp-Hartung", level="prior")["p_pdt_better"].isna().all()
    bul = t.loc["bulimia nervosa, OR, post"]
    assert bul.loc["REML + Knapp-Hartung", "estimate"] == pytest.approx(
        np.exp(cells["bulimia nervosa, OR, post"].estimate), rel=1e-12
    )
    assert any(i.startswith("turner_") for i in bul.index)
    assert any(i.startswith("rhodes_") for i in t.loc["depression, SMD, post"].index)


def test_sensitivity_table_gives_the_probability_within_the_margin(data):
    """ "As good as": P(|mu| < margin) under every prior of the table, the margin in g and
    carried over to log OR (x pi / sqrt 3) for odds ratios; NaN for REML. The other columns
    are those of the table without a margin."""
    cells = br.pdt_vs_cbt_cells(data)
    t = br.sensitivity_table(cells, margin=0.25)
    assert t.drop(columns="p_within_margin").equals(br.sensitivity_table(cells))
    assert t.xs("REML + Knapp-Hartung", level="prior")["p_within_margin"].isna().all()
    bayes = t.drop(index="REML + Knapp-Hartung", level="prior")["p_within_margin"]
    assert ((bayes >= 0) & (bayes <= 1)).all()
    for name, measure, prior in (
        ("depression, SMD, post", "SMD", "halfcauchy"),
        ("bulimia nervosa, OR, post", "OR", "halfnormal"),
    ):
        r = cells[name]
        b = bayes_pool(r.yi, r.vi, tau_prior=prior, tau_scale=1.0)
        m = 0.25 * (np.pi / np.sqrt(3) if measure == "OR" else 1.0)
        got = t.loc[(name, b.prior.label), "p_within_margin"]
        assert got == pytest.approx(b.prob(-m, m), abs=1e-12)
    # a wider prior on tau spreads mu: less probability within the margin (depression, k = 2)
    dep = t.loc["depression, SMD, post", "p_within_margin"]
    assert dep["half-normal(scale = 1)"] < dep["half-normal(scale = 0.5)"]


@pytest.mark.parametrize("prior", ["rhodes_any", "rhodes_mental_nonpharm", "halfcauchy"])
def test_single_trial_quantiles_heavy_tailed_priors(prior):
    """k = 1: mu | y is the prior mixture of N(y, v + tau^2); its quantiles once failed to
    converge (false position stalled on a bracket of 1e12 data scales)."""
    y, v = -0.346264, 0.007322
    p = make_prior(prior, 0.5)

    def dens(lt):
        return np.exp(p.logpdf(np.array([np.exp(lt)]))[0] + lt)

    def cdf(q):
        f = lambda lt: stats.norm.cdf((q - y) / np.sqrt(v + np.exp(2 * lt))) * dens(lt)  # noqa: E731
        return integrate.quad(f, -40, 40, limit=500)[0] / integrate.quad(dens, -40, 40)[0]

    lo = optimize.brentq(lambda q: cdf(q) - 0.025, y - 1e6, y)
    hi = optimize.brentq(lambda q: cdf(q) - 0.975, y, y + 1e6)
    b = bayes_pool([y], [v], tau_prior=p)
    assert b.mu_ci_low == pytest.approx(lo, rel=QUAD_TOL)
    assert b.mu_ci_high == pytest.approx(hi, rel=QUAD_TOL)
    r = pool([y], [v], method="REML", test="knha", measure="SMD")
    s = br.sensitivity_table({"x": r}).loc["x"]
    assert (s["ci_low"] < s["estimate"]).all() and (s["estimate"] < s["ci_high"]).all()


def test_analyse_cell_names_match_statement_heads(data):
    an = analyse(data, "x", conditions=("panic",), by="condition")
    text = br.statements(an, comparator="any comparator")
    assert text.startswith("**Panic disorder.**")


def test_cell_forest_draws_both_diamonds(data):
    import matplotlib.pyplot as plt

    from evidence.plots.bayes import cell_forest

    t = br.cell_table(condition_analyses(data, "eating")["bulimia nervosa: OR post"])
    ax = cell_forest(t, footnote=br.footnote("OR"))
    gids = {p.get_gid(): p for p in ax.patches}
    assert {"cell-0-reml", "cell-0-bayes", "cell-0-pi"} <= set(gids)
    xy = gids["cell-0-bayes"].get_xy()
    assert xy[:, 0].min() == pytest.approx(t.loc["CBT", "bayes_ci_low"], rel=1e-12)
    assert xy[:, 0].max() == pytest.approx(t.loc["CBT", "bayes_ci_high"], rel=1e-12)
    assert ax.get_xscale() == "log"  # odds ratios on a log axis
    texts = {x.get_gid(): x.get_text() for x in ax.texts if x.get_gid()}
    assert texts["cell-0-bayes-label"] == f"Bayesian, {br.rule_prior('OR').label} on \u03c4"
    assert texts["cell-0-bayes-prob"] == f"{100 * t.loc['CBT', 'p_pdt_better']:.0f}%"
    assert br.rule_prior("OR").label in texts["footnote"].replace("\n", " ")
    plt.close("all")
    with pytest.raises(ValueError, match="bayes_median"):
        cell_forest(t.drop(columns="bayes_median"))


def test_show_small_cells_writes_table_and_forest(data, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setenv("EVIDENCE_OUTPUT", str(tmp_path))
    an = condition_analyses(data, "depression")["SMD post"]
    br.show_small_cells({"Depression": an})
    assert (tmp_path / "results" / "depression_bayes.csv").exists()
    assert (tmp_path / "figures" / "depression_bayes_forest.svg").exists()
    with pytest.raises(ValueError, match="2 names for 1 analyses"):
        br.show_small_cells({"Depression": an}, comparators=["a", "b"])
    plt.close("all")


def test_display_table_reads_like_the_numbers(data):
    t = br.cell_table(condition_analyses(data, "anxiety")["social anxiety disorder: SMD post"])
    d = br.display_table(t)
    row, num = d.loc["waitlist"], t.loc["waitlist"]
    assert row["Bayesian: median [95% CrI]"] == (
        f"{num['bayes_median']:.2f} [{num['bayes_ci_low']:.2f}, {num['bayes_ci_high']:.2f}]"
    )
    assert row["P(PDT better)"] in (f"{100 * num['p_pdt_better']:.0f}%", "above 99%")
    assert num["p_pdt_better"] > 0.9 and row["Headline"] == "Bayesian"
    assert list(d.index) == list(t.index)


def _verdicts(data, analyses):
    from evidence.review.certainty import certainty_table

    m = data.protocol.equivalence_margin
    t = certainty_table(analyses, data.protocol, margin=m)
    return {(r.analysis, r.comparison): r.verdict for r in t.itertuples()}


def test_bayesian_statements_state_the_summary_table_verdict(data):
    """Every small cell's Bayesian statement ends in the summary-of-findings verdict, not a
    reading of its own. Social anxiety vs waitlist (k = 3): the rule's prior gives a credible
    interval above 0, the protocol's prior set does not, so the question stays open (before:
    "These trials very probably favour PDT"); the one CBT trial is "the one trial"."""
    analyses = condition_analyses(data, "anxiety")
    verdicts = _verdicts(data, analyses)
    key = "social anxiety disorder: SMD post"
    text = br.statements(analyses[key])
    paragraphs = {p.split(".**")[0].strip("*"): p for p in text.split("\n\n")}
    wait = paragraphs["PDT vs waitlist"]
    assert f"Verdict: {verdicts[(key, 'PDT vs waitlist')]}" in wait
    assert "The question stays open" in wait and "favour" not in wait
    assert "not every prior of the protocol's set" in wait
    cbt = paragraphs["PDT vs CBT"]
    assert cbt.startswith("**PDT vs CBT.** The one trial;")
    assert f"Verdict: {verdicts[(key, 'PDT vs CBT')]}" in cbt
    for akey, an in analyses.items():
        t = br.statements(an)
        assert "these trials" not in t.lower() and "very probably" not in t, akey
        for (a, comparison), v in verdicts.items():
            if a == akey and f"**{comparison}.**" in t:
                assert f"Verdict: {v}" in t, (akey, comparison)


def test_bayesian_statements_of_the_overview_follow_the_prior_set(data):
    """Headline families (grouped by condition): every small cell's statement carries its
    verdict from the certainty code, with the condition named as the table names it."""
    fams = headline(data)
    verdicts = _verdicts(data, fams)
    seen = 0
    for family, an in fams.items():
        text = br.statements(an, COMPARATOR_NAMES[family])
        assert "these trials" not in text.lower()
        for (a, comparison), v in verdicts.items():
            cond = comparison.split(": ")[0]
            head = f"**{cond[:1].upper() + cond[1:]}.**"
            if a == family and head in text:
                para = next(p for p in text.split("\n\n") if p.startswith(head))
                assert f"Verdict: {v}" in para, (family, comparison)
                seen += 1
    assert seen >= 5
