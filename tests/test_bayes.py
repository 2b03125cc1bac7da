"""Bayesian random-effects meta-analysis (evidence.meta.bayes) against exact R integrals.

Reference values come from tools/make_reference_bayes.R, which integrates the marginal posterior
of tau with R's integrate() (rel. tol. 1e-12) and solves quantiles with uniroot() (tol. 1e-13),
independently of the Gauss-Legendre grid used here; CI regenerates tests/reference/bayes.json and
fails if it differs. R call for each case, e.g. for bcg / half-normal(0.5):
``summaries(bcg$yi, bcg$vi, function(t) 2 * dnorm(t, 0, 0.5))``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import trapezoid

import evidence
from evidence import pool
from evidence.meta.bayes import (
    TAU_PRIORS,
    BayesResult,
    TauPrior,
    bayes_batch,
    bayes_pool,
    compare_cells,
    empirical_priors,
    make_prior,
    prior_sensitivity,
)

REF = json.loads((Path(__file__).parent / "reference" / "bayes.json").read_text())

#: The issue's promise: posterior summaries agree with the exact integrals to 1e-5 (the
#: quadrature achieves ~1e-8 on these cases; the margin covers other data).
TOL = 1e-5
#: Bayes factors span many orders of magnitude (7.96e-26 here), so they are compared relative.
RTOL_BF = 1e-6
#: Batched and single fits run the same arithmetic on arrays of different shapes; only summation
#: order differs.
TOL_BATCH = 1e-10

SUMMARIES = (
    "mu_mean",
    "mu_sd",
    "mu_median",
    "mu_ci_low",
    "mu_ci_high",
    "tau_median",
    "tau_ci_low",
    "tau_ci_high",
    "pi_low",
    "pi_high",
)


def _data(name):
    d = REF["datasets"][name]
    return np.asarray(d["yi"], float), np.asarray(d["vi"], float)


def _ref(x) -> float:
    return float("inf") if x == "Inf" else float(x)


def _case_id(c):
    return f"{c['data']}-{c['tau_prior']}-{c['tau_scale']:g}"


# ---- reference values ---------------------------------------------------------------------


def test_reference_grid_is_complete():
    """Four data sets x two priors x two scales; coverage cannot quietly shrink."""
    assert set(REF["datasets"]) == {"bcg_k2", "bcg_k3_het", "normand1999", "bcg"}
    combos = {(c["data"], c["tau_prior"], c["tau_scale"]) for c in REF["cases"]}
    assert len(REF["cases"]) == len(combos) == 16
    assert {c["tau_prior"] for c in REF["cases"]} == {"halfnormal", "halfcauchy"}
    assert [len(REF["datasets"][d]["yi"]) for d in ("bcg_k2", "bcg_k3_het")] == [2, 3]
    for c in REF["cases"]:
        assert set(SUMMARIES) | {"prob_mu_gt_0", "theta_mean"} <= set(c)


@pytest.mark.parametrize("case", REF["cases"], ids=_case_id)
def test_posterior_summaries_match_r_integrals(case):
    y, v = _data(case["data"])
    r = bayes_pool(y, v, tau_prior=case["tau_prior"], tau_scale=case["tau_scale"])
    for name in SUMMARIES:
        want = _ref(case[name])
        if np.isinf(want):  # Var(mu | y) does not exist (k = 2, half-Cauchy): reported as inf
            assert np.isinf(getattr(r, name)), name
            continue
        assert getattr(r, name) == pytest.approx(want, abs=TOL), name
    assert r.p_mu_positive == pytest.approx(case["prob_mu_gt_0"], abs=TOL)
    assert r.prob(0) == pytest.approx(case["prob_mu_gt_0"], abs=TOL)
    np.testing.assert_allclose(r.theta_mean, case["theta_mean"], atol=TOL)


def test_prob_within_margin_matches_r_integrals():
    """P(-m < mu < m) (bayesmeta's pposterior at m minus at -m) against R's integral of the
    same posterior: every reference case, margins 0.1, 0.25 and 0.5."""
    cases = REF["prob_within"]
    assert len(cases) == 3 * len(REF["cases"])
    wrong = []
    for c in cases:
        y, v = _data(c["data"])
        r = bayes_pool(y, v, tau_prior=c["tau_prior"], tau_scale=c["tau_scale"])
        got = r.prob_within(c["margin"])
        if not abs(got - c["prob"]) <= TOL:
            wrong.append(f"{_case_id(c)} margin {c['margin']}: {got!r}, R {c['prob']!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("margin", [0.0, -0.25, np.inf, np.nan])
def test_prob_within_rejects_a_margin_that_is_not_positive(margin):
    r = bayes_pool([0.2, 0.5], [0.04, 0.05])
    with pytest.raises(ValueError, match="margin must be a positive finite number"):
        r.prob_within(margin)


def test_bayes_factors_match_r_integrals():
    bf = REF["bayes_factors"]
    y, v = _data(bf["data"])
    r = bayes_pool(
        y, v, tau_prior=bf["tau_prior"], tau_scale=bf["tau_scale"], mu_prior=bf["mu_prior"]
    )
    assert r.log_marginal_likelihood == pytest.approx(bf["log_marginal_likelihood"], abs=TOL)
    assert r.bf_tau0 == pytest.approx(bf["bf_tau0"], rel=RTOL_BF, abs=0)
    assert r.bf_mu0 == pytest.approx(bf["bf_mu0"], rel=RTOL_BF, abs=0)
    t = r.bayes_factors()
    assert t.loc["actual", "tau=0"] == r.bf_tau0
    # a maximum over the alternative is at least its prior average: minimum BF <= actual BF
    assert t.loc["minimum", "mu=0"] <= t.loc["actual", "mu=0"]
    assert t.loc["minimum", "tau=0"] <= t.loc["actual", "tau=0"]


def test_bayes_factor_for_tau_zero_is_one_when_the_prior_sits_at_zero():
    y, v = _data("bcg")
    r = bayes_pool(y, v, tau_scale=1e-8, mu_prior=(0.0, 4.0))
    # tau <= 1e-8 changes L(tau) by a relative 1e-16 / v: only rounding remains
    assert r.bf_tau0 == pytest.approx(1.0, abs=1e-9)
    assert r.bayes_factors().loc["minimum", "mu=0"] <= r.bf_mu0


def test_minimum_bayes_factor_for_tau_zero_maximises_over_every_tau():
    """L(0) / max_tau L(tau) does not depend on the tau prior.

    Before: the maximum was sought only up to the prior's 1 - 1e-14 quantile, 0.39 for a
    half-normal(0.1), below where normand1999's likelihood peaks (7.1e-21 instead of 6.2e-21).
    """
    y, v = _data("normand1999")
    mins = [
        bayes_pool(y, v, mu_prior=(0.0, 4.0), **kw).bayes_factors().loc["minimum", "tau=0"]
        for kw in ({"tau_scale": 0.1}, {"tau_scale": 0.5}, {"tau_prior": "halfcauchy"})
    ]
    assert mins == pytest.approx([mins[1]] * 3, rel=1e-9, abs=0)


def test_bayes_factors_need_a_proper_mu_prior():
    y, v = _data("bcg")
    r = bayes_pool(y, v)
    assert np.isnan(r.bf_tau0) and np.isnan(r.bf_mu0)
    assert "NA (need a proper normal prior on mu)" in r.summary()


def _edge_data(name):
    d = REF["edge_datasets"][name]
    return np.atleast_1d(np.asarray(d["yi"], float)), np.atleast_1d(np.asarray(d["vi"], float))


def _prior_kwargs(spec) -> dict:
    return {k: tuple(x) if isinstance(x, list) else x for k, x in spec.items()}


def test_edge_cases_match_r_integrals():
    """Data far wider than the prior, and one study under every prior family (R, in log tau).

    Before: the grid ended at the prior's 1 - 1e-14 quantile, so with studies at -1000 and 1000
    and a half-normal(0.5) prior the tau median was 3.87 (R: 26.59); with one study the log-t
    tail beyond 1e12 data scales was cut (CrI limits off by 4e-4).
    """
    wrong = []
    for case in REF["edge_cases"]:
        y, v = _edge_data(case["data"])
        r = bayes_pool(y, v, **_prior_kwargs(case["prior"]))
        got = {name: getattr(r, name) for name in SUMMARIES}
        got["prob_mu_gt_0"] = r.p_mu_positive
        for name, value in got.items():
            want = _ref(case[name])
            ok = np.isinf(value) if np.isinf(want) else abs(value - want) <= TOL
            if not ok:
                wrong.append(f"{case['data']} {case['prior']}: {name} {value!r}, R {want!r}")
        if not np.allclose(r.theta_mean, case["theta_mean"], rtol=0, atol=TOL):
            wrong.append(f"{case['data']} {case['prior']}: theta_mean")
    assert not wrong, "\n".join(wrong)


def test_single_study_leaves_every_tau_prior_unchanged():
    """k = 1, flat mu prior: L(tau) is constant, so tau's posterior quantiles are the prior's."""
    y, v = _edge_data("bcg_k1")
    families = {c["prior"]["tau_prior"] for c in REF["edge_cases"] if c["data"] == "bcg_k1"}
    assert set(TAU_PRIORS) <= families  # the R reference has every family (and empirical ones)
    assert families - set(TAU_PRIORS) >= {"rhodes_mental_nonpharm"}
    specs = [c["prior"] for c in REF["edge_cases"] if c["data"] == "bcg_k1"]
    specs.append({"tau_prior": "halfcauchy", "tau_scale": 0.01})  # far heavier than the data
    tails = 0
    for spec in specs:
        r = bayes_pool(y, v, **_prior_kwargs(spec))
        p = np.array([0.025, 0.5, 0.975])
        want = r.prior.ppf(p)
        # the median exactly; interval limits to the quadrature's accuracy (1e-9 for the
        # half-normal's steep upper end; the log-t's were off by 8e-5)
        assert r.tau_median == pytest.approx(want[1], rel=1e-11), spec
        got = np.array([r.tau_ci_low, r.tau_ci_high])
        np.testing.assert_allclose(got, want[[0, 2]], rtol=1e-8, err_msg=str(spec))
        np.testing.assert_allclose(r.cdf(want, "tau"), p, rtol=0, atol=1e-9, err_msg=str(spec))
        # beyond the grid's end (1e12 data scales) the log-t prior still holds ~1e-6: there the
        # posterior is the prior's tail, carried exactly
        w_tail = r._post.w[0, -1]
        if w_tail > 1e-12:
            tails += 1
            far = np.array([1 - w_tail / 2, 1 - w_tail / 10])
            np.testing.assert_allclose(r.ppf(far, "tau"), r.prior.ppf(far), rtol=1e-8)
            np.testing.assert_allclose(r.cdf(r.prior.ppf(far), "tau"), far, rtol=0, atol=1e-15)
    assert tails >= 2  # logt, rhodes_mental_nonpharm
    # a log-t prior on tau^2 with location m has median tau = exp(m / 2)
    r = bayes_pool(y, v, tau_prior="logt", tau_params=(-3.44, 2.59))
    assert r.tau_median == pytest.approx(np.exp(-3.44 / 2), rel=1e-12)


def test_prior_far_from_the_data_warns_instead_of_cutting_the_posterior():
    # the prior sits at tau ~ e^50, beyond 1e12 data scales: the posterior cannot be resolved
    with pytest.warns(RuntimeWarning, match="may hold up to"):
        bayes_pool([0.1, 0.3], [0.01, 0.02], tau_prior="lognormal", tau_params=(100.0, 1.0))


def test_bayes_factor_survives_a_panel_edge_rounded_below_its_neighbour():
    # a uniform prior puts mass at its upper end; averaging the panel edges there left one edge
    # an ulp below the previous one: log(negative width) made p(y | mu = 0) and bf_mu0 NaN
    y, v = [1.433, 1.519, 1.185, 0.756], [0.24, 0.102, 0.036, 0.086]
    r = bayes_pool(y, v, tau_prior="uniform", tau_range=(0, 3), mu_prior=(0.0, 4.0))
    assert np.isfinite(r.bf_mu0) and np.isfinite(r.bayes_factors().to_numpy()).all()


# ---- properties -----------------------------------------------------------------------------


def test_uniform_prior_posterior_mode_of_tau_is_reml():
    """With flat priors on mu and tau, p(tau | y) is the restricted likelihood: mode = REML."""
    y, v = _data("bcg")
    reml = pool(y, v, method="REML")
    r = bayes_pool(y, v, tau_prior="uniform", tau_range=(0, 50))
    grid = np.linspace(0.3, 0.9, 60001)
    mode = grid[np.argmax(r.pdf(grid, "tau"))]
    # 1e-5 is the grid step: the mode is located to within a step
    assert mode == pytest.approx(reml.tau, abs=1e-5)


def test_wide_prior_approaches_reml_for_large_k():
    """Large k (seeded synthetic data): posterior and REML + Wald agree to a small part of an SE."""
    rng = np.random.default_rng(20260101)
    k = 400
    v = rng.uniform(0.01, 0.05, k)
    y = rng.normal(0.3, np.sqrt(v + 0.3**2))
    reml = pool(y, v, method="REML")
    r = bayes_pool(y, v, tau_prior="halfcauchy", tau_scale=10.0)
    # posterior and sampling distributions differ by O(1/k) relative (here 0.3% to 0.7%):
    # 2% of an SE (or of tau) is a bound a wrong posterior would not meet
    assert abs(r.mu_median - reml.estimate) < 0.02 * reml.se
    assert abs(r.mu_sd - reml.se) < 0.02 * reml.se
    assert abs(r.mu_ci_low - reml.ci_low) < 0.02 * reml.se
    assert abs(r.tau_median - reml.tau) < 0.02 * reml.tau


def test_prior_concentrated_at_zero_gives_common_effect():
    y, v = _data("normand1999")
    fe = pool(y, v, method="FE")
    r = bayes_pool(y, v, tau_prior="halfnormal", tau_scale=1e-8)
    # tau ~ 1e-8 moves the weights by a relative 1e-16 / v: only rounding remains
    for got, want in [
        (r.mu_mean, fe.estimate),
        (r.mu_median, fe.estimate),
        (r.mu_sd, fe.se),
        (r.mu_ci_low, fe.ci_low),
        (r.mu_ci_high, fe.ci_high),
    ]:
        assert got == pytest.approx(want, abs=1e-9)
    np.testing.assert_allclose(r.theta_mean, fe.estimate, atol=1e-9)


def test_single_study_leaves_the_tau_prior_unchanged():
    prior = TauPrior("halfcauchy", scale=0.5)
    r = bayes_pool([0.3], [0.05], tau_prior=prior)
    assert r.tau_median == pytest.approx(float(prior.ppf(0.5)), abs=TOL)
    assert r.mu_median == pytest.approx(0.3, abs=1e-12)
    assert np.isinf(r.mu_sd) and np.isinf(r.tau_mean)  # half-Cauchy: no moments with k = 1


def test_normal_mu_prior_shrinks_towards_its_mean():
    y, v = _data("bcg_k2")
    flat = bayes_pool(y, v)
    tight = bayes_pool(y, v, mu_prior=(0.0, 0.1))
    assert abs(tight.mu_mean) < abs(flat.mu_mean)
    assert tight.mu_sd < flat.mu_sd / 2


def test_quantile_and_distribution_functions_agree():
    y, v = _data("bcg_k3_het")
    r = bayes_pool(y, v, labels=["A", "B", "C"], tau_prior="halfcauchy", tau_scale=1)
    p = np.array([0.01, 0.3, 0.5, 0.9, 0.999])
    for of in ("mu", "tau", "predictive", 0, "C"):
        np.testing.assert_allclose(r.cdf(r.ppf(p, of), of), p, atol=1e-9, err_msg=str(of))
    # densities integrate to the CDF's increments (trapezoid rule on a fine grid: 1e-6)
    x = np.linspace(-12, 10, 40001)
    want = np.diff(r.cdf([-12, 10]))[0]
    assert trapezoid(r.pdf(x), x) == pytest.approx(want, abs=1e-6)
    t = np.linspace(0, 60, 200001)
    assert trapezoid(r.pdf(t, "tau"), t) == pytest.approx(r.cdf(60, "tau")[0], abs=1e-6)
    assert r.prob(upper=0) + r.prob(0) == pytest.approx(1, abs=1e-12)
    assert r.prob_equivalent(0.5) == pytest.approx(r.prob(-0.5, 0.5))


def test_shortest_intervals_are_shortest_and_hold_their_level():
    y, v = _data("bcg_k2")
    c = bayes_pool(y, v, tau_prior="halfcauchy", tau_scale=0.5)
    s = bayes_pool(y, v, tau_prior="halfcauchy", tau_scale=0.5, interval="shortest")
    assert s.interval == "shortest" and "shortest" in s.summary()
    for of, lo, hi, clo, chi in [
        ("mu", s.mu_ci_low, s.mu_ci_high, c.mu_ci_low, c.mu_ci_high),
        ("tau", s.tau_ci_low, s.tau_ci_high, c.tau_ci_low, c.tau_ci_high),
        ("predictive", s.pi_low, s.pi_high, c.pi_low, c.pi_high),
    ]:
        mass = s.cdf(hi, of)[0] - s.cdf(lo, of)[0]
        assert mass == pytest.approx(0.95, abs=1e-8), of
        assert hi - lo <= chi - clo + 1e-9, of
    # the tau posterior peaks at 0 with this prior and k = 2: the interval starts there
    assert s.tau_ci_low == 0.0
    assert s.pdf(s.mu_ci_low)[0] == pytest.approx(s.pdf(s.mu_ci_high)[0], rel=1e-6)
    assert len(s.theta_ci_low) == 2


def test_batch_equals_single_fits_leave_one_out():
    y, v = _data("bcg")
    k = y.size
    mask = ~np.eye(k, dtype=bool)
    f = bayes_batch(np.tile(y, (k, 1)), np.tile(v, (k, 1)), mask, tau_prior="halfcauchy")
    for i in (0, 7, 12):
        r = bayes_pool(np.delete(y, i), np.delete(v, i), tau_prior="halfcauchy")
        for name in ("mu_mean", "mu_median", "mu_ci_low", "tau_median", "pi_high"):
            assert f.loc[i, name] == pytest.approx(getattr(r, name), abs=TOL_BATCH), name
    assert (f["k"] == k - 1).all()


def test_prior_grid_in_one_batch():
    y, v = _data("normand1999")
    t = prior_sensitivity(y, v, measure="SMD")
    rhodes = empirical_priors().query("measure == 'SMD'")
    assert len(t) == 4 + len(rhodes)
    for label, row in t.iloc[:4].iterrows():
        fam = "halfnormal" if label.startswith("half-normal") else "halfcauchy"
        scale = float(label.split("= ")[1].rstrip(")"))
        r = bayes_pool(y, v, tau_prior=fam, tau_scale=scale)
        assert row["mu_median"] == pytest.approx(r.mu_median, abs=TOL_BATCH)


# ---- priors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prior",
    [
        TauPrior("halfnormal", scale=0.5),
        TauPrior("halfcauchy", scale=1.0),
        TauPrior("halfstudent", scale=0.5, df=3),
        TauPrior("uniform", lower=0.1, upper=2.0),
        TauPrior("lognormal", location=-2.56, scale=1.74),
        TauPrior("logt", location=-3.44, scale=2.59, df=5),
    ],
    ids=lambda p: p.family,
)
def test_prior_density_cdf_and_quantiles_are_consistent(prior):
    from scipy import integrate

    for q in (0.05, 0.5, 0.9):
        t = float(prior.ppf(q))
        assert float(prior.cdf(t)) == pytest.approx(q, abs=1e-12)
        # integrated in log tau (log-t and log-normal priors spread over many decades)
        lo = np.log(prior.support_low) if prior.support_low > 0 else -np.inf

        def dens(u):
            return np.exp(prior.logpdf(np.exp(u)) + u)

        got = integrate.quad(dens, lo, np.log(t), epsabs=1e-13, limit=200)[0]
        assert got == pytest.approx(q, abs=1e-8)


def test_every_family_is_fitted():
    y, v = _data("bcg_k3_het")
    kwargs = {
        "halfnormal": {},
        "halfcauchy": {},
        "halfstudent": {"tau_df": 3},
        "uniform": {"tau_range": (0, 3)},
        "lognormal": {"tau_params": (-2.56, 1.74)},
        "logt": {"tau_params": (-3.44, 2.59)},
    }
    assert set(kwargs) == set(TAU_PRIORS)
    for fam, kw in kwargs.items():
        r = bayes_pool(y, v, tau_prior=fam, **kw)
        assert r.mu_ci_low < r.mu_median < r.mu_ci_high, fam
        assert r.tau_ci_low < r.tau_median < r.tau_ci_high, fam


def test_empirical_prior_table_has_a_source_for_every_row():
    t = empirical_priors()
    assert t["name"].is_unique
    assert set(t["distribution"]) == {"logt", "lognormal"}
    assert (t["source"].str.len() > 40).all()
    assert t["source"].str.contains("Rhodes|Turner").all()
    assert set(t.loc[t.distribution == "logt", "measure"]) == {"SMD"}
    for name in t["name"]:
        p = make_prior(name)
        assert p.family in ("logt", "lognormal") and p.name == name
    assert make_prior("rhodes_mental_nonpharm").label.startswith("rhodes_mental_nonpharm: ")


# ---- guards -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tau_prior": "gamma"}, "unknown prior 'gamma'"),
        ({"tau_prior": "uniform"}, "needs tau_range"),
        ({"tau_prior": "uniform", "tau_range": (2, 1)}, "lower < upper"),
        ({"tau_prior": "halfstudent"}, "needs tau_df"),
        ({"tau_prior": "logt"}, "needs tau_params"),
        ({"tau_scale": -1}, "scale must be positive"),
        ({"mu_prior": (0, 0)}, "positive sd"),
        ({"mu_prior": "flat"}, "mu_prior must be None"),
        ({"level": 150}, "level must be"),
        ({"interval": "hpd"}, "interval must be one of"),
        ({"labels": ["a"]}, "1 labels for 2 studies"),
    ],
)
def test_bad_arguments_raise_specific_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bayes_pool([0.1, 0.2], [0.01, 0.02], **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tau_prior": "lognormal", "tau_params": (1,)}, "'lognormal': tau_params takes 2"),
        ({"tau_prior": "logt", "tau_params": "ab"}, "'logt': tau_params takes 2"),
        ({"tau_prior": "uniform", "tau_range": (1,)}, "'uniform': tau_range takes 2"),
        ({"tau_prior": "logt", "tau_params": (np.nan, 1)}, "logt: location must be finite"),
        ({"tau_prior": "lognormal", "tau_params": (0, np.inf)}, "lognormal: scale must be"),
        ({"tau_prior": "logt", "tau_params": (0, 1), "tau_df": np.inf}, "use 'lognormal'"),
        ({"tau_prior": "halfstudent", "tau_df": np.inf}, "use 'halfnormal'"),
        ({"tau_prior": "halfstudent", "tau_df": np.nan}, "df \\(tau_df\\) must be positive"),
        ({"tau_prior": "logt", "tau_params": (0, 1), "tau_df": -2}, "got -2"),
        ({"tau_prior": "halfcauchy", "tau_scale": np.nan}, "halfcauchy: scale must be"),
        ({"tau_prior": "halfnormal", "tau_scale": (1, 2)}, "tau_scale takes one number"),
        ({"tau_prior": "uniform", "tau_range": (0, np.nan)}, "lower < upper < inf"),
        ({"tau_prior": "uniform", "tau_range": (-1, 2)}, "0 <= lower"),
    ],
)
def test_bad_prior_parameters_raise_naming_the_parameter(kwargs, message):
    """Before: IndexError for a short tau_params; NaN or infinite ones gave all-NaN fits."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before any arithmetic, not after 500 warnings
        with pytest.raises(ValueError, match=message):
            bayes_pool([0.1, 0.2], [0.01, 0.02], **kwargs)
    with pytest.raises(ValueError, match="location must be finite"):
        TauPrior("lognormal", location=np.nan)


def test_level_follows_the_engine_rule_everywhere():
    """95 and 0.95 both mean 95% (evidence.meta.checks.check_level, as pool); else ValueError.

    Before: level=0.95 gave a 0.95% credible interval, and compare_cells put it beside pool's
    95% confidence interval.
    """
    from evidence.meta import checks, pooling

    assert pooling.check_level is checks.check_level  # one rule for the whole engine
    y, v = _data("bcg_k3_het")
    a, b = bayes_pool(y, v, level=95), bayes_pool(y, v, level=0.95)
    assert b.level == 95.0 and (a.mu_ci_low, a.tau_ci_high) == (b.mu_ci_low, b.tau_ci_high)
    assert a.interval_of("tau", level=0.9) == a.interval_of("tau", level=90)
    cells = {"k3": (y, v)}
    pd.testing.assert_frame_equal(compare_cells(cells, level=0.95), compare_cells(cells))
    yy, vv = np.tile(y, (2, 1)), np.tile(v, (2, 1))
    pd.testing.assert_frame_equal(bayes_batch(yy, vv, level=0.95), bayes_batch(yy, vv))
    pd.testing.assert_frame_equal(
        prior_sensitivity(y, v, level=0.9), prior_sensitivity(y, v, level=90)
    )
    calls = [
        lambda lv: bayes_pool(y, v, level=lv),
        lambda lv: bayes_batch(yy, vv, level=lv),
        lambda lv: prior_sensitivity(y, v, level=lv),
        lambda lv: compare_cells(cells, level=lv),
        lambda lv: a.interval_of("mu", level=lv),
    ]
    for call in calls:
        for bad in (0.05, 1, 100, 150, -5, float("nan"), float("inf"), "95", True):
            with pytest.raises(ValueError, match=f"level .*{bad!r}"):
                call(bad)


def test_bad_data_names_the_position():
    with pytest.raises(ValueError, match="vi <= 0 at position 1"):
        bayes_pool([0.1, 0.2], [0.01, 0.0])
    with pytest.raises(ValueError, match="row 1, column 0"):
        bayes_batch([[0.1, 0.2], [np.nan, 0.2]], [[0.1, 0.1], [0.1, 0.1]])
    r = bayes_pool([0.1, 0.2], [0.01, 0.02])
    with pytest.raises(ValueError, match="of must be"):
        r.cdf(0, "nu")
    with pytest.raises(ValueError, match="strictly between"):
        r.ppf(1.0)


# ---- output -------------------------------------------------------------------------------


def test_result_outputs_name_the_priors():
    y, v = _data("bcg")
    r = evidence.bayes_pool(y, v, measure="RR", labels=[f"T{i}" for i in range(13)])
    assert isinstance(r, BayesResult)
    s = r.summary()
    assert "half-normal(scale = 0.5)" in s and "RR = " in s and "P(mu > 0)" in s
    assert repr(r) == s
    f = r.to_frame()
    assert f.shape[0] == 1 and f.loc[0, "tau_prior"] == "half-normal(scale = 0.5)"
    assert f.loc[0, "mu_median"] == r.mu_median
    h = r._repr_html_()
    assert "credible interval" in h and "half-normal" in h
    sh = r.shrinkage()
    assert list(sh.index[:2]) == ["T0", "T1"] and sh.shape == (13, 8)
    # shrinkage pulls every study towards the pooled mean
    assert np.all(np.abs(sh.theta_mean - r.mu_mean) <= np.abs(sh.yi - r.mu_mean) + 1e-12)
    with pytest.raises(dataclasses_frozen_error()):
        r.mu_mean = 0.0


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_compare_cells_puts_bayes_beside_reml_knha():
    y2, v2 = _data("bcg_k2")
    y3, v3 = _data("bcg_k3_het")
    t = compare_cells({"k2": (y2, v2, "RR"), "k3": (y3, v3, "RR")})
    assert list(t.index) == ["k2", "k3"]
    f = pool(y2, v2, method="REML", test="knha")
    assert t.loc["k2", "reml_ci_low"] == pytest.approx(f.ci_low)
    b = bayes_pool(y2, v2)
    assert t.loc["k2", "bayes_ci_low"] == pytest.approx(b.mu_ci_low)
    # the point of the issue: with k = 2 Knapp-Hartung is far wider than the Bayesian interval
    assert (t.bayes_ci_high - t.bayes_ci_low < t.reml_ci_high - t.reml_ci_low).all()
    assert isinstance(t, pd.DataFrame) and t.loc["k3", "tau_prior"].startswith("half-normal")


# ---- shrinkage forest ---------------------------------------------------------------------


def test_shrinkage_forest_draws_observed_and_shrunken_rows():
    import matplotlib.pyplot as plt

    y, v = _data("bcg")
    labels = [f"Trial {i + 1}" for i in range(13)]
    r = bayes_pool(y, v, measure="RR", labels=labels)
    ax = r.shrinkage_plot(title="BCG")
    try:
        gids = {a.get_gid() for a in ax.get_children()}
        for gid in (
            "observed-estimates",
            "shrunken-estimates",
            "diamond-overall",
            "prediction-interval",
            "null-line",
        ):
            assert gid in gids, gid
        assert ax.get_xscale() == "log"  # ratio measure
        shr = next(c for c in ax.collections if c.get_gid() == "shrunken-estimates")
        np.testing.assert_allclose(shr.get_offsets()[:, 0], np.exp(r.theta_median))
        texts = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
        assert texts["row-12-label"] == "Trial 13"
        assert "half-normal(scale = 0.5)" in texts["footnote"].replace("\n", " ")
    finally:
        plt.close("all")


def test_shrinkage_forest_rejects_other_results():
    from evidence.plots.bayes import shrinkage_forest

    with pytest.raises(TypeError, match="needs a BayesResult"):
        shrinkage_forest(pool([0.1, 0.2], [0.01, 0.02]))


def test_prior_sensitivity_accepts_a_pooled_result():
    y, v = _data("normand1999")
    res = pool(y, v, measure="SMD")
    t = prior_sensitivity(res)
    assert len(t) == 8 and t.index[-1].startswith("rhodes_mental_nonpharm")
    np.testing.assert_allclose(t["mu_median"], prior_sensitivity(y, v, measure="SMD")["mu_median"])
    with pytest.raises(ValueError, match="needs vi"):
        prior_sensitivity([0.1, 0.2])


def test_compare_cells_accepts_pooled_results():
    y, v = _data("bcg_k3_het")
    res = pool(y, v, method="REML", test="knha", measure="RR")
    t = compare_cells({"k3": res}, tau_prior="halfcauchy", tau_scale=1.0)
    b = bayes_pool(y, v, tau_prior="halfcauchy", tau_scale=1.0)
    assert t.loc["k3", "measure"] == "RR"
    assert t.loc["k3", "bayes_median"] == pytest.approx(b.mu_median)
    assert t.loc["k3", "tau_prior"] == "half-Cauchy(scale = 1)"
