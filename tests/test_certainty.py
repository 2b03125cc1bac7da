"""GRADE certainty and verdicts (issue 24): table-driven rules, tested case by case, and one
verdict per question on every surface."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import evidence.review.data
from evidence import review
from evidence.review import certainty as cy


@pytest.fixture(scope="module")
def data():
    return evidence.review.data.load()


@pytest.fixture(scope="module")
def rules(data):
    return data.protocol.grade


@pytest.mark.parametrize(
    ("value", "level"),
    [("High", "high"), ("high risk", "high"), ("Some concerns", "some concerns"),
     ("some concerns", "some concerns"), ("Low", "low"), (4.0, "low"), ("3.0", "some concerns"),
     (2, "high"), (0, "high"), (None, "some concerns"), (float("nan"), "some concerns")],
)  # fmt: skip
def test_five_source_labels_become_one_three_level_scale(value, level, rules):
    assert cy.harmonised_rob(value, rules) == level


def _result(**kw):
    base = dict(k=4, i2=0.0, pi_low=-0.1, pi_high=0.5, ci_low=0.1, ci_high=0.4,
                weights=np.full(4, 25.0))  # fmt: skip
    return SimpleNamespace(**{**base, **kw})


@pytest.mark.parametrize(
    ("robs", "off"),
    [(["low"] * 4, 0), (["low", "low", "high", "some concerns"], 0),
     (["low", "high", "high", "some concerns"], 1), (["high"] * 3 + ["low"], 2)],
)  # fmt: skip
def test_risk_of_bias_rule(robs, off, rules):
    eff = pd.DataFrame({"rob": robs})
    assert cy._rob(_result(), eff, rules)[0] == off


@pytest.mark.parametrize(
    ("kw", "off"),
    [(dict(k=1), 0), (dict(i2=80.0, pi_low=0.0, pi_high=0.9), 0),  # PI beyond one side only
     (dict(i2=40.0, pi_low=-0.5, pi_high=0.9), 0), (dict(i2=60.0, pi_low=-0.5, pi_high=0.9), 1),
     (dict(i2=80.0, pi_low=-0.5, pi_high=0.9), 2)],
)  # fmt: skip
def test_inconsistency_rule(kw, off, rules):
    assert cy._inconsistency(_result(**kw), 0.24, False, rules)[0] == off


@pytest.mark.parametrize(
    ("kw", "n", "off"),
    [(dict(ci_low=0.3, ci_high=0.6), 500, 0), (dict(ci_low=0.3, ci_high=0.6), 100, 1),
     (dict(ci_low=-0.1, ci_high=0.2), 500, 0), (dict(ci_low=-0.1, ci_high=0.5), 500, 1),
     (dict(ci_low=-0.5, ci_high=0.5), 500, 2)],
)  # fmt: skip
def test_imprecision_rule(kw, n, off, rules):
    assert cy._imprecision(_result(**kw), n, False, 0.24, rules)[0] == off


def test_indirectness_and_publication_bias_rules(rules):
    assert cy._indirectness({"add_on"}, {"depression"}, rules)[0] == 1
    assert cy._indirectness({"cbt"}, {"mixed_common_mental"}, rules)[0] == 1
    assert cy._indirectness({"cbt"}, {"depression"}, rules)[0] == 0
    off, why = cy._publication_bias(_result(k=4), rules)
    assert off == 0 and why.startswith("not assessable with 4 trials")


@pytest.mark.parametrize(
    ("args", "text"),
    [((-0.35, -0.51, -0.18, 1, "low", None), "CBT did better than PDT in the one trial (low"),
     ((0.3, 0.1, 0.5, 3, "moderate", None), "PDT did better than CBT (moderate"),
     ((0.05, -0.1, 0.2, 6, "moderate", 0.25), "did not differ by more than 0.25 (moderate"),
     ((0.05, -0.1, 0.3, 6, "moderate", 0.25), "The question stays open: the trials do not"),
     ((0.05, -0.1, 0.3, 1, "low", 0.25), "the one trial does not show"),
     ((0.9, 0.5, 1.3, 2, "very low", None), "We do not know how PDT compares with CBT")],
)  # fmt: skip
def test_verdict_rules(args, text):
    est, lo, hi, k, level, margin = args
    out = cy.verdict(est, lo, hi, k=k, certainty=level, comparator="CBT", margin=margin)
    assert text in out and out.endswith(f"({level} certainty).")
    assert "these trials" not in out


def test_grade_levels_follow_the_downgrades(data):
    an = review.condition_analyses(data, "depression")["SMD post"]
    for group in an.results:
        c = cy.grade(an, group, data.protocol)
        assert c.level == cy.LEVELS[min(sum(c.downgrades.values()), 3)]
        assert set(c.reasons) == set(cy.DOMAINS) and all(c.reasons.values())


def test_one_question_one_verdict_on_every_surface(data):
    """The overview's headline cell and the condition page's cell for the same condition,
    comparator, measure and timepoint give the same certainty and the same verdict."""
    margin = data.protocol.equivalence_margin
    over = cy.certainty_table(review.headline(data), data.protocol, margin=margin)
    seen = 0
    for key in review.CONDITION_GROUPS:
        page = cy.certainty_table(
            review.condition_analyses(data, key), data.protocol, margin=margin
        )
        for r in page[(page["measure"] == "SMD") & (page["timepoint"] == "post")].itertuples():
            cond = r.analysis.split(": ")[0] if ": " in r.analysis else None
            cond = cond or review.CONDITION_NAMES[review.CONDITION_GROUPS[key][0]]
            same = over[over["comparison"] == f"{cond}: {r.comparison}"]
            assert len(same) == 1, (key, r.comparison)
            assert same["verdict"].iloc[0] == r.verdict and same["certainty"].iloc[0] == r.certainty
            seen += 1
    assert seen >= 10


def test_social_anxiety_pdt_vs_cbt_reads_the_same_everywhere(data):
    """The issue's example: one large trial favouring CBT is 'CBT did better ... in the one
    trial' on the overview, the anxiety page and in its conclusion."""
    margin = data.protocol.equivalence_margin
    anx = review.condition_analyses(data, "anxiety")
    page = cy.certainty_table(anx, data.protocol, margin=margin)
    row = page[
        page["analysis"].str.startswith("social anxiety") & (page["comparison"] == "PDT vs CBT")
    ]
    text = row["verdict"].iloc[0]
    assert text.startswith("CBT did better than PDT in the one trial")
    assert text in review.conclusion(anx, "anxiety")
