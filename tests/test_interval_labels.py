"""Every interval label states its own level (issue 26: the Steinert page called the 90%
intervals of the equivalence tests "95% CI")."""

from __future__ import annotations

import pandas as pd

import evidence as ev
from evidence.meta.comparisons import equivalence_test
from evidence.review import load_published
from evidence.review.tables import format_table


def headers(table) -> list[str]:
    return [text for text, _ in table.headers]


def test_equivalence_test_table_names_its_90_percent_interval():
    res = ev.pool([0.1, -0.2, 0.05, 0.3], [0.02, 0.03, 0.025, 0.04], method="REML")
    eq = equivalence_test(res, margin=0.25, alpha=0.05)
    shown = headers(format_table(eq.to_frame()))
    assert "90% CI" in shown and "95% CI" not in shown


def test_published_intervals_carry_the_level_of_the_source():
    published = load_published("steinert2017")
    assert set(published["ci_level"]) == {0.9}
    cols = ["timepoint", "estimate", "ci_low", "ci_high", "ci_level"]
    table = format_table(published[cols], scale="g")
    assert "90% CI" in headers(table)
    assert "Ci level" not in headers(table)  # the level is in the header, not a column


def test_a_pooled_result_keeps_its_own_level():
    res = ev.pool([0.1, -0.2, 0.05], [0.02, 0.03, 0.025], method="REML", level=80)
    assert "80% CI" in headers(format_table(res.to_frame()))
    assert "95% CI" in headers(format_table(pd.DataFrame({"ci_low": [0.1], "ci_high": [0.2]})))
