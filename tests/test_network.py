"""Network meta-analysis against metafor 3.8 rma.mv (tools/make_reference_network.R).

Every reference number was written by the committed R script into tests/reference/network.json;
CI regenerates the file and fails if it differs. R calls, per network (contrasts and V built from
the arms by the script's documented rules, X the contrast design without the reference column):

* ``rma.mv(yi, V, mods = X, intercept = FALSE, method = "FE")``
* ``rma.mv(yi, V, mods = X, intercept = FALSE, random = ~ comp | study, rho = 1/2,
  method = "REML")`` with tau^2 polished on metafor's own restricted log-likelihood
* node-splitting: the same with ``mods = cbind(X, alpha)`` per comparison
* design-by-treatment: ``mods = cbind(X, interaction columns), btt = interaction columns``
* contrasts of multi-arm studies in other orientations (``REF["oriented"]``): the same models
  (and netsplit) with ``random = ~ 1 | row, R = list(row = Rmat)``, Rmat the random-effects
  correlations
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evidence as ev
from evidence.meta.nma import NetworkResult, network_from_arms

REF = json.loads((Path(__file__).parent / "reference" / "network.json").read_text())
NETWORKS = ("hasselblad1998", "senn2013", "project_depression")
METHODS = ("FE", "REML")

#: The issue's promise for estimates, SEs and tau^2. Common-effect fits are closed form (agree
#: to ~1e-13); REML agrees to ~1e-7 because the likelihood is flat near its maximum, which
#: limits any optimiser's tau^2 to ~1e-8 (ours solves the score equation; R polishes nlminb's
#: answer with optimize()).
TOL = 1e-6
#: Q statistics (in the hundreds) are compared with the same absolute tolerance; rtol adds the
#: relative error of double precision.
RTOL = 1e-9


def _close(got, want, what):
    want = np.array([np.nan if w is None else w for w in np.atleast_1d(want)], dtype=float)
    got = np.atleast_1d(np.asarray(got, dtype=float))
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs {want.shape}"
    np.testing.assert_allclose(got, want, atol=TOL, rtol=RTOL, err_msg=what)


def _fit(name: str, method: str) -> NetworkResult:
    net = REF["networks"][name]
    return network_from_arms(
        pd.DataFrame(net["arms"]),
        measure=net["measure"],
        reference=net["reference"],
        method=method,
    )


@pytest.fixture(scope="module")
def fits() -> dict[tuple[str, str], NetworkResult]:
    return {(n, m): _fit(n, m) for n in NETWORKS for m in METHODS}


def test_reference_grid_complete():
    assert tuple(REF["networks"]) == NETWORKS
    for name in NETWORKS:
        for m in METHODS:
            fit = REF["networks"][name][m]
            assert {"estimate", "se", "tau2", "q", "split", "dbt"} <= set(fit)
            assert len(fit["split"]) > 0
        assert "REML_t" in REF["networks"][name]
    assert REF["versions"]["metafor"].startswith("3.8")


@pytest.mark.parametrize("name", NETWORKS)
def test_contrasts_from_arms(name, fits):
    """yi, V and the contrast rows network_from_arms builds are the script's, row by row."""
    net, res = REF["networks"][name], fits[(name, "FE")]
    c = net["contrasts"]
    assert list(res.treat1) == c["treat1"] and list(res.treat2) == c["treat2"]
    assert list(res.study) == [str(s) for s in c["study"]]
    assert list(res.treatments) == net["treatments"]
    np.testing.assert_allclose(res.yi, c["yi"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(res.cov, np.array(net["V"]), atol=1e-12, rtol=0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", NETWORKS)
def test_fit_matches_metafor(name, method, fits):
    ref, res = REF["networks"][name][method], fits[(name, method)]
    eff = res.effects
    assert list(eff.index) == ref["treatment"]
    for col in ("estimate", "se", "pvalue", "ci_low", "ci_high", "pi_low", "pi_high"):
        _close(eff[col], ref[col], f"{name} {method} {col}")
    _close(res.vcov, np.array(ref["vcov"]), f"{name} {method} vcov")
    _close(res.tau2, ref["tau2"], f"{name} {method} tau2")
    _close(res.q, ref["q"], f"{name} {method} Q")
    assert res.q_df == ref["q_df"]
    _close(res.q_pvalue, ref["q_pvalue"], f"{name} {method} Q p")


@pytest.mark.parametrize("name", NETWORKS)
def test_t_test_matches_metafor(name):
    """rma.mv(test = "t"): t with k - p df for p-values, CIs and PIs."""
    net = REF["networks"][name]
    ref = net["REML_t"]
    res = network_from_arms(
        pd.DataFrame(net["arms"]),
        measure=net["measure"],
        reference=net["reference"],
        test="t",
    )
    for col in ("estimate", "se", "pvalue", "ci_low", "ci_high", "pi_low", "pi_high"):
        _close(res.effects[col], ref[col], f"{name} REML t {col}")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", NETWORKS)
def test_contrast_input_equals_arm_input(name, method, fits):
    """network() on the script's contrasts and V gives the arm-level fit."""
    net, res = REF["networks"][name], fits[(name, method)]
    c = net["contrasts"]
    got = ev.network(
        c["yi"],
        c["vi"],
        c["treat1"],
        c["treat2"],
        c["study"],
        cov=np.array(net["V"]),
        reference=net["reference"],
        method=method,
    )
    np.testing.assert_allclose(got.beta, res.beta, atol=1e-12)
    assert got.tau2 == pytest.approx(res.tau2, abs=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", NETWORKS)
def test_node_split_matches_metafor(name, method, fits):
    ref, res = REF["networks"][name][method], fits[(name, method)]
    sp = res.split()
    want = [(r["treat1"], r["treat2"]) for r in ref["split"]]
    assert list(zip(sp["treat1"], sp["treat2"], strict=True)) == want
    for r, row in zip(ref["split"], sp.itertuples(), strict=True):
        what = f"{name} {method} split {r['treat1']} vs {r['treat2']}"
        assert row.k_direct == r["k_direct"], what
        assert bool(row.identifiable) == r["identifiable"], what
        if not r["identifiable"]:
            assert np.isnan(row.indirect) and row.direct == row.network
            continue
        for key in (
            "direct",
            "direct_se",
            "indirect",
            "indirect_se",
            "difference",
            "difference_se",
            "tau2",
        ):
            _close(getattr(row, key), r[key], f"{what} {key}")
        _close(row.pvalue, r["difference_pvalue"], f"{what} p")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", NETWORKS)
def test_design_by_treatment_matches_metafor(name, method, fits):
    ref, res = REF["networks"][name][method]["dbt"], fits[(name, method)]
    inc = res.inconsistency()
    _close(inc.loc["within designs", "q"], ref["q_within"], f"{name} {method} Q within")
    assert inc.loc["within designs", "df"] == ref["q_within_df"]
    assert inc.loc["between designs", "df"] == ref["q_between_df"]
    q_between = inc.loc["total", "q"] - inc.loc["within designs", "q"]
    _close(inc.loc["between designs", "q"], q_between, "Q between = total - within")
    if method == "FE":  # the common-effect Wald test of the interactions is Q between
        _close(inc.loc["between designs", "q"], ref["wald"], f"{name} FE QM")
        _close(inc.loc["between designs", "pvalue"], ref["wald_pvalue"], f"{name} FE QM p")
    else:
        row = inc.loc["wald (interaction)"]
        _close(row["q"], ref["wald"], f"{name} REML QM")
        _close(row["pvalue"], ref["wald_pvalue"], f"{name} REML QM p")
        _close(row["tau2"], ref["tau2"], f"{name} REML interaction-model tau2")


# ---- properties that hold whatever metafor says -------------------------------------------------


def _two_treatment():
    rng = np.random.default_rng(7)
    v = rng.uniform(0.01, 0.1, 12)
    y = rng.normal(0.3, np.sqrt(v + 0.05))
    return y, v


@pytest.mark.parametrize("method", ["FE", "DL", "REML"])
def test_two_treatments_reduce_to_pairwise_pooling(method):
    """With two treatments and two-arm studies the NMA is ordinary pooling (evidence.pool)."""
    y, v = _two_treatment()
    k = y.size
    res = ev.network(y, v, ["B"] * k, ["A"] * k, range(k), method=method)
    pooled = ev.pool(y, v, method=method)
    assert res.tau2 == pytest.approx(pooled.tau2, abs=1e-10)
    assert res.beta[0] == pytest.approx(pooled.estimate, abs=1e-10)
    assert np.sqrt(res.vcov[0, 0]) == pytest.approx(pooled.se, abs=1e-10)
    assert res.q == pytest.approx(pooled.q, abs=1e-10)


@pytest.mark.parametrize("method", ["FE", "DL", "REML"])
def test_reference_choice_does_not_change_the_model(method, fits):
    net = REF["networks"]["senn2013"]
    c = net["contrasts"]
    args = (c["yi"], c["vi"], c["treat1"], c["treat2"], c["study"])
    a = ev.network(*args, cov=np.array(net["V"]), reference="placebo", method=method)
    b = ev.network(*args, cov=np.array(net["V"]), reference="metformin", method=method)
    assert a.tau2 == pytest.approx(b.tau2, abs=1e-10)
    la, lb = a.league(), b.league()
    pd.testing.assert_frame_equal(
        la.sort_values(["treat1", "treat2"]).reset_index(drop=True),
        lb.sort_values(["treat1", "treat2"]).reset_index(drop=True),
        atol=1e-9,
    )


def test_dl_is_the_moment_estimator(fits):
    """Generalised DL: tau^2 solves E[Q] = df + tau^2 tr(P0 R) at the observed Q."""
    res = ev.network_from_arms(
        pd.DataFrame(REF["networks"]["hasselblad1998"]["arms"]),
        measure="OR",
        reference="no_contact",
        method="DL",
    )
    from evidence.meta.nma.model import _gls

    g = _gls(res._blocks, res._X, res.yi, 0.0, score=True)
    assert res.tau2 == pytest.approx((res.q - res.q_df) / g["trace_pr"], rel=1e-12)
    assert res.tau2 > 0


def test_reml_is_the_global_maximum(fits):
    from evidence.meta.nma.model import _reml_ll

    res = fits[("hasselblad1998", "REML")]
    best = _reml_ll(res._blocks, res._X, res.yi, res.tau2)
    grid = np.r_[0.0, np.geomspace(1e-4, 50, 400)]
    assert all(_reml_ll(res._blocks, res._X, res.yi, t) <= best + 1e-12 for t in grid)


def test_league_and_pscores(fits):
    res = fits[("hasselblad1998", "REML")]
    lg = res.league()
    T = len(res.treatments)
    assert len(lg) == T * (T - 1)
    row = lg[(lg.treat1 == "self_help") & (lg.treat2 == "no_contact")].iloc[0]
    assert row.estimate == pytest.approx(res.effects.loc["self_help", "estimate"], abs=1e-14)
    table = res.league(table=True)
    assert table.loc["no_contact", "no_contact"] == "no_contact"
    ps = res.pscores(small_values="undesirable")
    assert ps["pscore"].sum() == pytest.approx(T / 2)  # P-scores average 1/2
    assert ps.index[0] == "grp_counseling" and ps.index[-1] == "no_contact"
    flipped = res.pscores(small_values="desirable")
    np.testing.assert_allclose(flipped.loc[ps.index, "pscore"], 1 - ps["pscore"], atol=1e-12)
    with pytest.raises(ValueError, match="small_values"):
        res.pscores(small_values="low")


def test_output_methods(fits):
    res = fits[("project_depression", "REML")]
    text = str(res)
    assert "random effects, REML" in text and "reference : usual_care" in text
    assert "psychodynamic" in text and "Q(10)" in text
    assert "<table>" in res._repr_html_() and "usual_care" in res._repr_html_()
    frame = res.to_frame()
    assert list(frame["treatment"]) == list(res.treatments[1:])
    assert set(frame["method"]) == {"REML"}
    assert res.participants is not None and res.participants.sum() > 0


def test_evidence_network_is_the_fitting_function():
    from evidence.meta.nma import network

    assert ev.network is network
    res = ev.network([0.5, 0.3], [0.04, 0.05], ["B", "C"], ["A", "A"], ["s1", "s2"])
    assert isinstance(res, NetworkResult)


# ---- guards -------------------------------------------------------------------------------------


def test_disconnected_network_names_components():
    with pytest.raises(ValueError, match=r"disconnected.*\{A, B\} \| \{C, D\}"):
        ev.network([0.1, 0.2], [0.1, 0.1], ["B", "D"], ["A", "C"], [1, 2])


def test_multi_contrast_study_without_cov_names_study():
    with pytest.raises(ValueError, match="study 'trial-3' has 2 contrasts but no covariance"):
        ev.network(
            [0.1, 0.2, 0.3],
            [0.1, 0.1, 0.1],
            ["B", "C", "C"],
            ["A", "A", "B"],
            ["trial-1", "trial-3", "trial-3"],
        )


def test_singular_covariance_names_study():
    cov = np.array([[0.1, 0.1, 0], [0.1, 0.1, 0], [0, 0, 0.1]])
    with pytest.raises(ValueError, match="study 'x': its covariance block is singular"):
        ev.network(
            [0.1, 0.2, 0.3],
            [0.1, 0.1, 0.1],
            ["B", "C", "C"],
            ["A", "A", "A"],
            ["x", "x", "y"],
            cov=cov,
        )


def test_zero_variance_names_study():
    with pytest.raises(ValueError, match="study 'y': sampling variance vi <= 0"):
        ev.network([0.1, 0.2], [0.1, 0.0], ["B", "C"], ["A", "A"], ["x", "y"])


def test_other_guards():
    with pytest.raises(ValueError, match="row 1 .*both 'A'"):
        ev.network([0.1, 0.2], [0.1, 0.1], ["B", "A"], ["A", "A"], [1, 2])
    cov = np.diag([0.1, 0.1])
    cov[0, 1] = cov[1, 0] = 0.01
    with pytest.raises(ValueError, match="different studies"):
        ev.network([0.1, 0.2], [0.1, 0.1], ["B", "C"], ["A", "A"], [1, 2], cov=cov)
    dep = np.array([[0.2, 0.1, 0.1], [0.1, 0.2, 0.1], [0.1, 0.1, 0.3]])
    with pytest.raises(ValueError, match="study '1': its contrasts are linearly dependent"):
        ev.network(
            [0.1, 0.2, 0.1], [0.2, 0.2, 0.3], ["B", "C", "C"], ["A", "A", "B"], [1, 1, 1], cov=dep
        )
    with pytest.raises(ValueError, match="unknown method"):
        ev.network([0.1], [0.1], ["B"], ["A"], [1], method="PM")
    with pytest.raises(ValueError, match="reference 'Z'"):
        ev.network([0.1], [0.1], ["B"], ["A"], [1], reference="Z")
    arms = pd.DataFrame(
        {
            "study": [1, 1],
            "treatment": ["A", "A"],
            "mean": [1.0, 2.0],
            "sd": [1.0, 1.0],
            "n": [10, 10],
        }
    )
    with pytest.raises(ValueError, match="study '1' has two arms of treatment 'A'"):
        network_from_arms(arms, measure="MD")


def test_one_study_treatment_allowed():
    res = ev.network(
        [0.1, 0.2, 0.4], [0.1, 0.1, 0.2], ["B", "B", "C"], ["A", "A", "A"], [1, 2, 3], method="REML"
    )
    assert np.isfinite(res.effects.loc["C", "se"])


# ---- plots --------------------------------------------------------------------------------------


def test_plots_are_deterministic(tmp_path, fits):
    import matplotlib.pyplot as plt

    from evidence.io import save_figure

    res = fits[("hasselblad1998", "REML")]
    for name, draw in (
        ("graph", res.network_plot),
        ("forest", res.forest_plot),
        ("split", res.split_plot),
    ):
        a = save_figure(draw(), tmp_path / f"{name}-a.svg")
        b = save_figure(draw(), tmp_path / f"{name}-b.svg")
        assert a.read_bytes() == b.read_bytes(), name
    plt.close("all")


def test_network_graph_sizes(fits):
    import matplotlib.pyplot as plt

    from evidence.plots.network import network_graph

    res = fits[("senn2013", "FE")]
    ax = network_graph(res)
    counts = [t.get_text() for t in ax.texts if t.get_gid() == "edge-count"]
    assert sorted(map(int, counts)) == sorted(res.comparisons()["k"])
    assert "participants" in [t for t in ax.figure.texts if t.get_gid() == "footnote"][0].get_text()
    contrast_only = ev.network([0.1, 0.2], [0.1, 0.1], ["B", "C"], ["A", "A"], [1, 2])
    with pytest.raises(ValueError, match="needs arm sizes"):
        network_graph(contrast_only, size="participants")
    plt.close("all")


def test_dl_equals_netmeta_formula_with_multi_arm_studies():
    """netmeta's nma.ruecker DL, written out: all pairwise contrasts of each study with
    Rucker's reduced weights (three-arm: w_ab = s_c / (s_a s_b + s_a s_c + s_b s_c)), then
    tau^2 = (Q - df) / tr((I - H) (B B' o E / 2) W). dat.hasselblad1998 has two three-arm
    trials, where the two ways of writing the estimator could differ."""
    arms = pd.DataFrame(REF["networks"]["hasselblad1998"]["arms"])
    res = network_from_arms(arms, measure="OR", reference="no_contact", method="DL")
    pos = {t: i for i, t in enumerate(res.treatments)}
    te, w, rows, studies = [], [], [], []
    for s, a in arms.groupby("study", sort=False):
        ev_, ne = a["events"].to_numpy(float), (a["n"] - a["events"]).to_numpy(float)
        if np.any(ev_ == 0) or np.any(ne == 0):
            ev_, ne = ev_ + 0.5, ne + 0.5
        logit, var = np.log(ev_ / ne), 1 / ev_ + 1 / ne
        t = a["treatment"].to_list()
        for i in range(len(t)):
            for j in range(i + 1, len(t)):
                if len(t) == 2:
                    wij = 1 / (var[i] + var[j])
                else:  # three arms
                    c = 3 - i - j
                    wij = var[c] / (var[i] * var[j] + var[i] * var[c] + var[j] * var[c])
                b = np.zeros(len(res.treatments))
                b[pos[t[i]]], b[pos[t[j]]] = 1, -1
                te.append(logit[i] - logit[j])
                w.append(wij)
                rows.append(b)
                studies.append(s)
    B, W, te = np.array(rows), np.diag(w), np.array(te)
    L = B.T @ W @ B
    H = B @ np.linalg.pinv(L) @ B.T @ W
    resid = te - H @ te
    q = resid @ W @ resid
    df = sum(len(a) - 1 for _, a in arms.groupby("study")) - (len(res.treatments) - 1)
    E = np.equal.outer(studies, studies)
    tau2 = max(0.0, (q - df) / np.trace((np.eye(len(te)) - H) @ (B @ B.T * E / 2) @ W))
    assert q == pytest.approx(res.q, rel=1e-10)
    assert df == res.q_df
    assert res.tau2 == pytest.approx(tau2, rel=1e-10)


def test_reml_bracket_found_when_the_score_wiggles_between_grid_points():
    """suicide-psyctr on the SMD scale once made the bracketing step fail (f(a), f(b) same sign)."""
    from evidence.meta.nma.model import _reml_ll_grid
    from evidence.review import network_report as nr
    from evidence.review.network_data import load_network

    net = load_network()
    eff = nr.network_effects(net[net["database"] == "suicide-psyctr"], measure="SMD")
    res, kept, _ = nr.fit_network(eff, measure="SMD")
    assert res is not None and res.tau2 >= 0
    # the returned tau^2 is the highest point of a dense profile of the restricted likelihood
    blocks, X, y = res._blocks, res._X, res.yi
    dense = np.linspace(0.0, max(4 * res.tau2, 1.0), 4001)
    best = _reml_ll_grid(blocks, X, y, dense).max()
    assert _reml_ll_grid(blocks, X, y, np.array([res.tau2]))[0] >= best - 1e-8


# ------------------------------------------------------------------ saturated networks (issue 27)

SATURATED = tuple(REF["saturated"])


def _saturated_fit(name, method):
    net = REF["saturated"][name]
    c = net["contrasts"]
    return ev.network(
        c["yi"],
        c["vi"],
        c["treat1"],
        c["treat2"],
        c["study"],
        cov=np.array(net["V"], dtype=float),
        reference=net["reference"],
        method=method,
    )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", SATURATED)
def test_saturated_network_matches_metafor(name, method):
    """No residual df: tau^2 is not identifiable and is 0 (rma.mv), with rma.mv's SEs (REML
    gave tau^2 = 3167 and SEs 56 and 80 for the chain before)."""
    ref, res = REF["saturated"][name][method], _saturated_fit(name, method)
    assert res.tau2 == ref["tau2"]
    for key in ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high"):
        _close(res.effects[key].to_numpy(), ref[key], f"{name} {method} {key}")
    assert res.tau2_identifiable == (method == "FE" or ref["q_df"] > 0)
    if not res.tau2_identifiable:
        assert "not identifiable" in res.summary()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", SATURATED)
def test_saturated_split_matches_metafor(name, method):
    """A node-split model without residual df (C vs A in the loop: tau^2 was 24,477 and
    p = 0.9994; metafor 0 and 0.570)."""
    ref, sp = REF["saturated"][name][method], _saturated_fit(name, method).split()
    want = [(r["treat1"], r["treat2"]) for r in ref["split"]]
    assert list(zip(sp["treat1"], sp["treat2"], strict=True)) == want
    for r, row in zip(ref["split"], sp.itertuples(), strict=True):
        what = f"{name} {method} split {r['treat1']} vs {r['treat2']}"
        assert bool(row.identifiable) == r["identifiable"], what
        if r["identifiable"]:
            for key in ("direct", "direct_se", "indirect", "indirect_se", "tau2"):
                _close(getattr(row, key), r[key], f"{what} {key}")
            _close(row.pvalue, r["difference_pvalue"], f"{what} p")


def test_random_saturated_networks_have_zero_tau2():
    """Any spanning tree of contrasts is saturated: REML equals the common-effect fit."""
    rng = np.random.default_rng(20261203)
    for _ in range(50):
        t = int(rng.integers(3, 8))
        names = [f"T{i}" for i in range(t)]
        parent = [names[int(rng.integers(0, i))] for i in range(1, t)]
        yi, vi = rng.normal(0, 0.5, t - 1), rng.uniform(0.01, 0.2, t - 1)
        args = (yi, vi, names[1:], parent, [f"s{i}" for i in range(t - 1)])
        reml, fe = ev.network(*args, method="REML"), ev.network(*args, method="FE")
        assert reml.tau2 == 0.0 and not reml.tau2_identifiable
        np.testing.assert_allclose(reml.effects["se"], fe.effects["se"], rtol=1e-12)


# ------------------------------------------------------------------ netsplit: SIDDE (issue 23)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", NETWORKS)
def test_netsplit_matches_metafor(name, method, fits):
    """Direct = pool of the head-to-head trials at the network's tau^2 (rma.uni); indirect = the
    network without every trial holding the pair (rma.mv refit) or back-calculated."""
    ref, sp = REF["networks"][name][method]["netsplit"], fits[(name, method)].netsplit()
    want = [(r["treat1"], r["treat2"]) for r in ref]
    assert list(zip(sp["treat1"], sp["treat2"], strict=True)) == want
    for r, row in zip(ref, sp.itertuples(), strict=True):
        what = f"{name} {method} netsplit {r['treat1']} vs {r['treat2']}"
        assert row.k_direct == r["k_direct"] and row.indirect_method == r["indirect_method"], what
        keys = ["direct", "direct_se", "network", "network_se", "direct_share"]
        if r["indirect_method"] != "none":
            keys += ["indirect", "indirect_se"]
        else:
            assert np.isnan(row.indirect), what
        for key in keys:
            _close(getattr(row, key), r[key], f"{what} {key}")


def test_netsplit_direct_is_the_head_to_head_trial_in_a_three_arm_star():
    """PDT in one three-arm trial with CBT and waitlist (as GAD and PTSD): direct is that trial's
    PDT vs CBT contrast, the indirect estimate is back-calculated, and the direct share < 1."""
    yi = [-0.05 - 0.4, -0.4, 0.6, 0.5, 0.7, 0.2]  # pdt-wl, cbt-wl (three-arm), then cbt-wl, ...
    cov = np.diag([0.04, 0.04, 0.05, 0.06, 0.05, 0.05])
    cov[0, 1] = cov[1, 0] = 0.02
    res = ev.network(
        yi,
        np.diag(cov),
        ["pdt", "cbt", "cbt", "cbt", "cbt", "other"],
        ["wl", "wl", "wl", "wl", "wl", "wl"],
        ["t", "t", "a", "b", "c", "d"],
        cov=cov,
        reference="wl",
    )
    row = res.netsplit().set_index("comparison").loc["pdt vs cbt"]
    assert row.direct == pytest.approx(-0.05, abs=1e-12)
    assert row.indirect_method == "back-calculation" and 0 < row.direct_share < 1
    combined = row.direct_share * row.direct + (1 - row.direct_share) * row.indirect
    assert combined == pytest.approx(row.network, abs=1e-12)  # the network is their blend


# ------------------------------------------------------------------ design decomposition (issue 23)


@pytest.mark.parametrize("name", NETWORKS)
def test_design_decomposition_matches_metafor(name, fits):
    """Krahn's decomposition, detachment and net heat matrix against rma.mv FE fits."""
    ref = REF["networks"][name]["decomposition"]
    dec = fits[(name, "FE")].design_decomposition()
    assert list(dec.designs.index) == ref["designs"]
    _close(dec.q["q"].to_numpy(), [ref["q_total"], ref["q_within"], ref["q_between"]], name)
    for key, col in (
        ("q_within_design", "q_within"),
        ("q_contribution", "q_contribution"),
        ("q_detached", "q_detached"),
    ):
        _close(dec.designs[col].to_numpy(), ref[key], f"{name} {col}")
    heat = np.array(ref["heat"], dtype=float)
    loops = [ref["designs"].index(d) for d in dec.heat.index]
    _close(dec.heat.to_numpy().ravel(), heat[np.ix_(loops, loops)].ravel(), f"{name} heat")


def test_design_decomposition_agrees_with_the_design_by_treatment_model(fits):
    """Total = within + between, and between equals inconsistency()'s common-effect Q; with
    tau2 set, the same identity holds at that tau^2."""
    res = fits[("hasselblad1998", "REML")]
    dec = res.design_decomposition()
    inc = res.inconsistency()
    _close(dec.q["q"].to_numpy(), inc["q"].to_numpy()[:3], "decomposition vs inconsistency")
    assert dec.q.loc["total", "q"] == pytest.approx(
        dec.designs["q_within"].sum() + dec.designs["q_contribution"].sum()
    )
    within = res.design_decomposition(tau2="within")
    assert within.tau2 > 0 and within.q.loc["total", "q"] < dec.q.loc["total", "q"]
    with pytest.raises(ValueError, match="tau2"):
        res.design_decomposition(tau2=-1)


# ------------------------------------------------------------ edges of the input (issues 23 and 27)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"treatment": ["A", None, "A", "B"]}, "column 'treatment': missing value at row 1"),
        ({"treatment": ["A", "B", np.nan, "B"]}, "column 'treatment': missing value at row 2"),
        ({"study": [1, 1, np.nan, np.nan]}, "column 'study': missing value at row 2"),
    ],
)
def test_network_from_arms_refuses_missing_labels(change, match):
    arms = pd.DataFrame(
        {"study": [1, 1, 2, 2], "treatment": ["A", "B", "A", "B"], "events": [1, 2, 3, 4]}
    ).assign(n=10, **change)
    with pytest.raises(ValueError, match=match):
        network_from_arms(arms, measure="OR")


def test_network_from_arms_refuses_an_empty_frame():
    arms = pd.DataFrame({"study": [], "treatment": [], "events": [], "n": []})
    with pytest.raises(ValueError, match="data has no rows"):
        network_from_arms(arms, measure="OR")


def test_labels_that_print_alike_are_refused():
    """1 and "1" were merged into one treatment (and one study)."""
    with pytest.raises(ValueError, match=r"labels 1 \(int, treat1 row 0\) and '1' \(str, treat2"):
        ev.network([0.1, 0.2], [0.1, 0.1], [1, "B"], ["A", "1"], ["s1", "s2"])
    with pytest.raises(ValueError, match=r"labels 2 \(int, study row 1\) and '2' \(str, study"):
        ev.network([0.1, 0.2, 0.3], [0.1] * 3, ["B"] * 3, ["A"] * 3, ["1", 2, "2"])
    with pytest.raises(ValueError, match=r"1 \(int, treat1 row 0\) and 1.0 .*are equal but"):
        ev.network([0.1, 0.2], [0.1, 0.1], [1, 1.0], ["A", "A"], [1, 2])
    arms = pd.DataFrame(
        {"study": [1, 1, 2, 2], "treatment": ["1", "B", 1, "B"], "events": [1, 2, 3, 4], "n": 10}
    )
    with pytest.raises(ValueError, match=r"column 'treatment' row 2\) both read as '1'"):
        network_from_arms(arms, measure="OR")
    # numbers of one kind, or labels of mixed types none of which print alike, are fine
    res = ev.network([0.1, 0.2], [0.1, 0.1], [1, np.int64(1)], [0, 0], [1, 2], method="FE")
    assert res.treatments == ("0", "1")
    arms["treatment"] = ["A", "B", "A", 1]
    assert network_from_arms(arms, measure="OR").treatments == ("1", "A", "B")


@pytest.mark.parametrize(
    ("cov", "match"),
    [
        # B-A and C-A with a negative covariance: var(A) = -0.01
        ([[0.05, -0.01], [-0.01, 0.05]], r"negative variance \(-0.01\) for its arm 'A'"),
        # positive definite, but var(A) = 0.06 > var(B-A) = 0.05: var(B) = -0.01
        ([[0.05, 0.06], [0.06, 0.08]], r"negative variance \(-0.01\) for its arm 'B'"),
    ],
)
def test_covariance_implying_a_negative_arm_variance_is_refused(cov, match):
    cov = np.pad(np.array(cov), (0, 1))
    cov[2, 2] = 0.1
    with pytest.raises(ValueError, match=f"study 's1': its covariances imply a {match}"):
        ev.network(
            [0.1, 0.2, 0.3],
            np.diag(cov),
            ["B", "C", "C"],
            ["A", "A", "B"],
            ["s1", "s1", "s2"],
            cov=cov,
        )


def test_negative_arm_variance_with_the_shared_arm_on_opposite_sides():
    """B-A and A-C share A on opposite sides: their covariance is -var(A), so +0.01 implies
    var(A) = -0.01; -0.01 is the valid covariance."""
    args = ([0.1, 0.2], [0.05, 0.05], ["B", "A"], ["A", "C"], ["s1", "s1"])
    with pytest.raises(ValueError, match=r"negative variance \(-0.01\) for its arm 'A'"):
        ev.network(*args, cov=np.array([[0.05, 0.01], [0.01, 0.05]]))
    ev.network(*args, cov=np.array([[0.05, -0.01], [-0.01, 0.05]]), method="FE")


@pytest.mark.parametrize(
    ("yi", "vi", "match"),
    [
        ([1e200, 0.2], [0.1, 0.1], r"study '1': yi = 1e\+200 at row 0 is outside the range"),
        ([0.1, -1e120], [0.1, 0.1], r"study '2': yi = -1e\+120 at row 1"),
        ([0.1, 0.2], [0.1, 1e300], r"study '2': vi = 1e\+300 at row 1"),
        ([0.1, 0.2], [1e-300, 0.1], r"study '1': vi = 1e-300 at row 0"),
    ],
)
def test_values_too_large_for_the_fit_are_refused(yi, vi, match):
    """yi = 1e200 overflowed (inf - inf in Q) and returned an estimate of 5e199."""
    with pytest.raises(ValueError, match=match):
        ev.network(yi, vi, ["B", "B"], ["A", "A"], [1, 2])


def test_level_is_checked():
    """level = 150 gave NaN intervals and 0.95 a 0.95% interval; the level is pool's
    (evidence.meta.checks.check_level): 0.95 is read as 95% as metafor and pool do."""
    args = ([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"], ["A", "A", "B"], [1, 2, 3])
    for bad in (150, 100, 0.3, -95, float("nan")):
        with pytest.raises(ValueError, match="level must be a percentage"):
            ev.network(*args, level=bad)
    want = ev.network(*args, level=95).effects
    pd.testing.assert_frame_equal(ev.network(*args, level=0.95).effects, want)
    assert ev.network(*args, level=0.95).level == 95.0
    net = REF["networks"]["senn2013"]
    with pytest.raises(ValueError, match="level must be a percentage"):
        network_from_arms(pd.DataFrame(net["arms"]), measure="MD", method="FE", level=150)


def test_pandas_series_with_different_indexes_are_refused():
    """They were paired by position (pool refuses them: evidence.meta.pooling.check_aligned),
    and so was a DataFrame cov."""
    c = pd.DataFrame(REF["saturated"]["loop"]["contrasts"])
    args = {k: c[k] for k in ("yi", "vi", "treat1", "treat2", "study")}
    ref = ev.network(*args.values(), method="FE")
    for name in args:
        moved = dict(args, **{name: args[name].iloc[::-1]})
        with pytest.raises(ValueError, match=rf"\b{name}\b.* pandas .* with different indexes"):
            ev.network(*moved.values(), method="FE")
    # the same index (any labels) is fine; a DataFrame cov must carry it too
    same = {k: v.set_axis(list("wxyz")) for k, v in args.items()}
    np.testing.assert_array_equal(ev.network(*same.values(), method="FE").beta, ref.beta)
    cov = pd.DataFrame(np.diag(c["vi"]), index=list("wxyz"), columns=list("wxyz"))
    got = ev.network(*same.values(), cov=cov, method="FE")
    np.testing.assert_array_equal(got.beta, ref.beta)
    with pytest.raises(ValueError, match=r"and cov are pandas objects with different indexes"):
        ev.network(*same.values(), cov=cov.iloc[::-1, ::-1], method="FE")


# ------------------------------------ random-effects correlation of contrasts in any orientation

ORIENTED = REF["oriented"]["multiarm"]


def _oriented(method, **kwargs):
    c = ORIENTED["contrasts"]
    return ev.network(
        c["yi"],
        c["vi"],
        c["treat1"],
        c["treat2"],
        c["study"],
        cov=np.array(ORIENTED["V"], dtype=float),
        reference=ORIENTED["reference"],
        method=method,
        **kwargs,
    )


def test_oriented_correlation_matrix_is_the_scripts():
    """R (1/2 for a shared arm on the same side, -1/2 on opposite sides, 0 for none) equals the
    matrix the script gave rma.mv as R = list(row = Rmat)."""
    res = _oriented("REML")
    got = np.zeros((res.n_contrasts, res.n_contrasts))
    for idx, _, R in res._blocks.groups:
        got[idx[:, :, None], idx[:, None, :]] = R
    np.testing.assert_array_equal(got, np.array(ORIENTED["R"], dtype=float))
    assert {-0.5, 0.0, 0.5} <= set(np.unique(got))
    assert "rho = 1/2, -1/2 or 0 in multi-arm studies" in res.methods_text()


def test_oriented_multi_arm_studies_match_metafor():
    """A three-arm study as B-A and A-C, a four-arm one as the path B-A, C-B, D-C (rma.mv with
    R = list(row = Rmat)); with +1/2 for every pair REML gave tau^2 = 0.0318 and B vs A 0.245
    (metafor 0.0377 and 0.285). The common-effect fit (no R) checks the data given to metafor.
    Node-split, design-by-treatment and netsplit (its SIDDE refits too) use the same R."""
    for method in ("REML", "FE"):
        _check_oriented(method)


def _check_oriented(method: str) -> None:
    ref, res = ORIENTED[method], _oriented(method)
    for col in ("estimate", "se", "pvalue", "ci_low", "ci_high", "pi_low", "pi_high"):
        _close(res.effects[col], ref[col], f"oriented {method} {col}")
    _close(res.vcov, np.array(ref["vcov"]), f"oriented {method} vcov")
    _close(res.tau2, ref["tau2"], f"oriented {method} tau2")
    _close(res.q, ref["q"], f"oriented {method} Q")
    sp = res.split()
    assert list(zip(sp["treat1"], sp["treat2"], strict=True)) == [
        (r["treat1"], r["treat2"]) for r in ref["split"]
    ]
    for r, row in zip(ref["split"], sp.itertuples(), strict=True):
        what = f"oriented {method} split {r['treat1']} vs {r['treat2']}"
        assert bool(row.identifiable) == r["identifiable"], what
        if r["identifiable"]:
            for key in ("direct", "direct_se", "indirect", "indirect_se", "difference", "tau2"):
                _close(getattr(row, key), r[key], f"{what} {key}")
            _close(row.pvalue, r["difference_pvalue"], f"{what} p")
    inc, dbt = res.inconsistency(), ref["dbt"]
    _close(inc.loc["within designs", "q"], dbt["q_within"], f"oriented {method} Q within")
    assert inc.loc["between designs", "df"] == dbt["q_between_df"]
    if method == "REML":
        _close(inc.loc["wald (interaction)", "q"], dbt["wald"], "oriented REML QM")
        _close(inc.loc["wald (interaction)", "tau2"], dbt["tau2"], "oriented REML QM tau2")
    else:
        _close(inc.loc["between designs", "q"], dbt["wald"], "oriented FE QM")
    ns = res.netsplit()
    assert len(ns) == len(ref["netsplit"])
    for r, row in zip(ref["netsplit"], ns.itertuples(), strict=True):
        what = f"oriented {method} netsplit {r['treat1']} vs {r['treat2']}"
        assert (row.treat1, row.treat2, row.indirect_method) == (
            r["treat1"],
            r["treat2"],
            r["indirect_method"],
        ), what
        for key in ("direct", "direct_se", "indirect", "indirect_se", "direct_share"):
            _close(getattr(row, key), r[key], f"{what} {key}")


@pytest.mark.parametrize("method", ["DL", "REML"])
@pytest.mark.parametrize("name", ["hasselblad1998", "senn2013"])
def test_turning_a_contrast_round_does_not_change_the_fit(name, method):
    """Giving the second contrast of every multi-arm study the other way round (yi -> -yi,
    treat1 <-> treat2, its covariances negated) is the same data: the same fit."""
    net = REF["networks"][name]
    c = pd.DataFrame(net["contrasts"])
    V = np.array(net["V"], dtype=float)
    flip = (c.groupby("study").cumcount() == 1).to_numpy()
    assert flip.any()
    s = np.where(flip, -1.0, 1.0)
    args = dict(reference=net["reference"], method=method)
    a = ev.network(c["yi"], c["vi"], c["treat1"], c["treat2"], c["study"], cov=V, **args)
    b = ev.network(
        s * c["yi"],
        c["vi"],
        np.where(flip, c["treat2"], c["treat1"]),
        np.where(flip, c["treat1"], c["treat2"]),
        c["study"],
        cov=V * np.outer(s, s),
        **args,
    )
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(b.beta, a.beta, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.vcov, a.vcov, rtol=0, atol=1e-10)
    assert b.q == pytest.approx(a.q, rel=1e-10)
