"""Forest, funnel and sensitivity-forest plots: structure, numbers, layout and images.

All inputs are synthetic numbers drawn from seeded numpy generators and every figure title says
"synthetic": these are software tests, not evidence.

Image comparisons run by default (no pytest option needed): each canonical figure is saved with
:func:`evidence.io.save_figure` at 100 dpi and compared with ``tests/baseline/<name>.png`` by
``matplotlib.testing.compare.compare_images`` (the comparison pytest-mpl uses). To regenerate the
baselines after an intended change, run ``EVIDENCE_UPDATE_BASELINES=1 pytest
tests/test_plotting.py``, then ``python tools/figure_review.py tests/baseline`` (before, after
and the differing pixels of every changed image, in ``artifacts/figure-review/``) and look at
every image before committing it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

import evidence as ev  # noqa: E402
from evidence.io import save_figure  # noqa: E402
from evidence.plots import forest_from_frame, forest_plot, funnel_plot  # noqa: E402

BASELINE = Path(__file__).parent / "baseline"
#: RMS tolerance (0-255 grey levels) for image comparison. The fonts are matplotlib's bundled
#: DejaVu Sans and the output is pixel-identical on one installation (RMS 0); 1.0 absorbs
#: anti-aliasing differences between FreeType builds while any moved or missing element fails
#: (shifting both studies of the two-study plot by 0.02 SMD gives RMS 10.1; see
#: test_image_tolerance_detects_change).
IMAGE_TOL = 1.0
IMAGE_DPI = 100


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------------------------------
# synthetic inputs (seeded)


def _continuous(k: int, seed: int, shift: float = -0.3, spread: float = 0.25) -> pd.DataFrame:
    """Synthetic arm-level means/SDs/ns with true SMDs ~ N(shift, spread^2)."""
    rng = np.random.default_rng(seed)
    n1 = rng.integers(15, 150, k)
    n2 = rng.integers(15, 150, k)
    sd1 = np.round(rng.uniform(4.0, 8.0, k), 1)
    sd2 = np.round(rng.uniform(4.0, 8.0, k), 1)
    theta = rng.normal(shift, spread, k)
    m2 = np.round(rng.normal(20.0, 3.0, k), 1)
    m1 = np.round(m2 + theta * (sd1 + sd2) / 2 + rng.normal(0, 6.0, k) / np.sqrt(n1), 1)
    return pd.DataFrame({"n1": n1, "m1": m1, "sd1": sd1, "n2": n2, "m2": m2, "sd2": sd2})


def _smd(frame: pd.DataFrame) -> pd.DataFrame:
    cols = {c: frame[c].to_numpy() for c in ("m1", "sd1", "n1", "m2", "sd2", "n2")}
    return ev.effect_sizes("SMD", **cols)


def _labels(k: int, seed: int, first_year: int = 1995) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    years = np.sort(rng.integers(first_year, 2024, k))
    names = [f"Synthetic {chr(65 + i % 26)}{i // 26 or ''}" for i in range(k)]
    return [f"{n} {y}" for n, y in zip(names, years, strict=True)], years


def smd_subgroups():
    """12 synthetic trials in 3 comparator subgroups, arm data, RoB, one long label."""
    k = 12
    arm = _continuous(k, seed=11)
    es = _smd(arm)
    labels, years = _labels(k, seed=12)
    labels[4] = "Synthetic multicentre trial with a deliberately very long name 2010"
    groups = ["vs CBT"] * 5 + ["vs other psychotherapy"] * 4 + ["vs waitlist"] * 3
    sg = ev.subgroups(es["yi"], es["vi"], groups, labels=labels, measure="SMD")
    data = arm.assign(
        rob=[
            "low",
            "some concerns",
            "high",
            "low",
            "low",
            None,
            "high",
            "low",
            "some concerns",
            "low",
            "high",
            "low",
        ],
        year=years,
    )
    return sg, data


def log_or():
    """8 synthetic trials with events/totals; one tiny trial with a very wide CI."""
    rng = np.random.default_rng(21)
    n1 = np.array([40, 120, 85, 60, 200, 12, 95, 150])
    n2 = np.array([42, 118, 80, 66, 190, 10, 90, 160])
    p2 = rng.uniform(0.25, 0.5, n1.size)
    p1 = np.clip(p2 * rng.uniform(0.9, 1.9, n1.size), 0.05, 0.9)
    e1 = rng.binomial(n1, p1)
    e2 = rng.binomial(n2, p2)
    e1[5], e2[5] = 1, 4  # small trial, wide CI
    es = ev.effect_sizes("OR", events1=e1, n1=n1, events2=e2, n2=n2)
    labels, _ = _labels(n1.size, seed=22)
    res = ev.pool(es["yi"], es["vi"], labels=labels, measure="OR", test="knha", pi="higgins")
    data = pd.DataFrame({"events1": e1, "n1": n1, "events2": e2, "n2": n2})
    return res, data


def forty():
    k = 40
    arm = _continuous(k, seed=31, shift=-0.35, spread=0.3)
    es = _smd(arm)
    labels, years = _labels(k, seed=32, first_year=1980)
    return ev.pool(es["yi"], es["vi"], labels=labels, measure="SMD"), years


def two():
    arm = _continuous(2, seed=41)
    es = _smd(arm)
    return ev.pool(
        es["yi"], es["vi"], labels=["Synthetic A 2011", "Synthetic B 2019"], measure="SMD"
    ), arm


def _fig_smd_subgroups():
    sg, data = smd_subgroups()
    title = "Synthetic data (software test): SMD by comparator, arm-level columns and RoB"
    return forest_plot(sg, data=data, title=title)


def _fig_log_or():
    res, data = log_or()
    title = "Synthetic data (software test): odds ratio, Knapp-Hartung, Higgins PI"
    return forest_plot(res, data=data, favours=("comparator", "PDT"), band=(0.8, 1.25), title=title)


def _fig_forty():
    res, years = forty()
    title = "Synthetic data (software test): 40 studies sorted by year"
    return forest_plot(res, sort="year", year=years, title=title)


def _fig_two():
    res, arm = two()
    return forest_plot(res, data=arm, title="Synthetic data (software test): two studies")


def _fig_shrinkage():
    from evidence.meta.bayes import bayes_pool

    res, _ = log_or()
    fit = bayes_pool(res.yi, res.vi, labels=res.study_labels, measure="OR")
    return fit.shrinkage_plot(title="Synthetic data (software test): observed and shrunken ORs")


CANONICAL = {
    "forest_smd_subgroups": _fig_smd_subgroups,
    "forest_log_or": _fig_log_or,
    "forest_40_studies": _fig_forty,
    "forest_2_studies": _fig_two,
    "shrinkage_log_or": _fig_shrinkage,
}


# ------------------------------------------------------------------------------------------
# helpers


def _s(text) -> str:
    """Displayed text with no-break spaces as plain spaces."""
    return text.get_text().replace("\xa0", " ")


def _texts(ax, gid=None, prefix=None):
    out = []
    for t in ax.texts:
        g = t.get_gid() or ""
        if (gid is None or g == gid) and (prefix is None or g.startswith(prefix)):
            out.append(t)
    return out


def _by_gid(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


def _numbers(s: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", s.replace("\u2212", "-"))]


def _row_y(ax, gid_prefix="study-"):
    """Label text of each study row, top to bottom."""
    ts = [t for t in _texts(ax) if re.fullmatch(r"study-\d+-label", t.get_gid() or "")]
    return [t.get_text() for t in sorted(ts, key=lambda t: t.get_position()[1])]


# ------------------------------------------------------------------------------------------
# structure


def test_one_row_per_study_with_labels_weights_and_ci_text():
    res, _ = forty()
    ax = forest_plot(res)
    sq = _by_gid(ax, "study-estimates")
    assert len(sq.get_offsets()) == res.k
    assert len(_by_gid(ax, "study-cis").get_segments()) == res.k
    assert sorted(_row_y(ax)) == sorted(res.study_labels)
    # marker area is proportional to weight
    area = np.asarray(sq.get_sizes())
    np.testing.assert_allclose(area / area.max(), res.weights / res.weights.max(), rtol=1e-12)
    # weight text equals the result's weights
    for i in range(res.k):
        (w,) = _texts(ax, f"study-{i}-weight")
        assert w.get_text() == f"{res.weights[i]:.1f}%"
        (e,) = _texts(ax, f"study-{i}-est")
        assert _numbers(e.get_text())[0] == pytest.approx(res.yi[i], abs=0.005)


def test_diamond_and_prediction_interval_are_where_the_numbers_say():
    res, _ = forty()
    ax = forest_plot(res)
    xy = _by_gid(ax, "diamond-overall").get_xy()
    xs = list(xy[:3, 0])
    np.testing.assert_allclose(xs, [res.ci_low, res.estimate, res.ci_high], rtol=1e-12)
    pi = _by_gid(ax, "prediction-interval")
    assert pi.get_x() == pytest.approx(res.pi_low, rel=1e-12)
    assert pi.get_x() + pi.get_width() == pytest.approx(res.pi_high, rel=1e-12)
    (lab,) = _texts(ax, "prediction-interval-label")
    assert "prediction interval" in _s(lab) and "(metafor rule: normal)" in _s(lab)
    (dl,) = _texts(ax, "diamond-overall-label")
    assert dl.get_text().replace("\n", " ") == "Random effects, REML, Wald z"
    (lo,) = _texts(ax, "prediction-interval-lo")
    (hi,) = _texts(ax, "prediction-interval-hi")
    assert _numbers(lo.get_text() + hi.get_text()) == pytest.approx(
        [res.pi_low, res.pi_high], abs=0.005
    )


def test_heterogeneity_and_overall_test_text_equal_the_result():
    res, _ = log_or()
    ax = forest_plot(res)
    (het,) = _texts(ax, "heterogeneity")
    t = _s(het)
    assert t.startswith("Heterogeneity: \u03c4\u00b2 = ")
    tau2, q, df, p, i2 = _numbers(t.replace("\u00b2", ""))
    assert tau2 == pytest.approx(res.tau2, abs=5e-4)
    assert q == pytest.approx(res.q, abs=5e-3)
    assert df == res.k - 1
    assert "(p < 0.001)" in t and res.q_pvalue < 0.001 and p == 0.001
    assert i2 == pytest.approx(res.i2, abs=0.5)
    (ot,) = _texts(ax, "overall-test")
    assert _s(ot).startswith(f"Test for overall effect: t({res.k - 1}) = ")
    _, stat, p = _numbers(ot.get_text())
    assert stat == pytest.approx(res.statistic, abs=5e-3)
    assert p == pytest.approx(res.pvalue, abs=5e-4)
    # Knapp-Hartung, Higgins PI named in the figure
    (pl,) = _texts(ax, "prediction-interval-label")
    assert "(t(k\u22122))" in _s(pl)
    (dl,) = _texts(ax, "diamond-overall-label")
    assert "Knapp-Hartung" in dl.get_text().replace("\n", " ")


def test_subgroups_headers_diamonds_heterogeneity_and_difference_test():
    sg, data = smd_subgroups()
    ax = forest_plot(sg, data=data)
    names = list(sg.results)
    for j, (name, r) in enumerate(sg.results.items()):
        (head,) = _texts(ax, f"group-{j}-label")
        assert head.get_text() == name
        xy = _by_gid(ax, f"diamond-subgroup-{j}").get_xy()
        np.testing.assert_allclose(list(xy[:3, 0]), [r.ci_low, r.estimate, r.ci_high], rtol=1e-12)
        (het,) = _texts(ax, f"heterogeneity-{j}")
        nums = _numbers(het.get_text().replace("\u00b2", ""))
        assert nums[1] == pytest.approx(r.q, abs=5e-3) and nums[2] == r.k - 1
        (w,) = _texts(ax, f"diamond-subgroup-{j}-weight")
        idx = [i for i, g in enumerate(sg.groups) if g == name]
        assert w.get_text() == f"{sg.overall.weights[idx].sum():.1f}%"
    assert len(names) == 3
    _by_gid(ax, "diamond-overall")
    (st,) = _texts(ax, "subgroup-test")
    q, df, p = _numbers(st.get_text())[:3]
    assert q == pytest.approx(sg.q_between, abs=5e-3)
    assert df == sg.q_between_df
    assert p == pytest.approx(sg.q_between_pvalue, abs=5e-4)
    assert "separately" in st.get_text()
    # study rows stay inside their subgroup block
    ys = {t.get_gid(): t.get_position()[1] for t in _texts(ax) if t.get_gid()}
    for j, name in enumerate(names):
        idx = [i for i, g in enumerate(sg.groups) if g == name]
        top, bottom = ys[f"group-{j}-label"], ys[f"diamond-subgroup-{j}-label"]
        assert all(top < ys[f"study-{i}-label"] < bottom for i in idx)


def test_subgroup_common_tau2_with_knapp_hartung_names_the_F_test():
    sg, _ = smd_subgroups()
    sgc = ev.subgroups(sg.yi, sg.vi, sg.groups, tau2="common", test="knha", measure="SMD")
    ax = forest_plot(sgc)
    (st,) = _texts(ax, "subgroup-test")
    assert _s(st).startswith(f"Test for subgroup differences: F(2, {sgc.overall.k - 3})")
    assert "common" in st.get_text()


def test_ratio_measure_log_axis_ratio_labels_arrows_and_band():
    res, data = log_or()
    ax = forest_plot(res, data=data, band=(0.8, 1.25), xlim=(0.25, 4))
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0.25", "0.5", "1", "2", "4"]
    xy = _by_gid(ax, "diamond-overall").get_xy()
    np.testing.assert_allclose(
        list(xy[:3, 0]),
        np.exp([res.ci_low, res.estimate, res.ci_high]),
        rtol=1e-11,
    )
    lo = res.yi - 1.959963984540054 * np.sqrt(res.vi)
    hi = res.yi + 1.959963984540054 * np.sqrt(res.vi)
    n_left = int((np.exp(lo) < 0.25).sum())
    n_right = int((np.exp(hi) > 4).sum())
    assert n_left + n_right > 0
    if n_left:
        assert len(_by_gid(ax, "ci-arrows-left").get_xdata()) >= n_left
    if n_right:
        assert len(_by_gid(ax, "ci-arrows-right").get_xdata()) >= n_right
    band = _by_gid(ax, "equivalence-band")
    assert band is not None
    (e,) = _texts(ax, "study-0-est")
    assert _numbers(e.get_text())[0] == pytest.approx(np.exp(res.yi[0]), abs=0.005)
    # arm columns as text: events and totals of the first study
    row_texts = [
        t.get_text() for t in ax.texts if abs(t.get_position()[1] - e.get_position()[1]) < 1e-9
    ]
    for c in ("events1", "n1", "events2", "n2"):
        assert str(int(data[c][0])) in row_texts


def test_favours_labels_line_of_no_effect_and_configurable_names():
    res, _ = two()
    ax = forest_plot(res, favours=("waitlist", "PDT"))
    assert _by_gid(ax, "favours-left").get_text().strip() == "\u2190 Favours waitlist"
    assert _by_gid(ax, "favours-right").get_text().strip() == "Favours PDT \u2192"
    assert list(_by_gid(ax, "null-line").get_xdata()) == [0.0, 0.0]
    ax2 = forest_plot(res, favours=None)
    assert not _texts(ax2, "favours-left")


def test_default_favours_follow_the_package_orientation():
    """Positive yi favours PDT (data/README.md, the direction rule): PDT is favoured right."""
    res, _ = two()
    ax = forest_plot(res)
    assert _by_gid(ax, "favours-left").get_text().strip() == "\u2190 Favours comparator"
    assert _by_gid(ax, "favours-right").get_text().strip() == "Favours PDT \u2192"


def _harmful_events():
    """Synthetic harmful events: yi oriented so that positive = fewer events with PDT."""
    e1, n1, e2, n2 = np.array([4, 3, 9]), np.array([56, 40, 80]), np.array([16, 7, 15]), 60
    n2 = np.array([57, 41, 78])
    es = ev.effect_sizes("OR", events1=e1, n1=n1, events2=e2, n2=n2)
    res = ev.pool(-es["yi"], es["vi"], labels=["Syn A", "Syn B", "Syn C"], measure="OR")
    return res, pd.DataFrame({"events1": e1, "n1": n1, "events2": e2, "n2": n2}), es


def test_harmful_event_shown_as_natural_odds_ratio_with_pdt_favoured_left():
    res, data, es = _harmful_events()
    ax = forest_plot(res, data=data, reverse=True, event="suicide attempts")
    # the drawn odds ratios are the natural ones (PDT vs comparator), from the 2x2 tables
    np.testing.assert_allclose(
        _by_gid(ax, "study-estimates").get_offsets()[:, 0], np.exp(es["yi"]), rtol=1e-12
    )
    xy = _by_gid(ax, "diamond-overall").get_xy()
    np.testing.assert_allclose(
        list(xy[:3, 0]), np.exp([-res.ci_high, -res.estimate, -res.ci_low]), rtol=1e-12
    )
    assert _by_gid(ax, "favours-left").get_text().strip() == "\u2190 Favours PDT"
    assert _by_gid(ax, "favours-right").get_text().strip() == "Favours comparator \u2192"
    (ot,) = _texts(ax, "overall-test")
    assert _numbers(ot.get_text())[0] == pytest.approx(-res.statistic, abs=5e-3)
    (head,) = _texts(ax, "plot-header")
    assert "suicide attempts" in head.get_text().replace("\n", " ")
    assert "PDT vs comparator" in head.get_text().replace("\n", " ")
    (note,) = _texts(ax, "footnote")
    assert "below 1 = lower odds of suicide attempts with PDT" in note.get_text().replace("\n", " ")
    # events and totals per arm, with subtotals
    headers = [t.get_text() for t in ax.texts if t.get_text() in ("Events", "Total")]
    assert headers.count("Events") == 2 and headers.count("Total") == 2
    (w,) = _texts(ax, "diamond-overall-weight")
    row = [t.get_text() for t in ax.texts if t.get_position()[1] == w.get_position()[1]]
    assert str(int(data["events1"].sum())) in row and str(int(data["n2"].sum())) in row


def test_arm_subtotals_only_when_every_row_has_them():
    res, data, _ = _harmful_events()
    data = data.astype(float)
    data.loc[1, "n2"] = np.nan
    ax = forest_plot(res, data=data)
    (w,) = _texts(ax, "diamond-overall-weight")
    row = [t.get_text() for t in ax.texts if t.get_position()[1] == w.get_position()[1]]
    assert str(int(data["n1"].sum())) in row  # complete column: summed
    assert "\u2013" not in row and str(int(np.nansum(data["n2"]))) not in row  # incomplete: blank


def test_k1_says_z_no_pooling_and_no_prediction_interval():
    res = ev.pool([0.3], [0.04], labels=["Synthetic 2020"], measure="SMD", test="knha")
    ax = forest_plot(res)
    (ot,) = _texts(ax, "overall-test")
    assert _s(ot).startswith("Test for overall effect: z = ")
    (dl,) = _texts(ax, "diamond-overall-label")
    assert dl.get_text() == "Single study (k = 1)"
    assert not _texts(ax, "prediction-interval-label")
    assert not [a for a in ax.get_children() if a.get_gid() == "prediction-interval"]
    (note,) = _texts(ax, "footnote")
    assert "pooled" not in note.get_text() and "Prediction interval" not in note.get_text()
    sg, _ = smd_subgroups()
    groups = list(sg.groups)
    groups[-1] = "single"
    one = ev.subgroups(sg.yi, sg.vi, groups, test="knha", measure="SMD")
    ax = forest_plot(one, overall=False)
    j = list(one.results).index("single")
    (lab,) = _texts(ax, f"diamond-subgroup-{j}-label")
    assert lab.get_text() == "Single study (k = 1)"
    (st,) = _texts(ax, f"subgroup-effect-{j}")
    assert _s(st).replace("\n", " ").startswith("Test for subgroup effect: z = ")
    assert not _texts(ax, f"prediction-interval-{j}-label")


def test_one_very_wide_subgroup_interval_is_clipped_not_squeezing_the_rows():
    """k = 2 under Knapp-Hartung (t with 1 df) gives a huge subgroup CI and PI."""
    rng = np.random.default_rng(5)
    yi = np.r_[rng.normal(0.3, 0.1, 6), -0.2, 0.9]
    vi = np.r_[rng.uniform(0.01, 0.03, 6), 0.02, 0.02]
    groups = ["A"] * 6 + ["B"] * 2
    sg = ev.subgroups(yi, vi, groups, test="knha", measure="SMD")
    b = sg.results["B"]
    assert b.ci_high - b.ci_low > 5  # the case of the issue
    ax = forest_plot(sg, overall=False)
    x0, x1 = ax.get_xlim()
    lo, hi = yi - 1.96 * np.sqrt(vi), yi + 1.96 * np.sqrt(vi)
    assert x1 - x0 <= 2.5 * (hi.max() - lo.min())  # the study rows use the width
    right = _by_gid(ax, "ci-arrows-right").get_ydata()
    (lab,) = _texts(ax, "diamond-subgroup-1-label")
    assert lab.get_position()[1] in right
    (note,) = _texts(ax, "footnote")
    assert "Arrows: the interval continues past the axis limit." in note.get_text().replace(
        "\n", " "
    )


def test_300_studies_stay_legible_at_natural_size():
    """Rows keep their height (the figure grows) and no text is smaller than 7 pt."""
    rng = np.random.default_rng(300)
    k = 300
    res = ev.pool(rng.normal(0.3, 0.2, k), rng.uniform(0.01, 0.1, k), measure="SMD")
    ax = forest_plot(res)
    assert min(t.get_fontsize() for t in ax.texts) >= 7.0
    (note,) = _texts(ax, "footnote")
    assert note.get_fontsize() >= 7.0
    ys = sorted(
        t.get_position()[1] for t in _texts(ax, prefix="study-") if t.get_gid().endswith("-label")
    )
    assert np.allclose(np.diff(ys), 1.0)  # one row each, no overlap
    axes_h = ax.get_position().height * ax.figure.get_size_inches()[1]
    assert axes_h / (ax.get_ylim()[0] - ax.get_ylim()[1]) == pytest.approx(0.2)
    # or split across pages that line up: same width and axis, tests and footnote at the end
    pages = forest_plot(res, rows_per_page=100, title="Synthetic")
    assert len(pages) == 4
    assert len({p.figure.get_size_inches()[0] for p in pages}) == 1
    assert len({p.get_xlim() for p in pages}) == 1
    assert sum(len(_texts(p, prefix="study-")) for p in pages) == 5 * k  # label, est, CI, weight
    assert _texts(pages[-1], "overall-test") and not _texts(pages[0], "overall-test")
    assert _texts(pages[1], "title")[0].get_text() == "Synthetic (page 2 of 4)"


@pytest.mark.parametrize("sort", ["year", "weight", "effect"])
def test_sorting(sort):
    res, years = forty()
    ax = forest_plot(res, sort=sort, year=years)
    order = _row_y(ax)
    lab = np.array(res.study_labels)
    if sort == "year":
        expect = lab[np.argsort(years, kind="stable")]
    elif sort == "weight":
        expect = lab[np.argsort(-res.weights, kind="stable")]
    else:
        expect = lab[np.argsort(res.yi, kind="stable")]
    assert order == list(expect)


def test_sort_by_year_from_data_column_and_errors():
    sg, data = smd_subgroups()
    ax = forest_plot(sg, data=data, sort="year")
    assert len(_row_y(ax)) == sg.overall.k
    with pytest.raises(ValueError, match="sort='year' needs year="):
        forest_plot(sg.overall, sort="year")
    with pytest.raises(ValueError, match="sort must be"):
        forest_plot(sg.overall, sort="size")
    with pytest.raises(ValueError, match="data has 11 rows for 12 studies"):
        forest_plot(sg, data=data.iloc[:11])
    bad = data.assign(rob=["low"] * 11 + ["maybe"])
    with pytest.raises(ValueError, match="row 11, column 'rob'"):
        forest_plot(sg, data=bad)
    bad = data.astype({"sd1": object})
    bad.loc[3, "sd1"] = "n/a"
    with pytest.raises(ValueError, match="row 3, column 'sd1'"):
        forest_plot(sg, data=bad)
    b = ev.pool_binary([4, 6, 3], [50, 60, 40], [8, 10, 9], [50, 58, 41])
    with pytest.raises(TypeError, match="BinaryPoolResult lacks"):
        forest_plot(b)


def test_fixed_effect_has_no_pi_row_by_default_and_k2_knha_pi_not_estimable():
    res, _ = two()
    fe = ev.pool(res.yi, res.vi, method="FE", labels=res.labels, measure="SMD")
    ax = forest_plot(fe)
    assert not [a for a in ax.get_children() if a.get_gid() == "prediction-interval"]
    (het,) = _texts(ax, "heterogeneity")
    assert "\u03c4\u00b2" not in het.get_text()
    hg = ev.pool(res.yi, res.vi, pi="higgins", labels=res.labels)
    ax = forest_plot(hg)
    (pl,) = _texts(ax, "prediction-interval-label")
    assert "not estimable" in pl.get_text().replace("\n", " ")


def test_result_methods_and_package_entry_point():
    res, _ = two()
    assert isinstance(res.forest_plot(), plt.Axes)
    assert isinstance(ev.forest_plot(res), plt.Axes)
    sg, _ = smd_subgroups()
    assert isinstance(sg.forest_plot(), plt.Axes)
    fig, ax = plt.subplots(figsize=(4, 3))
    assert forest_plot(res, ax=ax) is ax
    with pytest.warns(DeprecationWarning, match="evidence.plots"):
        plotting = ev.plotting  # the former module: evidence.plots, for one release

    assert plotting.forest_plot is forest_plot is ev.forest_plot
    assert plotting.forest_from_frame is forest_from_frame is ev.forest_from_frame
    assert plotting.funnel_plot is funnel_plot is ev.funnel_plot


# ------------------------------------------------------------------------------------------
# layout: nothing overlaps, nothing is cut off


def _text_boxes(fig):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = []
    for ax in fig.axes:
        yticks = ax.get_yticklabels() if ax.yaxis.get_visible() else []
        legend = ax.get_legend()
        extra = list(legend.get_texts()) + [legend.get_title()] if legend else []
        for t in (
            ax.texts
            + ax.get_xticklabels()
            + yticks
            + extra
            + [ax.xaxis.label, ax.yaxis.label, ax.title]
        ):
            if t.get_visible() and t.get_text().strip():
                boxes.append((t.get_text(), t.get_window_extent(r)))
    return boxes


def _fig_k1():
    return forest_plot(ev.pool([0.3], [0.04], labels=["Synthetic 2020"], measure="SMD"))


def _fig_identical_rr():
    res = ev.pool([0.3, 0.3, 0.3], [0.04, 0.05, 0.06], measure="RR", test="knha")
    return forest_plot(res, title="Synthetic data (software test): identical effects")


def _fig_funnel():
    return funnel_plot(ev.trim_and_fill(log_or()[0]), measure="OR", title="Synthetic funnel")


def _fig_cumulative():
    res, _ = forty()
    return forest_from_frame(res.cumulative(), result=res, title="Synthetic cumulative")


def _fig_loo():
    res, _ = log_or()
    return forest_from_frame(res.leave_one_out(), result=res, title="Synthetic leave-one-out")


LAYOUTS = CANONICAL | {
    "k1": _fig_k1,
    "identical_rr": _fig_identical_rr,
    "funnel": _fig_funnel,
    "cumulative": _fig_cumulative,
    "leave_one_out": _fig_loo,
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_no_text_overlaps_and_nothing_cut_off(name):
    ax = LAYOUTS[name]()
    fig = ax.figure
    boxes = _text_boxes(fig)
    fb = fig.bbox
    for text, bb in boxes:
        assert bb.x0 >= fb.x0 - 0.5 and bb.x1 <= fb.x1 + 0.5, f"cut off horizontally: {text!r}"
        assert bb.y0 >= fb.y0 - 0.5 and bb.y1 <= fb.y1 + 0.5, f"cut off vertically: {text!r}"
    symbols = {"+", "!", "\u2212"}  # RoB symbols sit on their circle, alone in their cell
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            (ta, a), (tb, b) = boxes[i], boxes[j]
            if ta in symbols or tb in symbols:
                continue
            ov_x = min(a.x1, b.x1) - max(a.x0, b.x0)
            ov_y = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert ov_x <= 0.5 or ov_y <= 0.5, f"{ta!r} overlaps {tb!r}"


def test_k1_and_identical_effects():
    ax = _fig_k1()
    (het,) = _texts(ax, "heterogeneity")
    assert _s(het) == "Heterogeneity: not applicable (k = 1)"
    ax = _fig_identical_rr()
    (ot,) = _texts(ax, "overall-test")
    assert _s(ot) == "Test for overall effect: t(2) = \u221e (p < 0.001)"  # SE 0 under K-H


def test_long_labels_are_wrapped_or_shortened_within_the_label_column():
    sg, data = smd_subgroups()
    ax = forest_plot(sg, data=data, label_width=1.5)
    (lab,) = _texts(ax, "study-4-label")
    assert "\n" in lab.get_text() or lab.get_text().endswith("\u2026")
    fig = ax.figure
    fig.canvas.draw()
    w_in = lab.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi
    assert w_in <= 1.5 + 1e-6


def test_height_follows_rows():
    h = []
    for k in (3, 10, 30):
        arm = _continuous(k, seed=k)
        es = _smd(arm)
        h.append(forest_plot(ev.pool(es["yi"], es["vi"])).figure.get_size_inches()[1])
    d1 = (h[1] - h[0]) / 7
    d2 = (h[2] - h[1]) / 20
    assert d1 == pytest.approx(0.2, rel=1e-9) and d2 == pytest.approx(0.2, rel=1e-9)


def test_global_rcparams_untouched_and_no_matplotlib_on_import():
    before = dict(matplotlib.rcParams)
    forest_plot(two()[0])
    funnel_plot(forty()[0])
    after = dict(matplotlib.rcParams)
    assert before.keys() == after.keys()
    changed = [k for k in before if before[k] != after[k] and k != "backend"]
    assert changed == []
    code = "import sys, evidence; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------
# funnel and sensitivity forests


def test_funnel_contours_studies_and_filled():
    res, _ = forty()
    ax = funnel_plot(res, filled_yi=[0.2, 0.3], filled_vi=[0.05, 0.08])
    assert len(_by_gid(ax, "funnel-studies").get_offsets()) == res.k
    filled = _by_gid(ax, "funnel-filled")
    np.testing.assert_allclose(filled.get_offsets()[:, 1], np.sqrt([0.05, 0.08]))
    assert filled.get_facecolors()[0][:3].tolist() == [1.0, 1.0, 1.0]  # open markers
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:4] == ["p > 0.1", "0.05 < p < 0.1", "0.01 < p < 0.05", "p < 0.01"]
    assert ax.yaxis_inverted()
    with pytest.raises(ValueError, match="both filled_yi and filled_vi"):
        funnel_plot(res, filled_yi=[0.2])


def test_funnel_of_trim_and_fill_and_ratio_measure():
    res, _ = forty()
    tf = ev.trim_and_fill(res)
    ax = funnel_plot(tf)
    assert len(_by_gid(ax, "funnel-studies").get_offsets()) == res.k
    if tf.k0:
        assert len(_by_gid(ax, "funnel-filled").get_offsets()) == tf.k0
    assert _by_gid(ax, "funnel-pooled").get_xdata()[0] == pytest.approx(tf.estimate)
    orr, _ = log_or()
    ax = funnel_plot(orr)
    assert ax.get_xscale() == "log"
    np.testing.assert_allclose(_by_gid(ax, "funnel-studies").get_offsets()[:, 0], np.exp(orr.yi))


def test_frame_forests_use_the_forest_table():
    """forest_from_frame draws through the same table layer: same header rule and gids."""
    res, _ = log_or()
    a = forest_plot(res)
    b = forest_from_frame(res.leave_one_out(), result=res)
    for ax in (a, b):
        assert len(_texts(ax, "plot-header")) == 1 and len(_texts(ax, "footnote")) == 1
        assert _texts(ax, "diamond-overall-est") or _texts(ax, "diamond-overall-label")
    (est,) = _texts(b, "diamond-overall-est")
    assert _numbers(est.get_text())[0] == pytest.approx(np.exp(res.estimate), abs=0.005)


def test_frame_forest_of_any_rows_with_level_and_note():
    """kind="rows" (e.g. network estimates): labels as given, the index name heads them."""
    frame = pd.DataFrame(
        {"k": [3, 2], "estimate": [0.2, -0.1], "ci_low": [0.0, -0.4], "ci_high": [0.4, 0.2]},
        index=pd.Index(["B", "C"], name="Treatment vs A"),
    )
    ax = forest_from_frame(frame, kind="rows", level=90, note="Synthetic note.")
    assert [t.get_text() for t in _texts(ax, prefix="row-") if t.get_gid().endswith("label")] == [
        "B",
        "C",
    ]
    assert "Treatment vs A" in [t.get_text() for t in ax.texts]
    assert _texts(ax, "plot-header")[0].get_text().endswith("(90% CI)")
    assert _texts(ax, "footnote")[0].get_text() == "Synthetic note."
    with pytest.raises(ValueError, match="kind must be"):
        forest_from_frame(frame, kind="bars")


def test_bayesian_fits_are_hollow_diamonds_under_their_subgroups():
    """forest_plot(bayes=...): a hollow diamond at the posterior median and credible interval
    under the subgroups that have a fit (none elsewhere), the model in the footnote; with
    reverse=True it turns round like every other row."""
    from evidence.meta.bayes import bayes_pool

    sg, data = smd_subgroups()
    cbt = sg.results["vs CBT"]
    fit = bayes_pool(cbt.yi, cbt.vi, measure="SMD")
    ax = forest_plot(sg, data=data, bayes={"vs CBT": fit})
    (d,) = [p for p in ax.patches if p.get_gid() == "diamond-bayes-0"]
    xy = d.get_xy()
    np.testing.assert_allclose(
        [xy[0, 0], xy[1, 0], xy[2, 0]], [fit.mu_ci_low, fit.mu_median, fit.mu_ci_high]
    )
    assert d.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    assert not [p for p in ax.patches if (p.get_gid() or "").startswith("diamond-bayes-1")]
    assert "half-normal(scale = 0.5)" in _texts(ax, "footnote")[0].get_text().replace("\n", " ")
    res, _ = log_or()
    fit = bayes_pool(res.yi, res.vi, measure="OR")
    ax = forest_plot(res, bayes=fit, reverse=True)
    xy = next(p for p in ax.patches if p.get_gid() == "diamond-bayes").get_xy()
    np.testing.assert_allclose(xy[1, 0], np.exp(-fit.mu_median))
    np.testing.assert_allclose([xy[0, 0], xy[2, 0]], np.exp([-fit.mu_ci_high, -fit.mu_ci_low]))
    with pytest.raises(ValueError, match="not among"):
        forest_plot(sg, bayes={"vs nothing": fit})
    with pytest.raises(TypeError, match="not a BayesResult"):
        forest_plot(res, bayes=res)


def test_row_marks_are_drawn_offset_counted_in_the_range_and_clipped_with_arrows():
    """A study row's further marks: own gids, drawn ``offset`` rows from the row's centre, part
    of the automatic axis range, arrows past a fixed limit, open squares in their colour."""
    from matplotlib.colors import to_rgba

    from evidence.plots.table import Graphic, Mark, Row, Table, draw_table

    def table(xlim=None):
        rows = [
            Row("study", f"S{i}", {}, 0.1 * i, -0.2, 0.3, 1.0, offset=0.2,
                marks=(Mark(0.5 + i, 0.2 + i, 0.8 + i, offset=-0.2, gid="obs"),))
            for i in range(3)
        ]  # fmt: skip
        return Table(rows, Graphic(log=False, null=0.0, header="x", xlim=xlim, gid="shr"))

    ax = draw_table(table())
    obs = _by_gid(ax, "obs-estimates")
    np.testing.assert_allclose(obs.get_offsets(), [[0.5, -0.2], [1.5, 0.8], [2.5, 1.8]])
    np.testing.assert_allclose(_by_gid(ax, "shr-estimates").get_offsets()[:, 1], [0.2, 1.2, 2.2])
    assert obs.get_facecolor()[0].tolist() == list(to_rgba("white"))
    assert ax.get_xlim()[1] >= 2.8  # the marks' intervals widen the automatic range
    assert len(_by_gid(ax, "obs-cis").get_segments()) == 3
    ax = draw_table(table(xlim=(-1.0, 1.0)))
    right = _by_gid(ax, "ci-arrows-right")
    assert sorted(right.get_ydata()) == [0.8, 1.8]  # the marks of S1 and S2 run past 1.0
    assert len(_by_gid(ax, "obs-estimates").get_offsets()) == 1  # 1.5 and 2.5 are off the axis
    assert "Arrows" in _texts(ax, "footnote")[0].get_text()


def test_single_line_text_shares_a_baseline_with_or_without_descenders(tmp_path):
    """Header "Study" (descender y) and "Total" (none), row "Cooper 2003" and "45": the ink of
    each pair starts on the same pixel row (it was about 1 pt apart with a forced line spacing)."""
    from evidence.plots.table import Column, Graphic, Row, Table, draw_table

    rows = [Row("study", "Cooper 2003", {"n": "45"}, 0.1, -0.2, 0.4, 1.0)]
    t = Table(rows, Graphic(log=False, null=0.0, header="x"), left=[Column("n", "Total")])
    ax = draw_table(t)
    fig = ax.figure
    path = save_figure(fig, tmp_path / "t.png", dpi=300)
    ink = np.asarray(plt.imread(path))[..., :3].mean(axis=2) < 0.5
    renderer, scale, height = fig.canvas.get_renderer(), 300 / fig.dpi, ink.shape[0]

    def top(text: str) -> int:
        (t,) = [x for x in ax.texts if x.get_text() == text]
        bb = t.get_window_extent(renderer)
        y0, y1 = int(height - bb.y1 * scale) - 6, int(height - bb.y0 * scale) + 6
        return y0 + int(np.argmax(ink[y0:y1, int(bb.x0 * scale) : int(bb.x1 * scale)].any(1)))

    assert top("Study") == top("Total")  # ascenders d and l
    assert top("Cooper 2003") == top("45")  # capital C and digits


#: Functions in ``evidence/`` allowed to stay over 80 code lines, each with the reason (none
#: today; add ``"path/in/evidence.py:function": "why"`` only with a reason a reviewer accepts).
LONG_FUNCTION_ALLOW: dict[str, str] = {}


def test_no_function_over_80_lines():
    """Every function in ``evidence/`` keeps to about 80 code lines (docstrings not counted),
    except those named in ``LONG_FUNCTION_ALLOW`` with a reason."""
    import ast

    root = Path(ev.__file__).parent
    long = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body = body[1:]
                if body and node.end_lineno - body[0].lineno + 1 > 80:
                    long.append(f"{path.relative_to(root).as_posix()}:{node.name}")
    assert sorted(long) == sorted(LONG_FUNCTION_ALLOW)


def test_cumulative_and_leave_one_out_forests():
    res, _ = log_or()
    cum = res.cumulative()
    ax = forest_from_frame(cum, result=res)
    assert len(_by_gid(ax, "row-estimates").get_offsets()) == res.k
    np.testing.assert_allclose(
        _by_gid(ax, "row-estimates").get_offsets()[:, 0], np.exp(cum["estimate"]), rtol=1e-12
    )
    assert _texts(ax, "row-1-label")[0].get_text() == f"+ {res.study_labels[1]}"
    assert ax.get_xscale() == "log"
    loo = res.leave_one_out()
    ax = forest_from_frame(loo, result=res)
    assert _texts(ax, "row-0-label")[0].get_text() == f"Omitting {res.study_labels[0]}"
    xy = _by_gid(ax, "diamond-overall").get_xy()
    assert list(xy[:3, 0])[1] == pytest.approx(np.exp(res.estimate))
    with pytest.raises(ValueError, match="lacks column"):
        forest_from_frame(loo.drop(columns="ci_low"))


# ------------------------------------------------------------------------------------------
# image comparison


def _compare(ax, name: str, tmp_path: Path) -> None:
    actual = save_figure(ax.figure, tmp_path / f"{name}.png", dpi=IMAGE_DPI)
    baseline = BASELINE / f"{name}.png"
    if os.environ.get("EVIDENCE_UPDATE_BASELINES") == "1":
        BASELINE.mkdir(exist_ok=True)
        baseline.write_bytes(actual.read_bytes())
    assert baseline.exists(), f"missing baseline {baseline}; see the module docstring"
    msg = compare_images(str(baseline), str(actual), tol=IMAGE_TOL)
    assert msg is None, msg


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_image(name, tmp_path):
    _compare(CANONICAL[name](), name, tmp_path)


def test_image_tolerance_detects_change(tmp_path):
    """A small real change (pooled estimate moved by 0.02) exceeds IMAGE_TOL by a wide margin."""
    res, arm = two()
    shifted = ev.pool(res.yi + 0.02, res.vi, labels=res.labels, measure="SMD")
    a = save_figure(
        forest_plot(res, data=arm, title="Synthetic data (software test): two studies"),
        tmp_path / "a.png",
        dpi=IMAGE_DPI,
    )
    b = save_figure(
        forest_plot(shifted, data=arm, title="Synthetic data (software test): two studies"),
        tmp_path / "b.png",
        dpi=IMAGE_DPI,
    )
    out = compare_images(str(a), str(b), tol=IMAGE_TOL, in_decorator=True)
    assert out is not None and out["rms"] > 3 * IMAGE_TOL


def test_text_widths_are_shared_between_measures_but_follow_matplotlib_settings():
    """One memo of widths serves every ``Measure`` (a table and a flow chart measure the same
    labels), keyed also by the text settings: a width measured under another hinting is
    measured again, never taken from the memo."""
    import matplotlib
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    from evidence.plots.text import Measure

    line = "Driessen 2013 (psychodynamic therapy vs CBT)"
    prop = FontProperties(family="DejaVu Sans", size=8)

    def direct():
        return 1.03 * max(
            RendererAgg(8, 8, d).get_text_width_height_descent(line, prop, ismath=False)[0] / d
            for d in (100, 150, 300)
        )

    assert Measure()(line, 8) == direct()
    assert Measure()(f"{line}\n\nshort", 8) == direct()
    with matplotlib.rc_context({"text.hinting": "no_hinting", "text.hinting_factor": 1}):
        unhinted = direct()
        assert Measure()(line, 8) == unhinted
    assert unhinted != direct()
    assert Measure()("", 8) == 0.0
